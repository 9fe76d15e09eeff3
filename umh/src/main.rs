// SPDX-License-Identifier: GPL-2.0

//! eprog's default helper: says hello to the kernel log at a fixed interval,
//! and answers the kernel's calls (see `umh::channel`):
//!
//! - `echo <bytes>`: the bytes back, as they are;
//! - `settings <text>`: the text validated and in normal form
//!   (`umh::settings`), or `error: <why> at byte <n>`.
#![no_std]
#![no_main]

umh::main!(main);

/// Five seconds, as in the C driver eprog grew from.
const DEFAULT_INTERVAL_MS: u32 = 5000;

fn main() -> i32 {
    let mut buf = [0u8; 128];
    let config = umh::read_config_line(&mut buf);
    let interval = umh::config_value(config, b"interval_ms").unwrap_or(DEFAULT_INTERVAL_MS);
    umh::serve_every(interval, || umh::print(b"Hello, world!\n"), answer)
}

fn answer(request: &[u8], reply: &mut umh::Reply<'_>) {
    let mut words = request.splitn(2, |&b| b == b' ');
    let (verb, rest) = (
        words.next().unwrap_or_default(),
        words.next().unwrap_or_default(),
    );
    match verb {
        b"echo" => {
            reply.push(rest);
        }
        b"settings" => {
            if let Err(e) = umh::settings::normalise(rest, &mut |b| {
                reply.push(b);
            }) {
                reply.clear();
                reply.push(b"error: ");
                reply.push(e.what.as_bytes());
                reply.push(b" at byte ");
                reply.push(umh::decimal(e.at as u64, &mut [0; 20]));
            }
        }
        _ => {
            reply.push(b"error: unknown request; try 'echo <bytes>' or 'settings <text>'");
        }
    }
}
