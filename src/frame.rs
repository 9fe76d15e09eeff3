// SPDX-License-Identifier: GPL-2.0

//! The channel's wire format between eprog and its helper, and a streaming
//! decoder for what a helper writes.
//!
//! Plain `no_std` Rust with no kernel dependency: the module, the `umh`
//! runtime and the host crate (unit tests, fuzzing) compile this same file.
//!
//! A helper opts in to the channel by writing [`HELLO`] as the very first
//! bytes of its stdout; from then on, everything it writes is frames, and
//! eprog writes request frames to its stdin (after the configuration line).
//! A helper whose first bytes are anything else is a plain-text helper: its
//! bytes are relayed as log lines, as ever.
//!
//! A frame is a 12-byte header, then `len` bytes of payload:
//!
//! | bytes | field | |
//! | --- | --- | --- |
//! | 0..4 | `len` | payload length, little-endian, at most the maximum message size |
//! | 4..8 | `id` | the call's id, little-endian; 0 in a log frame |
//! | 8 | `kind` | 1 request (to the helper), 2 reply, 3 log (from it) |
//! | 9..12 | reserved | zero |

/// What a helper writes first to open the channel.
pub const HELLO: [u8; 8] = *b"\0EPROG\x01\0";

/// The size of a frame header.
pub const HEADER_LEN: usize = 12;

/// The largest payload eprog's `max_message` can allow.
pub const MESSAGE_MAX: u32 = 65536;

/// What a frame carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A call's request, from eprog to the helper.
    Request = 1,
    /// The answer to the request with the same id, from the helper.
    Reply = 2,
    /// Log text from the helper: relayed as a plain-text helper's output
    /// is (escaped, in lines ended by newlines, which may span frames).
    Log = 3,
}

/// A frame's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub kind: Kind,
    pub id: u32,
    pub len: u32,
}

/// Why a header is malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// The kind byte is none of [`Kind`]'s.
    UnknownKind(u8),
    /// A reserved byte is not zero.
    Reserved,
    /// The payload is longer than the maximum message size.
    TooLong(u32),
}

impl Header {
    /// The header's bytes on the wire.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[0..4].copy_from_slice(&self.len.to_le_bytes());
        out[4..8].copy_from_slice(&self.id.to_le_bytes());
        out[8] = self.kind as u8;
        out
    }

    /// Reads a header, refusing payloads longer than `max`.
    pub fn decode(bytes: &[u8; HEADER_LEN], max: u32) -> Result<Self, FrameError> {
        let word = |at: usize| {
            u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
        };
        let kind = match bytes[8] {
            1 => Kind::Request,
            2 => Kind::Reply,
            3 => Kind::Log,
            other => return Err(FrameError::UnknownKind(other)),
        };
        if bytes[9..].iter().any(|&b| b != 0) {
            return Err(FrameError::Reserved);
        }
        let len = word(0);
        if len > max {
            return Err(FrameError::TooLong(len));
        }
        Ok(Self {
            kind,
            id: word(4),
            len,
        })
    }
}

/// What the decoder makes of a helper's bytes, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    /// Output of a plain-text helper, to relay as it is.
    Text(&'a [u8]),
    /// The helper opened the channel.
    Hello,
    /// A frame begins.
    Frame(Header),
    /// Part of the current frame's payload.
    Payload(&'a [u8]),
    /// The current frame is complete.
    End,
    /// A malformed header (its bytes are given, to log): the stream cannot
    /// be trusted any more, and the decoder ignores the rest.
    Malformed(FrameError, [u8; HEADER_LEN]),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Comparing the first bytes with [`HELLO`]; this many matched.
    Detect(usize),
    Text,
    /// In a header; this many bytes of it read.
    Header(usize),
    /// In a payload; this many bytes left.
    Payload(u32),
    Broken,
}

/// Turns a helper's stdout into [`Event`]s, however the bytes are split
/// into reads.
///
/// # Invariants
///
/// In `State::Header(n)`, `n < HEADER_LEN` and `header[..n]` holds the
/// header's bytes read so far.
pub struct Decoder {
    state: State,
    max: u32,
    header: [u8; HEADER_LEN],
}

impl Decoder {
    /// A decoder for a new run of a helper, refusing payloads over `max`.
    pub const fn new(max: u32) -> Self {
        Self {
            state: State::Detect(0),
            max,
            header: [0; HEADER_LEN],
        }
    }

    /// Feeds bytes read from the helper; calls `emit` for each event.
    pub fn feed(&mut self, mut data: &[u8], emit: &mut impl FnMut(Event<'_>)) {
        while !data.is_empty() {
            match self.state {
                State::Detect(matched) => {
                    let n = (HELLO.len() - matched).min(data.len());
                    if data[..n] != HELLO[matched..matched + n] {
                        // Not a hello: all of it is text, including what
                        // matched so far.
                        if matched > 0 {
                            emit(Event::Text(&HELLO[..matched]));
                        }
                        self.state = State::Text;
                        continue;
                    }
                    data = &data[n..];
                    if matched + n == HELLO.len() {
                        self.state = State::Header(0);
                        emit(Event::Hello);
                    } else {
                        self.state = State::Detect(matched + n);
                    }
                }
                State::Text => {
                    emit(Event::Text(data));
                    return;
                }
                State::Header(have) => {
                    let n = (HEADER_LEN - have).min(data.len());
                    self.header[have..have + n].copy_from_slice(&data[..n]);
                    data = &data[n..];
                    if have + n < HEADER_LEN {
                        self.state = State::Header(have + n);
                        continue;
                    }
                    match Header::decode(&self.header, self.max) {
                        Ok(header) => {
                            emit(Event::Frame(header));
                            self.state = if header.len == 0 {
                                emit(Event::End);
                                State::Header(0)
                            } else {
                                State::Payload(header.len)
                            };
                        }
                        Err(e) => {
                            self.state = State::Broken;
                            emit(Event::Malformed(e, self.header));
                        }
                    }
                }
                State::Payload(left) => {
                    let n = data.len().min(left as usize);
                    emit(Event::Payload(&data[..n]));
                    data = &data[n..];
                    let left = left - n as u32;
                    self.state = if left == 0 {
                        emit(Event::End);
                        State::Header(0)
                    } else {
                        State::Payload(left)
                    };
                }
                State::Broken => return,
            }
        }
    }

    /// At the end of the stream: a hello cut short was text after all.
    pub fn finish(&mut self, emit: &mut impl FnMut(Event<'_>)) {
        if let State::Detect(matched) = self.state {
            if matched > 0 {
                emit(Event::Text(&HELLO[..matched]));
            }
            self.state = State::Text;
        }
    }
}
