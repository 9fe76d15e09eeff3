// SPDX-License-Identifier: GPL-2.0

//! eprog: runs a user-space helper embedded in the module image and relays
//! its standard output to the kernel log.
//!
//! At init the helper is copied into a private tmpfs (`umd_load_blob`) and
//! started (`fork_usermode_driver`); a kernel thread reads its stdout pipe
//! and logs each line as `eprog: From userspace: <line>`. Unloading kills
//! the helper, waits for it, and frees everything.

use kernel::prelude::*;
use kernel::str::CString;

mod bindings;
mod blob;
mod file;
// Also the host crate's public API (for its tests), hence `pub` items.
#[allow(unreachable_pub)]
mod relay;
mod relay_thread;
mod umd;

use relay_thread::RelayThread;
use umd::Umd;

module! {
    type: Eprog,
    name: "eprog",
    author: "eprog developers",
    description: "Runs an embedded user-space helper and relays its output to the kernel log",
    license: "GPL",
}

/// The executable's name in its tmpfs, which is also the process name.
const HELPER_NAME: &CStr = kernel::c_str!("eprog_user");

struct Eprog {
    // Field order is drop order: the relay thread ends (the helper is
    // already dead, see `Drop`) before the helper's tmpfs goes away.
    _relay: RelayThread,
    helper: Umd,
}

impl kernel::Module for Eprog {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let mut helper = blob::load(HELPER_NAME)
            .inspect_err(|e| pr_err!("loading the helper failed: {:?}\n", e))?;
        let pipes = helper
            .start()
            .inspect_err(|e| pr_err!("starting the helper failed: {:?}\n", e))?;
        // The helper's only configuration channel: it gets no arguments and
        // no environment. A pipe this new has room for the line.
        let config = CString::try_from_fmt(kernel::fmt!("interval_ms={}\n", interval_ms()))?;
        pipes.stdin.write(config.as_bytes())?;
        let relay = RelayThread::spawn(pipes.stdout)?;
        pr_info!("helper {} started, pid {}\n", HELPER_NAME, helper.pid());
        Ok(Eprog {
            _relay: relay,
            helper,
        })
    }
}

impl Drop for Eprog {
    fn drop(&mut self) {
        // Kill first: the relay thread then sees end of file and ends.
        self.helper.stop();
        pr_info!("helper stopped\n");
    }
}

fn interval_ms() -> u32 {
    // SAFETY: Reads a module parameter; no preconditions.
    unsafe { bindings::eprog_interval_ms() }
}
