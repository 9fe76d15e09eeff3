// SPDX-License-Identifier: GPL-2.0

//! The channel's wire format and decoder, on the host: the same source file
//! (`src/frame.rs`) the module and the helper runtime compile.

mod common;

use eprog::frame::{Decoder, Event, FrameError, Header, Kind, HEADER_LEN, HELLO, MESSAGE_MAX};

/// Decodes `chunks` one after the other; events as strings, for asserts.
fn decode(chunks: &[&[u8]], max: u32) -> Vec<String> {
    let mut out = Vec::new();
    let mut decoder = Decoder::new(max);
    let mut push = |e: Event<'_>| {
        out.push(match e {
            Event::Text(t) => format!("text {}", String::from_utf8_lossy(t)),
            Event::Hello => "hello".into(),
            Event::Frame(h) => format!("frame {:?} {} {}", h.kind, h.id, h.len),
            Event::Payload(p) => format!("payload {}", String::from_utf8_lossy(p)),
            Event::End => "end".into(),
            Event::Malformed(e, _) => format!("malformed {e:?}"),
        })
    };
    for chunk in chunks {
        decoder.feed(chunk, &mut push);
    }
    decoder.finish(&mut push);
    out
}

fn frame(kind: Kind, id: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = Header {
        kind,
        id,
        len: payload.len() as u32,
    }
    .encode()
    .to_vec();
    out.extend_from_slice(payload);
    out
}

#[test]
fn the_header_is_little_endian_with_the_kind_at_byte_8() {
    let h = Header {
        kind: Kind::Reply,
        id: 0x0102_0304,
        len: 0x0a0b,
    };
    assert_eq!(h.encode(), [0x0b, 0x0a, 0, 0, 4, 3, 2, 1, 2, 0, 0, 0]);
    assert_eq!(Header::decode(&h.encode(), MESSAGE_MAX), Ok(h));
    assert_eq!(HEADER_LEN, 12);
    assert_eq!(&HELLO, b"\0EPROG\x01\0");
}

#[test]
fn malformed_headers_are_refused_with_the_reason() {
    let mut bytes = Header {
        kind: Kind::Log,
        id: 0,
        len: 100,
    }
    .encode();
    assert_eq!(Header::decode(&bytes, 99), Err(FrameError::TooLong(100)));
    bytes[8] = 9;
    assert_eq!(Header::decode(&bytes, 100), Err(FrameError::UnknownKind(9)));
    bytes[8] = 3;
    bytes[11] = 1;
    assert_eq!(Header::decode(&bytes, 100), Err(FrameError::Reserved));
}

#[test]
fn a_helper_that_says_hello_writes_frames_split_anywhere() {
    let mut stream = HELLO.to_vec();
    stream.extend(frame(Kind::Log, 0, b"line\n"));
    stream.extend(frame(Kind::Reply, 7, b""));
    stream.extend(frame(Kind::Reply, 8, b"answer"));
    let expected = [
        "hello",
        "frame Log 0 5",
        "payload line\n",
        "end",
        "frame Reply 7 0",
        "end",
        "frame Reply 8 6",
        "payload answer",
        "end",
    ];
    assert_eq!(decode(&[&stream], MESSAGE_MAX), expected);
    // Byte by byte: payloads come in pieces, nothing else changes.
    let bytes: Vec<&[u8]> = stream.chunks(1).collect();
    let events = decode(&bytes, MESSAGE_MAX);
    let joined: Vec<String> = events
        .iter()
        .filter(|e| !e.starts_with("payload"))
        .cloned()
        .collect();
    let expected_joined: Vec<&str> = expected
        .iter()
        .copied()
        .filter(|e| !e.starts_with("payload"))
        .collect();
    assert_eq!(joined, expected_joined);
}

#[test]
fn a_plain_text_helper_is_relayed_byte_for_byte_even_if_it_starts_like_a_hello() {
    assert_eq!(decode(&[b"Hello, world!\n"], 16), ["text Hello, world!\n"]);
    // Half a hello, then something else: all of it is text.
    assert_eq!(
        decode(&[b"\0EPR", b"OBE\n"], 16),
        ["text \0EPR", "text OBE\n"]
    );
    // A hello cut short by the helper's end is text too.
    assert_eq!(decode(&[b"\0EP"], 16), ["text \0EP"]);
}

#[test]
fn nothing_is_decoded_after_a_malformed_header() {
    let mut stream = HELLO.to_vec();
    stream.extend(frame(Kind::Log, 0, &[b'x'; 17]));
    stream.extend(frame(Kind::Reply, 1, b"never seen"));
    assert_eq!(decode(&[&stream], 16), ["hello", "malformed TooLong(17)"]);
}

/// The fuzz target (`tests/fuzz/fuzz_targets/frame.rs`) checks that no split
/// changes what is decoded, on any input.
#[test]
#[ignore = "needs nightly and cargo-fuzz: run through 'make check'"]
fn fuzz_the_frame_decoder_for_a_bounded_time() {
    common::fuzz("frame");
}
