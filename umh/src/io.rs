// SPDX-License-Identifier: GPL-2.0

//! Output to the kernel: everything written to fd 1 becomes kernel log lines.

use crate::syscall;

/// Standard output, as a `core::fmt::Write` sink for `write!`.
pub struct Stdout;

/// Writes all of `bytes` to stdout; stops early only if stdout is gone.
pub fn print(mut bytes: &[u8]) {
    while !bytes.is_empty() {
        let n = syscall::write(1, bytes);
        if n <= 0 {
            return;
        }
        bytes = &bytes[n as usize..];
    }
}

impl core::fmt::Write for Stdout {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        print(s.as_bytes());
        Ok(())
    }
}
