// SPDX-License-Identifier: GPL-2.0

//! Where a round trip's time goes, for `make bench` only (see `steps.h`):
//! its step build stamps each step; in the product a stamp is nothing.

use crate::bindings;

/// A step of a call's round trip (`enum eprog_step`).
#[derive(Clone, Copy)]
#[repr(u32)]
pub(crate) enum Step {
    /// The caller has its turn to write the request.
    Writing = bindings::eprog_step_EPROG_STEP_WRITING,
    /// A reader (the caller itself) has read the reply.
    Read = bindings::eprog_step_EPROG_STEP_READ,
    /// The caller has its reply.
    Replied = bindings::eprog_step_EPROG_STEP_REPLIED,
}

/// Stamps `step` with the time.
#[cfg(eprog_bench_steps)]
pub(crate) fn stamp(step: Step) {
    // SAFETY: No preconditions; the value is one of the enum's.
    unsafe { bindings::eprog_step(step as u32) };
}

/// Nothing: the product does not stamp.
#[cfg(not(eprog_bench_steps))]
#[inline(always)]
pub(crate) fn stamp(_step: Step) {}
