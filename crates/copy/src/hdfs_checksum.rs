//! HDFS's file checksum (`hdfs dfs -checksum`, `FileSystem.getFileChecksum`, WebHDFS
//! `GETFILECHECKSUM`), recomputed from the bytes the copy reads.
//!
//! Hadoop 2/3 (`MD5MD5CRC32FileChecksum`, the default "MD5MD5CRC" combine mode):
//! - every block of the file is cut into chunks of `bytesPerCRC` bytes (512 by default; the last
//!   chunk of a block may be shorter); each chunk has a CRC (CRC32C, "Castagnoli", by default;
//!   CRC32/zlib on clusters that chose it), stored big-endian, 4 bytes, in the block's meta file;
//! - the DataNode answers, per block, `md5(crc(chunk 1) ‖ … ‖ crc(chunk k))`;
//! - the client concatenates the block MD5s in a Java `DataOutputBuffer` and hashes its **whole
//!   backing array** (`MD5Hash.digest(md5out.getData())`), not just the bytes written: the array
//!   starts at 32 bytes and doubles, so the MD5 covers the block MD5s followed by zeros up to that
//!   capacity (one block: 16 zero bytes; an empty file: 32 zero bytes). Everyone who recomputes it
//!   has to do the same;
//! - `crcPerBlock` is the number of CRCs in the first block when the file has more than one block,
//!   else 0; an empty file (no block) answers `MD5-of-0MD5-of-0CRC32` with md5(32 zero bytes).
//!
//! So the value depends on where blocks start: [`block_md5s`] must be given data that starts on
//! a block boundary, which is why the copy aligns the parts of HDFS files to the block size. Files
//! whose blocks are not all of the file's block size (appends with `NEW_BLOCK`, `concat`) get a
//! different value than a recomputation with uniform blocks; the copy checks the real block
//! lengths before it calls such a difference a mismatch.

use crate::digest::{hex, unhex, PartMd5};
use md5::{Digest, Md5};
use serde::Deserialize;

/// The CRC of the chunks, from the algorithm name (`…CRC32C` or `…CRC32`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrcKind {
    /// zlib's CRC32 (`dfs.checksum.type=CRC32`, `MD5MD5CRC32GzipFileChecksum`).
    Crc32,
    /// CRC32C, Castagnoli (the default, `MD5MD5CRC32CastagnoliFileChecksum`).
    Crc32c,
}

impl CrcKind {
    fn name(self) -> &'static str {
        match self {
            CrcKind::Crc32 => "CRC32",
            CrcKind::Crc32c => "CRC32C",
        }
    }

    fn crc(self, chunk: &[u8]) -> u32 {
        match self {
            CrcKind::Crc32 => crc32fast::hash(chunk),
            CrcKind::Crc32c => crc32c::crc32c(chunk),
        }
    }
}

/// An HDFS file checksum, as the cluster reports it or as [`HdfsChecksum::compute`] makes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HdfsChecksum {
    pub crc: CrcKind,
    pub bytes_per_crc: u32,
    pub crc_per_block: u64,
    pub md5: PartMd5,
}

/// The JSON of WebHDFS `op=GETFILECHECKSUM`.
#[derive(Deserialize)]
struct Answer {
    #[serde(rename = "FileChecksum")]
    file_checksum: Option<Fields>,
}

#[derive(Deserialize)]
struct Fields {
    algorithm: String,
    bytes: String,
    length: usize,
}

