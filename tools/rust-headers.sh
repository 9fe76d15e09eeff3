#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# rust-headers.sh KDIR [KSRC]
# Completes a kernel headers tree that was packaged without the kernel's Rust
# build (Debian's linux-headers-*, upstream's install-extmod-build): builds
# rust/ (the kernel crate's metadata and proc macros) and scripts/target.json
# from the kernel's own source with the kernel's own compilers, exactly as
# 'make modules_prepare' built them for the kernel, and copies them in.
#
# KSRC is the kernel's source: a directory or a tarball; by default Debian's
# /usr/src/linux-source-<major>.<minor>.tar.xz. Before anything is written
# into KDIR it checks that the source is the kernel's release, that CC,
# rustc and bindgen here print the version texts the kernel's .config
# recorded, and that the source configures to exactly the kernel's .config;
# after the build, that the Rust symbols the kernel exports are the ones
# this build names. Any mismatch is one sentence, and nothing is left.
# A tree that already has rust/libkernel.rmeta is left as it is.
#
# CC, RUSTC and BINDGEN may be given in the environment; by default CC is
# the compiler the kernel's .config names.
set -euo pipefail

fail() { echo "eprog: $*" >&2; exit 1; }
kdir=${1:?usage: rust-headers.sh KDIR [KSRC]}
ksrc=${2:-}
[ -f "$kdir/.config" ] || fail "$kdir is not a kernel build or headers tree (no .config)"
kdir=$(cd "$kdir" && pwd -P)

if [ -f "$kdir/rust/libkernel.rmeta" ]; then
	echo "eprog: $kdir already has the kernel's Rust build (rust/libkernel.rmeta): nothing to do"
	exit 0
fi

config() { sed -n "s/^$1=\"\?\([^\"]*\)\"\?$/\1/p" "$kdir/.config"; }
[ "$(config CONFIG_RUST)" = y ] ||
	fail "the kernel in $kdir is built without CONFIG_RUST: it has no Rust build to complete"
release=$(cat "$kdir/include/config/kernel.release" 2>/dev/null) ||
	fail "$kdir has no include/config/kernel.release"
version=${release%%[!0-9.]*}
version=${version%.}

# The kernel's compilers, as its .config recorded them.
cc_text=$(config CONFIG_CC_VERSION_TEXT)
rustc_text=$(config CONFIG_RUSTC_VERSION_TEXT)
bindgen_text=$(config CONFIG_BINDGEN_VERSION_TEXT)
if [ "$(config CONFIG_CC_IS_CLANG)" = y ]; then
	clang=$(config CONFIG_CLANG_VERSION)
	CC=${CC:-clang-$((clang / 10000))}
	command -v "$CC" >/dev/null || CC=clang
	compiler=(LLVM="${CC#clang}")
	[ "${compiler[0]}" = LLVM= ] && compiler=(LLVM=1)
else
	# GCC prints the name it was called by: the kernel's CC.
	CC=${CC:-${cc_text%% *}}
	compiler=(CC="$CC")
	case "$CC" in *-gcc*) compiler+=(CROSS_COMPILE="${CC%gcc*}") ;; esac
fi
RUSTC=${RUSTC:-rustc}
BINDGEN=${BINDGEN:-bindgen}
if [ "$(config CONFIG_X86_64)" = y ]; then arch=x86
elif [ "$(config CONFIG_ARM64)" = y ]; then arch=arm64
else arch=${ARCH:?eprog: pass ARCH=<the kernel architecture>}
fi

same() { # what, the kernel's text, this machine's text
	[ "$2" = "$3" ] || fail "the kernel in $kdir was built with $1 '$2', but $1 here is '${3:-missing}'; its rust/ must be built by the same $1 (pass ${1^^}=<path> to choose one)"
}
same cc "$cc_text" "$("$CC" --version 2>/dev/null | head -n 1)"
same rustc "$rustc_text" "$("$RUSTC" --version 2>/dev/null)"
[ -z "$bindgen_text" ] || same bindgen "$bindgen_text" "$("$BINDGEN" --version 2>/dev/null | head -n 1)"

# The source: a directory, or a tarball unpacked into the scratch directory.
if [ -z "$ksrc" ]; then
	ksrc=/usr/src/linux-source-${version%.*}.tar.xz
	[ -e "$ksrc" ] || fail "no kernel source for $release: install Debian's linux-source-${version%.*} (the same version as the kernel) or pass KSRC=<the kernel's source>"
