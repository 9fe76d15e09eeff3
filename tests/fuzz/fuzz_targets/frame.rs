// SPDX-License-Identifier: GPL-2.0

//! Fuzzes the channel's frame decoder with any bytes in any chunking: the
//! events do not depend on how the bytes are split into reads, a plain-text
//! stream comes out byte for byte, and a framed stream's payloads add up
//! to their headers' lengths, each within the maximum message size.
#![no_main]

// The very file the module and the helper runtime compile.
#[path = "../../../src/frame.rs"]
mod frame;

use frame::{Decoder, Event, Header, Kind, HELLO};
use libfuzzer_sys::fuzz_target;

/// One event in an owned form, payloads and text joined across reads.
#[derive(Debug, PartialEq)]
enum Owned {
    Text(Vec<u8>),
    Hello,
    Frame(Header),
    Payload(Vec<u8>),
    End,
    Malformed,
}

fn decode(data: &[u8], step: usize, max: u32) -> Vec<Owned> {
    let mut out: Vec<Owned> = Vec::new();
    let mut decoder = Decoder::new(max);
    let mut push = |e: Event<'_>| {
        let owned = match e {
            Event::Text(t) => Owned::Text(t.to_vec()),
            Event::Hello => Owned::Hello,
            Event::Frame(h) => Owned::Frame(h),
            Event::Payload(p) => Owned::Payload(p.to_vec()),
            Event::End => Owned::End,
            Event::Malformed(..) => Owned::Malformed,
        };
        // Joins what a split read cut in two.
        match (out.last_mut(), owned) {
            (Some(Owned::Text(a)), Owned::Text(b)) => a.extend(b),
            (Some(Owned::Payload(a)), Owned::Payload(b)) => a.extend(b),
            (_, owned) => out.push(owned),
        }
    };
    for chunk in data.chunks(step) {
        decoder.feed(chunk, &mut push);
    }
    decoder.finish(&mut push);
    out
}

fuzz_target!(|input: &[u8]| {
    // The first byte picks a chunk size, the second a maximum; half of the
    // inputs start with the hello, so framed streams are explored too.
    let Some((&[step, max, hello], data)) = input.split_first_chunk::<3>() else {
        return;
    };
    let step = usize::from(step % 32) + 1;
    let max = u32::from(max) * 16;
    let mut stream = Vec::new();
    if hello % 2 == 0 {
        stream.extend_from_slice(&HELLO);
    }
    stream.extend_from_slice(data);

    let whole = decode(&stream, stream.len().max(1), max);
    assert_eq!(decode(&stream, step, max), whole, "depends on the split");

    match whole.first() {
        Some(Owned::Hello) => {
            // Frames: each header's payload follows in full, then End,
            // unless the stream stops short; nothing after a malformed one.
            let mut rest = whole[1..].iter().peekable();
            while let Some(event) = rest.next() {
                match event {
                    Owned::Frame(h) => {
                        assert!(h.len <= max);
                        assert!(matches!(h.kind, Kind::Request | Kind::Reply | Kind::Log));
                        if h.len > 0 {
                            match rest.next() {
                                Some(Owned::Payload(p)) => {
                                    assert!(p.len() <= h.len as usize);
                                    if p.len() < h.len as usize {
                                        assert!(rest.next().is_none(), "a short payload");
                                        break;
                                    }
                                }
                                None => break,
                                other => panic!("after a header: {other:?}"),
                            }
                        }
                        match rest.next() {
                            Some(Owned::End) | None => {}
                            other => panic!("after a payload: {other:?}"),
                        }
                    }
                    Owned::Malformed => assert!(rest.next().is_none(), "events after Malformed"),
                    other => panic!("out of place: {other:?}"),
                }
            }
            // Encoding what was decoded gives the stream back.
            let mut rebuilt = HELLO.to_vec();
            for event in &whole[1..] {
                match event {
                    Owned::Frame(h) => rebuilt.extend_from_slice(&h.encode()),
                    Owned::Payload(p) => rebuilt.extend_from_slice(p),
                    _ => {}
                }
            }
            assert!(stream.starts_with(&rebuilt));
        }
        // Text: all of it, as it came.
        Some(Owned::Text(text)) => {
            assert_eq!(whole.len(), 1);
            assert_eq!(text, &stream);
        }
        None => assert!(stream.is_empty()),
        Some(other) => panic!("first event {other:?}"),
    }
});
