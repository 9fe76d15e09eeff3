// SPDX-License-Identifier: GPL-2.0

//! The supervisor: a kernel thread that owns the helper. It starts it,
//! hands its output to `inbound.rs` (log lines, the channel's replies),
//! notices its end at once and logs why, and restarts it as the `restart`
//! policy says, with exponential backoff and a limit on restarts in a row
//! (a run that lasts `restart_reset_ms` ends the row). A helper that
//! breaks the channel's protocol is ended, and the policy applies.

use core::cell::UnsafeCell;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, Ordering};
use kernel::error::to_result;
use kernel::ffi::{c_int, c_void};
use kernel::new_condvar;
use kernel::new_spinlock;
use kernel::prelude::*;
use kernel::str::CString;
use kernel::sync::{Arc, CondVar, CondVarTimeoutResult, SpinLock};
use kernel::time::msecs_to_jiffies;

use crate::bindings;
use crate::channel::Channel;
use crate::file::FileRef;
use crate::inbound::Inbound;
use crate::kernel_api;
use crate::params::{Params, Restart};
use crate::process::{ExitStatus, Outcome};
use crate::relay::RateLimit;
use crate::umd::Umd;

/// First and longest wait before a restart.
const BACKOFF_FIRST_MS: u32 = 100;
const BACKOFF_MAX_MS: u32 = 10_000;

/// What init learns about the helper's first run. Only `Pending` changes,
/// once: whoever moves it on (the thread, or init giving up waiting)
/// decides who handles the first run's end.
#[derive(Clone, Copy)]
enum Startup {
    /// Init waits for the first line.
    Pending,
    /// The helper wrote its first line.
    Talking,
    /// It could not start, or ended before its first line: init fails with
    /// this error, and the thread ends.
    Failed(Error),
    /// Init no longer waits (built in, or `start_timeout_ms` passed): the
    /// restart policy handles whatever happens next.
    Detached,
}

/// What only the supervisor thread touches while it runs.
struct Worker {
    helper: Umd,
    inbound: Inbound,
    /// On the heap: too big for a kernel stack.
    buf: KVec<u8>,
}

/// The state the supervisor shares with its owner.
///
/// # Invariants
///
/// `worker` is only accessed by the supervisor thread while it runs, and by
/// the owner once the thread has ended or before it started.
#[pin_data]
struct Shared {
    worker: UnsafeCell<Worker>,
    params: Params,
    channel: Arc<Channel>,
    /// `startup` is no longer `Pending`.
    started: AtomicBool,
    #[pin]
    startup: SpinLock<Startup>,
    #[pin]
    startup_changed: CondVar,
}

// SAFETY: `worker` is used by one thread at a time (type invariant); the rest
// is immutable, atomic, or behind a lock.
unsafe impl Sync for Shared {}
// SAFETY: As above; every field may be dropped on any thread.
unsafe impl Send for Shared {}

/// A running supervisor. Dropping it stops the thread, which kills the
/// helper first; then the helper's tmpfs is freed.
///
/// # Invariants
///
/// `task` is a started kernel thread running [`supervisor_main`] on
/// `shared`, with a task reference owned by this value.
pub(crate) struct Supervisor {
    task: NonNull<bindings::task_struct>,
    shared: Pin<KBox<Shared>>,
}

// SAFETY: The task reference may be dropped from any thread; `Shared` is
// `Sync` and `Send`.
unsafe impl Send for Supervisor {}
// SAFETY: `&Supervisor` only reaches `Shared`'s lock and condition variable.
unsafe impl Sync for Supervisor {}

impl Supervisor {
    /// Starts the kernel thread `eprog_supervise`, which runs `helper` and
    /// connects it to `channel` whenever it opens the channel.
    pub(crate) fn spawn(helper: Umd, params: Params, channel: Arc<Channel>) -> Result<Self> {
        let limit = RateLimit::new(params.ratelimit_burst, params.ratelimit_interval_ms.into());
        let worker = Worker {
            helper,
            inbound: Inbound::new(limit, params.max_message, channel.clone()),
            buf: read_buffer()?,
        };
        let shared = KBox::pin_init(
            pin_init!(Shared {
                worker: UnsafeCell::new(worker),
                params,
                channel,
                started: AtomicBool::new(false),
                startup <- new_spinlock!(Startup::Pending),
                startup_changed <- new_condvar!(),
            }),
            GFP_KERNEL,
        )?;
        let mut task = core::ptr::null_mut();
        // SAFETY: `supervisor_main` has the kthread signature; it gets a
        // pointer to `shared`, which is pinned and which `Drop` keeps alive
        // until the thread has ended.
        to_result(unsafe {
            bindings::eprog_kthread_start(
                Some(supervisor_main),
                core::ptr::from_ref::<Shared>(&shared)
                    .cast_mut()
                    .cast::<c_void>(),
                kernel::c_str!("eprog_supervise").as_char_ptr(),
                &mut task,
            )
        })?;
        let task = NonNull::new(task).ok_or(EINVAL)?;
        Ok(Self { task, shared })
    }

