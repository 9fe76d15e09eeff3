// SPDX-License-Identifier: GPL-2.0

//! eprog's launcher: starts the helper as the init of a new pid namespace.
//!
//! The kernel runs this program with the User Mode Driver API; it starts
//! the real helper, `eprog_user`, from the same private tmpfs as the first
//! process of a pid namespace of its own. When that process ends, the
//! kernel kills everything left in its namespace, so nothing the helper
//! started (a child that kept stdout, a double-forked orphan) outlives it.
//!
//! What it tells the kernel, on stdout, before the helper can write there:
//! the helper's pid as a native-endian `i32`, or a negative errno if it
//! could not fork one. The child then waits for the kernel's confinement
//! record on stdin (`src/confinement.rs`), also its sign that it holds a
//! reference to the child's task (so the helper's exit status can never be
//! lost), confines itself as the record says and execs the helper; if that
//! fails, the child exits with the errno, and the kernel, which sees that
//! no exec happened, reports it as a failed start.
#![no_std]
#![no_main]

use umh::privilege::{self, Confinement, RECORD_LEN};

// The launcher confines the helper itself, with calls no helper may make.
umh::main!(main, unconfined);

/// The helper's file in the tmpfs, the current directory.
const HELPER: &core::ffi::CStr = c"eprog_user";

fn main() -> i32 {
    // Released as soon as it ends, never a zombie: the kernel reads its
    // status from the task it holds, not from this process.
    umh::ignore_children(true);
    let child = match umh::unshare(umh::CLONE_NEWPID) {
        0 => umh::fork(),
        e => e,
    };
    if child == 0 {
        run_helper();
    }
    umh::print(&(child as i32).to_ne_bytes());
    if child < 0 {
        return -child as i32;
    }
    // Hold no end of the kernel's pipes: its end of file must mean that the
    // helper (and whatever shares its stdout) is gone.
    for fd in 0..3 {
        umh::close(fd);
    }
    while umh::wait_child() != -10 {} // ECHILD: the helper is gone.
    0
}

/// In the child, pid 1 of the new namespace: waits for the kernel's
/// confinement record, confines itself, then becomes the helper.
fn run_helper() -> ! {
    umh::ignore_children(false);
    let mut record = [0u8; RECORD_LEN];
    let mut got = 0;
    while got < RECORD_LEN {
        match umh::read(0, &mut record[got..]) {
            n if n > 0 => got += n as usize,
            _ => umh::exit(32), // EPIPE: the kernel has gone.
        }
    }
    let Some(confinement) = Confinement::decode(&record) else {
        umh::exit(22) // EINVAL: not a record of this version.
    };
    if let Err(e) = privilege::confine(&confinement) {
        umh::exit(-e as i32);
    }
    // The helper gets stdin and stdout only. A new usermode-helper process
    // has a copy of the kernel threads' file table, which a module may have
    // left an fd in (the kernel's UMD code replaces only fds 0 and 1).
    if umh::close_from(2) < 0 {
        umh::exit(9) // EBADF: a file the helper must not get stays open.
    }
    let e = umh::exec(HELPER);
    umh::exit(-e as i32)
}
