//! HDFS's file checksum in `migrate_copy::copy`, against the real HDFS of scenarios/servers/hdfs.sh
//! (Hadoop 2.7.3, WebHDFS on, 16 MiB default blocks) and the real S3 server (SeaweedFS): the
//! value computed from the bytes read equals what HDFS reports, for files of every shape; parts are
//! aligned to blocks; every case where the comparison can't be made is counted with its reason.

mod common;
mod hdfs_files;

use common::*;
use hdfs_files::write_hdfs_file;
use migrate_copy::hdfs_checksum::{block_md5s, HdfsChecksum};
use migrate_copy::{copy, CopyOptions, CopySummary, HdfsChecksumSummary, Quiet};
use migrate_testkit::HdfsServer;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// A file to write: relative path, block size (None: the cluster's 16 MiB), bytes.
struct File {
    rel: &'static str,
    block: Option<u64>,
    data: Vec<u8>,
}

fn file(rel: &'static str, block: Option<u64>, data: Vec<u8>) -> File {
    File { rel, block, data }
}

/// HDFS and its WebHDFS URL; `None` (the test is skipped, outside CI) when either is missing.
fn hdfs_with_webhdfs() -> Option<(&'static HdfsServer, &'static str)> {
    let hdfs = migrate_testkit::hdfs()?;
    Some((hdfs, hdfs.webhdfs_url()?))
}

/// Writes the files under the absolute HDFS directory of `url` with hdfs-native.
fn write_files(hdfs_url: &str, url: &str, files: &[File]) {
    runtime().block_on(async {
        let client = hdfs_native::ClientBuilder::new()
            .with_url(hdfs_url)
            .build()
            .unwrap();
        let root = url.strip_prefix(hdfs_url).unwrap();
        for f in files {
            write_hdfs_file(&client, &format!("{root}/{}", f.rel), &f.data, f.block).await;
        }
    });
}

/// Path segments as WebHDFS takes them: everything but RFC 3986's unreserved characters escaped.
const UNRESERVED_ONLY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// WebHDFS `GETFILECHECKSUM` of the file `rel` under the directory of `url`, parsed.
fn webhdfs_checksum(http: &str, hdfs_url: &str, url: &str, rel: &str) -> HdfsChecksum {
    let path = format!("{}/{rel}", url.strip_prefix(hdfs_url).unwrap());
    let encoded: String = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| format!("/{}", utf8_percent_encode(s, UNRESERVED_ONLY)))
        .collect();
    let body = runtime().block_on(async {
        let resp = reqwest::get(format!(
            "{http}/webhdfs/v1{encoded}?op=GETFILECHECKSUM&user.name=migrate"
        ))
        .await
        .unwrap();
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        resp.bytes().await.unwrap()
    });
    HdfsChecksum::from_webhdfs(&body).unwrap()
}

fn options(src: &str, dst: &str, state: &Path, http: &str) -> CopyOptions {
    let mut o = common::options(src, dst, state);
    o.hdfs_http = vec![http.to_string()];
    o
}

fn hdfs_summary(s: &CopySummary) -> HdfsChecksumSummary {
    s.hdfs_checksum
        .clone()
        .expect("HDFS source: summary has hdfs_checksum")
}

