//! `migrate copy SRC DST`: copies a tree of files (HDFS, local, S3) to S3 or a local directory,
//! in parallel, resumably, verified. The engine is crates/copy; this module turns flags into
//! [`CopyOptions`], draws progress bars and prints the summary.

use crate::convert::OutputFormat;
use crate::progress::{drawn_bars, stop_drawing, ProgressMode};
use crate::warnings::WithWarnings;
use crate::{Outcome, BROKEN_PIPE_EXIT};
use anyhow::{bail, Context, Result};
use clap::Args;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use migrate_copy::{CopyOptions, CopySummary, Existing, Observer, Preserve, Shard};
use regex::Regex;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Args)]
pub struct CopyArgs {
    /// What to copy: hdfs://namenode:port/dir (HA and viewfs:// through HADOOP_CONF_DIR),
    /// s3://bucket/prefix, file:///dir or a directory.
    src: String,
    /// Where to: s3://bucket/prefix, file:///dir or a directory.
    dst: String,
    /// Copy files that exist in the destination when size or checksum differ (the source is read
    /// to compute the checksum).
    #[arg(long, conflicts_with_all = ["update_by_mtime", "overwrite", "verify"])]
    update: bool,
    /// Copy files that exist in the destination when size differs or the source is newer.
    #[arg(long, conflicts_with_all = ["overwrite", "verify"])]
    update_by_mtime: bool,
    /// Copy files that exist in the destination, always.
    #[arg(long, conflicts_with = "verify")]
    overwrite: bool,
    /// Copy nothing: compare every file by checksum and report missing or differing files (and,
    /// with --delete, extra ones) as failures.
    #[arg(long)]
    verify: bool,
    /// Delete destination files (and S3 directory markers) that are not in the source (within
    /// the filters and the shard).
    #[arg(long)]
    delete: bool,
    /// A file of regular expressions, one per line (blank lines and lines starting with # are
    /// skipped): paths relative to SRC matching any of them are neither copied nor deleted.
    #[arg(long, value_name = "FILE")]
    filters: Option<PathBuf>,
    /// Copy only paths (relative to SRC) matching this regular expression (anchor it with ^...$
    /// to match whole paths).
    #[arg(long, value_name = "REGEX")]
    src_pattern: Option<String>,
    /// Files or parts in flight at once.
    // A negative value is refused as this flag's value, not as an unknown argument.
    #[arg(
        short = 'm',
        long = "parallel",
        value_name = "N",
        default_value = "16",
        allow_negative_numbers = true
    )]
    parallel: usize,
    /// Total bandwidth limit per second, e.g. 100MiB (K/M/G and KiB/MiB/GiB are powers of 1024,
    /// KB/MB/GB of 1000).
    // A negative size (`-1`, `-5MiB`) is refused as this flag's value, not as an unknown
    // argument: `allow_negative_numbers` would take `-1` only, not a size with a unit.
    #[arg(long, value_name = "SIZE", allow_hyphen_values = true)]
    bandwidth: Option<String>,
    /// Keep source attributes: a comma list of mtime, owner, group, perm (default: all). S3 gets
    /// them as x-amz-meta-migrate-* metadata; local destinations get mtime and permission.
    #[arg(long, value_name = "LIST", num_args = 0..=1, default_missing_value = "all")]
    preserve: Option<String>,
    /// Plan and list what would be copied or deleted; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Keep going after a file fails; failures are reported (and written to --failure-report).
    #[arg(long)]
    ignore_failures: bool,
    /// Write every failure as a JSON line to this file.
    #[arg(long, value_name = "FILE")]
    failure_report: Option<PathBuf>,
    /// Write the files that are in the destination after this copy (JSON lines) to this file.
    #[arg(long, value_name = "FILE")]
    output_manifest: Option<PathBuf>,
    /// Skip files listed with the same size and mtime in this manifest of an earlier copy.
    #[arg(long, value_name = "FILE")]
    previous_manifest: Option<PathBuf>,
    /// Copy only shard I of N (0-based): N commands with 0/N .. N-1/N split the files between
    /// them without a coordinator.
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
    /// Files larger than this go as multipart uploads in parts of this size (S3: at least 5MiB;
    /// default 16MiB). HDFS sources with checksums: by default raised to a multiple of each
    /// file's block size; a size given here is used as is, and multipart files whose blocks it
    /// does not divide are reported "not comparable" with HDFS's checksum.
    // (A negative size: as --bandwidth's.)
    #[arg(long, value_name = "SIZE", allow_hyphen_values = true)]
    part_size: Option<String>,
    /// WebHDFS address of the HDFS source's NameNode (e.g. http://namenode:9870; repeat for
    /// each NameNode of an HA pair), to compare every file with HDFS's file checksum. Default:
    /// dfs.namenode.http-address from HADOOP_CONF_DIR's hdfs-site.xml.
    #[arg(long, value_name = "URL")]
    hdfs_http: Vec<String>,
    /// Don't fetch HDFS's file checksums (no WebHDFS requests; files are still verified by
    /// their MD5s against what the destination stored).
    #[arg(long)]
    no_hdfs_checksum: bool,
    /// The journal that makes the copy resumable (default: .migrate-copy/<id>.journal in the
    /// state directory, one per source, destination and shard).
    #[arg(long, value_name = "FILE")]
    journal: Option<PathBuf>,
    /// Where default journals live.
    #[arg(long, value_name = "DIR", default_value = ".migrate-copy")]
    state_dir: PathBuf,
    /// S3 endpoint (default: AWS_ENDPOINT_URL, else AWS).
    #[arg(long, value_name = "URL")]
    endpoint: Option<String>,
    /// S3 destinations: send no CRC32C checksums; verify by ETag (MD5) only.
    #[arg(long)]
    no_crc32c: bool,
    /// When progress bars are drawn.
    #[arg(long, value_enum, default_value = "auto")]
    progress: ProgressMode,
    /// What the report on standard output looks like.
    #[arg(long, value_enum, default_value = "text")]
    output: OutputFormat,
}

