// SPDX-License-Identifier: GPL-2.0

//! A tiny runtime for eprog helpers: no libc, no `std`, no file system.
//!
//! eprog starts its helper from a private tmpfs with only two pipes: fd 0
//! from the kernel and fd 1 to the kernel (fd 2 is closed, and there may be
//! no `/dev/null` or `/proc` at all). `std`'s start-up aborts in that world,
//! so helpers use this crate instead: write an ordinary `fn main() -> i32`
//! and name it with [`main!`].
//!
//! ```ignore
//! #![no_std]
//! #![no_main]
//! umh::main!(main);
//! fn main() -> i32 {
//!     umh::print(b"Hello from user space\n");
//!     0
//! }
//! ```
//!
//! A helper that the kernel calls like a function serves its requests with
//! [`serve`] (see [`channel`]).
#![cfg_attr(not(test), no_std)]

#[cfg(not(test))]
mod args;
pub mod attempt;
pub mod channel;
mod config;
// The kernel's confinement record, compiled here too.
#[path = "../../src/confinement.rs"]
mod confinement;
// The module's wire format, compiled here too.
#[path = "../../src/frame.rs"]
#[allow(dead_code)]
mod frame;
mod io;
#[cfg(not(test))]
mod mem;
pub mod privilege;
#[cfg(not(test))]
mod rt;
pub mod seccomp;
pub mod settings;
#[cfg_attr(test, allow(dead_code))] // Some calls serve only the runtime proper.
mod syscall;

#[cfg(not(test))]
pub use args::arg;
pub use channel::{serve, serve_every, Reply};
pub use config::{config_value, read_config_line};
pub use io::{decimal, print, Stdout};
pub use syscall::nr;
pub use syscall::{
    close, close_from, exec, exit, fork, ignore_children, is_open, monotonic_ns, read, sleep_ms,
    unshare, wait_child, wait_readable, write, CLONE_NEWPID,
};

/// Names the helper's `fn main() -> i32`; its result is the exit status.
///
/// Before `main`, the runtime locks the helper down (see [`seccomp`]): it
/// may make the runtime's own system calls and those listed after `allow:`
/// (numbers from [`nr`]); any other kills it with `SIGSYS`. `unconfined`
/// skips the lock-down (eprog's launcher, which confines the helper in
/// other ways first).
#[macro_export]
macro_rules! main {
    ($main:path) => {
        $crate::main!($main, allow: []);
    };
    ($main:path, allow: [$($call:expr),* $(,)?]) => {
        $crate::main!(@define $main, Some(&[$($call),*]));
    };
    ($main:path, unconfined) => {
        $crate::main!(@define $main, None);
    };
    (@define $main:path, $allowed:expr) => {
        /// Called by the runtime's entry point once the process is set up.
        #[no_mangle]
        pub fn __umh_main() -> i32 {
            $main()
        }

        /// The system calls the helper makes besides the runtime's, or
        /// `None` for no lock-down.
        #[no_mangle]
        pub fn __umh_allowed() -> Option<&'static [usize]> {
            $allowed
        }
    };
}