#[test]
fn computed_checksums_equal_hdfs_for_every_shape_and_copies_compare_them() {
    let Some((hdfs, http)) = hdfs_with_webhdfs() else {
        return;
    };
    let Some(s3) = migrate_testkit::s3() else {
        return;
    };
    let src = hdfs.unique_url("hdfs_checksum_shapes");
    let files = vec![
        file("empty", None, Vec::new()),
        file("tiny.txt", None, bytes(1, 1000)),
        file("ünï/cödé ✓.bin", None, bytes(2, 300_000)),
        // Exactly one block, ending on its boundary.
        file("exact-block", Some(MIB as u64), bytes(3, MIB)),
        // 1.5 MiB blocks: three blocks, the last partial, in one whole-file PUT.
        file("odd-blocks", Some(3 * MIB as u64 / 2), bytes(4, 4 * MIB)),
        // 12 blocks of 1 MiB (the MD5 buffer pads 192 bytes to 256), in three 5 MiB parts.
        file(
            "parts/small-blocks",
            Some(MIB as u64),
            bytes(5, 11 * MIB + 513),
        ),
        // Two 16 MiB blocks, the second 1 byte: parts raised from 5 MiB to 16 MiB.
        file("parts/two-blocks", None, bytes(6, 16 * MIB + 1)),
    ];
    write_files(hdfs.url(), &src, &files);

    // The arithmetic, end to end: HDFS's own answer equals the value computed from the bytes.
    for f in &files {
        let reported = webhdfs_checksum(http, hdfs.url(), &src, f.rel);
        let block = f.block.unwrap_or(16 * MIB as u64);
        let blocks = if f.data.is_empty() {
            Vec::new()
        } else {
            block_md5s(&f.data, block, reported.crc, reported.bytes_per_crc)
        };
        let computed = HdfsChecksum::compute(
            reported.crc,
            reported.bytes_per_crc,
            block,
            f.data.len() as u64,
            &blocks,
        );
        assert_eq!(
            computed, reported,
            "{}: computed {computed}, HDFS says {reported}",
            f.rel
        );
    }

    // The copy compares every file and aligns parts to blocks.
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let dst = s3.unique_url("hdfs_checksum_shapes");
    let s = run(options(&src, &dst, &state, http));
    assert_eq!((s.failed, s.copied), (0, 7), "{:?}", s.failures);
    assert_eq!(
        hdfs_summary(&s),
        HdfsChecksumSummary {
            compared: 7,
            matched: 7,
            ..Default::default()
        }
    );
    assert_eq!(
        s.parts_sent,
        3 + 2,
        "small-blocks in 5 MiB parts, two-blocks in 16 MiB parts"
    );
    let back = tmp.path().join("back");
    run(options(&dst, back.to_str().unwrap(), &state, http));
    let expected: BTreeMap<String, Vec<u8>> = files
        .iter()
        .map(|f| (f.rel.to_string(), f.data.clone()))
        .collect();
    assert_eq!(read_tree(&back), expected);

    // A local destination compares the same way.
    let local = tmp.path().join("local");
    let s = run(options(&src, local.to_str().unwrap(), &state, http));
    assert_eq!(
        (s.failed, hdfs_summary(&s).matched),
        (0, 7),
        "{:?}",
        s.failures
    );
    assert_eq!(read_tree(&local), expected);
}

#[test]
fn resumed_uploads_still_compare_from_journaled_block_md5s() {
    let Some((hdfs, http)) = hdfs_with_webhdfs() else {
        return;
    };
    let Some(s3) = migrate_testkit::s3() else {
        return;
    };
    let src = hdfs.unique_url("hdfs_checksum_resume");
    let data = bytes(7, 15 * MIB + 17);
    write_files(
        hdfs.url(),
        &src,
        &[file("big", Some(MIB as u64), data.clone())],
    );
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let dst = s3.unique_url("hdfs_checksum_resume");
    // One worker at 4 MiB/s: the first parts are sent and journaled, then the copy is cut off
    // (its runtime dropped, as a kill would).
    let mut o = options(&src, &dst, &state, http);
    o.parallel = 1;
    o.bandwidth = Some(4 * MIB as u64);
    let rt = runtime();
    let cut = rt.block_on(async {
        tokio::time::timeout(Duration::from_millis(2600), copy(o, Arc::new(Quiet))).await
    });
    assert!(cut.is_err(), "the copy should still be running: {cut:?}");
    drop(rt);
    let s = run(options(&src, &dst, &state, http));
    assert_eq!((s.failed, s.copied), (0, 1), "{:?}", s.failures);
    assert!(s.parts_resumed >= 1, "{s:?}");
    assert_eq!(s.parts_resumed + s.parts_sent, 4, "{s:?}");
    assert_eq!(
        hdfs_summary(&s),
        HdfsChecksumSummary {
            compared: 1,
            matched: 1,
            ..Default::default()
        }
    );
    let back = tmp.path().join("back");
    run(options(&dst, back.to_str().unwrap(), &state, http));
    assert_eq!(std::fs::read(back.join("big")).unwrap(), data);
}

