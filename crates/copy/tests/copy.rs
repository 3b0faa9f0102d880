//! `migrate_copy::copy` against the real S3 server (SeaweedFS, scenarios/servers/s3.sh) and a real
//! HDFS (scenarios/servers/hdfs.sh): every test copies into its own fresh prefix.

mod common;

use common::*;
use migrate_copy::s3crc::ChecksumWriter;
use migrate_copy::{copy, Existing, Observer, Quiet, Shard};
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// A tree with nesting, empty files and directories, unicode names, and files of 1, exactly 2, and
/// 2.4 parts of 5 MiB.
fn make_tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("a.txt", b"top".to_vec()),
        ("a/b/c/deep.txt", b"deep file".to_vec()),
        ("a/b/zero", Vec::new()),
        ("a/b.txt", b"sorts before a/ in S3".to_vec()),
        (
            "données/été 2024/ünïcödé ✓.csv",
            b"id,name\n1,\xc3\xa9\n".to_vec(),
        ),
        ("data/part-00000", bytes(1, 5 * MIB)),
        ("data/part-00001", bytes(2, 10 * MIB)),
        ("data/part-00002", bytes(3, 12 * MIB + 12345)),
        ("logs/2024/01/app.log", bytes(4, 70_000)),
        ("logs/2024/01/app.log.tmp", b"temporary".to_vec()),
    ];
    let mut map = BTreeMap::new();
    for (rel, data) in files {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, &data).unwrap();
        map.insert(rel.to_string(), data);
    }
    std::fs::create_dir_all(root.join("empty/dir")).unwrap();
    map
}

/// The S3 store of the test server and the key prefix of an `s3://bucket/prefix` URL.
fn store(url: &str) -> (Arc<dyn ObjectStore>, String) {
    let rest = url.strip_prefix("s3://").unwrap();
    let (bucket, prefix) = rest.split_once('/').unwrap();
    let s = migrate_stage::s3_builder(bucket, None, true)
        .build()
        .unwrap();
    (Arc::new(s), prefix.trim_matches('/').to_string())
}

/// Key (relative to the prefix) -> (size, ETag) of every object under `url`.
fn objects(url: &str) -> BTreeMap<String, (u64, String)> {
    let (s, prefix) = store(url);
    runtime().block_on(async {
        use futures::TryStreamExt;
        let p = object_store::path::Path::parse(&prefix).unwrap();
        let list: Vec<_> = s.list(Some(&p)).try_collect().await.unwrap();
        list.into_iter()
            .map(|m| {
                let rel = m.location.as_ref()[prefix.len() + 1..].to_string();
                (
                    rel,
                    (
                        m.size,
                        m.e_tag.unwrap_or_default().trim_matches('"').to_string(),
                    ),
                )
            })
            .collect()
    })
}

/// The CRC32C the server stored for `rel` under `url` (HEAD with checksum mode).
fn stored_crc32c(url: &str, rel: &str) -> Option<String> {
    let rest = url.strip_prefix("s3://").unwrap();
    let (bucket, prefix) = rest.split_once('/').unwrap();
    let builder = migrate_stage::s3_builder(bucket, None, true);
    let store = Arc::new(builder.clone().build().unwrap());
    let w = ChecksumWriter::new(&builder, store).unwrap().unwrap();
    let p = object_store::path::Path::parse(format!("{}/{rel}", prefix.trim_matches('/'))).unwrap();
    runtime().block_on(w.stored_crc32c(&p, rel)).unwrap()
}

/// The CRC32C S3 stores for `data` written in parts of `part` bytes, computed here from the
/// definition: base64 of the big-endian CRC32C; for several parts, the CRC32C of the parts'
/// checksums, then `-N`.
fn expected_crc32c(data: &[u8], part: usize) -> String {
    use base64::Engine;
    let b64 = |c: u32| base64::engine::general_purpose::STANDARD.encode(c.to_be_bytes());
    if data.len() <= part {
        return b64(crc32c::crc32c(data));
    }
    let crcs: Vec<u8> = data
        .chunks(part)
        .flat_map(|c| crc32c::crc32c(c).to_be_bytes())
        .collect();
    format!(
        "{}-{}",
        b64(crc32c::crc32c(&crcs)),
        data.len().div_ceil(part)
    )
}

fn put_object(url: &str, rel: &str, data: Vec<u8>) {
    let (s, prefix) = store(url);
    runtime().block_on(async {
        let p = object_store::path::Path::parse(format!("{prefix}/{rel}")).unwrap();
        s.put(&p, PutPayload::from(data)).await.unwrap();
    });
}

#[test]
fn tree_round_trip_through_s3_is_byte_identical() {
    let Some(s3) = migrate_testkit::s3() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    let tree = make_tree(&src);
    let dst = s3.unique_url("copy_round_trip");
    let state = tmp.path().join("state");

    let s = run(options(src.to_str().unwrap(), &dst, &state));
    assert_eq!(s.failed, 0, "{:?}", s.failures);
    assert_eq!((s.files, s.copied), (10, 10));
    assert_eq!(
        s.copied_bytes,
        tree.values().map(|v| v.len() as u64).sum::<u64>()
    );
    // 5 MiB: one PUT (not more than one part); 10 MiB: 2 parts; 12 MiB + x: 3 parts.
    assert_eq!(s.parts_sent, 5);
    assert_eq!(
        (s.empty_dirs, s.empty_dirs_created),
        (1, 1),
        "written as its directory marker"
    );
    assert_eq!(s.unverified, 0);
    // Every object verified by the CRC32C SeaweedFS stored, which is the one computed here.
    assert_eq!(
        (s.verified_crc32c, s.verified_md5_etag, s.verified_read_back),
        (10, 0, 0)
    );
    for (rel, data) in &tree {
        assert_eq!(
            stored_crc32c(&dst, rel),
            Some(expected_crc32c(data, 5 * MIB)),
            "{rel}"
        );
    }
    assert!(s.journal.is_none(), "a clean copy removes its journal");
    assert!(!state.exists(), "and its directory, left empty");

    let mut objs = objects(&dst);
    // The marker `empty/dir/` (object_store names it without its `/`).
    assert_eq!(objs.remove("empty/dir").map(|o| o.0), Some(0));
    assert_eq!(
        objs.keys().cloned().collect::<Vec<_>>(),
        tree.keys().cloned().collect::<Vec<_>>()
    );
    assert!(
        objs["data/part-00002"].1.ends_with("-3"),
        "multipart ETag: {:?}",
        objs["data/part-00002"]
    );
    assert!(!objs["data/part-00000"].1.contains('-'));
    assert_eq!(objs["a/b/zero"].0, 0);

    // Back from S3 into a local directory (the S3 source and the local destination).
    let back = tmp.path().join("back");
    let s = run(options(&dst, back.to_str().unwrap(), &state));
    assert_eq!((s.failed, s.copied), (0, 10), "{:?}", s.failures);
    assert_eq!(s.verified_read_back, 10);
    assert_eq!(read_tree(&back), tree);
    assert_eq!(
        std::fs::read_dir(back.join("empty/dir")).unwrap().count(),
        0
    );

    // Again: everything exists, nothing is sent.
    let s = run(options(src.to_str().unwrap(), &dst, &state));
    assert_eq!((s.copied, s.skipped_existing, s.copied_bytes), (0, 10, 0));
    assert_eq!((s.empty_dirs_created, s.empty_dirs_existing), (0, 1));
}

