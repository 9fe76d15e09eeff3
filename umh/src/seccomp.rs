// SPDX-License-Identifier: GPL-2.0

//! The runtime's lock-down: a seccomp filter that allows only the system
//! calls the runtime and the helper declare; any other call kills the
//! process with `SIGSYS`.
//!
//! The filter is a classic BPF program over `struct seccomp_data`: it checks
//! the architecture (so that no other system call table can be reached:
//! x32 numbers on x86_64 carry bit 30 and match nothing), then compares the
//! call's number with each allowed one.

use crate::syscall::{nr, syscall5};

/// The calls the runtime itself makes: its I/O, sleeps, clock and exit,
/// and what the kernel needs to return from a signal or restart a call.
pub const RUNTIME: &[usize] = &[
    nr::READ,
    nr::WRITE,
    nr::CLOSE,
    nr::FCNTL,
    nr::DUP3,
    nr::PPOLL,
    nr::NANOSLEEP,
    nr::CLOCK_GETTIME,
    nr::EXIT,
    nr::EXIT_GROUP,
    nr::RT_SIGRETURN,
    nr::RESTART_SYSCALL,
];

/// Most calls a filter allows, the runtime's included.
pub const MAX_ALLOWED: usize = 64;

/// `struct sock_filter`: one BPF instruction.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Instruction {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

const LD_W_ABS: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
const JEQ_K: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const RET_K: u16 = 0x06; // BPF_RET | BPF_K

/// Offsets in `struct seccomp_data`.
const NR: u32 = 0;
const ARCH: u32 = 4;

pub const RET_ALLOW: u32 = 0x7fff_0000;
pub const RET_KILL_PROCESS: u32 = 0x8000_0000;

#[cfg(target_arch = "x86_64")]
pub const AUDIT_ARCH: u32 = 0xc000_003e;
#[cfg(target_arch = "aarch64")]
pub const AUDIT_ARCH: u32 = 0xc000_00b7;

/// Instructions besides one per allowed call.
const FRAME: usize = 5;

/// A filter program: five instructions and one per allowed call.
pub struct Filter {
    code: [Instruction; MAX_ALLOWED + FRAME],
    len: usize,
}

impl Filter {
    /// The program that allows `RUNTIME` and `extra`, for `arch`; `None` if
    /// that is more than [`MAX_ALLOWED`] calls.
    pub fn new(arch: u32, extra: &[usize]) -> Option<Self> {
        let allowed = RUNTIME.len() + extra.len();
        if allowed > MAX_ALLOWED {
            return None;
        }
        let stmt = |code, k| Instruction {
            code,
            jt: 0,
            jf: 0,
            k,
        };
        // Built by iterators, not indexing: a bounds check's panic would
        // bring `core::fmt` into the helper, a quarter of its size.
        let calls = RUNTIME.iter().chain(extra).enumerate().map(|(i, &call)| {
            // A match jumps over the rest and the kill, to the allow.
            Instruction {
                code: JEQ_K,
                jt: (allowed - i) as u8,
                jf: 0,
                k: call as u32,
            }
        });
        let program = [
            stmt(LD_W_ABS, ARCH),
            // Another architecture: to the kill at the end.
            Instruction {
                code: JEQ_K,
                jt: 0,
                jf: (allowed + 1) as u8,
                k: arch,
            },
            stmt(LD_W_ABS, NR),
        ]
        .into_iter()
        .chain(calls)
        .chain([stmt(RET_K, RET_KILL_PROCESS), stmt(RET_K, RET_ALLOW)]);
        let mut code = [stmt(0, 0); MAX_ALLOWED + FRAME];
        for (slot, instruction) in code.iter_mut().zip(program) {
            *slot = instruction;
        }
        Some(Self {
            code,
            len: allowed + FRAME,
        })
    }

    /// The program's instructions.
    pub fn code(&self) -> &[Instruction] {
        self.code.get(..self.len).unwrap_or_default()
    }

    /// What the program returns for a call `nr` made on `arch`: the kernel's
    /// classic BPF, for the instructions [`Filter::new`] emits.
    #[cfg(test)]
    fn run(&self, arch: u32, nr: u32) -> u32 {
        let mut acc = 0;
        let mut pc = 0;
        loop {
            let i = self.code()[pc];
            pc += 1;
            match i.code {
                LD_W_ABS => acc = if i.k == ARCH { arch } else { nr },
                JEQ_K => pc += usize::from(if acc == i.k { i.jt } else { i.jf }),
                _ => return i.k,
            }
        }
    }
}

/// `struct sock_fprog`.
#[repr(C)]
struct Program {
    len: u16,
    filter: *const Instruction,
}

/// Locks the calling process down for good: `no_new_privs`, then the filter
/// that allows [`RUNTIME`] and `extra` only. Returns 0 or `-errno`
/// (`-E2BIG` for a list too long; `-EINVAL` from a kernel without
/// `CONFIG_SECCOMP_FILTER`).
pub fn lock_down(extra: &[usize]) -> isize {
    const PR_SET_NO_NEW_PRIVS: usize = 38;
    const SECCOMP_SET_MODE_FILTER: usize = 1;
    const E2BIG: isize = 7;
    let Some(filter) = Filter::new(AUDIT_ARCH, extra) else {
        return -E2BIG;
    };
    let r = crate::privilege::prctl(PR_SET_NO_NEW_PRIVS, 1, 0);
    if r < 0 {
        return r;
    }
    let code = filter.code();
    let program = Program {
        len: code.len() as u16,
        filter: code.as_ptr(),
    };
    // SAFETY: `program` points at `code.len()` valid instructions, all
    // alive during the call, which copies them.
    unsafe {
        syscall5(
            nr::SECCOMP,
            SECCOMP_SET_MODE_FILTER,
            0,
            &program as *const Program as usize,
            0,
            0,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OTHER_ARCH: u32 = 0x4000_0028; // AUDIT_ARCH_ARM

    #[test]
    fn allows_the_runtime_and_the_extra_calls_and_kills_the_rest() {
        let f = Filter::new(AUDIT_ARCH, &[nr::CLONE, nr::WAIT4]).unwrap();
        for &call in RUNTIME.iter().chain(&[nr::CLONE, nr::WAIT4]) {
            assert_eq!(f.run(AUDIT_ARCH, call as u32), RET_ALLOW, "call {call}");
        }
        for call in [
            nr::EXECVE,
            nr::UNSHARE,
            nr::OPENAT,
            0x4000_0000,
            u32::MAX as usize,
        ] {
            assert_eq!(
                f.run(AUDIT_ARCH, call as u32),
                RET_KILL_PROCESS,
                "call {call}"
            );
        }
    }

    #[test]
    fn another_architecture_is_killed_whatever_the_call() {
        let f = Filter::new(AUDIT_ARCH, &[]).unwrap();
        for &call in RUNTIME {
            assert_eq!(f.run(OTHER_ARCH, call as u32), RET_KILL_PROCESS);
        }
    }

    #[test]
    fn a_list_too_long_for_the_program_is_refused() {
        let many = [nr::CLONE; MAX_ALLOWED];
        assert!(Filter::new(AUDIT_ARCH, &many[..MAX_ALLOWED - RUNTIME.len()]).is_some());
        assert!(Filter::new(AUDIT_ARCH, &many[..MAX_ALLOWED - RUNTIME.len() + 1]).is_none());
    }
}
