// SPDX-License-Identifier: GPL-2.0

//! The C functions eprog calls beyond the `kernel` crate: the User Mode Driver
//! API (the kernel's or eprog's own) and `umd_glue.c`, declared by bindgen from the target kernel's headers
//! at build time (see `Kbuild`).
#![allow(
    clippy::all,
    clippy::undocumented_unsafe_blocks,
    dead_code,
    improper_ctypes,
    missing_docs,
    non_camel_case_types,
    non_snake_case,
    non_upper_case_globals,
    unreachable_pub
)]

// bindgen runs with --no-recursive-allowlist: the types below come from the
// kernel crate, generated from the same headers.
pub(crate) use kernel::bindings::{device, file, loff_t, module, path, pid, pid_t, task_struct};
/// C's `bool` (`_Bool`), which Rust's `bool` matches.
pub(crate) type bool_ = bool;
/// The kernel's `u64`, which bindgen renames to keep clear of Rust's.
pub(crate) type u64_ = u64;

include!(env!("EPROG_UMD_BINDINGS"));

// Where the kernel has no User Mode Driver API (USERMODE_DRIVER off, or Linux
// 6.17 and later), eprog's own core (`umd_core.c`, part of eprog) offers the
// same operations under its own names; Kbuild sets `eprog_umd_core` then.
#[cfg(eprog_umd_core)]
pub(crate) use self::{
    eprog_umd as umd_info, eprog_umd_cleanup as umd_cleanup_helper,
    eprog_umd_fork as fork_usermode_driver, eprog_umd_load_blob as umd_load_blob,
    eprog_umd_unload_blob as umd_unload_blob,
};
