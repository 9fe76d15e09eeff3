// SPDX-License-Identifier: GPL-2.0

//! The supervisor: a kernel thread that owns the helper's life cycle. It
//! runs it (`run.rs`), notices its end at once and logs why, and restarts
//! it as the `restart` policy says, with exponential backoff and a limit on
//! restarts in a row (a run that lasts `restart_reset_ms` ends the row). A
//! helper that breaks the channel's protocol is ended, and the policy
//! applies. Between rows the helper is held stopped until an operator
//! starts it (`control.rs`); what it does is reported to `state.rs`.

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
use crate::clock::now_ms;
use crate::control::{Control, Next};
use crate::inbound::Inbound;
use crate::kernel_api;
use crate::params::{Params, Restart};
use crate::process::ExitStatus;
use crate::reader::Reader;
use crate::relay::RateLimit;
use crate::run::{Run, Worker};
use crate::state::{HelperState, State};
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
    control: Arc<Control>,
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
    /// Starts the kernel thread `eprog_supervise`, which runs `helper` when
    /// `control` wants it up, connects it to `channel` whenever it opens the
    /// channel, and reports to `state`.
    pub(crate) fn spawn(
        helper: Umd,
        params: Params,
        channel: Arc<Channel>,
        control: Arc<Control>,
        state: Arc<State>,
    ) -> Result<Self> {
        let limit = RateLimit::new(params.ratelimit_burst, params.ratelimit_interval_ms.into());
        let prefix = CString::try_from_fmt(kernel_api::fmt!("{}", &*params.prefix))?;
        let inbound = Inbound::new(
            limit,
            params.max_message,
            channel.clone(),
            state.clone(),
            prefix,
        );
        let worker = Worker {
            helper,
            reader: Reader::new(inbound)?,
            state,
        };
        let shared = KBox::pin_init(
            pin_init!(Shared {
                worker: UnsafeCell::new(worker),
                params,
                channel,
                control,
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
        // Without autostart, there is nothing to wait for.
        // SAFETY: No preconditions.
        if !unsafe { bindings::eprog_is_module() } || !shared.params.autostart {
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
                        "{}helper has said nothing in {} ms; leaving it running\n",
                        &*shared.params.prefix,
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

/// Why a row of runs ended.
enum RowEnd {
    /// The owner is stopping the supervisor.
    Unload,
    /// The first run failed while init waited for it: init fails.
    InitFailed,
    /// The helper is held down in this state until an operator starts it.
    Held(HelperState),
}

extern "C" fn supervisor_main(data: *mut c_void) -> c_int {
    // SAFETY: `data` is the `Shared` that `Supervisor` keeps alive until this
    // thread has ended (see `Supervisor::spawn`).
    let shared = unsafe { &*(data as *const Shared) };
    // SAFETY: By the invariant of `Shared`, only this thread uses `worker`
    // while it runs.
    let worker = unsafe { &mut *shared.worker.get() };

    // Whether the owner's stop ended a row: a helper held down is not.
    let mut supervising = false;
    while shared.control.wait_for_start() {
        // Calls wait for the new helper.
        shared.channel.reopen();
        supervising = true;
        let end = shared.row(worker);
        // No helper until the next start: calls fail from now on.
        shared.channel.close();
        match end {
            RowEnd::Unload => break,
            RowEnd::InitFailed => {
                supervising = false;
                break;
            }
            RowEnd::Held(state) => {
                supervising = false;
                shared.control.hold(state);
            }
        }
    }
    shared.channel.close();
    // Ends a helper still running (when stopping, or after its stdout closed).
    worker.helper.stop();
    if supervising {
        pr_info!("{}helper stopped\n", &*shared.params.prefix);
    }
    0
}

impl Shared {
    /// Runs the helper, and restarts it as the policy and the operator say,
    /// until it is to be held down.
    fn row(&self, worker: &mut Worker) -> RowEnd {
        let params = &self.params;
        let mut restarts = 0;
        let mut backoff = BACKOFF_FIRST_MS;
        worker.state.restarting(0);
        loop {
            let began = now_ms();
            let said = || {
                self.set_startup(Startup::Talking);
            };
            let status = match worker.run(params, &self.control, &said) {
                Run::Stopped => return RowEnd::Unload,
                Run::StartFailed(e) => {
                    pr_err!("{}starting the helper failed: {:?}\n", &*params.prefix, e);
                    if self.set_startup(Startup::Failed(e)) {
                        return RowEnd::InitFailed;
                    }
                    None
                }
                Run::Ended(status) => {
                    pr_warn!("{}helper {}\n", &*params.prefix, status);
                    if self.set_startup(Startup::Failed(EPIPE)) {
                        pr_err!("{}helper ended before its first line\n", &*params.prefix);
                        return RowEnd::InitFailed;
                    }
                    Some(status)
                }
            };
            let next = match self.control.after_run() {
                Next::Policy => {
                    // A run that lasted long enough ends a row of failures.
                    if now_ms().saturating_sub(began) >= u64::from(params.restart_reset_ms) {
                        (restarts, backoff) = (0, BACKOFF_FIRST_MS);
                    }
                    if let Some(held) = self.policy(status, restarts) {
                        return RowEnd::Held(held);
                    }
                    self.control.report(HelperState::Backoff);
                    self.control.backoff(backoff)
                }
                next => next,
            };
            match next {
                Next::Unload => return RowEnd::Unload,
                Next::Hold => {
                    pr_info!("{}helper held stopped by the operator\n", &*params.prefix);
                    return RowEnd::Held(HelperState::Stopped);
                }
                Next::Fresh => {
                    pr_info!(
                        "{}starting the helper again for the operator\n",
                        &*params.prefix
                    );
                    (restarts, backoff) = (0, BACKOFF_FIRST_MS);
                    worker.state.restarting(0);
                    continue;
                }
                Next::Policy => {}
            }
            restarts += 1;
            backoff = (backoff * 2).min(BACKOFF_MAX_MS);
            worker.state.restarting(restarts);
            pr_info!(
                "{}restarting the helper ({} of {})\n",
                &*params.prefix,
                restarts,
                params.restart_limit
            );
        }
    }

    /// Whether the `restart` policy gives up after a run that ended with
    /// `status` (`None`: it did not start), the `restarts`th restart in a
    /// row: the state the helper is then held in.
    fn policy(&self, status: Option<ExitStatus>, restarts: u32) -> Option<HelperState> {
        // A failed start counts as a failure.
        let failed = !status.is_some_and(ExitStatus::success);
        let wanted = match self.params.restart {
            Restart::Never => false,
            Restart::OnFailure => failed,
            Restart::Always => true,
        };
        if !wanted {
            return Some(if failed {
                HelperState::Failed
            } else {
                HelperState::Stopped
            });
        }
        if restarts >= self.params.restart_limit {
            pr_err!(
                "{}helper restarted {} times in a row; giving up\n",
                &*self.params.prefix,
                restarts
            );
            return Some(HelperState::Failed);
        }
        None
    }
}
