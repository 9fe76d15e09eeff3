// SPDX-License-Identifier: GPL-2.0

//! Raw Linux system calls: the helper's only interface to the kernel.

use core::arch::asm;

/// System call numbers, for [`crate::main!`]'s `allow:` list.
#[cfg(target_arch = "x86_64")]
pub mod nr {
    pub const READ: usize = 0;
    pub const WRITE: usize = 1;
    pub const CLOSE: usize = 3;
    pub const NANOSLEEP: usize = 35;
    pub const FCNTL: usize = 72;
    pub const CLOCK_GETTIME: usize = 228;
    pub const EXIT_GROUP: usize = 231;
    pub const DUP3: usize = 292;
    pub const RT_SIGACTION: usize = 13;
    pub const CLONE: usize = 56;
    pub const EXECVE: usize = 59;
    pub const WAIT4: usize = 61;
    pub const UNSHARE: usize = 272;
    pub const PPOLL: usize = 271;
    pub const PRCTL: usize = 157;
    pub const CHROOT: usize = 161;
    pub const CHDIR: usize = 80;
    pub const SETGROUPS: usize = 116;
    pub const SETRESUID: usize = 117;
    pub const GETRESUID: usize = 118;
    pub const SETRESGID: usize = 119;
    pub const GETRESGID: usize = 120;
    pub const CAPGET: usize = 125;
    pub const CAPSET: usize = 126;
    pub const PRLIMIT64: usize = 302;
    pub const OPENAT: usize = 257;
    pub const GETDENTS64: usize = 217;
    pub const INIT_MODULE: usize = 175;
    pub const EXIT: usize = 60;
    pub const RT_SIGRETURN: usize = 15;
    pub const RESTART_SYSCALL: usize = 219;
    pub const SECCOMP: usize = 317;
    pub const SOCKET: usize = 41;
    pub const PTRACE: usize = 101;
    pub const KILL: usize = 62;
    pub const CLOSE_RANGE: usize = 436;
}

/// System call numbers, for [`crate::main!`]'s `allow:` list.
#[cfg(target_arch = "aarch64")]
pub mod nr {
    pub const READ: usize = 63;
    pub const WRITE: usize = 64;
    pub const CLOSE: usize = 57;
    pub const NANOSLEEP: usize = 101;
    pub const FCNTL: usize = 25;
    pub const CLOCK_GETTIME: usize = 113;
    pub const EXIT_GROUP: usize = 94;
    pub const DUP3: usize = 24;
    pub const RT_SIGACTION: usize = 134;
    pub const CLONE: usize = 220;
    pub const EXECVE: usize = 221;
    pub const WAIT4: usize = 260;
    pub const UNSHARE: usize = 97;
    pub const PPOLL: usize = 73;
    pub const PRCTL: usize = 167;
    pub const CHROOT: usize = 51;
    pub const CHDIR: usize = 49;
    pub const SETGROUPS: usize = 159;
    pub const SETRESUID: usize = 147;
    pub const GETRESUID: usize = 148;
    pub const SETRESGID: usize = 149;
    pub const GETRESGID: usize = 150;
    pub const CAPGET: usize = 90;
    pub const CAPSET: usize = 91;
    pub const PRLIMIT64: usize = 261;
    pub const OPENAT: usize = 56;
    pub const GETDENTS64: usize = 61;
    pub const INIT_MODULE: usize = 105;
    pub const EXIT: usize = 93;
    pub const RT_SIGRETURN: usize = 139;
    pub const RESTART_SYSCALL: usize = 128;
    pub const SECCOMP: usize = 277;
    pub const SOCKET: usize = 198;
    pub const PTRACE: usize = 117;
    pub const KILL: usize = 129;
    pub const CLOSE_RANGE: usize = 436;
}

/// Issues system call `n` with three arguments and returns the raw result
/// (a negative errno on failure).
///
/// # Safety
///
/// The arguments must be valid for system call `n` (e.g. pointers to memory
/// of the length the call will access).
#[inline(always)]
unsafe fn syscall3(n: usize, a: usize, b: usize, c: usize) -> isize {
    let ret: isize;
    // SAFETY: The caller guarantees the arguments fit the call; the asm
    // declares every register the kernel's syscall ABI clobbers.
    #[cfg(target_arch = "x86_64")]
    unsafe {
        asm!("syscall", inlateout("rax") n as isize => ret, in("rdi") a, in("rsi") b,
             in("rdx") c, lateout("rcx") _, lateout("r11") _, options(nostack));
    }
    // SAFETY: As above, for the arm64 syscall ABI (number in x8, result in x0).
    #[cfg(target_arch = "aarch64")]
    unsafe {
        asm!("svc #0", in("x8") n, inlateout("x0") a as isize => ret, in("x1") b, in("x2") c,
             options(nostack));
    }
    ret
}

