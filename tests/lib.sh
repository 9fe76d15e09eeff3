# SPDX-License-Identifier: GPL-2.0
# Shared settings for the test and demo scripts: versions, cache, arch table.
# Sourced, never run.

# What the kernel build depends on, pinned so a newer machine default cannot
# silently break a kernel build.
RUST_VERSION=1.95.0
BINDGEN_VERSION=0.73.2
# drgn from PyPI, for the state script's test (tools/eprog_state.py).
DRGN_VERSION=0.3.0

export RUSTUP_TOOLCHAIN=$RUST_VERSION
export PATH="$HOME/.cargo/bin:$PATH"

# The kernel generations eprog is tested on (EPROG_KERNEL picks one): the
# Debian source package, the apt suite it comes from (empty: the machine's
# own sources), and the LLVM that builds it (7.3 needs clang >= 17; 6.12
# keeps Debian 12's default clang 14).
KERNELS="6.12 7.3"
kernel_table() {
	case "$1" in
	6.12) LINUX_PACKAGE=linux-source-6.12 LINUX_SUITE= LLVM_VERSION=14 ;;
	7.3) LINUX_PACKAGE=linux-source-7.3 LINUX_SUITE=trixie-backports LLVM_VERSION=19 ;;
	*) echo "eprog: unsupported kernel '$1' (supported: $KERNELS)" >&2; return 1 ;;
	esac
	# Kbuild's LLVM=-<N> picks clang-<N>, ld.lld-<N>, ...
	export LLVM=-$LLVM_VERSION
	# bindgen (the kernel's and eprog's) loads the newest libclang it finds;
	# a newer one than the kernel's clang rejects flags the kernel picks for
	# it. Pin it to the libclang of the clang that builds the kernel.
	export LIBCLANG_PATH=/usr/lib/llvm-$LLVM_VERSION/lib
}
kernel_table "${EPROG_KERNEL:=6.12}" || exit 1
export EPROG_KERNEL

EPROG_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Kernel trees, builds and downloads live outside the repository.
EPROG_CACHE=${EPROG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/eprog}
# Kernel build trees record their paths: name the cache by its real path,
# so that one reached through a link is still the same cache.
mkdir -p "$EPROG_CACHE" && EPROG_CACHE=$(cd "$EPROG_CACHE" && pwd -P)

# One row per architecture: kernel ARCH, boot image, helper target, Debian
# architecture, C compiler for test helpers, QEMU, its kernel arguments. A
# new architecture is a new row (and a tests/qemu-<arch>.config).
arch_table() {
	case "$1" in
	x86_64) KARCH=x86_64 KIMAGE=arch/x86/boot/bzImage
		UMH_RUST_TARGET=x86_64-unknown-linux-musl DEB_ARCH=amd64 TEST_CC=gcc
		QEMU="qemu-system-x86_64 -M pc -cpu qemu64" QEMU_CONSOLE=ttyS0
		# TCG on a busy host can miss the IO-APIC timer check (a panic).
		QEMU_KARGS=no_timer_check ;;
	arm64) KARCH=arm64 KIMAGE=arch/arm64/boot/Image
		UMH_RUST_TARGET=aarch64-unknown-linux-musl DEB_ARCH=arm64 TEST_CC=aarch64-linux-gnu-gcc
		QEMU="qemu-system-aarch64 -M virt -cpu cortex-a57" QEMU_CONSOLE=ttyAMA0
		QEMU_KARGS= ;;
	*) echo "eprog: unsupported architecture '$1' (supported: x86_64, arm64)" >&2; return 1 ;;
	esac
}

# Progress lines go to stderr so that scripts can print results on stdout.
say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'eprog: %s\n' "$*" >&2; exit 1; }

# apt-get for LINUX_SUITE: the machine's own configuration when it is empty,
# else a private one in the cache (sources list, lists, archives), so the
# machine's apt sources stay untouched.
apt_get() {
	local dir="$EPROG_CACHE/apt/$LINUX_SUITE"
	[ -z "$LINUX_SUITE" ] && { apt-get "$@"; return; }
	mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $LINUX_SUITE main" >"$dir/sources.list"
	apt-get -o Dir::Etc::SourceList="$dir/sources.list" -o Dir::Etc::SourceParts=/dev/null \
		-o Dir::State::Lists="$dir/lists" -o Dir::Cache="$dir/cache" \
		-o Dir::State::status=/dev/null -o APT::Architecture=amd64 "$@"
}

