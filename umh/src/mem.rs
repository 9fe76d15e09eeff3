// SPDX-License-Identifier: GPL-2.0

//! The memory functions the compiler may call (libc would provide them).
//!
//! Copies and fills go through volatile accesses: LLVM would otherwise
//! recognise the loops as memcpy/memset and turn them into calls to
//! themselves. Helpers move few bytes, so byte loops are fast enough.

use core::ptr::{read_volatile, write_volatile};

/// # Safety
///
/// `dst` and `src` must be valid for `n` bytes and must not overlap.
#[no_mangle]
pub unsafe extern "C" fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    for i in 0..n {
        // SAFETY: `i < n` and the caller guarantees both ranges are valid.
        unsafe { write_volatile(dst.add(i), read_volatile(src.add(i))) };
    }
    dst
}

/// # Safety
///
/// `dst` and `src` must be valid for `n` bytes; they may overlap.
#[no_mangle]
pub unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if (dst as usize) <= (src as usize) {
        // SAFETY: Copying forwards is safe for overlap with `dst` first.
        return unsafe { memcpy(dst, src, n) };
    }
    for i in (0..n).rev() {
        // SAFETY: `i < n`; copying backwards handles `dst` after `src`.
        unsafe { write_volatile(dst.add(i), read_volatile(src.add(i))) };
    }
    dst
}

/// # Safety
///
/// `dst` must be valid for writes of `n` bytes.
#[no_mangle]
pub unsafe extern "C" fn memset(dst: *mut u8, c: i32, n: usize) -> *mut u8 {
    for i in 0..n {
        // SAFETY: `i < n` and the caller guarantees the range is valid.
        unsafe { write_volatile(dst.add(i), c as u8) };
    }
    dst
}

/// # Safety
///
/// `a` and `b` must be valid for reads of `n` bytes.
#[no_mangle]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    for i in 0..n {
        // SAFETY: `i < n` and the caller guarantees both ranges are valid.
        let (x, y) = unsafe { (*a.add(i), *b.add(i)) };
        if x != y {
            return i32::from(x) - i32::from(y);
        }
    }
    0
}

/// # Safety
///
/// As for [`memcmp`].
#[no_mangle]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: Same contract as `memcmp`.
    unsafe { memcmp(a, b, n) }
}

/// # Safety
///
/// `s` must point to a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn strlen(s: *const u8) -> usize {
    let mut n = 0;
    // SAFETY: The string is NUL-terminated (caller), so every byte up to
    // and including the NUL is readable. Volatile: see the module's docs.
    while unsafe { read_volatile(s.add(n)) } != 0 {
        n += 1;
    }
    n
}

/// On aarch64, Rust's atomic read-modify-write operations (`AtomicBool::swap`
/// in the channel's server) go through compiler-builtins' outline atomics,
/// which link against libc's `getauxval` to detect LSE instructions in a
/// constructor. The runtime runs no constructors, so the detection never
/// runs and the portable exclusive load/store sequences are used; this
/// answers the linker, and any caller, with "no such entry".
#[cfg(target_arch = "aarch64")]
#[no_mangle]
pub extern "C" fn getauxval(_type: core::ffi::c_ulong) -> core::ffi::c_ulong {
    0
}