impl HdfsChecksum {
    /// Parses the answer of WebHDFS `GETFILECHECKSUM`:
    /// `{"FileChecksum":{"algorithm":"MD5-of-0MD5-of-512CRC32C","bytes":"…","length":28}}`, where
    /// `bytes` is hex of `bytesPerCRC (4) ‖ crcPerBlock (8) ‖ md5 (16)` (big-endian), possibly
    /// followed by padding beyond `length` (the server sends its whole buffer).
    ///
    /// Errors say why the answer can't be compared (another algorithm such as Hadoop 3's
    /// `COMPOSITE-CRC32C`, mixed CRC types, a malformed answer).
    pub fn from_webhdfs(json: &[u8]) -> Result<HdfsChecksum, String> {
        let answer: Answer = serde_json::from_slice(json).map_err(|e| {
            format!(
                "not a FileChecksum answer ({e}): {}",
                String::from_utf8_lossy(&json[..json.len().min(200)])
            )
        })?;
        let f = answer
            .file_checksum
            .ok_or("the cluster returned no checksum for the file")?;
        let crc = if f.algorithm.starts_with("MD5-of-") && f.algorithm.ends_with("CRC32C") {
            CrcKind::Crc32c
        } else if f.algorithm.starts_with("MD5-of-") && f.algorithm.ends_with("CRC32") {
            CrcKind::Crc32
        } else {
            return Err(format!(
                "checksum algorithm {} is not supported",
                f.algorithm
            ));
        };
        let raw = unhex(&f.bytes).ok_or_else(|| format!("bad checksum bytes {:?}", f.bytes))?;
        if f.length != 28 || raw.len() < 28 {
            return Err(format!(
                "checksum of {} bytes ({}), expected 28",
                f.length, f.algorithm
            ));
        }
        let be32 = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        let be64 = |b: &[u8]| u64::from(be32(&b[..4])) << 32 | u64::from(be32(&b[4..8]));
        let mut md5 = [0u8; 16];
        md5.copy_from_slice(&raw[12..28]);
        let sum = HdfsChecksum {
            crc,
            bytes_per_crc: be32(&raw[0..4]),
            crc_per_block: be64(&raw[4..12]),
            md5,
        };
        if sum.algorithm() != f.algorithm {
            return Err(format!(
                "checksum algorithm {} does not agree with its bytes ({})",
                f.algorithm,
                sum.algorithm()
            ));
        }
        Ok(sum)
    }

    /// The checksum of a file of `size` bytes in blocks of `block_size`, from the MD5s of its
    /// blocks in order (see [`block_md5s`]).
    pub fn compute(
        crc: CrcKind,
        bytes_per_crc: u32,
        block_size: u64,
        size: u64,
        blocks: &[PartMd5],
    ) -> HdfsChecksum {
        if size == 0 {
            // No block: Hadoop answers an MD5MD5CRC32Gzip checksum with zero parameters.
            return HdfsChecksum {
                crc: CrcKind::Crc32,
                bytes_per_crc: 0,
                crc_per_block: 0,
                md5: padded_md5(&[]),
            };
        }
        let crc_per_block = if blocks.len() > 1 {
            block_size
                .min(size)
                .div_ceil(u64::from(bytes_per_crc.max(1)))
        } else {
            0
        };
        HdfsChecksum {
            crc,
            bytes_per_crc,
            crc_per_block,
            md5: padded_md5(blocks),
        }
    }

    /// `MD5-of-<crcPerBlock>MD5-of-<bytesPerCRC><CRC32|CRC32C>`, as Hadoop names it.
    pub fn algorithm(&self) -> String {
        format!(
            "MD5-of-{}MD5-of-{}{}",
            self.crc_per_block,
            self.bytes_per_crc,
            self.crc.name()
        )
    }

    /// The 28 bytes `hdfs dfs -checksum` prints in hex.
    pub fn bytes(&self) -> [u8; 28] {
        let mut out = [0u8; 28];
        out[..4].copy_from_slice(&self.bytes_per_crc.to_be_bytes());
        out[4..12].copy_from_slice(&self.crc_per_block.to_be_bytes());
        out[12..].copy_from_slice(&self.md5);
        out
    }
}

impl std::fmt::Display for HdfsChecksum {
    /// As `hdfs dfs -checksum` prints it: `MD5-of-0MD5-of-512CRC32C 00000200…`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.algorithm(), hex(&self.bytes()))
    }
}

