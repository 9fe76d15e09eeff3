// SPDX-License-Identifier: GPL-2.0

//! One run of the helper, for the supervisor thread: start it, hand its
//! output to `inbound.rs` (log lines, the channel's replies) until it ends
//! or the owner stops the supervisor, and say how it ended.

use kernel::prelude::*;
use kernel::str::CString;

use crate::bindings;
use crate::clock::now_ms;
use crate::control::{should_stop, Control};
use crate::file::FileRef;
use crate::inbound::Inbound;
use crate::kernel_api;
use crate::params::Params;
use crate::process::{ExitStatus, Outcome};
use crate::state::{self, HelperState};
use crate::steps::{self, Step};
use crate::umd::Umd;

/// How one run of the helper ended.
pub(crate) enum Run {
    /// The owner is stopping the supervisor.
    Stopped,
    /// The launcher or the helper could not be started.
    StartFailed(Error),
    /// The helper ended by itself (or by an operator's `stop`).
    Ended(ExitStatus),
}

/// What only the supervisor thread touches while it runs.
pub(crate) struct Worker {
    pub(crate) helper: Umd,
    pub(crate) inbound: Inbound,
    /// On the heap: too big for a kernel stack.
    pub(crate) buf: KVec<u8>,
}

impl Worker {
    /// Starts the helper once and relays its output until it ends or the
    /// owner stops the supervisor; `said` runs whenever the helper has said
    /// something.
    pub(crate) fn run(&mut self, params: &Params, control: &Control, said: &dyn Fn()) -> Run {
        if should_stop() {
            return Run::Stopped;
        }
        control.report(HelperState::Starting);
        let pipes = match self.helper.start(&params.confinement) {
            Ok(pipes) => pipes,
            Err(_) if should_stop() => return Run::Stopped,
            Err(e) => return Run::StartFailed(e),
        };
        let pid = self.helper.pid();
        pr_info!("helper {} started, pid {}\n", crate::HELPER_NAME, pid);
        state::run_began(pid);
        configure(&pipes.stdin, params);
        if let Some(helper) = self.helper.signaller() {
            control.attach(helper.clone());
            self.inbound.begin(pipes.stdin, helper);
        }

        let read = self.relay(control, &pipes.stdout, said);
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
            Some(Outcome::Ended(status)) => {
                state::run_ended(status);
                Run::Ended(status)
            }
            Some(Outcome::NotStarted(e)) => Run::StartFailed(e),
            // Cannot be: a start that succeeded took the helper's process.
            None => Run::StartFailed(ECHILD),
        }
    }

    /// Reads the helper's output and hands it to `inbound` until end of
    /// file, a protocol error, or the owner stops the supervisor.
    fn relay(&mut self, control: &Control, stdout: &FileRef, said: &dyn Fn()) -> Read {
        let Self { inbound, buf, .. } = self;
        let mut running = false;
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
                Ok(n) => {
                    steps::stamp(Step::Read);
                    match inbound.feed(&buf[..n], now_ms()) {
                        Ok(true) => {
                            said();
                            if !running {
                                running = true;
                                control.report(HelperState::Running);
                            }
                        }
                        Ok(false) => {}
                        Err(_) => return Read::Broken,
                    }
                }
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
pub(crate) fn read_buffer() -> Result<KVec<u8>> {
    let mut buf = KVec::new();
    buf.extend_with(4096, 0, GFP_KERNEL)?;
    Ok(buf)
}
