// SPDX-License-Identifier: GPL-2.0

//! The start-up configuration line eprog writes to the helper's stdin.
//!
//! The module has no other way to pass settings: the User Mode Driver API
//! starts the helper with no arguments and an empty environment. eprog
//! writes one line of `key=value` pairs separated by spaces, e.g.
//! `interval_ms=5000\n`, before the helper's first read.

use crate::syscall;

/// Reads the configuration line from stdin into `buf`, without its newline.
///
/// Reads byte by byte so nothing after the line is consumed. Returns what was
/// read before end of file, an error, or a full buffer.
pub fn read_config_line(buf: &mut [u8]) -> &[u8] {
    let mut len = 0;
    for slot in buf.iter_mut() {
        let mut byte = [0u8];
        if syscall::read(0, &mut byte) != 1 || byte[0] == b'\n' {
            break;
        }
        *slot = byte[0];
        len += 1;
    }
    buf.get(..len).unwrap_or_default()
}

/// Returns the decimal value of `key` in a configuration line, if present
/// and a valid `u32`.
pub fn config_value(line: &[u8], key: &[u8]) -> Option<u32> {
    for pair in line.split(|&b| b == b' ') {
        let Some(value) = pair
            .strip_prefix(key)
            .and_then(|rest| rest.strip_prefix(b"="))
        else {
            continue;
        };
        if value.is_empty() {
            return None;
        }
        let mut n: u32 = 0;
        for &digit in value {
            if !digit.is_ascii_digit() {
                return None;
            }
            n = n.checked_mul(10)?.checked_add(u32::from(digit - b'0'))?;
        }
        return Some(n);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::config_value;

    #[test]
    fn finds_values_among_pairs() {
        assert_eq!(config_value(b"interval_ms=200", b"interval_ms"), Some(200));
        assert_eq!(
            config_value(b"a=1 interval_ms=7 b=2", b"interval_ms"),
            Some(7)
        );
        assert_eq!(config_value(b"interval_ms_x=1", b"interval_ms"), None);
    }

    #[test]
    fn rejects_malformed_values() {
        assert_eq!(config_value(b"interval_ms=", b"interval_ms"), None);
        assert_eq!(config_value(b"interval_ms=12a", b"interval_ms"), None);
        assert_eq!(
            config_value(b"interval_ms=99999999999", b"interval_ms"),
            None
        );
        assert_eq!(config_value(b"", b"interval_ms"), None);
    }
}
