//! The client's loop logic against a tiny local HTTP responder that answers with canned Glue
//! responses: pagination (moto ignores NextToken, so it can't be tested there), retries on
//! throttling and 5xx, error codes, batch limits. Each responder serves a fixed list of answers
//! in order and records the requests it got.

use migrate_core::{ErrorClass, Retry};
use migrate_glue::{GlueClient, GlueConfig, GlueError, PartitionInput};
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// One request as received: the `X-Amz-Target` header and the JSON body.
#[derive(Debug, Clone)]
struct Seen {
    target: String,
    body: Value,
    signed: bool,
}

/// Serves `answers` (status, body) one per connection, in order; then stops.
async fn responder(answers: Vec<(u16, String)>) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        for (status, body) in answers {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            // Read the head, then as many body bytes as Content-Length says.
            let (head_end, length) = loop {
                let n = socket.read(&mut chunk).await.unwrap();
                assert!(n > 0, "client closed early");
                buf.extend_from_slice(&chunk[..n]);
                if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..i]).to_lowercase();
                    let length = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .map(|v| v.trim().parse::<usize>().unwrap())
                        .unwrap_or(0);
                    break (i + 4, length);
                }
            };
            while buf.len() < head_end + length {
                let n = socket.read(&mut chunk).await.unwrap();
                buf.extend_from_slice(&chunk[..n]);
            }
            let head = String::from_utf8_lossy(&buf[..head_end]).to_lowercase();
            let target = head
                .lines()
                .find_map(|l| l.strip_prefix("x-amz-target:"))
                .unwrap_or("")
                .trim()
                .to_string();
            let signed = head.contains("authorization: aws4-hmac-sha256 credential=akid/");
            log.lock().unwrap().push(Seen {
                target,
                body: serde_json::from_slice(&buf[head_end..head_end + length]).unwrap(),
                signed,
            });
            let reason = if status == 200 { "OK" } else { "Error" };
            let response = format!(
                "HTTP/1.1 {status} {reason}\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            socket.write_all(response.as_bytes()).await.unwrap();
            socket.shutdown().await.ok();
        }
    });
    (endpoint, seen)
}

fn client(endpoint: &str) -> GlueClient {
    GlueClient::new(GlueConfig {
        endpoint: endpoint.to_string(),
        region: "us-east-1".into(),
        access_key_id: "AKID".into(),
        secret_access_key: "secret".into(),
        session_token: None,
        catalog_id: None,
        max_attempts: 4,
        initial_backoff: Duration::from_millis(5),
        timeout: Duration::from_secs(10),
    })
    .unwrap()
}