/// Parses `16MiB`, `100MB`, `64k`, `1048576`, the value of `flag`.
fn parse_size(flag: &str, s: &str) -> Result<u64> {
    let t = s.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    // The float parser's own message ("cannot parse float from empty string") says nothing
    // a user can act on: it is left out.
    let Ok(num) = num.parse::<f64>() else {
        bail!("{flag}: bad size {s:?}: write a number with an optional unit, e.g. 16MiB")
    };
    let unit = unit.trim();
    let mult: f64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kib" => 1024.0,
        "m" | "mib" => 1024.0 * 1024.0,
        "g" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        _ => bail!(
            "{flag}: bad size {s:?}: unknown unit {unit:?} (use B, K, M, G, KiB, MiB, GiB (powers of 1024), KB, MB or GB (powers of 1000), in any case; no unit: bytes)"
        ),
    };
    Ok((num * mult) as u64)
}

fn read_filters(path: &PathBuf) -> Result<Vec<Regex>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading --filters {}", path.display()))?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let re = Regex::new(line).with_context(|| {
            format!(
                "{}: line {}: {line:?} is not a valid regular expression",
                path.display(),
                n + 1
            )
        })?;
        out.push(re);
    }
    Ok(out)
}

fn parse_preserve(list: &str) -> Result<Preserve> {
    let mut p = Preserve::default();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match item {
            "all" => {
                p = Preserve {
                    mtime: true,
                    owner: true,
                    group: true,
                    permission: true,
                }
            }
            "mtime" | "times" => p.mtime = true,
            "owner" | "user" => p.owner = true,
            "group" => p.group = true,
            "perm" | "permission" => p.permission = true,
            other => bail!(
                "--preserve: unknown attribute {other:?} (use mtime, owner, group, perm or all)"
            ),
        }
    }
    Ok(p)
}

impl CopyArgs {
    fn options(&self) -> Result<CopyOptions> {
        let mut o = CopyOptions::new(&self.src, &self.dst);
        o.existing = if self.verify {
            Existing::Verify
        } else if self.update {
            Existing::Update
        } else if self.update_by_mtime {
            Existing::UpdateByMtime
        } else if self.overwrite {
            Existing::Overwrite
        } else {
            Existing::Skip
        };
        o.delete = self.delete;
        if let Some(f) = &self.filters {
            o.filters = read_filters(f)?;
        }
        if let Some(p) = &self.src_pattern {
            o.src_pattern = Some(Regex::new(p).with_context(|| {
                format!("--src-pattern {p:?} is not a valid regular expression")
            })?);
        }
        if self.parallel == 0 {
            bail!("--parallel must be at least 1");
        }
        o.parallel = self.parallel;
        o.bandwidth = self
            .bandwidth
            .as_deref()
            .map(|s| parse_size("--bandwidth", s))
            .transpose()?;
        if o.bandwidth == Some(0) {
            bail!("--bandwidth must be positive");
        }
        if let Some(p) = &self.preserve {
            o.preserve = parse_preserve(p)?;
        }
        o.dry_run = self.dry_run;
        o.ignore_failures = self.ignore_failures;
        o.failure_report = self.failure_report.clone();
        o.output_manifest = self.output_manifest.clone();
        o.previous_manifest = self.previous_manifest.clone();
        if let Some(s) = &self.shard {
            o.shard = Shard::parse(s)?;
        }
        if let Some(ps) = &self.part_size {
            o.part_size = parse_size("--part-size", ps)?;
            o.part_size_fixed = true;
        }
        if o.part_size == 0 {
            bail!("--part-size must be positive");
        }
        o.hdfs_http = self.hdfs_http.clone();
        o.hdfs_checksum = !self.no_hdfs_checksum;
        o.journal = self.journal.clone();
        o.state_dir = self.state_dir.clone();
        o.endpoint = self.endpoint.clone();
        o.crc32c = !self.no_crc32c;
        o.allow_http = self
            .endpoint
            .as_deref()
            .or(std::env::var("AWS_ENDPOINT_URL").ok().as_deref())
            .is_some_and(|e| e.starts_with("http://"));
        Ok(o)
    }
}

