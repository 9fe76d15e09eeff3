// SPDX-License-Identifier: GPL-2.0

//! The helper's state as operators see it, kept in `state.c`'s C-layout
//! record (sysfs and drgn read it there): what the supervisor thread
//! reports of the life cycle, and counters that anyone may bump.

use kernel::prelude::*;
use kernel::str::CString;

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

/// Moves the helper to `state`, and tells user space (a uevent).
pub(crate) fn set(state: HelperState) {
    // SAFETY: No preconditions; the value is one of the enum's.
    unsafe { bindings::eprog_state_set(state as u32) };
}

/// A run began: the helper has `pid` (in the initial namespace).
pub(crate) fn run_began(pid: i32) {
    // SAFETY: No preconditions.
    unsafe { bindings::eprog_state_run_began(pid) };
}

/// The run's helper never ran (its confinement or exec failed, and the
/// launcher's child exited with the errno `e`): there is no helper, so no
/// pid and no run time, and the last exit says why.
pub(crate) fn run_not_started(e: Error) {
    // The launcher's child's wait status: it exited with the errno.
    let text = CString::try_from_fmt(kernel_api::fmt!("failed to start: {:?}", e));
    ended((-e.to_errno()) << 8, text);
}

/// The run ended so.
pub(crate) fn run_ended(status: ExitStatus) {
    ended(
        status.wait_status(),
        CString::try_from_fmt(kernel_api::fmt!("{}", status)),
    );
}

/// No helper runs any more: the last one's wait status, and how the log
/// said it ended (cut to the record's field if need be).
fn ended(status: i32, text: Result<CString>) {
    let text = text.as_deref().unwrap_or(kernel::c_str!("?"));
    // SAFETY: `text` is NUL-terminated and lives during the call, which
    // copies it.
    unsafe { bindings::eprog_state_run_ended(status, text.as_char_ptr()) };
}

/// The supervisor restarts the helper, the `in_row`th time in a row; 0
/// starts a new row.
pub(crate) fn restarting(in_row: u32) {
    // SAFETY: No preconditions.
    unsafe { bindings::eprog_state_restarting(in_row) };
}

/// Adds `n` to `counter`; returns its new value.
pub(crate) fn count(counter: Counter, n: u64) -> u64 {
    add(counter as u32, n)
}

/// Counts a call that failed with `e`.
pub(crate) fn count_failed(e: Error) {
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
    add(counter, 1);
}

fn add(counter: u32, n: u64) -> u64 {
    // SAFETY: No preconditions; `counter` is one of the enum's.
    unsafe { bindings::eprog_state_count(counter, n) }
}
