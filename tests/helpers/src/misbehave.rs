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
            // SAFETY: None needed: the load faults, and the kernel kills us
            // with SIGSEGV before anything else happens.
            unsafe { core::arch::asm!("mov {0}, [0]", out(reg) _) };
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
