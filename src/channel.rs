// SPDX-License-Identifier: GPL-2.0

//! The channel: kernel code calls the helper like a function.
//!
//! A call sends a request frame down the helper's stdin under an id of its
//! own and sleeps until the reply with that id comes up its stdout (see
//! `frame.rs` for the wire format, `reader.rs` and `inbound.rs` for the
//! reading side). One caller at a time reads the helper's stdout itself,
//! for the replies of all; the others are handed theirs. Any number of
//! threads may call at once; at most `max_inflight` calls are in
//! flight, and callers beyond that wait for a free slot, within their own
//! timeout. How a call fails says why:
//!
//! - `ETIMEDOUT`: no reply in time (a reply that comes later is dropped and
//!   counted);
//! - `ECONNRESET`: the helper ended while the call was in flight;
//! - `EPROTO`: the helper broke the protocol, and is being restarted;
//! - `EOPNOTSUPP`: the helper does not speak the protocol (it never opened
//!   the channel);
//! - `EPIPE`: the helper closed its stdin, so it can take no request (and
//!   the caller gets no `SIGPIPE`: see [`Stdin`]);
//! - `ESHUTDOWN`: eprog is unloading, or the helper is held stopped (an
//!   operator's `stop`, `autostart=0`, or the supervisor gave up);
//! - `EMSGSIZE`: the request is longer than `max_message`;
//! - `EINTR`: a signal interrupted the caller.
//!
//! While the helper restarts, calls wait for the new one.

use kernel::new_condvar;
use kernel::new_mutex;
use kernel::prelude::*;
use kernel::sync::lock::{mutex::MutexBackend, Guard};
use kernel::sync::{Arc, CondVar, CondVarTimeoutResult, Mutex};
use kernel::time::msecs_to_jiffies;

use crate::clock::{left_until, now_ms};
use crate::file::FileRef;
use crate::frame::{Header, Kind};
use crate::kernel_api::code;
use crate::process::Signaller;
use crate::steps::{self, Step};

/// Where calls can go.
enum Link {
    /// No helper has opened the channel yet: it is starting or restarting.
    Down,
    /// The helper's stdin, a way to end the helper if a request was cut
    /// short on its way (the stream is then out of step), and its stdout.
    Up(Stdin, Signaller, Arc<dyn Replies>),
    /// The helper is a plain-text helper.
    Refused,
    /// No helper will come: eprog is unloading, or the helper is held
    /// stopped (by an operator, or after the supervisor gave up).
    Closed,
}

/// A call in flight.
struct Call {
    id: u32,
    /// Set once, by the reading side (or a reset); taken by the caller.
    outcome: Option<Result<KVec<u8>>>,
}

/// The write end of the helper's stdin, and a read end of the same pipe
/// that eprog holds and never reads.
///
/// A write to a pipe that has no reader left sends `SIGPIPE` to the writer
/// (`pipe_write()`), and the writer is the caller: a helper that closed its
/// stdin would kill a `/dev/eprog` user and interrupt an `eprog_call()`.
/// With eprog's own reader the pipe always has one; a call checks for
/// another before it writes, and fails with `EPIPE` if there is none.
#[derive(Clone)]
struct Stdin {
    file: FileRef,
    _reader: FileRef,
}

struct State {
    link: Link,
    /// A caller is writing its request: frames must not interleave.
    writing: bool,
    /// A caller reads the helper's stdout (see [`Replies`]).
    reading: bool,
    /// `max_inflight` slots.
    slots: KVec<Option<Call>>,
    /// The next id to hand out (never 0).
    next_id: u32,
    /// The ids of the last calls that gave up after their request was sent
    /// (timeout, signal), whose replies may still come: the only replies
    /// that count as late. Any other id that is not in flight is forged.
    abandoned: [u32; ABANDONED],
    /// Where the next abandoned id goes in `abandoned`.
    next_abandoned: usize,
}

/// What a reply's id refers to.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Addressee {
    /// A call in flight.
    Waiting,
    /// A call that was made and has given up.
    Gone,
    /// No call ever had this id: the helper made it up.
    Unknown,
}

/// The helper's stdout, for the caller that reads it itself (`reader.rs`).
pub(crate) trait Replies: Send + Sync {
    /// Takes the reading over from the supervisor thread; fails if the
    /// helper's output has ended.
    fn take(&self) -> bool;
    /// Waits for output until `deadline` (`ETIMEDOUT`) or a signal
    /// (`EINTR`), and sorts it: replies go to their calls. `Ok(false)`:
    /// the output has ended, and the supervisor thread ends the run.
    fn read(&self, deadline: u64) -> Result<bool>;
    /// Hands the reading back to the supervisor thread.
    fn hand_back(&self);
}

