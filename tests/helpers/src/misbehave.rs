// SPDX-License-Identifier: GPL-2.0

//! A helper that misbehaves as its configuration line says (`mode=<name>`),
//! so the QEMU tests can prove that no misbehaviour hurts the kernel.
#![no_std]
#![no_main]

// Forks, and waits for its children.
umh::main!(main, allow: [umh::nr::CLONE, umh::nr::WAIT4]);

/// Blocks forever without output (a read of a pipe nobody writes to).
fn block() -> ! {
    let mut byte = [0u8; 1];
    loop {
        if umh::read(0, &mut byte) <= 0 {
            umh::sleep_ms(1000);
        }
    }
}

/// Forks a child that keeps stdout and blocks, and a grandchild, orphaned
/// at once, that closes stdin and stdout and blocks. Reaps the orphan's
/// parent, so that three live processes remain and no zombie.
fn fork_both() {
    if umh::fork() == 0 {
        block();
    }
    if umh::fork() == 0 {
        if umh::fork() == 0 {
            umh::close(0);
            umh::close(1);
            umh::close(2);
            loop {
                umh::sleep_ms(1000);
            }
        }
        umh::exit(0);
    }
    umh::wait_child();
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
        // Starts the two kinds of process that would outlive it: a child
        // that keeps stdout open, and a double-forked orphan that closes
        // every descriptor; then fails after 500 ms.
        b"fork-then-fail" => {
            fork_both();
            umh::print(b"forked\n");
            umh::sleep_ms(500);
            3
        }
        // As above, but stays: for an unload while all three run.
        b"fork-then-stay" => {
            fork_both();
            umh::print(b"forked\n");
            block()
        }
        // Runs for 300 ms, then fails: restarts in a row and their reset.
        b"run-then-fail" => {
            umh::print(b"running\n");
            umh::sleep_ms(300);
            1
        }
        // Says nothing, and fails after 800 ms: past init's timeout.
        b"silent-then-fail" => {
            umh::sleep_ms(800);
            1
        }
        // The leader ends its own thread with status 0; a second thread ends
        // the whole group with status 7 later, which is what wait(2) reports.
        b"group-exit" => {
            umh::print(b"two threads\n");
            thread::spawn();
            thread::exit_leader()
        }
        b"say-then-exit3" => {
            umh::print(b"exiting with 3\n");
            3
        }
        // A success: restarted by restart=always only.
        b"say-then-exit0" => {
            umh::print(b"exiting with 0\n");
            0
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
        // 300 lines at once, then silence: the rate limit's report must not
        // wait for more output.
        b"burst-then-silent" => {
            let mut digits = [0u8; 10];
            for n in 0..300u32 {
                umh::print(b"burst ");
                umh::print(umh::decimal(n, &mut digits));
                umh::print(b"\n");
            }
            block()
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
        // A system call it did not declare (openat): the lock-down kills it.
        b"forbidden" => {
            umh::print(b"about to make a forbidden call\n");
            umh::attempt::open(c"/", false);
            umh::print(b"the forbidden call returned\n");
            0
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

/// Just enough of threads for `group-exit`: a second thread on a static
/// stack, and a thread exit (not a group exit) for the leader.
mod thread {
    /// CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
    /// CLONE_SYSVSEM: a thread, as pthread_create makes one.
    const FLAGS: usize = 0x50f00;
    const STACK_SIZE: usize = 16 * 1024;

    #[repr(C, align(16))]
    struct Stack([u8; STACK_SIZE]);
    static mut STACK: Stack = Stack([0; STACK_SIZE]);

    extern "C" fn second_thread() -> ! {
        umh::sleep_ms(200);
        umh::exit(7)
    }

    pub(crate) fn spawn() {
        // SAFETY: Only the one thread spawned here ever uses STACK.
        let top = unsafe { core::ptr::addr_of_mut!(STACK).cast::<u8>().add(STACK_SIZE) } as usize;
        // SAFETY: clone() with a fresh stack: the child starts on `top`
        // (16-byte aligned) with rax = 0 and calls a function that never
        // returns; the parent gets the child's id and goes on.
        #[cfg(target_arch = "x86_64")]
        unsafe {
            core::arch::asm!(
                "syscall",
                "test rax, rax",
                "jnz 2f",
                "call {entry}",
                "ud2",
                "2:",
                entry = sym second_thread,
                inlateout("rax") 56usize => _, in("rdi") FLAGS, in("rsi") top,
                in("rdx") 0, in("r10") 0, in("r8") 0, lateout("rcx") _, lateout("r11") _,
            )
        };
        // SAFETY: As above, for arm64 (clone is 220, the child gets x0 = 0).
        #[cfg(target_arch = "aarch64")]
        unsafe {
            core::arch::asm!(
                "svc #0",
                "cbnz x0, 2f",
                "bl {entry}",
                "udf #0",
                "2:",
                entry = sym second_thread,
                in("x8") 220usize, inlateout("x0") FLAGS => _, in("x1") top,
                in("x2") 0, in("x3") 0, in("x4") 0, lateout("x30") _,
            )
        };
    }

    /// Ends the calling thread only (exit, not exit_group), with status 0.
    pub(crate) fn exit_leader() -> ! {
        // SAFETY: exit(0) does not return.
        #[cfg(target_arch = "x86_64")]
        unsafe {
            core::arch::asm!("syscall", in("rax") 60usize, in("rdi") 0usize, options(noreturn))
        };
        // SAFETY: As above (exit is 93 on arm64).
        #[cfg(target_arch = "aarch64")]
        unsafe {
            core::arch::asm!("svc #0", in("x8") 93usize, in("x0") 0usize, options(noreturn))
        };
    }
}