#[test]
fn local_to_local_with_parts_and_preserve() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    let tree = make_tree(&src);
    let p = src.join("data/part-00002");
    let mtime = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_600_000_000);
    std::fs::File::options()
        .write(true)
        .open(&p)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    let dst = tmp.path().join("dst");
    let mut o = options(
        &format!("file://{}", src.display()),
        dst.to_str().unwrap(),
        &tmp.path().join("state"),
    );
    o.preserve.mtime = true;
    o.preserve.permission = true;
    let s = run(o);
    assert_eq!(
        (s.failed, s.copied, s.parts_sent),
        (0, 10, 5),
        "{:?}",
        s.failures
    );
    assert_eq!(read_tree(&dst), tree);
    assert!(
        dst.join("empty/dir").is_dir(),
        "empty directories are created locally"
    );
    let got = std::fs::metadata(dst.join("data/part-00002"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(got, mtime);
    let leftovers: Vec<_> = read_tree(&dst)
        .into_keys()
        .filter(|k| k.ends_with(".tmp") && k.contains("migrate-copy"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn update_overwrite_delete_filters_and_pattern() {
    let Some(s3) = migrate_testkit::s3() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    make_tree(&src);
    let dst = s3.unique_url("copy_update");
    let state = tmp.path().join("state");
    let srcs = src.to_str().unwrap();
    run(options(srcs, &dst, &state));

    // Same size, other bytes, older mtime: --update-by-mtime misses it, --update catches it.
    std::fs::write(src.join("a.txt"), b"TOP").unwrap();
    let f = std::fs::File::options()
        .write(true)
        .open(src.join("a.txt"))
        .unwrap();
    f.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000))
        .unwrap();
    // A new size: every update mode copies it.
    std::fs::write(src.join("a/b.txt"), b"longer than before, much longer").unwrap();
    // An extra object in the destination.
    put_object(&dst, "stale/old.txt", b"old".to_vec());
    put_object(
        &dst,
        "logs/keep.tmp",
        b"filtered at the destination".to_vec(),
    );

    let mut o = options(srcs, &dst, &state);
    o.existing = Existing::UpdateByMtime;
    let s = run(o);
    assert_eq!(
        (s.copied, s.changed, s.skipped_unchanged),
        (1, 1, 9),
        "{s:?}"
    );

    let mut o = options(srcs, &dst, &state);
    o.existing = Existing::Update;
    let s = run(o);
    assert_eq!(
        (s.copied, s.changed, s.skipped_unchanged),
        (1, 1, 9),
        "{s:?}"
    );
    let back = tmp.path().join("back1");
    run(options(&dst, back.to_str().unwrap(), &state));
    assert_eq!(std::fs::read(back.join("a.txt")).unwrap(), b"TOP");

    let mut o = options(srcs, &dst, &state);
    o.existing = Existing::Overwrite;
    let s = run(o);
    assert_eq!((s.copied, s.skipped_existing), (10, 0));

    // --delete with a filter: filtered paths are neither copied nor deleted.
    let mut o = options(srcs, &dst, &state);
    o.delete = true;
    o.filters = vec![regex::Regex::new(r"\.tmp$").unwrap()];
    let s = run(o);
    assert_eq!((s.deleted, s.filtered, s.files), (1, 1, 9), "{s:?}");
    let objs = objects(&dst);
    assert!(!objs.contains_key("stale/old.txt"));
    assert!(
        objs.contains_key("logs/keep.tmp"),
        "filtered destination files are kept"
    );

    // --src-pattern picks files; the others are filtered.
    let dst2 = s3.unique_url("copy_pattern");
    let mut o = options(srcs, &dst2, &state);
    o.src_pattern = Some(regex::Regex::new(r"^data/part-0000[12]$").unwrap());
    let s = run(o);
    assert_eq!((s.copied, s.filtered), (2, 8));
    assert_eq!(
        objects(&dst2).into_keys().collect::<Vec<_>>(),
        ["data/part-00001", "data/part-00002"]
    );
}

#[test]
fn dry_run_writes_nothing() {
    let Some(s3) = migrate_testkit::s3() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    make_tree(&src);
    let dst = s3.unique_url("copy_dry_run");
    put_object(&dst, "extra", b"x".to_vec());
    let state = tmp.path().join("state");
    let manifest = tmp.path().join("manifest.jsonl");
    let mut o = options(src.to_str().unwrap(), &dst, &state);
    o.dry_run = true;
    o.delete = true;
    o.output_manifest = Some(manifest.clone());
    let s = run(o);
    assert!(s.dry_run);
    assert_eq!((s.copied, s.deleted), (10, 1), "counts what would be done");
    assert_eq!(objects(&dst).into_keys().collect::<Vec<_>>(), ["extra"]);
    assert!(!state.exists(), "no journal");
    assert!(!manifest.exists(), "no manifest");
}

#[test]
fn shards_partition_the_files() {
    let Some(s3) = migrate_testkit::s3() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    for i in 0..60 {
        let p = src.join(format!("d{}/f{i}.txt", i % 7));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, format!("{i}")).unwrap();
    }
    let dst = s3.unique_url("copy_shards");
    let state = tmp.path().join("state");
    let mut seen = BTreeMap::new();
    for i in 0..3 {
        let mut o = options(src.to_str().unwrap(), &dst, &state);
        o.shard = Shard::parse(&format!("{i}/3")).unwrap();
        o.output_manifest = Some(tmp.path().join(format!("m{i}")));
        let s = run(o);
        assert_eq!(s.files + s.other_shards, 60);
        assert!(s.copied > 5, "shard {i} got {} files", s.copied);
        for line in std::fs::read_to_string(tmp.path().join(format!("m{i}")))
            .unwrap()
            .lines()
        {
            let l: migrate_copy::ManifestLine = serde_json::from_str(line).unwrap();
            assert!(
                seen.insert(l.path.clone(), i).is_none(),
                "{} in two shards",
                l.path
            );
        }
    }
    assert_eq!(seen.len(), 60, "the union is every file");
    assert_eq!(objects(&dst).len(), 60);
    assert!(
        Shard::parse("3/3").is_err() && Shard::parse("x").is_err() && Shard::parse("0/0").is_err()
    );
}

#[test]
fn manifests_make_incremental_copies() {
    let Some(s3) = migrate_testkit::s3() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    make_tree(&src);
    let dst = s3.unique_url("copy_manifest");
    let state = tmp.path().join("state");
    let m1 = tmp.path().join("m1.jsonl");
    let mut o = options(src.to_str().unwrap(), &dst, &state);
    o.output_manifest = Some(m1.clone());
    run(o);
    assert_eq!(std::fs::read_to_string(&m1).unwrap().lines().count(), 10);

    std::fs::write(src.join("new.txt"), b"new").unwrap();
    std::fs::write(src.join("a.txt"), b"changed, longer").unwrap();
    let m2 = tmp.path().join("m2.jsonl");
    let mut o = options(src.to_str().unwrap(), &dst, &state);
    o.existing = Existing::Overwrite; // would copy everything, but the manifest says what is done
    o.previous_manifest = Some(m1);
    o.output_manifest = Some(m2.clone());
    let s = run(o);
    assert_eq!((s.copied, s.skipped_manifest), (2, 9), "{s:?}");
    assert_eq!(std::fs::read_to_string(&m2).unwrap().lines().count(), 11);

    let bad = tmp.path().join("bad.jsonl");
    std::fs::write(
        &bad,
        "{\"path\":\"x\",\"size\":1,\"mtime_ms\":0}\nnot json\n",
    )
    .unwrap();
    let mut o = options(src.to_str().unwrap(), &dst, &state);
    o.previous_manifest = Some(bad);
    let err = runtime()
        .block_on(copy(o, Arc::new(Quiet)))
        .unwrap_err()
        .to_string();
    assert!(err.contains("bad.jsonl: line 2"), "{err}");
}

/// Without CRC32C (`--no-crc32c`, as older versions wrote) objects are verified by ETag and carry
/// no checksum; an upload such a run left unfinished in the journal is restarted (not completed)
/// by a copy that sends CRC32C, so that every part of the object has its checksum; the same
/// journal is resumed by a copy without CRC32C.
#[test]
fn uploads_without_crc32c_are_restarted_with_it() {
    use object_store::multipart::MultipartStore;
    let Some(s3) = migrate_testkit::s3() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    let data = bytes(9, 12 * MIB + 7);
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("big.bin"), &data).unwrap();
    std::fs::write(src.join("small.txt"), b"small").unwrap();
    let mtime_ms = std::fs::metadata(src.join("big.bin"))
        .unwrap()
        .modified()
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let state = tmp.path().join("state");
    let srcs = src.to_str().unwrap();

    // --no-crc32c: ETag only, nothing stored.
    let plain = s3.unique_url("copy_no_crc");
    let mut o = options(srcs, &plain, &state);
    o.crc32c = false;
    let s = run(o);
    assert_eq!((s.failed, s.copied), (0, 2), "{s:?}");
    assert_eq!((s.verified_crc32c, s.verified_md5_etag), (0, 2), "{s:?}");
    assert_eq!(stored_crc32c(&plain, "big.bin"), None);
    assert_eq!(stored_crc32c(&plain, "small.txt"), None);

    // An upload started the old way (no checksum algorithm), one part sent, journaled without
    // "ck"/"c" as earlier versions wrote it.
    let old_journal = |dst: &str, journal: &Path| {
        let rest = dst.strip_prefix("s3://").unwrap();
        let (bucket, prefix) = rest.split_once('/').unwrap();
        let store = migrate_stage::s3_builder(bucket, None, true)
            .build()
            .unwrap();
        let path = object_store::path::Path::parse(format!("{prefix}/big.bin")).unwrap();
        let part = data[..5 * MIB].to_vec();
        let md5 = md5_hex(&part);
        let id = runtime().block_on(async {
            let id = store.create_multipart(&path).await.unwrap();
            let p = store
                .put_part(&path, &id, 0, PutPayload::from(part))
                .await
                .unwrap();
            assert_eq!(p.content_id.trim_matches('"'), md5);
            id
        });
        let lines = [
            serde_json::json!({"t":"upload","p":"big.bin","s":data.len(),"m":mtime_ms,"id":id,"ps":5 * MIB}),
            serde_json::json!({"t":"part","p":"big.bin","id":id,"n":0,"e":md5,"md5":md5}),
        ];
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        std::fs::write(journal, text).unwrap();
    };

    // A CRC32C copy restarts it: nothing resumed, every part sent with its checksum.
    let dst = s3.unique_url("copy_old_upload");
    let journal = tmp.path().join("old.journal");
    old_journal(&dst, &journal);
    let mut o = options(srcs, &dst, &state);
    o.journal = Some(journal.clone());
    let s = run(o);
    assert_eq!(
        (s.failed, s.copied, s.parts_resumed, s.parts_sent),
        (0, 2, 0, 3),
        "{s:?}"
    );
    assert_eq!((s.verified_crc32c, s.verified_md5_etag), (2, 0), "{s:?}");
    assert_eq!(
        stored_crc32c(&dst, "big.bin"),
        Some(expected_crc32c(&data, 5 * MIB))
    );

    // A copy without CRC32C resumes the same kind of upload.
    let dst = s3.unique_url("copy_old_upload_resumed");
    old_journal(&dst, &journal);
    let mut o = options(srcs, &dst, &state);
    o.journal = Some(journal);
    o.crc32c = false;
    let s = run(o);
    assert_eq!(
        (s.failed, s.copied, s.parts_resumed, s.parts_sent),
        (0, 2, 1, 2),
        "{s:?}"
    );
    assert_eq!((s.verified_crc32c, s.verified_md5_etag), (0, 2), "{s:?}");
    let back = tmp.path().join("back");
    run(options(&dst, back.to_str().unwrap(), &state));
    assert_eq!(std::fs::read(back.join("big.bin")).unwrap(), data);
}