/// A caller's turn to read the helper's stdout; dropping it hands the
/// reading back.
struct ReadingTurn<'a> {
    channel: &'a Channel,
    replies: Arc<dyn Replies>,
}

impl Drop for ReadingTurn<'_> {
    fn drop(&mut self) {
        self.replies.hand_back();
        self.channel.state.lock().reading = false;
    }
}

/// The channel to the helper; shared by the reading side (`inbound.rs`, in
/// the supervisor thread or a caller) and every caller.
#[pin_data]
pub(crate) struct Channel {
    #[pin]
    state: Mutex<State>,
    /// A slot was freed, the writer's turn came free, or the link changed.
    #[pin]
    changed: CondVar,
    /// One per slot: its call's outcome came. Only that call's caller
    /// waits here, so a reply wakes its own caller and no other.
    replied: KVec<Pin<KBox<CondVar>>>,
    max_message: u32,
}

impl Channel {
    /// A channel with `max_inflight` slots for messages of up to
    /// `max_message` bytes, down until a helper opens it.
    pub(crate) fn new(max_inflight: u32, max_message: u32) -> Result<impl PinInit<Self, Error>> {
        let mut slots = KVec::with_capacity(max_inflight as usize, GFP_KERNEL)?;
        let mut replied = KVec::with_capacity(max_inflight as usize, GFP_KERNEL)?;
        for _ in 0..max_inflight {
            slots.push(None, GFP_KERNEL)?;
            replied.push(KBox::pin_init(new_condvar!(), GFP_KERNEL)?, GFP_KERNEL)?;
        }
        let state = State {
            link: Link::Down,
            writing: false,
            reading: false,
            slots,
            next_id: 1,
            abandoned: [0; ABANDONED],
            next_abandoned: 0,
        };
        Ok(try_pin_init!(Self {
            state <- new_mutex!(state),
            changed <- new_condvar!(),
            replied,
            max_message,
        }? Error))
    }

    /// Calls the helper with `request`; returns its reply, or why there is
    /// none within `timeout_ms` (see the module's documentation).
    pub(crate) fn call(&self, request: &[u8], timeout_ms: u32) -> Result<KVec<u8>> {
        if request.len() > self.max_message as usize {
            return Err(code!(EMSGSIZE));
        }
        let deadline = now_ms() + u64::from(timeout_ms);
        let mut state = self.state.lock();
        let (slot, id, stdin, helper, replies) = loop {
            match &state.link {
                Link::Closed => return Err(code!(ESHUTDOWN)),
                Link::Refused => return Err(code!(EOPNOTSUPP)),
                Link::Up(stdin, helper, replies) => {
                    if let Some(slot) = state.slots.iter().position(Option::is_none) {
                        let (stdin, helper) = (stdin.clone(), helper.clone());
                        // The first caller to come reads for all.
                        let replies = (!state.reading).then(|| replies.clone());
                        break (slot, state.issue_id(), stdin, helper, replies);
                    }
                }
                Link::Down => {}
            }
            self.wait(&self.changed, &mut state, deadline)?;
        };
        state.slots[slot] = Some(Call { id, outcome: None });
        state.reading |= replies.is_some();
        drop(state);
        // Before the request goes: the reply must not wake the supervisor
        // thread.
        let mut turn = replies.and_then(|replies| self.take_turn(replies));

        let header = Header {
            kind: Kind::Request,
            id,
            len: request.len() as u32,
        };
        match self.send(&stdin, &header.encode(), request, deadline, &mut turn) {
            // Sent, or the helper has gone (the reading side will fail the
            // call when it sees the end).
            Ok(()) | Err(Sent::Dead) => {}
            Err(Sent::Nothing(e)) => return self.give_up(slot, e, false),
            Err(Sent::Part(e)) => {
                // The helper has half a request: nothing it reads from now
                // on is in step. End it; the restart policy applies.
                pr_warn!(
                    "call {}: the helper did not take the request in time; ending it\n",
                    id
                );
                helper.kill();
                return self.give_up(slot, e, false);
            }
        }
        drop((stdin, helper));

        loop {
            let mut state = self.state.lock();
            if let Some(call) = &mut state.slots[slot] {
                if let Some(outcome) = call.outcome.take() {
                    steps::stamp(Step::Replied);
                    state.slots[slot] = None;
                    self.changed.notify_all();
                    drop(state);
                    // Hands the reading back, after the state's lock.
                    drop(turn);
                    return outcome;
                }
            }
            let waited = match &turn {
                // Read for all, until this call's reply comes.
                Some(turn) => {
                    drop(state);
                    turn.replies.read(deadline)
                }
                None => {
                    let waited = self.wait(&self.replied[slot], &mut state, deadline);
                    drop(state);
                    waited.map(|()| true)
                }
            };
            match waited {
                Ok(true) => {}
                // The output has ended: the supervisor thread ends the run,
                // which fails the call.
                Ok(false) => turn = None,
                Err(e) => {
                    drop(turn);
                    return self.give_up(slot, e, true);
                }
            }
        }
    }

