// SPDX-License-Identifier: GPL-2.0

//! The `kernel` crate items whose path or shape differs between the kernel
//! generations eprog builds for (Linux 6.12 and 7.x). Kbuild probes the
//! target kernel's crate and sets these cfgs; everything else is the same.
//!
//! - `eprog_module_authors`: `module!` takes a list of `authors` (7.x), not
//!   one `author` (6.12); see `eprog_main.rs`.
//! - `eprog_prelude_fmt`: the prelude's `fmt!` and the kernel's own
//!   `Display` trait (which it can implement for `core` types) replaced
//!   `kernel::fmt!` (plain `format_args!`) and `core::fmt::Display`.
//! - `eprog_core_cstr`: `kernel::str::CStr` is `core::ffi::CStr` (7.x), no
//!   longer the kernel's own type.

/// `format_args!` for the kernel's formatting functions.
#[cfg(not(eprog_prelude_fmt))]
pub(crate) use kernel::fmt;
/// `format_args!` for the kernel's formatting functions.
#[cfg(eprog_prelude_fmt)]
pub(crate) use kernel::prelude::fmt;

/// The trait to implement for `{}` in the kernel's formatting macros.
#[cfg(not(eprog_prelude_fmt))]
pub(crate) use core::fmt::Display;
/// The trait to implement for `{}` in the kernel's formatting macros.
#[cfg(eprog_prelude_fmt)]
pub(crate) use kernel::fmt::Display;

/// A C string's bytes, without the NUL.
pub(crate) fn c_str_bytes(s: &kernel::str::CStr) -> &[u8] {
    #[cfg(eprog_core_cstr)]
    return s.to_bytes();
    #[cfg(not(eprog_core_cstr))]
    return s.as_bytes();
}

/// An error code by its C name. The 6.12 `kernel` crate names only some of
/// them (`EINVAL`, `EAGAIN`...), 7.x most: this works on both.
macro_rules! code {
    ($name:ident) => {
        kernel::error::Error::from_errno(-(kernel::bindings::$name as i32))
    };
}
pub(crate) use code;