/// Bytes and files, with rate and ETA; the totals grow while the listing runs.
struct Bars {
    multi: MultiProgress,
    bytes: ProgressBar,
    files: ProgressBar,
    dry_run_lines: bool,
}

impl Bars {
    fn new(mode: ProgressMode, json: bool, dry_run_lines: bool) -> Bars {
        let multi = drawn_bars(mode, json);
        let style = |t: &str| {
            ProgressStyle::with_template(t)
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ")
        };
        let bytes = multi.add(ProgressBar::new(0));
        bytes.set_style(style("bytes {bar:30} {binary_bytes:>10}/{binary_total_bytes:10} {binary_bytes_per_sec:>12} eta {eta:>4}"));
        let files = multi.add(ProgressBar::new(0));
        files.set_style(style(
            "files {bar:30} {human_pos:>10}/{human_len:10} {per_sec:>12} {msg}",
        ));
        Bars {
            multi,
            bytes,
            files,
            dry_run_lines,
        }
    }

    fn finish(&self) {
        self.bytes.finish_and_clear();
        self.files.finish_and_clear();
        stop_drawing(&self.multi);
    }
}

impl Observer for Bars {
    fn planned(&self, bytes: u64) {
        self.bytes.inc_length(bytes);
        self.files.inc_length(1);
    }
    fn sent(&self, bytes: u64) {
        self.bytes.inc(bytes);
    }
    fn file_done(&self) {
        self.files.inc(1);
    }
    fn failed(&self, path: &str, error: &str) {
        let _ = self.multi.println(format!("failed: {path}: {error}"));
    }
    fn would(&self, action: &str, path: &str, bytes: u64) {
        if self.dry_run_lines {
            // The plan of a dry run is the text output itself.
            let line = writeln!(
                std::io::stdout().lock(),
                "would {action} {path} ({bytes} bytes)"
            );
            if line.is_err_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) {
                // Its reader stopped reading (`| head`): nothing is written, so the dry run
                // stops too, as a tool killed by SIGPIPE would.
                std::process::exit(BROKEN_PIPE_EXIT);
            }
        }
    }
}

pub fn run(args: CopyArgs) -> Result<Outcome> {
    let options = args.options()?;
    let json = args.output == OutputFormat::Json;
    let bars = Arc::new(Bars::new(args.progress, json, !json));
    let runtime = crate::runtime()?;
    let summary = runtime.block_on(migrate_copy::copy(options, bars.clone()));
    bars.finish();
    let summary = summary?;
    let report = WithWarnings::new(&summary);
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        print_text(&mut out, &summary, args.verify)?;
        report.print_count(&mut out)?;
    }
    Ok(if summary.failed > 0 {
        Outcome::NeedsAttention
    } else {
        Outcome::Clean
    })
}