/// As [`syscall3`], with a fourth argument.
///
/// # Safety
///
/// As for [`syscall3`].
#[inline(always)]
unsafe fn syscall4(n: usize, a: usize, b: usize, c: usize, d: usize) -> isize {
    let ret: isize;
    // SAFETY: As in `syscall3`; the fourth argument goes in r10.
    #[cfg(target_arch = "x86_64")]
    unsafe {
        asm!("syscall", inlateout("rax") n as isize => ret, in("rdi") a, in("rsi") b,
             in("rdx") c, in("r10") d, lateout("rcx") _, lateout("r11") _, options(nostack));
    }
    // SAFETY: As in `syscall3`; the fourth argument goes in x3.
    #[cfg(target_arch = "aarch64")]
    unsafe {
        asm!("svc #0", in("x8") n, inlateout("x0") a as isize => ret, in("x1") b, in("x2") c,
             in("x3") d, options(nostack));
    }
    ret
}

/// As [`syscall3`], with five arguments.
///
/// # Safety
///
/// As for [`syscall3`].
#[inline(always)]
pub(crate) unsafe fn syscall5(n: usize, a: usize, b: usize, c: usize, d: usize, e: usize) -> isize {
    let ret: isize;
    // SAFETY: As in `syscall4`; the fifth argument goes in r8.
    #[cfg(target_arch = "x86_64")]
    unsafe {
        asm!("syscall", inlateout("rax") n as isize => ret, in("rdi") a, in("rsi") b,
             in("rdx") c, in("r10") d, in("r8") e, lateout("rcx") _, lateout("r11") _,
             options(nostack));
    }
    // SAFETY: As in `syscall4`; the fifth argument goes in x4.
    #[cfg(target_arch = "aarch64")]
    unsafe {
        asm!("svc #0", in("x8") n, inlateout("x0") a as isize => ret, in("x1") b, in("x2") c,
             in("x3") d, in("x4") e, options(nostack));
    }
    ret
}

/// Writes bytes to file descriptor `fd`; returns the count written or `-errno`.
pub fn write(fd: i32, buf: &[u8]) -> isize {
    // SAFETY: `buf` is valid for reads of `buf.len()` bytes.
    unsafe { syscall3(nr::WRITE, fd as usize, buf.as_ptr() as usize, buf.len()) }
}

/// Reads into `buf` from file descriptor `fd`; returns the count read or `-errno`.
pub fn read(fd: i32, buf: &mut [u8]) -> isize {
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes.
    unsafe { syscall3(nr::READ, fd as usize, buf.as_mut_ptr() as usize, buf.len()) }
}

/// Closes file descriptor `fd`; returns 0 or `-errno`.
pub fn close(fd: i32) -> isize {
    // SAFETY: close takes a plain integer and touches no memory.
    unsafe { syscall3(nr::CLOSE, fd as usize, 0, 0) }
}

/// Closes every file descriptor from `fd` on; returns 0 or `-errno`.
pub fn close_from(fd: i32) -> isize {
    // SAFETY: close_range takes plain integers and touches no memory.
    unsafe { syscall3(nr::CLOSE_RANGE, fd as usize, u32::MAX as usize, 0) }
}

/// Whether file descriptor `fd` is open.
pub fn is_open(fd: i32) -> bool {
    const F_GETFD: usize = 1;
    // SAFETY: F_GETFD takes no pointer and touches no memory.
    unsafe { syscall3(nr::FCNTL, fd as usize, F_GETFD, 0) >= 0 }
}

/// Makes `new` a copy of `old`; returns `new` or `-errno`.
pub fn dup2(old: i32, new: i32) -> isize {
    // SAFETY: dup3 takes plain integers and touches no memory.
    unsafe { syscall3(nr::DUP3, old as usize, new as usize, 0) }
}

/// `unshare(2)` flag: children go into a new pid namespace.
pub const CLONE_NEWPID: usize = 0x2000_0000;

/// Moves the children made from now on into new namespaces (`CLONE_NEW*`
/// flags); returns 0 or `-errno`. A helper declares [`nr::UNSHARE`].
pub fn unshare(flags: usize) -> isize {
    // SAFETY: unshare takes plain flags and touches no memory.
    unsafe { syscall3(nr::UNSHARE, flags, 0, 0) }
}

/// Forks: returns the child's pid in the parent, 0 in the child, or
/// `-errno`. The child is a copy of this single-threaded process. A
/// helper declares [`nr::CLONE`].
pub fn fork() -> isize {
    const SIGCHLD: usize = 17;
    // SAFETY: With only an exit signal among the flags, clone copies the
    // process like fork(2) and reads none of its pointer arguments.
    unsafe { syscall3(nr::CLONE, SIGCHLD, 0, 0) }
}

/// Sets what `SIGCHLD` does: `true` ignores it, so that children are
/// released the moment they end and never linger as zombies; `false`
/// restores the default. Returns 0 or `-errno`. A helper declares
/// [`nr::RT_SIGACTION`].
pub fn ignore_children(ignore: bool) -> isize {
    const SIGCHLD: usize = 17;
    /// The kernel's `struct sigaction` (x86_64 and arm64 alike).
    #[repr(C)]
    struct SigAction {
        handler: usize,
        flags: u64,
        restorer: usize,
        mask: u64,
    }
    let action = SigAction {
        handler: usize::from(ignore), // SIG_IGN is 1, SIG_DFL 0.
        flags: 0,
        restorer: 0,
        mask: 0,
    };
    // SAFETY: `action` is a valid sigaction for the duration of the call
    // (no handler, so no restorer is needed); the old action is not asked
    // for; the last argument is the size of the kernel's signal set.
    unsafe {
        syscall4(
            nr::RT_SIGACTION,
            SIGCHLD,
            &action as *const SigAction as usize,
            0,
            8,
        )
    }
}

