// SPDX-License-Identifier: GPL-2.0

//! A helper's settings: the default helper's from the module parameters
//! (declared in `umd_glue.c`), read once at init; a client helper's from
//! its descriptor (`eprog.h`) and the parameters' defaults.

use kernel::prelude::*;
use kernel::str::{CStr, CString};

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

/// A helper's settings, validated.
pub(crate) struct Params {
    /// The first line of the helper's stdin, without its newline.
    pub(crate) config: CString,
    /// What the helper's log lines begin with, after eprog's own prefix:
    /// empty for the default helper, `<name>: ` for a client's.
    pub(crate) prefix: CString,
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
        // SAFETY: A module parameter: NUL-terminated, never null (the glue
        // substitutes ""), and read-only (mode 0444), so it lives, unchanged,
        // as long as the module.
        let args = unsafe { CStr::from_char_ptr(raw.helper_args) };
        let config =
            CString::try_from_fmt(kernel_api::fmt!("interval_ms={} {}", raw.interval_ms, args))?;
        Self::from_raw(&raw, config, CString::try_from_fmt(kernel_api::fmt!(""))?)
    }

    /// The settings of the client helper `name`: `config` is its
    /// configuration line, `restart` its policy's name; the rest is the
    /// parameters' defaults.
    pub(crate) fn client(config: &CStr, restart: &CStr, name: &CStr) -> Result<Self> {
        let mut raw = bindings::eprog_params::default();
        // SAFETY: `raw` is valid for writes; the strings are NUL-terminated
        // and outlive `raw`'s use below.
        unsafe {
            bindings::eprog_params_of_client(&mut raw, config.as_char_ptr(), restart.as_char_ptr())
        };
        let config = CString::try_from_fmt(kernel_api::fmt!("{}", config))?;
        let prefix = CString::try_from_fmt(kernel_api::fmt!("{}: ", name))?;
        Self::from_raw(&raw, config, prefix)
    }

    /// Validates `raw`, whose strings are valid while this runs.
    fn from_raw(raw: &bindings::eprog_params, config: CString, prefix: CString) -> Result<Self> {
        // SAFETY: By the function's requirements: NUL-terminated, not null.
        let (restart, helper_root) = unsafe {
            (
                CStr::from_char_ptr(raw.restart),
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
        let confinement = confinement(raw, helper_root)?;
        Ok(Self {
            config,
            prefix,
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
