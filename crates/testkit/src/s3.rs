//! S3: a SeaweedFS server with one bucket and one signed access key (`scenarios/servers/s3.sh`).

use crate::{available, url_from_env_or_script};
use std::net::TcpStream;
use std::sync::OnceLock;
use std::time::Duration;

/// A running S3-protocol server: endpoint, bucket and credentials.
#[derive(Debug)]
pub struct S3Server {
    url: String,
    endpoint: String,
    bucket: String,
    access_key: String,
    secret_key: String,
}

/// The region the test server is addressed with (SeaweedFS accepts any).
pub const S3_REGION: &str = "us-east-1";

/// The test S3 server, or `None` (after printing why) when there is none and servers are not
/// required. Panics when they are (`CI`, `MIGRATE_REQUIRE_SERVERS`). See the crate docs.
///
/// On first use in a process it also sets the standard AWS variables (`AWS_ENDPOINT_URL`,
/// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ALLOW_HTTP`) to this server's,
/// unless they already are (as under `scenarios/test.sh`), so that code under test finds it the
/// way it finds AWS. Nothing else in a test process should set AWS variables.
pub fn s3() -> Option<&'static S3Server> {
    static SERVER: OnceLock<Result<S3Server, String>> = OnceLock::new();
    available("S3 server", SERVER.get_or_init(find))
}

fn find() -> Result<S3Server, String> {
    let (url, how) = url_from_env_or_script("MIGRATE_S3_URL", "s3.sh")?;
    let server = parse_url(&url)?;
    let addr = server
        .endpoint
        .trim_start_matches("http://")
        .parse()
        .map_err(|e| format!("bad endpoint {} from {how}: {e}", server.endpoint))?;
    TcpStream::connect_timeout(&addr, Duration::from_secs(5)).map_err(|e| {
        format!(
            "the S3 server from {how} ({}) does not answer: {e}",
            server.endpoint
        )
    })?;
    for (key, value) in server.env() {
        if std::env::var(key).ok().as_deref() != Some(value.as_str()) {
            // Edition 2021: set_var is safe to call. It runs once, inside the OnceLock, before any
            // S3 client of this process exists.
            std::env::set_var(key, &value);
        }
    }
    Ok(server)
}

/// `http://KEY:SECRET@127.0.0.1:PORT/BUCKET`
fn parse_url(url: &str) -> Result<S3Server, String> {
    let bad = |why: &str| {
        format!("bad S3 URL ({why}); expected http://access_key:secret@127.0.0.1:port/bucket")
    };
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| bad("not http://"))?;
    let (userinfo, rest) = rest.split_once('@').ok_or_else(|| bad("no credentials"))?;
    let (access_key, secret_key) = userinfo
        .split_once(':')
        .ok_or_else(|| bad("no secret key"))?;
    let (host, bucket) = rest.split_once('/').ok_or_else(|| bad("no bucket"))?;
    let bucket = bucket.trim_end_matches('/');
    if host.is_empty() || bucket.is_empty() || bucket.contains('/') {
        return Err(bad("empty host or bucket"));
    }
    Ok(S3Server {
        url: url.to_string(),
        endpoint: format!("http://{host}"),
        bucket: bucket.to_string(),
        access_key: access_key.to_string(),
        secret_key: secret_key.to_string(),
    })
}

impl S3Server {
    /// `http://KEY:SECRET@127.0.0.1:PORT/BUCKET`, as printed by `s3.sh start`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// `http://127.0.0.1:PORT`
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    pub fn access_key(&self) -> &str {
        &self.access_key
    }

    pub fn secret_key(&self) -> &str {
        &self.secret_key
    }

    /// `s3://BUCKET/<unique prefix from hint>`: a fresh prefix per test, so tests never see each
    /// other's objects (objects are left behind; the bucket is a throwaway).
    pub fn unique_url(&self, hint: &str) -> String {
        format!("s3://{}/{}", self.bucket, crate::unique_name(hint))
    }

    /// The standard AWS variables that point at this server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", self.access_key.clone()),
            ("AWS_SECRET_ACCESS_KEY", self.secret_key.clone()),
            ("AWS_REGION", S3_REGION.to_string()),
            ("AWS_ALLOW_HTTP", "true".to_string()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_parts() {
        let s = parse_url("http://migrate:secret@127.0.0.1:38333/migrate-test").unwrap();
        assert_eq!(s.endpoint(), "http://127.0.0.1:38333");
        assert_eq!(s.bucket(), "migrate-test");
        assert_eq!(s.access_key(), "migrate");
        assert_eq!(s.secret_key(), "secret");
        assert!(s.unique_url("a b").starts_with("s3://migrate-test/t_a_b_"));
        for bad in [
            "https://a:b@h:1/x",
            "http://h:1/x",
            "http://a:b@h:1/",
            "http://a:b@h:1",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }
}
