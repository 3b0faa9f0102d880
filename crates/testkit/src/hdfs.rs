//! HDFS: one NameNode and one DataNode (Hadoop 2.7.3) from `scenarios/servers/hdfs.sh`.

use crate::{available, url_from_env_or_script};
use std::net::TcpStream;
use std::sync::OnceLock;
use std::time::Duration;

/// A running HDFS: its NameNode URL.
#[derive(Debug)]
pub struct HdfsServer {
    url: String,
}

/// The test HDFS, or `None` (after printing why) when there is none and servers are not required.
/// Panics when they are (`CI`, `MIGRATE_REQUIRE_SERVERS`). Found through `MIGRATE_HDFS_URL`, else
/// by running `scenarios/servers/hdfs.sh start` (see the crate docs).
pub fn hdfs() -> Option<&'static HdfsServer> {
    static SERVER: OnceLock<Result<HdfsServer, String>> = OnceLock::new();
    available("HDFS", SERVER.get_or_init(find))
}

fn find() -> Result<HdfsServer, String> {
    let (url, how) = url_from_env_or_script("MIGRATE_HDFS_URL", "hdfs.sh")?;
    let addr = url
        .strip_prefix("hdfs://")
        .map(|rest| rest.trim_end_matches('/'))
        .ok_or_else(|| {
            format!("bad HDFS URL {url:?} from {how}: expected hdfs://127.0.0.1:PORT")
        })?;
    let addr = addr
        .parse()
        .map_err(|e| format!("bad HDFS address {addr} from {how}: {e}"))?;
    TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .map_err(|e| format!("the HDFS NameNode from {how} ({url}) does not answer: {e}"))?;
    Ok(HdfsServer { url })
}

impl HdfsServer {
    /// `hdfs://127.0.0.1:PORT`
    pub fn url(&self) -> &str {
        &self.url
    }

    /// `hdfs://127.0.0.1:PORT/<unique dir from hint>`: a fresh directory per test.
    pub fn unique_url(&self, hint: &str) -> String {
        format!("{}/{}", self.url, crate::unique_name(hint))
    }
}
