//! Just enough of WebHDFS to read HDFS's file checksums: `op=GETFILECHECKSUM` (the NameNode
//! redirects to a DataNode, which asks every block's DataNode for its MD5 of CRCs) and
//! `op=GET_BLOCK_LOCATIONS` (block lengths, to explain a difference).
//!
//! Addresses: `--hdfs-http URL` (repeatable, for HA) when given, else `HADOOP_CONF_DIR`'s
//! hdfs-site.xml: `dfs.namenode.http-address.<ns>.<nn>` for the NameNodes of an HA name service
//! (`dfs.ha.namenodes.<ns>`), `dfs.namenode.http-address.<ns>` for the federated name service whose
//! `dfs.namenode.rpc-address.<ns>` is the URL's authority, else `dfs.namenode.http-address`
//! (`https-address` and `https://` when `dfs.http.policy` is `HTTPS_ONLY`); a wildcard host
//! (`0.0.0.0`) stands for the URL's host. Simple authentication only (`user.name=`: the
//! `HADOOP_USER_NAME` or login user): a cluster asking for Kerberos (SPNEGO) makes the checksum
//! "not available", like a cluster with WebHDFS off.

use crate::error::CopyError;
use crate::hdfs_checksum::HdfsChecksum;
use crate::ESCAPE_RESERVED;
use migrate_core::error_chain;
use percent_encoding::utf8_percent_encode;
use reqwest::StatusCode;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Duration;

/// A WebHDFS client for one cluster (one name service).
#[derive(Debug)]
pub(crate) struct WebHdfs {
    http: reqwest::Client,
    /// `http://host:port` of each NameNode (HA: all of them).
    namenodes: Vec<String>,
    /// The NameNode that answered last (HA: the active one).
    active: AtomicUsize,
    user: String,
}

/// What a NameNode answered, beyond success.
enum Failure {
    /// An HA standby: ask the next NameNode.
    Standby,
    /// Worth trying again later (network, 5xx).
    Transient(String),
    /// Won't change by retrying: the checksum is not available for this file.
    Unavailable(String),
    /// No such file.
    NotFound(String),
}

impl WebHdfs {
    /// Finds the WebHDFS addresses of the cluster of `hdfs_url` (see the module docs) and checks
    /// that one answers for `root` (the source directory). `Err` is the reason the checksums are
    /// not available, for the summary.
    pub(crate) async fn connect(
        hdfs_url: &url::Url,
        explicit: &[String],
        root: &str,
    ) -> Result<WebHdfs, String> {
        let namenodes = if explicit.is_empty() {
            addresses_from_conf(hdfs_url)?
        } else {
            explicit
                .iter()
                .map(|u| {
                    let u = u.trim().trim_end_matches('/');
                    url::Url::parse(u)
                        .ok()
                        .filter(|p| matches!(p.scheme(), "http" | "https"))
                        .map(|_| u.to_string())
                        .ok_or_else(|| {
                            format!("--hdfs-http {u:?} is not an http(s)://host:port URL")
                        })
                })
                .collect::<Result<Vec<_>, _>>()?
        };
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            // A checksum makes the DataNodes read every block's CRCs: large files take a while.
            .read_timeout(Duration::from_secs(300))
            .build()
            .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
        let user = std::env::var("HADOOP_USER_NAME")
            .or_else(|_| std::env::var("USER"))
            .unwrap_or_else(|_| "hdfs".to_string());
        let client = WebHdfs {
            http,
            namenodes,
            active: AtomicUsize::new(0),
            user,
        };
        // One cheap call up front, so that a cluster without WebHDFS costs one request, not one
        // per file, and the summary can say why.
        match client.call(root, "GETFILESTATUS", "").await {
            Ok(_) => Ok(client),
            Err(f) => Err(client.reason(f)),
        }
    }

