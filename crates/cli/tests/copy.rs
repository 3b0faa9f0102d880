//! `migrate copy` as users run it, against the real S3 server: killed with SIGKILL mid-copy and run
//! again (nothing finished is sent twice: proven from the journal and the summary), and bad input.

// The HDFS test files are written as crates/copy's tests write them.
#[path = "../../copy/tests/hdfs_files/mod.rs"]
mod hdfs_files;

use hdfs_files::write_hdfs_file;
use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const PART: u64 = 5 << 20;

fn migrate(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_migrate"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// `migrate copy FROM TO --state-dir STATE --progress never EXTRA...`: a run whose journal stays
/// in the test's own directory.
fn copy_run(from: &str, to: &str, state: &std::path::Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "copy",
        from,
        to,
        "--state-dir",
        state.to_str().unwrap(),
        "--progress",
        "never",
    ];
    args.extend_from_slice(extra);
    migrate(&args)
}

/// `migrate ARGS` started in the background, its output discarded (a run to interrupt or to
/// run beside).
fn spawn_quiet(args: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_migrate"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn summary(out: &std::process::Output) -> serde_json::Value {
    assert!(
        out.status.code() == Some(0),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn n(v: &serde_json::Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or_else(|| panic!("no {key} in {v}"))
}

/// The objects under `url` (relative key -> size), through `migrate copy --dry-run` of the prefix
/// into an empty directory (the plan lists every object it would copy).
fn objects(url: &str, tmp: &std::path::Path) -> BTreeMap<String, u64> {
    let empty = tmp.join("empty-listing");
    let out = migrate(&[
        "copy",
        url,
        empty.to_str().unwrap(),
        "--dry-run",
        "--progress",
        "never",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("would copy "))
        .map(|l| {
            let (path, size) = l.rsplit_once(" (").unwrap();
            (
                path.to_string(),
                size.trim_end_matches(" bytes)").parse().unwrap(),
            )
        })
        .collect()
}

/// The CRC32C the server stored for `rel` under `url` (HEAD with checksum mode).
fn stored_crc32c(url: &str, rel: &str) -> Option<String> {
    let (bucket, prefix) = url.strip_prefix("s3://").unwrap().split_once('/').unwrap();
    let builder = migrate_stage::s3_builder(bucket, None, true);
    let store = std::sync::Arc::new(builder.clone().build().unwrap());
    let w = migrate_copy::s3crc::ChecksumWriter::new(&builder, store)
        .unwrap()
        .unwrap();
    let path = object_store::path::Path::parse(format!("{prefix}/{rel}")).unwrap();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(w.stored_crc32c(&path, rel))
        .unwrap()
}

/// S3's checksum of a multipart object in parts of `PART`, from the definition:
/// `base64(crc32c(crc_1 ‖ … ‖ crc_N))-N` with each part's CRC32C big-endian.
fn composite_crc32c(data: &[u8]) -> String {
    use base64::Engine;
    let crcs: Vec<u8> = data
        .chunks(PART as usize)
        .flat_map(|c| crc32c::crc32c(c).to_be_bytes())
        .collect();
    let b64 = base64::engine::general_purpose::STANDARD.encode(crc32c::crc32c(&crcs).to_be_bytes());
    format!("{b64}-{}", data.len().div_ceil(PART as usize))
}

#[test]
fn a_copy_killed_mid_way_resumes_without_resending() {
    let Some(s3) = migrate_testkit::s3() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    let mut sizes = BTreeMap::new();
    for i in 0..4u64 {
        let p = src.join(format!("big/part-{i:05}"));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        let data: Vec<u8> = (0..6 * PART)
            .map(|b| (b.wrapping_mul(31 + i) >> 3) as u8)
            .collect();
        std::fs::write(&p, data).unwrap();
        sizes.insert(format!("big/part-{i:05}"), 6 * PART);
    }
    for i in 0..300u64 {
        let p = src.join(format!("small/{:02}/f{i}.txt", i % 10));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, vec![b'a' + (i % 26) as u8; 4096]).unwrap();
        sizes.insert(format!("small/{:02}/f{i}.txt", i % 10), 4096);
    }
    let total: u64 = sizes.values().sum();
    let dst = s3.unique_url("copy_kill");
    let journal = tmp.path().join("copy.journal");
    let base = [
        "copy",
        src.to_str().unwrap(),
        &dst,
        "--part-size",
        "5MiB",
        "-m",
        "4",
        "--journal",
        journal.to_str().unwrap(),
        "--output",
        "json",
        "--progress",
        "never",
    ];

    // Slowed down so that the kill lands mid-copy: 126 MiB at 24 MiB/s.
    let mut args = base.to_vec();
    args.extend(["--bandwidth", "24MiB"]);
    let mut child = spawn_quiet(&args);
    let records = |kind: &str| -> Vec<serde_json::Value> {
        std::fs::read_to_string(&journal)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["t"] == kind)
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while records("part").len() < 8 || records("file").len() < 20 {
        assert!(Instant::now() < deadline, "the copy made no progress");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the copy finished before it could be killed"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    // Uploads were created with CRC32C part checksums, and each part's stored CRC32C (which the
    // resumed CompleteMultipartUpload must repeat) is journaled with the part.
    assert!(records("upload").iter().all(|r| r["ck"] == true));
    for r in records("part") {
        let data = std::fs::read(src.join(r["p"].as_str().unwrap())).unwrap();
        let i = r["n"].as_u64().unwrap() as usize * PART as usize;
        let part = &data[i..(i + PART as usize).min(data.len())];
        assert_eq!(
            r["c"].as_u64(),
            Some(u64::from(crc32c::crc32c(part))),
            "{r}"
        );
    }

    // What the journal says is done, and what is on S3 at the moment of the restart.
    let done: BTreeSet<String> = records("file")
        .iter()
        .map(|r| r["p"].as_str().unwrap().to_string())
        .collect();
    let parts: BTreeSet<(String, u64)> = records("part")
        .iter()
        .map(|r| {
            (
                r["p"].as_str().unwrap().to_string(),
                r["n"].as_u64().unwrap(),
            )
        })
        .filter(|(p, _)| !done.contains(p))
        .collect();
    let present = objects(&dst, tmp.path());
    assert!(done.len() < sizes.len(), "killed before the end");
    for p in &done {
        assert_eq!(
            present.get(p),
            Some(&sizes[p]),
            "{p}: journaled as done but not on S3"
        );
    }
    // Finished on S3 but killed before the journal said so: found in the destination, skipped.
    let unjournaled: Vec<&String> = present.keys().filter(|p| !done.contains(*p)).collect();
    let parts_to_resume = parts
        .iter()
        .filter(|(p, _)| !present.contains_key(p))
        .count() as u64;

    let s = summary(&migrate(&base));
    assert_eq!(n(&s, "failed"), 0, "{s}");
    assert_eq!(n(&s, "resumed"), done.len() as u64, "{s}");
    assert_eq!(n(&s, "skipped_existing"), unjournaled.len() as u64, "{s}");
    assert_eq!(n(&s, "parts_resumed"), parts_to_resume, "{s}");
    assert!(parts_to_resume > 0 || parts.is_empty(), "{s}");
    // Each resumed part was read again and compared with the source (none had changed).
    assert_eq!(
        (n(&s, "parts_rechecked"), n(&s, "parts_resent")),
        (parts_to_resume, 0),
        "{s}"
    );
    // The uploads of files completed but not journaled are aborted without a report (a no-op).
    assert_eq!(n(&s, "uploads_aborted"), 0, "{s}");
    assert_eq!(s["warnings"], serde_json::json!([]), "{s}");
    assert_eq!(
        n(&s, "copied"),
        (sizes.len() - done.len() - unjournaled.len()) as u64,
        "{s}"
    );
    // The proof that nothing finished was sent again: bytes sent by the second run.
    let skipped_bytes: u64 = done
        .iter()
        .chain(unjournaled.iter().copied())
        .map(|p| sizes[p])
        .sum();
    assert_eq!(
        n(&s, "copied_bytes"),
        total - skipped_bytes - parts_to_resume * PART,
        "{s}"
    );
    assert!(
        s["journal"].is_null(),
        "journal removed after a clean finish: {s}"
    );
    assert!(!journal.exists());
    // Resumed uploads completed with their parts' checksums: every copied file verified by CRC32C,
    // and the stored checksum of each big object is the composite of its parts' CRC32Cs.
    assert_eq!(n(&s, "verified_crc32c"), n(&s, "copied"), "{s}");
    assert_eq!(n(&s, "verified_md5_etag"), 0, "{s}");
    for i in 0..4u64 {
        let rel = format!("big/part-{i:05}");
        let data = std::fs::read(src.join(&rel)).unwrap();
        assert_eq!(
            stored_crc32c(&dst, &rel),
            Some(composite_crc32c(&data)),
            "{rel}"
        );
    }

    // Everything is there and every byte matches (checksums against S3's ETags).
    let v = summary(&migrate(&[
        "copy",
        src.to_str().unwrap(),
        &dst,
        "--verify",
        "--output",
        "json",
        "--progress",
        "never",
    ]));
    assert_eq!(
        (n(&v, "failed"), n(&v, "skipped_unchanged")),
        (0, sizes.len() as u64),
        "{v}"
    );
}

/// The journal lives in `./.migrate-copy` by default: run from inside the source it is not
/// copied, and run from inside a local destination with `--delete` it is not deleted.
#[test]
fn the_runs_own_state_is_never_copied_or_deleted() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, dst) = (tmp.path().join("src"), tmp.path().join("dst"));
    std::fs::create_dir_all(src.join("sub")).unwrap();
    std::fs::write(src.join("a"), "a").unwrap();
    std::fs::write(src.join("sub/b"), "b").unwrap();
    let copy = |cwd: &std::path::Path, from: &str, to: &str, extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_migrate"))
            .args(["copy", from, to, "--output", "json", "--progress", "never"])
            .args(extra)
            .current_dir(cwd)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        summary(&out)
    };
    // The journal is in the source while the run lists it, and gone (with its directory) once
    // the run succeeded: an empty `.migrate-copy` would be copied by a run from elsewhere.
    let s = copy(&src, ".", dst.to_str().unwrap(), &[]);
    assert_eq!((n(&s, "files"), n(&s, "copied")), (2, 2), "{s}");
    assert!(!src.join(".migrate-copy").exists(), "the state is cleared");
    assert!(!dst.join(".migrate-copy").exists(), "and was not copied");

    // From inside the destination, mirroring with --delete: its journal stays.
    std::fs::remove_file(src.join("a")).unwrap();
    // (The journal exists while the destination is listed, and is deleted by the run itself
    // once it succeeded.)
    let s = copy(&dst, src.to_str().unwrap(), ".", &["--delete"]);
    assert_eq!(
        n(&s, "deleted"),
        1,
        "only the file gone from the source: {s}"
    );
    assert!(!dst.join("a").exists());
    assert!(dst.join("sub/b").exists());
}

