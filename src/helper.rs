// SPDX-License-Identifier: GPL-2.0

//! One helper: what a helper owns, from its start to its end. Its record
//! (`state.rs`) is on the list of helpers that sysfs and drgn read, under
//! its name; its supervisor runs it (`supervisor.rs`); its doors, the
//! device and the control, reach its channel (`device.rs`).

use kernel::ffi::c_void;
use kernel::prelude::*;
use kernel::str::CStr;
use kernel::sync::Arc;

use crate::bindings;
use crate::channel::Channel;
use crate::control::Control;
use crate::device::{Device, Doors};
use crate::params::Params;
use crate::state::State;
use crate::supervisor::Supervisor;
use crate::umd::Umd;

/// Where a helper's doors are, whether `eprog_call()` calls it, and whom
/// an open device holds.
pub(crate) struct Doorway<'a> {
    /// The misc device's name: `/dev/<device>`, `/sys/class/misc/<device>/`.
    pub(crate) device: &'a CStr,
    pub(crate) serves_eprog_call: bool,
    /// The client module that registered the helper; null for eprog's own.
    /// It outlives the helper: the client unregisters before it unloads.
    pub(crate) owner: *mut bindings::module,
}

/// A running helper. Fields drop in order: the doors close, then the helper
/// ends; its record goes with the last reference to it.
pub(crate) struct Helper {
    device: Device,
    _supervisor: Supervisor,
}

impl Helper {
    /// Starts the helper `name`, loaded in `umd`, as `params` say, and opens
    /// its doors; as a module, waits for its first line (see
    /// [`Supervisor::wait_for_first_line`]). `EEXIST` if a helper of that
    /// name runs.
    pub(crate) fn start(
        name: &CStr,
        umd: Umd,
        params: Params,
        doorway: Doorway<'_>,
    ) -> Result<Self> {
        let state = State::new(name)?;
        let channel = Arc::pin_init(
            Channel::new(params.max_inflight, params.max_message)?,
            GFP_KERNEL,
        )?;
        let control = Arc::pin_init(Control::new(params.autostart, state.clone()), GFP_KERNEL)?;
        if !params.autostart {
            pr_info!(
                "autostart=0: the helper waits for 'start' in /sys/class/misc/{}/control\n",
                doorway.device
            );
            // Calls fail until then.
            channel.close();
        }
        let supervisor =
            Supervisor::spawn(umd, params, channel.clone(), control.clone(), state.clone())
                .inspect_err(|e| pr_err!("starting the supervisor failed: {:?}\n", e))?;
        supervisor.wait_for_first_line()?;
        let doors = Doors {
            channel,
            control,
            state,
        };
        // SAFETY: The owner outlives the helper (see `Doorway`).
        let device = unsafe {
            Device::register(
                doorway.device,
                doors,
                doorway.serves_eprog_call,
                doorway.owner,
            )
        }
        .inspect_err(|e| pr_err!("registering /dev/{} failed: {:?}\n", doorway.device, e))?;
        Ok(Self {
            device,
            _supervisor: supervisor,
        })
    }

    /// What a call reaches the helper through (see `device.rs`).
    pub(crate) fn doors(&self) -> *const c_void {
        self.device.doors()
    }
}
