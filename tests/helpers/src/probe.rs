// SPDX-License-Identifier: GPL-2.0

//! The least-privilege probe: reports what the helper holds and what it
//! sees, then tries what a compromised helper would, each attempt's result
//! an errno name (or `ok`), one line each:
//!
//! ```text
//! probe ids uid=65534/65534/65534 gid=65534/65534/65534
//! probe caps effective=0x0 permitted=0x0 inheritable=0x0 bounding=0x0 ambient=0x0
//! probe flags securebits=0x2f no_new_privs=1 seccomp=2
//! probe limits as=1073741824 nofile=64
//! probe sees / eprog_launch eprog_user
//! probe try read-initramfs ENOENT
//! ```
//!
//! Then it waits, so that its lines are read before it ends. With
//! `mode=fill` on its configuration line it only tries to fill its root
//! instead: 64 MiB into a new file, says how far it got
//! (`probe fill /fill0 EACCES`), and fails, to be restarted.
#![no_std]
#![no_main]

use umh::attempt;
use umh::privilege::{self, Privileges};

// What it reports, and what it tries: the confinement, not the lock-down,
// must refuse these.
umh::main!(
    main,
    allow: [
        umh::nr::GETRESUID,
        umh::nr::GETRESGID,
        umh::nr::CAPGET,
        umh::nr::PRCTL,
        umh::nr::PRLIMIT64,
        umh::nr::OPENAT,
        umh::nr::GETDENTS64,
        umh::nr::SETRESUID,
        umh::nr::INIT_MODULE,
        umh::nr::SOCKET,
        umh::nr::CLONE,
        umh::nr::PTRACE,
        umh::nr::KILL,
        umh::nr::WAIT4,
    ]
);

fn main() -> i32 {
    let mut buf = [0u8; 128];
    if umh::read_config_line(&mut buf)
        .split(|&b| b == b' ')
        .any(|pair| pair == b"mode=fill")
    {
        return fill();
    }
    let p = Privileges::current();
    let mut out = Out::default();
    out.push(b"probe ids uid=");
    ids(&mut out, p.uids);
    out.push(b" gid=");
    ids(&mut out, p.gids);
    out.push(b"\nprobe caps");
    for (name, set) in [
        (&b" effective="[..], p.effective),
        (b" permitted=", p.permitted),
        (b" inheritable=", p.inheritable),
        (b" bounding=", p.bounding),
        (b" ambient=", p.ambient),
    ] {
        out.push(name);
        hex(&mut out, set);
    }
    out.push(b"\nprobe flags securebits=");
    hex(&mut out, p.securebits as u64);
    out.push(b" no_new_privs=");
    out.number(p.no_new_privs as u64);
    out.push(b" seccomp=");
    if p.seccomp < 0 {
        out.push(errno(p.seccomp));
    } else {
        out.number(p.seccomp as u64);
    }
    out.push(b"\nprobe limits as=");
    out.number(p.address_space);
    out.push(b" nofile=");
    out.number(p.open_files);
    // Its open file descriptors, of the first 64 (its limit).
    out.push(b"\nprobe fds");
    for fd in 0..64 {
        if umh::is_open(fd) {
            out.push(b" ");
            out.number(fd as u64);
        }
    }
    out.push(b"\nprobe sees /");
    let listed = attempt::list_dir(c"/", |name| {
        if name != b"." && name != b".." {
            out.push(b" ");
            out.push(name);
        }
    });
    if listed < 0 {
        out.push(b" ");
        out.push(errno(listed));
    }
    out.push(b"\n");
    for (what, result) in [
        // The initramfs's init script: a file of the host.
        (&b"read-initramfs"[..], attempt::open(c"/init", false)),
        (
            b"write-proc-sys",
            attempt::open(c"/proc/sys/vm/drop_caches", true),
        ),
        (b"setuid-root", privilege::set_uid(0)),
        // A file of its own in its root, which could fill memory.
        (b"write-root", attempt::create_file(c"/scratch", b"x")),
        (b"raw-socket", attempt::open_raw_socket()),
        (b"load-module", attempt::load_empty_module()),
        // Any other process: in its pid namespace there is none.
        (b"signal-others", attempt::signal_others()),
        (b"ptrace-guarded", attempt::trace_guarded_child()),
        // 'h' only prints the sysrq help to the kernel log.
        (
            b"write-sysrq",
            attempt::write_file(c"/proc/sysrq-trigger", b"h"),
        ),
    ] {
        out.push(b"probe try ");
        out.push(what);
        out.push(b" ");
        out.push(if result >= 0 { b"ok" } else { errno(result) });
        out.push(b"\n");
    }
    out.flush();
    loop {
        umh::sleep_ms(60_000);
    }
}

/// Writes 64 MiB into the first of `/fill0`, `/fill1`, ... that does not
/// exist yet (each run a new file, if its root lets it), reports, fails.
fn fill() -> i32 {
    const EEXIST: isize = 17;
    let chunk = [b'x'; 4096];
    let mut out = Out::default();
    for name in [c"/fill0", c"/fill1", c"/fill2", c"/fill3", c"/fill4"] {
        let result = attempt::fill_file(name, &chunk, (64 << 20) / chunk.len());
        if result == -EEXIST {
            continue;
        }
        out.push(b"probe fill ");
        out.push(name.to_bytes());
        out.push(b" ");
        if result < 0 {
            out.push(errno(result));
        } else {
            out.number(result as u64);
        }
        out.push(b"\n");
        break;
    }
    out.flush();
    1
}

fn ids(out: &mut Out, ids: [u32; 3]) {
    for (i, id) in ids.into_iter().enumerate() {
        if i > 0 {
            out.push(b"/");
        }
        out.number(u64::from(id));
    }
}

fn hex(out: &mut Out, mut n: u64) {
    let mut digits = [0u8; 16];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b"0123456789abcdef"[(n & 15) as usize];
        n >>= 4;
        if n == 0 {
            break;
        }
    }
    out.push(b"0x");
    out.push(&digits[at..]);
}

/// The name of `-errno` `e`.
fn errno(e: isize) -> &'static [u8] {
    match -e {
        1 => b"EPERM",
        2 => b"ENOENT",
        3 => b"ESRCH",
        8 => b"ENOEXEC",
        13 => b"EACCES",
        14 => b"EFAULT",
        22 => b"EINVAL",
        30 => b"EROFS",
        38 => b"ENOSYS",
        97 => b"EAFNOSUPPORT",
        _ => b"other",
    }
}

/// The probe's report, written at once: a line is never split by a wait.
struct Out {
    buf: [u8; 2048],
    len: usize,
}

impl Default for Out {
    fn default() -> Self {
        Self {
            buf: [0; 2048],
            len: 0,
        }
    }
}

impl Out {
    fn push(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if let Some(slot) = self.buf.get_mut(self.len) {
                *slot = b;
                self.len += 1;
            }
        }
    }

    fn number(&mut self, n: u64) {
        self.push(umh::decimal(n, &mut [0u8; 20]));
    }

    fn flush(&mut self) {
        umh::print(&self.buf[..self.len]);
        self.len = 0;
    }
}
