// SPDX-License-Identifier: GPL-2.0

//! The operator's control of the helper: `start`, `stop` and `restart`,
//! written to `/sys/class/misc/eprog/control` (`device.c`), and the
//! `autostart` parameter. A command only records what is wanted, ends the
//! running helper if it must go, and wakes the supervisor thread, which
//! does the rest (`supervisor.rs`); the state it reports lives here too, so
//! that a command sees the state it acts on.

use kernel::new_condvar;
use kernel::new_mutex;
use kernel::prelude::*;
use kernel::sync::{Arc, CondVar, CondVarTimeoutResult, Mutex};
use kernel::time::msecs_to_jiffies;

use crate::bindings;
use crate::kernel_api::code;
use crate::process::Signaller;
use crate::state::{HelperState, State};

/// A command written to the control attribute.
#[derive(Clone, Copy)]
pub(crate) enum Command {
    /// Start a stopped or failed helper (or one in backoff, at once), in a
    /// new row of restarts.
    Start,
    /// End the helper and hold it stopped.
    Stop,
    /// Both: end it if it runs, and start it again at once.
    Restart,
}

impl Command {
    /// The command of `enum eprog_control_word`.
    pub(crate) fn from_word(word: u32) -> Option<Self> {
        match word {
            bindings::eprog_control_word_EPROG_CONTROL_START => Some(Self::Start),
            bindings::eprog_control_word_EPROG_CONTROL_STOP => Some(Self::Stop),
            bindings::eprog_control_word_EPROG_CONTROL_RESTART => Some(Self::Restart),
            _ => None,
        }
    }
}

struct Wants {
    /// The helper should run: held down otherwise.
    up: bool,
    /// A start is pending: the next run begins at once, in a new row.
    fresh: bool,
    /// A run is asked for or under way, and has not ended: from a `start`
    /// or `restart`, or the supervisor's own start, to the run's end.
    active: bool,
    /// The supervisor waits for a start, with no helper: what `stop` waits
    /// for.
    idle: bool,
    /// The running helper, to end it on `stop` and `restart`.
    helper: Option<Signaller>,
    /// As the supervisor last reported it.
    state: HelperState,
}

/// What the supervisor is to do next, after a run or during a backoff.
pub(crate) enum Next {
    /// As its restart policy says.
    Policy,
    /// Start the helper now, in a new row (`start`, `restart`).
    Fresh,
    /// Hold the helper stopped (`stop`).
    Hold,
    /// The owner is stopping the supervisor (unload).
    Unload,
}

/// What is wanted of the helper; shared by the supervisor and the doors.
#[pin_data]
pub(crate) struct Control {
    /// One command at a time: a `stop` waits for its effect.
    #[pin]
    commands: Mutex<()>,
    #[pin]
    wants: Mutex<Wants>,
    /// `wants` changed: for the supervisor, and for a `stop` that waits.
    #[pin]
    changed: CondVar,
    /// Where the reported state goes.
    state: Arc<State>,
}

impl Control {
    /// Wants the helper up if `autostart`; reports to `state`.
    pub(crate) fn new(autostart: bool, state: Arc<State>) -> impl PinInit<Self> {
        pin_init!(Self {
            commands <- new_mutex!(()),
            wants <- new_mutex!(Wants {
                up: autostart,
                fresh: false,
                active: autostart,
                idle: false,
                helper: None,
                state: HelperState::Stopped,
            }),
            changed <- new_condvar!(),
            state,
        })
    }