fn md5_hex(data: &[u8]) -> String {
    use md5::Digest;
    md5::Md5::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn corrupted_object_is_detected_and_repaired() {
    let Some(s3) = migrate_testkit::s3() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    let tree = make_tree(&src);
    let dst = s3.unique_url("copy_corrupt");
    let state = tmp.path().join("state");
    let srcs = src.to_str().unwrap();
    run(options(srcs, &dst, &state));

    // Behind the copy's back: same size, one byte different, in a single-part and a multipart object.
    let mut small = tree["logs/2024/01/app.log"].clone();
    small[100] ^= 1;
    put_object(&dst, "logs/2024/01/app.log", small);
    let mut big = tree["data/part-00002"].clone();
    big[7 * MIB] ^= 1;
    put_object(&dst, "data/part-00002", big);

    // Verify: both reported as failures, nothing written.
    let mut o = options(srcs, &dst, &state);
    o.existing = Existing::Verify;
    o.ignore_failures = true;
    let report = tmp.path().join("failures.jsonl");
    o.failure_report = Some(report.clone());
    let s = run(o);
    assert_eq!(
        (s.failed, s.changed, s.copied, s.skipped_unchanged),
        (2, 2, 0, 8),
        "{s:?}"
    );
    let mut paths: Vec<_> = s.failures.iter().map(|f| f.path.clone()).collect();
    paths.sort();
    assert!(
        paths[0].ends_with("data/part-00002") && paths[1].ends_with("logs/2024/01/app.log"),
        "{paths:?}"
    );
    assert!(
        s.failures
            .iter()
            .all(|f| f.error.contains("checksum differs")),
        "{:?}",
        s.failures
    );
    assert_eq!(std::fs::read_to_string(&report).unwrap().lines().count(), 2);

    // --update finds and replaces them.
    let mut o = options(srcs, &dst, &state);
    o.existing = Existing::Update;
    let s = run(o);
    assert_eq!((s.failed, s.changed, s.copied), (0, 2, 2), "{s:?}");
    let back = tmp.path().join("back");
    run(options(&dst, back.to_str().unwrap(), &state));
    assert_eq!(read_tree(&back), tree);

    // And verify is clean now.
    let mut o = options(srcs, &dst, &state);
    o.existing = Existing::Verify;
    let s = run(o);
    assert_eq!((s.failed, s.skipped_unchanged), (0, 10), "{s:?}");
}

#[test]
fn bad_input_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let err = |src: &str, dst: &str| {
        runtime()
            .block_on(copy(options(src, dst, &state), Arc::new(Quiet)))
            .unwrap_err()
            .to_string()
    };
    let missing = tmp.path().join("nope");
    let e = err(missing.to_str().unwrap(), "s3://b/x");
    assert!(e.contains("does not exist") && e.contains("nope"), "{e}");
    let e = err("gs://bucket/x", tmp.path().to_str().unwrap());
    assert!(e.contains("unsupported scheme") && e.contains("gs"), "{e}");
    let e = err(tmp.path().to_str().unwrap(), "s3:///nobucket");
    assert!(
        e.contains("invalid destination") && e.contains("no bucket"),
        "{e}"
    );
    let e = err(tmp.path().to_str().unwrap(), "hdfs://nn:8020/x");
    assert!(e.contains("destinations are s3://"), "{e}");
    let file = tmp.path().join("f");
    std::fs::write(&file, b"x").unwrap();
    let e = err(file.to_str().unwrap(), "s3://b/x");
    assert!(e.contains("is a file"), "{e}");
    let mut o = options(tmp.path().to_str().unwrap(), "s3://b/x", &state);
    o.part_size = 1 << 20;
    let e = runtime()
        .block_on(copy(o, Arc::new(Quiet)))
        .unwrap_err()
        .to_string();
    assert!(e.contains("5 MiB"), "{e}");
}

#[test]
fn hdfs_tree_to_s3() {
    let Some(hdfs) = migrate_testkit::hdfs() else {
        return;
    };
    let Some(s3) = migrate_testkit::s3() else {
        return;
    };
    let src = hdfs.unique_url("copy_hdfs");
    // Written with hdfs-native: 16 MiB blocks, so the 40 MiB file spans three blocks.
    let mut tree = BTreeMap::new();
    tree.insert("a/b/small.txt".to_string(), b"hello hdfs".to_vec());
    tree.insert("a/zero".to_string(), Vec::new());
    tree.insert("ünï/cödé.bin".to_string(), bytes(5, 300_000));
    tree.insert("big/part-00000".to_string(), bytes(6, 40 * MIB + 7));
    runtime().block_on(async {
        let client = hdfs_native::ClientBuilder::new()
            .with_url(hdfs.url())
            .build()
            .unwrap();
        let root = src.strip_prefix(hdfs.url()).unwrap().to_string();
        for (rel, data) in &tree {
            let mut w = client
                .create(
                    &format!("{root}/{rel}"),
                    hdfs_native::WriteOptions::default().create_parent(true),
                )
                .await
                .unwrap();
            w.write_bytes(bytes::Bytes::from(data.clone()))
                .await
                .unwrap();
            w.close().await.unwrap();
        }
        client
            .mkdirs(&format!("{root}/empty"), 0o755, true)
            .await
            .unwrap();
    });
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let dst = s3.unique_url("copy_from_hdfs");
    let mut o = options(&src, &dst, &state);
    o.preserve = migrate_copy::Preserve {
        mtime: true,
        owner: true,
        group: true,
        permission: true,
    };
    let s = run(o);
    assert_eq!(
        (s.failed, s.copied, s.empty_dirs),
        (0, 4, 1),
        "{:?}",
        s.failures
    );
    assert_eq!(s.parts_sent, 9, "40 MiB in 5 MiB parts");
    // --preserve: HDFS owner, group, permission and mtime as object metadata.
    let (store, prefix) = store(&dst);
    let attrs = runtime().block_on(async {
        let p = object_store::path::Path::parse(format!("{prefix}/a/b/small.txt")).unwrap();
        let opts = object_store::GetOptions {
            head: true,
            ..Default::default()
        };
        store.get_opts(&p, opts).await.unwrap().attributes
    });
    let meta = |k: &'static str| {
        attrs
            .get(&object_store::Attribute::Metadata(k.into()))
            .map(|v| v.as_ref().to_string())
    };
    assert_eq!(meta("migrate-permission").as_deref(), Some("644"));
    assert!(meta("migrate-owner").is_some_and(|o| !o.is_empty()));
    assert!(meta("migrate-group").is_some_and(|g| !g.is_empty()));
    let mtime: i64 = meta("migrate-mtime").unwrap().parse().unwrap();
    assert!(mtime > 1_600_000_000_000, "{mtime}");
    let back = tmp.path().join("back");
    run(options(&dst, back.to_str().unwrap(), &state));
    assert_eq!(read_tree(&back), tree);

    // --update against HDFS: reads HDFS, compares with the S3 ETags, nothing to do.
    let mut o = options(&src, &dst, &state);
    o.existing = Existing::Update;
    let s = run(o);
    assert_eq!(
        (s.failed, s.skipped_unchanged, s.copied),
        (0, 4, 0),
        "{s:?}"
    );

    let e = runtime()
        .block_on(copy(
            options(&format!("{src}/missing"), &dst, &state),
            Arc::new(Quiet),
        ))
        .unwrap_err()
        .to_string();
    assert!(e.contains("does not exist") && e.contains("missing"), "{e}");
}