    /// HDFS's checksum of the file at the absolute `path`. `Ok(Err(reason))`: the cluster
    /// answered, but with nothing comparable (another algorithm, mixed CRC types).
    pub(crate) async fn file_checksum(
        &self,
        path: &str,
    ) -> Result<Result<HdfsChecksum, String>, CopyError> {
        match self.call(path, "GETFILECHECKSUM", "").await {
            Ok(body) => Ok(HdfsChecksum::from_webhdfs(&body)),
            Err(f) => self.failure(path, f).map(Err),
        }
    }

    /// The lengths of the blocks of the file at `path` of `size` bytes.
    pub(crate) async fn block_lengths(&self, path: &str, size: u64) -> Result<Vec<u64>, String> {
        #[derive(serde::Deserialize)]
        struct Answer {
            #[serde(rename = "LocatedBlocks")]
            located: Located,
        }
        #[derive(serde::Deserialize)]
        struct Located {
            #[serde(rename = "locatedBlocks")]
            blocks: Vec<LocatedBlock>,
        }
        #[derive(serde::Deserialize)]
        struct LocatedBlock {
            block: Block,
        }
        #[derive(serde::Deserialize)]
        struct Block {
            #[serde(rename = "numBytes")]
            num_bytes: u64,
        }
        let body = self
            .call(
                path,
                "GET_BLOCK_LOCATIONS",
                &format!("&offset=0&length={size}"),
            )
            .await
            .map_err(|f| self.reason(f))?;
        let answer: Answer = serde_json::from_slice(&body)
            .map_err(|e| format!("unexpected GET_BLOCK_LOCATIONS answer: {e}"))?;
        Ok(answer
            .located
            .blocks
            .into_iter()
            .map(|b| b.block.num_bytes)
            .collect())
    }

    /// Why a call failed, in words.
    fn reason(&self, f: Failure) -> String {
        match f {
            Failure::Standby => format!("no active NameNode among {}", self.namenodes.join(", ")),
            Failure::Transient(r) | Failure::Unavailable(r) | Failure::NotFound(r) => r,
        }
    }

    fn failure(&self, path: &str, f: Failure) -> Result<String, CopyError> {
        match f {
            Failure::Standby | Failure::Unavailable(_) => Ok(self.reason(f)),
            Failure::Transient(reason) => Err(CopyError::Read {
                path: format!("WebHDFS checksum of {path}"),
                reason,
                transient: true,
            }),
            Failure::NotFound(reason) => Err(CopyError::Read {
                path: format!("WebHDFS checksum of {path}"),
                reason,
                transient: false,
            }),
        }
    }

    /// `GET <namenode>/webhdfs/v1<path>?op=OP&user.name=U<extra>` on the active NameNode, trying
    /// the others when it is a standby; redirects (to DataNodes) are followed.
    async fn call(&self, path: &str, op: &str, extra: &str) -> Result<bytes::Bytes, Failure> {
        let encoded: String = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| format!("/{}", utf8_percent_encode(s, ESCAPE_RESERVED)))
            .collect();
        let encoded = if encoded.is_empty() {
            "/".to_string()
        } else {
            encoded
        };
        let user = utf8_percent_encode(&self.user, ESCAPE_RESERVED);
        let first = self.active.load(Relaxed);
        let mut last = Failure::Standby;
        for i in 0..self.namenodes.len() {
            let idx = (first + i) % self.namenodes.len();
            let nn = &self.namenodes[idx];
            let url = format!("{nn}/webhdfs/v1{encoded}?op={op}&user.name={user}{extra}");
            match self.get(nn, &url).await {
                Err(Failure::Standby) => {
                    last = Failure::Standby;
                    continue;
                }
                Err(Failure::Transient(r)) if self.namenodes.len() > 1 => {
                    // HA: the other NameNode may be up.
                    last = Failure::Transient(r);
                    continue;
                }
                Ok(body) => {
                    self.active.store(idx, Relaxed);
                    return Ok(body);
                }
                Err(other) => return Err(other),
            }
        }
        Err(last)
    }

    async fn get(&self, nn: &str, url: &str) -> Result<bytes::Bytes, Failure> {
        let resp = self.http.get(url).send().await.map_err(|e| {
            Failure::Transient(format!(
                "WebHDFS at {nn} does not answer: {}",
                error_chain(&e)
            ))
        })?;
        let status = resp.status();
        let body = resp.bytes().await.map_err(|e| {
            Failure::Transient(format!(
                "WebHDFS at {nn}: reading the answer failed: {}",
                error_chain(&e)
            ))
        })?;
        if status.is_success() {
            return Ok(body);
        }
        let (exception, message) = remote_exception(&body);
        Err(match (status, exception.as_str()) {
            (_, "StandbyException") => Failure::Standby,
            (_, "FileNotFoundException") => Failure::NotFound(message),
            (StatusCode::UNAUTHORIZED, _) => Failure::Unavailable(format!(
                "WebHDFS at {nn} asks for authentication (Kerberos/SPNEGO), which migrate copy does not do"
            )),
            (s, _) if s.is_server_error() && exception.is_empty() => Failure::Transient(format!(
                "WebHDFS at {nn} answered HTTP {s}"
            )),
            (StatusCode::NOT_FOUND, "") => Failure::Unavailable(format!(
                "WebHDFS is not enabled at {nn} (HTTP 404; dfs.webhdfs.enabled)"
            )),
            (s, "") => Failure::Unavailable(format!("WebHDFS at {nn} answered HTTP {s}")),
            (s, e) => Failure::Unavailable(format!("WebHDFS at {nn} answered HTTP {s}: {e}: {message}")),
        })
    }
}