    /// Waits for the helper's first line. Fails with the reason if the
    /// helper could not start or ended before saying anything; a helper that
    /// is still silent after `start_timeout_ms` is left running, under the
    /// restart policy. Built in, it does not wait at all: boot must never
    /// stall on the helper, and there is no insmod to fail.
    pub(crate) fn wait_for_first_line(&self) -> Result {
        let shared = &self.shared;
        // SAFETY: No preconditions.
        if !unsafe { bindings::eprog_is_module() } {
            shared.set_startup(Startup::Detached);
            return Ok(());
        }
        let mut timeout = msecs_to_jiffies(shared.params.start_timeout_ms);
        let mut timed_out = false;
        let mut startup = shared.startup.lock();
        loop {
            // Read under the lock after every wake-up, the last one too: a
            // failure right at the deadline is still a failure.
            match *startup {
                Startup::Talking | Startup::Detached => return Ok(()),
                Startup::Failed(e) => return Err(e),
                Startup::Pending if timed_out => {
                    *startup = Startup::Detached;
                    shared.started.store(true, Ordering::Relaxed);
                    pr_warn!(
                        "helper has said nothing in {} ms; leaving it running\n",
                        shared.params.start_timeout_ms
                    );
                    return Ok(());
                }
                Startup::Pending => {}
            }
            match shared
                .startup_changed
                .wait_interruptible_timeout(&mut startup, timeout)
            {
                CondVarTimeoutResult::Woken { jiffies } => timeout = jiffies,
                CondVarTimeoutResult::Timeout => timed_out = true,
                CondVarTimeoutResult::Signal { .. } => return Err(ERESTARTSYS),
            }
        }
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        // SAFETY: `task` is our started thread (invariant); this consumes our
        // reference and returns once the thread has ended (interrupting any
        // wait it is in), so nothing uses `shared` when it is dropped after
        // this.
        unsafe { bindings::eprog_kthread_stop(self.task.as_ptr()) };
    }
}

/// Whether the owner is stopping the supervisor. Only for the supervisor
/// thread itself; after any interrupted wait, this is the reason (the
/// thread allows no signals, and `kthread_stop()` interrupts its waits).
fn should_stop() -> bool {
    // SAFETY: Called from the kernel thread only (see above).
    unsafe { bindings::kthread_should_stop() }
}

/// Milliseconds on the monotonic clock.
pub(crate) fn now_ms() -> u64 {
    // SAFETY: No preconditions.
    unsafe { bindings::eprog_now_ms() }
}

impl Shared {
    /// Moves `startup` on from `Pending`; returns whether it did.
    fn set_startup(&self, to: Startup) -> bool {
        // Cheap check first: this runs for every relayed record.
        if self.started.load(Ordering::Relaxed) {
            return false;
        }
        let mut startup = self.startup.lock();
        if !matches!(*startup, Startup::Pending) {
            return false;
        }
        *startup = to;
        self.started.store(true, Ordering::Relaxed);
        self.startup_changed.notify_all();
        true
    }
}

/// How one run of the helper ended.
enum Run {
    /// The owner is stopping the supervisor.
    Stopped,
    /// The launcher or the helper could not be started.
    StartFailed(Error),
    /// The helper ended by itself.
    Ended(ExitStatus),
}

extern "C" fn supervisor_main(data: *mut c_void) -> c_int {
    // SAFETY: `data` is the `Shared` that `Supervisor` keeps alive until this
    // thread has ended (see `Supervisor::spawn`).
    let shared = unsafe { &*(data as *const Shared) };
    // SAFETY: By the invariant of `Shared`, only this thread uses `worker`
    // while it runs.
    let worker = unsafe { &mut *shared.worker.get() };

    let params = &shared.params;
    let mut restarts = 0;
    let mut backoff = BACKOFF_FIRST_MS;
    loop {
        let began = now_ms();
        let status = match worker.run(shared) {
            Run::Stopped => break,
            Run::StartFailed(e) => {
                pr_err!("starting the helper failed: {:?}\n", e);
                if shared.set_startup(Startup::Failed(e)) {
                    break;
                }
                None
            }
            Run::Ended(status) => {
                pr_warn!("helper {}\n", status);
                if shared.set_startup(Startup::Failed(EPIPE)) {
                    pr_err!("helper ended before its first line\n");
                    break;
                }
                Some(status)
            }
        };
        // A run that lasted long enough ends a row of failures.
        if now_ms().saturating_sub(began) >= u64::from(params.restart_reset_ms) {
            restarts = 0;
            backoff = BACKOFF_FIRST_MS;
        }
        // A failed start counts as a failure.
        let wanted = match params.restart {
            Restart::Never => false,
            Restart::OnFailure => !status.is_some_and(ExitStatus::success),
            Restart::Always => true,
        };
        if !wanted {
            break;
        }
        if restarts >= params.restart_limit {
            pr_err!("helper restarted {} times in a row; giving up\n", restarts);
            break;
        }
        // SAFETY: Called from the kernel thread itself.
        unsafe { bindings::eprog_sleep_interruptible(backoff) };
        if should_stop() {
            break;
        }
        restarts += 1;
        backoff = (backoff * 2).min(BACKOFF_MAX_MS);
        pr_info!(
            "restarting the helper ({} of {})\n",
            restarts,
            params.restart_limit
        );
    }
    // No helper will come any more: calls fail from now on.
    shared.channel.close();
    // Ends a helper still running (when stopping, or after its stdout closed).
    worker.helper.stop();
    if should_stop() {
        pr_info!("helper stopped\n");
    }
    0
}

