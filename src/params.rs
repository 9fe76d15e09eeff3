// SPDX-License-Identifier: GPL-2.0

//! The module parameters (declared in `umd_glue.c`), read once at init.

use kernel::prelude::*;
use kernel::str::CStr;

use crate::bindings;
use crate::frame::MESSAGE_MAX;
use crate::kernel_api;

/// Most calls in flight that `max_inflight` may allow.
const MAX_INFLIGHT_MAX: u32 = 1024;

/// When the supervisor starts the helper again after it ended.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Restart {
    Never,
    /// After a non-zero exit status or a fatal signal.
    OnFailure,
    Always,
}

/// eprog's settings, validated.
pub(crate) struct Params {
    pub(crate) interval_ms: u32,
    pub(crate) helper_args: &'static CStr,
    pub(crate) restart: Restart,
    /// Most restarts in a row.
    pub(crate) restart_limit: u32,
    /// A run at least this long ends the row: count and backoff start over.
    pub(crate) restart_reset_ms: u32,
    pub(crate) start_timeout_ms: u32,
    pub(crate) ratelimit_burst: u32,
    pub(crate) ratelimit_interval_ms: u32,
    /// Most channel calls in flight at once.
    pub(crate) max_inflight: u32,
    /// Longest request or reply on the channel, in bytes.
    pub(crate) max_message: u32,
}

impl Params {
    /// Reads the parameters; an unknown `restart` policy, or a channel
    /// setting out of its range, is `EINVAL`.
    pub(crate) fn get() -> Result<Self> {
        let mut raw = bindings::eprog_params::default();
        // SAFETY: `raw` is valid for writes; the function fills it in.
        unsafe { bindings::eprog_get_params(&mut raw) };
        // SAFETY: The strings are module parameters: NUL-terminated, never
        // null (the glue substitutes ""), and read-only (mode 0444), so they
        // live, unchanged, as long as the module.
        let (restart, helper_args) = unsafe {
            (
                CStr::from_char_ptr(raw.restart),
                CStr::from_char_ptr(raw.helper_args),
            )
        };
        let restart = match kernel_api::c_str_bytes(restart) {
            b"never" => Restart::Never,
            b"on-failure" => Restart::OnFailure,
            b"always" => Restart::Always,
            _ => {
                pr_err!(
                    "restart={} is not one of never, on-failure, always\n",
                    restart
                );
                return Err(EINVAL);
            }
        };
        if raw.max_inflight == 0 || raw.max_inflight > MAX_INFLIGHT_MAX {
            pr_err!(
                "max_inflight={} is not in 1..={}\n",
                raw.max_inflight,
                MAX_INFLIGHT_MAX
            );
            return Err(EINVAL);
        }
        if raw.max_message == 0 || raw.max_message > MESSAGE_MAX {
            pr_err!(
                "max_message={} is not in 1..={}\n",
                raw.max_message,
                MESSAGE_MAX
            );
            return Err(EINVAL);
        }
        Ok(Self {
            interval_ms: raw.interval_ms,
            helper_args,
            restart,
            restart_limit: raw.restart_limit,
            restart_reset_ms: raw.restart_reset_ms,
            start_timeout_ms: raw.start_timeout_ms,
            ratelimit_burst: raw.ratelimit_burst,
            ratelimit_interval_ms: raw.ratelimit_interval_ms,
            max_inflight: raw.max_inflight,
            max_message: raw.max_message,
        })
    }
}