    /// Takes the reading over from the supervisor thread, unless the
    /// helper's output has ended (see [`Replies::take`]).
    fn take_turn(&self, replies: Arc<dyn Replies>) -> Option<ReadingTurn<'_>> {
        if replies.take() {
            return Some(ReadingTurn {
                channel: self,
                replies,
            });
        }
        self.state.lock().reading = false;
        None
    }

    /// Writes one request frame, within the caller's deadline, when it is
    /// the caller's turn: one frame at a time, and waiting for the turn
    /// counts against the caller's own deadline and ends with a signal (a
    /// caller stuck on a full pipe holds no one else past their timeout).
    ///
    /// A caller that reads for all hands the reading back before it waits
    /// (for the writer's turn, or for room in the pipe): the helper may be
    /// blocked writing a reply, and reads no request until someone drains
    /// its stdout.
    fn send(
        &self,
        stdin: &Stdin,
        header: &[u8],
        payload: &[u8],
        deadline: u64,
        turn: &mut Option<ReadingTurn<'_>>,
    ) -> Result<(), Sent> {
        let mut frame = KVec::with_capacity(header.len() + payload.len(), GFP_KERNEL)
            .map_err(|_| Sent::Nothing(ENOMEM))?;
        // Within the capacity just taken: these do not fail.
        let _ = frame.extend_from_slice(header, GFP_KERNEL);
        let _ = frame.extend_from_slice(payload, GFP_KERNEL);
        let mut state = self.state.lock();
        while state.writing {
            if turn.is_some() {
                // Hands the reading back outside the state's lock.
                drop(state);
                *turn = None;
                state = self.state.lock();
                continue;
            }
            self.wait(&self.changed, &mut state, deadline)
                .map_err(Sent::Nothing)?;
        }
        state.writing = true;
        drop(state);
        steps::stamp(Step::Writing);
        let sent = self.write_frame(stdin, &frame, deadline, turn);
        let mut state = self.state.lock();
        state.writing = false;
        self.changed.notify_all();
        sent
    }

    /// Writes `frame` whole, within the deadline. The pipe is non-blocking
    /// (see `connect`): a helper that stops reading cannot hold a caller
    /// past its timeout. One write for the whole frame: up to a page, the
    /// pipe takes it whole or not at all.
    fn write_frame(
        &self,
        stdin: &Stdin,
        frame: &[u8],
        deadline: u64,
        turn: &mut Option<ReadingTurn<'_>>,
    ) -> Result<(), Sent> {
        let mut left = frame;
        while !left.is_empty() {
            let cut = |e| {
                if left.len() == frame.len() {
                    Sent::Nothing(e)
                } else {
                    Sent::Part(e)
                }
            };
            if !stdin.file.has_other_reader() {
                return Err(cut(code!(EPIPE)));
            }
            match stdin.file.write(left) {
                Ok(n) => {
                    left = &left[n..];
                    continue;
                }
                Err(e) if e == EAGAIN => {}
                Err(_) => return Err(Sent::Dead),
            }
            // The pipe is full: wait for room, within the deadline, with
            // the reading handed back (see `send`).
            *turn = None;
            let wait = left_until(deadline).map_err(cut)?;
            if stdin.file.wait_writable(wait).is_err() {
                return Err(cut(EINTR));
            }
        }
        Ok(())
    }

    /// Frees the call's slot and fails it with `e`, unless its outcome came
    /// in meanwhile: then that is the answer. A call whose request was
    /// `sent` is noted as abandoned: its reply may still come.
    fn give_up(&self, slot: usize, e: Error, sent: bool) -> Result<KVec<u8>> {
        let mut state = self.state.lock();
        let outcome = match state.slots[slot].take() {
            Some(Call {
                outcome: Some(outcome),
                ..
            }) => outcome,
            Some(Call { id, outcome: None }) => {
                if sent {
                    state.abandon(id);
                }
                Err(e)
            }
            None => Err(e),
        };
        self.changed.notify_all();
        outcome
    }

    /// Sleeps until `cv` is notified, the deadline passes (`ETIMEDOUT`) or
    /// a signal comes (`EINTR`).
    fn wait(
        &self,
        cv: &CondVar,
        state: &mut Guard<'_, State, MutexBackend>,
        deadline: u64,
    ) -> Result {
        let left = left_until(deadline)?;
        let jiffies = msecs_to_jiffies(left.min(u64::from(u32::MAX)) as u32);
        match cv.wait_interruptible_timeout(state, jiffies) {
            CondVarTimeoutResult::Signal { .. } => Err(EINTR),
            _ => Ok(()),
        }
    }

    // The reading side (`inbound.rs`), in whichever thread reads. It holds
    // the reading lock (`reader.rs`) and takes the state's after it.

    /// The helper opened the channel: calls go to `stdin` from now on, and
    /// the first caller to wait reads their replies from `replies`. If
    /// eprog cannot hold its own reader of `stdin` (no memory), the helper
    /// is ended; the restart policy applies.
    pub(crate) fn connect(&self, stdin: FileRef, helper: Signaller, replies: Arc<dyn Replies>) {
        match stdin.open_reader() {
            Ok(reader) => {
                stdin.set_nonblocking();
                let stdin = Stdin {
                    file: stdin,
                    _reader: reader,
                };
                self.set_link(Link::Up(stdin, helper, replies), code!(ECONNRESET));
            }
            Err(e) => {
                pr_err!("opening the channel failed: {:?}; ending the helper\n", e);
                helper.kill();
            }
        }
    }

    /// The helper does not speak the protocol: calls fail with `EOPNOTSUPP`.
    pub(crate) fn refuse(&self) {
        self.set_link(Link::Refused, code!(EOPNOTSUPP));
    }

    /// The helper has ended: calls in flight fail with `reason`, and new
    /// ones wait for its successor.
    pub(crate) fn disconnect(&self, reason: Error) {
        self.set_link(Link::Down, reason);
    }

    /// No helper will come: every call fails with `ESHUTDOWN`.
    pub(crate) fn close(&self) {
        self.set_link(Link::Closed, code!(ESHUTDOWN));
    }

    /// A helper will come again: calls wait for it.
    pub(crate) fn reopen(&self) {
        let mut state = self.state.lock();
        if matches!(state.link, Link::Closed) {
            state.link = Link::Down;
        }
    }

    /// Sets the link and fails every call in flight with `reason`.
    fn set_link(&self, link: Link, reason: Error) {
        let mut state = self.state.lock();
        let old = core::mem::replace(&mut state.link, link);
        for (call, replied) in state.slots.iter_mut().zip(&self.replied) {
            if let Some(call) = call {
                call.outcome.get_or_insert(Err(reason));
                replied.notify_all();
            }
        }
        self.changed.notify_all();
        drop(state);
        // Drops the old stdin, if any, outside the lock.
        drop(old);
    }

    /// Who a reply with `id` is for.
    pub(crate) fn addressee(&self, id: u32) -> Addressee {
        let state = self.state.lock();
        if state.find(id).is_some() {
            Addressee::Waiting
        } else if id != 0 && state.abandoned.contains(&id) {
            Addressee::Gone
        } else {
            Addressee::Unknown
        }
    }

    /// Hands a reply to its call; returns whether the call still waited.
    pub(crate) fn deliver(&self, id: u32, reply: Result<KVec<u8>>) -> bool {
        let mut state = self.state.lock();
        match state.find(id) {
            Some(slot) => {
                if let Some(call) = &mut state.slots[slot] {
                    call.outcome.get_or_insert(reply);
                }
                // A synchronous wake-up: this thread goes back to its read,
                // so the caller may take its CPU.
                self.replied[slot].notify_sync();
                true
            }
            None => {
                // One late reply per abandoned call: a second is forged.
                if let Some(at) = state.abandoned.iter().position(|&a| a == id) {
                    state.abandoned[at] = 0;
                }
                false
            }
        }
    }
}

/// How far a request got.
enum Sent {
    /// Not a byte: the stream is still in step.
    Nothing(Error),
    /// Part of it: the stream is out of step.
    Part(Error),
    /// The helper has gone.
    Dead,
}

/// How many abandoned calls may still get a late reply: the most recent
/// ones. (Ids are never 0, so 0 marks a free entry.)
const ABANDONED: usize = 64;

impl State {
    fn abandon(&mut self, id: u32) {
        self.abandoned[self.next_abandoned] = id;
        self.next_abandoned = (self.next_abandoned + 1) % ABANDONED;
    }

    fn issue_id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        id
    }

    /// The slot of the call in flight with `id`, if any.
    fn find(&self, id: u32) -> Option<usize> {
        self.slots.iter().position(|s| {
            s.as_ref()
                .is_some_and(|c| c.id == id && c.outcome.is_none())
        })
    }
}