# Debian's linux-source, extracted once into the cache and never modified.
linux_pristine() {
	local deb ver dir
	mkdir -p "$EPROG_CACHE/src"
	deb=$(ls "$EPROG_CACHE"/src/"$LINUX_PACKAGE"_*.deb 2>/dev/null | tail -n 1)
	if [ -z "$deb" ]; then
		say "downloading $LINUX_PACKAGE (Debian package, apt configuration unchanged)"
		# A new machine may have no package lists yet: fetch them once.
		(cd "$EPROG_CACHE/src" && { apt_get download "$LINUX_PACKAGE" >&2 2>/dev/null ||
			{ apt_get update -qq >&2 && apt_get download "$LINUX_PACKAGE" >&2; }; }) ||
			die "apt-get download $LINUX_PACKAGE failed"
		deb=$(ls "$EPROG_CACHE"/src/"$LINUX_PACKAGE"_*.deb | tail -n 1)
	fi
	ver=$(dpkg-deb -f "$deb" Version)
	dir="$EPROG_CACHE/src/linux-${ver//\~/+}.orig"
	if [ ! -f "$dir/.eprog-extracted" ]; then
		say "extracting $LINUX_PACKAGE $ver"
		rm -rf "$dir" "$dir.tmp" && mkdir -p "$dir.tmp"
		dpkg-deb --fsys-tarfile "$deb" | tar -xO --wildcards '*/linux-source-*.tar.xz' |
			xz -dc -T0 | tar -x -C "$dir.tmp" --strip-components=1 || die "cannot extract $deb"
		touch "$dir.tmp/.eprog-extracted" && mv "$dir.tmp" "$dir"
	fi
	echo "$dir"
}

# The tree the test kernels are built from: the pristine tree with eprog's
# patch ('make patch', the in-tree route for BSP trees) applied, so every
# test kernel proves the patch. Remade (hard links, so in seconds) when the
# patch changes; unchanged files keep their times, so only eprog rebuilds.
linux_tree() (
	local orig dir new
	# One at a time: tests/run builds kernels ahead in the background.
	mkdir -p "$EPROG_CACHE/src"
	exec 9>"$EPROG_CACHE/src/.lock"
	flock 9
	orig=$(linux_pristine)
	dir=${orig%.orig}
	new="$dir.patch.new"
	make -s -C "$EPROG_ROOT" patch KSRC="$orig" PATCH="$new" >/dev/null
	if ! cmp -s <(patch_body "$new") <(patch_body "$dir/.eprog.patch" 2>/dev/null); then
		say "applying eprog.patch to a copy of $(basename "$orig")"
		rm -rf "$dir.tmp" && cp -al "$orig" "$dir.tmp"
		patch -s -p1 -d "$dir.tmp" < "$new" || die "eprog.patch does not apply to $orig"
		cp "$new" "$dir.tmp/.eprog.patch" && rm -rf "$dir" && mv "$dir.tmp" "$dir"
	fi
	echo "$dir"
)

# A patch without the lines that change with every 'make patch'.
patch_body() {
	grep -v '^From [0-9a-f]\{40\} \|^Date: ' "$1"
}

# A static busybox for the guest's architecture (after arch_table): the host's
# own for the host architecture, else Debian's busybox-static for DEB_ARCH,
# downloaded (not installed) once into the cache.
busybox_for() {
	local dir="$EPROG_CACHE/busybox-$DEB_ARCH" deb
	if [ "$DEB_ARCH" = "$(dpkg --print-architecture)" ]; then
		echo /bin/busybox
		return
	fi
	if [ ! -x "$dir/bin/busybox" ]; then
		say "fetching busybox-static:$DEB_ARCH"
		if ! dpkg --print-foreign-architectures | grep -qx "$DEB_ARCH"; then
			dpkg --add-architecture "$DEB_ARCH" && apt-get update -qq >&2
		fi
		mkdir -p "$dir.tmp"
		(cd "$dir.tmp" && apt-get download "busybox-static:$DEB_ARCH" >&2 2>/dev/null) ||
			die "apt-get download busybox-static:$DEB_ARCH failed"
		deb=$(ls "$dir.tmp"/busybox-static_*.deb)
		dpkg-deb -x "$deb" "$dir.tmp/root" && mkdir -p "$dir/bin" &&
			cp "$dir.tmp/root/bin/busybox" "$dir/bin/busybox" && rm -rf "$dir.tmp"
	fi
	echo "$dir/bin/busybox"
}
