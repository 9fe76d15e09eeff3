// SPDX-License-Identifier: GPL-2.0

//! eprog's default helper: says hello to the kernel log at a fixed interval.
#![no_std]
#![no_main]

umh::main!(main);

/// Five seconds, as in the C driver eprog grew from.
const DEFAULT_INTERVAL_MS: u32 = 5000;

fn main() -> i32 {
    let mut buf = [0u8; 128];
    let config = umh::read_config_line(&mut buf);
    let interval = umh::config_value(config, b"interval_ms").unwrap_or(DEFAULT_INTERVAL_MS);
    loop {
        umh::print(b"Hello, world!\n");
        umh::sleep_ms(interval);
    }
}
