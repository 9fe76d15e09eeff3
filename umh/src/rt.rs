// SPDX-License-Identifier: GPL-2.0

//! Process entry and panics: what a C runtime's crt1.o and abort() would do.

extern "Rust" {
    /// The helper's main function, defined by [`crate::main!`].
    fn __umh_main() -> i32;
    /// The helper's own system calls, defined by [`crate::main!`].
    fn __umh_allowed() -> Option<&'static [usize]>;
}

// The kernel enters at `_start` with the stack pointer on argc; nothing else
// is set up. Clear the frame pointer for unwinders, hand the stack pointer
// to Rust (for the arguments) and align the stack as the C ABI requires.
#[cfg(target_arch = "x86_64")]
core::arch::global_asm!(
    ".globl _start",
    "_start:",
    "xor ebp, ebp",
    "mov rdi, rsp",
    "and rsp, -16",
    "call {start}",
    "ud2",
    start = sym start,
);

#[cfg(target_arch = "aarch64")]
core::arch::global_asm!(
    ".globl _start",
    "_start:",
    "mov x29, xzr",
    "mov x30, xzr",
    "mov x0, sp",
    "bl {start}",
    "udf #0",
    start = sym start,
);

extern "C" fn start(stack: *const usize) -> ! {
    crate::args::init(stack);
    // eprog starts helpers with fd 2 closed. Point it at stdout, so that
    // whatever a helper writes to stderr reaches the kernel log too (and no
    // file it opens later becomes fd 2 by accident).
    if !crate::syscall::is_open(2) {
        crate::syscall::dup2(1, 2);
    }
    // SAFETY: `__umh_allowed` is the safe function that `main!` defines;
    // an extern block only cannot declare it safe.
    if let Some(extra) = unsafe { __umh_allowed() } {
        let e = crate::seccomp::lock_down(extra);
        if e < 0 {
            crate::print(b"umh: cannot lock the helper down: errno ");
            crate::print(crate::io::decimal(-e as u64, &mut [0; 20]));
            crate::print(b"\n");
            crate::exit(-e as i32);
        }
    }
    // SAFETY: As above, for `__umh_main`.
    let code = unsafe { __umh_main() };
    crate::exit(code)
}

/// Reports a panic on stdout, so it reaches the kernel log, and exits
/// with status 101 like a `std` program would. Without `core::fmt`, which
/// would triple the helper's size: a message with arguments is reported
/// by its location only.
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let print = crate::print;
    print(b"panic: ");
    if let Some(message) = info.message().as_str() {
        print(message.as_bytes());
    } else {
        print(b"(formatted message)");
    }
    if let Some(location) = info.location() {
        print(b" at ");
        print(location.file().as_bytes());
        print(b":");
        print(crate::io::decimal(location.line(), &mut [0; 10]));
    }
    print(b"\n");
    crate::exit(101)
}