/// `{"RemoteException":{"exception":"StandbyException","message":"…"}}`, or empty strings.
fn remote_exception(body: &[u8]) -> (String, String) {
    #[derive(serde::Deserialize)]
    struct Answer {
        #[serde(rename = "RemoteException")]
        remote: Remote,
    }
    #[derive(serde::Deserialize)]
    struct Remote {
        #[serde(default)]
        exception: String,
        #[serde(default)]
        message: String,
    }
    match serde_json::from_slice::<Answer>(body) {
        Ok(a) => (a.remote.exception, a.remote.message),
        Err(_) => (String::new(), String::new()),
    }
}

/// The NameNodes' WebHDFS addresses for `hdfs_url` from `HADOOP_CONF_DIR`/hdfs-site.xml.
fn addresses_from_conf(hdfs_url: &url::Url) -> Result<Vec<String>, String> {
    let Some(dir) = std::env::var_os("HADOOP_CONF_DIR").filter(|d| !d.is_empty()) else {
        return Err(
            "no WebHDFS address: give --hdfs-http http://namenode:port or set HADOOP_CONF_DIR"
                .into(),
        );
    };
    let path = std::path::Path::new(&dir).join("hdfs-site.xml");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("no WebHDFS address: cannot read {}: {e}", path.display()))?;
    let conf = parse_properties(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    addresses(&conf, hdfs_url).ok_or_else(|| {
        format!(
            "no WebHDFS address for {}: {} sets no dfs.namenode.http-address for it; give --hdfs-http",
            hdfs_url,
            path.display()
        )
    })
}

fn addresses(conf: &HashMap<String, String>, hdfs_url: &url::Url) -> Option<Vec<String>> {
    let host = hdfs_url.host_str()?;
    let authority = match hdfs_url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    };
    let https = conf
        .get("dfs.http.policy")
        .is_some_and(|p| p.eq_ignore_ascii_case("HTTPS_ONLY"));
    let (key, scheme) = if https {
        ("dfs.namenode.https-address", "https")
    } else {
        ("dfs.namenode.http-address", "http")
    };
    let list = |s: &str| -> Vec<String> {
        s.split(',')
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(String::from)
            .collect()
    };
    let raw: Vec<String> = if let Some(nns) = conf.get(&format!("dfs.ha.namenodes.{host}")) {
        list(nns)
            .iter()
            .filter_map(|nn| conf.get(&format!("{key}.{host}.{nn}")).cloned())
            .collect()
    } else if let Some(ns) = conf.get("dfs.nameservices").and_then(|nss| {
        list(nss).into_iter().find(|ns| {
            conf.get(&format!("dfs.namenode.rpc-address.{ns}"))
                .is_some_and(|a| a.trim() == authority)
        })
    }) {
        conf.get(&format!("{key}.{ns}"))
            .cloned()
            .into_iter()
            .collect()
    } else {
        conf.get(key).cloned().into_iter().collect()
    };
    let out: Vec<String> = raw
        .iter()
        .map(|a| {
            let a = a.trim();
            let a = a
                .strip_prefix("0.0.0.0:")
                .map(|port| format!("{host}:{port}"))
                .unwrap_or_else(|| a.to_string());
            format!("{scheme}://{a}")
        })
        .collect();
    (!out.is_empty()).then_some(out)
}

