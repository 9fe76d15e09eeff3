// SPDX-License-Identifier: GPL-2.0

//! Time, for everyone: milliseconds on the monotonic clock.

use crate::bindings;

/// Milliseconds on the monotonic clock.
pub(crate) fn now_ms() -> u64 {
    // SAFETY: No preconditions.
    unsafe { bindings::eprog_now_ms() }
}
