// SPDX-License-Identifier: GPL-2.0

//! What the helper writes, sorted: log text for the kernel log (escaped and
//! rate-limited by `relay.rs`), replies for the channel's callers. A
//! plain-text helper's stdout is all log text; a helper that opened the
//! channel writes frames (`frame.rs`), and a frame that breaks the protocol
//! ends the helper.

use kernel::prelude::*;
use kernel::str::{CStr, CString};
use kernel::sync::Arc;

use crate::channel::{Addressee, Channel, Replies};
use crate::file::FileRef;
use crate::frame::{Decoder, Event, FrameError, Kind, HEADER_LEN};
use crate::kernel_api::code;
use crate::process::Signaller;
use crate::relay::{LineAssembler, RateLimit, Record};
use crate::state::{Counter, State};

/// The frame being read.
enum Frame {
    None,
    Log,
    /// A reply for call `id`; `reply` is `None` when no call waits for it.
    Reply {
        id: u32,
        reply: Option<KVec<u8>>,
    },
}

/// The reading side of one helper after another.
pub(crate) struct Inbound {
    decoder: Decoder,
    lines: LineAssembler,
    limit: RateLimit,
    frame: Frame,
    max_message: u32,
    channel: Arc<Channel>,
    /// Where records, late replies and protocol errors are counted.
    state: Arc<State>,
    /// What the helper's log lines begin with (see `Params::prefix`).
    prefix: CString,
    /// The helper's stdin, pid and stdout, until it shows whether it
    /// speaks the protocol.
    pending: Option<(FileRef, Signaller, Arc<dyn Replies>)>,
    /// The helper broke the protocol in this run.
    broken: bool,
    /// The time of the read being sorted (one clock read per read).
    now: u64,
}

impl Inbound {
    pub(crate) fn new(
        limit: RateLimit,
        max_message: u32,
        channel: Arc<Channel>,
        state: Arc<State>,
        prefix: CString,
    ) -> Self {
        Self {
            decoder: Decoder::new(max_message),
            lines: LineAssembler::new(),
            limit,
            frame: Frame::None,
            max_message,
            channel,
            state,
            prefix,
            pending: None,
            broken: false,
            now: 0,
        }
    }

    /// A new run of the helper, whose stdin is `stdin` and whose stdout
    /// callers may read through `replies`.
    pub(crate) fn begin(&mut self, stdin: FileRef, helper: Signaller, replies: Arc<dyn Replies>) {
        self.decoder = Decoder::new(self.max_message);
        self.frame = Frame::None;
        self.pending = Some((stdin, helper, replies));
        self.broken = false;
    }

    /// Sorts what one read brought, at time `now_ms`. Returns whether the
    /// helper said something (a line, or it opened the channel), or
    /// `EPROTO` if it broke the protocol: then it must be ended.
    pub(crate) fn feed(&mut self, data: &[u8], now_ms: u64) -> Result<bool> {
        self.now = now_ms;
        let mut spoke = false;
        // The decoder calls back into `self`: it is moved out meanwhile.
        let mut decoder = core::mem::replace(&mut self.decoder, Decoder::new(0));
        decoder.feed(data, &mut |event| {
            if !self.broken {
                spoke |= self.sort(event);
            }
        });
        self.decoder = decoder;
        if self.broken {
            Err(code!(EPROTO))
        } else {
            Ok(spoke)
        }
    }

    /// When suppressed records are due to be reported (see `RateLimit`).
    pub(crate) fn report_due(&self) -> Option<u64> {
        self.limit.report_due()
    }

    /// Reports the suppressed records that are due at `now_ms`.
    pub(crate) fn report_due_now(&mut self, now_ms: u64) {
        report_suppressed(
            Log {
                state: &self.state,
                prefix: &self.prefix,
            },
            self.limit.take_due(now_ms),
        );
    }

    /// The run has ended: logs what is left, and fails the calls in
    /// flight (`EPROTO` after a protocol error, else `ECONNRESET`).
    pub(crate) fn end(&mut self) {
        let mut decoder = core::mem::replace(&mut self.decoder, Decoder::new(0));
        decoder.finish(&mut |event| {
            self.sort(event);
        });
        let now = self.now;
        let (lines, limit, log) = self.records();
        lines.finish(&mut |r| log_record(log, limit, now, r));
        report_suppressed(log, limit.take_suppressed());
        self.pending = None;
        self.frame = Frame::None;
        self.channel.disconnect(if self.broken {
            code!(EPROTO)
        } else {
            code!(ECONNRESET)
        });
    }

    /// What logging a record takes: the lines, the rate limit, and where
    /// the record goes.
    fn records(&mut self) -> (&mut LineAssembler, &mut RateLimit, Log<'_>) {
        let Self {
            lines,
            limit,
            state,
            prefix,
            ..
        } = self;
        (lines, limit, Log { state, prefix })
    }

