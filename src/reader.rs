// SPDX-License-Identifier: GPL-2.0

//! The helper's stdout, read by whoever waits for it: the supervisor
//! thread, or a caller waiting for its reply. A caller that reads the pipe
//! itself is woken by the helper's write, not by the thread after it: one
//! wake-up less per call. While a caller reads, the thread's watch on the
//! pipe is quiet; it reads again when the caller hands the pipe back.
//! Either way, what a read brings is sorted by `inbound.rs`, one reader at
//! a time, under the reading lock; the channel's lock is taken after it,
//! never before.

use core::ptr::NonNull;
use kernel::new_mutex;
use kernel::prelude::*;
use kernel::sync::{Arc, Mutex};

use crate::bindings;
use crate::channel::Replies;
use crate::clock::{left_until, now_ms};
use crate::file::FileRef;
use crate::inbound::Inbound;
use crate::kernel_api::code;
use crate::process::Signaller;
use crate::steps::{self, Step};

/// What one read brought.
#[derive(Clone, Copy)]
pub(crate) enum Output {
    /// Nothing to sort (or only frames).
    Nothing,
    /// The helper said something: a line, or it opened the channel.
    Spoke,
    /// End of file.
    End,
    /// The helper broke the channel's protocol: it must be ended.
    Broken,
}

/// The helper's stdout and what sorts it.
#[pin_data]
pub(crate) struct Reader {
    #[pin]
    reading: Mutex<Reading>,
    watch: Watch,
}

struct Reading {
    /// The run's stdout, non-blocking: no one sleeps with the lock held.
    stdout: Option<FileRef>,
    inbound: Inbound,
    /// On the heap: too big for a kernel stack.
    buf: KVec<u8>,
    /// How the run's output ended, once a read saw it.
    end: Option<Output>,
    /// A caller reads: the thread does not.
    quiet: bool,
    /// A caller's read had the helper say something.
    spoke: bool,
}

impl Reader {
    /// A reader that sorts with `inbound`, before any run.
    pub(crate) fn new(inbound: Inbound) -> Result<Arc<Self>> {
        let mut buf = KVec::new();
        buf.extend_with(4096, 0, GFP_KERNEL)?;
        let reading = Reading {
            stdout: None,
            inbound,
            buf,
            end: None,
            quiet: false,
            spoke: false,
        };
        let watch = Watch::new()?;
        Arc::pin_init(
            try_pin_init!(Self {
                reading <- new_mutex!(reading),
                watch,
            }? Error),
            GFP_KERNEL,
        )
    }

    /// A new run of the helper, with these pipes.
    pub(crate) fn begin(self: &Arc<Self>, stdout: FileRef, stdin: FileRef, helper: Signaller) {
        stdout.set_nonblocking();
        let replies: Arc<dyn Replies> = self.clone();
        let mut r = self.reading.lock();
        r.stdout = Some(stdout);
        r.end = None;
        r.inbound.begin(stdin, helper, replies);
    }

    /// The run has ended: see [`Inbound::end`]. The next run's output
    /// wakes the thread even if a caller has yet to hand this one's back.
    pub(crate) fn end(&self) {
        let mut r = self.reading.lock();
        r.inbound.end();
        if let Some(stdout) = r.stdout.take() {
            self.watch.quiet(&stdout, false, false);
        }
        r.quiet = false;
        r.end = None;
    }

    /// For the supervisor thread: waits until `stdout` has something to
    /// read and no caller reads it, or a caller handed it back with
    /// something to see to (`Ok(true)`); or until `timeout_ms` passes
    /// (`Ok(false)`); a stop gets `EINTR`.
    pub(crate) fn wait(&self, stdout: &FileRef, timeout_ms: Option<u64>) -> Result<bool> {
        self.watch.wait(stdout, timeout_ms)
    }

    /// For the supervisor thread: reads once, unless a caller reads.
    pub(crate) fn read_for_thread(&self) -> Output {
        let mut r = self.reading.lock();
        if r.quiet {
            return Output::Nothing;
        }
        let out = r.read_once();
        match out {
            Output::Nothing if core::mem::take(&mut r.spoke) => Output::Spoke,
            out => out,
        }
    }

    /// When suppressed records are due to be reported (see `RateLimit`).
    pub(crate) fn report_due(&self) -> Option<u64> {
        self.reading.lock().inbound.report_due()
    }

    /// Reports the suppressed records that are due at `now_ms`.
    pub(crate) fn report_due_now(&self, now_ms: u64) {
        self.reading.lock().inbound.report_due_now(now_ms);
    }

