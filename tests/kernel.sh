#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (or reuse) a QEMU test kernel for the kernel generation EPROG_KERNEL
# (tests/lib.sh).
#   tests/kernel.sh ARCH stock [debug]
#                                Debian's source as shipped, no eprog patch,
#                                built with the QEMU fragment (so, on 6.12,
#                                without USERMODE_DRIVER, as distributions
#                                ship it); prints the build directory;
#                                'debug' adds tests/debug.config (KASAN, ...)
#   tests/kernel.sh ARCH gcc     Debian's source as shipped, built with the
#                                host's GCC (Rust on), as a board vendor or a
#                                distribution builds it
#   tests/kernel.sh ARCH m       the same source with eprog's patch applied
#                                and CONFIG_EMBEDDED_PROG=m (on 6.12 that
#                                selects the kernel's USERMODE_DRIVER)
#   tests/kernel.sh ARCH y       prints a directory with the =y kernel's
#                                image, vmlinux and embedded helper
# The build directory is cached by kernel version + config + toolchain, so a
# second run only rebuilds what changed in the driver. The =y kernel is made
# in the =m tree (flip the option, relink, keep the image, flip back): a
# minute instead of a whole kernel build, since object files only depend on
# the options they use.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

arch=${1:?usage: kernel.sh ARCH stock|gcc|m|y [debug]}
mode=${2:?usage: kernel.sh ARCH stock|gcc|m|y [debug]}
variant=${3:-qemu}
case "$variant" in qemu|debug) ;; *) die "variant must be qemu or debug, not '$variant'" ;; esac
case "$mode" in
m|y) option="CONFIG_EMBEDDED_PROG=$mode" src=$(linux_tree) ;;
stock|gcc) option="" src=$(linux_pristine) ;;
*) die "mode must be stock, gcc, m or y, not '$mode'" ;;
esac
arch_table "$arch"
# The compiler: the kernel generation's clang (LLVM=-<N>), or for 'gcc' the
# host's GCC for the target (gcc, or the cross gcc of TEST_CC).
if [ "$mode" = gcc ]; then
	compiler=(CC="$TEST_CC" HOSTCC=gcc LLVM=)
	[ "$TEST_CC" = gcc ] || compiler+=(CROSS_COMPILE="${TEST_CC%gcc}")
	cc_version=$($TEST_CC --version | head -n 1)
else
	compiler=(LLVM="$LLVM")
	cc_version=$(clang$LLVM --version | head -n 1)
fi

fragments=("$here/qemu-$arch.config")
[ "$variant" = debug ] && fragments+=("$here/debug.config")
[ "$variant.$arch" = qemu.x86_64 ] && fragments+=("$here/dump.config")
toolchain="$(rustc --version) $(bindgen --version) $cc_version"
key=$( (cat "${fragments[@]}"; echo "$toolchain") | sha256sum | cut -c1-12)
ver=$(basename "$src")
name="$ver-$arch-$variant"
tree="$EPROG_CACHE/build/$name-$key"
# One kernel.sh at a time per tree (tests/run builds kernels ahead in the
# background); the =y step's own calls for the =m tree hold it already.
if [ "${EPROG_TREE_LOCKED:-}" != "$tree" ]; then
	mkdir -p "$EPROG_CACHE/build"
	exec 9>"$tree.lock"
	flock 9
	export EPROG_TREE_LOCKED=$tree
fi
kmake() { make -C "$src" O="$build" ARCH="$KARCH" "${compiler[@]}" "$@"; }

# Sets CONFIG_EMBEDDED_PROG in the configured tree $build, if it differs.
set_option() {
	[ -z "$1" ] || grep -qx "$1" "$build/.config" && return
	sed -i '/CONFIG_EMBEDDED_PROG[= ]/d' "$build/.config"
	echo "$1" >>"$build/.config"
	kmake -s olddefconfig >&2
}