    /// Handles one event; returns whether the helper said something.
    fn sort(&mut self, event: Event<'_>) -> bool {
        let now = self.now;
        match event {
            Event::Text(text) => {
                if self.pending.take().is_some() {
                    // A plain-text helper: its stdin closes, as ever.
                    self.channel.refuse();
                }
                let (lines, limit, log) = self.records();
                lines.feed(text, &mut |r| log_record(log, limit, now, r));
                true
            }
            Event::Hello => {
                if let Some((stdin, helper, replies)) = self.pending.take() {
                    pr_info!("{}helper opened the channel\n", &*self.prefix);
                    self.channel.connect(stdin, helper, replies);
                }
                true
            }
            Event::Frame(header) => {
                self.frame = match header.kind {
                    Kind::Log => Frame::Log,
                    Kind::Reply => match self.channel.addressee(header.id) {
                        Addressee::Waiting => Frame::Reply {
                            id: header.id,
                            // Without memory, the call fails with ENOMEM.
                            reply: KVec::with_capacity(header.len as usize, GFP_KERNEL).ok(),
                        },
                        Addressee::Gone => Frame::Reply {
                            id: header.id,
                            reply: None,
                        },
                        Addressee::Unknown => {
                            let n = self.protocol_error();
                            pr_err!(
                                "{}protocol error {}: a reply to call {}, which was never made or is no longer awaited (header {}); ending the helper\n",
                                &*self.prefix,
                                n,
                                header.id,
                                Hex::of(&header.encode()).as_str()
                            );
                            Frame::None
                        }
                    },
                    Kind::Request => {
                        let n = self.protocol_error();
                        pr_err!(
                            "{}protocol error {}: a request frame from the helper (header {}); ending the helper\n",
                            &*self.prefix,
                            n,
                            Hex::of(&header.encode()).as_str()
                        );
                        Frame::None
                    }
                };
                false
            }
            Event::Payload(data) => {
                let Self {
                    frame,
                    lines,
                    limit,
                    state,
                    prefix,
                    ..
                } = self;
                let log = Log { state, prefix };
                match frame {
                    Frame::Log => lines.feed(data, &mut |r| log_record(log, limit, now, r)),
                    Frame::Reply {
                        reply: Some(reply), ..
                    } => {
                        // Within the capacity taken for the whole payload.
                        let _ = reply.extend_from_slice(data, GFP_KERNEL);
                    }
                    Frame::Reply { reply: None, .. } | Frame::None => {}
                }
                false
            }
            Event::End => {
                match core::mem::replace(&mut self.frame, Frame::None) {
                    // Lines may go on in the next log frame.
                    Frame::Log => return true,
                    // No memory for a reply fails its call with ENOMEM;
                    // a reply no call waits for is counted as late.
                    Frame::Reply { id, reply } => {
                        if !self.channel.deliver(id, reply.ok_or(ENOMEM)) {
                            let late = self.state.count(Counter::LateReplies, 1);
                            if self.limit.check(now, false).log {
                                pr_info!(
                                    "{}late reply to call {} dropped ({} so far)\n",
                                    &*self.prefix,
                                    id,
                                    late
                                );
                            }
                        }
                    }
                    Frame::None => {}
                }
                false
            }
            Event::Malformed(e, header) => {
                let hex = Hex::of(&header);
                let hex = hex.as_str();
                let n = self.protocol_error();
                match e {
                    FrameError::TooLong(len) => pr_err!(
                        "{}protocol error {}: a frame of {} bytes, over max_message={} (header {}); ending the helper\n",
                        &*self.prefix, n, len, self.max_message, hex
                    ),
                    FrameError::UnknownKind(kind) => pr_err!(
                        "{}protocol error {}: a frame of unknown kind {} (header {}); ending the helper\n",
                        &*self.prefix, n, kind, hex
                    ),
                    FrameError::Reserved => pr_err!(
                        "{}protocol error {}: a frame with reserved bits set (header {}); ending the helper\n",
                        &*self.prefix, n, hex
                    ),
                }
                false
            }
        }
    }

    /// Counts a protocol error and returns the count: the helper is ended
    /// and calls in flight fail with `EPROTO`.
    fn protocol_error(&mut self) -> u64 {
        self.broken = true;
        self.state.count(Counter::ProtocolErrors, 1)
    }
}

/// A frame header's bytes in hex, as every protocol error logs them.
struct Hex([u8; 2 * HEADER_LEN]);

impl Hex {
    fn of(header: &[u8; HEADER_LEN]) -> Self {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut hex = [0u8; 2 * HEADER_LEN];
        for (i, byte) in header.iter().enumerate() {
            hex[2 * i] = DIGITS[usize::from(byte >> 4)];
            hex[2 * i + 1] = DIGITS[usize::from(byte & 0xf)];
        }
        Self(hex)
    }

    /// Hex digits only: safe to log as they are.
    fn as_str(&self) -> &str {
        core::str::from_utf8(&self.0).unwrap_or("")
    }
}

/// Logs one record, or counts it if the rate limit says so.
fn log_record(log: Log<'_>, limit: &mut RateLimit, now_ms: u64, record: Record<'_>) {
    let verdict = limit.check(now_ms, record.continued);
    report_suppressed(log, verdict.report_suppressed);
    if verdict.log {
        log.state.count(Counter::RecordsRelayed, 1);
        pr_info!(
            "{}From userspace: {}{}\n",
            log.prefix,
            record.text,
            record.mark()
        );
    } else if verdict.cut {
        // The last logged record promised a continuation: keep the promise.
        pr_warn!(
            "{}rate limit: the rest of this line is suppressed\n",
            log.prefix
        );
    }
}

fn report_suppressed(log: Log<'_>, count: u64) {
    if count > 0 {
        log.state.count(Counter::RecordsSuppressed, count);
        pr_warn!("{}{} records suppressed\n", log.prefix, count);
    }
}

/// Where a helper's records go: its counters, and its log prefix.
#[derive(Clone, Copy)]
struct Log<'a> {
    state: &'a State,
    prefix: &'a CStr,
}