/// A local source's links are followed, except into a loop or nowhere (a failure of that path
/// only); a local destination's links are entries of their own: `--delete` removes an extra
/// link, never what it points to, and nothing is written through a linked directory.
#[test]
fn links_are_followed_in_the_source_and_never_in_the_destination() {
    use std::os::unix::fs::symlink;
    let tmp = tempfile::tempdir().unwrap();
    let (src, dst, outside) = (
        tmp.path().join("src"),
        tmp.path().join("dst"),
        tmp.path().join("outside"),
    );
    std::fs::create_dir_all(src.join("d")).unwrap();
    std::fs::create_dir_all(outside.join("sub")).unwrap();
    std::fs::create_dir_all(&dst).unwrap();
    std::fs::write(src.join("a"), b"a").unwrap();
    std::fs::write(src.join("d/f"), b"f").unwrap();
    std::fs::write(outside.join("precious"), b"keep me").unwrap();
    std::fs::write(outside.join("sub/p2"), b"keep me too").unwrap();
    symlink("../d", src.join("d/loop")).unwrap();
    symlink("/nonexistent/target", src.join("dangling")).unwrap();
    symlink(outside.join("precious"), src.join("linked-file")).unwrap();
    // The destination: an extra link to a directory outside it, and a linked directory where
    // the source has a real one.
    symlink(&outside, dst.join("extra-link")).unwrap();
    symlink(outside.join("sub"), dst.join("d")).unwrap();

    let state = tmp.path().join("state");
    let copy_with = |delete: bool| {
        let mut o = options(src.to_str().unwrap(), dst.to_str().unwrap(), &state);
        o.delete = delete;
        o.ignore_failures = true;
        // One worker: the deletes run before the copies that follow them in path order.
        o.parallel = 1;
        let s = run(o);
        let failed: BTreeMap<String, String> = s
            .failures
            .iter()
            .map(|f| {
                (
                    f.path.rsplit("/src/").next().unwrap_or("").to_string(),
                    f.error.clone(),
                )
            })
            .collect();
        (s, failed)
    };
    let untouched = || {
        assert_eq!(std::fs::read(outside.join("precious")).unwrap(), b"keep me");
        assert_eq!(
            read_tree(&outside.join("sub")).len(),
            1,
            "nothing written through d"
        );
        assert_eq!(
            std::fs::read(outside.join("sub/p2")).unwrap(),
            b"keep me too"
        );
    };

    // Without --delete, the linked directory d is in the way of d/f.
    let (s, failed) = copy_with(false);
    assert_eq!(failed.len(), 3, "{failed:?}");
    assert!(failed["d/loop"].contains("loop"), "{failed:?}");
    assert!(
        failed["dangling"].contains("/nonexistent/target"),
        "{failed:?}"
    );
    assert!(
        failed["d/f"].contains("symbolic link in the destination"),
        "{failed:?}"
    );
    assert_eq!(std::fs::read(dst.join("a")).unwrap(), b"a");
    assert_eq!(std::fs::read(dst.join("linked-file")).unwrap(), b"keep me");
    assert_eq!(s.deleted, 0);
    untouched();

    // With --delete, both links of the destination are extra entries: removed, not followed.
    let (s, failed) = copy_with(true);
    assert_eq!(s.deleted, 2, "{s:?}");
    assert_eq!(failed.keys().collect::<Vec<_>>(), ["d/loop", "dangling"]);
    assert!(std::fs::symlink_metadata(dst.join("extra-link")).is_err());
    assert_eq!(std::fs::read(dst.join("d/f")).unwrap(), b"f");
    untouched();
}

/// `--delete --ignore-failures` with a source directory that can't be read this time (a link to
/// a mount that is gone): what the destination holds under it is kept, as its listing is
/// unknown. It was deleted, the files' only copy once the source is gone.
#[test]
fn delete_keeps_what_is_under_an_unreadable_source_directory() {
    use std::os::unix::fs::symlink;
    let tmp = tempfile::tempdir().unwrap();
    let (src, dst, mount) = (
        tmp.path().join("src"),
        tmp.path().join("dst"),
        tmp.path().join("mount"),
    );
    std::fs::create_dir_all(&src).unwrap();
    std::fs::create_dir_all(&mount).unwrap();
    std::fs::write(src.join("a"), b"a").unwrap();
    std::fs::write(src.join("mnt-1"), b"sorts between mnt and mnt/x").unwrap();
    std::fs::write(mount.join("x"), b"x").unwrap();
    std::fs::write(mount.join("y"), b"y").unwrap();
    symlink(&mount, src.join("mnt")).unwrap();
    let state = tmp.path().join("state");
    let options = || {
        let mut o = options(src.to_str().unwrap(), dst.to_str().unwrap(), &state);
        o.delete = true;
        o.ignore_failures = true;
        o
    };
    let s = run(options());
    assert_eq!((s.copied, s.failed), (4, 0), "{s:?}");

    std::fs::rename(&mount, tmp.path().join("mount.off")).unwrap();
    std::fs::remove_file(src.join("mnt-1")).unwrap();
    let s = run(options());
    assert_eq!(s.failed, 1, "{s:?}");
    assert!(s.failures[0].path.ends_with("/src/mnt"), "{s:?}");
    // The file removed from the source is deleted; nothing under the unreadable directory is.
    assert_eq!(s.deleted, 1, "{s:?}");
    assert_eq!(
        read_tree(&dst).keys().collect::<Vec<_>>(),
        ["a", "mnt/x", "mnt/y"]
    );
}

/// A copy stopped mid-file (here: its future dropped, as a kill would leave it) whose temporary
/// file is then removed: the next run sends the file again from the start. It failed on every
/// run ("open ....migrate-copy.tmp: No such file or directory"), as a resumed S3 upload that a
/// lifecycle rule aborted did ("NoSuchUpload").
#[test]
fn a_resumed_upload_that_is_gone_is_sent_again() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, dst) = (tmp.path().join("src"), tmp.path().join("dst"));
    std::fs::create_dir_all(&src).unwrap();
    let data: Vec<u8> = (0..15 * MIB as u32)
        .map(|i| (i.wrapping_mul(7) >> 5) as u8)
        .collect();
    std::fs::write(src.join("big"), &data).unwrap();
    let state = tmp.path().join("state");
    let mut o = options(src.to_str().unwrap(), dst.to_str().unwrap(), &state);
    o.journal = Some(tmp.path().join("copy.journal"));
    let first = o.clone();
    let mut slow = o.clone();
    // Three parts at 5 MiB/s, one at a time: stopped after the first.
    slow.bandwidth = Some(5 * MIB as u64);
    slow.parallel = 1;
    let stopped = runtime().block_on(async {
        tokio::time::timeout(
            std::time::Duration::from_millis(1600),
            copy(slow, Arc::new(Quiet)),
        )
        .await
    });
    assert!(stopped.is_err(), "the copy finished before it was stopped");
    let journal = std::fs::read_to_string(tmp.path().join("copy.journal")).unwrap();
    assert!(journal.contains("\"t\":\"part\""), "{journal}");
    let temporary = temporary_files(&dst);
    assert_eq!(temporary.len(), 1, "{temporary:?}");
    std::fs::remove_file(&temporary[0]).unwrap();

    let s = run(first);
    assert_eq!((s.copied, s.failed), (1, 0), "{s:?}");
    assert_eq!(std::fs::read(dst.join("big")).unwrap(), data);
}

/// The copy's temporary files (`.migrate-copy-<hash>.tmp`) in a local directory.
fn temporary_files(dir: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with(".migrate-copy-") && name.ends_with(".tmp")
        })
        .collect()
}

/// A file written to while its parts are read is not completed: the copy fails it as changed
/// and leaves no file, where it used to complete a mix of old and new bytes.
#[test]
fn a_file_rewritten_during_its_copy_is_not_accepted() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, dst) = (tmp.path().join("src"), tmp.path().join("dst"));
    std::fs::create_dir_all(&src).unwrap();
    let file = src.join("big");
    std::fs::write(&file, vec![b'A'; 20 * MIB]).unwrap();
    let state = tmp.path().join("state");
    let mut o = options(src.to_str().unwrap(), dst.to_str().unwrap(), &state);
    // Four parts at 5 MiB/s, one at a time: about four seconds.
    o.bandwidth = Some(5 * MIB as u64);
    o.parallel = 1;
    let writer = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(1500));
        // Same size, new bytes: only the modification time tells.
        std::fs::write(&file, vec![b'B'; 20 * MIB]).unwrap();
    });
    let s = runtime()
        .block_on(copy(o, Arc::new(Quiet)))
        .expect("the copy runs");
    writer.join().unwrap();
    assert_eq!((s.failed, s.copied), (1, 0), "{s:?}");
    let error = &s.failures[0].error;
    assert!(
        error.contains("changed during the copy") && error.contains("20971520 bytes modified"),
        "{error}"
    );
    assert!(!dst.join("big").exists(), "no torn file is left");
}

