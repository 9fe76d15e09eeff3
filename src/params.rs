// SPDX-License-Identifier: GPL-2.0

//! The module parameters (declared in `umd_glue.c`), read once at init.

use kernel::prelude::*;
use kernel::str::CStr;

use crate::bindings;
use crate::confinement::Confinement;
use crate::frame::MESSAGE_MAX;
use crate::kernel_api;

/// Most open files that `helper_nofile` may allow: the kernel's default
/// `fs.nr_open`.
const NOFILE_MAX: u32 = 1 << 20;

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
    /// Start the helper at load; else only on the operator's `start`.
    pub(crate) autostart: bool,
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
    /// What the helper may do.
    pub(crate) confinement: Confinement,
}

impl Params {
    /// Reads the parameters; an unknown `restart` policy or `helper_root`,
    /// or a setting out of its range, is `EINVAL`.
    pub(crate) fn get() -> Result<Self> {
        let mut raw = bindings::eprog_params::default();
        // SAFETY: `raw` is valid for writes; the function fills it in.
        unsafe { bindings::eprog_get_params(&mut raw) };
        // SAFETY: The strings are module parameters: NUL-terminated, never
        // null (the glue substitutes ""), and read-only (mode 0444), so they
        // live, unchanged, as long as the module.
        let (restart, helper_args, helper_root) = unsafe {
            (
                CStr::from_char_ptr(raw.restart),
                CStr::from_char_ptr(raw.helper_args),
                CStr::from_char_ptr(raw.helper_root),
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
        let confinement = confinement(&raw, helper_root)?;
        Ok(Self {
            interval_ms: raw.interval_ms,
            helper_args,
            restart,
            autostart: raw.autostart,
            restart_limit: raw.restart_limit,
            restart_reset_ms: raw.restart_reset_ms,
            start_timeout_ms: raw.start_timeout_ms,
            ratelimit_burst: raw.ratelimit_burst,
            ratelimit_interval_ms: raw.ratelimit_interval_ms,
            max_inflight: raw.max_inflight,
            max_message: raw.max_message,
            confinement,
        })
    }
}

/// The helper's confinement from the `helper_*` parameters.
fn confinement(raw: &bindings::eprog_params, root: &CStr) -> Result<Confinement> {
    let host_root = match kernel_api::c_str_bytes(root) {
        b"private" => false,
        b"host" => true,
        _ => {
            pr_err!("helper_root={} is not one of private, host\n", root);
            return Err(EINVAL);
        }
    };
    // -1 would leave the id unchanged: root's.
    for (name, id) in [
        ("helper_uid", raw.helper_uid),
        ("helper_gid", raw.helper_gid),
    ] {
        if id == u32::MAX {
            pr_err!("{}={} is not an id\n", name, id);
            return Err(EINVAL);
        }
    }
    if raw.helper_caps >> raw.last_cap >> 1 != 0 {
        pr_err!(
            "helper_caps={:#x} has bits past the last capability ({})\n",
            raw.helper_caps,
            raw.last_cap
        );
        return Err(EINVAL);
    }
    if raw.helper_nofile == 0 || raw.helper_nofile > NOFILE_MAX {
        pr_err!(
            "helper_nofile={} is not in 1..={}\n",
            raw.helper_nofile,
            NOFILE_MAX
        );
        return Err(EINVAL);
    }
    Ok(Confinement {
        uid: raw.helper_uid,
        gid: raw.helper_gid,
        caps: raw.helper_caps,
        host_root,
        address_space: match raw.helper_as_mib {
            0 => u64::MAX,
            mib => u64::from(mib) << 20,
        },
        open_files: raw.helper_nofile,
    })
}
