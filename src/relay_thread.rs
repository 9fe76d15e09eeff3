// SPDX-License-Identifier: GPL-2.0

//! The kernel thread that reads a helper's stdout and logs each line.

use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, Ordering};
use kernel::error::to_result;
use kernel::ffi::{c_int, c_void};
use kernel::prelude::*;

use crate::bindings;
use crate::file::FileRef;
use crate::relay::{LineAssembler, Record};

/// What the thread shares with its owner.
struct Shared {
    stdout: FileRef,
    stopping: AtomicBool,
}

/// A running relay thread; dropping it stops the thread and waits for it.
///
/// # Invariants
///
/// `task` is a started kernel thread running [`relay_main`] on `shared`,
/// with a task reference owned by this value.
pub(crate) struct RelayThread {
    task: NonNull<bindings::task_struct>,
    shared: KBox<Shared>,
}

// SAFETY: The task reference may be dropped from any thread, and `Shared`
// is `Sync` (a file reference and an atomic).
unsafe impl Send for RelayThread {}
// SAFETY: No `&self` method exists; nothing is shared through `&RelayThread`.
unsafe impl Sync for RelayThread {}

impl RelayThread {
    /// Starts a kernel thread named `eprog_relay` that relays `stdout`.
    pub(crate) fn spawn(stdout: FileRef) -> Result<Self> {
        let shared = KBox::new(
            Shared {
                stdout,
                stopping: AtomicBool::new(false),
            },
            GFP_KERNEL,
        )?;
        let mut task = core::ptr::null_mut();
        // SAFETY: `relay_main` has the kthread signature; it gets a pointer to
        // `shared`, which `Drop` keeps alive until the thread has ended.
        to_result(unsafe {
            bindings::eprog_kthread_start(
                Some(relay_main),
                &*shared as *const Shared as *mut c_void,
                kernel::c_str!("eprog_relay").as_char_ptr(),
                &mut task,
            )
        })?;
        let task = NonNull::new(task).ok_or(EINVAL)?;
        Ok(Self { task, shared })
    }
}

impl Drop for RelayThread {
    fn drop(&mut self) {
        // Seen by the thread before its next read, or after the signal below
        // interrupts the read it is blocked in.
        self.shared.stopping.store(true, Ordering::SeqCst);
        // SAFETY: `task` is our started thread (invariant); this consumes our
        // reference and returns once the thread has ended, so `shared` is
        // no longer used when it is dropped after this.
        unsafe { bindings::eprog_kthread_kill_stop(self.task.as_ptr()) };
    }
}

/// Logs one record in the kernel log.
fn log(record: Record<'_>) {
    pr_info!("From userspace: {}{}\n", record.text, record.mark());
}

/// The thread: reads until the helper is gone (end of file) or the owner
/// stops it, then flushes an unfinished last line.
extern "C" fn relay_main(data: *mut c_void) -> c_int {
    // SAFETY: `data` is the `Shared` that `RelayThread` keeps alive until
    // this thread has ended (see `RelayThread::spawn`).
    let shared = unsafe { &*(data as *const Shared) };
    // SAFETY: Called from the kernel thread itself.
    unsafe { bindings::eprog_allow_kill() };
    let mut lines = LineAssembler::new();
    let mut buf = [0u8; 256];
    while !shared.stopping.load(Ordering::SeqCst) {
        match shared.stdout.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => lines.feed(&buf[..n], &mut log),
            Err(e) if e == ERESTARTSYS || e == EINTR => {
                // A stray signal (we only stop by setting `stopping` first):
                // forget it so the next read blocks again.
                // SAFETY: Called from the kernel thread itself.
                unsafe { bindings::eprog_flush_signals() };
            }
            Err(e) => {
                pr_err!("reading the helper's output failed: {:?}\n", e);
                break;
            }
        }
    }
    lines.finish(&mut log);
    0
}
