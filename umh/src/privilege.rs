// SPDX-License-Identifier: GPL-2.0

//! Least privilege: [`confine`] is what eprog's launcher does to itself
//! before it executes the helper (`launch.rs`), as the kernel's record asks
//! (`src/confinement.rs`); [`Privileges::current`] reads back what a
//! process holds.

use core::ffi::CStr;

pub use crate::confinement::{Confinement, RECORD_LEN};
use crate::syscall::{nr, syscall5};

const PR_GET_SECCOMP: usize = 21;
const PR_CAPBSET_READ: usize = 23;
const PR_CAPBSET_DROP: usize = 24;
const PR_GET_SECUREBITS: usize = 27;
const PR_SET_SECUREBITS: usize = 28;
const PR_SET_NO_NEW_PRIVS: usize = 38;
const PR_GET_NO_NEW_PRIVS: usize = 39;
const PR_CAP_AMBIENT: usize = 47;
const PR_CAP_AMBIENT_IS_SET: usize = 1;
const PR_CAP_AMBIENT_RAISE: usize = 2;

/// Securebits, all locked: an exec as root grants no capabilities
/// (`NOROOT`), a change of uid neither keeps nor drops any by itself
/// (`NO_SETUID_FIXUP`: the capability sets are set explicitly), and
/// `KEEP_CAPS` stays off.
const SECUREBITS: usize = 1 << 0 | 1 << 1 | 1 << 2 | 1 << 3 | 1 << 5;

const RLIMIT_NOFILE: usize = 7;
const RLIMIT_AS: usize = 9;
const EINVAL: isize = 22;

/// `_LINUX_CAPABILITY_VERSION_3`: two 32-bit words per set.
const CAPABILITY_VERSION: u32 = 0x2008_0522;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

fn prctl(option: usize, arg: usize, arg3: usize) -> isize {
    // SAFETY: The options used here take plain integers (the unused
    // arguments must be 0) and touch no memory.
    unsafe { syscall5(nr::PRCTL, option, arg, arg3, 0, 0) }
}

fn ok(r: isize) -> Result<(), isize> {
    if r < 0 {
        Err(r)
    } else {
        Ok(())
    }
}

/// Sets the soft and hard limit of `resource` (`u64::MAX`: none).
fn set_rlimit(resource: usize, limit: u64) -> isize {
    let new = [limit, limit];
    // SAFETY: `new` is a valid `struct rlimit64` for the duration of the
    // call; the old limit is not asked for.
    unsafe { syscall5(nr::PRLIMIT64, 0, resource, new.as_ptr() as usize, 0, 0) }
}

fn rlimit(resource: usize) -> u64 {
    let mut old = [0u64; 2];
    // SAFETY: `old` is a valid `struct rlimit64` for the kernel to fill in.
    unsafe { syscall5(nr::PRLIMIT64, 0, resource, 0, old.as_mut_ptr() as usize, 0) };
    old[0]
}

fn path_call(n: usize, path: &CStr) -> isize {
    // SAFETY: `path` is NUL-terminated and valid during the call (chroot,
    // chdir).
    unsafe { syscall5(n, path.as_ptr() as usize, 0, 0, 0, 0) }
}

/// Sets real, effective and saved user ids; returns 0 or `-errno`.
pub fn set_uid(uid: u32) -> isize {
    let id = uid as usize;
    // SAFETY: setresuid takes plain integers.
    unsafe { syscall5(nr::SETRESUID, id, id, id, 0, 0) }
}

fn set_gid(gid: u32) -> isize {
    let id = gid as usize;
    // SAFETY: setresgid takes plain integers.
    unsafe { syscall5(nr::SETRESGID, id, id, id, 0, 0) }
}

