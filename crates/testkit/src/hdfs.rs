//! HDFS: one NameNode and one DataNode (Hadoop 2.7.3) from `scenarios/servers/hdfs.sh`, with
//! WebHDFS on the NameNode's HTTP port.

use crate::{available, server_script, url_from_env_or_script};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::OnceLock;
use std::time::Duration;

/// A running HDFS: its NameNode URL, and its WebHDFS URL or why there is none.
#[derive(Debug)]
pub struct HdfsServer {
    url: String,
    webhdfs: Result<String, String>,
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
    let webhdfs = find_webhdfs(&how);
    Ok(HdfsServer { url, webhdfs })
}

/// `MIGRATE_HDFS_HTTP_URL`, else (for an HDFS the script runs) what `hdfs.sh env` says; checked
/// with a WebHDFS `GETFILESTATUS` of `/`.
fn find_webhdfs(how: &str) -> Result<String, String> {
    let url = match std::env::var("MIGRATE_HDFS_HTTP_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
    {
        Some(u) => u,
        None if how == "MIGRATE_HDFS_URL" => {
            return Err("MIGRATE_HDFS_URL is set but MIGRATE_HDFS_HTTP_URL (its WebHDFS address) is not; `scenarios/servers/hdfs.sh env` prints both".into())
        }
        None => {
            let out = crate::run_script("hdfs.sh", &["env"], &[])?;
            let stdout = String::from_utf8_lossy(&out.stdout);
            stdout
                .lines()
                .find_map(|l| l.strip_prefix("export MIGRATE_HDFS_HTTP_URL="))
                .map(|u| u.trim().to_string())
                .ok_or_else(|| {
                    format!(
                        "`{} env` printed no MIGRATE_HDFS_HTTP_URL",
                        server_script("hdfs.sh").display()
                    )
                })?
        }
    };
    let hostport = url
        .strip_prefix("http://")
        .map(|r| r.trim_end_matches('/'))
        .ok_or_else(|| format!("bad WebHDFS URL {url:?}: expected http://127.0.0.1:PORT"))?;
    let addr: SocketAddr = hostport
        .parse()
        .map_err(|e| format!("bad WebHDFS address {hostport}: {e}"))?;
    let status = http_status(addr, "/webhdfs/v1/?op=GETFILESTATUS&user.name=migrate")
        .map_err(|e| format!("WebHDFS at {url} does not answer: {e}"))?;
    if status != 200 {
        return Err(format!(
            "WebHDFS at {url} answered HTTP {status} (an HDFS started before WebHDFS was enabled in \
             scenarios/servers/hdfs.sh? restart it: hdfs.sh stop && hdfs.sh start)"
        ));
    }
    Ok(url)
}

/// The status code of `GET path` (HTTP/1.0, no dependencies).
fn http_status(addr: SocketAddr, path: &str) -> std::io::Result<u16> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n")?;
    let mut head = [0u8; 12];
    s.read_exact(&mut head)?;
    std::str::from_utf8(&head[9..12])
        .ok()
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other("not an HTTP answer"))
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

    /// Runs Hadoop's own `hdfs dfs ARGS` (FsShell, through `scenarios/servers/hdfs.sh fs`) and
    /// returns its standard output; `Err` carries its exit status and standard error. Give full
    /// `hdfs://` URLs (from [`HdfsServer::unique_url`]).
    pub fn fs(&self, args: &[&str]) -> Result<String, String> {
        let out = crate::run_script("hdfs.sh", &[&["fs"], args].concat(), &[])?;
        if !out.status.success() {
            return Err(format!(
                "hdfs dfs {} failed ({}):\n{}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// `http://127.0.0.1:PORT`: the NameNode's WebHDFS, or `None` (after printing why) when it
    /// does not answer and servers are not required. Panics when they are, like [`hdfs()`].
    pub fn webhdfs_url(&'static self) -> Option<&'static str> {
        available("WebHDFS", &self.webhdfs).map(String::as_str)
    }
}
