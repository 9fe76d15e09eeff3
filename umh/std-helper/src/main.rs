// SPDX-License-Identifier: GPL-2.0

//! eprog's hello helper with Rust's std.
//!
//! eprog starts its helper with fd 2 closed and maybe no `/dev/null`. std's
//! usual start-up (`fn main`) then aborts: it opens `/dev/null` for closed
//! standard descriptors and gives up if it cannot. `#![no_main]` with a C
//! `main` skips that start-up; all of std still works once running.
#![no_main]

use std::io::{BufRead, Write};
use std::time::Duration;

extern "C" {
    fn dup2(old: i32, new: i32) -> i32;
    fn fcntl(fd: i32, cmd: i32, ...) -> i32;
}

/// Points a closed fd 2 at stdout, so stderr and panics reach the kernel
/// log, and a file opened later does not become fd 2 by accident.
fn route_stderr_to_stdout() {
    const F_GETFD: i32 = 1;
    // SAFETY: F_GETFD and dup2 take plain integers and touch no memory.
    unsafe {
        if fcntl(2, F_GETFD) < 0 {
            dup2(1, 2);
        }
    }
}

fn interval_ms(config: &str) -> Option<u64> {
    config
        .split(' ')
        .find_map(|pair| pair.strip_prefix("interval_ms=")?.parse().ok())
}

#[no_mangle]
extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
    route_stderr_to_stdout();
    let mut config = String::new();
    let _ = std::io::stdin().lock().read_line(&mut config);
    let interval = Duration::from_millis(interval_ms(config.trim_end()).unwrap_or(5000));
    let mut stdout = std::io::stdout().lock();
    loop {
        if writeln!(stdout, "Hello, world!")
            .and_then(|()| stdout.flush())
            .is_err()
        {
            return 1;
        }
        std::thread::sleep(interval);
    }
}
