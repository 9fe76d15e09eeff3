// SPDX-License-Identifier: GPL-2.0

//! The C functions eprog calls beyond the `kernel` crate: the User Mode Driver
//! API and `umd_glue.c`, declared by bindgen from the target kernel's headers
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
pub(crate) use kernel::bindings::{file, loff_t, path, pid, pid_t, task_struct};
/// C's `bool` (`_Bool`), which Rust's `bool` matches.
pub(crate) type bool_ = bool;
/// The kernel's `u64`, which bindgen renames to keep clear of Rust's.
pub(crate) type u64_ = u64;

include!(env!("EPROG_UMD_BINDINGS"));