/// A source file where the local destination has a directory of that name can never be copied
/// (migrate does not delete a directory to make room): the failure says what to remove, and no
/// temporary file is left beside the directory. Before, every run failed with the rename's
/// "Is a directory" and left `x.migrate-copy.tmp` behind.
#[test]
fn a_file_over_a_destination_directory_fails_with_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, dst) = (tmp.path().join("src"), tmp.path().join("dst"));
    std::fs::create_dir_all(&src).unwrap();
    std::fs::create_dir_all(dst.join("small/keep")).unwrap();
    std::fs::create_dir_all(dst.join("large")).unwrap();
    std::fs::write(dst.join("small/keep/f"), "kept").unwrap();
    std::fs::write(src.join("small"), "small").unwrap();
    // Above the part size: written as parts into a temporary file, then renamed.
    std::fs::write(src.join("large"), vec![7u8; (PART + 1) as usize]).unwrap();
    std::fs::write(src.join("other"), "other").unwrap();
    let state = tmp.path().join("state");
    let out = migrate(&[
        "copy",
        src.to_str().unwrap(),
        dst.to_str().unwrap(),
        "--progress",
        "never",
        "--state-dir",
        state.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    for name in ["small", "large"] {
        let wanted = format!(
            "{} is a directory in the destination where the source has a file: remove or rename the directory",
            dst.join(name).display()
        );
        assert!(stdout.contains(&wanted), "{stdout}");
    }
    let mut left: Vec<String> = std::fs::read_dir(&dst)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["large", "other", "small"], "no temporary file left");
    assert_eq!(
        std::fs::read_to_string(dst.join("small/keep/f")).unwrap(),
        "kept"
    );
}

