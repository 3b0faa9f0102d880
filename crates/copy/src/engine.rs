//! The copy itself: plan from the merged listings, a bounded work queue, `parallel` workers.

use crate::dest::{self, Destination, Meta, Stored};
use crate::digest::{self, PartMd5};
use crate::error::CopyError;
use crate::hdfs_checksum::{block_md5s, HdfsChecksum};
use crate::journal::{
    self, FileIndex, Journal, ManifestLine, ManifestWriter, SentPart, UploadState,
};
use crate::plan::{self, Merge, Pair, SourcePath};
use crate::s3crc::{self, CompletedPart};
use crate::source::{is_utf8_name, shown_rel, Entry, FileSource, S3Tree, SourceChecksum};
use crate::{CopyOptions, CopySummary, Existing, Failure, HdfsChecksumSummary, Observer, Preserve};
use md5::{Digest, Md5};
use migrate_core::{ErrorClass, Retry};
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// S3 allows at most 10,000 parts per upload.
const MAX_PARTS: u64 = 10_000;
/// Failures kept in the summary (all go to the failure report).
const MAX_FAILURES_KEPT: usize = 1000;

#[derive(Default)]
struct Stats {
    files: AtomicU64,
    bytes: AtomicU64,
    copied: AtomicU64,
    copied_bytes: AtomicU64,
    parts_sent: AtomicU64,
    parts_resumed: AtomicU64,
    parts_rechecked: AtomicU64,
    parts_resent: AtomicU64,
    uploads_aborted: AtomicU64,
    resumed: AtomicU64,
    skipped_existing: AtomicU64,
    skipped_unchanged: AtomicU64,
    skipped_manifest: AtomicU64,
    changed: AtomicU64,
    filtered: AtomicU64,
    other_shards: AtomicU64,
    deleted: AtomicU64,
    empty_dirs: AtomicU64,
    empty_dirs_created: AtomicU64,
    empty_dirs_existing: AtomicU64,
    unverified: AtomicU64,
    verified_crc32c: AtomicU64,
    verified_md5_etag: AtomicU64,
    verified_read_back: AtomicU64,
    not_compared: AtomicU64,
    failed: AtomicU64,
    failed_files: AtomicU64,
    failed_dirs: AtomicU64,
    hdfs_compared: AtomicU64,
    hdfs_matched: AtomicU64,
    hdfs_mismatched: AtomicU64,
    /// Files copied without HDFS checksum comparison, by reason.
    hdfs_not_available: Mutex<BTreeMap<String, u64>>,
}

/// What a failure is of, for the summary's counts.
#[derive(Clone, Copy)]
enum Failed {
    File,
    Dir,
    /// The copy itself: a listing that broke off, a worker that died.
    Copy,
}

/// What a copied file is checked against besides the destination's answer.
#[derive(Debug, Clone)]
enum Expect {
    /// Nothing: the source keeps no checksum of its own.
    Nothing,
    /// The source keeps one, but it can't be compared: why.
    NotAvailable(String),
    /// HDFS's file checksum, for a file with blocks of `block_size`.
    Hdfs { sum: HdfsChecksum, block_size: u64 },
}

/// What the copy of one file sent, counted in the summary once the file is done (a file that
/// fails counts nothing, whatever it sent).
struct Sent {
    etag: Option<String>,
    /// Bytes this run sent (of a resumed upload: its parts sent by this run).
    bytes: u64,
    parts_sent: u64,
    /// Parts sent by an earlier run, completed by this one.
    parts_resumed: u64,
    /// Parts sent by an earlier run that this one read again to compare them with the file, and
    /// those of them that differed and were sent again (in `parts_sent`).
    parts_rechecked: u64,
    parts_resent: u64,
}

/// How a copied file compared with its source's checksum.
enum Outcome {
    Nothing,
    Matched,
    NotAvailable(String),
}

impl Expect {
    /// The HDFS block MD5s of `data`, read from a block boundary, when they are compared.
    fn blocks_of(&self, data: &[u8]) -> Option<Vec<PartMd5>> {
        match self {
            Expect::Hdfs { sum, block_size } => {
                Some(block_md5s(data, *block_size, sum.crc, sum.bytes_per_crc))
            }
            _ => None,
        }
    }
}

/// Shares bandwidth between workers: each send reserves its slot of time on one clock.
struct Limiter {
    bytes_per_sec: f64,
    next: Mutex<Instant>,
}

