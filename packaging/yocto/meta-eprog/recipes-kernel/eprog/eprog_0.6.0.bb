SUMMARY = "eprog: an embedded Rust user-space helper, run and supervised by a Rust kernel module"
DESCRIPTION = "eprog.ko carries a static helper in its own image, runs it \
with the kernel's User Mode Driver API or its own core, relays its output \
to the kernel log, and lets kernel code and root call it like a function."
HOMEPAGE = "https://example.org/eprog"
LICENSE = "GPL-2.0-only"
LIC_FILES_CHKSUM = "file://Kbuild;beginline=1;endline=1;md5=daad6f7f7a0a286391cd7773ccf79340"

# The recipe's version is VERSION's (a test checks the file name).
# Where eprog's repository is and the commit to build: yours to set, in
# local.conf or a bbappend (no public address is assumed), e.g.
#   EPROG_GIT_URI = "git://git.example.com/eprog.git;protocol=https;branch=main"
#   EPROG_SRCREV = "<the commit's 40 hex digits>"
# Unset, the recipe is skipped with this message.
EPROG_GIT_URI ??= ""
EPROG_SRCREV ??= ""
SRC_URI = "${EPROG_GIT_URI}"
SRCREV = "${EPROG_SRCREV}"
python () {
    if not d.getVar('EPROG_GIT_URI') or not d.getVar('EPROG_SRCREV'):
        raise bb.parse.SkipRecipe("set EPROG_GIT_URI and EPROG_SRCREV to eprog's repository and the commit to build")
}
# S is oe-core's default, ${UNPACKDIR}/${BP}: where the git fetcher
# unpacks.

# module-rust: module.bbclass's compile and install (make in ${S} with
# KERNEL_SRC, O=${STAGING_KERNEL_BUILDDIR}, then modules_install with
# MODLIB and DEPMOD=echo), rust-native, and KRUSTFLAGS. It skips the
# recipe unless the kernel's Rust support is on: as oe-core's class was
# read (738afd4), unless KERNEL_RUST_SUPPORT holds "True".
inherit module-rust

# As the upstream skeleton recipe (rust-out-of-tree-module).
EXTRA_OEMAKE += "KDIR=${STAGING_KERNEL_DIR}"

# eprog's Kbuild runs bindgen (with libclang) on its C glue, as the
# kernel's Rust build does (kernel-yocto-rust). The helper and its launcher
# are built by cargo from ${S}/umh with the kernel's rustc, --offline
# --locked: the umh crates have no dependencies, so do_compile needs no
# network.
DEPENDS += "bindgen-cli-native clang-native cargo-native"

# Your own helper instead of the default one: name the recipe that
# installs it (a static executable) into its sysroot, and where.
#   EPROG_HELPER_RECIPE = "my-helper"
#   EPROG_HELPER_PATH = "${libexecdir}/my-helper/helper"
# (my-helper needs SYSROOT_DIRS += "${libexecdir}").
EPROG_HELPER_RECIPE ?= ""
EPROG_HELPER_PATH ?= ""
DEPENDS += "${EPROG_HELPER_RECIPE}"
EXTRA_OEMAKE += "${@'UMH_BLOB=${RECIPE_SYSROOT}${EPROG_HELPER_PATH}' if d.getVar('EPROG_HELPER_RECIPE') else ''}"

RPROVIDES:${PN} += "kernel-module-eprog"
