#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Installs what building and testing eprog needs, for the architectures
# given as arguments (default: x86_64). Idempotent: it only installs what is
# missing, so a second run takes a second or two.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

archs=("${@:-x86_64}")
packages=(make flex bison bc cpio kmod libelf-dev libssl-dev xz-utils qemu-system-x86
	  busybox-static binutils perl gcc libc6-dev golang-go debian-archive-keyring
	  python3-venv dpkg-dev debhelper dh-dkms dkms debootstrap)
# The LLVM of each kernel generation (tests/lib.sh); with both, the tests
# also prove that bindgen uses the libclang of the kernel's clang on a
# machine that has a newer one.
for kernel in ${EPROG_KERNELS:-$EPROG_KERNEL}; do
	kernel_table "$kernel"
	packages+=("clang-$LLVM_VERSION" "lld-$LLVM_VERSION" "llvm-$LLVM_VERSION" "libclang1-$LLVM_VERSION")
done
targets=()
for arch in "${archs[@]}"; do
	arch_table "$arch"
	targets+=("$UMH_RUST_TARGET")
	[ "$arch" = arm64 ] && packages+=(qemu-system-arm gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
done
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	say "installing Debian packages: ${missing[*]}"
	sudo=; [ "$(id -u)" = 0 ] || sudo=sudo
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

command -v rustup >/dev/null || die "rustup is needed (https://rustup.rs); it manages the pinned Rust $RUST_VERSION"
targets+=("$(uname -m)-unknown-linux-musl")
installed=$(rustup target list --toolchain "$RUST_VERSION" --installed 2>/dev/null || true)
missing_targets=$(for t in "${targets[@]}"; do grep -qx "$t" <<<"$installed" || echo "$t"; done)
if ! rustup run "$RUST_VERSION" rustc --version >/dev/null 2>&1 ||
   ! rustup component list --toolchain "$RUST_VERSION" --installed 2>/dev/null | grep -q rust-src ||
   [ -n "$missing_targets" ]; then
	say "installing Rust $RUST_VERSION with rust-src, rustfmt, clippy and ${targets[*]}"
	rustup toolchain install "$RUST_VERSION" --profile minimal \
		--component rust-src,rustfmt,clippy $(printf -- '--target %s ' "${targets[@]}") >&2
fi

if [ "$(bindgen --version 2>/dev/null)" != "bindgen $BINDGEN_VERSION" ]; then
	say "installing bindgen-cli $BINDGEN_VERSION (takes about a minute)"
	cargo install --quiet --locked bindgen-cli --version "$BINDGEN_VERSION" >&2
fi
# The relay's fuzz target needs a nightly toolchain (sanitizers) and cargo-fuzz.
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
	say "installing a nightly Rust for cargo-fuzz"
	rustup toolchain install nightly --profile minimal >&2
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
	say "installing cargo-fuzz (takes about a minute)"
	cargo install --quiet --locked cargo-fuzz >&2
fi

# drgn, in a virtual environment of its own in the cache.
drgn=$EPROG_CACHE/drgn/bin/drgn
if [ "$("$drgn" --version 2>/dev/null | head -n 1 | cut -d' ' -f2)" != "$DRGN_VERSION" ]; then
	say "installing drgn $DRGN_VERSION from PyPI"
	python3 -m venv "$EPROG_CACHE/drgn" >&2
	"$EPROG_CACHE/drgn/bin/pip" install --quiet "drgn==$DRGN_VERSION" >&2
fi

say "tools: $(rustc --version), $(bindgen --version), $(for k in ${EPROG_KERNELS:-$EPROG_KERNEL}; do kernel_table "$k"; printf '%s (Linux %s); ' "$(clang$LLVM --version | head -n 1)" "$k"; done)"