/// `<configuration><property><name>k</name><value>v</value></property>…` as a map.
fn parse_properties(text: &str) -> Result<HashMap<String, String>, String> {
    let doc = roxmltree::Document::parse(text).map_err(|e| format!("not valid XML: {e}"))?;
    let mut out = HashMap::new();
    for p in doc.descendants().filter(|n| n.has_tag_name("property")) {
        let field = |tag: &str| {
            p.children()
                .find(|c| c.has_tag_name(tag))
                .and_then(|c| c.text())
                .map(|t| t.trim().to_string())
        };
        if let (Some(name), Some(value)) = (field("name"), field("value")) {
            out.insert(name, value);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf(xml_props: &[(&str, &str)]) -> HashMap<String, String> {
        let body: String = xml_props
            .iter()
            .map(|(k, v)| format!("<property><name>{k}</name><value>{v}</value></property>"))
            .collect();
        parse_properties(&format!(
            "<?xml version=\"1.0\"?><configuration>{body}</configuration>"
        ))
        .unwrap()
    }

    fn url(s: &str) -> url::Url {
        url::Url::parse(s).unwrap()
    }

    #[test]
    fn addresses_from_hdfs_site() {
        let plain = conf(&[("dfs.namenode.http-address", "0.0.0.0:9870")]);
        assert_eq!(
            addresses(&plain, &url("hdfs://nn1.example:8020/data")),
            Some(vec!["http://nn1.example:9870".to_string()])
        );
        let ha = conf(&[
            ("dfs.nameservices", "lake"),
            ("dfs.ha.namenodes.lake", "a, b"),
            ("dfs.namenode.http-address.lake.a", "nna:9870"),
            ("dfs.namenode.http-address.lake.b", "nnb:9870"),
        ]);
        assert_eq!(
            addresses(&ha, &url("hdfs://lake/warehouse")),
            Some(vec![
                "http://nna:9870".to_string(),
                "http://nnb:9870".to_string()
            ])
        );
        let federated = conf(&[
            ("dfs.nameservices", "ns1,ns2"),
            ("dfs.namenode.rpc-address.ns1", "h1:8020"),
            ("dfs.namenode.rpc-address.ns2", "h2:8020"),
            ("dfs.namenode.http-address.ns1", "h1:50070"),
            ("dfs.namenode.http-address.ns2", "h2:50070"),
        ]);
        assert_eq!(
            addresses(&federated, &url("hdfs://h2:8020/x")),
            Some(vec!["http://h2:50070".to_string()])
        );
        let tls = conf(&[
            ("dfs.http.policy", "HTTPS_ONLY"),
            ("dfs.namenode.http-address", "h:50070"),
            ("dfs.namenode.https-address", "h:50470"),
        ]);
        assert_eq!(
            addresses(&tls, &url("hdfs://h:8020/")),
            Some(vec!["https://h:50470".to_string()])
        );
        assert_eq!(addresses(&conf(&[]), &url("hdfs://h:8020/")), None);
        assert!(parse_properties("<configuration><property>").is_err());
    }

    #[test]
    fn remote_exceptions() {
        let body = br#"{"RemoteException":{"exception":"StandbyException","javaClassName":"org.apache.hadoop.ipc.StandbyException","message":"Operation category READ is not supported in state standby"}}"#;
        assert_eq!(remote_exception(body).0, "StandbyException");
        assert_eq!(
            remote_exception(b"<html>404</html>"),
            (String::new(), String::new())
        );
    }
}
