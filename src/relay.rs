// SPDX-License-Identifier: GPL-2.0

//! Turns the bytes a helper writes into safe kernel log records.
//!
//! Plain `no_std` Rust with no kernel dependency: the module compiles it in,
//! and the host crate compiles it again for unit tests and fuzzing.
//!
//! - Lines are assembled across reads; a newline ends a record.
//! - Every byte outside printable ASCII, and the backslash itself, is
//!   escaped as `\xNN`, so a helper cannot forge log levels or other lines,
//!   or send terminal escape sequences.
//! - A record holds at most [`RECORD_MAX`] characters after escaping. A
//!   longer line is cut into several records; each record that the next one
//!   continues ends with a single `\`. Because every backslash of the
//!   helper's own text is escaped, that mark cannot be forged.
//! - [`LineAssembler::finish`] flushes a last line that has no newline.

/// Most characters of one record, after escaping. With the module's
/// `"eprog: From userspace: "` prefix and the mark, a record stays under
/// printk's 1024-byte record limit.
pub const RECORD_MAX: usize = 960;

/// The mark ending a record that the next record continues.
pub const CONTINUATION_MARK: &str = "\\";

/// One log record's worth of a helper's line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    /// Printable ASCII only, at most [`RECORD_MAX`] characters.
    pub text: &'a str,
    /// The helper's line goes on in the next record.
    pub continued: bool,
}

impl Record<'_> {
    /// The mark to print after [`Record::text`]: empty or [`CONTINUATION_MARK`].
    pub fn mark(&self) -> &'static str {
        if self.continued {
            CONTINUATION_MARK
        } else {
            ""
        }
    }
}

/// Assembles escaped records from a byte stream.
///
/// # Invariants
///
/// `buf[..len]` is printable ASCII (the escaped text of the current line)
/// and `len <= RECORD_MAX`.
pub struct LineAssembler {
    buf: [u8; RECORD_MAX],
    len: usize,
}

impl Default for LineAssembler {
    fn default() -> Self {
        Self::new()
    }
}

impl LineAssembler {
    /// Creates an assembler with an empty line.
    pub const fn new() -> Self {
        Self {
            buf: [0; RECORD_MAX],
            len: 0,
        }
    }

    /// Feeds bytes read from the helper; calls `emit` for each record that
    /// is complete (ended by a newline, or full).
    pub fn feed(&mut self, mut data: &[u8], emit: &mut impl FnMut(Record<'_>)) {
        while let Some((&byte, rest)) = data.split_first() {
            // Fast path: copy a run of bytes that need no escaping at once.
            let plain = data.iter().take_while(|&&b| is_plain(b)).count();
            if plain > 0 {
                let n = plain.min(RECORD_MAX - self.len);
                if n == 0 {
                    self.emit(true, emit);
                    continue;
                }
                self.buf[self.len..self.len + n].copy_from_slice(&data[..n]);
                self.len += n;
                data = &data[n..];
                continue;
            }
            data = rest;
            if byte == b'\n' {
                self.emit(false, emit);
                continue;
            }
            let mut escaped = [0u8; 4];
            let escaped = escape(byte, &mut escaped);
            if self.len + escaped.len() > RECORD_MAX {
                self.emit(true, emit);
            }
            self.buf[self.len..self.len + escaped.len()].copy_from_slice(escaped);
            self.len += escaped.len();
        }
    }

    /// Emits the last line if the helper ended without a newline.
    pub fn finish(&mut self, emit: &mut impl FnMut(Record<'_>)) {
        if self.len > 0 {
            self.emit(false, emit);
        }
    }

    fn emit(&mut self, continued: bool, emit: &mut impl FnMut(Record<'_>)) {
        // By the type invariant the buffer is ASCII; the error arm is never taken.
        let text = core::str::from_utf8(&self.buf[..self.len]).unwrap_or("");
        emit(Record { text, continued });
        self.len = 0;
    }
}

/// Whether `byte` is logged as it is.
fn is_plain(byte: u8) -> bool {
    (b' '..=b'~').contains(&byte) && byte != b'\\'
}

/// Escapes one byte into `out`; returns the characters to log for it.
fn escape(byte: u8, out: &mut [u8; 4]) -> &[u8] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    if is_plain(byte) {
        out[0] = byte;
        return &out[..1];
    }
    *out = [
        b'\\',
        b'x',
        HEX[usize::from(byte >> 4)],
        HEX[usize::from(byte & 0xf)],
    ];
    &out[..]
}

/// Limits how many records reach the log: at most `burst` records in each
/// window of `interval_ms` milliseconds. Records over the limit are counted,
/// never silently lost: the count is due when the window ends (see
/// [`RateLimit::report_due`]), or reported with the next window's first
/// record, and at the end (see [`RateLimit::take_suppressed`]).
///
/// It counts records, not lines: a line longer than [`RECORD_MAX`] is
/// several records. When it suppresses the rest of a line whose last logged
/// record promised a continuation, it says so ([`Verdict::cut`]), so no
/// continuation mark is left dangling.
///
/// A `burst` of 0 turns the limit off.
pub struct RateLimit {
    burst: u32,
    interval_ms: u64,
    window_start: Option<u64>,
    in_window: u32,
    suppressed: u64,
    /// The last logged record carried a continuation mark.
    open_line: bool,
}

/// What to do with one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// Log the record.
    pub log: bool,
    /// Before it, report this many records suppressed in earlier windows.
    pub report_suppressed: u64,
    /// The record is suppressed and its line's last logged record ends with
    /// a continuation mark: say now that the rest of that line is cut.
    pub cut: bool,
}

impl RateLimit {
    /// A limit of `burst` records per `interval_ms` milliseconds.
    pub const fn new(burst: u32, interval_ms: u64) -> Self {
        Self {
            burst,
            interval_ms,
            window_start: None,
            in_window: 0,
            suppressed: 0,
            open_line: false,
        }
    }

    /// Decides for one record at time `now_ms` (any monotonic clock);
    /// `continued` says whether the record carries a continuation mark.
    pub fn check(&mut self, now_ms: u64, continued: bool) -> Verdict {
        let mut verdict = Verdict {
            log: true,
            report_suppressed: 0,
            cut: false,
        };
        if self.burst == 0 {
            return verdict;
        }
        let expired = match self.window_start {
            None => true,
            Some(start) => now_ms.saturating_sub(start) >= self.interval_ms,
        };
        if expired {
            self.window_start = Some(now_ms);
            self.in_window = 0;
            verdict.report_suppressed = core::mem::take(&mut self.suppressed);
        }
        if self.in_window < self.burst {
            self.in_window += 1;
            self.open_line = continued;
        } else {
            self.suppressed += 1;
            verdict.log = false;
            verdict.cut = core::mem::take(&mut self.open_line);
        }
        verdict
    }

    /// When the suppressed records not yet reported are due to be reported
    /// (the end of their window), if there are any.
    pub fn report_due(&self) -> Option<u64> {
        match (self.suppressed, self.window_start) {
            (0, _) | (_, None) => None,
            (_, Some(start)) => Some(start.saturating_add(self.interval_ms)),
        }
    }

    /// At time `now_ms`: the suppressed records whose report is due, if it
    /// is; resets their count. Nothing is reported twice.
    pub fn take_due(&mut self, now_ms: u64) -> u64 {
        match self.report_due() {
            Some(due) if now_ms >= due => core::mem::take(&mut self.suppressed),
            _ => 0,
        }
    }

    /// Records suppressed and not yet reported; resets the count.
    pub fn take_suppressed(&mut self) -> u64 {
        core::mem::take(&mut self.suppressed)
    }
}
