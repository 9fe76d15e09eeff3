// SPDX-License-Identifier: GPL-2.0

//! Output to the kernel: everything written to fd 1 becomes kernel log lines
//! (in log frames once the helper opened the channel).

use crate::syscall;

/// Standard output, as a `core::fmt::Write` sink for `write!`.
pub struct Stdout;

/// Writes all of `bytes` to stdout, as log frames once the helper opened
/// the channel; stops early only if stdout is gone.
pub fn print(mut bytes: &[u8]) {
    if crate::channel::framed() {
        crate::channel::log(bytes);
        return;
    }
    while !bytes.is_empty() {
        let n = syscall::write(1, bytes);
        if n <= 0 {
            return;
        }
        bytes = bytes.get(n as usize..).unwrap_or_default();
    }
}

impl core::fmt::Write for Stdout {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        print(s.as_bytes());
        Ok(())
    }
}

/// Formats `n` in decimal into `buf`; returns the digits.
pub fn decimal<const N: usize>(n: impl Into<u64>, buf: &mut [u8; N]) -> &[u8] {
    let mut n: u64 = n.into();
    let mut start = buf.len();
    for (i, digit) in buf.iter_mut().enumerate().rev() {
        *digit = b'0' + (n % 10) as u8;
        n /= 10;
        start = i;
        if n == 0 {
            break;
        }
    }
    buf.get(start..).unwrap_or_default()
}
