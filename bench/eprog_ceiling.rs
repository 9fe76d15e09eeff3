// SPDX-License-Identifier: GPL-2.0

//! The ceiling for eprog's relay throughput: the same lines the relay logs,
//! printed from a kernel loop at init. `make bench` compares the two rates
//! in the same boot.

use kernel::prelude::*;

module! {
    type: Ceiling,
    name: "eprog_ceiling",
    author: "eprog developers",
    description: "printk throughput yardstick for eprog's benchmark",
    license: "GPL",
}

/// As many lines as the benchmark's flooding helper writes.
const LINES: u32 = 20_000;

struct Ceiling;

impl kernel::Module for Ceiling {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        for n in 0..LINES {
            pr_info!("From userspace: flood {:010}\n", n);
        }
        Ok(Ceiling)
    }
}