#[test]
fn forced_part_size_that_splits_blocks_is_reported_not_comparable() {
    let Some((hdfs, http)) = hdfs_with_webhdfs() else {
        return;
    };
    let Some(s3) = migrate_testkit::s3() else {
        return;
    };
    let src = hdfs.unique_url("hdfs_checksum_forced");
    let block = 3 * MIB as u64;
    write_files(
        hdfs.url(),
        &src,
        &[
            file("big", Some(block), bytes(8, 12 * MIB + 5)),
            file("small", Some(block), bytes(9, 4 * MIB)),
        ],
    );
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");

    // --part-size 5MiB: parts cut 3 MiB blocks; the big file is verified by S3 MD5s only.
    let mut o = options(&src, &s3.unique_url("hdfs_checksum_forced"), &state, http);
    o.part_size_fixed = true;
    let s = run(o);
    assert_eq!(
        (s.failed, s.copied, s.parts_sent),
        (0, 2, 3),
        "{:?}",
        s.failures
    );
    let h = hdfs_summary(&s);
    assert_eq!((h.compared, h.matched, h.not_available), (1, 1, 1), "{h:?}");
    assert_eq!(
        h.not_available_reasons
            .get("not comparable: --part-size is not a multiple of the file's block size"),
        Some(&1),
        "{h:?}"
    );

    // --part-size 6MiB divides the blocks: both compared.
    let mut o = options(&src, &s3.unique_url("hdfs_checksum_forced6"), &state, http);
    o.part_size = 6 * MIB as u64;
    o.part_size_fixed = true;
    let s = run(o);
    assert_eq!((s.failed, s.parts_sent), (0, 3), "{:?}", s.failures);
    assert_eq!(hdfs_summary(&s).matched, 2, "{s:?}");
}

#[test]
fn concatenated_file_with_unequal_blocks_is_not_comparable_not_a_mismatch() {
    let Some((hdfs, http)) = hdfs_with_webhdfs() else {
        return;
    };
    let src = hdfs.unique_url("hdfs_checksum_concat");
    let (a, b) = (bytes(10, 1000), bytes(11, 3000));
    write_files(
        hdfs.url(),
        &src,
        &[
            file("joined", None, a.clone()),
            file("tail", None, b.clone()),
        ],
    );
    // HDFS concat: `joined` gets the block of `tail`; its blocks are 1,000 and 3,000 bytes.
    let root = src.strip_prefix(hdfs.url()).unwrap();
    runtime().block_on(async {
        let resp = reqwest::Client::new()
            .post(format!(
                "{http}/webhdfs/v1{root}/joined?op=CONCAT&sources={root}/tail&user.name=migrate"
            ))
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "{}", resp.status());
    });
    let tmp = tempfile::tempdir().unwrap();
    let dst = tmp.path().join("dst");
    let s = run(options(
        &src,
        dst.to_str().unwrap(),
        &tmp.path().join("state"),
        http,
    ));
    assert_eq!((s.failed, s.copied), (0, 1), "{:?}", s.failures);
    let h = hdfs_summary(&s);
    assert_eq!((h.compared, h.not_available), (0, 1), "{h:?}");
    assert!(
        h.not_available_reasons
            .keys()
            .any(|r| r.contains("blocks of unequal sizes")),
        "{h:?}"
    );
    assert_eq!(std::fs::read(dst.join("joined")).unwrap(), [a, b].concat());
}

#[test]
fn unavailable_checksums_are_counted_with_their_reason() {
    let Some(hdfs) = migrate_testkit::hdfs() else {
        return;
    };
    let Some(s3) = migrate_testkit::s3() else {
        return;
    };
    let src = hdfs.unique_url("hdfs_checksum_unavailable");
    write_files(
        hdfs.url(),
        &src,
        &[
            file("a", None, bytes(12, 100)),
            file("b", Some(MIB as u64), bytes(13, 6 * MIB)),
        ],
    );
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    type Set = Box<dyn Fn(&mut CopyOptions)>;
    let cases: Vec<(&str, Set)> = vec![
        // Nothing answers on this port.
        (
            "does not answer",
            Box::new(|o| o.hdfs_http = vec!["http://127.0.0.1:9".into()]),
        ),
        // An HTTP server that is not WebHDFS (the S3 server): as a NameNode with WebHDFS off.
        ("answered HTTP", {
            let endpoint = s3.endpoint().to_string();
            Box::new(move |o| o.hdfs_http = vec![endpoint.clone()])
        }),
        ("turned off", Box::new(|o| o.hdfs_checksum = false)),
        (
            "not an http(s)://host:port URL",
            Box::new(|o| o.hdfs_http = vec!["namenode:9870".into()]),
        ),
    ];
    for (i, (reason, set)) in cases.iter().enumerate() {
        let dst = tmp.path().join(format!("dst{i}"));
        let mut o = options(&src, dst.to_str().unwrap(), &state, "");
        set(&mut o);
        let s = run(o);
        assert_eq!((s.failed, s.copied), (0, 2), "{reason}: {:?}", s.failures);
        // Not aligned to blocks when nothing is compared: 6 MiB in 5 MiB parts.
        assert_eq!(s.parts_sent, 2, "{reason}");
        let h = hdfs_summary(&s);
        assert_eq!((h.compared, h.not_available), (0, 2), "{reason}: {h:?}");
        assert_eq!(h.not_available_reasons.len(), 1, "{h:?}");
        let (text, n) = h.not_available_reasons.iter().next().unwrap();
        assert!(text.contains(reason) && *n == 2, "{reason}: {h:?}");
    }
    // Neither --hdfs-http nor HADOOP_CONF_DIR (the CLI tests cover HADOOP_CONF_DIR).
    if std::env::var_os("HADOOP_CONF_DIR").is_none() {
        let mut o = options(
            &src,
            tmp.path().join("dst-none").to_str().unwrap(),
            &state,
            "",
        );
        o.hdfs_http.clear();
        let h = hdfs_summary(&run(o));
        assert_eq!(h.not_available, 2, "{h:?}");
        assert!(
            h.not_available_reasons
                .keys()
                .all(|r| r.contains("give --hdfs-http")),
            "{h:?}"
        );
    }
}

