// SPDX-License-Identifier: GPL-2.0

//! A helper that misbehaves as its configuration line says (`mode=<name>`),
//! so the QEMU tests can prove that no misbehaviour hurts the kernel.
#![no_std]
#![no_main]

umh::main!(main);

/// Blocks forever without output (a read of a pipe nobody writes to).
fn block() -> ! {
    let mut byte = [0u8; 1];
    loop {
        if umh::read(0, &mut byte) <= 0 {
            umh::sleep_ms(1000);
        }
    }
}

fn mode(line: &[u8]) -> &[u8] {
    line.split(|&b| b == b' ')
        .find_map(|pair| pair.strip_prefix(b"mode="))
        .unwrap_or(b"")
}

fn main() -> i32 {
    let mut buf = [0u8; 128];
    let line = umh::read_config_line(&mut buf);
    match mode(line) {
        b"crash" => {
            umh::print(b"about to crash\n");
            // SAFETY: None needed: the load from address 0 faults, and the
            // kernel kills us with SIGSEGV before anything else happens.
            #[cfg(target_arch = "x86_64")]
            unsafe {
                core::arch::asm!("mov {0}, [0]", out(reg) _)
            };
            // SAFETY: As above.
            #[cfg(target_arch = "aarch64")]
            unsafe {
                core::arch::asm!("ldr {0}, [{1}]", out(reg) _, in(reg) 0usize)
            };
            0
        }
        b"exit3" => 3,
        b"say-then-exit3" => {
            umh::print(b"exiting with 3\n");
            3
        }
        b"flood" => {
            let mut line = *b"flood 0000000000\n";
            let mut n: u64 = 0;
            loop {
                let mut digits = n;
                for d in line[6..16].iter_mut().rev() {
                    *d = b'0' + (digits % 10) as u8;
                    digits /= 10;
                }
                umh::print(&line);
                n += 1;
            }
        }
        b"garbage" => {
            umh::print(b"\x013<0>fake level\x00NUL\x1b[31mred\x1b]0;title\x07\r\n");
            umh::print(b"eprog: From userspace: forged\n");
            let all: [u8; 256] = core::array::from_fn(|i| i as u8);
            umh::print(&all);
            umh::print(b"\ngarbage done\n");
            block()
        }
        b"long-line" => {
            let chunk = [b'x'; 4096];
            for _ in 0..256 {
                umh::print(&chunk);
            }
            0
        }
        b"close-stdout" => {
            umh::print(b"closing stdout\n");
            umh::close(1);
            umh::close(2);
            block()
        }
        b"silent" => block(),
        // Benchmarks: `lines` numbered lines as fast as possible, written
        // 4 KiB at a time as a buffered writer would, then exit.
        b"burst" => {
            let lines = umh::config_value(line, b"lines").unwrap_or(1000);
            let mut out = [0u8; 4096];
            let mut len = 0;
            let mut digits = [0u8; 10];
            for n in 0..lines {
                let mut text = *b"flood 0000000000\n";
                let d = umh::decimal(n, &mut digits);
                text[16 - d.len()..16].copy_from_slice(d);
                if len + text.len() > out.len() {
                    umh::print(&out[..len]);
                    len = 0;
                }
                out[len..len + text.len()].copy_from_slice(&text);
                len += text.len();
            }
            umh::print(&out[..len]);
            0
        }
        // Benchmarks: as `burst`, but one write per line, as an unbuffered
        // writer would: the relay's worst case.
        b"burst-unbuffered" => {
            let lines = umh::config_value(line, b"lines").unwrap_or(1000);
            let mut digits = [0u8; 10];
            for n in 0..lines {
                let mut text = *b"flood 0000000000\n";
                let d = umh::decimal(n, &mut digits);
                text[16 - d.len()..16].copy_from_slice(d);
                umh::print(&text);
            }
            0
        }
        // Benchmarks: `lines` lines stamped with CLOCK_MONOTONIC, 5 ms apart.
        b"latency" => {
            for _ in 0..umh::config_value(line, b"lines").unwrap_or(100) {
                let mut buf = [0u8; 20];
                let now = umh::decimal(umh::monotonic_ns(), &mut buf);
                let mut text = [0u8; 32];
                text[..4].copy_from_slice(b"lat ");
                text[4..4 + now.len()].copy_from_slice(now);
                text[4 + now.len()] = b'\n';
                umh::print(&text[..5 + now.len()]);
                umh::sleep_ms(5);
            }
            0
        }
        // Benchmarks: the current CLOCK_MONOTONIC in ns, for timing in a shell.
        b"now" => {
            umh::print(umh::decimal(umh::monotonic_ns(), &mut [0; 20]));
            umh::print(b"\n");
            0
        }
        b"spin" => {
            umh::print(b"spinning\n");
            #[allow(clippy::empty_loop)] // Spinning is the point.
            loop {}
        }
        b"panic" => {
            umh::print(b"about to panic\n");
            panic!("the misbehaving helper panics on purpose");
        }
        b"stderr" => {
            umh::write(2, b"this went to stderr\n");
            block()
        }
        _ => {
            umh::print(b"unknown mode\n");
            2
        }
    }
}
