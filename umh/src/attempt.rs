// SPDX-License-Identifier: GPL-2.0

//! What a compromised helper would try, for the least-privilege probe
//! (`tests/helpers/src/probe.rs`): each attempt returns 0 (or a count, or
//! a file descriptor) if the kernel let it through, else `-errno`.

use core::ffi::CStr;

use crate::privilege::prctl;
use crate::syscall::{nr, syscall5};

/// Opens `path` for reading, or for writing if `write`; returns the file
/// descriptor or `-errno`.
pub fn open(path: &CStr, write: bool) -> isize {
    const O_WRONLY: usize = 1;
    const O_CLOEXEC: usize = 0o2000000;
    open_with(path, O_CLOEXEC | if write { O_WRONLY } else { 0 })
}

/// openat(2) relative to the current directory, with `flags`.
fn open_with(path: &CStr, flags: usize) -> isize {
    const AT_FDCWD: isize = -100;
    // SAFETY: `path` is NUL-terminated and valid during the call.
    unsafe {
        syscall5(
            nr::OPENAT,
            AT_FDCWD as usize,
            path.as_ptr() as usize,
            flags,
            0,
            0,
        )
    }
}

/// Creates the file `path` (it must not exist) and writes `bytes` to it;
/// returns the count written or `-errno`.
pub fn create_file(path: &CStr, bytes: &[u8]) -> isize {
    fill_file(path, bytes, 1)
}

/// Creates the file `path` (it must not exist) and writes `bytes` to it
/// `times` times; returns the count written or `-errno`.
pub fn fill_file(path: &CStr, bytes: &[u8], times: usize) -> isize {
    const O_WRONLY: usize = 1;
    const O_CREAT: usize = 0o100;
    const O_EXCL: usize = 0o200;
    const O_CLOEXEC: usize = 0o2000000;
    let fd = open_with(path, O_CLOEXEC | O_WRONLY | O_CREAT | O_EXCL);
    if fd < 0 {
        return fd;
    }
    let mut total = 0;
    for _ in 0..times {
        let n = crate::syscall::write(fd as i32, bytes);
        if n < 0 {
            total = n;
            break;
        }
        total += n;
    }
    crate::syscall::close(fd as i32);
    total
}

/// Writes `bytes` to the file at `path`; returns the count written or
/// `-errno`.
pub fn write_file(path: &CStr, bytes: &[u8]) -> isize {
    let fd = open(path, true);
    if fd < 0 {
        return fd;
    }
    let n = crate::syscall::write(fd as i32, bytes);
    crate::syscall::close(fd as i32);
    n
}

/// Opens a raw packet socket, which needs `CAP_NET_RAW`, and closes it;
/// returns 0 or `-errno`.
pub fn open_raw_socket() -> isize {
    const AF_PACKET: usize = 17;
    const SOCK_RAW: usize = 3;
    const ETH_P_ALL_BE: usize = 0x0300;
    // SAFETY: socket takes plain integers and touches no memory.
    let fd = unsafe { syscall5(nr::SOCKET, AF_PACKET, SOCK_RAW, ETH_P_ALL_BE, 0, 0) };
    if fd >= 0 {
        crate::syscall::close(fd as i32);
    }
    fd.min(0)
}

/// Checks whether any other process could be signalled (`kill(-1, 0)`:
/// every process of the caller's pid namespace but itself and init); returns
/// 0 or `-errno` (`-ESRCH`: there is none).
pub fn signal_others() -> isize {
    // SAFETY: kill takes plain integers; signal 0 only checks.
    unsafe { syscall5(nr::KILL, -1isize as usize, 0, 0, 0, 0) }
}

/// Tries to ptrace a process that guards its memory (not dumpable, as
/// ssh-agent or a setuid program makes itself), which only
/// `CAP_SYS_PTRACE` may: forks such a child, attaches, then kills and
/// reaps it. Returns the attach's 0 or `-errno`.
pub fn trace_guarded_child() -> isize {
    const PR_GET_DUMPABLE: usize = 3;
    const PR_SET_DUMPABLE: usize = 4;
    const PTRACE_ATTACH: usize = 16;
    const SIGKILL: usize = 9;
    let dumpable = prctl(PR_GET_DUMPABLE, 0, 0);
    // The child inherits the flag with its copy of the memory.
    let r = prctl(PR_SET_DUMPABLE, 0, 0);
    if dumpable < 0 || r < 0 {
        return dumpable.min(r);
    }
    let child = crate::syscall::fork();
    if child == 0 {
        loop {
            crate::syscall::sleep_ms(60_000);
        }
    }
    prctl(PR_SET_DUMPABLE, dumpable as usize, 0);
    if child < 0 {
        return child;
    }
    // SAFETY: ptrace(PTRACE_ATTACH) ignores its address and data; kill
    // takes plain integers.
    let attached = unsafe { syscall5(nr::PTRACE, PTRACE_ATTACH, child as usize, 0, 0, 0) };
    // SAFETY: As above.
    unsafe { syscall5(nr::KILL, child as usize, SIGKILL, 0, 0, 0) };
    crate::syscall::wait_child();
    attached
}

/// Asks the kernel to load an empty module image: `-EPERM` without
/// `CAP_SYS_MODULE`, else the image's error (`-ENOEXEC`).
pub fn load_empty_module() -> isize {
    // SAFETY: A zero-length image reads no memory; the parameters are an
    // empty NUL-terminated string.
    unsafe { syscall5(nr::INIT_MODULE, 0, 0, c"".as_ptr() as usize, 0, 0) }
}

/// Calls `f` with the name of each entry of directory `path`; returns the
/// number of entries or `-errno`.
pub fn list_dir(path: &CStr, mut f: impl FnMut(&[u8])) -> isize {
    // arm64 numbers it as other architectures do O_DIRECT.
    #[cfg(target_arch = "x86_64")]
    const O_DIRECTORY: usize = 0o200000;
    #[cfg(target_arch = "aarch64")]
    const O_DIRECTORY: usize = 0o40000;
    let fd = open_with(path, O_DIRECTORY);
    if fd < 0 {
        return fd;
    }
    let mut buf = [0u8; 1024];
    let mut count = 0;
    loop {
        // SAFETY: `buf` is valid for writes of its length.
        let n = unsafe {
            syscall5(
                nr::GETDENTS64,
                fd as usize,
                buf.as_mut_ptr() as usize,
                buf.len(),
                0,
                0,
            )
        };
        if n <= 0 {
            crate::syscall::close(fd as i32);
            return if n < 0 { n } else { count };
        }
        // Each record: ino (8), off (8), reclen (2), type (1), name, NUL.
        let mut at = 0;
        while at + 19 <= n as usize {
            let reclen = usize::from(u16::from_ne_bytes([buf[at + 16], buf[at + 17]]));
            let name = &buf[at + 19..at + reclen];
            let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
            f(name);
            count += 1;
            at += reclen;
        }
    }
}