fn partition(v: &str) -> String {
    format!(r#"{{"Values":["{v}"],"DatabaseName":"d","TableName":"t","CreationTime":1.5}}"#)
}

#[tokio::test]
async fn get_partitions_follows_next_token_until_none() {
    let (endpoint, seen) = responder(vec![
        (
            200,
            format!(
                r#"{{"Partitions":[{},{}],"NextToken":"tok-1"}}"#,
                partition("a"),
                partition("b")
            ),
        ),
        (
            200,
            format!(
                r#"{{"Partitions":[{}],"NextToken":"tok-2"}}"#,
                partition("c")
            ),
        ),
        (200, format!(r#"{{"Partitions":[{}]}}"#, partition("d"))),
    ])
    .await;
    let parts = client(&endpoint)
        .get_partitions("d", "t", None)
        .await
        .unwrap();
    let values: Vec<_> = parts.iter().map(|p| p.values[0].as_str()).collect();
    assert_eq!(values, ["a", "b", "c", "d"]);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3);
    assert!(seen
        .iter()
        .all(|s| s.target == "awsglue.getpartitions" && s.signed));
    assert_eq!(seen[0].body.get("NextToken"), None);
    assert_eq!(seen[1].body["NextToken"], "tok-1");
    assert_eq!(seen[2].body["NextToken"], "tok-2");
    assert_eq!(seen[2].body["DatabaseName"], "d");
}

#[tokio::test]
async fn get_tables_and_databases_paginate_too() {
    let (endpoint, seen) = responder(vec![
        (
            200,
            r#"{"TableList":[{"Name":"t1"}],"NextToken":"n"}"#.into(),
        ),
        (
            200,
            r#"{"TableList":[{"Name":"t2"}],"NextToken":""}"#.into(),
        ),
        (
            200,
            r#"{"DatabaseList":[{"Name":"a"}],"NextToken":"x"}"#.into(),
        ),
        (
            200,
            r#"{"DatabaseList":[{"Name":"b","Parameters":null}]}"#.into(),
        ),
    ])
    .await;
    let c = client(&endpoint);
    let tables = c.get_tables("db").await.unwrap();
    assert_eq!(
        tables.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
        ["t1", "t2"]
    );
    let dbs = c.get_databases().await.unwrap();
    assert_eq!(
        dbs.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(),
        ["a", "b"]
    );
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen[1].body["NextToken"], "n");
    assert_eq!(seen[3].body["NextToken"], "x");
}

#[tokio::test]
async fn throttling_and_server_errors_are_retried() {
    let (endpoint, seen) = responder(vec![
        (
            400,
            r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#.into(),
        ),
        (
            500,
            r#"{"__type":"InternalServiceException","message":"oops"}"#.into(),
        ),
        (
            200,
            r#"{"Database":{"Name":"x","LocationUri":"s3://b/x"}}"#.into(),
        ),
    ])
    .await;
    let db = client(&endpoint).get_database("x").await.unwrap().unwrap();
    assert_eq!(db.location_uri.as_deref(), Some("s3://b/x"));
    assert_eq!(seen.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn retries_stop_after_max_attempts() {
    let throttled = (
        400,
        r#"{"__type":"ThrottlingException","message":"slow down"}"#.to_string(),
    );
    let (endpoint, seen) = responder(vec![throttled; 4]).await;
    let err = client(&endpoint).get_database("x").await.unwrap_err();
    assert_eq!(err.code(), Some("ThrottlingException"));
    assert_eq!(err.retry(), Retry::Transient);
    assert_eq!(seen.lock().unwrap().len(), 4);
}

#[tokio::test]
async fn definite_errors_come_back_at_once_with_their_code() {
    let (endpoint, seen) = responder(vec![
        (
            400,
            r#"{"__type":"AccessDeniedException","message":"no glue:GetDatabase"}"#.into(),
        ),
        (
            400,
            r#"{"__type":"com.amazonaws#EntityNotFoundException","message":"gone"}"#.into(),
        ),
    ])
    .await;
    let c = client(&endpoint);
    let err = c.get_database("x").await.unwrap_err();
    assert_eq!(err.code(), Some("AccessDeniedException"));
    assert!(err.to_string().contains("no glue:GetDatabase"), "{err}");
    // Not found is an answer, not an error.
    assert_eq!(c.get_table("d", "t").await.unwrap(), None);
    assert_eq!(seen.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn unprocessed_keys_are_asked_again() {
    let (endpoint, seen) = responder(vec![
        (
            200,
            format!(
                r#"{{"Partitions":[{}],"UnprocessedKeys":[{{"Values":["b"]}}]}}"#,
                partition("a")
            ),
        ),
        (200, format!(r#"{{"Partitions":[{}]}}"#, partition("b"))),
    ])
    .await;
    let keys = vec![vec!["a".to_string()], vec!["b".to_string()]];
    let got = client(&endpoint)
        .batch_get_partition("d", "t", &keys)
        .await
        .unwrap();
    assert_eq!(got.len(), 2);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen[1].body["PartitionsToGet"],
        serde_json::json!([{"Values": ["b"]}])
    );
}

#[tokio::test]
async fn batch_errors_are_reported_per_item_and_limits_enforced() {
    let (endpoint, _seen) = responder(vec![(
        200,
        r#"{"Errors":[{"PartitionValues":["a"],"ErrorDetail":{"ErrorCode":"AlreadyExistsException","ErrorMessage":"exists"}}]}"#.into(),
    )])
    .await;
    let c = client(&endpoint);
    let input = |v: &str| PartitionInput {
        values: vec![v.into()],
        ..Default::default()
    };
    let errors = c
        .batch_create_partition("d", "t", &[input("a"), input("b")])
        .await
        .unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].values, ["a"]);
    assert_eq!(errors[0].code, "AlreadyExistsException");
    let too_many: Vec<_> = (0..101).map(|i| input(&i.to_string())).collect();
    assert!(matches!(
        c.batch_create_partition("d", "t", &too_many).await,
        Err(GlueError::BatchTooLarge { limit: 100, .. })
    ));
}

#[tokio::test]
async fn unreachable_endpoint_is_a_clear_transient_error() {
    // A port nothing listens on: bind, note the port, close.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut config = client(&format!("http://127.0.0.1:{port}")).config().clone();
    config.max_attempts = 2;
    let err = GlueClient::new(config)
        .unwrap()
        .get_databases()
        .await
        .unwrap_err();
    assert!(matches!(err, GlueError::Unreachable { .. }), "{err:?}");
    assert_eq!(err.retry(), Retry::Transient);
    assert!(
        err.to_string().contains(&format!("127.0.0.1:{port}")),
        "{err}"
    );
}
