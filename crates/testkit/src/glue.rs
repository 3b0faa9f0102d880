//! Glue: the AWS Glue Data Catalog API served by moto (`scenarios/servers/glue.sh`).

use crate::{available, url_from_env_or_script};
use std::net::TcpStream;
use std::sync::OnceLock;
use std::time::Duration;

/// A running Glue API endpoint (moto: in memory, any signature accepted, no pagination).
#[derive(Debug)]
pub struct GlueServer {
    endpoint: String,
}

/// The test Glue endpoint, or `None` (after printing why) when there is none and servers are not
/// required. Panics when they are (`CI`, `MIGRATE_REQUIRE_SERVERS`). See the crate docs.
/// `MIGRATE_GLUE_URL` is used when set, else `scenarios/servers/glue.sh start` is run.
pub fn glue() -> Option<&'static GlueServer> {
    static SERVER: OnceLock<Result<GlueServer, String>> = OnceLock::new();
    available("Glue API (moto)", SERVER.get_or_init(find))
}

fn find() -> Result<GlueServer, String> {
    let (url, how) = url_from_env_or_script("MIGRATE_GLUE_URL", "glue.sh")?;
    let endpoint = url.trim().trim_end_matches('/').to_string();
    let addr = endpoint
        .strip_prefix("http://")
        .ok_or_else(|| {
            format!("bad Glue URL {endpoint} from {how}; expected http://127.0.0.1:PORT")
        })?
        .parse()
        .map_err(|e| format!("bad Glue URL {endpoint} from {how}: {e}"))?;
    TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .map_err(|e| format!("the Glue API from {how} ({endpoint}) does not answer: {e}"))?;
    Ok(GlueServer { endpoint })
}

impl GlueServer {
    /// `http://127.0.0.1:PORT`
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The variables that point a `migrate` child process at this server: the Glue endpoint, a
    /// region and credentials (moto accepts any). Tests in-process build their client from
    /// [`endpoint`](Self::endpoint) instead: the AWS variables of a test process belong to
    /// [`crate::s3()`].
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL_GLUE", self.endpoint.clone()),
            ("AWS_REGION", "us-east-1".to_string()),
            ("AWS_ACCESS_KEY_ID", "testing".to_string()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_string()),
        ]
    }
}