/// A source directory that can't be listed (here a link into a loop) beside a file whose name
/// starts with the directory's: a failure of that path alone; the other files are copied and
/// `--delete` keeps what the destination holds under it. Before, the directory was merged as the
/// file `a` after `a.txt`, and the whole copy stopped: `the source listing is out of order`.
#[test]
fn an_unreadable_directory_beside_a_longer_name_fails_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, dst) = (tmp.path().join("src"), tmp.path().join("dst"));
    std::fs::create_dir_all(&src).unwrap();
    std::fs::create_dir_all(dst.join("a")).unwrap();
    std::fs::write(src.join("a.txt"), "a.txt").unwrap();
    std::fs::write(src.join("b.txt"), "b.txt").unwrap();
    std::os::unix::fs::symlink(".", src.join("a")).unwrap();
    std::fs::write(dst.join("a/kept"), "kept").unwrap();
    let state = tmp.path().join("state");
    let copy =
        |extra: &[&str]| copy_run(src.to_str().unwrap(), dst.to_str().unwrap(), &state, extra);
    let looped = "a symbolic link to a directory that contains it (a loop): not followed";

    let out = copy(&["--ignore-failures", "--delete", "--output", "json"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (
            n(&v, "files"),
            n(&v, "copied"),
            n(&v, "deleted"),
            n(&v, "failed")
        ),
        (2, 2, 0, 1),
        "{v}"
    );
    assert_eq!(v["stopped_early"], false, "{v}");
    assert_eq!(
        v["failures"],
        serde_json::json!([{"path": src.join("a"), "error": looped}]),
        "{v}"
    );
    for name in ["a.txt", "b.txt"] {
        assert_eq!(std::fs::read_to_string(dst.join(name)).unwrap(), name);
    }
    assert_eq!(std::fs::read_to_string(dst.join("a/kept")).unwrap(), "kept");

    // Without --ignore-failures the copy stops at that failure, named as such.
    let out = copy(&[]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let failure = format!("{}: {looped}", src.join("a").display());
    assert!(
        text.contains(&failure) && !text.contains("out of order"),
        "{text}"
    );
}

/// The summary counts failed files and failed directories apart. Before, a file and an empty
/// directory that both failed (each over the other kind in the destination) were `FAILED:   2
/// files`.
#[test]
fn failed_files_and_directories_are_counted_apart() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, dst) = (tmp.path().join("src"), tmp.path().join("dst"));
    std::fs::create_dir_all(src.join("empty")).unwrap();
    std::fs::create_dir_all(dst.join("file")).unwrap();
    std::fs::write(src.join("file"), "a file").unwrap();
    std::fs::write(src.join("other"), "copied").unwrap();
    std::fs::write(dst.join("empty"), "a file where the source has a directory").unwrap();
    let state = tmp.path().join("state");
    let copy = |extra: &[&str]| {
        let args = [&["--ignore-failures"], extra].concat();
        copy_run(src.to_str().unwrap(), dst.to_str().unwrap(), &state, &args)
    };
    let out = copy(&["--output", "json"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (
            n(&v, "copied"),
            n(&v, "failed"),
            n(&v, "failed_files"),
            n(&v, "failed_dirs")
        ),
        (1, 2, 1, 1),
        "{v}"
    );
    let out = copy(&[]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("  FAILED:   1 file, 1 directory\n"), "{text}");
    for wanted in [
        format!(
            "{} is a directory in the destination where the source has a file",
            dst.join("file").display()
        ),
        format!(
            "{} is a file in the destination where the source has a directory",
            dst.join("empty").display()
        ),
    ] {
        assert!(text.contains(&wanted), "{text}");
    }
}

/// A file the destination holds already whose `--output-manifest` line can't be written is a
/// failure named by the file's URL, as every other failure is, and says that the manifest failed.
/// Before, it was named by its relative path alone, with the bare I/O error
/// (`f33-xxx...: No space left on device (os error 28)`).
#[test]
fn a_manifest_line_that_cant_be_written_names_the_file_by_its_url() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, dst) = (tmp.path().join("src"), tmp.path().join("dst"));
    std::fs::create_dir_all(&src).unwrap();
    // Long names, so that the manifest's lines overflow its write buffer (8 KiB) within the run
    // and reach /dev/full.
    let long = "x".repeat(200);
    for i in 0..60 {
        std::fs::write(src.join(format!("f{i:02}-{long}")), "a").unwrap();
    }
    let state = tmp.path().join("state");
    let (src_s, dst_s) = (src.to_str().unwrap(), dst.to_str().unwrap());
    let out = copy_run(src_s, dst_s, &state, &[]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");

    // Every file is in the destination now: each is left alone, and its manifest line written.
    let report = tmp.path().join("failures.jsonl");
    let out = copy_run(
        src_s,
        dst_s,
        &state,
        &[
            "--output-manifest",
            "/dev/full",
            "--failure-report",
            report.to_str().unwrap(),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("write manifest /dev/full: No space left on device"),
        "{stderr}"
    );
    let report = std::fs::read_to_string(&report).unwrap();
    let first = report.lines().next().expect("a failure in the report");
    let failure: serde_json::Value = serde_json::from_str(first).unwrap();
    let (path, error) = (
        failure["path"].as_str().unwrap(),
        failure["error"].as_str().unwrap(),
    );
    let name = path
        .strip_prefix(&format!("{src_s}/"))
        .unwrap_or_else(|| panic!("{path} is not the file's URL under {src_s}"));
    assert!(
        name.ends_with(&long) && src.join(name).is_file(),
        "{report}"
    );
    assert!(
        error.starts_with("write manifest /dev/full: No space left on device"),
        "{report}"
    );
}

/// The text summary says `1 file` and `2 files` on every line that counts files, as `FAILED:`
/// does. Before, a copy of one file said `copied:   1 files`.
#[test]
fn the_text_summary_counts_one_file_in_the_singular() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, dst) = (tmp.path().join("src"), tmp.path().join("dst"));
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("one"), "1").unwrap();
    let state = tmp.path().join("state");
    let copy = |extra: &[&str]| {
        let out = copy_run(src.to_str().unwrap(), dst.to_str().unwrap(), &state, extra);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let text = copy(&["--dry-run"]);
    assert!(text.contains("\n  would copy: 1 file, 0.0 MiB\n"), "{text}");
    let text = copy(&[]);
    assert!(text.contains("\n  copied:   1 file, 0.0 MiB in "), "{text}");
    std::fs::write(src.join("two"), "2").unwrap();
    let text = copy(&["--overwrite"]);
    assert!(
        text.contains("\n  copied:   2 files, 0.0 MiB in "),
        "{text}"
    );
}

