// SPDX-License-Identifier: GPL-2.0

//! A helper's state as operators see it, kept in `state.c`'s C-layout
//! record (sysfs and drgn read it there): what its supervisor thread
//! reports of the life cycle, and counters that anyone may bump.

use core::ptr::NonNull;
use kernel::error::to_result;
use kernel::prelude::*;
use kernel::str::{CStr, CString};
use kernel::sync::Arc;

use crate::bindings;
use crate::kernel_api::{self, code};
use crate::process::ExitStatus;

/// Where the helper is in its life cycle (`enum eprog_helper_state`).
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub(crate) enum HelperState {
    Stopped = bindings::eprog_helper_state_EPROG_STOPPED,
    Starting = bindings::eprog_helper_state_EPROG_STARTING,
    Running = bindings::eprog_helper_state_EPROG_RUNNING,
    Backoff = bindings::eprog_helper_state_EPROG_BACKOFF,
    Failed = bindings::eprog_helper_state_EPROG_FAILED,
}

/// What the counters count (`enum eprog_counter`).
#[derive(Clone, Copy)]
#[repr(u32)]
pub(crate) enum Counter {
    RecordsRelayed = bindings::eprog_counter_EPROG_RECORDS_RELAYED,
    RecordsSuppressed = bindings::eprog_counter_EPROG_RECORDS_SUPPRESSED,
    Calls = bindings::eprog_counter_EPROG_CALLS,
    LateReplies = bindings::eprog_counter_EPROG_LATE_REPLIES,
    ProtocolErrors = bindings::eprog_counter_EPROG_PROTOCOL_ERRORS,
}

/// One helper's state record, on the list that sysfs and drgn read
/// (`state.c`). Dropping the last reference frees it.
///
/// # Invariants
///
/// `record` is a record from `eprog_state_new`, owned by this value.
pub(crate) struct State {
    record: NonNull<bindings::eprog_state>,
}

// SAFETY: The record's writers take its lock or use atomics (`state.c`), and
// it may be freed from any thread.
unsafe impl Send for State {}
// SAFETY: As above.
unsafe impl Sync for State {}

impl State {
    /// The record of the helper `name`; `EEXIST` if one of that name has one.
    pub(crate) fn new(name: &CStr) -> Result<Arc<Self>> {
        let mut record = core::ptr::null_mut();
        // SAFETY: `name` is NUL-terminated; the function copies it.
        to_result(unsafe { bindings::eprog_state_new(name.as_char_ptr(), &mut record) })?;
        let record = NonNull::new(record).ok_or(EINVAL)?;
        // If this fails, dropping the value frees the record.
        Ok(Arc::new(Self { record }, GFP_KERNEL)?)
    }

    /// The record, for `device.c`, which reads it while the device is
    /// registered.
    pub(crate) fn as_ptr(&self) -> *mut bindings::eprog_state {
        self.record.as_ptr()
    }

    /// Moves the helper to `state`, and tells user space (a uevent).
    pub(crate) fn set(&self, state: HelperState) {
        // SAFETY: The record is valid (invariant); the value is one of the
        // enum's.
        unsafe { bindings::eprog_state_set(self.as_ptr(), state as u32) };
    }

    /// A run began: the helper has `pid` (in the initial namespace).
    pub(crate) fn run_began(&self, pid: i32) {
        // SAFETY: The record is valid (invariant).
        unsafe { bindings::eprog_state_run_began(self.as_ptr(), pid) };
    }

    /// The run's helper never ran (its confinement or exec failed, and the
    /// launcher's child exited with the errno `e`): there is no helper, so
    /// no pid and no run time, and the last exit says why.
    pub(crate) fn run_not_started(&self, e: Error) {
        // The launcher's child's wait status: it exited with the errno.
        let text = CString::try_from_fmt(kernel_api::fmt!("failed to start: {:?}", e));
        self.ended((-e.to_errno()) << 8, text);
    }

    /// The run ended so.
    pub(crate) fn run_ended(&self, status: ExitStatus) {
        self.ended(
            status.wait_status(),
            CString::try_from_fmt(kernel_api::fmt!("{}", status)),
        );
    }

    /// No helper runs any more: the last one's wait status, and how the log
    /// said it ended (cut to the record's field if need be).
    fn ended(&self, status: i32, text: Result<CString>) {
        let text = text.as_deref().unwrap_or(kernel::c_str!("?"));
        // SAFETY: The record is valid (invariant); `text` is NUL-terminated
        // and lives during the call, which copies it.
        unsafe { bindings::eprog_state_run_ended(self.as_ptr(), status, text.as_char_ptr()) };
    }

    /// The supervisor restarts the helper, the `in_row`th time in a row; 0
    /// starts a new row.
    pub(crate) fn restarting(&self, in_row: u32) {
        // SAFETY: The record is valid (invariant).
        unsafe { bindings::eprog_state_restarting(self.as_ptr(), in_row) };
    }

    /// Adds `n` to `counter`; returns its new value.
    pub(crate) fn count(&self, counter: Counter, n: u64) -> u64 {
        self.add(counter as u32, n)
    }

    /// Counts a call that failed with `e`.
    pub(crate) fn count_failed(&self, e: Error) {
        let counter = [
            (
                code!(ETIMEDOUT),
                bindings::eprog_counter_EPROG_FAILED_ETIMEDOUT,
            ),
            (
                code!(ECONNRESET),
                bindings::eprog_counter_EPROG_FAILED_ECONNRESET,
            ),
            (code!(EPROTO), bindings::eprog_counter_EPROG_FAILED_EPROTO),
            (
                code!(EOPNOTSUPP),
                bindings::eprog_counter_EPROG_FAILED_EOPNOTSUPP,
            ),
            (EPIPE, bindings::eprog_counter_EPROG_FAILED_EPIPE),
            (
                code!(ESHUTDOWN),
                bindings::eprog_counter_EPROG_FAILED_ESHUTDOWN,
            ),
            (
                code!(EMSGSIZE),
                bindings::eprog_counter_EPROG_FAILED_EMSGSIZE,
            ),
            (code!(ENOBUFS), bindings::eprog_counter_EPROG_FAILED_ENOBUFS),
            (EINTR, bindings::eprog_counter_EPROG_FAILED_EINTR),
        ]
        .into_iter()
        .find(|(errno, _)| *errno == e)
        .map_or(bindings::eprog_counter_EPROG_FAILED_OTHER, |(_, c)| c);
        self.add(counter, 1);
    }

    fn add(&self, counter: u32, n: u64) -> u64 {
        // SAFETY: The record is valid (invariant); `counter` is one of the
        // enum's.
        unsafe { bindings::eprog_state_count(self.as_ptr(), counter, n) }
    }
}

impl Drop for State {
    fn drop(&mut self) {
        // SAFETY: Owned by this value (invariant); the last reference is
        // gone, and `device.c` no longer reads it (its `Device` holds one).
        unsafe { bindings::eprog_state_free(self.as_ptr()) };
    }
}
