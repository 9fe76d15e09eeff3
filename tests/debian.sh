#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Debian's own kernel, as a trixie user has it: nothing here is rebuilt.
#   tests/debian.sh root      a Debian trixie root (debootstrap, minbase) with
#                             what a user installs to build a Rust module with
#                             DKMS (gcc-14, rustc, rust-src, bindgen, cargo,
#                             dkms, linux-source-7.3) and the headers of
#                             trixie's own kernel (6.12, no Rust); the 7.3
#                             headers of amd64 and arm64 (with arm64's Rust
#                             standard library, to cross-build the helper)
#                             are downloaded into its apt cache, not
#                             installed. Prints its path. Never modified after
#                             it is made: tests work on an overlay of it.
#   tests/debian.sh kernel DEB_ARCH
#                             Debian's 7.3 vmlinuz for amd64 or arm64
#                             (linux-binary-<release>), extracted from its
#                             package; prints its path.
#   tests/debian.sh release DEB_ARCH
#                             the kernel release (7.3.4+deb13-amd64).
#   tests/debian.sh packages DEB_ARCH
#                             what the tests install for that architecture.
#   tests/debian.sh run WORK CMD...
#                             runs CMD as root in an overlay of the root whose
#                             changes go to WORK (so they last from one call to
#                             the next), a /tmp of its own, the repository and
#                             the cached kernel sources (read-only) at their
#                             own paths (even under /tmp), the environment apt and sudo
#                             give (no ~/.cargo, no RUSTUP_TOOLCHAIN, a plain
#                             PATH).
# Both are cached in $EPROG_CACHE/debian, keyed by the package list.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

# The Debian kernel under test (<version>-<Debian architecture>) and what
# a trixie user installs beside it.
DEBIAN_VERSION=7.3.4+deb13
DEBIAN_ARCHS=(amd64 arm64)
DEBIAN_PACKAGES=(make gcc-14 rustc rust-src bindgen libclang-dev cargo dkms kmod xz-utils
	bc flex bison cpio python3 linux-headers-amd64)
# From trixie-backports: the kernel's source, and the build libraries of
# the same suite (trixie's own conflict with the backported headers).
DEBIAN_BACKPORTS=(linux-source-7.3 libelf-dev libssl-dev)