/// An empty source directory whose parent is a symbolic link in the local destination is not
/// made through the link (outside the destination), as no file is: it fails, saying so. Before,
/// it was made where the link points.
#[test]
fn an_empty_directory_is_never_made_through_a_destination_link() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, dst, outside) = (
        tmp.path().join("src"),
        tmp.path().join("dst"),
        tmp.path().join("outside"),
    );
    std::fs::create_dir_all(src.join("x/empty")).unwrap();
    std::fs::create_dir_all(&dst).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, dst.join("x")).unwrap();
    let state = tmp.path().join("state");
    let out = migrate(&[
        "copy",
        src.to_str().unwrap(),
        dst.to_str().unwrap(),
        "--progress",
        "never",
        "--output",
        "json",
        "--state-dir",
        state.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let error = v["failures"][0]["error"].as_str().unwrap_or_default();
    assert!(
        error.starts_with(&format!(
            "{} is a symbolic link in the destination",
            dst.join("x").display()
        )),
        "{v}"
    );
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
}

#[test]
fn bad_input_exits_2_with_a_clear_message() {
    let tmp = tempfile::tempdir().unwrap();
    let filters = tmp.path().join("filters.txt");
    std::fs::write(&filters, "# comment\n\\.tmp$\n(unclosed\n").unwrap();
    let file = tmp.path().join("a-file");
    std::fs::write(&file, "not a directory").unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![
                tmp.path().display().to_string(),
                "s3://b/p".into(),
                "--filters".into(),
                filters.display().to_string(),
            ],
            "filters.txt: line 3",
        ),
        (
            vec![
                tmp.path().display().to_string(),
                "s3://b/p".into(),
                "--src-pattern".into(),
                "[".into(),
            ],
            "--src-pattern",
        ),
        (
            vec![
                tmp.path().join("missing").display().to_string(),
                "s3://b/p".into(),
            ],
            "does not exist",
        ),
        (
            vec!["ftp://host/x".into(), "s3://b/p".into()],
            "unsupported scheme",
        ),
        (
            vec![
                tmp.path().display().to_string(),
                "s3://b/p".into(),
                "--shard".into(),
                "4/4".into(),
            ],
            "bad shard",
        ),
        (
            vec![
                tmp.path().display().to_string(),
                "s3://b/p".into(),
                "--part-size".into(),
                "1MiB".into(),
            ],
            "5 MiB",
        ),
        // A destination that is a file: it was "listing failed" (exit 1).
        (
            vec![tmp.path().display().to_string(), file.display().to_string()],
            "a-file is a file, not a directory: give the directory to copy into",
        ),
        // Every unit a size takes is named, K/M/G too.
        (
            vec![
                tmp.path().display().to_string(),
                "s3://b/p".into(),
                "--bandwidth".into(),
                "10XB".into(),
            ],
            r#"bad size "10XB": unknown unit "XB" (use B, K, M, G, KiB, MiB, GiB (powers of 1024), KB, MB or GB (powers of 1000), in any case; no unit: bytes)"#,
        ),
    ];
    for (args, expected) in cases {
        let mut all = vec!["copy".to_string()];
        all.extend(args);
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        let out = migrate(&refs);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{all:?}: {stderr}");
        assert!(
            stderr.contains(expected),
            "{all:?}: expected {expected:?} in {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

/// HDFS's file checksums with the WebHDFS address from HADOOP_CONF_DIR's hdfs-site.xml (real HDFS
/// of scenarios/servers/hdfs.sh), and the summary when they are turned off.
#[test]
fn hdfs_checksums_from_hadoop_conf_dir() {
    let Some(hdfs) = migrate_testkit::hdfs() else {
        return;
    };
    let Some(http) = hdfs.webhdfs_url() else {
        return;
    };
    let src = hdfs.unique_url("cli_hdfs_checksum");
    let root = src.strip_prefix(hdfs.url()).unwrap().to_string();
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("a.txt", b"hello".to_vec()),
        (
            "dir/b.bin",
            (0..4 * PART).map(|i| ((i * 13) >> 2) as u8).collect(),
        ),
    ];
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let client = hdfs_native::ClientBuilder::new()
                .with_url(hdfs.url())
                .build()
                .unwrap();
            for (rel, data) in &files {
                write_hdfs_file(&client, &format!("{root}/{rel}"), data, Some(1 << 20)).await;
            }
        });
    let tmp = tempfile::tempdir().unwrap();
    let conf = tmp.path().join("conf");
    std::fs::create_dir_all(&conf).unwrap();
    // As on a cluster: a wildcard host, which stands for the NameNode of the URL.
    let port = http.rsplit(':').next().unwrap();
    std::fs::write(
        conf.join("hdfs-site.xml"),
        format!(
            "<?xml version=\"1.0\"?>\n<configuration>\n  <property><name>dfs.namenode.http-address</name><value>0.0.0.0:{port}</value></property>\n</configuration>\n"
        ),
    )
    .unwrap();
    let run = |dst: &str, extra: &[&str]| {
        let mut args = vec![
            "copy",
            &src,
            dst,
            "--progress",
            "never",
            "--state-dir",
            tmp.path().to_str().unwrap(),
        ];
        args.extend(extra);
        Command::new(env!("CARGO_BIN_EXE_migrate"))
            .args(&args)
            .env("HADOOP_CONF_DIR", &conf)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let dst = tmp.path().join("dst");
    let s = summary(&run(dst.to_str().unwrap(), &["--output", "json"]));
    let h = &s["hdfs_checksum"];
    assert_eq!(
        (n(h, "compared"), n(h, "matched"), n(h, "not_available")),
        (2, 2, 0),
        "{s}"
    );
    // 20 MiB in 1 MiB blocks: the default 16 MiB parts are a multiple of the block size.
    assert_eq!(n(&s, "parts_sent"), 2, "{s}");
    for (rel, data) in &files {
        assert_eq!(&std::fs::read(dst.join(rel)).unwrap(), data, "{rel}");
    }

    let out = run(
        tmp.path().join("dst2").to_str().unwrap(),
        &["--no-hdfs-checksum"],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("HDFS checksum: 0 compared, 0 matched, 0 mismatched; not available for 2")
            && text.contains("not available (2 files): turned off (--no-hdfs-checksum)"),
        "{text}"
    );
    // The log's warning is counted in the text summary, and listed in the JSON one.
    assert!(text.contains("1 warning(s) in the log"), "{text}");
    let s = summary(&run(
        tmp.path().join("dst3").to_str().unwrap(),
        &["--no-hdfs-checksum", "--output", "json"],
    ));
    assert_eq!(
        s["warnings"],
        serde_json::json!([
            "HDFS file checksums are not available (reason=turned off (--no-hdfs-checksum))"
        ]),
        "{s}"
    );
}

