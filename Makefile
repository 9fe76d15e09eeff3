# SPDX-License-Identifier: GPL-2.0
#
# eprog, the user's entry points. Kbuild itself reads ./Kbuild, not this file.
#
#   make KDIR=<kernel build tree>          build eprog.ko out of tree
#   make rust-headers KDIR=<headers> [KSRC=<source>]
#                                          complete a headers package that has
#                                          no rust/ (tools/rust-headers.sh)
#   make install-into-tree KSRC=<source>   add the driver as drivers/misc/eprog
#   make patch KSRC=<pristine source>      the same as a patch for BSP trees
#   make demo [KERNEL=7.3]                 build a QEMU kernel, boot it, watch the helper
#   make check                             the whole test suite
#   make bench                             footprint and relay figures (bench/)
#   make deb                               the DKMS package, target/deb/eprog-dkms_<version>_all.deb

KDIR ?= /lib/modules/$(shell uname -r)/build
KSRC ?=
# Build with the kernel's own compiler. A kernel built with GCC: nothing to
# pass. One built with Clang: LLVM=-<N> when its .config names clang N and
# clang-<N> is installed (Debian's names), else LLVM=1. Pass LLVM= to
# choose. (With O=, the .config is there.)
kernel-config := $(or $(O),$(KDIR))/.config
kernel-clang := $(shell sed -n 's/^CONFIG_CLANG_VERSION=\([1-9][0-9]*\)[0-9]\{4\}$$/\1/p' $(kernel-config) 2>/dev/null)
LLVM ?= $(if $(kernel-clang),$(if $(shell command -v clang-$(kernel-clang)),-$(kernel-clang),1))
export LLVM

# Files that make up the driver, wherever it is built.
DRIVER_FILES := $(wildcard VERSION Kbuild Kconfig blob.S src/*.rs src/*.c src/*.h \
	umh/Cargo.toml umh/Cargo.lock umh/src/*.rs umh/src/*/*.rs umh/.cargo/config.toml \
	umh/check_blob.sh umh/std-helper/Cargo.toml umh/std-helper/Cargo.lock \
	umh/std-helper/src/*.rs umh/std-helper/.cargo/config.toml)

.PHONY: modules modules_install rust-headers clean copy-driver install-into-tree patch demo check bench deb

# After rust-headers, when both are asked for (DKMS builds with -j).
modules: $(filter rust-headers,$(MAKECMDGOALS))
	@test -d "$(KDIR)" || { echo "eprog: KDIR=$(KDIR) is not a kernel build tree (pass KDIR=<path>)" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) $(if $(UMH_BLOB),UMH_BLOB=$(abspath $(UMH_BLOB))) modules

# Installs eprog.ko under the kernel's module directory (updates/), or
# MODLIB's (Yocto's module.bbclass passes MODLIB and DEPMOD=echo).
modules_install:
	@test -d "$(KDIR)" || { echo "eprog: KDIR=$(KDIR) is not a kernel build tree (pass KDIR=<path>)" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install

# Distribution headers come without the kernel's Rust build (rust/): this
# builds it from the kernel's own source with the kernel's own compilers,
# after checking that both are the kernel's; a tree that has it is left alone.
rust-headers:
	@test -d "$(KDIR)" || { echo "eprog: KDIR=$(KDIR) is not a kernel build tree (pass KDIR=<path>)" >&2; exit 1; }
	@bash $(CURDIR)/tools/rust-headers.sh $(KDIR) $(KSRC)

deb:
	@packaging/build-deb.sh

clean:
	@if [ -d "$(KDIR)" ]; then $(MAKE) -C $(KDIR) M=$(CURDIR) clean; fi
	rm -rf umh/target target

# Copies the driver's files to DEST, touching only those that changed (so
# an unchanged driver is not rebuilt).
copy-driver:
	@test -n "$(DEST)" || { echo "eprog: pass DEST=<directory>" >&2; exit 1; }
	@for f in $(DRIVER_FILES); do install -C -D -m 644 $$f $(DEST)/$$f || exit 1; done

# Idempotent: copies only what changed and adds each hook once.
install-into-tree:
	@test -f "$(KSRC)/drivers/misc/Kconfig" || { echo "eprog: KSRC=$(KSRC) is not a kernel source tree (pass KSRC=<path>)" >&2; exit 1; }
	@$(MAKE) -s copy-driver DEST=$(KSRC)/drivers/misc/eprog
	@grep -q '^source "drivers/misc/eprog/Kconfig"' $(KSRC)/drivers/misc/Kconfig || \
		sed -i '$$s|^endmenu$$|source "drivers/misc/eprog/Kconfig"\nendmenu|' $(KSRC)/drivers/misc/Kconfig
	@grep -q '^source "drivers/misc/eprog/Kconfig"' $(KSRC)/drivers/misc/Kconfig || \
		{ echo "eprog: could not hook drivers/misc/Kconfig" >&2; exit 1; }
	@grep -q 'CONFIG_EMBEDDED_PROG' $(KSRC)/drivers/misc/Makefile || \
		printf 'obj-$$(CONFIG_EMBEDDED_PROG)\t\t+= eprog/\n' >> $(KSRC)/drivers/misc/Makefile
	@echo "eprog: installed into $(KSRC)/drivers/misc/eprog (enable CONFIG_EMBEDDED_PROG)"

# The in-tree route as a git format-patch style patch against KSRC: the
# driver under drivers/misc/eprog and the Kconfig/Makefile hooks. Apply it
# with 'patch -p1' or 'git am'; fill in your Signed-off-by.
PATCH ?= eprog.patch
define patch_message
misc: add eprog, an embedded Rust user-space helper

eprog carries a small static user-space program inside the kernel image
(CONFIG_EMBEDDED_PROG=y) or inside eprog.ko (=m), starts it with the User
Mode Driver API (or, where the kernel has none, with its own core, made
of what modules may call), supervises it, and relays its standard output
to the kernel log. The program needs no root file system.

Signed-off-by: Your Name <your.email@example.com>
endef
export patch_message

patch:
	@test -f "$(KSRC)/drivers/misc/Kconfig" || { echo "eprog: KSRC=$(KSRC) is not a kernel source tree (pass KSRC=<path>)" >&2; exit 1; }
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	mkdir -p "$$tmp/drivers/misc" && \
	cp "$(KSRC)/drivers/misc/Kconfig" "$(KSRC)/drivers/misc/Makefile" "$$tmp/drivers/misc/" && \
	git -C "$$tmp" init -q && git -C "$$tmp" add -A && \
	git -C "$$tmp" -c user.name=eprog -c user.email=eprog@localhost commit -qm base && \
	$(MAKE) -s install-into-tree KSRC="$$tmp" >/dev/null && git -C "$$tmp" add -A && \
	git -C "$$tmp" -c user.name="eprog developers" -c user.email=eprog@localhost \
		commit -q -m "$$patch_message" && \
	git -C "$$tmp" format-patch -1 --stdout > "$(abspath $(PATCH))"
	@echo "eprog: wrote $(PATCH)"

# KERNEL picks the kernel generation of demo and bench: 6.12 (default) or
# 7.3; check runs on both.
demo bench:
	$(if $(KERNEL),EPROG_KERNEL=$(KERNEL)) tests/run $@

check:
	tests/run check
