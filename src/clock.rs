// SPDX-License-Identifier: GPL-2.0

//! Time, for everyone: milliseconds on the monotonic clock.

use kernel::prelude::*;

use crate::bindings;
use crate::kernel_api::code;

/// Milliseconds on the monotonic clock.
pub(crate) fn now_ms() -> u64 {
    // SAFETY: No preconditions.
    unsafe { bindings::eprog_now_ms() }
}

/// The milliseconds left until `deadline`; `ETIMEDOUT` once it has passed.
pub(crate) fn left_until(deadline: u64) -> Result<u64> {
    match deadline.saturating_sub(now_ms()) {
        0 => Err(code!(ETIMEDOUT)),
        left => Ok(left),
    }
}
