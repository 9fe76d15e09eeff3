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

pub(crate) fn prctl(option: usize, arg: usize, arg3: usize) -> isize {
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
