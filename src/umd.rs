// SPDX-License-Identifier: GPL-2.0

//! A safe owner for a User Mode Driver: its tmpfs copy, its processes, its
//! pipes.
//!
//! The User Mode Driver API (the kernel's where it has one, eprog's own core
//! in `umd_core.c` elsewhere; `bindings.rs` maps the names) starts eprog's
//! launcher (`umh/src/launch.rs`), which starts the helper as the init of a
//! pid namespace of its own and reports its pid; see there for the
//! protocol.

use core::ptr::NonNull;
use kernel::error::to_result;
use kernel::prelude::*;
use kernel::str::CStr;

use crate::bindings;
use crate::confinement::Confinement;
use crate::file::FileRef;
use crate::process::{Outcome, Process, Signaller};

/// Which User Mode Driver code starts the helper, as the load line says.
#[cfg(not(eprog_umd_core))]
pub(crate) const ROUTE: &str = "the kernel UMD (USERMODE_DRIVER)";
/// Which User Mode Driver code starts the helper, as the load line says.
#[cfg(eprog_umd_core)]
pub(crate) const ROUTE: &str = "eprog's own UMD core";

/// The two pipe ends the kernel keeps to talk to a running helper.
pub(crate) struct Pipes {
    /// Write end of the helper's stdin.
    pub(crate) stdin: FileRef,
    /// Read end of the helper's stdout.
    pub(crate) stdout: FileRef,
}

/// The launcher and the helper copied into their private tmpfs, and their
/// processes while they run. Dropping it kills both, waits for them, and
/// frees the tmpfs.
///
/// # Invariants
///
/// - `info.wd` holds the tmpfs mount made by `umd_load_blob()`.
/// - `info.tgid` is null, or the launcher's thread group (running or exited
///   but not reaped), with `info`'s pipes and pid reference owned by this
///   value; `helper` is `None` while `info.tgid` is null.
/// - Outside `start`, no one but this value and, while a process runs,
///   `info.pipe_to_umh` (a reference lent in place of the UMD code's own
///   to the helper's stdin) holds a reference to `spare`.
pub(crate) struct Umd {
    info: KBox<bindings::umd_info>,
    helper: Option<Process>,
    /// Lent to the UMD code's pipe fields during a start (see `start`).
    spare: FileRef,
}

// SAFETY: The UMD API may be called from any thread; all mutation goes through
// `&mut self`, so no two threads touch `info` at once.
unsafe impl Send for Umd {}
// SAFETY: `&self` methods only read `info.tgid` and `helper`, which change
// under `&mut self`.
unsafe impl Sync for Umd {}

impl Umd {
    /// Copies `launcher` and `helper` into a new private tmpfs as the
    /// executables `launcher_name` and `helper_name` (the name the launcher
    /// runs), which are also the process names.
    ///
    /// Always inlined: a caller that passes `.init.rodata` bytes (see
    /// `blob.rs`) must not hand the section's address to a `.text` function.
    #[inline(always)]
    pub(crate) fn load(
        launcher_name: &'static CStr,
        launcher: &[u8],
        helper_name: &CStr,
        helper: &[u8],
    ) -> Result<Self> {
        let spare = FileRef::new_spare()?;
        let mut info = KBox::new(bindings::umd_info::default(), GFP_KERNEL)?;
        info.driver_name = launcher_name.as_char_ptr();
        // SAFETY: `info` is a zeroed umd_info with a name that lives forever;
        // `launcher` is valid for reads of its length during the call, which
        // copies it.
        to_result(unsafe {
            bindings::umd_load_blob(&mut *info, launcher.as_ptr().cast(), launcher.len())
        })?;
        // From here on, dropping `umd` unloads the tmpfs.
        let umd = Self {
            info,
            helper: None,
            spare,
        };
        // SAFETY: `info.wd` is the tmpfs just made; the name and the bytes
        // are valid for reads during the call, which copies them.
        to_result(unsafe {
            bindings::eprog_write_file(
                &umd.info.wd,
                helper_name.as_char_ptr(),
                helper.as_ptr().cast(),
                helper.len(),
            )
        })?;
        // SAFETY: `info.wd` is the tmpfs just made.
        to_result(unsafe { bindings::eprog_seal_root(&umd.info.wd) })?;
        Ok(umd)
    }