/// MD5 of the block MD5s followed by zeros up to the capacity Java's growing buffer had.
fn padded_md5(blocks: &[PartMd5]) -> PartMd5 {
    let used = blocks.len() * 16;
    let mut capacity = 32;
    while capacity < used {
        capacity *= 2;
    }
    let mut h = Md5::new();
    for b in blocks {
        h.update(b);
    }
    h.update(vec![0u8; capacity - used]);
    h.finalize().into()
}

/// The per-block MD5s HDFS keeps for `data`, which must start on a block boundary of a file
/// with blocks of `block_size` bytes (it may end anywhere: the last block is then partial).
pub fn block_md5s(data: &[u8], block_size: u64, crc: CrcKind, bytes_per_crc: u32) -> Vec<PartMd5> {
    let block = usize::try_from(block_size.max(1)).unwrap_or(usize::MAX);
    let chunk = usize::try_from(bytes_per_crc.max(1)).unwrap_or(usize::MAX);
    // CRCs are hashed in batches: one MD5 update per 4-byte CRC would cost more than the CRCs.
    let mut crcs = Vec::with_capacity(4 * 256);
    data.chunks(block)
        .map(|b| {
            let mut h = Md5::new();
            for c in b.chunks(chunk) {
                crcs.extend_from_slice(&crc.crc(c).to_be_bytes());
                if crcs.len() == crcs.capacity() {
                    h.update(&crcs);
                    crcs.clear();
                }
            }
            h.update(&crcs);
            crcs.clear();
            h.finalize().into()
        })
        .collect()
}

/// Block MD5s as stored in the journal: their hex, concatenated.
pub(crate) fn blocks_to_hex(blocks: &[PartMd5]) -> String {
    blocks.iter().map(|b| hex(b)).collect()
}

