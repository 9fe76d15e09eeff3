// SPDX-License-Identifier: GPL-2.0

//! A channel helper for the QEMU tests: it serves calls, and misbehaves on
//! request. The configuration line picks the mode (`mode=<name>`):
//!
//! - `serve` (default): answers each request by its verb:
//!   `echo <bytes>`, `sleep <ms> <bytes>` (answers late), `log <bytes>`
//!   (logs them, then answers `logged`), `flood <n>` (logs `flood` n
//!   times, then answers `flooded`), `big <n>` (n bytes of `x`), and
//!   the protocol breakers `forge [id]` (a reply to a call never made, or
//!   to call `id`),
//!   `oversize [ms]` (after ms, a frame over any `max_message`), `badkind`
//!   (a frame of kind 9) and `hang` (never reads or answers again);
//! - `gather`: reads requests until none comes for 300 ms, logs how many
//!   it holds (`gathered <n>`), then answers them in reverse order;
//! - `text`: a plain-text helper that never opens the channel, and says
//!   `stdin closed` when it reads the end of its stdin;
//! - `close-stdin`: opens the channel, closes its stdin, and lives on.
//!
//! `delay_ms=N` on the line makes it wait N ms before it starts.
#![no_std]
#![no_main]

use umh::channel::{read_request, send_reply, MESSAGE_MAX};

umh::main!(main);

fn main() -> i32 {
    let mut buf = [0u8; 128];
    let line = umh::read_config_line(&mut buf);
    let mode = line
        .split(|&b| b == b' ')
        .find_map(|pair| pair.strip_prefix(b"mode="))
        .unwrap_or(b"serve");
    // Opens the channel only after `delay_ms=N`, e.g. for calls that must
    // wait for a restarted helper.
    if let Some(ms) = line
        .split(|&b| b == b' ')
        .find_map(|pair| pair.strip_prefix(b"delay_ms="))
    {
        umh::sleep_ms(number(ms));
    }
    match mode {
        b"gather" => gather(),
        b"close-stdin" => {
            // Opens the channel, closes its stdin, and lives on.
            umh::channel::open();
            umh::close(0);
            loop {
                umh::sleep_ms(1000);
            }
        }
        b"text" => {
            // Once it has said something, a plain-text helper's stdin ends.
            umh::print(b"plain text, no channel\n");
            let mut rest = [0u8; 64];
            while umh::read(0, &mut rest) > 0 {}
            umh::print(b"stdin closed\n");
            loop {
                umh::print(b"plain text, no channel\n");
                umh::sleep_ms(1000);
            }
        }
        _ => umh::serve(answer),
    }
}

/// Splits off the first space-separated word.
fn word(bytes: &[u8]) -> (&[u8], &[u8]) {
    match bytes.iter().position(|&b| b == b' ') {
        Some(at) => (&bytes[..at], &bytes[at + 1..]),
        None => (bytes, &[][..]),
    }
}

fn number(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0u32, |n, &d| {
        n.wrapping_mul(10)
            .wrapping_add(u32::from(d.wrapping_sub(b'0')))
    })
}

/// A raw frame header, written by hand: the kernel's decoder is under test.
fn raw_header(len: u32, id: u32, kind: u8) -> [u8; 12] {
    let mut h = [0u8; 12];
    h[..4].copy_from_slice(&len.to_le_bytes());
    h[4..8].copy_from_slice(&id.to_le_bytes());
    h[8] = kind;
    h
}

fn answer(request: &[u8], reply: &mut umh::Reply<'_>) {
    let (verb, rest) = word(request);
    match verb {
        b"echo" => {
            reply.push(rest);
        }
        b"sleep" => {
            let (ms, rest) = word(rest);
            umh::sleep_ms(number(ms));
            reply.push(rest);
        }
        b"log" => {
            umh::print(rest);
            umh::print(b"\n");
            reply.push(b"logged");
        }
        b"flood" => {
            for _ in 0..number(rest) {
                umh::print(b"flood\n");
            }
            reply.push(b"flooded");
        }
        b"big" => {
            for _ in 0..number(rest) {
                if !reply.push(b"x") {
                    break;
                }
            }
        }
        b"forge" => {
            // A reply to another call: one never made, or the id given.
            let id = if rest.is_empty() {
                0x7fff_0000
            } else {
                number(rest)
            };
            umh::write(1, &raw_header(6, id, 2));
            umh::write(1, b"forged");
        }
        b"oversize" => {
            // After a while, so that the tests can queue a call behind it.
            umh::sleep_ms(number(rest));
            umh::write(1, &raw_header(MESSAGE_MAX + 1, 1, 2));
        }
        b"badkind" => {
            umh::write(1, &raw_header(0, 0, 9));
        }
        b"hang" => loop {
            umh::sleep_ms(1000);
        },
        _ => {
            reply.push(b"unknown verb");
        }
    }
}

/// Holds requests, then answers them in reverse order.
fn gather() -> i32 {
    umh::channel::open();
    const HELD: usize = 64;
    let mut request = [0u8; MESSAGE_MAX as usize];
    // Each held request: its id and up to 32 bytes of it.
    let mut held = [(0u32, [0u8; 32], 0usize); HELD];
    loop {
        let mut n = 0;
        while n < HELD && (n == 0 || umh::wait_readable(0, 300) > 0) {
            let Some((id, Some(len))) = read_request(&mut request) else {
                return 0;
            };
            let keep = len.min(32);
            held[n].0 = id;
            held[n].1[..keep].copy_from_slice(&request[..keep]);
            held[n].2 = keep;
            n += 1;
        }
        umh::print(b"gathered ");
        umh::print(umh::decimal(n as u32, &mut [0; 10]));
        umh::print(b"\n");
        for (id, bytes, len) in held[..n].iter().rev() {
            send_reply(*id, &bytes[..*len]);
        }
    }
}