/// Waits until a child ends; returns its pid, or `-errno` (`-ECHILD` once
/// there is none left). A helper declares [`nr::WAIT4`].
pub fn wait_child() -> isize {
    // SAFETY: A null status pointer and null rusage are allowed.
    unsafe { syscall4(nr::WAIT4, usize::MAX, 0, 0, 0) }
}

/// Replaces the process with the program at `path` (relative to the
/// current directory), with `argv[0]` = `path`, no other arguments and an
/// empty environment. Returns `-errno` only if that fails. A helper
/// declares [`nr::EXECVE`].
pub fn exec(path: &core::ffi::CStr) -> isize {
    let argv = [path.as_ptr(), core::ptr::null()];
    let envp = [core::ptr::null::<core::ffi::c_char>()];
    // SAFETY: `path` is NUL-terminated, `argv` and `envp` are
    // null-terminated arrays of such strings, all valid during the call.
    unsafe {
        syscall3(
            nr::EXECVE,
            path.as_ptr() as usize,
            argv.as_ptr() as usize,
            envp.as_ptr() as usize,
        )
    }
}

/// A `struct timespec` as the kernel expects it on 64-bit architectures.
#[repr(C)]
struct Timespec {
    sec: i64,
    nsec: i64,
}

/// Sleeps for `ms` milliseconds (less if a signal interrupts the sleep).
pub fn sleep_ms(ms: u32) {
    let ts = Timespec {
        sec: i64::from(ms / 1000),
        nsec: i64::from(ms % 1000) * 1_000_000,
    };
    // SAFETY: `ts` is a valid timespec for the duration of the call; a null
    // remaining-time pointer is allowed.
    unsafe { syscall3(nr::NANOSLEEP, &ts as *const Timespec as usize, 0, 0) };
}

/// Waits until `fd` has data to read (or an error, or no writer left):
/// returns 1; or until `ms` milliseconds pass: returns 0; or `-errno`.
pub fn wait_readable(fd: i32, ms: u32) -> isize {
    wait_readable_within(fd, &mut (u64::from(ms) * 1_000_000))
}

/// As [`wait_readable`], for `left` nanoseconds, and leaves in `left` the
/// time that was left when it returned: `ppoll` writes it back, so a caller
/// that knows when the wait was to end knows the time without reading the
/// clock (one system call less).
pub fn wait_readable_within(fd: i32, left: &mut u64) -> isize {
    #[repr(C)]
    struct PollFd {
        fd: i32,
        events: i16,
        revents: i16,
    }
    const POLLIN: i16 = 1;
    const NS: u64 = 1_000_000_000;
    let mut pfd = PollFd {
        fd,
        events: POLLIN,
        revents: 0,
    };
    let mut ts = Timespec {
        sec: (*left / NS).min(i64::MAX as u64) as i64,
        nsec: (*left % NS) as i64,
    };
    // SAFETY: `pfd` and `ts` are valid for the duration of the call; with a
    // null signal mask, ppoll ignores its fifth argument.
    let ret = unsafe {
        syscall4(
            nr::PPOLL,
            &mut pfd as *mut PollFd as usize,
            1,
            &mut ts as *mut Timespec as usize,
            0,
        )
    };
    *left = (ts.sec.max(0) as u64)
        .saturating_mul(NS)
        .saturating_add(ts.nsec.max(0) as u64);
    ret
}

/// Nanoseconds of `CLOCK_MONOTONIC`.
pub fn monotonic_ns() -> u64 {
    const CLOCK_MONOTONIC: usize = 1;
    let mut ts = Timespec { sec: 0, nsec: 0 };
    // SAFETY: `ts` is a valid timespec for the kernel to fill in.
    unsafe {
        syscall3(
            nr::CLOCK_GETTIME,
            CLOCK_MONOTONIC,
            &mut ts as *mut Timespec as usize,
            0,
        )
    };
    ts.sec as u64 * 1_000_000_000 + ts.nsec as u64
}

/// Ends the process with `code`.
pub fn exit(code: i32) -> ! {
    // SAFETY: exit_group takes a plain integer, touches no memory and does
    // not return.
    #[cfg(target_arch = "x86_64")]
    unsafe {
        asm!("syscall", in("rax") nr::EXIT_GROUP, in("rdi") code as isize, options(noreturn, nostack));
    }
    // SAFETY: As above, for the arm64 syscall ABI.
    #[cfg(target_arch = "aarch64")]
    unsafe {
        asm!("svc #0", in("x8") nr::EXIT_GROUP, in("x0") code as isize, options(noreturn, nostack));
    }
}
