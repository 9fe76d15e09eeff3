# eprog in the kernel itself, for those who ask for it: in local.conf,
#   EPROG_IN_TREE = "y"    (built in; or "m", the in-tree module)
# and put beside files/eprog-y.cfg the patch that, in eprog's repository,
#   make patch KSRC=<this kernel's source> \
#     PATCH=packaging/yocto/meta-eprog/recipes-kernel/linux/files/eprog.patch
# writes (the layer ships none: it must match your kernel). Unset, this
# changes nothing, so adding the layer never breaks linux-yocto's fetch.
# Needs the kernel's Rust support: KERNEL_FEATURES += "rust"
# (kernel-yocto-rust).
EPROG_IN_TREE ??= ""
FILESEXTRAPATHS:prepend := "${@'${THISDIR}/files:' if d.getVar('EPROG_IN_TREE') else ''}"
SRC_URI += "${@'file://eprog.patch file://eprog-%s.cfg' % d.getVar('EPROG_IN_TREE') if d.getVar('EPROG_IN_TREE') else ''}"
KERNEL_FEATURES:append = "${@' rust' if d.getVar('EPROG_IN_TREE') else ''}"
python () {
    if d.getVar('EPROG_IN_TREE') not in ('', 'y', 'm'):
        bb.fatal("EPROG_IN_TREE must be y, m or unset, not '%s'" % d.getVar('EPROG_IN_TREE'))
}
