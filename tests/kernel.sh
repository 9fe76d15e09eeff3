#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (or reuse) a QEMU test kernel with eprog in the tree.
#   tests/kernel.sh ARCH m|y [debug]
#                                prints the kernel build directory on stdout;
#                                'debug' adds tests/debug.config (KASAN, ...)
#   tests/kernel.sh ARCH configured-without-umd
#                                a configured (not built) tree whose config
#                                selects no USERMODE_DRIVER, to test refusal
# The build directory is cached by kernel version + config + toolchain, so a
# second run only rebuilds what changed in the driver.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

arch=${1:?usage: kernel.sh ARCH m|y|configured-without-umd [debug]}
mode=${2:?usage: kernel.sh ARCH m|y|configured-without-umd}
variant=${3:-qemu}
case "$variant" in qemu|debug) ;; *) die "variant must be qemu or debug, not '$variant'" ;; esac
case "$mode" in
m|y) option="CONFIG_EMBEDDED_PROG=$mode" ;;
configured-without-umd) option="# CONFIG_EMBEDDED_PROG is not set" ;;
*) die "mode must be m, y or configured-without-umd, not '$mode'" ;;
esac
arch_table "$arch"

src=$(linux_tree)

fragments=("$here/qemu-$arch.config")
[ "$variant" = debug ] && fragments+=("$here/debug.config")
toolchain="$(rustc --version) $(bindgen --version) $(clang$LLVM --version | head -n 1)"
key=$( (cat "${fragments[@]}"; echo "$toolchain") | sha256sum | cut -c1-12)
ver=$(basename "$src")
name="$ver-$arch-$variant"
build="$EPROG_CACHE/build/$name-$key-$mode"
other="$EPROG_CACHE/build/$name-$key-$( [ "$mode" = m ] && echo y || echo m)"
kmake() { make -C "$src" O="$build" ARCH="$KARCH" LLVM="$LLVM" "$@"; }

say "$variant kernel $ver for $arch, CONFIG_EMBEDDED_PROG=$mode ($toolchain)"
# Builds for an older config or toolchain are dead weight.
for stale in "$EPROG_CACHE/build/$name-"*"-$mode"; do
	[ -d "$stale" ] && [ "$stale" != "$build" ] && { say "removing stale $(basename "$stale")"; rm -rf "$stale"; }
done
if [ ! -f "$build/.config" ]; then
	if [ "$mode" != configured-without-umd ] && [ -f "$other/.eprog-built" ]; then
		# Same config but for one driver option: reuse the sibling's
		# objects, only the driver and the final link are redone.
		say "seeding from $(basename "$other")"
		rm -rf "$build.tmp" && cp -a "$other" "$build.tmp" && mv "$build.tmp" "$build"
		rm -f "$build/.eprog-built"
	else
		mkdir -p "$build"
		kmake -s tinyconfig >&2
	fi
	printf '%s\n' "$option" | cat "${fragments[@]}" - > "$build/eprog.config"
	"$src/scripts/kconfig/merge_config.sh" -m -O "$build" "$build/.config" \
		"$build/eprog.config" >/dev/null
	kmake -s olddefconfig >&2
	missing=$(grep '^CONFIG_' "$build/eprog.config" | while read -r opt; do
		grep -qx "$opt" "$build/.config" || echo "$opt"; done)
	if [ -n "$missing" ]; then
		rm -f "$build/.config"
		die "the kernel config lacks: $(echo $missing) (is Rust available? see 'make -C $src LLVM=$LLVM rustavailable')"
	fi
fi

if [ "$mode" = configured-without-umd ]; then
	kmake -s syncconfig >&2
	grep -q '^CONFIG_USERMODE_DRIVER=y' "$build/.config" && die "USERMODE_DRIVER is still selected in $build"
	echo "$build"
	exit 0
fi

log="$build/build.log"
say "building kernel and in-tree modules (log: $log); first build takes ~6 min on 2 cores"
start=$(date +%s)
kmake -j"$(nproc)" "$(basename "$KIMAGE")" modules >"$log" 2>&1 </dev/null &
pid=$!
ticks=0
while kill -0 "$pid" 2>/dev/null; do
	sleep 1
	ticks=$((ticks + 1))
	[ $((ticks % 20)) = 0 ] && kill -0 "$pid" 2>/dev/null &&
		say "  ... $ticks s, $(grep -c '^  [A-Z]' "$log" || true) steps, last: $(tail -n 1 "$log" | cut -c1-70)"
done
if ! wait "$pid"; then
	tail -n 40 "$log" >&2
	die "kernel build failed; full log kept at $log"
fi
touch "$build/.eprog-built"
say "kernel ready in $(($(date +%s) - start)) s: $build/$KIMAGE"
echo "$build"