/// S3 sources: a prefix without objects is a missing source (never an empty copy that
/// `--delete` would take for "delete everything"), an object is not a prefix, keys are taken
/// literally (`%3A` as Hive writes it), and a directory marker (`m/`) is not a file.
#[test]
fn s3_source_prefixes_are_checked_and_taken_literally() {
    let Some(s3) = migrate_testkit::s3() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let src = s3.unique_url("copy_literal");
    put_object(&src, "ts=2024-01-01 00%3A00%3A00/part-0", b"hive".to_vec());
    put_marker(&src, "m");
    put_object(&src, "m/f", b"in m".to_vec());

    let dst = tmp.path().join("dst");
    let s = run(options(&src, dst.to_str().unwrap(), &state));
    assert_eq!(s.failed, 0, "{s:?}");
    let files: Vec<String> = read_tree(&dst).into_keys().collect();
    assert_eq!(files, ["m/f", "ts=2024-01-01 00%3A00%3A00/part-0"], "{s:?}");

    // The escaped partition as the source, not decoded to `00:00:00`.
    let partition = format!("{src}/ts=2024-01-01 00%3A00%3A00");
    let one = tmp.path().join("one");
    let s = run(options(&partition, one.to_str().unwrap(), &state));
    assert_eq!(s.copied, 1, "{s:?}");

    let err = |source: &str, delete: bool| {
        let mut o = options(source, dst.to_str().unwrap(), &state);
        o.delete = delete;
        runtime()
            .block_on(copy(o, Arc::new(Quiet)))
            .unwrap_err()
            .to_string()
    };
    let e = err(&format!("{src}-typo"), true);
    assert!(e.contains("does not exist") && e.contains("-typo"), "{e}");
    let e = err(&format!("{src}/m/f"), false);
    assert!(e.contains("is an object, not a prefix"), "{e}");
    assert_eq!(read_tree(&dst).len(), 2, "the failed runs deleted nothing");
}

/// An S3 destination that can't be used (here a bucket that does not exist) stops the copy
/// before it starts, naming the destination: not a failed file named after the source, with a
/// journal left to "resume".
#[test]
fn an_unusable_s3_destination_stops_the_copy_before_it_starts() {
    let Some(_s3) = migrate_testkit::s3() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("a"), b"a").unwrap();
    let state = tmp.path().join("state");
    let error = runtime()
        .block_on(copy(
            options(
                src.to_str().unwrap(),
                "s3://migrate-no-such-bucket-for-tests/x",
                &state,
            ),
            Arc::new(Quiet),
        ))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("list s3://migrate-no-such-bucket-for-tests/x"),
        "{error}"
    );
    assert!(
        !state.exists(),
        "no journal is kept for a copy that never started"
    );
}

/// Only files that were copied are counted, with what was sent for them: a multipart file
/// rewritten while it is sent (every part went out, then it failed as changed) adds nothing to
/// `copied_bytes` or `parts_sent`. Its 20 MiB were counted beside `copied: 1` for the other file.
#[test]
fn a_file_that_fails_counts_nothing_it_sent() {
    let Some(s3) = migrate_testkit::s3() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("a-small"), b"small file").unwrap();
    let file = src.join("big");
    std::fs::write(&file, vec![b'A'; 20 * MIB]).unwrap();
    let dst = s3.unique_url("copy_counts_changed");
    let mut o = options(src.to_str().unwrap(), &dst, &tmp.path().join("state"));
    // Four parts at 5 MiB/s, one at a time: about four seconds.
    o.bandwidth = Some(5 * MIB as u64);
    o.parallel = 1;
    o.ignore_failures = true;
    let writer = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(1500));
        std::fs::write(&file, vec![b'B'; 20 * MIB]).unwrap();
    });
    let s = run(o);
    writer.join().unwrap();
    assert_eq!((s.failed, s.copied), (1, 1), "{s:?}");
    assert!(
        s.failures[0].error.contains("changed during the copy"),
        "{s:?}"
    );
    assert_eq!(
        (s.copied_bytes, s.parts_sent, s.parts_resumed),
        (10, 0, 0),
        "only the small file was copied: {s:?}"
    );
    assert_eq!(objects(&dst).into_keys().collect::<Vec<_>>(), ["a-small"]);
}

/// A resumed upload that is gone (aborted on S3 since, as a lifecycle rule does) is sent again
/// from the start: all its parts count as sent by this run, none as resumed. Its journaled parts
/// were counted as resumed, and the parts sent to the dead upload as sent, on top of the new ones.
#[test]
fn parts_of_a_resume_that_failed_are_not_counted_as_resumed() {
    use object_store::multipart::MultipartStore;
    let Some(s3) = migrate_testkit::s3() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    let data = bytes(31, 15 * MIB);
    std::fs::write(src.join("big"), &data).unwrap();
    let dst = s3.unique_url("copy_counts_resume");
    let journal = tmp.path().join("copy.journal");
    let mut o = options(src.to_str().unwrap(), &dst, &tmp.path().join("state"));
    o.journal = Some(journal.clone());
    let mut slow = o.clone();
    // Three parts at 5 MiB/s, one at a time: stopped after the first.
    slow.bandwidth = Some(5 * MIB as u64);
    slow.parallel = 1;
    let stopped = runtime().block_on(async {
        tokio::time::timeout(
            std::time::Duration::from_millis(1600),
            copy(slow, Arc::new(Quiet)),
        )
        .await
    });
    assert!(stopped.is_err(), "the copy finished before it was stopped");
    let records: Vec<serde_json::Value> = std::fs::read_to_string(&journal)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let id = records
        .iter()
        .find(|r| r["t"] == "upload")
        .and_then(|r| r["id"].as_str())
        .expect("an upload was journaled")
        .to_string();
    assert!(records.iter().any(|r| r["t"] == "part"), "{records:?}");

    // Aborted behind the copy's back.
    let (bucket, prefix) = dst.strip_prefix("s3://").unwrap().split_once('/').unwrap();
    let store = migrate_stage::s3_builder(bucket, None, true)
        .build()
        .unwrap();
    let path = object_store::path::Path::parse(format!("{prefix}/big")).unwrap();
    runtime()
        .block_on(store.abort_multipart(&path, &id))
        .unwrap();

    let s = run(o);
    assert_eq!((s.failed, s.copied), (0, 1), "{s:?}");
    assert_eq!(
        (s.parts_resumed, s.parts_sent, s.copied_bytes),
        (0, 3, 15 * MIB as u64),
        "{s:?}"
    );
    let back = tmp.path().join("back");
    run(options(
        &dst,
        back.to_str().unwrap(),
        &tmp.path().join("state"),
    ));
    assert_eq!(std::fs::read(back.join("big")).unwrap(), data);
}

/// File names up to the 255-byte limit of a file name are written to local directories, also as
/// multipart files resumed after a stop, and through S3 and back. Their temporary name
/// (`<name>.migrate-copy.tmp`) was longer than 255 bytes for names of 239 bytes and more, so
/// they failed with "File name too long".
#[test]
fn names_of_255_bytes_are_written_to_local_directories() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, dst) = (tmp.path().join("src"), tmp.path().join("dst"));
    // 255 bytes each: ASCII, two-byte characters, and in a directory.
    let small = "s".repeat(255);
    let big = format!("{}b", "é".repeat(127));
    let nested = format!("d/{}", "x".repeat(255));
    let mut tree = BTreeMap::new();
    tree.insert(small.clone(), b"small".to_vec());
    tree.insert(big.clone(), bytes(41, 12 * MIB + 3));
    tree.insert(nested, b"nested".to_vec());
    for (rel, data) in &tree {
        assert!(rel.rsplit('/').next().unwrap().len() == 255);
        let p = src.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    }
    let state = tmp.path().join("state");
    let mut o = options(src.to_str().unwrap(), dst.to_str().unwrap(), &state);
    o.journal = Some(tmp.path().join("copy.journal"));
    let mut slow = o.clone();
    // The small files first (byte order: `d/`, `s`, then `é`), then the big one's three parts at
    // 5 MiB/s, one at a time: stopped after its first part.
    slow.bandwidth = Some(5 * MIB as u64);
    slow.parallel = 1;
    let stopped = runtime().block_on(async {
        tokio::time::timeout(
            std::time::Duration::from_millis(1600),
            copy(slow, Arc::new(Quiet)),
        )
        .await
    });
    if let Ok(finished) = stopped {
        panic!("the copy finished before it was stopped: {finished:?}");
    }
    let journal = std::fs::read_to_string(tmp.path().join("copy.journal")).unwrap();
    assert!(journal.contains("\"t\":\"part\""), "{journal}");
    assert_eq!(temporary_files(&dst).len(), 1, "the big file's, to resume");

    let s = run(o);
    assert_eq!(s.failed, 0, "{s:?}");
    assert!(s.parts_resumed >= 1, "{s:?}");
    assert_eq!(s.resumed + s.copied, 3, "{s:?}");
    assert_eq!(read_tree(&dst), tree);
    assert!(temporary_files(&dst).is_empty());

    // Through S3 (keys are longer than names) and back into a local directory.
    let Some(s3) = migrate_testkit::s3() else {
        return;
    };
    let url = s3.unique_url("copy_long_names");
    let s = run(options(src.to_str().unwrap(), &url, &state));
    assert_eq!((s.failed, s.copied), (0, 3), "{s:?}");
    let back = tmp.path().join("back");
    let s = run(options(&url, back.to_str().unwrap(), &state));
    assert_eq!((s.failed, s.copied), (0, 3), "{s:?}");
    assert_eq!(read_tree(&back), tree);
}

