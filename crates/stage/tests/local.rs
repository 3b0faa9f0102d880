//! The conformance suite against a local directory.

mod common;

use common::*;
use migrate_stage::{Format, Stage, StageOptions};

fn stage() -> (tempfile::TempDir, Stage) {
    let dir = tempfile::tempdir().expect("tempdir");
    let stage = Stage::from_url(
        dir.path().join("stage").to_str().expect("utf-8 path"),
        StageOptions::default(),
    )
    .expect("stage");
    (dir, stage)
}

macro_rules! suite {
    ($($name:ident),* $(,)?) => {$(
        #[test]
        fn $name() {
            let (_dir, stage) = stage();
            runtime().block_on(common::$name(&stage));
        }
    )*};
}

suite!(
    edge_values_round_trip,
    empty_chunk_round_trips,
    fifty_megabyte_value,
    chunk_names_are_never_reused,
    failed_input_leaves_nothing,
    corruption_is_an_error,
    unsupported_data_is_refused,
    manifest_needs_its_objects,
    reader_never_sees_a_manifest_before_its_objects,
    wrong_batch_schema_is_refused,
    odd_table_names_work,
    an_interrupted_commit_can_be_discarded,
    a_refused_manifest_can_be_withdrawn,
);

#[test]
fn manifest_round_trip() {
    let (dir, stage) = stage();
    let root = dir.path().join("stage").canonicalize().expect("root");
    runtime().block_on(common::manifest_round_trip(
        &stage,
        root.to_str().expect("utf-8"),
    ));
}

fn property(format: Format) {
    let (_dir, stage) = stage();
    round_trips_any_rows(&stage, format, 24);
}

#[test]
fn parquet_round_trips_any_rows() {
    property(Format::Parquet);
}

#[test]
fn csv_round_trips_any_rows() {
    property(Format::CsvGzip);
}

#[test]
fn file_urls_and_missing_directories() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("file://{}/a/b", dir.path().display());
    let stage = Stage::from_url(&url, StageOptions::default()).expect("file:// stage");
    assert!(dir.path().join("a/b").is_dir());
    runtime().block_on(round_trip(
        &stage,
        "t",
        vec![batch(&edge_rows(), 0)],
        Format::Parquet,
    ));
    assert!(dir.path().join("a/b/t/000000-0.parquet").is_file());
}
