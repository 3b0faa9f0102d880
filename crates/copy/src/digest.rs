//! Checksums: the MD5s behind S3 ETags, and the stable hash that assigns files to shards.
//!
//! S3 (and every S3-compatible server we test against) stores, as the ETag of an object written with
//! one PUT, the hex MD5 of its bytes; of an object written as a multipart upload,
//! `hex(md5(md5(part 1) ‖ … ‖ md5(part N)))-N`. The copy computes the same value while it reads, so the
//! ETag the server returns proves the bytes it stored are the bytes that were read.

use md5::{Digest, Md5};
pub use migrate_core::{hex, unhex};

/// The MD5 of one part (or of a whole single-part file).
pub type PartMd5 = [u8; 16];

pub fn md5(data: &[u8]) -> PartMd5 {
    Md5::digest(data).into()
}

/// The ETag S3 gives an object made of parts with these MD5s: the plain MD5 for one PUT
/// (`multipart == false`), the composite `md5(concat)-N` for a multipart upload.
pub fn etag(parts: &[PartMd5], multipart: bool) -> String {
    if !multipart {
        return parts
            .first()
            .map(|p| hex(p))
            .unwrap_or_else(|| hex(&md5(b"")));
    }
    let mut all = Md5::new();
    for p in parts {
        all.update(p);
    }
    let digest: PartMd5 = all.finalize().into();
    format!("{}-{}", hex(&digest), parts.len())
}

/// An ETag as S3 sends it (quoted, any case) in the form [`etag`] produces.
pub fn normalize_etag(etag: &str) -> String {
    etag.trim().trim_matches('"').to_ascii_lowercase()
}

/// Whether an ETag is an MD5 (plain or multipart composite) we can compare with. S3 objects
/// encrypted with SSE-KMS/SSE-C have other ETags: those copies are counted as unverified.
pub fn is_md5_etag(etag: &str) -> bool {
    let (hash, count) = match etag.split_once('-') {
        Some((h, n)) => (h, Some(n)),
        None => (etag, None),
    };
    hash.len() == 32
        && hash.bytes().all(|b| b.is_ascii_hexdigit())
        && count.is_none_or(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The number of parts an ETag says its object has (1 for a single PUT).
pub fn etag_parts(etag: &str) -> Option<u64> {
    match etag.split_once('-') {
        Some((_, n)) => n.parse().ok(),
        None => Some(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags() {
        assert_eq!(etag(&[md5(b"")], false), "d41d8cd98f00b204e9800998ecf8427e");
        // Known value: two parts "a" and "b".
        let composite = etag(&[md5(b"a"), md5(b"b")], true);
        let mut cat = Vec::new();
        cat.extend_from_slice(&md5(b"a"));
        cat.extend_from_slice(&md5(b"b"));
        assert_eq!(composite, format!("{}-2", hex(&md5(&cat))));
        assert!(is_md5_etag(&composite));
        assert!(is_md5_etag("d41d8cd98f00b204e9800998ecf8427e"));
        assert!(!is_md5_etag("abc"));
        assert!(!is_md5_etag("d41d8cd98f00b204e9800998ecf8427e-"));
        assert_eq!(normalize_etag("\"ABC\""), "abc");
        assert_eq!(etag_parts(&composite), Some(2));
    }
}
