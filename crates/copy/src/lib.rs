//! The engine of `migrate copy`: copies a tree of files from HDFS, a local directory or S3 to S3 or a
//! local directory, in parallel, resumably, and verified.
//!
//! ```text
//! source listing ─┐  (both sorted by path, streamed)
//!                 ├─► plan (merge: copy / skip / compare / delete; filters, shard) ─► work queue
//! dest listing ───┘                                                                    │
//!        workers (-m): whole small files, or single parts of big files, in any order ◄─┘
//!        read + MD5 + CRC32C ─► PUT / UploadPart ─► stored CRC32C, ETag == ? ─► journal ─► manifest
//! ```
//!
//! Contracts:
//! - **Memory** is bounded: listings are streamed (one directory's entries per level), the work
//!   queue holds at most `2 × parallel` items, and each worker holds one part (`part_size` bytes;
//!   HDFS sources with checksums: rounded up to a multiple of the file's block size).
//!   The journal of a resumed copy and a previous manifest are held as ~40 bytes per file.
//! - **Verification**: every file is hashed (MD5 and CRC32C) while it is read; the destination's
//!   answer must match. S3: writes carry the CRC32C ([`s3crc`]); the server refuses bytes that
//!   don't match it, and the CRC32C it stored (of the object, of each part, and the composite
//!   `crc32c(part CRC32Cs)-N` of a completed upload) must equal the one computed; the ETag of a PUT
//!   must be the MD5, of each part the part's MD5, of the completed upload `md5(part MD5s)-N`.
//!   Servers that store no CRC32C are verified by ETag alone. Local: the written file is read back
//!   and hashed. A mismatch is retried, then reported as a failure; it is never accepted. Objects
//!   with neither a CRC32C nor an MD5 ETag (SSE-KMS without CRC32C) are counted as `unverified`.
//! - **HDFS's file checksum**: for HDFS sources, HDFS's own checksum of each file copied (fetched
//!   through WebHDFS before the file is read) must equal the one computed from the bytes read
//!   ([`hdfs_checksum`]); a file that does not match is never sent (whole files) or its upload is
//!   aborted (multipart), then read again, then reported. Where it can't be compared the summary
//!   counts the file with the reason ([`HdfsChecksumSummary`]). Parts of such files are raised to
//!   a multiple of the block size, so memory is `parallel × max(part_size, block size)`.
//! - **Resume**: see [`journal`](crate::journal): a killed copy, run again with the same source,
//!   destination and shard, sends neither finished files nor finished parts again (it reads those
//!   parts again, and sends again the ones that differ from the file now).
//! - **Shards**: file `p` belongs to shard `fnv1a(p) % n`; N processes with `--shard 0/N` … `N-1/N`
//!   copy (and delete) disjoint sets whose union is everything.

mod dest;
mod digest;
mod engine;
mod error;
#[cfg(feature = "hdfs")]
mod hdfs;
pub mod hdfs_checksum;
pub mod journal;
mod plan;
pub mod s3crc;
mod source;
#[cfg(feature = "hdfs")]
mod webhdfs;

pub use dest::Destination;
pub use engine::copy;
pub use error::CopyError;
pub use journal::ManifestLine;
pub use source::{Entry, FileAttrs, FileSource, Links, Listed, LocalTree, S3Tree, SourceChecksum};

use regex::Regex;
use serde::Serialize;
use std::path::PathBuf;

/// Percent-encoding of everything but RFC 3986's unreserved characters: S3 query values and keys
/// (with `/` kept), WebHDFS path segments.
pub(crate) const ESCAPE_RESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// What to do with a file that exists in the destination already.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Existing {
    /// Leave it (DistCp's default).
    #[default]
    Skip,
    /// Copy when size or checksum differ (the source is read to compute the checksum).
    Update,
    /// Copy when size differs or the source is newer than the destination object.
    UpdateByMtime,
    /// Always copy.
    Overwrite,
    /// Copy nothing: compare every file present on both sides by checksum and report differences
    /// and missing files as failures.
    Verify,
}

/// Which source attributes to keep (S3: as `x-amz-meta-migrate-*` metadata; local: mtime and
/// permission applied to the file).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Preserve {
    pub mtime: bool,
    pub owner: bool,
    pub group: bool,
    pub permission: bool,
}