/// `--verify` of objects another tool uploaded in parts of another size (their part size is not
/// recorded): their multipart ETags can't be computed from the source. Verify said "checksum
/// differs"; it says it could not compare them, and how to check them, and fails them (they are
/// not verified either). `--update` copies them again, after which they verify.
#[test]
fn verify_says_when_it_could_not_compare() {
    use object_store::multipart::MultipartStore;
    let Some(s3) = migrate_testkit::s3() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    let dst = s3.unique_url("copy_not_comparable");
    let (bucket, prefix) = dst.strip_prefix("s3://").unwrap().split_once('/').unwrap();
    let store = migrate_stage::s3_builder(bucket, None, true)
        .build()
        .unwrap();
    // 9 MiB in 6 MiB parts is 2 parts, as in this copy's 5 MiB parts (a different ETag for the
    // same bytes); 11 MiB in 6 MiB parts is 2 parts, 3 in 5 MiB parts.
    for (name, seed, size) in [("nine", 51, 9 * MIB), ("eleven", 52, 11 * MIB)] {
        let data = bytes(seed, size);
        std::fs::write(src.join(name), &data).unwrap();
        let path = object_store::path::Path::parse(format!("{prefix}/{name}")).unwrap();
        runtime().block_on(async {
            let id = store.create_multipart(&path).await.unwrap();
            let mut parts = Vec::new();
            for (i, chunk) in data.chunks(6 * MIB).enumerate() {
                let payload = PutPayload::from(chunk.to_vec());
                parts.push(store.put_part(&path, &id, i, payload).await.unwrap());
            }
            store.complete_multipart(&path, &id, parts).await.unwrap();
        });
    }
    std::fs::write(src.join("ok"), b"ok").unwrap();
    put_object(&dst, "ok", b"ok".to_vec());
    let etags = objects(&dst);
    assert!(etags["nine"].1.ends_with("-2") && etags["eleven"].1.ends_with("-2"));

    let state = tmp.path().join("state");
    let with = |existing: Existing| {
        let mut o = options(src.to_str().unwrap(), &dst, &state);
        o.existing = existing;
        o.ignore_failures = true;
        run(o)
    };
    let s = with(Existing::Verify);
    assert_eq!(
        (s.failed, s.not_compared, s.changed, s.skipped_unchanged),
        (2, 2, 0, 1),
        "{s:?}"
    );
    for f in &s.failures {
        assert!(
            f.error.contains("could not compare")
                && f.error.contains("does not record")
                && f.error.contains("--update")
                && !f.error.contains("differs"),
            "{f:?}"
        );
    }

    let s = with(Existing::Update);
    assert_eq!(
        (s.failed, s.copied, s.changed, s.not_compared),
        (0, 2, 2, 2),
        "{s:?}"
    );
    let s = with(Existing::Verify);
    assert_eq!(
        (s.failed, s.not_compared, s.skipped_unchanged),
        (0, 0, 3),
        "{s:?}"
    );
}

/// Local to local, names that are not valid UTF-8 (a Unix name is bytes) are copied as they are:
/// files, a directory, a multipart file in it; found by the next run, verified, and deleted by
/// `--delete` once gone from the source. They were refused ("can't be an S3 key") with no S3
/// involved. To S3 they still fail, each naming its file.
#[test]
fn local_copies_keep_names_that_are_not_utf8() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let tmp = tempfile::tempdir().unwrap();
    let (src, dst) = (tmp.path().join("src"), tmp.path().join("dst"));
    let at = |root: &Path, name: &[u8]| root.join(OsStr::from_bytes(name));
    std::fs::create_dir_all(at(&src, b"d\xff")).unwrap();
    std::fs::write(at(&src, b"caf\xe9.txt"), b"latin-1").unwrap();
    std::fs::write(at(&src, b"d\xff/f"), b"in a directory").unwrap();
    // Written in parts into a temporary file in that directory.
    std::fs::write(at(&src, b"d\xff/big\xfe"), bytes(61, 12 * MIB + 3)).unwrap();
    std::fs::write(src.join("plain.txt"), b"plain").unwrap();
    let state = tmp.path().join("state");
    let with = |existing: Existing, delete: bool| {
        let mut o = options(src.to_str().unwrap(), dst.to_str().unwrap(), &state);
        o.existing = existing;
        o.delete = delete;
        run(o)
    };

    let s = with(Existing::Skip, false);
    assert_eq!(
        (s.failed, s.copied, s.parts_sent),
        (0, 4, 3),
        "{:?}",
        s.failures
    );
    assert_eq!(tree_bytes(&dst), tree_bytes(&src));
    let s = with(Existing::Skip, false);
    assert_eq!((s.copied, s.skipped_existing), (0, 4), "{s:?}");
    let s = with(Existing::Verify, false);
    assert_eq!((s.failed, s.skipped_unchanged), (0, 4), "{s:?}");

    std::fs::remove_file(at(&src, b"caf\xe9.txt")).unwrap();
    std::fs::write(at(&dst, b"extra\xfa"), b"not in the source").unwrap();
    let s = with(Existing::Skip, true);
    assert_eq!((s.failed, s.deleted), (0, 2), "{s:?}");
    assert_eq!(tree_bytes(&dst), tree_bytes(&src));

    let Some(s3) = migrate_testkit::s3() else {
        return;
    };
    let mut o = options(
        src.to_str().unwrap(),
        &s3.unique_url("copy_not_utf8"),
        &state,
    );
    o.ignore_failures = true;
    let s = run(o);
    assert_eq!((s.failed, s.copied), (2, 1), "{s:?}");
    let mut failed: Vec<&str> = s.failures.iter().map(|f| f.path.as_str()).collect();
    failed.sort();
    assert!(
        failed[0].ends_with("/src/d\\xff/big\\xfe") && failed[1].ends_with("/src/d\\xff/f"),
        "{failed:?}"
    );
    assert!(
        s.failures
            .iter()
            .all(|f| f.error.contains("not valid UTF-8 and can't be an S3 key")),
        "{s:?}"
    );
}

/// The user metadata of the object `rel` under `url`.
fn object_metadata(url: &str, rel: &str) -> BTreeMap<String, String> {
    let (s, prefix) = store(url);
    let attrs = runtime().block_on(async {
        let p = object_store::path::Path::parse(format!("{prefix}/{rel}")).unwrap();
        let opts = object_store::GetOptions {
            head: true,
            ..Default::default()
        };
        s.get_opts(&p, opts).await.unwrap().attributes
    });
    attrs
        .iter()
        .filter_map(|(k, v)| match k {
            object_store::Attribute::Metadata(k) => Some((k.to_string(), v.to_string())),
            _ => None,
        })
        .collect()
}

/// `--preserve` from an S3 source carries the attributes a copy with `--preserve` wrote into the
/// objects (S3 -> S3 as metadata, S3 -> local onto the files), single PUTs and multipart alike.
/// They were dropped (an S3 listing has none) and the mtime became the object's Last-Modified.
#[test]
fn preserve_carries_the_attributes_migrate_wrote_from_s3_sources() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let Some(s3) = migrate_testkit::s3() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    let secs = |s: u64| std::time::UNIX_EPOCH + std::time::Duration::from_secs(s);
    // (name, size, permission, mtime): one PUT, and a multipart upload of two 5 MiB parts.
    let files = [
        ("a.txt", 100, 0o640, 1_600_000_000),
        ("big", 7 * MIB, 0o600, 1_500_000_000),
    ];
    for (name, size, mode, mtime) in files {
        let p = src.join(name);
        std::fs::write(&p, bytes(71, size)).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        let f = std::fs::File::options().write(true).open(&p).unwrap();
        f.set_modified(secs(mtime)).unwrap();
    }
    let owner = std::fs::metadata(src.join("a.txt")).unwrap();
    let state = tmp.path().join("state");
    let preserving = |from: &str, to: &str| {
        let mut o = options(from, to, &state);
        o.preserve = migrate_copy::Preserve {
            mtime: true,
            owner: true,
            group: true,
            permission: true,
        };
        let s = run(o);
        assert_eq!((s.failed, s.copied), (0, 2), "{s:?}");
    };
    let first = s3.unique_url("copy_preserve_a");
    preserving(src.to_str().unwrap(), &first);
    let second = s3.unique_url("copy_preserve_b");
    preserving(&first, &second);
    for (name, _, mode, mtime) in files {
        let meta = object_metadata(&second, name);
        assert_eq!(
            meta.get("migrate-mtime"),
            Some(&format!("{}", mtime * 1000)),
            "{name}: {meta:?}"
        );
        assert_eq!(meta.get("migrate-permission"), Some(&format!("{mode:o}")));
        assert_eq!(meta.get("migrate-owner"), Some(&owner.uid().to_string()));
        assert_eq!(meta.get("migrate-group"), Some(&owner.gid().to_string()));
    }

    let local = tmp.path().join("local");
    preserving(&second, local.to_str().unwrap());
    for (name, _, mode, mtime) in files {
        let meta = std::fs::metadata(local.join(name)).unwrap();
        assert_eq!(meta.mode() & 0o7777, mode, "{name}");
        assert_eq!(meta.modified().unwrap(), secs(mtime), "{name}");
    }
}