/// Two runs of the same copy at once: the second stops at once (exit 2), naming the journal and
/// saying that another run holds it; before, both copied the same files into the same journal.
/// The lock goes with the process that held it, even a SIGKILLed one: the next run takes it.
#[test]
fn a_second_run_of_the_same_copy_stops_at_once() {
    let Some(s3) = migrate_testkit::s3() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("big"), vec![7u8; 4 * PART as usize]).unwrap();
    std::fs::write(src.join("small"), "small").unwrap();
    let dst = s3.unique_url("copy_lock");
    let state = tmp.path().join("state");
    let base = [
        "copy",
        src.to_str().unwrap(),
        &dst,
        "--part-size",
        "5MiB",
        "--state-dir",
        state.to_str().unwrap(),
        "--output",
        "json",
        "--progress",
        "never",
    ];
    // 20 MiB at 5 MiB/s: about four seconds.
    let mut args = base.to_vec();
    args.extend(["--bandwidth", "5MiB"]);
    let mut first = spawn_quiet(&args);
    let files_in_state = || -> Vec<String> {
        std::fs::read_dir(&state)
            .map(|d| {
                d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    // The first run is under way once its journal has the big file's upload.
    let deadline = Instant::now() + Duration::from_secs(30);
    let journal = loop {
        let found = files_in_state()
            .into_iter()
            .find(|n| n.ends_with(".journal"))
            .map(|n| state.join(n))
            .filter(|j| std::fs::read_to_string(j).is_ok_and(|t| t.contains("\"t\":\"upload\"")));
        if let Some(j) = found {
            break j;
        }
        assert!(Instant::now() < deadline, "the first run made no progress");
        assert!(first.try_wait().unwrap().is_none(), "the first run ended");
        std::thread::sleep(Duration::from_millis(20));
    };

    let started = Instant::now();
    let second = migrate(&base);
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(2), "{second:?}");
    assert!(
        stderr.contains(&format!(
            "journal {} is in use by another run of this copy",
            journal.display()
        )),
        "{stderr}"
    );
    assert!(started.elapsed() < Duration::from_secs(10), "not at once");
    assert!(first.try_wait().unwrap().is_none(), "the first run goes on");
    let lock = format!("{}.lock", journal.display());
    assert!(std::path::Path::new(&lock).exists());

    first.kill().unwrap(); // SIGKILL: the lock file stays, its lock does not
    first.wait().unwrap();
    assert!(std::path::Path::new(&lock).exists());
    let s = summary(&migrate(&base));
    assert_eq!(n(&s, "failed"), 0, "{s}");
    assert_eq!(
        n(&s, "copied") + n(&s, "resumed") + n(&s, "skipped_existing"),
        2,
        "{s}"
    );
    assert!(
        !state.exists(),
        "journal, lock and state directory removed: {s}"
    );
}

/// `--verify --delete` that stops at its first failure (an extra file in the destination, listed
/// first) printed `files: 0` as if the source were empty. The summary says that it stopped early
/// and that its counts are partial; with `--ignore-failures` it goes through every file.
#[test]
fn a_verify_that_stops_early_says_its_counts_are_partial() {
    let Some(s3) = migrate_testkit::s3() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let (src, extra) = (tmp.path().join("src"), tmp.path().join("extra"));
    std::fs::create_dir_all(&src).unwrap();
    std::fs::create_dir_all(&extra).unwrap();
    for i in 1..=5 {
        std::fs::write(src.join(format!("f{i}")), format!("{i}")).unwrap();
    }
    std::fs::write(extra.join("0-extra"), "not in the source").unwrap();
    let dst = s3.unique_url("copy_partial");
    let state = tmp.path().join("state");
    let copy = |from: &std::path::Path, extra: &[&str]| {
        copy_run(from.to_str().unwrap(), &dst, &state, extra)
    };
    summary(&copy(&src, &["--output", "json"]));
    summary(&copy(&extra, &["--output", "json"]));

    let out = copy(&src, &["--verify", "--delete", "--output", "json"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["stopped_early"], true, "{v}");
    assert!(n(&v, "files") < 5, "{v}");
    assert_eq!(v["failures"][0]["error"], "not in the source", "{v}");
    let out = copy(&src, &["--verify", "--delete"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("STOPPED EARLY") && text.contains("in the source (partial)"),
        "{text}"
    );

    let out = copy(
        &src,
        &[
            "--verify",
            "--delete",
            "--ignore-failures",
            "--output",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["stopped_early"], false, "{v}");
    assert_eq!(
        (n(&v, "files"), n(&v, "skipped_unchanged"), n(&v, "failed")),
        (5, 5, 1),
        "{v}"
    );
    let out = copy(&src, &["--verify", "--delete", "--ignore-failures"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !text.contains("STOPPED EARLY") && !text.contains("(partial)"),
        "{text}"
    );
}

/// `migrate copy --dry-run | head`: when the reader of the plan stops reading, the dry run ends
/// quietly with SIGPIPE's status (141), as Unix tools do, instead of a panic.
#[test]
fn a_dry_run_whose_reader_stops_reading_ends_quietly() {
    use std::io::BufRead;
    let tmp = tempfile::tempdir().unwrap();
    let source = tmp.path().join("src");
    std::fs::create_dir(&source).unwrap();
    // More plan lines than a pipe buffers, so that the writer meets the closed pipe.
    for i in 0..5000 {
        std::fs::write(source.join(format!("file-{i:05}")), b"x").unwrap();
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_migrate"))
        .args(["copy", "--dry-run", "--progress", "never"])
        .arg(&source)
        .arg(tmp.path().join("dst"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert_eq!(first, "would copy file-00000 (1 bytes)\n");
    // The reader is dropped: the pipe is closed.
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(141), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}

/// The bucket, the key prefix of an `s3://bucket/prefix` URL, and a runtime to ask the server.
fn s3_parts(
    url: &str,
) -> (
    object_store::aws::AmazonS3Builder,
    String,
    tokio::runtime::Runtime,
) {
    let (bucket, prefix) = url.strip_prefix("s3://").unwrap().split_once('/').unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    (
        migrate_stage::s3_builder(bucket, None, true),
        prefix.to_string(),
        runtime,
    )
}

/// Whether the directory marker `dir/` (an empty object whose key is the directory's followed by
/// `/`) is under `url`: the delimited listing of the directory holds it as its own path.
fn has_marker(url: &str, dir: &str) -> bool {
    use object_store::ObjectStore;
    let (builder, prefix, runtime) = s3_parts(url);
    let store = builder.build().unwrap();
    let path = object_store::path::Path::parse(format!("{prefix}/{dir}")).unwrap();
    let listed = runtime
        .block_on(store.list_with_delimiter(Some(&path)))
        .unwrap();
    listed
        .objects
        .iter()
        .any(|o| o.location == path && o.size == 0)
}

/// Deletes the directory marker `dir/` under `url` (object_store's paths can't name it).
fn delete_marker(url: &str, dir: &str) {
    let (builder, prefix, runtime) = s3_parts(url);
    let store = std::sync::Arc::new(builder.clone().build().unwrap());
    let w = migrate_copy::s3crc::ChecksumWriter::new(&builder, store)
        .unwrap()
        .unwrap();
    runtime
        .block_on(w.delete_marker(&format!("{prefix}/{dir}/"), dir))
        .unwrap();
}

/// Empty directories of a local source are written to S3 as directory markers (the empty `dir/`
/// objects S3A's `mkdirs` writes, which the S3 source reads back as directories), so a round trip
/// local -> S3 -> local keeps them, nested ones too; a rerun writes none again, and `--verify`
/// reports a marker that is gone as missing. Before, they were counted (`empty dirs 3`) and
/// nothing was written: the way back lost them.
#[test]
fn empty_directories_survive_a_round_trip_through_s3() {
    let Some(s3) = migrate_testkit::s3() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let (src, back) = (tmp.path().join("src"), tmp.path().join("back"));
    let empty = ["emptydir", "d/inner_empty", "deep/er/est"];
    for dir in empty {
        std::fs::create_dir_all(src.join(dir)).unwrap();
    }
    std::fs::write(src.join("a.txt"), "a").unwrap();
    std::fs::write(src.join("d/f.txt"), "f").unwrap();
    let dst = s3.unique_url("copy_empty_dirs");
    let state = tmp.path().join("state");
    let copy = |from: &str, to: &str, extra: &[&str]| copy_run(from, to, &state, extra);
    let src_s = src.to_str().unwrap();
    let dirs = |s: &serde_json::Value| {
        (
            n(s, "empty_dirs"),
            n(s, "empty_dirs_created"),
            n(s, "empty_dirs_existing"),
        )
    };

    let s = summary(&copy(src_s, &dst, &["--output", "json"]));
    for dir in empty {
        assert!(has_marker(&dst, dir), "{dir}/ is written: {s}");
    }
    for dir in ["d", "deep", "deep/er"] {
        assert!(!has_marker(&dst, dir), "{dir} has entries: no marker");
    }
    assert_eq!((n(&s, "failed"), n(&s, "copied")), (0, 2), "{s}");
    assert_eq!(dirs(&s), (3, 3, 0), "{s}");

    // A rerun writes nothing: the markers are there.
    let out = copy(src_s, &dst, &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        text.contains("copied:   0 files")
            && text.contains("empty dirs 3 (0 created, 3 already there)"),
        "{text}"
    );

    let s = summary(&copy(&dst, back.to_str().unwrap(), &["--output", "json"]));
    assert_eq!((n(&s, "failed"), n(&s, "copied")), (0, 2), "{s}");
    assert_eq!(dirs(&s), (3, 3, 0), "{s}");
    for dir in empty {
        let entries = std::fs::read_dir(back.join(dir)).map(|d| d.count());
        assert_eq!(entries.ok(), Some(0), "{dir} is an empty directory again");
    }
    assert_eq!(std::fs::read_to_string(back.join("d/f.txt")).unwrap(), "f");

    let s = summary(&copy(src_s, &dst, &["--verify", "--output", "json"]));
    assert_eq!(dirs(&s), (3, 0, 3), "{s}");
    delete_marker(&dst, "d/inner_empty");
    let out = copy(src_s, &dst, &["--verify", "--ignore-failures"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!("{dst}/d/inner_empty/: missing in the destination"))
            && text.contains("FAILED:   1 directory\n"),
        "{text}"
    );
}

/// A mirror to S3: `--dry-run` writes no marker; a directory empty in the source beside which the
/// destination has files needs no marker (S3A: it exists), unless `--delete` deletes those files;
/// `--delete` keeps the marker of a directory that is (empty) in the source and deletes one whose
/// directory is gone, as it deletes a file (`--verify --delete` reports it); `--filters` leave a
/// directory alone as they leave a file.
#[test]
fn a_mirror_to_s3_keeps_source_directories_and_deletes_extra_markers() {
    let Some(s3) = migrate_testkit::s3() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let (src, other) = (tmp.path().join("src"), tmp.path().join("other"));
    for dir in ["keep", "gone", "full", "skip_me"] {
        std::fs::create_dir_all(src.join(dir)).unwrap();
    }
    std::fs::write(src.join("f.txt"), "f").unwrap();
    std::fs::create_dir_all(other.join("full")).unwrap();
    std::fs::write(other.join("full/x"), "x").unwrap();
    let filters = tmp.path().join("filters.txt");
    std::fs::write(&filters, "^skip_me\n").unwrap();
    let dst = s3.unique_url("copy_mirror_dirs");
    let state = tmp.path().join("state");
    let copy = |from: &std::path::Path, extra: &[&str]| {
        let args = [&["--filters", filters.to_str().unwrap()], extra].concat();
        copy_run(from.to_str().unwrap(), &dst, &state, &args)
    };
    summary(&copy(&other, &["--output", "json"]));

    let out = copy(&src, &["--dry-run"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("would mkdir gone (0 bytes)")
            && text.contains("would mkdir keep (0 bytes)")
            && !text.contains("would mkdir full")
            && !text.contains("skip_me")
            && text.contains("empty dirs 3 (2 to create, 1 already there)"),
        "{text}"
    );
    assert!(!has_marker(&dst, "keep"), "a dry run writes nothing");

    let s = summary(&copy(&src, &["--output", "json"]));
    assert_eq!(
        (
            n(&s, "failed"),
            n(&s, "empty_dirs"),
            n(&s, "empty_dirs_created"),
            n(&s, "empty_dirs_existing")
        ),
        (0, 3, 2, 1),
        "{s}"
    );
    assert!(has_marker(&dst, "keep") && has_marker(&dst, "gone"));
    assert!(!has_marker(&dst, "full"), "full/x is there: no marker");
    assert!(!has_marker(&dst, "skip_me"), "filtered");

    std::fs::remove_dir(src.join("gone")).unwrap();
    let out = copy(&src, &["--verify", "--delete", "--ignore-failures"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!("{dst}/gone/: not in the source"))
            && text.contains(&format!("{dst}/full/x: not in the source")),
        "{text}"
    );

    let s = summary(&copy(&src, &["--delete", "--output", "json"]));
    assert_eq!(
        (
            n(&s, "failed"),
            n(&s, "deleted"),
            n(&s, "empty_dirs_created"),
            n(&s, "empty_dirs_existing")
        ),
        (0, 2, 1, 1),
        "full/x and the marker gone/ deleted, full/ written: {s}"
    );
    assert!(!has_marker(&dst, "gone"));
    assert!(has_marker(&dst, "keep") && has_marker(&dst, "full"));
    let s = summary(&copy(&src, &["--delete", "--verify", "--output", "json"]));
    assert_eq!(
        (n(&s, "failed"), n(&s, "empty_dirs_existing")),
        (0, 2),
        "{s}"
    );
}

/// A mirror to S3 where the destination keeps files (filtered out: `--delete` leaves them) under
/// a directory that is empty in the source: the first run writes the directory's marker, which
/// then sits beside those files; a rerun sees it there and writes nothing. Where the source no
/// longer has the directory, `--delete` deletes the marker and leaves the filtered files. Before,
/// the listing dropped a marker beside files: every rerun wrote it again (`empty_dirs_created`
/// 1), and `--delete` left it.
#[test]
fn a_marker_beside_kept_files_is_written_once() {
    let Some(s3) = migrate_testkit::s3() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let (src, other) = (tmp.path().join("src"), tmp.path().join("other"));
    std::fs::create_dir_all(src.join("d")).unwrap();
    std::fs::write(src.join("f.txt"), "f").unwrap();
    std::fs::create_dir_all(other.join("d")).unwrap();
    std::fs::write(other.join("d/keep.txt"), "k").unwrap();
    let filters = tmp.path().join("filters.txt");
    std::fs::write(&filters, "^d/keep\\.txt$\n").unwrap();
    let dst = s3.unique_url("copy_marker_beside_files");
    let state = tmp.path().join("state");
    let copy = |from: &std::path::Path, extra: &[&str]| {
        let args = [&["--output", "json"], extra].concat();
        summary(&copy_run(from.to_str().unwrap(), &dst, &state, &args))
    };
    let counts = |s: &serde_json::Value| {
        (
            n(s, "copied"),
            n(s, "deleted"),
            n(s, "empty_dirs_created"),
            n(s, "empty_dirs_existing"),
        )
    };
    copy(&other, &[]);
    let mirror = ["--delete", "--filters", filters.to_str().unwrap()];

    let s = copy(&src, &mirror);
    assert_eq!(counts(&s), (1, 0, 1, 0), "f.txt copied, d/ written: {s}");
    assert!(has_marker(&dst, "d"), "{s}");
    for _ in 0..2 {
        let s = copy(&src, &mirror);
        assert_eq!(counts(&s), (0, 0, 0, 1), "nothing written again: {s}");
        assert!(has_marker(&dst, "d"), "{s}");
    }

    std::fs::remove_dir(src.join("d")).unwrap();
    let s = copy(&src, &mirror);
    assert_eq!(counts(&s), (0, 1, 0, 0), "the marker d/ deleted: {s}");
    assert!(!has_marker(&dst, "d"), "{s}");
    assert_eq!(
        objects(&dst, tmp.path()).keys().collect::<Vec<_>>(),
        ["d/keep.txt", "f.txt"],
        "the filtered file is kept"
    );
}

/// The files under a local directory (relative path -> content); symbolic links are left out.
fn files_under(dir: &std::path::Path) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let kind = std::fs::symlink_metadata(&path).unwrap().file_type();
            if kind.is_dir() {
                todo.push(path);
            } else if kind.is_file() {
                let rel = path
                    .strip_prefix(dir)
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_string();
                files.insert(rel, std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    files
}

fn expected(files: &[(&str, &str)]) -> BTreeMap<String, String> {
    files
        .iter()
        .map(|(rel, content)| (rel.to_string(), content.to_string()))
        .collect()
}

/// A destination inside the source is left out of the source's listing, however it is spelled:
/// run twice, the copy holds the source's files once, never a copy of an earlier copy. Before,
/// `data data/backup` was refused even when `--filters` left `backup` out, and a source given as
/// a percent-encoded `file://` URL was not recognised, so each run nested one level deeper.
#[test]
fn a_destination_inside_the_source_is_not_copied_again() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("my data");
    std::fs::create_dir_all(src.join("sub")).unwrap();
    std::fs::write(src.join("a.txt"), "a").unwrap();
    std::fs::write(src.join("sub/b.txt"), "b").unwrap();
    let filters = tmp.path().join("filters.txt");
    std::fs::write(&filters, "^archive(/|$)\n").unwrap();
    let state = tmp.path().join("state");
    let file_url = format!("file://{}", src.to_str().unwrap().replace(' ', "%20"));
    let source_files = expected(&[("a.txt", "a"), ("sub/b.txt", "b")]);
    let cases: [(&str, &str, &[&str]); 3] = [
        (src.to_str().unwrap(), "backup", &[]),
        (
            src.to_str().unwrap(),
            "archive",
            &["--filters", filters.to_str().unwrap()],
        ),
        (&file_url, "encoded", &["--delete"]),
    ];
    for (from, inner, extra) in cases {
        let dst = src.join(inner);
        for run in 0..2 {
            let out = copy_run(from, dst.to_str().unwrap(), &state, extra);
            assert_eq!(
                out.status.code(),
                Some(0),
                "{from} -> {inner}, run {run}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(
                files_under(&dst),
                source_files,
                "{from} -> {inner}, run {run}"
            );
        }
        // (The next case's source is the two files again.)
        std::fs::remove_dir_all(&dst).unwrap();
    }
}

/// A destination reached through a symbolic link of the source (`data/link -> ../other`, copied
/// into `data/link/out`) is recognised where the source's walk meets it, through the link.
/// Before, the check compared resolved paths, let it through, and each run nested deeper.
#[test]
fn a_destination_under_a_link_of_the_source_is_not_copied_again() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, other) = (tmp.path().join("data"), tmp.path().join("other"));
    std::fs::create_dir_all(&src).unwrap();
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(src.join("a.txt"), "a").unwrap();
    std::fs::write(other.join("o.txt"), "o").unwrap();
    std::os::unix::fs::symlink("../other", src.join("link")).unwrap();
    let dst = src.join("link/out");
    let state = tmp.path().join("state");
    for run in 0..2 {
        let out = copy_run(src.to_str().unwrap(), dst.to_str().unwrap(), &state, &[]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "run {run}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            files_under(&other.join("out")),
            expected(&[("a.txt", "a"), ("link/o.txt", "o")]),
            "run {run}"
        );
    }
}

/// `--delete` into a directory that holds the source (`copy data/in data --delete`, or the
/// source reached through a link of the destination: `copy data/link/in data --delete`) deletes
/// what the source lacks, never the source or the link it is read through. Before, the source's
/// files (or the link) were "destination-only" and deleted, some before they were read.
#[test]
fn delete_never_deletes_a_source_inside_the_destination() {
    for through_link in [false, true] {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        std::fs::write(data.join("old.txt"), "old").unwrap();
        let (src, kept) = match through_link {
            false => (data.join("in"), "in"),
            true => {
                std::os::unix::fs::symlink("../elsewhere", data.join("link")).unwrap();
                (tmp.path().join("elsewhere/in"), "link")
            }
        };
        std::fs::create_dir_all(src.join("sub")).unwrap();
        std::fs::write(src.join("a.txt"), "a").unwrap();
        std::fs::write(src.join("sub/b.txt"), "b").unwrap();
        let from = data.join(kept).join("in");
        let from = if through_link { &from } else { &src };
        let out = copy_run(
            from.to_str().unwrap(),
            data.to_str().unwrap(),
            &tmp.path().join("state"),
            &["--delete", "--output", "json"],
        );
        let s = summary(&out);
        assert_eq!((n(&s, "copied"), n(&s, "deleted")), (2, 1), "{s}");
        assert_eq!(
            files_under(&src),
            expected(&[("a.txt", "a"), ("sub/b.txt", "b")])
        );
        assert!(data.join(kept).exists(), "{kept} is kept");
        assert_eq!(
            files_under(&data).get("a.txt").map(String::as_str),
            Some("a")
        );
        assert!(!data.join("old.txt").exists(), "{s}");
    }
}

/// Neighbours are not nested: `data` and `data2`, and `data/new/../../out2` (a `..` past a
/// directory that does not exist yet), which was refused as inside `data`.
#[test]
fn a_destination_beside_the_source_is_copied_into() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("data");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("a.txt"), "a").unwrap();
    let state = tmp.path().join("state");
    for (to, lands) in [
        (tmp.path().join("data2"), tmp.path().join("data2")),
        (src.join("new/../../out2"), tmp.path().join("out2")),
    ] {
        let out = copy_run(src.to_str().unwrap(), to.to_str().unwrap(), &state, &[]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}",
            to.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(files_under(&lands), expected(&[("a.txt", "a")]));
    }
    assert_eq!(
        files_under(&src),
        expected(&[("a.txt", "a")]),
        "source unchanged"
    );
    // Not even an empty directory on the way (`data/new` of `data/new/../../out2`).
    assert!(!src.join("new").exists(), "a directory made in the source");
}

/// A copy onto itself, however spelled (`data ./data/`, a `file://` URL, through a link), is
/// refused before it writes or deletes anything. Before, `--delete` ran and deleted the
/// source's link it was about to read through.
#[test]
fn a_copy_onto_itself_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("data");
    let other = tmp.path().join("other");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("o.txt"), "o").unwrap();
    std::fs::write(src.join("a.txt"), "a").unwrap();
    std::os::unix::fs::symlink("../other/o.txt", src.join("o.txt")).unwrap();
    std::os::unix::fs::symlink("data", tmp.path().join("alias")).unwrap();
    let state = tmp.path().join("state");
    let spellings = [
        format!("{}/./", src.display()),
        format!("file://{}", src.display()),
        tmp.path().join("alias").display().to_string(),
    ];
    for to in &spellings {
        let out = copy_run(src.to_str().unwrap(), to, &state, &["--delete"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{to}: {stderr}");
        assert!(stderr.contains("are the same place"), "{to}: {stderr}");
        assert!(src.join("o.txt").is_symlink(), "{to}: the link is kept");
        assert_eq!(files_under(&src), expected(&[("a.txt", "a")]), "{to}");
    }
}

/// S3 prefixes nest by whole segments: `s3://b/x/data/backup` is inside `s3://b/x/data`, left
/// out of its listing (run twice: no nesting; before: refused), `s3://b/x/data2` is beside it,
/// `--delete` from `backup` into `data` keeps `backup`, and `s3://b/x/data/` is the same prefix
/// (refused).
#[test]
fn s3_prefixes_nest_by_whole_segments() {
    let Some(s3) = migrate_testkit::s3() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let local = tmp.path().join("local");
    std::fs::create_dir_all(local.join("sub")).unwrap();
    std::fs::write(local.join("a.txt"), "a").unwrap();
    std::fs::write(local.join("sub/b.txt"), "b").unwrap();
    let state = tmp.path().join("state");
    let base = s3.unique_url("copy_nested_prefixes");
    let data = format!("{base}/data");
    summary(&copy_run(
        local.to_str().unwrap(),
        &data,
        &state,
        &["--output", "json"],
    ));
    let source_objects: BTreeMap<String, u64> =
        [("a.txt".to_string(), 1), ("sub/b.txt".to_string(), 1)].into();

    let backup = format!("{data}/backup");
    for run in 0..2 {
        summary(&copy_run(&data, &backup, &state, &["--output", "json"]));
        assert_eq!(objects(&backup, tmp.path()), source_objects, "run {run}");
    }
    let data_objects = objects(&data, tmp.path());
    assert_eq!(data_objects.len(), 4, "data holds its files and backup's");
    // A neighbour whose name starts with the source's is not inside it.
    let data2 = format!("{base}/data2");
    summary(&copy_run(&data, &data2, &state, &["--output", "json"]));
    assert_eq!(objects(&data2, tmp.path()), data_objects);
    // The other way round: mirroring backup into data keeps backup.
    let s = summary(&copy_run(
        &format!("{data}/backup"),
        &data,
        &state,
        &["--delete", "--output", "json"],
    ));
    assert_eq!(n(&s, "deleted"), 0, "{s}");
    assert_eq!(objects(&data, tmp.path()).len(), 4, "{s}");

    let out = copy_run(&data, &format!("{data}/"), &state, &["--delete"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("are the same place"), "{stderr}");
}
