// SPDX-License-Identifier: GPL-2.0

//! The program's arguments, as the kernel laid them out on the stack.

use core::ffi::{c_char, CStr};
use core::sync::atomic::{AtomicPtr, Ordering};

/// The initial stack: argc, then argc pointers to the arguments.
static STACK: AtomicPtr<usize> = AtomicPtr::new(core::ptr::null_mut());

/// Called once by the entry point with the stack pointer it was given.
pub(crate) fn init(stack: *const usize) {
    STACK.store(stack.cast_mut(), Ordering::Relaxed);
}

/// Argument `n` (0 is the program's name), if there is one.
pub fn arg(n: usize) -> Option<&'static CStr> {
    let stack = STACK.load(Ordering::Relaxed);
    if stack.is_null() {
        return None;
    }
    // SAFETY: `stack` is the initial stack pointer (see `init`), where the
    // kernel put argc and, after it, argc valid pointers to NUL-terminated
    // strings that live as long as the process and are never written.
    unsafe {
        if n >= *stack {
            return None;
        }
        let ptr = *stack.add(1 + n) as *const c_char;
        Some(CStr::from_ptr(ptr))
    }
}