/// `--shard i/n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Parses `i/n` with `0 <= i < n`.
    pub fn parse(s: &str) -> Result<Shard, CopyError> {
        let bad = || {
            CopyError::Invalid(format!(
                "bad shard {s:?}: expected i/n with 0 <= i < n, e.g. 0/4"
            ))
        };
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (u64, u64) = (
            i.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    pub fn contains(&self, rel: &str) -> bool {
        self.count <= 1 || migrate_core::fnv1a(rel) % self.count == self.index
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Everything a copy needs. Build with [`CopyOptions::new`] and set fields.
#[derive(Debug, Clone)]
pub struct CopyOptions {
    /// `hdfs://…`, `viewfs://…`, `file:///dir`, a directory path, or `s3://bucket/prefix`.
    pub source: String,
    /// `s3://bucket/prefix`, `file:///dir` or a directory path.
    pub destination: String,
    pub existing: Existing,
    /// Delete destination files (and S3 directory markers) that are not in the source (within the
    /// filters and the shard).
    pub delete: bool,
    /// Paths (relative to the source root) matching any of these are neither copied nor deleted.
    pub filters: Vec<Regex>,
    /// When set, only paths matching it (searched anywhere in the relative path) are copied.
    pub src_pattern: Option<Regex>,
    /// Workers (files or parts in flight).
    pub parallel: usize,
    /// Total bytes per second, all workers together.
    pub bandwidth: Option<u64>,
    pub preserve: Preserve,
    /// Plan and report; write nothing (no object, no journal, no manifest).
    pub dry_run: bool,
    /// Keep going after a file fails (it is reported); otherwise stop at the first failure.
    pub ignore_failures: bool,
    pub output_manifest: Option<PathBuf>,
    pub previous_manifest: Option<PathBuf>,
    /// Failures as JSON lines (`{"path":…,"error":…}`), for `--ignore-failures`.
    pub failure_report: Option<PathBuf>,
    pub shard: Shard,
    /// Files larger than this are sent as multipart uploads in parts of this size (at least
    /// 5 MiB on S3; raised so that no file needs more than 10,000 parts). For HDFS sources whose
    /// file checksums are available, raised to a multiple of each file's block size unless
    /// `part_size_fixed` (see [`CopyOptions::hdfs_checksum`]).
    pub part_size: u64,
    /// The user chose `part_size`: use it as is, even where HDFS checksums then can't be compared.
    pub part_size_fixed: bool,
    /// HDFS sources: compare every file copied with HDFS's own file checksum (fetched through
    /// WebHDFS), where available.
    pub hdfs_checksum: bool,
    /// WebHDFS (NameNode HTTP) URLs for the checksums; empty: from HADOOP_CONF_DIR's hdfs-site.xml.
    pub hdfs_http: Vec<String>,
    /// The journal file; default `<state_dir>/<hash of source, destination, shard>.journal`.
    pub journal: Option<PathBuf>,
    pub state_dir: PathBuf,
    /// S3 endpoint override (else `AWS_ENDPOINT_URL`), and whether `http://` is allowed.
    pub endpoint: Option<String>,
    pub allow_http: bool,
    /// Attempts per file or part (reads, writes, verification), at least 1.
    pub attempts: u32,
    /// S3 destinations: send a CRC32C with every PUT and part, and check the one the server stored
    /// (servers without additional checksums: ETag/MD5 only). `false`: ETag/MD5 only.
    pub crc32c: bool,
}

/// The minimum part size S3 accepts (every part but the last).
pub const MIN_PART_SIZE: u64 = 5 << 20;

impl CopyOptions {
    pub fn new(source: impl Into<String>, destination: impl Into<String>) -> CopyOptions {
        CopyOptions {
            source: source.into(),
            destination: destination.into(),
            existing: Existing::Skip,
            delete: false,
            filters: Vec::new(),
            src_pattern: None,
            parallel: 16,
            bandwidth: None,
            preserve: Preserve::default(),
            dry_run: false,
            ignore_failures: false,
            output_manifest: None,
            previous_manifest: None,
            failure_report: None,
            shard: Shard::ALL,
            part_size: 16 << 20,
            part_size_fixed: false,
            hdfs_checksum: true,
            hdfs_http: Vec::new(),
            journal: None,
            state_dir: PathBuf::from(".migrate-copy"),
            endpoint: None,
            allow_http: false,
            attempts: 3,
            crc32c: true,
        }
    }
}

/// One path that could not be copied (or, with [`Existing::Verify`], does not match), or a
/// failure of the copy itself (a listing that broke off).
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    pub path: String,
    pub error: String,
}

/// The result of a copy (or of a dry run: then `copied`/`deleted` count what would be done).
#[derive(Debug, Clone, Default, Serialize)]
pub struct CopySummary {
    pub source: String,
    pub destination: String,
    pub dry_run: bool,
    pub shard: String,
    /// Files in the source within the filters and this shard.
    pub files: u64,
    pub bytes: u64,
    /// Files copied (and verified) by this run. A file that failed is in none of the counts
    /// below, whatever was sent for it.
    pub copied: u64,
    /// The bytes this run sent for the files it copied.
    pub copied_bytes: u64,
    /// Parts of the multipart files copied that this run sent (included in `copied_bytes`).
    pub parts_sent: u64,
    /// Parts of the multipart files copied that an earlier run had sent (recorded in the
    /// journal), not sent again.
    pub parts_resumed: u64,
    /// Parts an earlier run had sent, read again from the source by this run and compared with
    /// what was recorded for them before their upload was completed.
    pub parts_rechecked: u64,
    /// Of those, the parts that differed (the file changed between the runs, keeping its size
    /// and modification time) and were sent again (counted in `parts_sent`, not `parts_resumed`).
    pub parts_resent: u64,
    /// Unfinished multipart uploads an earlier run left (recorded in the journal) for files this
    /// run did not continue (no longer in the source, excluded, now sent whole), aborted.
    pub uploads_aborted: u64,
    /// Files recorded as copied in the journal by an earlier run, not sent again.
    pub resumed: u64,
    /// Present in the destination and left alone (default mode).
    pub skipped_existing: u64,
    /// Same size and checksum (`--update`), or not newer (`--update-by-mtime`).
    pub skipped_unchanged: u64,
    /// In the previous manifest with the same size and mtime.
    pub skipped_manifest: u64,
    /// Present in the destination but different: copied again (`--update`) or reported (verify).
    pub changed: u64,
    /// Excluded by `--filters` or not matching `--src-pattern`.
    pub filtered: u64,
    /// Belonging to other shards.
    pub other_shards: u64,
    /// Destination files (and S3 directory markers) not in the source, deleted (`--delete`).
    pub deleted: u64,
    /// Empty source directories (S3 sources: directory markers with nothing under them), within
    /// the filters and this shard.
    pub empty_dirs: u64,
    /// Of those, the ones this run made in the destination (a local directory; S3: the marker
    /// `dir/`, an empty object).
    pub empty_dirs_created: u64,
    /// Of those, the ones the destination had already, left as they are: as an empty directory
    /// (S3: its marker), or with entries under it, beside which a marker adds nothing (but with
    /// `delete`, which deletes them, an S3 destination gets the marker: counted as created).
    pub empty_dirs_existing: u64,
    /// Copies whose destination ETag is not an MD5 (e.g. SSE-KMS) and that have no CRC32C: size
    /// checked only.
    pub unverified: u64,
    /// S3 copies verified by the CRC32C the server stored (the composite of the parts' CRC32Cs for
    /// multipart uploads); their ETag was compared too when it is an MD5.
    pub verified_crc32c: u64,
    /// S3 copies verified by their ETag alone (the server stores no CRC32C, or `--no-crc32c`).
    pub verified_md5_etag: u64,
    /// Local copies verified by reading the written file back.
    pub verified_read_back: u64,
    /// `--verify` and `--update`: files present on both sides whose checksums could not be
    /// compared (a multipart object of a part size it does not record, an ETag that is not an
    /// MD5). `--verify` reports each as a failure (neither verified nor found different);
    /// `--update` copies them again (also counted in `changed`).
    pub not_compared: u64,
    /// Failures, each in `failures`: of files (and of source paths that are not directories: a
    /// dangling link, a FIFO), of directories, and of the copy itself (a listing that broke off).
    pub failed: u64,
    /// Of those, the files.
    pub failed_files: u64,
    /// Of those, the directories: source directories that can't be read, empty directories not
    /// made (or missing, or extra, in a verify), S3 directory markers not deleted.
    pub failed_dirs: u64,
    /// The copy stopped before it went through every file (at the first failure without
    /// `ignore_failures`, or a listing that broke off): `files`, `bytes` and the other counts
    /// cover only what it reached.
    pub stopped_early: bool,
    /// HDFS sources: how the files copied compared with HDFS's own file checksums.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hdfs_checksum: Option<HdfsChecksumSummary>,
    /// The first 1,000 failures (all of them are in the failure report).
    pub failures: Vec<Failure>,
    /// The journal that was kept (the copy did not finish cleanly), to resume from.
    pub journal: Option<String>,
    pub seconds: f64,
}

/// How the files a copy read from HDFS compared with HDFS's own file checksums
/// (`hdfs dfs -checksum`). Files not read (skipped, resumed whole) are in none of the counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HdfsChecksumSummary {
    /// Files whose checksum computed from the bytes read was compared with HDFS's.
    pub compared: u64,
    /// Compared and equal.
    pub matched: u64,
    /// Compared and still different after every attempt: failures (never copied).
    pub mismatched: u64,
    /// Files copied without the comparison (verified by S3 MD5s only).
    pub not_available: u64,
    /// Why, with how many files each.
    pub not_available_reasons: std::collections::BTreeMap<String, u64>,
}

/// Callbacks for progress display. Called from worker threads; keep them cheap.
pub trait Observer: Send + Sync {
    /// A file to transfer was found (total grows while listing runs).
    fn planned(&self, _bytes: u64) {}
    /// Bytes were sent (or found already sent).
    fn sent(&self, _bytes: u64) {}
    /// A planned file is finished (copied, resumed, unchanged or failed).
    fn file_done(&self) {}
    fn failed(&self, _path: &str, _error: &str) {}
    /// Dry run: what would be done (`copy`, `update`, `delete`, `mkdir`).
    fn would(&self, _action: &str, _path: &str, _bytes: u64) {}
}

/// An observer that shows nothing.
pub struct Quiet;
impl Observer for Quiet {}
