// SPDX-License-Identifier: GPL-2.0

//! Fuzzes the relay with any bytes in any chunking, and checks on every
//! input that what it logs is safe and that no byte is lost or invented.
#![no_main]

// The very file the module compiles (no build script, no helper builds).
#[path = "../../../src/relay.rs"]
mod relay;

use libfuzzer_sys::fuzz_target;
use relay::{LineAssembler, RateLimit, Record, CONTINUATION_MARK, RECORD_MAX};

/// Undoes the relay's escaping.
fn unescape(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            assert_eq!(
                bytes.get(i + 1),
                Some(&b'x'),
                "a lone backslash in {text:?}"
            );
            let hex = std::str::from_utf8(&bytes[i + 2..i + 4]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 4;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

fuzz_target!(|input: &[u8]| {
    // The first byte picks chunk sizes, so reads split lines anywhere.
    let (step, data) = match input.split_first() {
        Some((&s, rest)) => (usize::from(s % 64) + 1, rest),
        None => (1, input),
    };
    let mut records: Vec<(String, bool)> = Vec::new();
    let mut emit = |r: Record<'_>| {
        assert!(r.text.len() <= RECORD_MAX, "record too long");
        assert!(
            r.text.bytes().all(|b| (b' '..=b'~').contains(&b)),
            "unsafe byte"
        );
        assert_eq!(r.mark(), if r.continued { CONTINUATION_MARK } else { "" });
        records.push((r.text.to_string(), r.continued));
    };
    let mut lines = LineAssembler::new();
    for chunk in data.chunks(step) {
        lines.feed(chunk, &mut emit);
    }
    lines.finish(&mut emit);

    // Joining the records back gives the input, byte for byte.
    let mut rebuilt = Vec::new();
    for (text, continued) in &records {
        rebuilt.extend(unescape(text));
        if !continued {
            rebuilt.push(b'\n');
        }
    }
    let mut expected = data.to_vec();
    if !expected.is_empty() && expected.last() != Some(&b'\n') {
        expected.push(b'\n');
    }
    assert_eq!(rebuilt, expected);

    // Every record is either logged or counted as suppressed, whether the
    // count is reported when due or with a later record; a cut is only
    // reported right after a logged record with a continuation mark.
    let mut limit = RateLimit::new(u32::from(step as u8 % 5), 10);
    let (mut logged, mut reported) = (0u64, 0u64);
    let mut open_line = false;
    for (i, (_, continued)) in records.iter().enumerate() {
        let now = i as u64 / 3;
        if i % 7 == 0 {
            reported += limit.take_due(now);
        }
        let v = limit.check(now, *continued);
        assert_eq!(v.cut, !v.log && open_line);
        if v.log {
            open_line = *continued;
        } else if v.cut {
            open_line = false;
        }
        logged += u64::from(v.log);
        reported += v.report_suppressed;
    }
    assert_eq!(
        logged + reported + limit.take_suppressed(),
        records.len() as u64
    );
});