    /// Starts the launcher, which starts the helper confined as
    /// `confinement` says; returns once the helper's process is held, before
    /// it execs. A failed confinement or exec shows in the [`Outcome`] that
    /// [`Umd::stop`] returns.
    pub(crate) fn start(&mut self, confinement: &Confinement) -> Result<Pipes> {
        if self.has_process() {
            return Err(EBUSY);
        }
        // The kernel's umd_cleanup() (6.12) fput()s both pipe fields after
        // *any* failure, also one before umd_setup() filled them in (fork,
        // credentials, pipes): NULL at a first start, the last run's
        // released files at a restart. So the fields hold references to
        // `spare` that are the kernel's to drop; what it did not drop is
        // taken back below. A start failure then never releases a file that
        // eprog does not own, whatever the kernel's UMD code does. (eprog's
        // own core never touches the fields of a failed start: there all is
        // taken back.)
        self.info.pipe_to_umh = self.spare.lend();
        self.info.pipe_from_umh = self.spare.lend();
        // SAFETY: The blob is loaded and there is no process (invariant);
        // the pipe fields hold references the UMD code may drop.
        let started = to_result(unsafe { bindings::fork_usermode_driver(&mut *self.info) });
        self.spare.take_back();
        if started.is_err() || !self.has_process() {
            // No process: the UMD code has released what it set up, and
            // whatever the fields still point to is not ours.
            self.info.pipe_to_umh = core::ptr::null_mut();
            self.info.pipe_from_umh = core::ptr::null_mut();
        }
        started?;
        if !self.has_process() {
            // Only when the exec path is replaced (STATIC_USERMODEHELPER): no
            // process of ours was started, and nothing was set up.
            return Err(ENOEXEC);
        }
        // SAFETY: The process was just set up, so both pipe files are valid.
        let pipes = unsafe {
            (
                FileRef::get(self.info.pipe_to_umh),
                FileRef::get(self.info.pipe_from_umh),
            )
        };
        let pipes = match pipes {
            (Some(stdin), Some(stdout)) => Pipes { stdin, stdout },
            _ => {
                self.stop();
                return Err(EINVAL);
            }
        };
        // The helper's stdin closes when eprog's own references do (a
        // plain-text helper then reads its end, and eprog writes nothing
        // after): the UMD code's reference goes now, and its cleanup drops
        // one to `spare` instead.
        // SAFETY: The field holds the UMD code's reference to the pipe,
        // which `pipes.stdin` holds one of its own to; the cleanup drops
        // the lent reference that replaces it.
        unsafe { bindings::fput(self.info.pipe_to_umh) };
        self.info.pipe_to_umh = self.spare.lend();
        if let Err(e) = self.adopt_helper(&pipes, confinement) {
            self.stop();
            return Err(e);
        }
        Ok(pipes)
    }

    /// Reads the launcher's report, takes the helper's process and tells
    /// it to go on, confined as `confinement` says.
    fn adopt_helper(&mut self, pipes: &Pipes, confinement: &Confinement) -> Result {
        let mut report = [0u8; 4];
        let mut got = 0;
        while got < report.len() {
            match pipes.stdout.read(&mut report[got..])? {
                0 => return Err(EPIPE), // The launcher was killed.
                n => got += n,
            }
        }
        let nr = i32::from_ne_bytes(report);
        if nr < 0 {
            return Err(Error::from_errno(nr)); // unshare or fork failed.
        }
        let launcher = NonNull::new(self.info.tgid).ok_or(EINVAL)?;
        self.helper = Some(Process::adopt(launcher, nr)?);
        // One write of less than a pipe's buffer, which is empty: all or
        // nothing. A helper that has gone by now shows in its outcome.
        let _ = pipes.stdin.write(&confinement.encode());
        Ok(())
    }

    /// Whether a process was started and not yet reaped.
    fn has_process(&self) -> bool {
        !self.info.tgid.is_null()
    }

    /// The helper's process id, or 0 when there is none.
    pub(crate) fn pid(&self) -> i32 {
        self.helper.as_ref().map_or(0, Process::nr)
    }

    /// A handle to kill the helper from another thread, while there is one.
    pub(crate) fn signaller(&self) -> Option<Signaller> {
        self.helper.as_ref().map(Process::signaller)
    }

    /// Waits until the helper has ended, or a signal interrupts the wait
    /// (`ERESTARTSYS`).
    pub(crate) fn wait_interruptible(&self) -> Result {
        self.helper
            .as_ref()
            .map_or(Ok(()), Process::wait_interruptible)
    }

    /// Ends the helper (and all it started) and the launcher: kills them if
    /// they still run, waits until they are gone, and releases the pids
    /// and pipes. Returns how the helper ended, or `None` if it was never
    /// taken (the launcher failed).
    pub(crate) fn stop(&mut self) -> Option<Outcome> {
        if !self.has_process() {
            return None;
        }
        // The helper first: its parent, the launcher, ignores SIGCHLD, so
        // the helper is released the moment it ends.
        let outcome = self.helper.take().map(Process::end);
        // SAFETY: `tgid` is ours. The launcher exits by itself once the
        // helper is gone; SIGKILL makes sure, and the wait returns once its
        // task is released.
        unsafe {
            bindings::kill_pid(self.info.tgid, kernel::bindings::SIGKILL as i32, 1);
            bindings::eprog_wait_for_exit(self.info.tgid);
        }
        // SAFETY: The process is gone; this releases the pipes and the pid
        // reference that `fork_usermode_driver` left to us, and nulls `tgid`.
        unsafe { bindings::umd_cleanup_helper(&mut *self.info) };
        outcome
    }
}

impl Drop for Umd {
    fn drop(&mut self) {
        self.stop();
        // SAFETY: The blob is loaded (invariant) and no process uses it.
        unsafe { bindings::umd_unload_blob(&mut *self.info) };
    }
}
