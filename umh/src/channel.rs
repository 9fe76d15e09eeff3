// SPDX-License-Identifier: GPL-2.0

//! The helper's side of eprog's channel: serve the kernel's calls.
//!
//! ```ignore
//! fn main() -> i32 {
//!     let mut buf = [0u8; 128];
//!     let _config = umh::read_config_line(&mut buf);
//!     umh::serve(|request, reply| {
//!         reply.push(request);
//!     })
//! }
//! ```
//!
//! [`serve`] opens the channel (the hello), then answers one request after
//! another until eprog closes the helper's stdin. From the hello on, stdout
//! carries frames: [`crate::print`] then sends log frames, so logging goes
//! on as before. No allocation: a request and its reply live on the stack
//! (up to [`MESSAGE_MAX`] bytes each). The wire format is `src/frame.rs` of
//! the module, which this crate compiles too.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};

pub use crate::frame::MESSAGE_MAX;
use crate::frame::{Header, Kind, HEADER_LEN, HELLO};
use crate::syscall;

/// Set once the hello is out: stdout carries frames from then on.
static FRAMED: AtomicBool = AtomicBool::new(false);

/// The reply being built for one request.
pub struct Reply<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl Reply<'_> {
    /// Appends `bytes`; returns false, appending nothing, if they do not
    /// fit in what is left of [`MESSAGE_MAX`].
    pub fn push(&mut self, bytes: &[u8]) -> bool {
        let Some(room) = self.buf.get_mut(self.len..self.len + bytes.len()) else {
            return false;
        };
        // Not copy_from_slice(), whose length check would pull in
        // `core::fmt` (see `rt.rs`).
        for (to, from) in room.iter_mut().zip(bytes) {
            *to = *from;
        }
        self.len += bytes.len();
        true
    }

    /// What the reply holds so far.
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }

    /// Empties the reply.
    pub fn clear(&mut self) {
        self.len = 0;
    }
}

/// Opens the channel: writes the hello. Afterwards [`crate::print`] writes
/// log frames. [`serve`] calls it; call it yourself only to speak the
/// protocol by hand (see [`read_request`] and [`send_reply`]).
pub fn open() {
    write_all(&HELLO);
    FRAMED.store(true, Ordering::Relaxed);
}

/// Whether stdout carries frames.
pub(crate) fn framed() -> bool {
    FRAMED.load(Ordering::Relaxed)
}

/// Writes `text` as log frames.
pub(crate) fn log(text: &[u8]) {
    for chunk in text.chunks(MESSAGE_MAX as usize) {
        send(Kind::Log, 0, chunk);
    }
}

