// SPDX-License-Identifier: GPL-2.0

//! The helper's process: held by reference from before its exec to after
//! its end, so how it ended is always known.

use core::fmt;
use core::ptr::NonNull;
use kernel::error::to_result;
use kernel::prelude::*;

use crate::bindings;
use crate::kernel_api::Display;

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

    /// As `wait()` reports it (without the core-dump bit).
    pub(crate) fn wait_status(self) -> i32 {
        match self {
            Self::Code(code) => i32::from(code) << 8,
            Self::Signal(signal) => i32::from(signal),
        }
    }
}

impl Display for ExitStatus {
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
        // The umh runtime's lock-down: a system call it does not allow.
        31 => "SIGSYS",
        _ => "?",
    }
}

/// How a helper's run ended.
pub(crate) enum Outcome {
    /// The program ran and ended so.
    Ended(ExitStatus),
    /// The exec failed with this error: the program never ran.
    NotStarted(Error),
}

/// The launcher's child that becomes the helper, from before its exec
/// until it is dropped. Ending or dropping it kills the process (and, as it
/// is the init of its pid namespace, everything it started) and waits for
/// that.
///
/// # Invariants
///
/// `pid` and `task` are references owned by this value to the same
/// process; `exec_id` is its exec count when they were taken.
pub(crate) struct Process {
    pid: NonNull<bindings::pid>,
    task: NonNull<bindings::task_struct>,
    exec_id: u64,
}

// SAFETY: The references may be used and dropped from any thread.
unsafe impl Send for Process {}
// SAFETY: `&self` methods only signal, wait for or read the process.
unsafe impl Sync for Process {}

impl Process {
    /// Takes process `nr`, which must be a child of the process with
    /// thread group `parent`; fails with `ESRCH` otherwise.
    pub(crate) fn adopt(parent: NonNull<bindings::pid>, nr: i32) -> Result<Self> {
        let (mut pid, mut task, mut exec_id) = (core::ptr::null_mut(), core::ptr::null_mut(), 0);
        // SAFETY: `parent` is a valid pid; on success the function stores two
        // references that the new value owns.
        to_result(unsafe {
            bindings::eprog_adopt_child(parent.as_ptr(), nr, &mut pid, &mut task, &mut exec_id)
        })?;
        match (NonNull::new(pid), NonNull::new(task)) {
            (Some(pid), Some(task)) => Ok(Self { pid, task, exec_id }),
            _ => Err(ESRCH),
        }
    }

    /// The process id, as the initial pid namespace sees it.
    pub(crate) fn nr(&self) -> i32 {
        // SAFETY: `pid` is valid (invariant).
        unsafe { bindings::eprog_pid_nr(self.pid.as_ptr()) }
    }

    /// Waits until the process has ended, or a signal interrupts the wait
    /// (`ERESTARTSYS`).
    pub(crate) fn wait_interruptible(&self) -> Result {
        // SAFETY: `pid` is valid (invariant).
        to_result(unsafe { bindings::eprog_wait_for_end_interruptible(self.pid.as_ptr()) })
    }

    /// Kills the process if it still runs and waits until it has ended;
    /// then nothing is left in its pid namespace either.
    pub(crate) fn end(self) -> Outcome {
        self.kill_and_wait();
        // SAFETY: `task` is valid (invariant); its exec count and exit code
        // are final now that it has ended.
        let (execed, code) = unsafe {
            (
                bindings::eprog_has_execed(self.task.as_ptr(), self.exec_id),
                bindings::eprog_exit_code(self.task.as_ptr()),
            )
        };
        match ExitStatus::from_exit_code(code) {
            // The launcher's child exits with the errno of a failed exec.
            ExitStatus::Code(errno) if !execed && errno > 0 => {
                Outcome::NotStarted(Error::from_errno(-i32::from(errno)))
            }
            status => Outcome::Ended(status),
        }
    }

    /// A handle that can end the process from another thread.
    pub(crate) fn signaller(&self) -> Signaller {
        // SAFETY: `pid` is valid (invariant); this takes a new reference,
        // which the new value owns.
        Signaller(unsafe { NonNull::new_unchecked(bindings::eprog_get_pid(self.pid.as_ptr())) })
    }

    fn kill_and_wait(&self) {
        // SAFETY: `pid` is valid (invariant). kill_pid() fails harmlessly
        // (ESRCH) once the process is gone, and SIGKILL from outside its
        // namespace ends even a namespace's init, so the wait returns.
        unsafe {
            bindings::kill_pid(self.pid.as_ptr(), kernel::bindings::SIGKILL as i32, 1);
            bindings::eprog_wait_for_end(self.pid.as_ptr());
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill_and_wait();
        // SAFETY: Drops the references this value owns (invariant).
        unsafe {
            bindings::eprog_put_task(self.task.as_ptr());
            bindings::put_pid(self.pid.as_ptr());
        }
    }
}

/// A reference to a helper's pid, only to kill it: the channel uses it
/// when the helper's stdin is out of step. Its owner still waits for the
/// process's end.
///
/// # Invariants
///
/// `self.0` is a pid reference owned by this value.
pub(crate) struct Signaller(NonNull<bindings::pid>);

// SAFETY: A pid reference may be used and dropped from any thread.
unsafe impl Send for Signaller {}
// SAFETY: `kill` may be called from any thread at any time.
unsafe impl Sync for Signaller {}

impl Signaller {
    /// Sends the process `SIGKILL`; harmless if it has already ended.
    pub(crate) fn kill(&self) {
        // SAFETY: The pid is valid (invariant); kill_pid() fails harmlessly
        // (ESRCH) once the process is gone.
        unsafe { bindings::kill_pid(self.0.as_ptr(), kernel::bindings::SIGKILL as i32, 1) };
    }
}

impl Clone for Signaller {
    fn clone(&self) -> Self {
        // SAFETY: The pid is valid (invariant); the new value owns the new
        // reference.
        Self(unsafe { NonNull::new_unchecked(bindings::eprog_get_pid(self.0.as_ptr())) })
    }
}

impl Drop for Signaller {
    fn drop(&mut self) {
        // SAFETY: Drops the reference this value owns (invariant).
        unsafe { bindings::put_pid(self.0.as_ptr()) };
    }
}