impl Limiter {
    async fn take(&self, bytes: u64) {
        let wait = {
            let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            let start = (*next).max(now);
            *next = start + Duration::from_secs_f64(bytes as f64 / self.bytes_per_sec);
            start - now
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

struct Ctx {
    opts: CopyOptions,
    source: Arc<dyn FileSource>,
    dest: Destination,
    journal: Option<Journal>,
    manifest: Option<ManifestWriter>,
    report: Option<Mutex<std::io::BufWriter<std::fs::File>>>,
    stats: Stats,
    failures: Mutex<Vec<Failure>>,
    stop: AtomicBool,
    /// Work was left undone (the listing broke off, or a failure stopped the copy): the counts
    /// are partial.
    stopped_early: AtomicBool,
    limiter: Option<Limiter>,
    observer: Arc<dyn Observer>,
    /// Paths relative to the source and destination roots that are the run's own state (see
    /// [`plan::own_paths_under`]), or the other side's S3 prefix (see
    /// [`plan::nested_prefixes`]): left alone on both sides.
    own_in_source: Vec<String>,
    own_in_destination: Vec<String>,
}

/// A multipart upload in progress; its parts are sent by any worker.
struct Upload {
    entry: Entry,
    id: String,
    part_size: u64,
    parts: Mutex<Vec<Option<SentPart>>>,
    remaining: AtomicUsize,
    /// Which parts an earlier run sent (taken over from the journal): each is read again and
    /// compared with what was recorded for it before the upload is completed.
    earlier: Vec<bool>,
    /// Parts of it sent by an earlier run and found unchanged (or not yet read again), and their
    /// bytes; parts sent again.
    resumed_parts: AtomicU64,
    resumed_bytes: AtomicU64,
    resent: AtomicU64,
    error: Mutex<Option<String>>,
    /// Fetched by the first worker that needs it (not by the dispatcher: for a big file, HDFS
    /// reads every block's CRCs to answer).
    expect: tokio::sync::OnceCell<Expect>,
}

impl Upload {
    /// Records the first failure of a part (the upload fails once all its parts are done).
    fn failed(&self, e: &CopyError) {
        let mut err = self.error.lock().unwrap_or_else(|p| p.into_inner());
        err.get_or_insert_with(|| e.to_string());
    }
}

enum Work {
    File(Entry),
    /// A part to send, or to read again when an earlier run sent it.
    Part(Arc<Upload>, usize),
    Compare(Entry, Entry),
    Delete(String),
    /// Makes an empty directory (S3: writes its marker).
    MakeDir(String),
    /// Deletes a directory marker of this S3 destination.
    DeleteMarker(S3Tree, String),
}

/// Runs a copy to the end (or to the first failure without `ignore_failures`).
///
/// Returns `Err` only when the copy can't start (bad URL or option, missing source, unreadable
/// manifest, journal not writable). Failures of files, and a listing that breaks off, are in the
/// summary (`failed`, `failures`); then the journal is kept for a resume.
pub async fn copy(
    opts: CopyOptions,
    observer: Arc<dyn Observer>,
) -> Result<CopySummary, CopyError> {
    let started = Instant::now();
    if opts.parallel == 0 || opts.attempts == 0 {
        return Err(CopyError::Invalid(
            "--parallel and attempts must be at least 1".into(),
        ));
    }
    // Before anything is opened (a copy onto itself is refused).
    let (dest_in_source, source_in_dest) = plan::nested_prefixes(&opts)?;
    let source = plan::open_source(&opts).await?;
    let dest = plan::open_destination(&opts)?;
    if dest.is_s3() && opts.part_size < crate::MIN_PART_SIZE {
        return Err(CopyError::Invalid(format!(
            "--part-size {} is below S3's minimum part size of 5 MiB",
            opts.part_size
        )));
    }
    dest.check_reachable().await?;
    let previous = match &opts.previous_manifest {
        Some(p) => journal::read_manifest(p)?,
        None => FileIndex::new(),
    };
    // What the run writes itself: never copied, compared or deleted when it is inside a local
    // source or destination (`migrate copy . s3://...` keeps its journal in `./.migrate-copy`).
    let mut written: Vec<std::path::PathBuf> = vec![opts.state_dir.clone()];
    // A verify sends nothing, so it has nothing to resume (and must not take or remove the
    // journal of an interrupted copy of the same source and destination).
    let (journal, resumed) = if opts.dry_run || opts.existing == Existing::Verify {
        (None, journal::Resumed::default())
    } else {
        let path = opts.journal.clone().unwrap_or_else(|| {
            let id = digest::hex(&digest::md5(
                format!("{}\n{}\n{}", opts.source, opts.destination, opts.shard).as_bytes(),
            ));
            opts.state_dir.join(format!("{}.journal", &id[..16]))
        });
        let (j, r) = Journal::open(&path).map_err(|error| journal_error(error, &opts))?;
        written.push(journal::lock_path(&path));
        written.push(path);
        (Some(j), r)
    };
    let manifest = match (&opts.output_manifest, opts.dry_run) {
        (Some(p), false) => Some(ManifestWriter::create(p)?),
        _ => None,
    };
    let report = match &opts.failure_report {
        Some(p) => Some(Mutex::new(std::io::BufWriter::new(
            std::fs::File::create(p)
                .map_err(|e| CopyError::io("create failure report", p.display(), e))?,
        ))),
        None => None,
    };
    written.extend(opts.output_manifest.iter().cloned());
    written.extend(opts.failure_report.iter().cloned());
    let mut own_in_source = plan::own_paths_under(&opts.source, &written);
    let mut own_in_destination = plan::own_paths_under(&opts.destination, &written);
    for own in &own_in_source {
        tracing::info!("not copied: {own} is migrate's own state (journal, manifest or report)");
    }
    // An S3 prefix inside the other side's is left alone like the run's own state: the
    // destination's is never copied again (each run would nest one level deeper), the source's
    // never deleted. (Local directories: each walk leaves the other side out.)
    if let Some(rel) = dest_in_source {
        tracing::info!("not copied: {rel} is the destination");
        own_in_source.push(rel);
    }
    own_in_destination.extend(source_in_dest);
    let limiter = opts.bandwidth.map(|b| Limiter {
        bytes_per_sec: b.max(1) as f64,
        next: Mutex::new(Instant::now()),
    });
    let ctx = Arc::new(Ctx {
        source,
        dest,
        journal,
        manifest,
        report,
        stats: Stats::default(),
        failures: Mutex::new(Vec::new()),
        stop: AtomicBool::new(false),
        stopped_early: AtomicBool::new(false),
        limiter,
        observer,
        own_in_source,
        own_in_destination,
        opts,
    });

    let (tx, rx) = tokio::sync::mpsc::channel::<Work>(ctx.opts.parallel * 2);
    let rx = Arc::new(tokio::sync::Mutex::new(rx));
    let workers: Vec<_> = (0..ctx.opts.parallel)
        .map(|_| {
            let ctx = Arc::clone(&ctx);
            let rx = Arc::clone(&rx);
            tokio::spawn(async move {
                loop {
                    let work = rx.lock().await.recv().await;
                    let Some(work) = work else { break };
                    if ctx.stop.load(Relaxed) {
                        // Drain: the copy stops at the first failure.
                        ctx.stopped_early.store(true, Relaxed);
                        continue;
                    }
                    run(&ctx, work).await;
                }
            })
        })
        .collect();

    let mut resumed = resumed;
    let mut settled = Vec::new();
    let complete = dispatch(&ctx, &tx, &mut resumed, &previous, &mut settled).await;
    if !complete {
        ctx.stopped_early.store(true, Relaxed);
    }
    abort_leftovers(&ctx, settled, complete.then_some(resumed.uploads)).await;
    drop(tx);
    for w in workers {
        if let Err(e) = w.await {
            ctx.fail_as(
                Failed::Copy,
                "(worker)",
                &format!("worker task failed: {e}"),
            );
        }
    }

    let ctx =
        Arc::into_inner(ctx).ok_or_else(|| CopyError::Invalid("workers still running".into()))?;
    if let Some(m) = ctx.manifest {
        m.finish()?;
    }
    if let Some(r) = ctx.report {
        let mut r = r.into_inner().unwrap_or_else(|p| p.into_inner());
        r.flush()
            .map_err(|e| CopyError::io("write failure report", "failure report", e))?;
    }
    let s = &ctx.stats;
    let failed = s.failed.load(Relaxed);
    let journal = match ctx.journal {
        Some(j) if failed == 0 => {
            j.remove()?;
            if ctx.opts.journal.is_none() {
                // The state directory too, once no other journal is in it (`remove_dir` fails
                // then, as wanted): an empty `.migrate-copy` left in a source tree would be
                // copied by a later run from elsewhere. A `--journal` FILE's directory is the
                // user's, and stays.
                let _ = std::fs::remove_dir(&ctx.opts.state_dir);
            }
            None
        }
        Some(j) => Some(j.path().display().to_string()),
        None => None,
    };
    Ok(CopySummary {
        source: ctx.opts.source.clone(),
        destination: ctx.opts.destination.clone(),
        dry_run: ctx.opts.dry_run,
        shard: ctx.opts.shard.to_string(),
        files: s.files.load(Relaxed),
        bytes: s.bytes.load(Relaxed),
        copied: s.copied.load(Relaxed),
        copied_bytes: s.copied_bytes.load(Relaxed),
        parts_sent: s.parts_sent.load(Relaxed),
        parts_resumed: s.parts_resumed.load(Relaxed),
        parts_rechecked: s.parts_rechecked.load(Relaxed),
        parts_resent: s.parts_resent.load(Relaxed),
        uploads_aborted: s.uploads_aborted.load(Relaxed),
        resumed: s.resumed.load(Relaxed),
        skipped_existing: s.skipped_existing.load(Relaxed),
        skipped_unchanged: s.skipped_unchanged.load(Relaxed),
        skipped_manifest: s.skipped_manifest.load(Relaxed),
        changed: s.changed.load(Relaxed),
        filtered: s.filtered.load(Relaxed),
        other_shards: s.other_shards.load(Relaxed),
        deleted: s.deleted.load(Relaxed),
        empty_dirs: s.empty_dirs.load(Relaxed),
        empty_dirs_created: s.empty_dirs_created.load(Relaxed),
        empty_dirs_existing: s.empty_dirs_existing.load(Relaxed),
        unverified: s.unverified.load(Relaxed),
        verified_crc32c: s.verified_crc32c.load(Relaxed),
        verified_md5_etag: s.verified_md5_etag.load(Relaxed),
        verified_read_back: s.verified_read_back.load(Relaxed),
        not_compared: s.not_compared.load(Relaxed),
        failed,
        failed_files: s.failed_files.load(Relaxed),
        failed_dirs: s.failed_dirs.load(Relaxed),
        stopped_early: ctx.stopped_early.load(Relaxed),
        hdfs_checksum: plan::is_hdfs(&ctx.opts.source).then(|| {
            let not_available = s
                .hdfs_not_available
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone();
            HdfsChecksumSummary {
                compared: s.hdfs_compared.load(Relaxed),
                matched: s.hdfs_matched.load(Relaxed),
                mismatched: s.hdfs_mismatched.load(Relaxed),
                not_available: not_available.values().sum(),
                not_available_reasons: not_available,
            }
        }),
        failures: ctx.failures.into_inner().unwrap_or_else(|p| p.into_inner()),
        journal,
        seconds: started.elapsed().as_secs_f64(),
    })
}

impl Ctx {
    /// A file failed (or a path that is not a directory: a dangling link, a FIFO).
    fn fail(&self, path: &str, error: &str) {
        self.fail_as(Failed::File, path, error);
    }

    fn fail_as(&self, what: Failed, path: &str, error: &str) {
        self.stats.failed.fetch_add(1, Relaxed);
        let of_what = match what {
            Failed::File => Some(&self.stats.failed_files),
            Failed::Dir => Some(&self.stats.failed_dirs),
            Failed::Copy => None,
        };
        if let Some(n) = of_what {
            n.fetch_add(1, Relaxed);
        }
        self.observer.failed(path, error);
        // The observer shows it (the CLI, above its bars) and the summary lists it: a warning
        // too would print it twice.
        tracing::debug!(path, error, "copy failed");
        {
            let mut f = self.failures.lock().unwrap_or_else(|p| p.into_inner());
            if f.len() < MAX_FAILURES_KEPT {
                f.push(Failure {
                    path: path.to_string(),
                    error: error.to_string(),
                });
            }
        }
        if let Some(r) = &self.report {
            let line = serde_json::json!({ "path": path, "error": error });
            let mut r = r.lock().unwrap_or_else(|p| p.into_inner());
            if let Err(e) = writeln!(r, "{line}") {
                tracing::error!(error = %e, "cannot write the failure report");
            }
        }
        if !self.opts.ignore_failures {
            self.stop.store(true, Relaxed);
        }
    }

    /// Aborts the multipart upload `id` of `rel` and records so in the journal. `true` when this
    /// aborted it; `false` when it was gone already, or the destination refused (a warning names
    /// it with its id, to abort it by).
    async fn abort(&self, rel: &str, id: &str) -> bool {
        let aborted = match self.dest.abort_upload(rel, id).await {
            Ok(aborted) => aborted,
            Err(error) => {
                tracing::warn!(path = %self.dest.url(rel), upload_id = id, %error, "could not abort a multipart upload: abort it by its id (`aws s3api abort-multipart-upload`), or let an AbortIncompleteMultipartUpload lifecycle rule do it");
                return false;
            }
        };
        if let Some(j) = &self.journal {
            if let Err(error) = j.upload_aborted(rel, id) {
                // The next run aborts it again, and finds it gone.
                tracing::warn!(%error, "cannot record an aborted upload in the journal");
            }
        }
        aborted
    }

    fn included(&self, rel: &str) -> bool {
        !self.opts.filters.iter().any(|f| f.is_match(rel))
            && self
                .opts
                .src_pattern
                .as_ref()
                .is_none_or(|p| p.is_match(rel))
    }

    /// Records a file that is now in the destination (copied, or found up to date).
    fn in_destination(&self, entry: &Entry, etag: Option<String>) -> Result<(), CopyError> {
        if let Some(m) = &self.manifest {
            m.add(&ManifestLine {
                path: entry.rel.clone(),
                size: entry.size,
                mtime_ms: entry.mtime_ms,
                etag,
            })?;
        }
        Ok(())
    }

    /// The part size of a file: `--part-size`, raised (in whole MiB) so that no file needs more
    /// than 10,000 parts, and, for HDFS files whose checksums are compared, to a multiple of the
    /// file's block size (HDFS's checksum is made of per-block MD5s; parts read by different
    /// workers must each hold whole blocks) unless the user fixed the part size.
    fn part_size_for(&self, entry: &Entry) -> u64 {
        let min = entry.size.div_ceil(MAX_PARTS).div_ceil(1 << 20) << 20;
        let size = self.opts.part_size.max(min);
        match entry.block_size {
            Some(block)
                if block > 0 && !self.opts.part_size_fixed && self.source.block_checksums() =>
            {
                size.div_ceil(block) * block
            }
            _ => size,
        }
    }

    /// What the source says the file's checksum is. `part_size`: the parts it is read in, when
    /// more than one.
    async fn expect(&self, entry: &Entry, part_size: Option<u64>) -> Expect {
        match self.retry(|| self.source.file_checksum(entry)).await {
            Ok(SourceChecksum::NotKept) => Expect::Nothing,
            Ok(SourceChecksum::Unavailable(reason)) => Expect::NotAvailable(reason),
            Ok(SourceChecksum::Hdfs { sum, block_size }) => match part_size {
                Some(ps) if ps % block_size != 0 => Expect::NotAvailable(
                    "not comparable: --part-size is not a multiple of the file's block size".into(),
                ),
                _ => Expect::Hdfs { sum, block_size },
            },
            Err(e) => {
                tracing::warn!(path = %self.source.url(&entry.rel), error = %e, "cannot fetch HDFS's file checksum");
                Expect::NotAvailable(
                    "fetching the checksum from WebHDFS failed (see the log)".into(),
                )
            }
        }
    }

    /// Compares the checksum computed from the bytes read (HDFS: the block MD5s of the whole
    /// file, in order) with what the source said. A difference is an error (retried by reading
    /// again), unless the file's blocks are not all of its block size: then the two values are
    /// not comparable.
    async fn check(
        &self,
        entry: &Entry,
        expect: &Expect,
        blocks: Option<&[PartMd5]>,
    ) -> Result<Outcome, CopyError> {
        let (sum, block_size) = match expect {
            Expect::Nothing => return Ok(Outcome::Nothing),
            Expect::NotAvailable(reason) => return Ok(Outcome::NotAvailable(reason.clone())),
            Expect::Hdfs { sum, block_size } => (sum, *block_size),
        };
        let Some(blocks) = blocks else {
            return Ok(Outcome::NotAvailable(
                "resumed upload whose parts were recorded without HDFS block checksums".into(),
            ));
        };
        let actual =
            HdfsChecksum::compute(sum.crc, sum.bytes_per_crc, block_size, entry.size, blocks);
        if actual == *sum {
            return Ok(Outcome::Matched);
        }
        if let Some(lengths) = self.source.block_lengths(&entry.rel, entry.size).await {
            // HDFS answered for the file as it is now: one that grew (an append) differs anyway.
            let now: u64 = lengths.iter().sum();
            if now != entry.size {
                return Err(CopyError::Changed {
                    path: self.source.url(&entry.rel),
                    listed: format!("{} bytes", entry.size),
                    now: format!("{now} bytes"),
                });
            }
            let uniform = lengths.iter().rev().skip(1).all(|l| *l == block_size);
            if !uniform {
                return Ok(Outcome::NotAvailable(
                    "not comparable: blocks of unequal sizes (appended or concatenated file)"
                        .into(),
                ));
            }
        }
        Err(CopyError::HdfsChecksum {
            path: self.source.url(&entry.rel),
            expected: sum.to_string(),
            actual: actual.to_string(),
        })
    }

    /// Counts how a copied file compared (`Err`: its copy failed on an HDFS checksum mismatch).
    fn count(&self, outcome: Result<&Outcome, &CopyError>) {
        let s = &self.stats;
        match outcome {
            Ok(Outcome::Nothing) => {}
            Ok(Outcome::Matched) => {
                s.hdfs_compared.fetch_add(1, Relaxed);
                s.hdfs_matched.fetch_add(1, Relaxed);
            }
            Ok(Outcome::NotAvailable(reason)) => {
                let mut m = s
                    .hdfs_not_available
                    .lock()
                    .unwrap_or_else(|p| p.into_inner());
                *m.entry(reason.clone()).or_default() += 1;
            }
            Err(CopyError::HdfsChecksum { .. }) => {
                s.hdfs_compared.fetch_add(1, Relaxed);
                s.hdfs_mismatched.fetch_add(1, Relaxed);
            }
            Err(_) => {}
        }
    }

    /// The metadata of the object `entry` is written to (S3): its part size, and the attributes
    /// `--preserve` keeps.
    async fn meta(&self, entry: &Entry, part_size: Option<u64>) -> Result<Meta, CopyError> {
        let mut meta = Meta::new();
        if !self.dest.is_s3() {
            return Ok(meta);
        }
        if let Some(ps) = part_size {
            meta.push((dest::META_PART_SIZE, ps.to_string()));
        }
        let p = self.opts.preserve;
        if p == Preserve::default() {
            return Ok(meta);
        }
        let attrs = self.retry(|| self.source.attributes(entry)).await?;
        if p.mtime {
            meta.push((dest::META_MTIME, attrs.mtime_ms.to_string()));
        }
        if let (true, Some(o)) = (p.owner, attrs.owner) {
            meta.push((dest::META_OWNER, o));
        }
        if let (true, Some(g)) = (p.group, attrs.group) {
            meta.push((dest::META_GROUP, g));
        }
        if let (true, Some(m)) = (p.permission, attrs.permission) {
            meta.push((dest::META_PERMISSION, format!("{m:o}")));
        }
        Ok(meta)
    }

    /// Applies the mtime and permission `--preserve` keeps to a file written to a local
    /// destination (S3 objects got them as metadata).
    async fn preserve_local(&self, entry: &Entry) -> Result<(), CopyError> {
        let p = self.opts.preserve;
        if self.dest.is_s3() || !(p.mtime || p.permission) {
            return Ok(());
        }
        let attrs = self.retry(|| self.source.attributes(entry)).await?;
        self.dest
            .preserve_local(&entry.rel, attrs, p.mtime, p.permission)
            .await
    }

    async fn retry<T, F, Fut>(&self, mut f: F) -> Result<T, CopyError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, CopyError>>,
    {
        let mut attempt = 1;
        loop {
            match f().await {
                Ok(v) => return Ok(v),
                Err(e) if e.retry() == Retry::Transient && attempt < self.opts.attempts => {
                    tracing::info!(error = %e, attempt, "retrying");
                    tokio::time::sleep(Duration::from_millis(200 << attempt.min(6))).await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn throttle(&self, bytes: u64) {
        if let Some(l) = &self.limiter {
            l.take(bytes).await;
        }
    }
}

/// A journal that can't be opened where it goes, with the option that moves it: `--journal`
/// when it names the file, `--state-dir` otherwise (the default journal is in `.migrate-copy` of
/// the current directory, which a run started elsewhere may not be able to write).
fn journal_error(error: CopyError, opts: &CopyOptions) -> CopyError {
    let CopyError::Io { op, path, source } = error else {
        return error;
    };
    let advice = match &opts.journal {
        Some(_) => "the journal (what lets an interrupted copy resume) goes where --journal says: give --journal a file this run can create and write".to_string(),
        None => format!(
            "the copy keeps its journal (what lets an interrupted copy resume) in {}{}: give --state-dir a directory this run can create and write",
            opts.state_dir.display(),
            if opts.state_dir.is_relative() { " in the current directory" } else { "" }
        ),
    };
    CopyError::Journal {
        op,
        path,
        source,
        advice,
    }
}

/// Whether `rel` is `dir` or a path under it.
fn is_under(rel: &str, dir: &str) -> bool {
    rel.strip_prefix(dir)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Walks the merged listings and queues the work. Stops at a listing error (which is a failure:
/// a partial listing must not drive deletes) or when a failure stops the copy: returns `false`
/// then, `true` when it went through both listings. Takes the uploads it continues out of
/// `resumed`, and moves to `settled` (as path and upload id) those of files it leaves as the
/// destination holds them.
async fn dispatch(
    ctx: &Arc<Ctx>,
    tx: &tokio::sync::mpsc::Sender<Work>,
    resumed: &mut journal::Resumed,
    previous: &FileIndex,
    settled: &mut Vec<(String, String)>,
) -> bool {
    let mut merge = Merge::new(ctx.source.list(), ctx.dest.list());
    let s = &ctx.stats;
    // Source paths that could not be read (a directory without permission, a link to a mount
    // that is gone): what the destination holds under them is kept, as their listing is unknown.
    let mut unreadable: Vec<String> = Vec::new();
    while let Some(pair) = merge.next().await {
        if ctx.stop.load(Relaxed) {
            return false;
        }
        let pair = match pair {
            Ok(p) => p,
            Err(e) => {
                ctx.fail_as(
                    Failed::Copy,
                    &ctx.opts.source,
                    &format!("listing failed, copy stopped: {e}"),
                );
                ctx.stop.store(true, Relaxed);
                return false;
            }
        };
        let (listed, existing) = match pair {
            Pair::DestOnly(d) => {
                if !extra(ctx, tx, &unreadable, d.rel, d.size, None).await {
                    return false;
                }
                continue;
            }
            Pair::DestOnlyDir(rel) => {
                // Directories of a local destination are never deleted.
                let Destination::S3(tree) = &ctx.dest else {
                    continue;
                };
                if !extra(ctx, tx, &unreadable, rel, 0, Some(tree)).await {
                    return false;
                }
                continue;
            }
            Pair::DirInBoth { rel, entries_only } => {
                // Its entries are not in the source: --delete deletes them (those it keeps, the
                // filters' or other shards', it can't tell yet), and on S3 the directory would go
                // with them without its marker.
                let emptied = entries_only
                    && ctx.opts.delete
                    && ctx.opts.existing != Existing::Verify
                    && ctx.dest.is_s3();
                if !empty_dir(ctx, tx, rel, !emptied).await {
                    return false;
                }
                continue;
            }
            Pair::SourceDir(rel) => {
                if !empty_dir(ctx, tx, rel, false).await {
                    return false;
                }
                continue;
            }
            Pair::Source(l) => (l, None),
            Pair::Both(l, d) => (l, Some(d)),
        };
        if plan::is_own(&ctx.own_in_source, listed.rel())
            || existing
                .as_ref()
                .is_some_and(|d| plan::is_own(&ctx.own_in_destination, &d.rel))
        {
            continue;
        }
        let entry = match listed {
            SourcePath::File(e) => e,
            SourcePath::Unreadable { rel, reason, dir } => {
                if ctx.included(&rel) && ctx.opts.shard.contains(&rel) {
                    let what = if dir { Failed::Dir } else { Failed::File };
                    ctx.fail_as(what, &ctx.source.url(&rel), &reason);
                }
                unreadable.push(rel);
                continue;
            }
        };
        if !ctx.included(&entry.rel) {
            s.filtered.fetch_add(1, Relaxed);
            continue;
        }
        if !ctx.opts.shard.contains(&entry.rel) {
            s.other_shards.fetch_add(1, Relaxed);
            continue;
        }
        s.files.fetch_add(1, Relaxed);
        s.bytes.fetch_add(entry.size, Relaxed);
        if ctx.dest.is_s3() && !is_utf8_name(&entry.rel) {
            ctx.fail(&ctx.source.url(&entry.rel), NOT_AN_S3_KEY);
            continue;
        }
        let key = journal::path_key(&entry.rel);
        let same = |idx: &FileIndex| idx.get(&key) == Some(&(entry.size, entry.mtime_ms));
        let dest_same_size = existing.as_ref().is_some_and(|d| d.size == entry.size);
        if ctx.opts.existing != Existing::Verify && dest_same_size && same(&resumed.done) {
            s.resumed.fetch_add(1, Relaxed);
            report_present(ctx, &entry, existing.as_ref());
            continue;
        }
        if ctx.opts.existing != Existing::Verify && dest_same_size && same(previous) {
            s.skipped_manifest.fetch_add(1, Relaxed);
            report_present(ctx, &entry, existing.as_ref());
            settle(resumed, settled, &entry.rel);
            continue;
        }
        let rel = entry.rel.clone();
        let work = match (&existing, ctx.opts.existing) {
            (None, Existing::Verify) => {
                ctx.fail(&ctx.dest.url(&entry.rel), "missing in the destination");
                continue;
            }
            (None, _) | (Some(_), Existing::Overwrite) => Some(entry),
            (Some(_), Existing::Skip) => {
                s.skipped_existing.fetch_add(1, Relaxed);
                report_present(ctx, &entry, existing.as_ref());
                None
            }
            (Some(d), Existing::UpdateByMtime) => {
                // Whole seconds: S3's Last-Modified has no finer precision, so a file written
                // in the same second as its upload would otherwise always look newer.
                if d.size != entry.size || entry.mtime_ms / 1000 > d.mtime_ms / 1000 {
                    s.changed.fetch_add(1, Relaxed);
                    Some(entry)
                } else {
                    s.skipped_unchanged.fetch_add(1, Relaxed);
                    report_present(ctx, &entry, existing.as_ref());
                    None
                }
            }
            (Some(d), Existing::Update | Existing::Verify) => {
                if d.size != entry.size {
                    s.changed.fetch_add(1, Relaxed);
                    if ctx.opts.existing == Existing::Verify {
                        ctx.fail(
                            &ctx.dest.url(&entry.rel),
                            &format!(
                                "size differs: source {} bytes, destination {}",
                                entry.size, d.size
                            ),
                        );
                        None
                    } else {
                        Some(entry)
                    }
                } else {
                    ctx.observer.planned(entry.size);
                    if tx.send(Work::Compare(entry, d.clone())).await.is_err() {
                        return false;
                    }
                    None
                }
            }
        };
        let Some(entry) = work else {
            settle(resumed, settled, &rel);
            continue;
        };
        ctx.observer.planned(entry.size);
        if ctx.opts.dry_run {
            let action = if existing.is_some() { "update" } else { "copy" };
            ctx.observer
                .would(action, &shown_rel(&entry.rel), entry.size);
            s.copied.fetch_add(1, Relaxed);
            s.copied_bytes.fetch_add(entry.size, Relaxed);
            ctx.observer.file_done();
            continue;
        }
        if entry.size <= ctx.part_size_for(&entry) {
            if tx.send(Work::File(entry)).await.is_err() {
                return false;
            }
            continue;
        }
        let prior = resumed.uploads.remove(&entry.rel);
        match start_upload(ctx, entry, prior).await {
            Ok((upload, parts)) => {
                for idx in parts {
                    if tx.send(Work::Part(Arc::clone(&upload), idx)).await.is_err() {
                        return false;
                    }
                }
            }
            Err((rel, e)) => {
                ctx.fail(&ctx.source.url(&rel), &e.to_string());
                ctx.observer.file_done();
            }
        }
    }
    true
}

/// Why a source path whose name is not UTF-8 can't be copied to S3.
const NOT_AN_S3_KEY: &str = "the name is not valid UTF-8 and can't be an S3 key; rename it";

/// An empty source directory, in the destination already (`present`: as an empty directory, S3:
/// a directory marker, or with entries under it) or not. Counted when it is within the filters
/// and the shard; a missing one is reported by `--verify`, counted by a dry run, and otherwise
/// made by a worker. `false`: the workers are gone.
async fn empty_dir(
    ctx: &Ctx,
    tx: &tokio::sync::mpsc::Sender<Work>,
    rel: String,
    present: bool,
) -> bool {
    if plan::is_own(&ctx.own_in_source, &rel)
        || !ctx.included(&rel)
        || !ctx.opts.shard.contains(&rel)
    {
        return true;
    }
    let s = &ctx.stats;
    s.empty_dirs.fetch_add(1, Relaxed);
    if present {
        s.empty_dirs_existing.fetch_add(1, Relaxed);
    } else if ctx.opts.existing == Existing::Verify {
        ctx.fail_as(
            Failed::Dir,
            &ctx.dest.dir_url(&rel),
            "missing in the destination",
        );
    } else if ctx.dest.is_s3() && !is_utf8_name(&rel) {
        ctx.fail_as(Failed::Dir, &ctx.source.url(&rel), NOT_AN_S3_KEY);
    } else if ctx.opts.dry_run {
        ctx.observer.would("mkdir", &shown_rel(&rel), 0);
        s.empty_dirs_created.fetch_add(1, Relaxed);
    } else {
        return tx.send(Work::MakeDir(rel)).await.is_ok();
    }
    true
}

/// A destination file (`marker`: a directory marker of that S3 destination) the source does not
/// have. Within the filters and the shard, `--delete` deletes it and `--verify --delete`
/// reports it; its own state, and what is under a source path that could not be read, are left
/// alone. `false`: the workers are gone.
async fn extra(
    ctx: &Ctx,
    tx: &tokio::sync::mpsc::Sender<Work>,
    unreadable: &[String],
    rel: String,
    size: u64,
    marker: Option<&S3Tree>,
) -> bool {
    if !ctx.opts.delete
        || plan::is_own(&ctx.own_in_destination, &rel)
        || unreadable.iter().any(|u| is_under(&rel, u))
        || !ctx.included(&rel)
        || !ctx.opts.shard.contains(&rel)
    {
        return true;
    }
    if ctx.opts.existing == Existing::Verify {
        // Extra files are reported by verify only when --delete would remove them.
        let (what, url) = match marker {
            Some(_) => (Failed::Dir, ctx.dest.dir_url(&rel)),
            None => (Failed::File, ctx.dest.url(&rel)),
        };
        ctx.fail_as(what, &url, "not in the source");
    } else if ctx.opts.dry_run {
        let shown = shown_rel(&rel);
        let shown = match marker {
            Some(_) => format!("{shown}/"),
            None => shown.into_owned(),
        };
        ctx.observer.would("delete", &shown, size);
        ctx.stats.deleted.fetch_add(1, Relaxed);
    } else {
        let work = match marker {
            Some(tree) => Work::DeleteMarker(tree.clone(), rel),
            None => Work::Delete(rel),
        };
        return tx.send(work).await.is_ok();
    }
    true
}

/// A file left as the destination holds it (or compared with it): an upload an earlier run left
/// for it (completed, then killed before it recorded so) is aborted without a report.
fn settle(resumed: &mut journal::Resumed, settled: &mut Vec<(String, String)>, rel: &str) {
    if let Some(prior) = resumed.uploads.remove(rel) {
        settled.push((rel.to_string(), prior.id));
    }
}

/// Aborts the uploads an earlier run left that this run does not continue: `settled` (see
/// [`settle`]), and, when the run went through the whole source, `left`: those of files no
/// longer in it, excluded, or now sent whole, each named in a warning and counted. Their ids
/// would be lost with the journal.
async fn abort_leftovers(
    ctx: &Ctx,
    settled: Vec<(String, String)>,
    left: Option<std::collections::HashMap<String, UploadState>>,
) {
    use futures::StreamExt;
    let left = left.into_iter().flatten().map(|(rel, u)| (rel, u.id, true));
    let all = settled
        .into_iter()
        .map(|(rel, id)| (rel, id, false))
        .chain(left);
    futures::stream::iter(all)
        .for_each_concurrent(ctx.opts.parallel, |(rel, id, report)| async move {
            if ctx.abort(&rel, &id).await && report {
                ctx.stats.uploads_aborted.fetch_add(1, Relaxed);
                tracing::warn!(path = %ctx.dest.url(&rel), upload_id = %id, "aborted the unfinished multipart upload an earlier run left for a file this run did not continue (no longer in the source, excluded, or now small enough to be sent whole)");
            }
        })
        .await;
}

/// Records a file the destination holds as it is (its manifest line); a failure is the source
/// file's, as when the line of a file sent can't be written ([`finish_file`]).
fn report_present(ctx: &Ctx, entry: &Entry, dest: Option<&Entry>) {
    if let Err(e) = ctx.in_destination(entry, dest.and_then(|d| d.etag.clone())) {
        ctx.fail(&ctx.source.url(&entry.rel), &e.to_string());
    }
}

/// Creates the multipart upload of `entry`, or takes over the one an earlier run recorded for the
/// same size and modification time of the file. Returns the upload and the indexes of its parts:
/// all of them, to send, or to read again (those an earlier run sent).
async fn start_upload(
    ctx: &Ctx,
    entry: Entry,
    prior: Option<UploadState>,
) -> Result<(Arc<Upload>, Vec<usize>), (String, CopyError)> {
    let part_size = ctx.part_size_for(&entry);
    let n = usize::try_from(entry.size.div_ceil(part_size)).unwrap_or(usize::MAX);
    let mut parts = vec![None; n];
    let mut earlier = vec![false; n];
    let crc32c = ctx.dest.sends_crc32c();
    let (mut resumed_parts, mut resumed_bytes) = (0, 0);
    let id = match prior {
        // An upload recorded by a version without CRC32C (or run with --no-crc32c) is restarted
        // rather than completed: every part of an object then carries its checksum, or none does.
        Some(p)
            if p.size == entry.size
                && p.mtime_ms == entry.mtime_ms
                && p.part_size == part_size
                && p.crc32c == crc32c =>
        {
            for (idx, done) in p.parts {
                if let Some(slot) = parts.get_mut(idx) {
                    resumed_parts += 1;
                    resumed_bytes += part_len(entry.size, part_size, idx);
                    earlier[idx] = true;
                    *slot = Some(done);
                }
            }
            p.id
        }
        prior => {
            if let Some(p) = prior {
                ctx.abort(&entry.rel, &p.id).await;
            }
            let meta = ctx
                .meta(&entry, Some(part_size))
                .await
                .map_err(|e| (entry.rel.clone(), e))?;
            let id = ctx
                .retry(|| ctx.dest.create_upload(&entry.rel, entry.size, &meta))
                .await
                .map_err(|e| (entry.rel.clone(), e))?;
            if let Some(j) = &ctx.journal {
                let state = UploadState {
                    size: entry.size,
                    mtime_ms: entry.mtime_ms,
                    id: id.clone(),
                    part_size,
                    crc32c,
                    parts: Default::default(),
                };
                j.upload_started(&entry.rel, &state)
                    .map_err(|e| (entry.rel.clone(), e))?;
            }
            id
        }
    };
    let upload = Arc::new(Upload {
        entry,
        id,
        part_size,
        remaining: AtomicUsize::new(n),
        earlier,
        resumed_parts: AtomicU64::new(resumed_parts),
        resumed_bytes: AtomicU64::new(resumed_bytes),
        resent: AtomicU64::new(0),
        parts: Mutex::new(parts),
        error: Mutex::new(None),
        expect: tokio::sync::OnceCell::new(),
    });
    Ok((upload, (0..n).collect()))
}

fn part_len(size: u64, part_size: u64, idx: usize) -> u64 {
    let start = part_size * idx as u64;
    (size - start.min(size)).min(part_size)
}

async fn run(ctx: &Arc<Ctx>, work: Work) {
    match work {
        Work::File(entry) => {
            let result = copy_whole(ctx, &entry).await;
            finish_file(ctx, &entry, result);
        }
        Work::Part(upload, idx) => {
            if let Err(e) = part(ctx, &upload, idx).await {
                upload.failed(&e);
            }
            if upload.remaining.fetch_sub(1, Relaxed) == 1 {
                let result = finish_checked(ctx, &upload).await;
                finish_file(ctx, &upload.entry, result);
            }
        }
        Work::Compare(entry, dest) => compare(ctx, entry, dest).await,
        Work::Delete(rel) => match ctx.retry(|| ctx.dest.delete(&rel)).await {
            Ok(()) => {
                ctx.stats.deleted.fetch_add(1, Relaxed);
            }
            Err(e) => ctx.fail(&ctx.dest.url(&rel), &e.to_string()),
        },
        Work::MakeDir(rel) => match ctx.retry(|| ctx.dest.create_dir(&rel)).await {
            Ok(()) => {
                ctx.stats.empty_dirs_created.fetch_add(1, Relaxed);
            }
            Err(e) => ctx.fail_as(Failed::Dir, &ctx.dest.dir_url(&rel), &e.to_string()),
        },
        Work::DeleteMarker(tree, rel) => match ctx.retry(|| tree.delete_marker(&rel)).await {
            Ok(()) => {
                ctx.stats.deleted.fetch_add(1, Relaxed);
            }
            Err(e) => ctx.fail_as(Failed::Dir, &ctx.dest.dir_url(&rel), &e.to_string()),
        },
    }
}

/// Bookkeeping after a file was sent (or failed): journal, manifest, counters. Only a file that
/// is done is counted, with what it sent.
fn finish_file(ctx: &Ctx, entry: &Entry, result: Result<Sent, CopyError>) {
    ctx.observer.file_done();
    let outcome = result.and_then(|sent| {
        if let Some(j) = &ctx.journal {
            j.file_done(&entry.rel, entry.size, entry.mtime_ms)?;
        }
        ctx.in_destination(entry, sent.etag.clone())?;
        Ok(sent)
    });
    match outcome {
        Ok(sent) => {
            let s = &ctx.stats;
            s.copied.fetch_add(1, Relaxed);
            s.copied_bytes.fetch_add(sent.bytes, Relaxed);
            s.parts_sent.fetch_add(sent.parts_sent, Relaxed);
            s.parts_resumed.fetch_add(sent.parts_resumed, Relaxed);
            s.parts_rechecked.fetch_add(sent.parts_rechecked, Relaxed);
            s.parts_resent.fetch_add(sent.parts_resent, Relaxed);
        }
        Err(e) => ctx.fail(&ctx.source.url(&entry.rel), &e.to_string()),
    }
}

/// Checks what the destination stored against the checksums of what was read: the CRC32C the
/// server stored (when the copy sent `crcs` and the server keeps additional checksums) and the
/// ETag (when it is an MD5); a local file is read back. Counts the verification the file got.
/// Returns the ETag.
async fn verify(
    ctx: &Ctx,
    entry: &Entry,
    stored: Stored,
    parts: &[PartMd5],
    crcs: Option<&[u32]>,
    multipart: bool,
    part_size: u64,
) -> Result<Option<String>, CopyError> {
    let expected = digest::etag(parts, multipart);
    let path = || ctx.dest.url(&entry.rel);
    let written = match stored {
        Stored::S3(w) => w,
        Stored::LocalFile => {
            let back = dest::local_digest(&ctx.dest, &entry.rel, entry.size, part_size).await?;
            let actual = digest::etag(&back, multipart);
            if actual != expected {
                return Err(CopyError::Mismatch {
                    path: path(),
                    expected,
                    actual,
                });
            }
            ctx.stats.verified_read_back.fetch_add(1, Relaxed);
            return Ok(None);
        }
    };
    // SSE-KMS and some servers: the ETag is not an MD5.
    let md5_etag = digest::is_md5_etag(&written.etag);
    if md5_etag && written.etag != expected {
        return Err(CopyError::Mismatch {
            path: path(),
            expected,
            actual: written.etag,
        });
    }
    let crc_expected = match crcs {
        Some([one]) if !multipart => Some(s3crc::crc32c_base64(*one)),
        Some(all) if multipart => Some(s3crc::composite_crc32c(all)),
        _ => None,
    };
    let crc_verified = match (crc_expected, &written.crc32c) {
        (Some(e), Some(a)) if &e != a => {
            return Err(CopyError::Mismatch {
                path: path(),
                expected: format!("CRC32C {e}"),
                actual: format!("CRC32C {a}"),
            });
        }
        (Some(_), Some(_)) => true,
        // The server keeps no additional checksums: the ETag is the check.
        _ => false,
    };
    let counter = match (crc_verified, md5_etag) {
        (true, _) => &ctx.stats.verified_crc32c,
        (false, true) => &ctx.stats.verified_md5_etag,
        // The size was checked by S3.
        (false, false) => &ctx.stats.unverified,
    };
    counter.fetch_add(1, Relaxed);
    Ok(Some(written.etag))
}

/// Reads a file whole (it is at most one part), checks it against the source's checksum (HDFS),
/// sends it with one PUT, verifies the ETag.
async fn copy_whole(ctx: &Ctx, entry: &Entry) -> Result<Sent, CopyError> {
    let meta = ctx.meta(entry, None).await?;
    let expect = ctx.expect(entry, None).await;
    let result = ctx
        .retry(|| async {
            let data = ctx.source.read(&entry.rel, 0..entry.size).await?;
            ctx.source.unchanged(entry).await?;
            let md5 = digest::md5(&data);
            let crc = crc32c::crc32c(&data);
            let outcome = ctx
                .check(entry, &expect, expect.blocks_of(&data).as_deref())
                .await?;
            ctx.throttle(entry.size).await;
            let stored = ctx.dest.put(&entry.rel, data, crc, &meta).await?;
            let etag = verify(
                ctx,
                entry,
                stored,
                &[md5],
                Some(&[crc]),
                false,
                ctx.opts.part_size.max(entry.size),
            )
            .await?;
            Ok((etag, outcome))
        })
        .await;
    if let Err(e) = &result {
        ctx.count(Err(e));
    }
    let (etag, outcome) = result?;
    ctx.count(Ok(&outcome));
    ctx.observer.sent(entry.size);
    ctx.preserve_local(entry).await?;
    Ok(Sent {
        etag,
        bytes: entry.size,
        parts_sent: 0,
        parts_resumed: 0,
        parts_rechecked: 0,
        parts_resent: 0,
    })
}

/// Sends part `idx` of an upload, or reads it again when an earlier run sent it; nothing once a
/// part of the upload failed (the upload fails).
async fn part(ctx: &Ctx, upload: &Upload, idx: usize) -> Result<(), CopyError> {
    if upload
        .error
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .is_some()
    {
        return Ok(());
    }
    if upload.earlier.get(idx) == Some(&true) {
        recheck_part(ctx, upload, idx).await
    } else {
        send_part(ctx, upload, idx).await
    }
}

/// Reads a part an earlier run sent and compares it with what that run recorded for it (the
/// CRC32C the server stored, else its MD5): the file may have changed between the runs and kept
/// its size and modification time (`cp -p`, `rsync -t`). A part that differs is sent again.
async fn recheck_part(ctx: &Ctx, upload: &Upload, idx: usize) -> Result<(), CopyError> {
    let entry = &upload.entry;
    let start = upload.part_size * idx as u64;
    let len = part_len(entry.size, upload.part_size, idx);
    let recorded = {
        let parts = upload.parts.lock().unwrap_or_else(|p| p.into_inner());
        parts
            .get(idx)
            .and_then(|p| p.as_ref().map(|p| (p.md5, p.crc32c)))
    };
    let Some((md5, crc)) = recorded else {
        return Err(CopyError::Invalid(format!("part {} was not sent", idx + 1)));
    };
    let data = ctx
        .retry(|| ctx.source.read(&entry.rel, start..start + len))
        .await?;
    let same = match crc {
        Some(crc) => crc32c::crc32c(&data) == crc,
        None => digest::md5(&data) == md5,
    };
    drop(data);
    if same {
        ctx.observer.sent(len);
        return Ok(());
    }
    tracing::info!(file = %ctx.source.url(&entry.rel), part = idx + 1, "the part an earlier run sent differs from the file now: sending it again");
    upload.resumed_parts.fetch_sub(1, Relaxed);
    upload.resumed_bytes.fetch_sub(len, Relaxed);
    upload.resent.fetch_add(1, Relaxed);
    send_part(ctx, upload, idx).await
}

/// Reads and sends one part; its ETag must be its MD5, and the CRC32C the server stored (if it
/// stores one) the part's CRC32C (S3).
async fn send_part(ctx: &Ctx, upload: &Upload, idx: usize) -> Result<(), CopyError> {
    let entry = &upload.entry;
    let start = upload.part_size * idx as u64;
    let len = part_len(entry.size, upload.part_size, idx);
    let expect = upload
        .expect
        .get_or_init(|| ctx.expect(entry, Some(upload.part_size)))
        .await;
    let sent = ctx
        .retry(|| async {
            let data = ctx.source.read(&entry.rel, start..start + len).await?;
            let md5 = digest::md5(&data);
            let crc = crc32c::crc32c(&data);
            let blocks = expect.blocks_of(&data);
            ctx.throttle(len).await;
            let stored = ctx
                .dest
                .put_part(&entry.rel, &upload.id, idx, start, data, crc)
                .await?;
            let (etag, stored_crc) = match stored {
                Stored::S3(w) => (w.etag, w.crc32c),
                Stored::LocalFile => (String::new(), None),
            };
            let shown = || format!("{} part {}", ctx.dest.url(&entry.rel), idx + 1);
            if ctx.dest.is_s3() && digest::is_md5_etag(&etag) && etag != digest::hex(&md5) {
                return Err(CopyError::Mismatch {
                    path: shown(),
                    expected: digest::hex(&md5),
                    actual: etag,
                });
            }
            let crc32c = match stored_crc {
                Some(c) if c != s3crc::crc32c_base64(crc) => {
                    return Err(CopyError::Mismatch {
                        path: shown(),
                        expected: format!("CRC32C {}", s3crc::crc32c_base64(crc)),
                        actual: format!("CRC32C {c}"),
                    });
                }
                Some(_) => Some(crc),
                None => None,
            };
            Ok(SentPart {
                etag,
                md5,
                crc32c,
                blocks,
            })
        })
        .await?;
    if let Some(j) = &ctx.journal {
        j.part_done(&entry.rel, &upload.id, idx, &sent)?;
    }
    ctx.observer.sent(len);
    let mut parts = upload.parts.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(slot) = parts.get_mut(idx) {
        *slot = Some(sent);
    }
    Ok(())
}

/// [`finish_upload`], and when the bytes read did not give HDFS's checksum, the whole file again
/// (new reads, new upload) while attempts are left.
async fn finish_checked(ctx: &Ctx, upload: &Upload) -> Result<Sent, CopyError> {
    let mut result = finish_upload(ctx, upload).await;
    // What an earlier run began may be gone since (an S3 lifecycle rule aborted the upload, its
    // temporary file was removed or damaged): sent once more from the start, where every run
    // resuming it would fail the same way.
    if upload.earlier.contains(&true) {
        if let Err(e) = &result {
            tracing::info!(error = %e, file = %upload.entry.rel, "the resumed upload failed; sending the file again from the start");
            ctx.abort(&upload.entry.rel, &upload.id).await;
            result = send_multipart(ctx, &upload.entry).await;
        }
    }
    let mut attempt = 1;
    while let Err(e @ CopyError::HdfsChecksum { .. }) = &result {
        if attempt >= ctx.opts.attempts {
            ctx.count(Err(e));
            break;
        }
        attempt += 1;
        tracing::info!(error = %e, attempt, "copying the file again");
        result = send_multipart(ctx, &upload.entry).await;
    }
    result
}

/// Completes an upload whose parts are all sent (or read again), and verifies the whole object.
/// The source's checksum (HDFS) is compared first: an upload that does not match is aborted,
/// never completed.
async fn finish_upload(ctx: &Ctx, upload: &Upload) -> Result<Sent, CopyError> {
    let failed = upload
        .error
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take();
    if let Some(e) = failed {
        return Err(abandon(ctx, upload, e).await);
    }
    let entry = &upload.entry;
    let expect = upload
        .expect
        .get_or_init(|| ctx.expect(entry, Some(upload.part_size)))
        .await;
    let (completed, md5s, blocks): (Vec<CompletedPart>, Vec<PartMd5>, _) = {
        let parts = upload.parts.lock().unwrap_or_else(|p| p.into_inner());
        let mut completed = Vec::with_capacity(parts.len());
        let mut md5s = Vec::with_capacity(parts.len());
        let mut blocks = Some(Vec::new());
        for (i, p) in parts.iter().enumerate() {
            let Some(p) = p else {
                return Err(CopyError::Invalid(format!("part {} was not sent", i + 1)));
            };
            completed.push(CompletedPart {
                etag: p.etag.clone(),
                crc32c: p.crc32c,
            });
            md5s.push(p.md5);
            match (&mut blocks, &p.blocks) {
                (Some(all), Some(b)) => all.extend_from_slice(b),
                _ => blocks = None,
            }
        }
        (completed, md5s, blocks)
    };
    // The composite CRC32C is checked only when the server stored every part's checksum.
    let crcs: Option<Vec<u32>> = completed.iter().map(|p| p.crc32c).collect();
    // Every part was read by this run (sent, or read again and compared): a file written to
    // meanwhile would complete into a mix of old and new bytes.
    if let Err(e) = ctx.source.unchanged(entry).await {
        ctx.abort(&entry.rel, &upload.id).await;
        return Err(e);
    }
    let outcome = match ctx.check(entry, expect, blocks.as_deref()).await {
        Ok(o) => o,
        Err(e) => {
            ctx.abort(&entry.rel, &upload.id).await;
            return Err(e);
        }
    };
    let stored = ctx
        .retry(|| ctx.dest.complete_upload(&entry.rel, &upload.id, &completed))
        .await?;
    let verified = verify(
        ctx,
        entry,
        stored,
        &md5s,
        crcs.as_deref(),
        true,
        upload.part_size,
    );
    match verified.await {
        Ok(etag) => {
            ctx.preserve_local(entry).await?;
            ctx.count(Ok(&outcome));
            let parts = u64::try_from(md5s.len()).unwrap_or(u64::MAX);
            let resumed_parts = upload.resumed_parts.load(Relaxed);
            let rechecked = upload.earlier.iter().filter(|e| **e).count();
            Ok(Sent {
                etag,
                bytes: entry
                    .size
                    .saturating_sub(upload.resumed_bytes.load(Relaxed)),
                parts_sent: parts.saturating_sub(resumed_parts),
                parts_resumed: resumed_parts,
                parts_rechecked: u64::try_from(rechecked).unwrap_or(u64::MAX),
                parts_resent: upload.resent.load(Relaxed),
            })
        }
        Err(e) => {
            // Never leave an object that does not match its source.
            if let Err(d) = ctx.dest.delete(&entry.rel).await {
                tracing::error!(path = %ctx.dest.url(&entry.rel), error = %d, "cannot delete a mismatching object");
            }
            Err(e)
        }
    }
}

/// The error of an upload a part of which failed (`error`). Its upload is kept when a later run
/// can resume it (parts of it were sent, and the file is still as listed), and the error says
/// so; otherwise it is aborted now: no run could complete it.
async fn abandon(ctx: &Ctx, upload: &Upload, error: String) -> CopyError {
    let (sent, total) = {
        let parts = upload.parts.lock().unwrap_or_else(|p| p.into_inner());
        (parts.iter().filter(|p| p.is_some()).count(), parts.len())
    };
    let resumable =
        sent > 0 && ctx.journal.is_some() && ctx.source.unchanged(&upload.entry).await.is_ok();
    if resumable {
        return CopyError::Invalid(format!(
            "{error}; its multipart upload ({sent} of {total} parts sent) is kept: run the same command again to resume it"
        ));
    }
    ctx.abort(&upload.entry.rel, &upload.id).await;
    CopyError::Invalid(error)
}

/// The ETag-style digest of a source file with `parts` parts of `part_size` (1 part: plain MD5).
async fn source_digest(
    ctx: &Ctx,
    entry: &Entry,
    part_size: u64,
    multipart: bool,
) -> Result<String, CopyError> {
    let mut md5s = Vec::new();
    let mut whole = Md5::new();
    let mut offset = 0;
    loop {
        let end = (offset + part_size).min(entry.size);
        let data = ctx
            .retry(|| ctx.source.read(&entry.rel, offset..end))
            .await?;
        if multipart {
            md5s.push(digest::md5(&data));
        } else {
            whole.update(&data);
        }
        offset = end;
        if offset >= entry.size {
            break;
        }
    }
    if multipart {
        Ok(digest::etag(&md5s, true))
    } else {
        Ok(digest::hex(&whole.finalize()))
    }
}

/// How a file present on both sides compared by checksum.
enum Compared {
    Same,
    Differs {
        expected: String,
        actual: String,
    },
    /// The destination's checksum can't be computed from the source: why, and how to check it.
    NotComparable(String),
}

/// The checksum of a file present on both sides with the same size, compared with the
/// destination's (S3: its ETag, computed from the source with the part size the object was
/// written with; local: both files hashed the same way).
async fn compare_checksums(ctx: &Ctx, entry: &Entry, dest: &Entry) -> Result<Compared, CopyError> {
    let compared = |expected: String, actual: String| {
        if expected == actual {
            Compared::Same
        } else {
            Compared::Differs { expected, actual }
        }
    };
    let Some(etag) = &dest.etag else {
        // Local destination: hash both sides the same way.
        let ps = ctx.opts.part_size.max(1);
        let multipart = entry.size > ps;
        let back = dest::local_digest(&ctx.dest, &dest.rel, dest.size, ps).await?;
        let expected = source_digest(ctx, entry, ps, multipart).await?;
        return Ok(compared(expected, digest::etag(&back, multipart)));
    };
    if !digest::is_md5_etag(etag) {
        return Ok(Compared::NotComparable(format!(
            "its ETag {etag} is not an MD5 (SSE-KMS or SSE-C encryption), so it can't be computed from the source; to check the object, copy it into a local directory (the copy checks what it writes) and --verify the source against that directory"
        )));
    }
    if !etag.contains('-') {
        // One MD5 of the whole file, read in parts.
        let expected = source_digest(ctx, entry, ctx.opts.part_size.max(1), false).await?;
        return Ok(compared(expected, etag.clone()));
    }
    // A multipart ETag is the MD5 of the parts' MD5s: it depends on where the parts were cut.
    let parts = digest::etag_parts(etag).unwrap_or(1);
    let recorded = ctx.dest.part_size_of(&entry.rel).await?;
    let part_size = recorded.unwrap_or(ctx.opts.part_size).max(1);
    let unknown = || {
        Compared::NotComparable(format!(
            "the object was uploaded in {parts} parts of a size it does not record (written by another tool than migrate copy), so its ETag can't be computed from the source; `migrate copy --update` copies it again, recording its part size, and --verify can compare it after that"
        ))
    };
    if entry.size.div_ceil(part_size) != parts {
        return Ok(unknown());
    }
    let expected = source_digest(ctx, entry, part_size, true).await?;
    Ok(match compared(expected, etag.clone()) {
        // Parts of this copy's size give the same ETag: the same bytes. Where they don't, the
        // object may still be the same bytes cut into parts of another size.
        Compared::Differs { .. } if recorded.is_none() => unknown(),
        other => other,
    })
}

/// `--update` and verify: compares a file present on both sides with the same size by checksum.
async fn compare(ctx: &Arc<Ctx>, entry: Entry, dest: Entry) {
    let s = &ctx.stats;
    let verify = ctx.opts.existing == Existing::Verify;
    match compare_checksums(ctx, &entry, &dest).await {
        Err(e) => {
            ctx.fail(&ctx.source.url(&entry.rel), &e.to_string());
            ctx.observer.file_done();
        }
        Ok(Compared::Same) => {
            s.skipped_unchanged.fetch_add(1, Relaxed);
            ctx.observer.sent(entry.size);
            ctx.observer.file_done();
            report_present(ctx, &entry, Some(&dest));
        }
        // Neither verified nor found different: a verify says so (and fails, so that a
        // verify that passes has compared every file).
        Ok(Compared::NotComparable(why)) if verify => {
            s.not_compared.fetch_add(1, Relaxed);
            ctx.observer.file_done();
            ctx.fail(
                &ctx.dest.url(&entry.rel),
                &format!("could not compare the checksums: {why}"),
            );
        }
        Ok(Compared::Differs { expected, actual }) if verify => {
            s.changed.fetch_add(1, Relaxed);
            ctx.observer.file_done();
            ctx.fail(
                &ctx.dest.url(&entry.rel),
                &format!("checksum differs: source {expected}, destination {actual}"),
            );
        }
        Ok(different) => {
            // --update: a file that can't be compared is copied again, like a changed one.
            if matches!(different, Compared::NotComparable(_)) {
                s.not_compared.fetch_add(1, Relaxed);
            }
            s.changed.fetch_add(1, Relaxed);
            if ctx.opts.dry_run {
                ctx.observer
                    .would("update", &shown_rel(&entry.rel), entry.size);
                s.copied.fetch_add(1, Relaxed);
                s.copied_bytes.fetch_add(entry.size, Relaxed);
                ctx.observer.file_done();
            } else {
                let result = copy_sequential(ctx, &entry).await;
                finish_file(ctx, &entry, result);
            }
        }
    }
}

/// Copies one file within the current worker (a file found changed by `compare`).
async fn copy_sequential(ctx: &Arc<Ctx>, entry: &Entry) -> Result<Sent, CopyError> {
    if entry.size <= ctx.part_size_for(entry) {
        return copy_whole(ctx, entry).await;
    }
    let upload = send_parts(ctx, entry).await?;
    finish_checked(ctx, &upload).await
}

/// Sends every part of a new multipart upload of `entry` from the current worker, up to the
/// first that fails (the upload holds the failure, for [`finish_upload`]).
async fn send_parts(ctx: &Ctx, entry: &Entry) -> Result<Arc<Upload>, CopyError> {
    let (upload, parts) = start_upload(ctx, entry.clone(), None)
        .await
        .map_err(|(_, e)| e)?;
    for idx in parts {
        if let Err(e) = send_part(ctx, &upload, idx).await {
            upload.failed(&e);
            break;
        }
    }
    Ok(upload)
}

/// One attempt at a whole multipart copy of `entry` from the current worker.
async fn send_multipart(ctx: &Ctx, entry: &Entry) -> Result<Sent, CopyError> {
    let upload = send_parts(ctx, entry).await?;
    finish_upload(ctx, &upload).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hdfs_checksum::CrcKind;
    use crate::source::{Links, LocalTree};

    fn ctx(dir: &std::path::Path) -> Ctx {
        Ctx {
            opts: CopyOptions::new(dir.display().to_string(), dir.display().to_string()),
            source: Arc::new(LocalTree::new(dir.to_path_buf(), Links::Follow)),
            dest: Destination::Local(LocalTree::new(dir.to_path_buf(), Links::AsEntries)),
            journal: None,
            manifest: None,
            report: None,
            stats: Stats::default(),
            failures: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
            stopped_early: AtomicBool::new(false),
            limiter: None,
            observer: Arc::new(crate::Quiet),
            own_in_source: Vec::new(),
            own_in_destination: Vec::new(),
        }
    }

    #[test]
    fn hdfs_checksum_comparison() {
        let tmp = tempfile::tempdir().unwrap();
        let ctx = ctx(tmp.path());
        let data: Vec<u8> = (0..3_000_000u32).map(|i| ((i * 31) >> 3) as u8).collect();
        let entry = Entry {
            rel: "f".into(),
            size: data.len() as u64,
            mtime_ms: 0,
            owner: None,
            group: None,
            permission: None,
            etag: None,
            block_size: Some(1 << 20),
        };
        let blocks = block_md5s(&data, 1 << 20, CrcKind::Crc32c, 512);
        let right = HdfsChecksum::compute(CrcKind::Crc32c, 512, 1 << 20, entry.size, &blocks);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let check = |sum: HdfsChecksum, block_size: u64, blocks: Option<&[PartMd5]>| {
            rt.block_on(ctx.check(&entry, &Expect::Hdfs { sum, block_size }, blocks))
        };
        assert!(matches!(
            check(right, 1 << 20, Some(&blocks)),
            Ok(Outcome::Matched)
        ));
        // A wrong expected value: an error naming both values, retried (the file is read again).
        let mut wrong = right;
        wrong.md5[0] ^= 1;
        match check(wrong, 1 << 20, Some(&blocks)) {
            Err(e @ CopyError::HdfsChecksum { .. }) => {
                assert_eq!(e.retry(), Retry::Transient);
                let msg = e.to_string();
                assert!(
                    msg.contains(&wrong.to_string()) && msg.contains(&right.to_string()),
                    "{msg}"
                );
                ctx.count(Err(&e));
            }
            other => panic!("expected a mismatch, got {:?}", other.map(|_| ())),
        }
        // Blocks cut at the wrong place (2 MiB): a mismatch too.
        let two = block_md5s(&data, 2 << 20, CrcKind::Crc32c, 512);
        assert!(matches!(
            check(right, 1 << 20, Some(&two)),
            Err(CopyError::HdfsChecksum { .. })
        ));
        // A resumed upload without block MD5s: not comparable, said so.
        match check(right, 1 << 20, None) {
            Ok(Outcome::NotAvailable(r)) => assert!(r.contains("resumed"), "{r}"),
            other => panic!("{:?}", other.map(|_| ())),
        }
        let na = rt
            .block_on(ctx.check(&entry, &Expect::NotAvailable("why".into()), None))
            .unwrap();
        ctx.count(Ok(&na));
        ctx.count(Ok(&Outcome::Matched));
        ctx.count(Ok(&Outcome::Nothing));
        let s = &ctx.stats;
        assert_eq!(
            (
                s.hdfs_compared.load(Relaxed),
                s.hdfs_matched.load(Relaxed),
                s.hdfs_mismatched.load(Relaxed)
            ),
            (2, 1, 1)
        );
        assert_eq!(s.hdfs_not_available.lock().unwrap().get("why"), Some(&1));
        // Local sources keep no checksum and don't align parts.
        assert!(matches!(
            rt.block_on(ctx.expect(&entry, Some(5 << 20))),
            Expect::Nothing
        ));
        assert_eq!(ctx.part_size_for(&entry), 16 << 20);
    }

    #[test]
    fn part_lengths() {
        assert_eq!(part_len(10, 4, 0), 4);
        assert_eq!(part_len(10, 4, 2), 2);
        assert_eq!(part_len(10, 4, 3), 0);
    }
}
