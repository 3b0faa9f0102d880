//! Object checksums: CRC32C of the exact bytes stored.
//!
//! Why CRC32C: it runs at memory speed with the SSE4.2 / ARMv8 CRC instructions (the `crc32c` crate
//! picks them at run time), so it costs nothing next to Parquet encoding or gzip; it is one of the
//! checksums S3 itself computes and stores (`x-amz-checksum-crc32c`, also as a full-object checksum
//! for multipart uploads), so the value we record can later be compared with the store's own without
//! downloading the object; and CRCs combine, which lets a reader fold ranges fetched out of order.
//! It detects corruption and truncation, not tampering: it is not a cryptographic hash.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The CRC32C of an object's bytes, written as `crc32c:0123abcd` in manifests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Checksum(pub u32);

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "crc32c:{:08x}", self.0)
    }
}

impl FromStr for Checksum {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let hex = s
            .strip_prefix("crc32c:")
            .ok_or_else(|| format!("checksum {s:?} is not crc32c:<8 hex digits>"))?;
        if hex.len() != 8 {
            return Err(format!("checksum {s:?} is not crc32c:<8 hex digits>"));
        }
        u32::from_str_radix(hex, 16)
            .map(Checksum)
            .map_err(|_| format!("checksum {s:?} is not crc32c:<8 hex digits>"))
    }
}

impl From<Checksum> for String {
    fn from(c: Checksum) -> String {
        c.to_string()
    }
}

impl TryFrom<String> for Checksum {
    type Error = String;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

/// A running CRC32C and byte count over data seen in order.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Running {
    crc: u32,
    bytes: u64,
}

impl Running {
    pub(crate) fn update(&mut self, data: &[u8]) {
        self.crc = crc32c::crc32c_append(self.crc, data);
        self.bytes += data.len() as u64;
    }

    pub(crate) fn bytes(&self) -> u64 {
        self.bytes
    }

    pub(crate) fn checksum(&self) -> Checksum {
        Checksum(self.crc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_value_and_text_form() {
        // RFC 3720 test vector: 32 bytes of zeros.
        let mut r = Running::default();
        r.update(&[0u8; 16]);
        r.update(&[0u8; 16]);
        assert_eq!(r.checksum(), Checksum(0x8a91_36aa));
        assert_eq!(r.bytes(), 32);
        assert_eq!(r.checksum().to_string(), "crc32c:8a9136aa");
        assert_eq!(
            "crc32c:8a9136aa".parse::<Checksum>(),
            Ok(Checksum(0x8a91_36aa))
        );
        assert!("md5:8a9136aa".parse::<Checksum>().is_err());
        assert!("crc32c:8a91".parse::<Checksum>().is_err());
    }
}
