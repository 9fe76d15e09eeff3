// SPDX-License-Identifier: GPL-2.0

//! A small settings format that the default helper validates and normalises
//! for the kernel: parsing text is what a kernel would rather leave to user
//! space. For example `Baud-Rate=0x1C200, debug=yes name="eth 0"` becomes
//!
//! ```text
//! baud_rate=115200
//! debug=1
//! name="eth 0"
//! ```
//!
//! - Pairs `key=value`, separated by spaces, tabs, newlines or commas; at
//!   most [`PAIRS_MAX`], no key twice.
//! - A key is a letter, then letters, digits, `_` or `-`, at most
//!   [`KEY_MAX`] of them; it is normalised to lower case with `_`.
//! - A value is a bare word (printable ASCII without space, `,`, `=` or
//!   `"`) or a string in double quotes (printable ASCII without `"`).
//!   Bare numbers, decimal or `0x` hex with an optional `k`, `M` or `G`
//!   suffix (powers of 1024), become decimal; `yes`/`on`/`true` become 1,
//!   `no`/`off`/`false` 0. Quotes are kept only where they are needed.
//! - The normal form is one pair per line, sorted by key.

/// Most pairs in one text.
pub const PAIRS_MAX: usize = 64;
/// Longest key.
pub const KEY_MAX: usize = 32;

/// Why a text is not valid, and at which byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Error {
    pub what: &'static str,
    pub at: usize,
}

#[derive(Clone, Copy)]
struct Pair<'a> {
    key: [u8; KEY_MAX],
    key_len: usize,
    value: &'a [u8],
}

impl Pair<'_> {
    fn key(&self) -> &[u8] {
        self.key.get(..self.key_len).unwrap_or_default()
    }
}

/// Validates `text` and writes its normal form to `out`, piece by piece;
/// writes nothing if it is not valid.
pub fn normalise(text: &[u8], out: &mut impl FnMut(&[u8])) -> Result<(), Error> {
    let empty = Pair {
        key: [0; KEY_MAX],
        key_len: 0,
        value: &[],
    };
    let mut pairs = [empty; PAIRS_MAX];
    let mut count = 0;
    let mut at = 0;
    let is_gap = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | b',');
    let fail = |what, at| Err(Error { what, at });
    loop {
        while text.get(at).copied().is_some_and(is_gap) {
            at += 1;
        }
        if at == text.len() {
            break;
        }
        let Some(pair) = pairs.get_mut(count) else {
            return fail("too many pairs", at);
        };
        // The key.
        let key_start = at;
        if !text.get(at).is_some_and(u8::is_ascii_alphabetic) {
            return fail("a key must start with a letter", at);
        }
        while let Some(&b) = text.get(at) {
            if b == b'=' {
                break;
            }
            if !(b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
                return fail("a key holds letters, digits, '_' and '-' only", at);
            }
            let Some(slot) = pair.key.get_mut(pair.key_len) else {
                return fail("key too long", at);
            };
            *slot = if b == b'-' {
                b'_'
            } else {
                b.to_ascii_lowercase()
            };
            pair.key_len += 1;
            at += 1;
        }
        if text.get(at) != Some(&b'=') {
            return fail("a key needs '=' and a value", at);
        }
        at += 1;
        // The value.
        let start = at;
        if text.get(at) == Some(&b'"') {
            at += 1;
            while let Some(&b) = text.get(at) {
                if b == b'"' {
                    break;
                }
                if !(b' '..=b'~').contains(&b) {
                    return fail("a quoted value holds printable characters only", at);
                }
                at += 1;
            }
            if text.get(at) != Some(&b'"') {
                return fail("a quoted value needs its closing '\"'", start);
            }
            at += 1;
            pair.value = text.get(start + 1..at - 1).unwrap_or_default();
        } else {
            while let Some(&b) = text.get(at) {
                if is_gap(b) {
                    break;
                }
                if !(b'!'..=b'~').contains(&b) || b == b'=' || b == b'"' {
                    return fail("a bare value cannot hold this character", at);
                }
                at += 1;
            }
            if at == start {
                return fail("empty value", at);
            }
            pair.value = text.get(start..at).unwrap_or_default();
        }
        if text.get(at).is_some_and(|&b| !is_gap(b)) {
            return fail("pairs must be separated by space or ','", at);
        }
        let (done, rest) = pairs.split_at_checked(count).unwrap_or_default();
        if done
            .iter()
            .any(|p| rest.first().is_some_and(|new| p.key() == new.key()))
        {
            return fail("a key given twice", key_start);
        }
        count += 1;
    }
    // The helper has no `core::fmt` (see `rt.rs`): no indexing that could
    // panic with a formatted message below.
    let pairs = pairs.get_mut(..count).unwrap_or_default();
    // Insertion sort: few pairs, no allocation.
    for i in 1..pairs.len() {
        for j in (1..=i).rev() {
            match pairs.get_mut(j - 1..=j) {
                Some([a, b]) if a.key() > b.key() => core::mem::swap(a, b),
                _ => break,
            }
        }
    }
    for pair in pairs.iter() {
        out(pair.key());
        out(b"=");
        write_value(pair.value, out);
        out(b"\n");
    }
    Ok(())
}