/// `n` and the noun: `1 file`, `0 files`, `2 files`.
fn count(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// The summary as text; `verify`: of a `--verify` run.
fn print_text(out: &mut impl Write, s: &CopySummary, verify: bool) -> std::io::Result<()> {
    let mib = |b: u64| b as f64 / f64::from(1 << 20);
    let verb = if s.dry_run { "would copy" } else { "copied" };
    writeln!(
        out,
        "{} -> {}{}{}",
        s.source,
        s.destination,
        if s.shard != "0/1" {
            format!(" (shard {})", s.shard)
        } else {
            String::new()
        },
        if s.dry_run {
            " (dry run: nothing written)"
        } else {
            ""
        }
    )?;
    if s.stopped_early {
        writeln!(out, "  STOPPED EARLY by the failure below: the counts cover only the files reached (--ignore-failures goes on past failed files)")?;
    }
    writeln!(
        out,
        "  files:    {} ({:.1} MiB) in the source{}",
        s.files,
        mib(s.bytes),
        if s.stopped_early { " (partial)" } else { "" }
    )?;
    if s.dry_run {
        writeln!(
            out,
            "  {verb}: {}, {:.1} MiB",
            count(s.copied, "file", "files"),
            mib(s.copied_bytes)
        )?;
    } else {
        writeln!(
            out,
            "  {verb}:   {}, {:.1} MiB in {:.1} s ({:.1} MiB/s); parts sent {}, resumed {}{}",
            count(s.copied, "file", "files"),
            mib(s.copied_bytes),
            s.seconds,
            mib(s.copied_bytes) / s.seconds.max(1e-3),
            s.parts_sent,
            s.parts_resumed,
            if s.parts_rechecked > 0 {
                format!(
                    " ({} sent by an earlier run read again, {} of them changed: sent again)",
                    s.parts_rechecked, s.parts_resent
                )
            } else {
                String::new()
            }
        )?;
    }
    if s.uploads_aborted > 0 {
        writeln!(
            out,
            "  aborted:  {} an earlier run left for files this run did not continue (see the warnings)",
            count(s.uploads_aborted, "unfinished upload", "unfinished uploads")
        )?;
    }
    writeln!(out,
        "  skipped:  {} existing, {} unchanged, {} in previous manifest, {} already copied (journal)",
        s.skipped_existing, s.skipped_unchanged, s.skipped_manifest, s.resumed
    )?;
    writeln!(
        out,
        "  changed:  {}; deleted {}; filtered {}; other shards {}; empty dirs {}{}",
        s.changed,
        s.deleted,
        s.filtered,
        s.other_shards,
        s.empty_dirs,
        if s.empty_dirs > 0 {
            format!(
                " ({} {}, {} already there)",
                s.empty_dirs_created,
                if s.dry_run { "to create" } else { "created" },
                s.empty_dirs_existing
            )
        } else {
            String::new()
        }
    )?;
    if !s.dry_run {
        writeln!(
            out,
            "  verified: {} by CRC32C, {} by ETag (MD5), {} read back",
            s.verified_crc32c, s.verified_md5_etag, s.verified_read_back
        )?;
    }
    if s.not_compared > 0 {
        writeln!(
            out,
            "  not compared: {} (their checksums can't be computed from the source: {})",
            s.not_compared,
            if verify {
                "not verified, see the failures"
            } else {
                "copied again"
            }
        )?;
    }
    if s.unverified > 0 {
        writeln!(out,
            "  unverified: {} (destination ETag is not an MD5 and no CRC32C stored; sizes checked only)",
            s.unverified
        )?;
    }
    if let Some(h) = &s.hdfs_checksum {
        writeln!(
            out,
            "  HDFS checksum: {} compared, {} matched, {} mismatched; not available for {}",
            h.compared, h.matched, h.mismatched, h.not_available
        )?;
        for (reason, n) in &h.not_available_reasons {
            writeln!(
                out,
                "    not available ({}): {reason}",
                count(*n, "file", "files")
            )?;
        }
    }
    if s.failed > 0 {
        let other = s.failed.saturating_sub(s.failed_files + s.failed_dirs);
        let counts: Vec<String> = [
            (s.failed_files, "file", "files"),
            (s.failed_dirs, "directory", "directories"),
            (
                other,
                "other (the listing or a worker)",
                "others (the listing or a worker)",
            ),
        ]
        .into_iter()
        .filter(|&(n, _, _)| n > 0)
        .map(|(n, one, many)| count(n, one, many))
        .collect();
        writeln!(out, "  FAILED:   {}", counts.join(", "))?;
        for f in s.failures.iter().take(20) {
            writeln!(out, "    {}: {}", f.path, f.error)?;
        }
        if s.failed > 20 {
            writeln!(
                out,
                "    ... (all of them with --output json or --failure-report)"
            )?;
        }
    }
    if let Some(j) = &s.journal {
        writeln!(
            out,
            "  journal kept for resume: {j} (run the same command again)"
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("--part-size", "16MiB").unwrap(), 16 << 20);
        assert_eq!(parse_size("--part-size", "100MB").unwrap(), 100_000_000);
        assert_eq!(parse_size("--part-size", "64k").unwrap(), 65536);
        assert_eq!(parse_size("--part-size", "123").unwrap(), 123);
        assert!(parse_size("--part-size", "12parsecs").is_err());
        assert!(parse_preserve("mtime,perm").unwrap().permission);
        assert!(parse_preserve("colour").is_err());
    }
}
