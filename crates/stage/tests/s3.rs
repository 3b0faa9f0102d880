//! The conformance suite against a real S3-protocol server (SeaweedFS from
//! `scenarios/servers/s3.sh`, through `migrate_testkit::s3()`): signed requests, multipart uploads,
//! conditional puts. Each test gets its own prefix in the server's bucket. The stage is opened
//! exactly as in production: `s3://bucket/prefix` plus the standard AWS environment.

mod common;

use common::*;
use migrate_core::{ErrorClass, Retry};
use migrate_stage::{Format, Stage, StageError, StageOptions};

/// A stage on a fresh prefix, or `None` when there is no server (and none is required).
fn stage(hint: &str) -> Option<(String, Stage)> {
    let server = migrate_testkit::s3()?;
    let url = server.unique_url(hint);
    let stage = Stage::from_url(&url, StageOptions::default()).expect("s3 stage");
    Some((url, stage))
}

macro_rules! suite {
    ($($name:ident),* $(,)?) => {$(
        #[test]
        fn $name() {
            let Some((_, stage)) = stage(stringify!($name)) else { return };
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
    let Some((url, stage)) = stage("manifest_round_trip") else {
        return;
    };
    runtime().block_on(common::manifest_round_trip(&stage, &url));
}

fn property(format: Format) {
    let Some((_, stage)) = stage(&format!("prop_{format:?}")) else {
        return;
    };
    round_trips_any_rows(&stage, format, 12);
}

#[test]
fn parquet_round_trips_any_rows() {
    property(Format::Parquet);
}

#[test]
fn csv_round_trips_any_rows() {
    property(Format::CsvGzip);
}

/// Errors say what failed and whether to retry: a missing bucket and a wrong secret are definite,
/// a server that does not answer is transient.
#[test]
fn errors_are_classified() {
    let Some(server) = migrate_testkit::s3() else {
        return;
    };
    let rt = runtime();
    let write = |url: String, options: StageOptions| {
        rt.block_on(async move {
            let stage = Stage::from_url(&url, options).expect("stage");
            stage
                .write_chunk(
                    &key("t", 0),
                    all_types_schema(),
                    ok_stream(vec![batch(&edge_rows(), 0)]),
                    Format::Parquet,
                )
                .await
                .expect_err("must fail")
        })
    };
    let missing = migrate_testkit::unique_name("missing").replace('_', "-");
    let err = write(format!("s3://{missing}/x"), StageOptions::default());
    assert_eq!(err.retry(), Retry::Definite, "missing bucket: {err}");
    assert!(
        err.to_string().contains(&format!("s3://{missing}/x/t/")),
        "{err}"
    );

    // A closed port on loopback: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let options = StageOptions {
        endpoint: Some(format!("http://127.0.0.1:{port}")),
        allow_http: true,
        ..StageOptions::default()
    };
    let err = write(format!("s3://{}/x", server.bucket()), options);
    assert_eq!(err.retry(), Retry::Transient, "unreachable: {err}");

    let err = Stage::from_url("s3:///nobucket", StageOptions::default()).expect_err("no bucket");
    assert!(matches!(err, StageError::InvalidUrl { .. }), "{err}");
    assert_eq!(err.retry(), Retry::Definite);
}