/// Files written by Hadoop's own client with other CRC settings (CRC32, 1 KiB and 2 KiB chunks):
/// the value computed from the bytes equals what `hdfs dfs -checksum` prints, and the copy
/// compares them.
#[test]
fn crc32_and_other_chunk_sizes_written_by_hadoop_match_hdfs_dfs_checksum() {
    let Some((hdfs, http)) = hdfs_with_webhdfs() else {
        return;
    };
    let src = hdfs.unique_url("hdfs_checksum_crc32");
    let tmp = tempfile::tempdir().unwrap();
    let data = bytes(14, 3 * MIB + 1234);
    let local = tmp.path().join("data.bin");
    std::fs::write(&local, &data).unwrap();
    let local = local.to_str().unwrap();
    hdfs.fs(&["-mkdir", "-p", &src]).unwrap();
    let cases = [
        ("crc32-512", "CRC32", "512"),
        ("crc32-1024", "CRC32", "1024"),
        ("crc32c-2048", "CRC32C", "2048"),
    ];
    for (name, crc, bpc) in cases {
        hdfs.fs(&[
            &format!("-Ddfs.checksum.type={crc}"),
            &format!("-Ddfs.bytes-per-checksum={bpc}"),
            "-Ddfs.blocksize=1048576",
            "-put",
            local,
            &format!("{src}/{name}"),
        ])
        .unwrap();
    }
    let printed = hdfs.fs(&["-checksum", &format!("{src}/*")]).unwrap();
    for (name, crc, bpc) in cases {
        let kind = if crc == "CRC32" {
            migrate_copy::hdfs_checksum::CrcKind::Crc32
        } else {
            migrate_copy::hdfs_checksum::CrcKind::Crc32c
        };
        let bpc: u32 = bpc.parse().unwrap();
        let blocks = block_md5s(&data, MIB as u64, kind, bpc);
        let computed = HdfsChecksum::compute(kind, bpc, MIB as u64, data.len() as u64, &blocks);
        // `hdfs dfs -checksum` prints PATH<TAB>ALGORITHM<TAB>HEX.
        let line = printed
            .lines()
            .find(|l| {
                l.split('\t')
                    .next()
                    .is_some_and(|p| p.ends_with(&format!("/{name}")))
            })
            .unwrap_or_else(|| panic!("{name} not in:\n{printed}"));
        assert_eq!(
            line.split_once('\t').unwrap().1.replace('\t', " "),
            computed.to_string(),
            "{name}"
        );
    }
    let s = run(options(
        &src,
        tmp.path().join("dst").to_str().unwrap(),
        &tmp.path().join("state"),
        http,
    ));
    assert_eq!((s.failed, s.copied), (0, 3), "{:?}", s.failures);
    assert_eq!(
        hdfs_summary(&s),
        HdfsChecksumSummary {
            compared: 3,
            matched: 3,
            ..Default::default()
        }
    );
}

