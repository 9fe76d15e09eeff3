// SPDX-License-Identifier: GPL-2.0

//! eprog: runs a user-space helper embedded in the module image and relays
//! its standard output to the kernel log.
//!
//! At init the helper and its launcher are copied into a private tmpfs
//! (`umd_load_blob`); a supervisor thread starts the launcher
//! (`fork_usermode_driver`), which starts the helper as the init of a pid
//! namespace of its own, logs each line the helper writes as
//! `eprog: From userspace: <line>`, and restarts it when it ends, as the
//! `restart` parameter says. A helper that opens the channel (`frame.rs`)
//! can be called like a function: from Rust through [`channel::Channel`],
//! from other modules through `eprog_call()` (`eprog.h`), and from user
//! space through `/dev/eprog` (`device.c`). Operators watch it in sysfs
//! (`state.rs`) and start and stop it there (`control.rs`). When the helper
//! ends, so does everything it started. Unloading kills it, waits for it,
//! and frees everything. Where
//! the kernel has no User Mode Driver API (a stock 6.12, where nothing
//! selects it; Linux 6.17 and later, which removed it), eprog's own core
//! (`umd_core.c`, part of eprog) does the same under its names.

use kernel::prelude::*;

mod bindings;
mod blob;
mod channel;
mod client;
mod clock;
// As `frame`; the launcher decodes what the module encodes.
#[allow(unreachable_pub, dead_code)]
mod confinement;
mod control;
mod device;
mod file;
// Also the host crate's public API (for its tests), hence `pub` items.
#[allow(unreachable_pub)]
mod frame;
mod helper;
mod inbound;
mod kernel_api;
mod params;
mod process;
mod reader;
// As `frame`.
#[allow(unreachable_pub)]
mod relay;
mod run;
mod state;
mod steps;
mod supervisor;
mod umd;

use helper::{Doorway, Helper};

/// `module!` for this module, with the author key of the target kernel's
/// `module!` (see `kernel_api.rs`).
macro_rules! eprog_module {
    ($($author:tt)*) => {
        module! {
            type: Eprog,
            name: "eprog",
            $($author)*
            description: "Runs an embedded user-space helper and relays its output to the kernel log",
            license: "GPL",
        }
    };
}
#[cfg(eprog_module_authors)]
eprog_module!(authors: ["eprog developers"],);
#[cfg(not(eprog_module_authors))]
eprog_module!(author: "eprog developers",);

/// The executable's name in its tmpfs, which is also the process name.
/// The launcher runs it by this name.
pub(crate) const HELPER_NAME: &CStr = kernel::c_str!("eprog_user");

/// The launcher's name in the same tmpfs (see `umh/src/launch.rs`).
pub(crate) const LAUNCHER_NAME: &CStr = kernel::c_str!("eprog_launch");

/// The default helper's name, in the list of helpers (`state.rs`).
const DEFAULT_NAME: &CStr = kernel::c_str!("eprog");

struct Eprog {
    _helper: Helper,
}

impl kernel::Module for Eprog {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let params = params::Params::get()?;
        pr_info!("starting the helper with {}\n", umd::ROUTE);
        let umd = blob::load(LAUNCHER_NAME, HELPER_NAME)
            .inspect_err(|e| pr_err!("loading the helper failed: {:?}\n", e))?;
        let doorway = Doorway {
            device: DEFAULT_NAME,
            serves_eprog_call: true,
            owner: core::ptr::null_mut(),
        };
        Ok(Eprog {
            _helper: Helper::start(DEFAULT_NAME, umd, params, doorway)?,
        })
    }
}
