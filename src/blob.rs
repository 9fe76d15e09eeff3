// SPDX-License-Identifier: GPL-2.0

//! The default helper and the launcher, embedded by `blob.S`, and the check
//! of a helper that a client module brings.
//!
//! The launcher lives in `.rodata`, for every helper. The default helper's
//! bytes live in `.init.rodata` and are freed after init, so only code
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

/// The launcher's bytes.
pub(crate) fn launcher() -> &'static [u8] {
    // SAFETY: `blob.S` defines `eprog_launch_blob_size` as the number of
    // bytes embedded at `eprog_launch_blob`, in `.rodata`: mapped and
    // unchanged while the module lives.
    unsafe {
        core::slice::from_raw_parts(
            core::ptr::addr_of!(eprog_launch_blob).cast::<u8>(),
            eprog_launch_blob_size,
        )
    }
}

/// Loads the launcher and the embedded default helper into a new private
/// tmpfs as `launcher_name` and `helper_name`.
///
/// Must only be called during module init, while `.init.rodata` exists.
#[inline(never)]
#[link_section = ".ref.text"]
pub(crate) fn load(launcher_name: &'static CStr, helper_name: &CStr) -> Result<Umd> {
    // SAFETY: `blob.S` defines `eprog_blob_size` as the number of bytes
    // embedded at `eprog_blob`, in one section that stays mapped, unchanged,
    // until init ends; `Umd::load` copies them before returning.
    let helper = unsafe {
        core::slice::from_raw_parts(
            core::ptr::addr_of!(eprog_blob).cast::<u8>(),
            eprog_blob_size,
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
    Umd::load(launcher_name, launcher(), helper_name, helper)
}

/// The ELF machine of the kernel's architecture.
#[cfg(target_arch = "x86_64")]
const MACHINE: u16 = 62;
#[cfg(target_arch = "aarch64")]
const MACHINE: u16 = 183;

/// Why `blob` cannot run as a helper, as the end of a sentence, as
/// `umh/check_blob.sh` says it at build time: not ELF, not a 64-bit
/// little-endian executable, for another machine, or dynamically linked
/// (no loader, no library: the helper runs with no root file system).
pub(crate) fn unfit(blob: &[u8]) -> Option<&'static str> {
    let u16_at = |at: usize| u16::from_le_bytes([blob[at], blob[at + 1]]);
    if !is_elf(blob) {
        return Some("is not an ELF file");
    }
    if blob[4] != 2 || blob[5] != 1 {
        return Some("is not a 64-bit little-endian ELF file");
    }
    if !matches!(u16_at(16), 2 | 3) {
        return Some("is not an executable");
    }
    if u16_at(18) != MACHINE {
        return Some("is built for another architecture");
    }
    let mut phoff = [0u8; 8];
    phoff.copy_from_slice(&blob[32..40]);
    let (phoff, phentsize, phnum) = (u64::from_le_bytes(phoff), u16_at(54), u16_at(56));
    for i in 0..u64::from(phnum) {
        let at = phoff.saturating_add(i * u64::from(phentsize));
        let Some(header) = usize::try_from(at)
            .ok()
            .and_then(|at| blob.get(at..at.checked_add(4)?))
        else {
            return Some("has program headers past its end");
        };
        // PT_INTERP
        if header == 3u32.to_le_bytes() {
            return Some("is dynamically linked (it has an ELF interpreter)");
        }
    }
    None
}

/// A cheap check that catches an empty or wrong blob with a clear message
/// before the exec fails with a bare ENOEXEC.
#[inline(always)]
fn is_elf(blob: &[u8]) -> bool {
    blob.len() >= 64 && blob[..4] == *b"\x7fELF"
}