    /// Carries out an operator's command. `start` on a helper that is
    /// up, or asked for and not yet up, is `EBUSY`; `stop` on one held
    /// down is `EALREADY`. `stop` returns once the helper has ended and is
    /// held (or with `EINTR`, still stopping, if a signal comes first); the
    /// others at once.
    pub(crate) fn command(&self, command: Command) -> Result {
        let _one_at_a_time = self.commands.lock();
        let mut wants = self.wants.lock();
        match command {
            Command::Start => {
                // Not the reported state: a start taken up by the
                // supervisor reads `stopped` until the helper starts.
                if wants.up && wants.active {
                    return Err(EBUSY);
                }
                wants.up = true;
                wants.fresh = true;
                wants.active = true;
            }
            Command::Stop => {
                if !wants.up {
                    return Err(code!(EALREADY));
                }
                wants.up = false;
                wants.fresh = false;
            }
            Command::Restart => {
                wants.up = true;
                wants.fresh = true;
                wants.active = true;
            }
        }
        if matches!(command, Command::Stop | Command::Restart) {
            if let Some(helper) = &wants.helper {
                helper.kill();
            }
        }
        self.changed.notify_all();
        if matches!(command, Command::Stop) {
            // Until the supervisor waits for a start, with no helper (a
            // helper it was starting is ended as soon as it is attached).
            // The supervisor holds the helper, never a control write:
            // unregistering the device waits for this one.
            while !wants.idle {
                if self.changed.wait_interruptible(&mut wants) {
                    return Err(EINTR);
                }
            }
        }
        Ok(())
    }

    // For the supervisor thread.

    /// Reports the helper's `state` (sysfs, a uevent).
    pub(crate) fn report(&self, state: HelperState) {
        let mut wants = self.wants.lock();
        wants.state = state;
        wants.active |= matches!(state, HelperState::Starting);
        drop(wants);
        self.changed.notify_all();
        self.state.set(state);
    }

    /// The supervisor gives up on the helper after a run: it is held down
    /// in `state` until a `start`. A `start` or `restart` that came after
    /// the run ended stands: then the helper is not held.
    pub(crate) fn hold(&self, state: HelperState) {
        let mut wants = self.wants.lock();
        if wants.fresh {
            return;
        }
        wants.up = false;
        wants.state = state;
        drop(wants);
        self.changed.notify_all();
        self.state.set(state);
    }

    /// Sleeps until the helper is wanted up; false if the owner is stopping
    /// the supervisor meanwhile.
    pub(crate) fn wait_for_start(&self) -> bool {
        let mut wants = self.wants.lock();
        while !wants.up {
            if should_stop() {
                return false;
            }
            if !wants.idle {
                wants.idle = true;
                self.changed.notify_all();
            }
            let _ = self.changed.wait_interruptible(&mut wants);
        }
        wants.idle = false;
        wants.fresh = false;
        !should_stop()
    }

    /// A run began: `helper` is its process, ended at once if a command
    /// came during the start.
    pub(crate) fn attach(&self, helper: Signaller) {
        let mut wants = self.wants.lock();
        if !wants.up || wants.fresh {
            helper.kill();
        }
        wants.helper = Some(helper);
    }

    /// What to do after a run ended.
    pub(crate) fn after_run(&self) -> Next {
        let mut wants = self.wants.lock();
        wants.helper = None;
        wants.active = false;
        Self::next(&mut wants)
    }

    /// Waits `ms` before a restart, unless a command or the owner cuts the
    /// wait short.
    pub(crate) fn backoff(&self, ms: u32) -> Next {
        let mut wants = self.wants.lock();
        let mut timeout = msecs_to_jiffies(ms);
        loop {
            match Self::next(&mut wants) {
                Next::Policy => {}
                next => return next,
            }
            match self.changed.wait_interruptible_timeout(&mut wants, timeout) {
                CondVarTimeoutResult::Timeout => return Self::next(&mut wants),
                CondVarTimeoutResult::Woken { jiffies } => timeout = jiffies,
                CondVarTimeoutResult::Signal { jiffies } => timeout = jiffies,
            }
        }
    }

    fn next(wants: &mut Wants) -> Next {
        if should_stop() {
            Next::Unload
        } else if !wants.up {
            Next::Hold
        } else if core::mem::take(&mut wants.fresh) {
            Next::Fresh
        } else {
            Next::Policy
        }
    }
}

/// Whether the owner is stopping the supervisor. Only for the supervisor
/// thread itself; after any interrupted wait, this is the reason (the
/// thread allows no signals, and `kthread_stop()` interrupts its waits).
pub(crate) fn should_stop() -> bool {
    // SAFETY: Called from the kernel thread only (see above).
    unsafe { bindings::kthread_should_stop() }
}
