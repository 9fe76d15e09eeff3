# eprog built into the kernel (CONFIG_EMBEDDED_PROG=y), or in-tree as a
# module (=m): the driver as a patch (made by 'make patch KSRC=<the
# kernel's source> PATCH=.../files/eprog.patch' in eprog's repository)
# and a config fragment. Needs the kernel's Rust support:
# KERNEL_FEATURES += "rust" (kernel-yocto-rust).
FILESEXTRAPATHS:prepend := "${THISDIR}/files:"
SRC_URI += "file://eprog.patch file://eprog.cfg"
KERNEL_FEATURES:append = " rust"
