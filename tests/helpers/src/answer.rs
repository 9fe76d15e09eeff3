// SPDX-License-Identifier: GPL-2.0

//! The benchmark's yardstick for the channel: one process per request, as
//! `call_usermodehelper()` runs a program. It gets the request as its
//! argument, `echo <text>`, and answers with its exit status: the length
//! of `<text>`. Built on the umh runtime, the smallest static program eprog
//! can make, so the comparison gives the per-request way its best case.
#![no_std]
#![no_main]

// A program that call_usermodehelper() runs is not locked down: skipping
// the filter keeps the yardstick at its best.
umh::main!(main, unconfined);

fn main() -> i32 {
    match umh::arg(1).map(|a| a.to_bytes()) {
        Some(request) => request
            .strip_prefix(b"echo ")
            .map_or(255, |t| t.len() as i32),
        None => 255,
    }
}
