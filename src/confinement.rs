// SPDX-License-Identifier: GPL-2.0

//! What the helper may do: the confinement eprog's launcher applies to
//! itself before it executes the helper, and the record in which the kernel
//! hands it over.
//!
//! The record replaces the launcher's one-byte go (see `umh/src/launch.rs`):
//! [`RECORD_LEN`] bytes on the launcher's stdin, little-endian:
//!
//! | offset | size | field |
//! | ---: | ---: | --- |
//! | 0 | 4 | version, 1 |
//! | 4 | 4 | flags: bit 0, the helper sees the host's root |
//! | 8 | 4 | uid |
//! | 12 | 4 | gid |
//! | 16 | 8 | capabilities kept, bit n for capability n |
//! | 24 | 8 | address space limit in bytes, all ones for none |
//! | 32 | 4 | open files limit |
//! | 36 | 4 | zero |
//!
//! Plain `no_std` Rust, compiled into the module and into the `umh` runtime.

/// Bytes in a record.
pub const RECORD_LEN: usize = 40;

const VERSION: u32 = 1;
const HOST_ROOT: u32 = 1;

/// The helper's credentials, file system view and resource limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Confinement {
    pub uid: u32,
    pub gid: u32,
    /// Capabilities the helper keeps, bit n for capability n; all others
    /// leave its bounding set too.
    pub caps: u64,
    /// Whether the helper sees the host's root rather than its own tmpfs.
    pub host_root: bool,
    /// `RLIMIT_AS` in bytes, `u64::MAX` for no limit.
    pub address_space: u64,
    /// `RLIMIT_NOFILE`.
    pub open_files: u32,
}

impl Confinement {
    /// The record for the launcher.
    pub fn encode(&self) -> [u8; RECORD_LEN] {
        let flags = if self.host_root { HOST_ROOT } else { 0 };
        let mut r = [0u8; RECORD_LEN];
        // Byte by byte: `copy_from_slice` would bring its panic message's
        // formatting into the helper, a quarter of its size.
        let fields = [
            &VERSION.to_le_bytes()[..],
            &flags.to_le_bytes(),
            &self.uid.to_le_bytes(),
            &self.gid.to_le_bytes(),
            &self.caps.to_le_bytes(),
            &self.address_space.to_le_bytes(),
            &self.open_files.to_le_bytes(),
        ];
        for (to, from) in r.iter_mut().zip(fields.into_iter().flatten()) {
            *to = *from;
        }
        r
    }

    /// Reads a record; `None` if it is not one this version writes.
    pub fn decode(r: &[u8; RECORD_LEN]) -> Option<Self> {
        let u32_at = |at: usize| u32::from_le_bytes([r[at], r[at + 1], r[at + 2], r[at + 3]]);
        let u64_at = |at: usize| u64::from(u32_at(at)) | u64::from(u32_at(at + 4)) << 32;
        if u32_at(0) != VERSION || u32_at(4) & !HOST_ROOT != 0 || u32_at(36) != 0 {
            return None;
        }
        Some(Self {
            uid: u32_at(8),
            gid: u32_at(12),
            caps: u64_at(16),
            host_root: u32_at(4) & HOST_ROOT != 0,
            address_space: u64_at(24),
            open_files: u32_at(32),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOME: Confinement = Confinement {
        uid: 65534,
        gid: 65533,
        caps: 1 << 40 | 1 << 12 | 1,
        host_root: true,
        address_space: u64::MAX - 1,
        open_files: 64,
    };

    #[test]
    fn a_record_reads_back_as_written() {
        assert_eq!(Confinement::decode(&SOME.encode()), Some(SOME));
        let closed = Confinement {
            host_root: false,
            caps: 0,
            ..SOME
        };
        assert_eq!(Confinement::decode(&closed.encode()), Some(closed));
    }

    #[test]
    fn the_layout_is_the_documented_one() {
        let r = SOME.encode();
        assert_eq!(r[0..8], [1, 0, 0, 0, 1, 0, 0, 0]);
        assert_eq!(r[8..16], [0xfe, 0xff, 0, 0, 0xfd, 0xff, 0, 0]);
        assert_eq!(r[16..24], [1, 0x10, 0, 0, 0, 1, 0, 0]);
        assert_eq!(r[32..40], [64, 0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn an_unknown_version_flag_or_padding_is_refused() {
        for at in [0, 5, 36] {
            let mut r = SOME.encode();
            r[at] ^= 2;
            assert_eq!(Confinement::decode(&r), None, "byte {at}");
        }
    }
}