if [ "$mode" = y ]; then
	# The =m tree, built and current, then its =y twin.
	build=$("$0" "$arch" m "$variant")
	snapshot="$tree-y"
	stamp=$( (patch_body "$src/.eprog.patch"; cat "$build/eprog.config"; echo "$toolchain") | sha256sum)
	if [ "$(cat "$snapshot/.eprog-built" 2>/dev/null)" = "$stamp" ]; then
		echo "$snapshot"
		exit 0
	fi
	for stale in "$EPROG_CACHE/build/$name-"*"-y"; do
		[ -d "$stale" ] && [ "$stale" != "$snapshot" ] && { say "removing stale $(basename "$stale")"; rm -rf "$stale"; }
	done
	say "$variant kernel $ver for $arch with CONFIG_EMBEDDED_PROG=y, in the =m tree"
	set_option CONFIG_EMBEDDED_PROG=y
	log="$build/build-y.log"
	if ! kmake -j"$(nproc)" "$(basename "$KIMAGE")" >"$log" 2>&1 </dev/null; then
		tail -n 40 "$log" >&2
		die "the =y kernel build failed; full log kept at $log"
	fi
	rm -rf "$snapshot" && mkdir -p "$snapshot.tmp/$(dirname "$KIMAGE")" "$snapshot.tmp/drivers/misc/eprog"
	cp "$build/$KIMAGE" "$snapshot.tmp/$KIMAGE"
	cp "$build/vmlinux" "$build/System.map" "$snapshot.tmp/"
	cp "$build/drivers/misc/eprog/eprog_user" "$snapshot.tmp/drivers/misc/eprog/"
	echo "$stamp" >"$snapshot.tmp/.eprog-built" && mv "$snapshot.tmp" "$snapshot"
	# Back to =m, which the out-of-tree builds and the tests expect.
	"$0" "$arch" m "$variant" >/dev/null
	say "=y kernel ready: $snapshot/$KIMAGE"
	echo "$snapshot"
	exit 0
fi

build="$tree-$mode"
say "$variant kernel $ver for $arch, ${option:-as shipped} ($toolchain)"
# Builds for an older config or toolchain are dead weight.
for stale in "$EPROG_CACHE/build/$name-"*"-$mode"; do
	[ -d "$stale" ] && [ "$stale" != "$build" ] && { say "removing stale $(basename "$stale")"; rm -rf "$stale"; }
done
# The fragments' options that .config lacks. An option this kernel
# generation no longer has (7.3 folded PROC_SYSCTL into SYSCTL) is not
# missing.
missing_options() {
	grep '^CONFIG_' "$build/eprog.config" | while read -r opt; do
		sym=${opt%%=*}
		grep -qx "$opt" "$build/.config" ||
			! grep -rqx --include='Kconfig*' "config ${sym#CONFIG_}" "$src" || echo "$opt"; done
}
# The stamp, written last, tells a finished configuration from one that an
# interrupted run left half done (a bare tinyconfig .config). A tree
# without it is configured again, unless its .config is complete (a tree
# from before the stamp).
if [ ! -f "$build/.eprog-configured" ]; then
	mkdir -p "$build"
	printf '%s\n' "$option" | cat "${fragments[@]}" - > "$build/eprog.config"
	if [ ! -f "$build/.config" ] || [ -n "$(missing_options)" ]; then
		kmake -s tinyconfig >&2
		"$src/scripts/kconfig/merge_config.sh" -m -O "$build" "$build/.config" \
			"$build/eprog.config" >/dev/null
		kmake -s olddefconfig >&2
		missing=$(missing_options)
		if [ -n "$missing" ]; then
			rm -f "$build/.config"
			die "the kernel config lacks: $(echo $missing) (is Rust available? see 'make -C $src LLVM=$LLVM rustavailable')"
		fi
	fi
	touch "$build/.eprog-configured"
fi

# An interrupted =y build may have left the tree at =y.
set_option "$option"

log="$build/build.log"
say "building kernel and in-tree modules (log: $log); a first build takes 4 to 9 min on 2 cores"
start=$(date +%s)
kmake -j"$(nproc)" "$(basename "$KIMAGE")" modules >"$log" 2>&1 </dev/null &
pid=$!
last=$start
while kill -0 "$pid" 2>/dev/null; do
	sleep 1
	now=$(date +%s)
	[ $((now - last)) -ge 20 ] && kill -0 "$pid" 2>/dev/null && last=$now &&
		say "  ... $((now - start)) s, $(grep -c '^  [A-Z]' "$log" || true) steps, last: $(tail -n 1 "$log" | cut -c1-70)"
done
if ! wait "$pid"; then
	tail -n 40 "$log" >&2
	die "kernel build failed; full log kept at $log"
fi
touch "$build/.eprog-built"
say "kernel ready in $(($(date +%s) - start)) s: $build/$KIMAGE"
echo "$build"