fi
[ -e "$ksrc" ] || fail "KSRC=$ksrc does not exist"
scratch=$(mktemp -d "${TMPDIR:-/var/tmp}/eprog-rust-headers.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
if [ -f "$ksrc" ]; then
	echo "eprog: unpacking $ksrc"
	mkdir "$scratch/src"
	tar -xf "$ksrc" -C "$scratch/src" --strip-components=1 || fail "cannot unpack $ksrc"
	src=$scratch/src
else
	src=$(cd "$ksrc" && pwd -P)
fi
kmake() {
	make -s -C "$src" O="$scratch/build" ARCH="$arch" "${compiler[@]}" RUSTC="$RUSTC" \
		BINDGEN="$BINDGEN" "$@"
}
[ -f "$src/Makefile" ] || fail "$ksrc is not a kernel source tree"
src_version=$(make -s -C "$src" kernelversion 2>/dev/null) || fail "$ksrc is not a kernel source tree"
[ "$src_version" = "$version" ] ||
	fail "the source in $ksrc is Linux $src_version, but the kernel in $kdir is $release; pass KSRC=<the source of $version>"

# The source must configure to exactly the kernel's .config.
mkdir -p "$scratch/build"
cp "$kdir/.config" "$scratch/build/.config"
kmake olddefconfig >/dev/null || fail "cannot configure $ksrc with the kernel's .config"
# An option not set and one the source does not offer are the same. An
# option that the machine's tools decide says nothing about the source:
# one whose Kconfig entry runs a probe or reads a make variable ($(...):
# what openssl can sign with, whether the compiler can link a program, a
# compat compiler's name), and one that depends on such an option. (The
# compilers themselves were compared above.)
options() { grep '^CONFIG_' "$1" | sort; }
kconfigs=$(find "$src" -name 'Kconfig*' -type f)
entry() { # the Kconfig entry of symbol $1
	# shellcheck disable=SC2086 # one file a word
	awk -v sym="$1" '
		/^(config|menuconfig)[ \t]/ { on = ($2 == sym); if (on) next }
		/^(choice|endchoice|menu|endmenu|if|endif|source|comment)([ \t]|$)/ { on = 0 }
		on' $kconfigs
}
differ=$( { diff <(options "$kdir/.config") <(options "$scratch/build/.config") || true; } |
	sed -n 's/^[<>] CONFIG_\([^=]*\)=.*/\1/p' | sort -u | xargs)
tools=
for _ in 1 2 3; do
	for sym in $differ; do
		[[ " $tools " = *" $sym "* ]] && continue
		text=$(entry "$sym")
		if grep -q '\$(' <<<"$text" || { [ -n "$tools" ] && grep -qwE "$(tr ' ' '|' <<<"${tools# }")" <<<"$text"; }; then
			tools+=" $sym"
		fi
	done
done
source_differs=
for sym in $differ; do
	if [[ " $tools " = *" $sym "* ]]; then
		echo "eprog: CONFIG_$sym differs here, but the machine's tools decide it: not a difference of the source"
	else
		source_differs+=" CONFIG_$sym"
	fi
done
[ -z "$source_differs" ] ||
	fail "the source in $ksrc does not configure to the kernel's .config ($(echo $source_differs | cut -d' ' -f1-3) differ): it is not the source the kernel in $kdir was built from"

echo "eprog: building the Rust part of Linux $release's headers (modules_prepare; a few minutes)"
kmake -j"$(nproc)" modules_prepare >"$scratch/build.log" 2>&1 ||
	{ tail -n 20 "$scratch/build.log" >&2; fail "modules_prepare of $ksrc failed"; }

# The kernel exports Rust symbols whose names carry each crate's hash,
# made from the compiler's full version text: this build must define them.
symbol=$(grep -o -m 1 '_RNv[^[:space:]]*4core[^[:space:]]*' "$kdir/Module.symvers" || true)
if [ -n "$symbol" ]; then
	# Into a file: with pipefail, grep -q leaving a pipe early would fail
	# nm with SIGPIPE, and the check with it, however the symbols read.
	nm --defined-only "$scratch/build/rust/core.o" >"$scratch/core.symbols" 2>/dev/null || true
	grep -qwF "$symbol" "$scratch/core.symbols" ||
		fail "the core crate built from $ksrc does not define $symbol, which the kernel in $kdir exports: its Rust compiler is not the kernel's"
fi

# Install: rust/ whole, as a kernel build tree has it: the kernel crate's
# sources (its Makefile says how bindgen takes the kernel's C flags, and a
# module's build may read what the crate offers), then the metadata and
# proc macros built from them.
cp -a "$src/rust" "$scratch/rust"
cp "$scratch"/build/rust/*.rmeta "$scratch"/build/rust/*.so "$scratch/rust/"
printf '%s\n' "Linux $release" "$cc_text" "$rustc_text" "$bindgen_text" "source: $ksrc" \
	>"$scratch/rust/.eprog-completed"
# Beside the kbuild scripts: the Rust target of x86 (generated), and the
# header with which rust/Makefile asks bindgen for libclang's version.
for script in "$scratch/build/scripts/target.json" "$src/scripts/rust_is_available_bindgen_libclang.h"; do
	[ -f "$script" ] || continue
	cp "$script" "$kdir/scripts/.eprog.tmp" && mv "$kdir/scripts/.eprog.tmp" "$kdir/scripts/${script##*/}"
done
rm -rf "$kdir/rust.tmp"
if [ -d "$kdir/rust" ]; then
	cp -a "$scratch/rust/." "$kdir/rust/"
else
	cp -a "$scratch/rust" "$kdir/rust.tmp" && mv "$kdir/rust.tmp" "$kdir/rust"
fi
echo "eprog: completed $kdir/rust from $ksrc (Linux $release, $rustc_text)"