impl Worker {
    /// Starts the helper once and relays its output until it ends or the
    /// owner stops the supervisor.
    fn run(&mut self, shared: &Shared) -> Run {
        if should_stop() {
            return Run::Stopped;
        }
        let pipes = match self.helper.start(&shared.params.confinement) {
            Ok(pipes) => pipes,
            Err(_) if should_stop() => return Run::Stopped,
            Err(e) => return Run::StartFailed(e),
        };
        pr_info!(
            "helper {} started, pid {}\n",
            crate::HELPER_NAME,
            self.helper.pid()
        );
        configure(&pipes.stdin, &shared.params);
        if let Some(helper) = self.helper.signaller() {
            self.inbound.begin(pipes.stdin, helper);
        }

        let read = self.relay(shared, &pipes.stdout);
        self.inbound.end();
        match read {
            Read::Stopped => return Run::Stopped,
            // The helper is ended below: its stdout is out of step.
            Read::Broken => {}
            // End of file: the helper closed its stdout, usually by exiting.
            Read::End => {
                while self.helper.wait_interruptible().is_err() {
                    if should_stop() {
                        return Run::Stopped;
                    }
                }
            }
        }
        match self.helper.stop() {
            Some(Outcome::Ended(status)) => Run::Ended(status),
            Some(Outcome::NotStarted(e)) => Run::StartFailed(e),
            // Cannot be: a start that succeeded took the helper's process.
            None => Run::StartFailed(ECHILD),
        }
    }

    /// Reads the helper's output and hands it to `inbound` until end of
    /// file, a protocol error, or the owner stops the supervisor.
    fn relay(&mut self, shared: &Shared, stdout: &FileRef) -> Read {
        let Self { inbound, buf, .. } = self;
        // Every interrupted wait below is kthread_stop() (see should_stop),
        // which the loop condition then sees.
        while !should_stop() {
            // Wait for output, but no longer than until suppressed records
            // are due to be reported: a burst followed by silence must not
            // hide its count until the helper speaks again.
            // Without a report due, the read itself waits (one call less
            // on a channel round trip).
            if let Some(due) = inbound.report_due() {
                match stdout.wait_readable(Some(due.saturating_sub(now_ms()))) {
                    Ok(true) => {}
                    Ok(false) => {
                        inbound.report_due_now(now_ms());
                        continue;
                    }
                    Err(_) => continue,
                }
            }
            match stdout.read(&mut buf[..]) {
                Ok(0) => return Read::End,
                Ok(n) => match inbound.feed(&buf[..n], now_ms()) {
                    Ok(true) => {
                        shared.set_startup(Startup::Talking);
                    }
                    Ok(false) => {}
                    Err(_) => return Read::Broken,
                },
                Err(e) if e == ERESTARTSYS || e == EINTR => {}
                Err(e) => {
                    pr_err!("reading the helper's output failed: {:?}\n", e);
                    return Read::End;
                }
            }
            // A helper writing as fast as it can must not hog this CPU.
            // SAFETY: Called from the kernel thread itself.
            unsafe { bindings::eprog_cond_resched() };
        }
        Read::Stopped
    }
}

/// Why the reading of a helper's output ended.
enum Read {
    /// End of file.
    End,
    /// The helper broke the channel's protocol.
    Broken,
    /// The owner is stopping the supervisor.
    Stopped,
}

/// Sends the helper its configuration line; the helper gets no arguments
/// and no environment. A helper that has already gone costs an `EPIPE`,
/// which the relay then notices as its end.
fn configure(stdin: &FileRef, params: &Params) {
    let line = CString::try_from_fmt(kernel_api::fmt!(
        "interval_ms={} {}\n",
        params.interval_ms,
        params.helper_args
    ));
    match line {
        Ok(line) => {
            let _ = stdin.write(kernel_api::c_str_bytes(&line));
        }
        Err(e) => pr_err!("cannot build the helper's configuration: {:?}\n", e),
    }
}

/// The buffer the relay reads the helper's output into: one page.
fn read_buffer() -> Result<KVec<u8>> {
    let mut buf = KVec::new();
    buf.extend_with(4096, 0, GFP_KERNEL)?;
    Ok(buf)
}
