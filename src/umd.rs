// SPDX-License-Identifier: GPL-2.0

//! A safe owner for a User Mode Driver: its tmpfs copy, its process, its pipes.

use core::fmt;
use core::ptr::NonNull;
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

/// How a helper process ended.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExitStatus {
    /// It called exit with this status.
    Code(u8),
    /// A signal killed it.
    Signal(u8),
}

impl ExitStatus {
    /// Decodes a task's `exit_code`: status in bits 8-15, or the signal in
    /// bits 0-6 (bit 7 says a core was dumped).
    fn from_exit_code(code: i32) -> Self {
        match code & 0x7f {
            0 => Self::Code(((code >> 8) & 0xff) as u8),
            signal => Self::Signal(signal as u8),
        }
    }

    pub(crate) fn success(self) -> bool {
        self == Self::Code(0)
    }
}

impl fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Code(code) => write!(f, "exited with status {code}"),
            Self::Signal(signal) => {
                write!(f, "was killed by signal {signal} ({})", signal_name(signal))
            }
        }
    }
}

fn signal_name(signal: u8) -> &'static str {
    match signal {
        4 => "SIGILL",
        5 => "SIGTRAP",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        15 => "SIGTERM",
        _ => "?",
    }
}

/// A helper program copied into its private tmpfs, and its process while it
/// runs. Dropping it kills the process, waits for it, and frees the tmpfs.
///
/// # Invariants
///
/// - `info.wd` holds the tmpfs mount made by `umd_load_blob()`.
/// - `info.tgid` is null, or the helper's thread group (running or exited
///   but not reaped), with `info`'s pipes and pid reference owned by this
///   value; then `task` is null or a reference to the helper's task.
/// - Outside `start`, no one but this value holds a reference to `spare`.
pub(crate) struct Umd {
    info: KBox<bindings::umd_info>,
    task: Option<NonNull<bindings::task_struct>>,
    /// Lent to the UMD code's pipe fields during a start (see `start`).
    spare: FileRef,
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
        let spare = FileRef::new_spare()?;
        let mut info = KBox::new(bindings::umd_info::default(), GFP_KERNEL)?;
        info.driver_name = name.as_char_ptr();
        // SAFETY: `info` is a zeroed umd_info with a name that lives forever;
        // `blob` is valid for reads of its length during the call, which
        // copies it.
        to_result(unsafe {
            bindings::umd_load_blob(&mut *info, blob.as_ptr().cast(), blob.len())
        })?;
        Ok(Self {
            info,
            task: None,
            spare,
        })
    }

    /// Forks and execs the helper from the tmpfs copy.
    pub(crate) fn start(&mut self) -> Result<Pipes> {
        if self.has_process() {
            return Err(EBUSY);
        }
        // The kernel's umd_cleanup() (6.12) fput()s both pipe fields after
        // *any* failure, also one before umd_setup() filled them in (fork,
        // credentials, pipes): NULL at a first start, the last run's
        // released files at a restart. So the fields hold references to
        // `spare` that are the kernel's to drop; what it did not drop is
        // taken back below. A start failure then never releases a file that
        // eprog does not own, whatever the kernel's UMD code does.
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
        // SAFETY: `tgid` is our valid pid reference; the task reference, if
        // any, is ours to put in `stop`. It is null when the helper has
        // already been reaped: then its status is unknown (see `stop`).
        self.task = NonNull::new(unsafe { bindings::eprog_get_task(self.info.tgid) });
        // SAFETY: The process was just set up, so both pipe files are valid.
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

    /// Whether a process was started and not yet reaped.
    fn has_process(&self) -> bool {
        !self.info.tgid.is_null()
    }

    /// The helper's process id, or 0 when there is none.
    pub(crate) fn pid(&self) -> i32 {
        if !self.has_process() {
            return 0;
        }
        // SAFETY: `tgid` is a pid reference owned by this value (invariant).
        unsafe { bindings::eprog_pid_nr(self.info.tgid) }
    }

    /// Waits until the helper has exited, or a signal interrupts the wait
    /// (`ERESTARTSYS`).
    pub(crate) fn wait_interruptible(&self) -> Result {
        if !self.has_process() {
            return Ok(());
        }
        // SAFETY: `tgid` is a pid reference owned by this value (invariant).
        to_result(unsafe { bindings::eprog_wait_for_exit_interruptible(self.info.tgid) })
    }

    /// Ends the helper: kills it if it still runs, waits until it is gone,
    /// and releases its pid and pipes. Returns how it ended, or `None` when
    /// that is unknown: kthreadd reaps the helper as soon as it exits, so a
    /// helper that ended before `start` could take a reference to its task
    /// (one that crashes before it reads its configuration) leaves no
    /// status behind.
    pub(crate) fn stop(&mut self) -> Option<ExitStatus> {
        if !self.has_process() {
            return None;
        }
        // SAFETY: `tgid` is ours. kill_pid() fails harmlessly (ESRCH) if the
        // helper has exited; the wait returns once its task is released,
        // which SIGKILL guarantees.
        unsafe {
            bindings::kill_pid(self.info.tgid, kernel::bindings::SIGKILL as i32, 1);
            bindings::eprog_wait_for_exit(self.info.tgid);
        }
        let status = self.task.take().map(|task| {
            // SAFETY: `task` is a reference we own (invariant); its exit code
            // is final because the process has been released.
            let code = unsafe { bindings::eprog_exit_code(task.as_ptr()) };
            // SAFETY: Drops the reference taken in `start`.
            unsafe { bindings::eprog_put_task(task.as_ptr()) };
            ExitStatus::from_exit_code(code)
        });
        // SAFETY: The process is gone; this releases the pipes and the pid
        // reference that `fork_usermode_driver` left to us, and nulls `tgid`.
        unsafe { bindings::umd_cleanup_helper(&mut *self.info) };
        status
    }
}

impl Drop for Umd {
    fn drop(&mut self) {
        self.stop();
        // SAFETY: The blob is loaded (invariant) and no process uses it.
        unsafe { bindings::umd_unload_blob(&mut *self.info) };
    }
}