/// Confines the calling process as `c` says, for good: the resource
/// limits; its root (its current directory, the private tmpfs, unless
/// `c.host_root`); the bounding set, securebits, ids and capability sets
/// (ambient too, so that the kept capabilities survive the exec of a
/// program without file capabilities); and `no_new_privs`. Needs root with
/// every capability; returns the first failure's `-errno`.
pub fn confine(c: &Confinement) -> Result<(), isize> {
    ok(set_rlimit(RLIMIT_NOFILE, u64::from(c.open_files)))?;
    ok(set_rlimit(RLIMIT_AS, c.address_space))?;
    if !c.host_root {
        ok(path_call(nr::CHROOT, c"."))?;
        ok(path_call(nr::CHDIR, c"/"))?;
    }
    for cap in 0..64 {
        if c.caps & 1 << cap == 0 {
            match prctl(PR_CAPBSET_DROP, cap, 0) {
                r if r == -EINVAL => break, // Past the kernel's last capability.
                r => ok(r)?,
            }
        }
    }
    ok(prctl(PR_SET_SECUREBITS, SECUREBITS, 0))?;
    // SAFETY: setgroups with a count of 0 reads no list.
    ok(unsafe { syscall5(nr::SETGROUPS, 0, 0, 0, 0, 0) })?;
    ok(set_gid(c.gid))?;
    ok(set_uid(c.uid))?;
    let word = |shift: u32| (c.caps >> shift) as u32;
    let data = [word(0), word(32)].map(|w| CapData {
        effective: w,
        permitted: w,
        inheritable: w,
    });
    let header = CapHeader {
        version: CAPABILITY_VERSION,
        pid: 0,
    };
    // SAFETY: `header` and the two `data` words are what capset reads for
    // version 3, valid during the call.
    ok(unsafe {
        syscall5(
            nr::CAPSET,
            &header as *const CapHeader as usize,
            data.as_ptr() as usize,
            0,
            0,
            0,
        )
    })?;
    for cap in 0..64 {
        if c.caps & 1 << cap != 0 {
            ok(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap))?;
        }
    }
    ok(prctl(PR_SET_NO_NEW_PRIVS, 1, 0))
}

/// What a process holds: ids, capability sets (bit n for capability n),
/// securebits, `no_new_privs`, seccomp mode and resource limits.
pub struct Privileges {
    /// Real, effective and saved user ids.
    pub uids: [u32; 3],
    /// Real, effective and saved group ids.
    pub gids: [u32; 3],
    pub effective: u64,
    pub permitted: u64,
    pub inheritable: u64,
    pub bounding: u64,
    pub ambient: u64,
    pub securebits: isize,
    pub no_new_privs: isize,
    pub seccomp: isize,
    /// `RLIMIT_AS` (`u64::MAX`: none).
    pub address_space: u64,
    pub open_files: u64,
}

impl Privileges {
    /// The calling process's.
    pub fn current() -> Self {
        let mut uids = [0u32; 3];
        let mut gids = [0u32; 3];
        let mut data = [CapData::default(); 2];
        let mut header = CapHeader {
            version: CAPABILITY_VERSION,
            pid: 0,
        };
        // SAFETY: Each pointer is to a `u32` the kernel fills in; capget
        // writes the two data words of version 3.
        unsafe {
            let [r, e, s] = uids.each_mut().map(|p| p as *mut u32 as usize);
            syscall5(nr::GETRESUID, r, e, s, 0, 0);
            let [r, e, s] = gids.each_mut().map(|p| p as *mut u32 as usize);
            syscall5(nr::GETRESGID, r, e, s, 0, 0);
            syscall5(
                nr::CAPGET,
                &mut header as *mut CapHeader as usize,
                data.as_mut_ptr() as usize,
                0,
                0,
                0,
            );
        }
        let set = |f: fn(&CapData) -> u32| u64::from(f(&data[0])) | u64::from(f(&data[1])) << 32;
        let mut bounding = 0;
        let mut ambient = 0;
        for cap in 0..64 {
            match prctl(PR_CAPBSET_READ, cap, 0) {
                r if r < 0 => break,
                r => bounding |= (r as u64) << cap,
            }
            let r = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap);
            ambient |= u64::from(r == 1) << cap;
        }
        Self {
            uids,
            gids,
            effective: set(|d| d.effective),
            permitted: set(|d| d.permitted),
            inheritable: set(|d| d.inheritable),
            bounding,
            ambient,
            securebits: prctl(PR_GET_SECUREBITS, 0, 0),
            no_new_privs: prctl(PR_GET_NO_NEW_PRIVS, 0, 0),
            seccomp: prctl(PR_GET_SECCOMP, 0, 0),
            address_space: rlimit(RLIMIT_AS),
            open_files: rlimit(RLIMIT_NOFILE),
        }
    }
}

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
