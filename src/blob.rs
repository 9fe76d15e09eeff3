// SPDX-License-Identifier: GPL-2.0

//! The helper program and its launcher, embedded by `blob.S`.
//!
//! The bytes live in `.init.rodata` and are freed after init, so only code
//! that runs during init may touch them. `Module::init` is in `.text`, and a
//! reference from `.text` to `.init.rodata` is a section mismatch: the one
//! function that takes the bytes' address and copies them out lives in
//! `.ref.text`, which modpost allows to reference init sections.

use kernel::prelude::*;
use kernel::str::CStr;

use crate::umd::Umd;

extern "C" {
    /// The first of `eprog_blob_size` bytes: the helper.
    static eprog_blob: [u8; 0];
    static eprog_blob_size: usize;
    /// The first of `eprog_launch_blob_size` bytes: the launcher.
    static eprog_launch_blob: [u8; 0];
    static eprog_launch_blob_size: usize;
}

/// Loads the embedded launcher and helper into a new private tmpfs as
/// `launcher_name` and `helper_name`.
///
/// Must only be called during module init, while `.init.rodata` exists.
#[inline(never)]
#[link_section = ".ref.text"]
pub(crate) fn load(launcher_name: &'static CStr, helper_name: &CStr) -> Result<Umd> {
    // SAFETY: `blob.S` defines each `*_size` as the number of bytes
    // embedded at its blob, in one section that stays mapped, unchanged,
    // until init ends; `Umd::load` copies them before returning.
    let (helper, launcher) = unsafe {
        (
            core::slice::from_raw_parts(
                core::ptr::addr_of!(eprog_blob).cast::<u8>(),
                eprog_blob_size,
            ),
            core::slice::from_raw_parts(
                core::ptr::addr_of!(eprog_launch_blob).cast::<u8>(),
                eprog_launch_blob_size,
            ),
        )
    };
    if !is_elf(helper) {
        pr_err!(
            "embedded helper ({} bytes) is not an ELF executable\n",
            helper.len()
        );
        return Err(ENOEXEC);
    }
    pr_info!("loading the embedded helper ({} bytes)\n", helper.len());
    Umd::load(launcher_name, launcher, helper_name, helper)
}

/// A cheap check that catches an empty or wrong blob with a clear message
/// before the exec fails with a bare ENOEXEC.
#[inline(always)]
fn is_elf(blob: &[u8]) -> bool {
    blob.len() >= 64 && blob[..4] == *b"\x7fELF"
}