/// Answers requests with `handler` until eprog closes stdin; returns the
/// exit status (0 then, 1 after a malformed request).
///
/// Read the configuration line first (see [`crate::read_config_line`]):
/// requests follow it on stdin.
pub fn serve(handler: impl FnMut(&[u8], &mut Reply<'_>)) -> i32 {
    serve_every(0, || {}, handler)
}

/// As [`serve`], and calls `tick` at once and then every `interval_ms`
/// milliseconds between requests (0: never); once stdin is closed, it
/// goes on calling `tick`.
pub fn serve_every(
    interval_ms: u32,
    mut tick: impl FnMut(),
    mut handler: impl FnMut(&[u8], &mut Reply<'_>),
) -> i32 {
    let Some(Buffers { input, output }) = take_buffers() else {
        crate::print(b"umh::serve: called twice\n");
        return 1;
    };
    open();
    let mut input = Input {
        buf: input,
        start: 0,
        end: 0,
    };
    // The reply goes out in one write, its header in front.
    let out = output;
    let interval = u64::from(interval_ms) * 1_000_000;
    let mut next_tick = syscall::monotonic_ns();
    // The time, as of the last wait: what ppoll leaves of the wait's
    // timeout says when it returned, so a request costs no clock read.
    let mut now = next_tick;
    loop {
        // Ticks until a request comes.
        if interval_ms > 0 {
            while input.is_empty() {
                if now >= next_tick {
                    tick();
                    next_tick = now + interval;
                    now = syscall::monotonic_ns();
                    continue;
                }
                let mut left = next_tick - now;
                let ready = syscall::wait_readable_within(0, &mut left);
                now = if ready < 0 {
                    syscall::monotonic_ns()
                } else {
                    next_tick - left.min(next_tick)
                };
                if ready != 0 {
                    break;
                }
            }
        }
        let (id, request) = match input.next() {
            Ok(Some(frame)) => frame,
            Ok(None) => {
                // eprog closed the channel; the periodic work goes on.
                if interval_ms == 0 {
                    return 0;
                }
                loop {
                    sleep_until(next_tick);
                    tick();
                    next_tick += interval;
                }
            }
            Err(()) => {
                crate::print(b"malformed request frame\n");
                return 1;
            }
        };
        #[cfg(feature = "steps")]
        let had = syscall::monotonic_ns();
        let (head, body) = out.split_at_mut(HEADER_LEN);
        let mut reply = Reply { buf: body, len: 0 };
        handler(request, &mut reply);
        #[cfg(feature = "steps")]
        {
            reply.push(&had.to_le_bytes());
            reply.push(&syscall::monotonic_ns().to_le_bytes());
        }
        let len = reply.len;
        let header = Header {
            kind: Kind::Reply,
            id,
            len: len as u32,
        };
        head.copy_from_slice(&header.encode());
        write_all(out.get(..HEADER_LEN + len).unwrap_or_default());
    }
}

/// The largest frame.
const FRAME_MAX: usize = HEADER_LEN + MESSAGE_MAX as usize;

/// The server's request and reply buffers, in `.bss`: pages that are never
/// touched cost no memory, so a helper that gets small requests stays
/// small (on its stack, zeroing them would make 128 KiB resident).
struct Buffers {
    input: &'static mut [u8; FRAME_MAX],
    output: &'static mut [u8; FRAME_MAX],
}

struct Static(UnsafeCell<[[u8; FRAME_MAX]; 2]>);

// SAFETY: Only `take_buffers` reaches the cell, once.
unsafe impl Sync for Static {}

static BUFFERS: Static = Static(UnsafeCell::new([[0; FRAME_MAX]; 2]));
static TAKEN: AtomicBool = AtomicBool::new(false);

/// The buffers, to the first caller only.
fn take_buffers() -> Option<Buffers> {
    if TAKEN.swap(true, Ordering::Relaxed) {
        return None;
    }
    // SAFETY: The swap lets one caller through, ever: this is the only
    // reference to the cell there will be.
    let [input, output] = unsafe { &mut *BUFFERS.0.get() };
    Some(Buffers { input, output })
}

/// Buffered stdin: one read usually brings a whole request, or several.
///
/// # Invariants
///
/// `start <= end <= FRAME_MAX`; `buf[start..end]` is read and not yet used.
struct Input {
    buf: &'static mut [u8; FRAME_MAX],
    start: usize,
    end: usize,
}

impl Input {
    fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Reads until `buf[start..]` holds `n` bytes; false at end of file.
    fn fill(&mut self, n: usize) -> bool {
        if self.start + n > FRAME_MAX {
            // Room for a whole frame at the front (byte by byte: see
            // `Reply::push`).
            for i in 0..self.end - self.start {
                let byte = self.buf.get(self.start + i).copied().unwrap_or(0);
                if let Some(to) = self.buf.get_mut(i) {
                    *to = byte;
                }
            }
            self.end -= self.start;
            self.start = 0;
        }
        while self.end - self.start < n {
            let got = syscall::read(0, self.buf.get_mut(self.end..).unwrap_or_default());
            if got <= 0 {
                return false;
            }
            self.end += got as usize;
        }
        true
    }

    /// The next request: its id and bytes, `None` at end of file, or an
    /// error for a malformed frame.
    fn next(&mut self) -> Result<Option<(u32, &[u8])>, ()> {
        if !self.fill(HEADER_LEN) {
            return Ok(None);
        }
        let mut bytes = [0u8; HEADER_LEN];
        bytes.copy_from_slice(
            self.buf
                .get(self.start..self.start + HEADER_LEN)
                .ok_or(())?,
        );
        let header = match Header::decode(&bytes, MESSAGE_MAX) {
            Ok(h) if h.kind == Kind::Request => h,
            _ => return Err(()),
        };
        let len = HEADER_LEN + header.len as usize;
        if !self.fill(len) {
            return Ok(None);
        }
        let frame = self.start;
        self.start += len;
        if self.start == self.end {
            (self.start, self.end) = (0, 0);
        }
        let request = self.buf.get(frame + HEADER_LEN..frame + len).ok_or(())?;
        Ok(Some((header.id, request)))
    }
}

/// Reads the next request into `buf`: returns its id and length, the id
/// and `None` for a malformed frame, or `None` at end of file.
pub fn read_request(buf: &mut [u8; MESSAGE_MAX as usize]) -> Option<(u32, Option<usize>)> {
    let mut header = [0u8; HEADER_LEN];
    if !read_exact(&mut header) {
        return None;
    }
    match Header::decode(&header, MESSAGE_MAX) {
        Ok(h) if h.kind == Kind::Request => {
            let body = buf.get_mut(..h.len as usize)?;
            read_exact(body).then_some((h.id, Some(body.len())))
        }
        _ => Some((0, None)),
    }
}

/// Sends the reply to call `id`.
pub fn send_reply(id: u32, reply: &[u8]) {
    send(Kind::Reply, id, reply);
}

fn send(kind: Kind, id: u32, payload: &[u8]) {
    let header = Header {
        kind,
        id,
        len: payload.len() as u32,
    };
    write_all(&header.encode());
    write_all(payload);
}

fn write_all(mut bytes: &[u8]) {
    while !bytes.is_empty() {
        let n = syscall::write(1, bytes);
        if n <= 0 {
            return;
        }
        bytes = bytes.get(n as usize..).unwrap_or_default();
    }
}

fn read_exact(mut buf: &mut [u8]) -> bool {
    while !buf.is_empty() {
        let n = syscall::read(0, buf);
        if n <= 0 {
            return false;
        }
        buf = buf.get_mut(n as usize..).unwrap_or_default();
    }
    true
}

/// Sleeps until `ns` on the monotonic clock (whole milliseconds, rounded
/// up, as `sleep_ms` takes them).
fn sleep_until(ns: u64) {
    let now = syscall::monotonic_ns();
    if ns > now {
        let ms = (ns - now).div_ceil(1_000_000);
        syscall::sleep_ms(ms.min(u64::from(u32::MAX)) as u32);
    }
}