/// Files open for write (a running job's output, kept open by the test's own writers) are not
/// copied as if complete: each fails as being written, with and without HDFS's checksum, and
/// copies once its writer has closed it. Of one whose bytes are all in its unfinished first
/// block, HDFS lists 0 bytes: it was copied as an empty file, "verified"; one whose writer
/// synced failed as "changed during the copy"; of a bigger one the finished blocks were copied
/// (a multipart upload completed, the last block missing); with the checksum, they failed as
/// "HDFS file checksum mismatch", which reads like corruption.
#[test]
fn files_open_for_write_fail_as_being_written() {
    let Some((hdfs, http)) = hdfs_with_webhdfs() else {
        return;
    };
    let Some(s3) = migrate_testkit::s3() else {
        return;
    };
    let src = hdfs.unique_url("hdfs_open_for_write");
    let root = src.strip_prefix(hdfs.url()).unwrap().to_string();
    let client = hdfs_native::ClientBuilder::new()
        .with_url(hdfs.url())
        .build()
        .unwrap();
    let open = [
        ("open.log", None, bytes(71, 300_000), false),
        ("synced.log", None, bytes(72, 200_000), true),
        // 1 MiB blocks: twelve are finished, the last is being written.
        (
            "open-big.bin",
            Some(MIB as u64),
            bytes(73, 12 * MIB + 500_000),
            false,
        ),
    ];
    // The writers' tasks run on this runtime until they are closed.
    let writing = runtime();
    let mut writers = writing.block_on(async {
        write_hdfs_file(&client, &format!("{root}/closed.txt"), b"closed", None).await;
        let mut writers = Vec::new();
        for (rel, block, data, sync) in &open {
            let mut options = hdfs_native::WriteOptions::default();
            if let Some(block) = block {
                options = options.block_size(*block);
            }
            let mut w = client
                .create(&format!("{root}/{rel}"), options)
                .await
                .unwrap();
            w.write_bytes(bytes::Bytes::from(data.clone()))
                .await
                .unwrap();
            if *sync {
                w.hsync().await.unwrap();
            }
            writers.push(w);
        }
        writers
    });
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let failed_as_being_written = |s: &CopySummary| {
        assert_eq!((s.failed, s.copied), (3, 1), "{s:?}");
        for f in &s.failures {
            assert!(
                f.error.contains("is open for write (being written)")
                    && f.error
                        .contains("copy it again once the writer has closed it"),
                "{f:?}"
            );
        }
        let mut failed: Vec<&str> = s.failures.iter().map(|f| f.path.as_str()).collect();
        failed.sort();
        let expected: Vec<String> = ["open-big.bin", "open.log", "synced.log"]
            .iter()
            .map(|rel| format!("{src}/{rel}"))
            .collect();
        assert_eq!(failed, expected, "{s:?}");
    };

    // Without HDFS's checksum (turned off, Kerberos, COMPOSITE_CRC clusters).
    let dst = s3.unique_url("copy_open_for_write");
    let mut o = options(&src, &dst, &state, http);
    o.hdfs_checksum = false;
    o.ignore_failures = true;
    let s = run(o);
    failed_as_being_written(&s);
    let stored: Vec<String> = copied_objects(&dst);
    assert_eq!(stored, ["closed.txt"], "nothing short is stored: {s:?}");

    // With it: the same failure, not a checksum mismatch.
    let dst = s3.unique_url("copy_open_for_write_checksum");
    let mut o = options(&src, &dst, &state, http);
    o.ignore_failures = true;
    let s = run(o.clone());
    failed_as_being_written(&s);
    assert_eq!(hdfs_summary(&s).mismatched, 0, "{s:?}");
    assert_eq!(copied_objects(&dst), ["closed.txt"], "{s:?}");

    // Closed, they copy (the journal of the failed run resumes).
    writing.block_on(async {
        for w in &mut writers {
            w.close().await.unwrap();
        }
    });
    let s = run(o);
    assert_eq!((s.failed, s.copied, s.resumed), (0, 3, 1), "{s:?}");
    let back = tmp.path().join("back");
    run(common::options(&dst, back.to_str().unwrap(), &state));
    let tree = read_tree(&back);
    for (rel, _, data, _) in &open {
        assert!(tree.get(*rel) == Some(data), "{rel}");
    }
}

/// The keys under `url`, relative to it, sorted.
fn copied_objects(url: &str) -> Vec<String> {
    use futures::TryStreamExt;
    use object_store::ObjectStore;
    let (bucket, prefix) = url.strip_prefix("s3://").unwrap().split_once('/').unwrap();
    let store = migrate_stage::s3_builder(bucket, None, true)
        .build()
        .unwrap();
    let p = object_store::path::Path::parse(prefix).unwrap();
    let mut keys: Vec<String> = runtime()
        .block_on(store.list(Some(&p)).try_collect::<Vec<_>>())
        .unwrap()
        .into_iter()
        .map(|m| m.location.as_ref()[prefix.len() + 1..].to_string())
        .collect();
    keys.sort();
    keys
}