pub(crate) fn blocks_from_hex(s: &str) -> Option<Vec<PartMd5>> {
    let raw = unhex(s)?;
    if raw.len() % 16 != 0 {
        return None;
    }
    raw.chunks_exact(16)
        .map(|c| PartMd5::try_from(c).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::md5;

    /// 1,000 deterministic bytes.
    fn sample() -> Vec<u8> {
        (0..1000u32).map(|i| (i * 7 + 3) as u8).collect()
    }

    #[test]
    fn chunk_crcs_and_block_md5s() {
        let data = sample();
        let blocks = block_md5s(&data, 1 << 20, CrcKind::Crc32c, 512);
        assert_eq!(blocks.len(), 1);
        let mut crcs = Vec::new();
        crcs.extend_from_slice(&crc32c::crc32c(&data[..512]).to_be_bytes());
        crcs.extend_from_slice(&crc32c::crc32c(&data[512..]).to_be_bytes());
        assert_eq!(blocks[0], md5(&crcs));
        // Blocks of 600 bytes: chunks restart at each block.
        let two = block_md5s(&data, 600, CrcKind::Crc32, 512);
        let b1 = [
            crc32fast::hash(&data[..512]).to_be_bytes(),
            crc32fast::hash(&data[512..600]).to_be_bytes(),
        ]
        .concat();
        let b2 = [crc32fast::hash(&data[600..1000]).to_be_bytes()].concat();
        assert_eq!(two, vec![md5(&b1), md5(&b2)]);
        // Many chunks: the batching of CRCs does not change the MD5.
        let big: Vec<u8> = (0..600_000u32).map(|i| (i % 251) as u8).collect();
        let all: Vec<u8> = big
            .chunks(512)
            .flat_map(|c| crc32c::crc32c(c).to_be_bytes())
            .collect();
        assert_eq!(
            block_md5s(&big, 1 << 20, CrcKind::Crc32c, 512),
            vec![md5(&all)]
        );
    }

    #[test]
    fn file_md5_is_padded_like_java() {
        // Empty file: what every Hadoop 2.x cluster answers (md5 of 32 zero bytes).
        let empty = HdfsChecksum::compute(CrcKind::Crc32c, 512, 1 << 27, 0, &[]);
        assert_eq!(
            empty.to_string(),
            "MD5-of-0MD5-of-0CRC32 00000000000000000000000070bc8f4b72a86921468bf8e8441dce51"
        );
        let b = [[1u8; 16], [2u8; 16], [3u8; 16]];
        let one = HdfsChecksum::compute(CrcKind::Crc32c, 512, 1 << 27, 10, &b[..1]);
        assert_eq!(one.md5, md5(&[[1u8; 16], [0u8; 16]].concat()));
        assert_eq!(one.crc_per_block, 0);
        let two = HdfsChecksum::compute(CrcKind::Crc32c, 512, 1 << 27, 200 << 20, &b[..2]);
        assert_eq!(two.md5, md5(&[[1u8; 16], [2u8; 16]].concat()));
        assert_eq!(two.crc_per_block, (1 << 27) / 512);
        let three = HdfsChecksum::compute(CrcKind::Crc32, 512, 1 << 27, 300 << 20, &b);
        assert_eq!(three.md5, md5(&[b.concat(), vec![0u8; 16]].concat()));
        assert_eq!(three.algorithm(), "MD5-of-262144MD5-of-512CRC32");
        // 5 blocks: 80 bytes in a 128-byte buffer.
        let five = HdfsChecksum::compute(CrcKind::Crc32c, 512, 1 << 20, 5 << 20, &[[7u8; 16]; 5]);
        assert_eq!(five.md5, md5(&[vec![7u8; 80], vec![0u8; 48]].concat()));
    }

    #[test]
    fn parses_webhdfs_answers() {
        // A real answer of Hadoop 2.7.3 for a 1,000-byte file (its buffer padding included).
        let json = br#"{"FileChecksum":{"algorithm":"MD5-of-0MD5-of-512CRC32C","bytes":"00000200000000000000000040cbd3446bb7b36fb862aef1dc746f4a00000000","length":28}}"#;
        let sum = HdfsChecksum::from_webhdfs(json).unwrap();
        assert_eq!(sum.crc, CrcKind::Crc32c);
        assert_eq!(sum.bytes_per_crc, 512);
        assert_eq!(sum.crc_per_block, 0);
        assert_eq!(hex(&sum.md5), "40cbd3446bb7b36fb862aef1dc746f4a");
        assert_eq!(
            sum.to_string(),
            "MD5-of-0MD5-of-512CRC32C 00000200000000000000000040cbd3446bb7b36fb862aef1dc746f4a"
        );
        let gzip = br#"{"FileChecksum":{"algorithm":"MD5-of-262144MD5-of-512CRC32","bytes":"000002000000000000040000aabbccddeeff00112233445566778899","length":28}}"#;
        let sum = HdfsChecksum::from_webhdfs(gzip).unwrap();
        assert_eq!((sum.crc, sum.crc_per_block), (CrcKind::Crc32, 262_144));

        let composite =
            br#"{"FileChecksum":{"algorithm":"COMPOSITE-CRC32C","bytes":"d4a4d6b1","length":4}}"#;
        let e = HdfsChecksum::from_webhdfs(composite).unwrap_err();
        assert!(e.contains("COMPOSITE-CRC32C is not supported"), "{e}");
        let liar = br#"{"FileChecksum":{"algorithm":"MD5-of-0MD5-of-512CRC32C","bytes":"00000100000000000000000040cbd3446bb7b36fb862aef1dc746f4a","length":28}}"#;
        assert!(HdfsChecksum::from_webhdfs(liar)
            .unwrap_err()
            .contains("does not agree"));
        assert!(HdfsChecksum::from_webhdfs(b"<html>")
            .unwrap_err()
            .contains("not a FileChecksum"));
        assert!(HdfsChecksum::from_webhdfs(br#"{"FileChecksum":null}"#).is_err());
    }

    #[test]
    fn journal_hex_round_trip() {
        let blocks = vec![md5(b"a"), md5(b"b")];
        assert_eq!(blocks_from_hex(&blocks_to_hex(&blocks)), Some(blocks));
        assert_eq!(blocks_from_hex(""), Some(vec![]));
        assert_eq!(blocks_from_hex("abc"), None);
    }
}