/// `--verify` sends nothing, so it keeps no journal: a failed verify said "journal kept for
/// resume" (there is nothing to resume), and it took and removed the journal of an interrupted
/// copy of the same source and destination.
#[test]
fn verify_keeps_no_journal() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, dst) = (tmp.path().join("src"), tmp.path().join("dst"));
    std::fs::create_dir_all(&src).unwrap();
    std::fs::create_dir_all(&dst).unwrap();
    std::fs::write(src.join("a"), b"source").unwrap();
    std::fs::write(dst.join("a"), b"target").unwrap();
    let state = tmp.path().join("state");
    let mut o = options(src.to_str().unwrap(), dst.to_str().unwrap(), &state);
    o.existing = Existing::Verify;
    o.ignore_failures = true;
    let s = run(o);
    assert_eq!((s.failed, s.changed), (1, 1), "{s:?}");
    assert_eq!(s.journal, None, "{s:?}");
    assert!(!state.exists(), "a verify wrote state: {state:?}");
}

/// What a run of the copy killed after sending the first `sent` parts (of `part` bytes) of `rel`
/// leaves: its multipart upload under `dst`, created as the copy creates it (with CRC32C part
/// checksums when `crc32c`), and the journal records of it, appended to `journal`. Returns the
/// upload id.
fn killed_run(
    dst: &str,
    rel: &str,
    data: &[u8],
    (part, sent): (usize, usize),
    (mtime_ms, crc32c): (i64, bool),
    journal: &Path,
) -> String {
    use object_store::multipart::MultipartStore;
    let (bucket, prefix) = dst.strip_prefix("s3://").unwrap().split_once('/').unwrap();
    let builder = migrate_stage::s3_builder(bucket, None, true);
    let store = Arc::new(builder.clone().build().unwrap());
    let writer = ChecksumWriter::new(&builder, Arc::clone(&store))
        .unwrap()
        .unwrap();
    let path = object_store::path::Path::parse(format!("{prefix}/{rel}")).unwrap();
    runtime().block_on(async {
        let meta = vec![("migrate-part-size", part.to_string())];
        let id = if crc32c {
            writer.create_upload(&path, rel, &meta).await.unwrap()
        } else {
            store.create_multipart(&path).await.unwrap()
        };
        let mut lines = vec![if crc32c {
            serde_json::json!({"t":"upload","p":rel,"s":data.len(),"m":mtime_ms,"id":id,"ps":part,"ck":true})
        } else {
            serde_json::json!({"t":"upload","p":rel,"s":data.len(),"m":mtime_ms,"id":id,"ps":part})
        }];
        for (n, chunk) in data.chunks(part).take(sent).enumerate() {
            let md5 = md5_hex(chunk);
            let bytes = bytes::Bytes::copy_from_slice(chunk);
            lines.push(if crc32c {
                let crc = crc32c::crc32c(chunk);
                let w = writer.put_part(&path, rel, &id, n, bytes, crc).await.unwrap();
                assert!(w.crc32c.is_some(), "the server stores CRC32Cs");
                serde_json::json!({"t":"part","p":rel,"id":id,"n":n,"e":w.etag,"md5":md5,"c":crc})
            } else {
                let p = store.put_part(&path, &id, n, PutPayload::from(bytes)).await.unwrap();
                serde_json::json!({"t":"part","p":rel,"id":id,"n":n,"e":p.content_id.trim_matches('"'),"md5":md5})
            });
        }
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        let mut f = std::fs::File::options()
            .create(true)
            .append(true)
            .open(journal)
            .unwrap();
        std::io::Write::write_all(&mut f, text.as_bytes()).unwrap();
        id
    })
}

/// Whether the multipart upload `id` of `rel` under `dst` still takes parts (an aborted one
/// answers NoSuchUpload).
fn upload_is_open(dst: &str, rel: &str, id: &str) -> bool {
    use object_store::multipart::MultipartStore;
    let (bucket, prefix) = dst.strip_prefix("s3://").unwrap().split_once('/').unwrap();
    let store = migrate_stage::s3_builder(bucket, None, true)
        .build()
        .unwrap();
    let path = object_store::path::Path::parse(format!("{prefix}/{rel}")).unwrap();
    let part = PutPayload::from(vec![0u8; 10]);
    match runtime().block_on(store.put_part(&path, &id.to_string(), 9_999, part)) {
        Ok(_) => true,
        Err(object_store::Error::NotFound { .. }) => false,
        Err(e) => panic!("upload part to {dst}/{rel}: {e}"),
    }
}

fn mtime_ms(path: &Path) -> i64 {
    std::fs::metadata(path)
        .unwrap()
        .modified()
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// A multipart upload resumed from the journal of a killed run, whose file changed meanwhile but
/// kept its size and modification time (`cp -p`, `rsync -t`): the parts the killed run sent are
/// read again and compared with what it recorded, those that differ are sent again, and the object
/// is the file as it is now, with CRC32C part checksums or without. The upload was completed from
/// the old parts and the new ones (a mix of two versions), reported as verified.
#[test]
fn a_resumed_upload_rechecks_the_parts_an_earlier_run_sent() {
    let Some(s3) = migrate_testkit::s3() else {
        return;
    };
    for crc32c in [true, false] {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("src");
        std::fs::create_dir_all(&src).unwrap();
        let file = src.join("big.bin");
        // Five parts of 5 MiB, the killed run sent the first three.
        let old = bytes(61, 23 * MIB + 7);
        std::fs::write(&file, &old).unwrap();
        let listed = std::fs::metadata(&file).unwrap().modified().unwrap();
        let dst = s3.unique_url("copy_recheck");
        let journal = tmp.path().join("copy.journal");
        killed_run(
            &dst,
            "big.bin",
            &old,
            (5 * MIB, 3),
            (mtime_ms(&file), crc32c),
            &journal,
        );
        // Parts 1 and 3 change; size and modification time stay.
        let mut new = old.clone();
        new[..100].fill(b'X');
        new[10 * MIB + 5..10 * MIB + 50].fill(b'Y');
        std::fs::write(&file, &new).unwrap();
        std::fs::File::options()
            .write(true)
            .open(&file)
            .unwrap()
            .set_modified(listed)
            .unwrap();

        let state = tmp.path().join("state");
        let mut o = options(src.to_str().unwrap(), &dst, &state);
        o.journal = Some(journal.clone());
        o.crc32c = crc32c;
        let s = run(o);
        assert_eq!((s.failed, s.copied), (0, 1), "{s:?}");
        let back = tmp.path().join("back");
        run(options(&dst, back.to_str().unwrap(), &state));
        assert!(
            std::fs::read(back.join("big.bin")).unwrap() == new,
            "the object is not the file as it is now (crc32c: {crc32c}): {s:?}"
        );
        assert_eq!(
            (
                s.parts_rechecked,
                s.parts_resent,
                s.parts_resumed,
                s.parts_sent
            ),
            (3, 2, 1, 4),
            "{s:?}"
        );
        assert_eq!(s.copied_bytes, new.len() as u64 - 5 * MIB as u64, "{s:?}");
        if crc32c {
            assert_eq!(
                stored_crc32c(&dst, "big.bin"),
                Some(expected_crc32c(&new, 5 * MIB))
            );
        }
        assert!(!journal.exists());
    }
}

/// Deletes a file when the copy plans it: after the listing, before any of it is read.
struct DeleteWhenPlanned {
    file: std::path::PathBuf,
    size: u64,
}

impl Observer for DeleteWhenPlanned {
    fn planned(&self, bytes: u64) {
        if bytes == self.size {
            std::fs::remove_file(&self.file).unwrap();
        }
    }
}

/// Aborts the upload the journal names when its first part is sent: the next parts fail.
struct AbortAfterFirstPart {
    dst: String,
    journal: std::path::PathBuf,
    done: std::sync::atomic::AtomicBool,
}

impl Observer for AbortAfterFirstPart {
    fn sent(&self, bytes: u64) {
        use object_store::multipart::MultipartStore;
        // Parts are 5 MiB; the small file is sent first.
        if bytes != 5 * MIB as u64 || self.done.swap(true, std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        let id = journal_upload(&self.journal, "big");
        let (bucket, prefix) = self
            .dst
            .strip_prefix("s3://")
            .unwrap()
            .split_once('/')
            .unwrap();
        let store = migrate_stage::s3_builder(bucket, None, true)
            .build()
            .unwrap();
        let path = object_store::path::Path::parse(format!("{prefix}/big")).unwrap();
        // On the copy's runtime, from its worker: the abort must be done before the next part.
        tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current()
                .block_on(store.abort_multipart(&path, &id))
                .unwrap()
        });
    }
}

