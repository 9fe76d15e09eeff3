// SPDX-License-Identifier: GPL-2.0

//! One run of the helper, for the supervisor thread: start it, read its
//! output (`reader.rs`: log lines, the channel's replies) until it ends or
//! the owner stops the supervisor, and say how it ended.

use kernel::prelude::*;
use kernel::str::CString;
use kernel::sync::Arc;

use crate::bindings;
use crate::clock::now_ms;
use crate::control::{should_stop, Control};
use crate::file::FileRef;
use crate::kernel_api;
use crate::params::Params;
use crate::process::{ExitStatus, Outcome};
use crate::reader::{Output, Reader};
use crate::state::{HelperState, State};
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
    pub(crate) reader: Arc<Reader>,
    pub(crate) state: Arc<State>,
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
        pr_info!(
            "{}helper {} started, pid {}\n",
            &*params.prefix,
            crate::HELPER_NAME,
            pid
        );
        self.state.run_began(pid);
        configure(&pipes.stdin, params);
        if let Some(helper) = self.helper.signaller() {
            control.attach(helper.clone());
            self.reader.begin(pipes.stdout.clone(), pipes.stdin, helper);
        }

        let read = self.relay(control, &pipes.stdout, said);
        // A helper that broke the protocol is killed before the end of the
        // run closes its stdin: else it may read end of file and exit
        // cleanly first, and the policy would take that for a success.
        if let (Read::Broken, Some(helper)) = (&read, self.helper.signaller()) {
            helper.kill();
        }
        self.reader.end();
        match read {
            Read::Stopped => return Run::Stopped,
            // The helper was killed above: its stdout is out of step.
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
                self.state.run_ended(status);
                Run::Ended(status)
            }
            Some(Outcome::NotStarted(e)) => {
                self.state.run_not_started(e);
                Run::StartFailed(e)
            }
            // Cannot be: a start that succeeded took the helper's process.
            None => Run::StartFailed(ECHILD),
        }
    }

    /// Reads the helper's output until end of file, a protocol error, or
    /// the owner stops the supervisor. While a caller reads it for its
    /// reply (`reader.rs`), this thread sleeps.
    fn relay(&self, control: &Control, stdout: &FileRef, said: &dyn Fn()) -> Read {
        let reader = &self.reader;
        let mut running = false;
        // Every interrupted wait below is kthread_stop() (see should_stop),
        // which the loop condition then sees.
        while !should_stop() {
            // Wait for output, but no longer than until suppressed records
            // are due to be reported: a burst followed by silence must not
            // hide its count until the helper speaks again.
            let due = reader.report_due();
            match reader.wait(stdout, due.map(|due| due.saturating_sub(now_ms()))) {
                Ok(true) => {}
                Ok(false) => {
                    reader.report_due_now(now_ms());
                    continue;
                }
                Err(_) => continue,
            }
            match reader.read_for_thread() {
                Output::Nothing => {}
                Output::Spoke => {
                    said();
                    if !running {
                        running = true;
                        control.report(HelperState::Running);
                    }
                }
                Output::End => return Read::End,
                Output::Broken => return Read::Broken,
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
    let line = CString::try_from_fmt(kernel_api::fmt!("{}\n", &*params.config));
    match line {
        Ok(line) => {
            let _ = stdin.write(kernel_api::c_str_bytes(&line));
        }
        Err(e) => pr_err!("cannot build the helper's configuration: {:?}\n", e),
    }
}
