// SPDX-License-Identifier: GPL-2.0

//! A safe owner for a User Mode Driver: its tmpfs copy, its process, its pipes.

use kernel::error::to_result;
use kernel::prelude::*;
use kernel::str::CStr;

use crate::bindings;
use crate::file::FileRef;

/// The two pipe ends the kernel keeps to talk to a running helper.
pub(crate) struct Pipes {
    /// Write end of the helper's stdin.
    pub(crate) stdin: FileRef,
    /// Read end of the helper's stdout.
    pub(crate) stdout: FileRef,
}

/// A helper program copied into its private tmpfs, and its process while it
/// runs. Dropping it kills the process, waits for it, and frees the tmpfs.
///
/// # Invariants
///
/// - `info.wd` holds the tmpfs mount made by `umd_load_blob()`.
/// - `info.tgid` is null, or (while running) the helper's thread group,
///   with `info`'s pipes and pid reference owned by this value.
pub(crate) struct Umd {
    info: KBox<bindings::umd_info>,
}

// SAFETY: The UMD API may be called from any thread; all mutation goes through
// `&mut self`, so no two threads touch `info` at once.
unsafe impl Send for Umd {}
// SAFETY: `&self` methods only read `info.tgid`, which changes under `&mut self`.
unsafe impl Sync for Umd {}

impl Umd {
    /// Copies `blob` into a new private tmpfs as the executable `name`, which
    /// also becomes the process name.
    ///
    /// Always inlined: a caller that passes `.init.rodata` bytes (see
    /// `blob.rs`) must not hand the section's address to a `.text` function.
    #[inline(always)]
    pub(crate) fn load(name: &'static CStr, blob: &[u8]) -> Result<Self> {
        let mut info = KBox::new(bindings::umd_info::default(), GFP_KERNEL)?;
        info.driver_name = name.as_char_ptr();
        // SAFETY: `info` is a zeroed umd_info with a name that lives forever;
        // `blob` is valid for reads of its length during the call, which
        // copies it.
        to_result(unsafe {
            bindings::umd_load_blob(&mut *info, blob.as_ptr().cast(), blob.len())
        })?;
        Ok(Self { info })
    }

    /// Forks and execs the helper from the tmpfs copy.
    pub(crate) fn start(&mut self) -> Result<Pipes> {
        if self.is_running() {
            return Err(EBUSY);
        }
        // SAFETY: The blob is loaded and no process is running (invariant).
        // On failure the UMD code has already released what it set up.
        to_result(unsafe { bindings::fork_usermode_driver(&mut *self.info) })?;
        if !self.is_running() {
            // Only when the exec path is replaced (STATIC_USERMODEHELPER): no
            // process of ours was started, and nothing was set up.
            return Err(ENOEXEC);
        }
        // SAFETY: The process is running, so both pipe files are valid.
        let pipes = unsafe {
            (
                FileRef::get(self.info.pipe_to_umh),
                FileRef::get(self.info.pipe_from_umh),
            )
        };
        match pipes {
            (Some(stdin), Some(stdout)) => Ok(Pipes { stdin, stdout }),
            _ => {
                self.stop();
                Err(EINVAL)
            }
        }
    }

    /// Whether a process was started and not yet reaped by [`Umd::stop`].
    pub(crate) fn is_running(&self) -> bool {
        !self.info.tgid.is_null()
    }

    /// The helper's process id, or 0 when none is running.
    pub(crate) fn pid(&self) -> i32 {
        if !self.is_running() {
            return 0;
        }
        // SAFETY: `tgid` is a pid reference owned by this value (invariant).
        unsafe { bindings::eprog_pid_nr(self.info.tgid) }
    }

    /// Kills the helper, waits until it is gone, and releases its pipes.
    pub(crate) fn stop(&mut self) {
        if !self.is_running() {
            return;
        }
        let tgid = self.info.tgid;
        // SAFETY: `tgid` is valid while running (invariant). kill_pid() fails
        // harmlessly with ESRCH if the helper has already exited; the wait
        // returns once its task is released, which SIGKILL guarantees.
        unsafe {
            bindings::kill_pid(tgid, kernel::bindings::SIGKILL as i32, 1);
            bindings::eprog_wait_for_exit(tgid);
            bindings::umd_cleanup_helper(&mut *self.info);
        }
    }
}

impl Drop for Umd {
    fn drop(&mut self) {
        self.stop();
        // SAFETY: The blob is loaded (invariant) and no process uses it.
        unsafe { bindings::umd_unload_blob(&mut *self.info) };
    }
}