fn write_value(value: &[u8], out: &mut impl FnMut(&[u8])) {
    match value {
        b"yes" | b"on" | b"true" => return out(b"1"),
        b"no" | b"off" | b"false" => return out(b"0"),
        _ => {}
    }
    if let Some(n) = number(value) {
        return out(crate::decimal(n, &mut [0; 20]));
    }
    if value.is_empty() || value.iter().any(|&b| matches!(b, b' ' | b',' | b'=')) {
        out(b"\"");
        out(value);
        out(b"\"");
    } else {
        out(value);
    }
}

/// A decimal or `0x` hex number with an optional `k`, `M` or `G` suffix.
fn number(text: &[u8]) -> Option<u64> {
    let (text, scale) = match text.split_last() {
        Some((b'k' | b'K', rest)) => (rest, 1u64 << 10),
        Some((b'M', rest)) => (rest, 1 << 20),
        Some((b'G', rest)) => (rest, 1 << 30),
        _ => (text, 1),
    };
    let (digits, radix) = match text.strip_prefix(b"0x") {
        Some(hex) => (hex, 16),
        None => (text, 10),
    };
    if digits.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    for &b in digits {
        let digit = char::from(b).to_digit(radix)?;
        n = n
            .checked_mul(u64::from(radix))?
            .checked_add(u64::from(digit))?;
    }
    n.checked_mul(scale)
}

#[cfg(test)]
mod tests {
    use super::{normalise, Error};

    fn norm(text: &str) -> Result<String, Error> {
        let mut out = Vec::new();
        normalise(text.as_bytes(), &mut |b| out.extend_from_slice(b))?;
        Ok(String::from_utf8(out).unwrap())
    }

    #[test]
    fn normalises_keys_values_and_order() {
        assert_eq!(
            norm("Baud-Rate=0x1C200, debug=yes name=\"eth 0\"\tmem=4k quiet=off").unwrap(),
            "baud_rate=115200\ndebug=1\nmem=4096\nname=\"eth 0\"\nquiet=0\n"
        );
        assert_eq!(norm("b=\"x\" a=007").unwrap(), "a=7\nb=x\n");
        assert_eq!(norm("  ,\n").unwrap(), "");
    }

    #[test]
    fn says_what_is_wrong_and_where() {
        let err = |text| norm(text).unwrap_err();
        assert_eq!(err("a=1 A=2").what, "a key given twice");
        assert_eq!(err("1a=1").at, 0);
        assert_eq!(err("a=").what, "empty value");
        assert_eq!(err("a=\"x").what, "a quoted value needs its closing '\"'");
        assert_eq!(
            err("a=\"x\"b=1").what,
            "pairs must be separated by space or ','"
        );
        assert_eq!(err("a=b=c").at, 3);
        assert_eq!(err("key\x01=1").at, 3);
        let many: String = (0..65).map(|i| format!("k{i}=1 ")).collect();
        assert_eq!(err(&many).what, "too many pairs");
    }

    #[test]
    fn numbers_that_overflow_stay_text() {
        assert_eq!(
            norm("a=99999999999999999999").unwrap(),
            "a=99999999999999999999\n"
        );
        assert_eq!(norm("a=0x").unwrap(), "a=0x\n");
    }
}