    /// The run's stdout, while it may still be read.
    fn stdout(&self) -> Option<FileRef> {
        let r = self.reading.lock();
        r.stdout.clone().filter(|_| r.end.is_none())
    }
}

impl Replies for Reader {
    fn take(&self) -> bool {
        let mut r = self.reading.lock();
        let Some(stdout) = &r.stdout else {
            return false;
        };
        if r.end.is_some() {
            return false;
        }
        // Under the lock: the thread reads nothing from now on.
        self.watch.quiet(stdout, true, false);
        r.quiet = true;
        true
    }

    fn read(&self, deadline: u64) -> Result<bool> {
        let Some(stdout) = self.stdout() else {
            return Ok(false);
        };
        if !stdout.wait_readable(Some(left_until(deadline)?))? {
            return Err(code!(ETIMEDOUT));
        }
        let out = {
            let mut r = self.reading.lock();
            let out = r.read_once();
            r.spoke |= matches!(out, Output::Spoke);
            out
        };
        // A helper that writes as fast as it can must not hog this CPU.
        // SAFETY: Called from a caller's own context, which may sleep.
        unsafe { bindings::eprog_cond_resched() };
        Ok(matches!(out, Output::Nothing | Output::Spoke))
    }

    fn hand_back(&self) {
        let mut r = self.reading.lock();
        r.quiet = false;
        // What the thread must see to at once: the end, or a report due.
        let wake = r.end.is_some() || r.inbound.report_due().is_some();
        if let Some(stdout) = &r.stdout {
            self.watch.quiet(stdout, false, wake);
        }
    }
}

impl Reading {
    /// Reads what is there without waiting, and sorts it.
    fn read_once(&mut self) -> Output {
        if let Some(end) = self.end {
            return end;
        }
        let Self {
            stdout,
            inbound,
            buf,
            end,
            ..
        } = self;
        let Some(stdout) = stdout else {
            return Output::End;
        };
        let out = match stdout.read(&mut buf[..]) {
            Ok(0) => Output::End,
            Ok(n) => {
                steps::stamp(Step::Read);
                match inbound.feed(&buf[..n], now_ms()) {
                    Ok(true) => Output::Spoke,
                    Ok(false) => Output::Nothing,
                    Err(_) => Output::Broken,
                }
            }
            Err(e) if e == EAGAIN || e == ERESTARTSYS || e == EINTR => Output::Nothing,
            Err(e) => {
                pr_err!("reading the helper's output failed: {:?}\n", e);
                Output::End
            }
        };
        if matches!(out, Output::End | Output::Broken) {
            *end = Some(out);
        }
        out
    }
}

/// The supervisor thread's watch on the helper's stdout (`umd_glue.c`),
/// which a caller quiets while it reads.
///
/// # Invariants
///
/// `self.0` is a watch from `eprog_watch_new()`, owned by this value.
struct Watch(NonNull<bindings::eprog_watch>);

// SAFETY: The watch is locked inside; its functions may be called from any
// thread.
unsafe impl Send for Watch {}
// SAFETY: As above.
unsafe impl Sync for Watch {}

impl Watch {
    fn new() -> Result<Self> {
        // SAFETY: No preconditions; the new watch is owned by the value.
        NonNull::new(unsafe { bindings::eprog_watch_new() })
            .map(Self)
            .ok_or(ENOMEM)
    }

    fn wait(&self, file: &FileRef, timeout_ms: Option<u64>) -> Result<bool> {
        let ms = timeout_ms.map_or(-1, |ms| ms.min(i32::MAX as u64) as kernel::ffi::c_long);
        // SAFETY: The watch is valid by the type invariant, the file by its
        // own.
        let ret = unsafe { bindings::eprog_watch_wait(self.0.as_ptr(), file.as_ptr(), ms) };
        kernel::error::to_result(ret)?;
        Ok(ret > 0)
    }

    fn quiet(&self, file: &FileRef, quiet: bool, wake: bool) {
        // SAFETY: The watch is valid by the type invariant, the file by its
        // own.
        unsafe { bindings::eprog_watch_quiet(self.0.as_ptr(), file.as_ptr(), quiet, wake) };
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        // SAFETY: Owned by this value (type invariant), and no thread waits
        // on it: the supervisor thread waits only while the reader is alive.
        unsafe { bindings::eprog_watch_free(self.0.as_ptr()) };
    }
}