/// The upload id the journal records for `rel` (the last one).
fn journal_upload(journal: &Path, rel: &str) -> String {
    std::fs::read_to_string(journal)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .rfind(|r| r["t"] == "upload" && r["p"] == rel)
        .and_then(|r| r["id"].as_str().map(str::to_string))
        .expect("an upload in the journal")
}

/// A multipart file that fails leaves no upload behind that nobody knows of. Deleted after it was
/// listed, its upload is aborted (no run could resume it); it stayed in the bucket, and the next
/// run forgot its id. Failed on the destination while the file stays as listed, its upload is
/// kept for a resume and the failure says so, and the next run finishes the file.
#[test]
fn a_failed_multipart_file_leaves_no_hidden_upload() {
    let Some(s3) = migrate_testkit::s3() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("a-small"), b"small").unwrap();
    let big = bytes(62, 12 * MIB + 5);
    std::fs::write(src.join("big"), &big).unwrap();
    let state = tmp.path().join("state");
    let journal = tmp.path().join("copy.journal");

    let dst = s3.unique_url("copy_deleted_upload");
    let mut o = options(src.to_str().unwrap(), &dst, &state);
    o.journal = Some(journal.clone());
    o.ignore_failures = true;
    let observer = DeleteWhenPlanned {
        file: src.join("big"),
        size: big.len() as u64,
    };
    let s = runtime()
        .block_on(copy(o.clone(), Arc::new(observer)))
        .unwrap();
    assert_eq!((s.failed, s.copied), (1, 1), "{s:?}");
    let error = &s.failures[0].error;
    assert!(error.contains("No such file"), "{error}");
    assert!(!error.contains("kept"), "{error}");
    let id = journal_upload(&journal, "big");
    assert!(
        !upload_is_open(&dst, "big", &id),
        "the upload of the deleted file is still open"
    );
    // The next run has nothing left to do.
    let s = run(o.clone());
    assert_eq!((s.failed, s.uploads_aborted), (0, 0), "{s:?}");
    assert!(!journal.exists());

    std::fs::write(src.join("big"), &big).unwrap();
    let dst = s3.unique_url("copy_kept_upload");
    let mut o = options(src.to_str().unwrap(), &dst, &state);
    o.journal = Some(journal.clone());
    o.parallel = 1;
    let observer = AbortAfterFirstPart {
        dst: dst.clone(),
        journal: journal.clone(),
        done: Default::default(),
    };
    let s = runtime()
        .block_on(copy(o.clone(), Arc::new(observer)))
        .unwrap();
    assert_eq!(s.failed, 1, "{s:?}");
    let error = &s.failures[0].error;
    assert!(
        error.contains("NoSuchUpload")
            && error.contains(
                "its multipart upload (1 of 3 parts sent) is kept: run the same command again"
            ),
        "{error}"
    );
    assert!(journal.exists(), "{s:?}");
    // The resume finds the upload gone and sends the file again.
    let s = run(o);
    assert_eq!(
        (s.failed, s.copied, s.resumed, s.parts_sent),
        (0, 1, 1, 3),
        "{s:?}"
    );
    let back = tmp.path().join("back");
    run(options(&dst, back.to_str().unwrap(), &state));
    assert!(std::fs::read(back.join("big")).unwrap() == big);
}

/// Uploads a killed run left for files that are gone from the source when the copy is resumed are
/// aborted and reported. The resume deleted the journal and forgot them: they stayed in the
/// bucket, unseen. The upload of a file that is in the destination with its size (the killed run
/// completed it, then was killed before it recorded so) is aborted too, without a report.
#[test]
fn uploads_left_for_files_no_longer_in_the_source_are_aborted() {
    let Some(s3) = migrate_testkit::s3() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("kept.txt"), b"still here").unwrap();
    let dst = s3.unique_url("copy_leftover_upload");
    let journal = tmp.path().join("copy.journal");
    let gone = bytes(63, 11 * MIB);
    let id = killed_run(&dst, "gone.bin", &gone, (5 * MIB, 1), (1, true), &journal);
    assert!(upload_is_open(&dst, "gone.bin", &id));
    let done = bytes(64, 11 * MIB);
    std::fs::write(src.join("done.bin"), &done).unwrap();
    let done_id = killed_run(&dst, "done.bin", &done, (5 * MIB, 3), (1, true), &journal);
    put_object(&dst, "done.bin", done);

    let mut o = options(src.to_str().unwrap(), &dst, &tmp.path().join("state"));
    o.journal = Some(journal.clone());
    let s = run(o);
    assert_eq!(
        (s.failed, s.copied, s.skipped_existing, s.uploads_aborted),
        (0, 1, 1, 1),
        "{s:?}"
    );
    assert!(!upload_is_open(&dst, "gone.bin", &id));
    assert!(!upload_is_open(&dst, "done.bin", &done_id));
    assert!(!journal.exists());
}

/// Puts the directory marker `dir/` under `url`: an empty object whose key ends in `/`, as the S3
/// console's "Create folder" makes (object_store's paths can't name it: signed here by hand).
fn put_marker(url: &str, dir: &str) {
    use object_store::aws::{AmazonS3ConfigKey, AwsAuthorizer};
    use object_store::client::{HttpRequest, HttpRequestBody};
    let (bucket, prefix) = url.strip_prefix("s3://").unwrap().split_once('/').unwrap();
    let builder = migrate_stage::s3_builder(bucket, None, true);
    let endpoint = builder
        .get_config_value(&AmazonS3ConfigKey::Endpoint)
        .expect("the test server's endpoint");
    let region = builder
        .get_config_value(&AmazonS3ConfigKey::Region)
        .unwrap_or_else(|| "us-east-1".into());
    let store = builder.build().unwrap();
    let target = format!(
        "{}/{bucket}/{prefix}/{dir}/",
        endpoint.trim_end_matches('/')
    );
    runtime().block_on(async {
        let credential = store.credentials().get_credential().await.unwrap();
        let mut request: HttpRequest = http::Request::put(&target)
            .body(HttpRequestBody::empty())
            .unwrap();
        AwsAuthorizer::new(&credential, "s3", &region)
            .with_sign_payload(false)
            .try_authorize(&mut request, None)
            .unwrap();
        let status = reqwest::Client::new()
            .put(&target)
            .headers(request.headers().clone())
            .send()
            .await
            .unwrap()
            .status();
        assert!(status.is_success(), "PUT {target}: {status}");
    });
}

/// S3 directory markers (the empty `dir/` objects of the S3 console's "Create folder", and of
/// S3A's `mkdirs`) are directories, as S3A and DistCp see them: one with nothing under it is an
/// empty directory (counted in `empty_dirs`, created in a local destination), one beside files is
/// nothing of its own. Empty markers were dropped: neither copied nor counted.
#[test]
fn s3_directory_markers_are_directories() {
    let Some(s3) = migrate_testkit::s3() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let src = s3.unique_url("copy_markers");
    put_marker(&src, "empty");
    put_marker(&src, "a/b");
    put_object(&src, "a/x", b"x".to_vec());
    put_marker(&src, "m");
    put_object(&src, "m/f", b"in m".to_vec());
    put_object(&src, "zero", Vec::new());

    let dst = tmp.path().join("dst");
    let s = run(options(&src, dst.to_str().unwrap(), &state));
    assert_eq!((s.failed, s.copied, s.empty_dirs), (0, 3, 2), "{s:?}");
    let files: Vec<String> = read_tree(&dst).into_keys().collect();
    assert_eq!(files, ["a/x", "m/f", "zero"]);
    for dir in ["empty", "a/b"] {
        let entries = std::fs::read_dir(dst.join(dir)).unwrap().count();
        assert_eq!(entries, 0, "{dir} is an empty directory");
    }

    let to_s3 = s3.unique_url("copy_markers_s3");
    let s = run(options(&src, &to_s3, &state));
    assert_eq!((s.failed, s.copied, s.empty_dirs), (0, 3, 2), "{s:?}");
}