# The machine's own Debian mirror (its sources say where packages come from).
mirror=$(sed -n 's/^URIs: *\([^ ]*\/debian\)$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
[ -n "$mirror" ] || mirror=$(sed -n 's/^deb \(\[[^]]*\] \)\?\([^ ]*\/debian\) .*/\2/p' /etc/apt/sources.list 2>/dev/null | head -n 1)
[ -n "$mirror" ] || die "cannot find a Debian mirror in /etc/apt/sources.list*"

key=$(echo "$DEBIAN_VERSION ${DEBIAN_ARCHS[*]} ${DEBIAN_PACKAGES[*]} ${DEBIAN_BACKPORTS[*]}" | sha256sum | cut -c1-12)
dir=$EPROG_CACHE/debian
root=$dir/trixie-$key
mkdir -p "$dir"
exec 9>"$dir/.lock"
flock 9

# Runs a command in a root, with the environment apt and sudo give.
clean_env=(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive)
in_root() {
	unshare -m sh -c 'mount -t proc proc "$0/proc" && mount --bind /dev "$0/dev" && exec chroot "$0" "$@"' \
		"$1" "${clean_env[@]}" "${@:2}"
}

# As in_root, in an overlay of the root over WORK.
in_overlay() {
	local work=$1
	mkdir -p "$work/upper" "$work/work" "$work/merged"
	unshare -m sh -c '
		lower=$0 work=$1 repo=$2 src=$3; shift 3
		mount -t overlay overlay -o "lowerdir=$lower,upperdir=$work/upper,workdir=$work/work" "$work/merged" &&
		mount -t tmpfs tmpfs "$work/merged/tmp" &&
		mkdir -p "$work/merged$repo" && mount --bind "$repo" "$work/merged$repo" &&
		mkdir -p "$work/merged$src" && mount --bind -o ro "$src" "$work/merged$src" &&
		mount -t proc proc "$work/merged/proc" && mount --rbind /dev "$work/merged/dev" &&
		exec chroot "$work/merged" "$@"' "$root" "$(cd "$work" && pwd -P)" "$EPROG_ROOT" "$EPROG_CACHE/src" \
		"${clean_env[@]}" "${@:2}"
}

make_root() {
	[ -f "$root/.eprog-ready" ] && return
	command -v debootstrap >/dev/null || {
		say "installing debootstrap"
		apt-get install -y -qq debootstrap >/dev/null
	}
	for stale in "$dir"/trixie-*; do
		[ -d "$stale" ] && [ "$stale" != "$root" ] && { say "removing stale $(basename "$stale")"; rm -rf "$stale"; }
	done
	rm -rf "$root.tmp"
	say "making a Debian trixie root (debootstrap, minbase; a few minutes)"
	debootstrap --variant=minbase trixie "$root.tmp" "$mirror" >"$dir/debootstrap.log" 2>&1 ||
		{ tail -n 20 "$dir/debootstrap.log" >&2; die "debootstrap failed; log: $dir/debootstrap.log"; }
	cat >"$root.tmp/etc/apt/sources.list" <<-EOF
	deb $mirror trixie main
	deb $mirror trixie-backports main
	EOF
	say "installing in the trixie root: ${DEBIAN_PACKAGES[*]} ${DEBIAN_BACKPORTS[*]} (backports)"
	(
		in_root "$root.tmp" apt-get update -qq &&
		in_root "$root.tmp" apt-get install -y -qq --no-install-recommends "${DEBIAN_PACKAGES[@]}" &&
		in_root "$root.tmp" apt-get install -y -qq --no-install-recommends -t trixie-backports "${DEBIAN_BACKPORTS[@]}" &&
		in_root "$root.tmp" dpkg --add-architecture arm64 &&
		in_root "$root.tmp" apt-get update -qq &&
		# The 7.3 headers, to be installed by the tests (dkms's hook then
		# runs), and the kernel images.
		for a in "${DEBIAN_ARCHS[@]}"; do
			in_root "$root.tmp" apt-get install -y -qq --download-only --no-install-recommends \
				$(headers_packages "$a") &&
			in_root "$root.tmp" apt-get download -qq "linux-binary-$DEBIAN_VERSION-$a:$a" || exit
		done
	) >"$dir/apt.log" 2>&1 || { tail -n 20 "$dir/apt.log" >&2; die "apt-get in the trixie root failed; log: $dir/apt.log"; }
	mv "$root.tmp"/linux-binary-*.deb "$dir/"
	touch "$root.tmp/.eprog-ready" && mv "$root.tmp" "$root"
}

# What the tests install for architecture $1 (from the root's apt cache):
# the kernel's headers from backports and, for a foreign architecture, the
# Rust standard library of trixie's rustc for it (the helper's core).
headers_packages() {
	local a=$1
	echo "linux-headers-$DEBIAN_VERSION-$a:$a/trixie-backports"
	[ "$a" = amd64 ] || echo "libstd-rust-dev:$a"
}

kernel() {
	local deb release=$DEBIAN_VERSION-$1
	make_root
	deb=$(ls "$dir"/linux-binary-"$release"_*.deb | tail -n 1)
	if [ ! -f "$dir/vmlinuz-$release" ]; then
		dpkg-deb --fsys-tarfile "$deb" | tar -xO --wildcards "*/modules/$release/vmlinuz" \
			>"$dir/vmlinuz.tmp" || die "no vmlinuz in $deb"
		mv "$dir/vmlinuz.tmp" "$dir/vmlinuz-$release"
	fi
	echo "$dir/vmlinuz-$release"
}

deb_arch() {
	[[ " ${DEBIAN_ARCHS[*]} " = *" ${1:-} "* ]] || die "Debian architecture: one of ${DEBIAN_ARCHS[*]}, not '${1:-}'"
}

case "${1:-}" in
root) make_root; echo "$root" ;;
kernel) deb_arch "${2:-}"; kernel "$2" ;;
release) deb_arch "${2:-}"; echo "$DEBIAN_VERSION-$2" ;;
packages) deb_arch "${2:-}"; headers_packages "$2" ;;
run)
	make_root
	exec 9>&-
	in_overlay "${2:?usage: tests/debian.sh run WORK CMD...}" "${@:3}"
	;;
*) die "usage: tests/debian.sh root|kernel DEB_ARCH|release DEB_ARCH|packages DEB_ARCH|run WORK CMD..." ;;
esac
