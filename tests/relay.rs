// SPDX-License-Identifier: GPL-2.0

//! The relay's line assembly and escaping, on the host: the same source file
//! (`src/relay.rs`) the module compiles.

mod common;

use eprog::relay::{LineAssembler, Record, CONTINUATION_MARK, RECORD_MAX};

/// Feeds `chunks` as separate reads, then ends the stream; returns each
/// record as logged (text plus mark).
fn relay(chunks: &[&[u8]]) -> Vec<String> {
    let mut out = Vec::new();
    let mut emit = |r: Record<'_>| out.push(format!("{}{}", r.text, r.mark()));
    let mut lines = LineAssembler::new();
    for chunk in chunks {
        lines.feed(chunk, &mut emit);
    }
    lines.finish(&mut emit);
    out
}

#[test]
fn one_record_per_line() {
    assert_eq!(
        relay(&[b"Hello, world!\nsecond\n"]),
        ["Hello, world!", "second"]
    );
}

#[test]
fn lines_are_assembled_across_reads() {
    assert_eq!(
        relay(&[b"Hel", b"lo, ", b"world!\nsec", b"ond\n"]),
        ["Hello, world!", "second"]
    );
}

#[test]
fn empty_lines_are_kept() {
    assert_eq!(relay(&[b"a\n\nb\n"]), ["a", "", "b"]);
}

#[test]
fn unfinished_last_line_is_flushed_at_the_end() {
    assert_eq!(relay(&[b"done\nno newline"]), ["done", "no newline"]);
    assert_eq!(
        relay(&[b"done\n"]),
        ["done"],
        "no empty record after a final newline"
    );
}

#[test]
fn control_bytes_and_backslashes_are_escaped() {
    // A log level prefix, an ANSI escape, a NUL, a carriage return, UTF-8.
    let out = relay(&[b"\x013fake\x1b[31mred\x00\r\\ \xc3\xa9\n"]);
    assert_eq!(out, [r"\x013fake\x1b[31mred\x00\x0d\x5c \xc3\xa9"]);
}

#[test]
fn records_never_exceed_the_limit_and_long_lines_are_marked() {
    let line = vec![b'a'; 3 * RECORD_MAX + 5];
    let out = relay(&[&line, b"\n"]);
    assert_eq!(out.len(), 4);
    for record in &out[..3] {
        assert!(
            record.ends_with(CONTINUATION_MARK),
            "a cut record must carry the mark"
        );
        assert_eq!(record.len(), RECORD_MAX + CONTINUATION_MARK.len());
    }
    assert_eq!(out[3], "aaaaa");
    let joined: String = out
        .iter()
        .map(|r| r.trim_end_matches(CONTINUATION_MARK))
        .collect();
    assert_eq!(joined.len(), line.len(), "no byte lost in the cut");
}

#[test]
fn escapes_are_never_cut_in_half() {
    // Every byte escapes to 4 characters; RECORD_MAX is a multiple of 4 but
    // shift by one printable byte so the boundary falls inside an escape.
    let mut line = vec![b'x'];
    line.extend(std::iter::repeat_n(0xffu8, RECORD_MAX));
    let out = relay(&[&line]);
    for record in &out {
        let text = record.strip_suffix(CONTINUATION_MARK).unwrap_or(record);
        assert!(text.len() <= RECORD_MAX);
        let body = text.strip_prefix('x').unwrap_or(text);
        assert_eq!(
            body.len() % 4,
            0,
            "an escape sequence was split: {record:?}"
        );
    }
}

#[test]
fn only_printable_ascii_comes_out() {
    let all: Vec<u8> = (0..=255u8).filter(|&b| b != b'\n').collect();
    for record in relay(&[&all]) {
        assert!(
            record.bytes().all(|b| (b' '..=b'~').contains(&b)),
            "{record:?}"
        );
    }
}

mod rate_limit {
    use eprog::relay::{RateLimit, Verdict};

    fn logged(v: Verdict) -> bool {
        v.log
    }

    #[test]
    fn allows_a_burst_per_window_then_counts() {
        let mut limit = RateLimit::new(3, 1000);
        let verdicts: Vec<_> = (0..5).map(|i| limit.check(i, false)).collect();
        assert_eq!(verdicts.iter().filter(|v| logged(**v)).count(), 3);
        assert!(!verdicts[3].log && !verdicts[4].log);
        // The next window reports what the last one suppressed, once.
        let next = limit.check(1000, false);
        assert_eq!(
            next,
            Verdict {
                log: true,
                report_suppressed: 2,
                cut: false,
            }
        );
        assert_eq!(limit.check(1001, false).report_suppressed, 0);
    }

    #[test]
    fn every_record_is_logged_or_counted() {
        let mut limit = RateLimit::new(10, 100);
        let (mut logged, mut reported) = (0u64, 0u64);
        let total = 10_000u64;
        for i in 0..total {
            let v = limit.check(i / 7, i % 3 == 0); // ~7 records per millisecond
            logged += u64::from(v.log);
            reported += v.report_suppressed;
        }
        reported += limit.take_suppressed();
        assert_eq!(logged + reported, total);
        assert!(logged < total / 10, "the limit did not hold: {logged}");
    }

    #[test]
    fn zero_burst_means_unlimited() {
        let mut limit = RateLimit::new(0, 1000);
        assert!((0..1000).all(|_| limit.check(0, true).log));
        assert_eq!(limit.take_suppressed(), 0);
    }

    #[test]
    fn a_clock_going_backwards_does_not_open_windows() {
        let mut limit = RateLimit::new(1, 1000);
        assert!(limit.check(5000, false).log);
        assert!(!limit.check(10, false).log);
    }

    #[test]
    fn cutting_a_logged_line_says_so_once() {
        let mut limit = RateLimit::new(2, 1000);
        assert!(limit.check(0, true).log);
        assert!(limit.check(0, true).log);
        // The third piece of the line is over the limit: the second one's
        // mark must not dangle.
        let v = limit.check(0, true);
        assert!(!v.log && v.cut);
        let v = limit.check(0, false);
        assert!(!v.log && !v.cut, "a cut is reported once");
    }

    #[test]
    fn no_cut_after_a_complete_line() {
        let mut limit = RateLimit::new(1, 1000);
        assert!(limit.check(0, false).log);
        let v = limit.check(0, true);
        assert!(!v.log && !v.cut);
        assert!(!limit.check(0, false).cut);
    }

    #[test]
    fn suppressed_records_are_due_when_their_window_ends() {
        let mut limit = RateLimit::new(1, 500);
        assert_eq!(limit.report_due(), None);
        assert!(limit.check(100, false).log);
        assert_eq!(limit.report_due(), None, "nothing suppressed yet");
        assert!(!limit.check(200, false).log);
        assert!(!limit.check(300, false).log);
        assert_eq!(limit.report_due(), Some(600));
        assert_eq!(limit.take_due(599), 0, "not before the window ends");
        assert_eq!(limit.take_due(600), 2);
        assert_eq!(limit.report_due(), None);
        // The next window's first record reports nothing twice.
        assert_eq!(limit.check(700, false).report_suppressed, 0);
    }
}

/// The fuzz target (`tests/fuzz`) checks the same invariants on any input.
#[test]
#[ignore = "needs nightly and cargo-fuzz: run through 'make check'"]
fn fuzz_the_relay_for_a_bounded_time() {
    common::fuzz("relay");
}
