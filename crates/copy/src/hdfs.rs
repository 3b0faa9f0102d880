//! HDFS sources (`hdfs://namenode:port/path`, `hdfs://nameservice/path` for HA, `viewfs://...`)
//! through hdfs-native. Cluster settings (HA name services, viewfs mount tables, Kerberos) come from
//! `HADOOP_CONF_DIR` (core-site.xml, hdfs-site.xml) as with the Hadoop client.
//!
//! Integrity of reads: hdfs-native asks the DataNodes for the block checksums (CRC32/CRC32C per
//! 512-byte chunk, written when the file was) and verifies every packet, so corrupt replicas are
//! detected while reading; the copy then checks its own MD5s against what S3 stored. On top of
//! that, HDFS's whole-file checksum (`getFileChecksum`, MD5-of-MD5-of-CRC, see
//! [`hdfs_checksum`](crate::hdfs_checksum)) is fetched through WebHDFS (hdfs-native 0.14 has no
//! `getFileChecksum`; see [`webhdfs`](crate::webhdfs) for where its address comes from) before a
//! file is read, and compared with the same value computed from the bytes read: this proves,
//! end to end, that the bytes sent are the bytes HDFS holds for the whole file. When WebHDFS
//! can't be reached, is off, or wants Kerberos, the comparison is "not available" for every file
//! of the copy, with the reason, in the summary.

use crate::error::CopyError;
use crate::source::{sort_key, Entry, FileSource, Listed, SourceChecksum};
use crate::webhdfs::WebHdfs;
use bytes::Bytes;
use futures::future::{BoxFuture, FutureExt};
use futures::stream::{self, BoxStream, StreamExt};
use hdfs_native::{Client, ClientBuilder, HdfsError};
use std::ops::Range;
use std::sync::Arc;

/// A directory tree in HDFS.
#[derive(Clone)]
pub struct HdfsTree {
    client: Arc<Client>,
    /// `scheme://authority` of the URL, for messages.
    base: String,
    /// Absolute path of the root directory, without trailing `/` (empty: `/`).
    root: String,
    /// Where file checksums come from, or why they can't be had.
    webhdfs: Arc<Result<WebHdfs, String>>,
}

impl std::fmt::Debug for HdfsTree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HdfsTree({}{})", self.base, self.root)
    }
}

fn transient(e: &HdfsError) -> bool {
    matches!(e, HdfsError::IOError(_) | HdfsError::DataTransferError(_))
}

fn read_error(path: String, e: HdfsError) -> CopyError {
    CopyError::Read {
        path,
        transient: transient(&e),
        reason: e.to_string(),
    }
}

impl HdfsTree {
    /// Connects to the cluster of `url` and checks that its path is a directory. File checksums
    /// come from WebHDFS at `webhdfs` (NameNode HTTP URLs) or the addresses in HADOOP_CONF_DIR;
    /// `checksums == false` turns them off.
    pub async fn open(
        url: &url::Url,
        webhdfs: &[String],
        checksums: bool,
    ) -> Result<HdfsTree, CopyError> {
        let base = format!("{}://{}", url.scheme(), url.authority());
        let client = ClientBuilder::new()
            .with_url(base.clone())
            .build()
            .map_err(|e| CopyError::InvalidUrl {
                what: "source",
                url: url.to_string(),
                reason: e.to_string(),
            })?;
        let root = url.path().trim_end_matches('/').to_string();
        let root = percent_decode(&root);
        let shown = format!("{base}{}", if root.is_empty() { "/" } else { &root });
        match client
            .get_file_info(if root.is_empty() { "/" } else { &root })
            .await
        {
            Ok(status) if status.isdir => {}
            Ok(_) => {
                return Err(CopyError::Invalid(format!(
                    "source {shown} is a file: give its directory (and --src-pattern to pick files)"
                )))
            }
            Err(HdfsError::FileNotFound(_)) => return Err(CopyError::MissingSource(shown)),
            Err(e) => return Err(read_error(shown, e)),
        }
        let webhdfs = if !checksums {
            Err("turned off (--no-hdfs-checksum)".to_string())
        } else if url.scheme() == "viewfs" && webhdfs.is_empty() {
            Err("viewfs:// source: give --hdfs-http of the cluster the paths live on".to_string())
        } else {
            WebHdfs::connect(url, webhdfs, if root.is_empty() { "/" } else { &root }).await
        };
        if let Err(reason) = &webhdfs {
            tracing::warn!(%reason, "HDFS file checksums are not available");
        }
        Ok(HdfsTree {
            client: Arc::new(client),
            base,
            root,
            webhdfs: Arc::new(webhdfs),
        })
    }

    fn full(&self, rel: &str) -> String {
        format!("{}/{rel}", self.root)
    }
}

/// [`CopyError::BeingWritten`] for the file at `url` when [`being_written`] says so.
async fn refuse_being_written(
    client: &Client,
    path: &str,
    status: &hdfs_native::client::FileStatus,
    url: &str,
) -> Result<(), CopyError> {
    match being_written(client, path, status).await {
        Ok(None) => Ok(()),
        Ok(Some(detail)) => Err(CopyError::BeingWritten {
            path: url.to_string(),
            detail,
        }),
        Err(e) => Err(read_error(url.to_string(), e)),
    }
}

/// Whether a file is open for write, told from what the NameNode charges for it: a block being
/// written counts at its full block size in the space consumed (`getContentSummary`), and is left
/// out of the length `getBlockLocations` gives (hdfs-native does not expose the "under
/// construction" flag). `Some`: what was seen. A closed file costs one request; an erasure-coded
/// one (its space holds parity) two, and is never taken for one being written.
async fn being_written(
    client: &Client,
    path: &str,
    status: &hdfs_native::client::FileStatus,
) -> Result<Option<String>, HdfsError> {
    let (Some(replication), Some(block)) = (
        status.replication.filter(|r| *r > 0),
        status.blocksize.filter(|b| *b > 0),
    ) else {
        return Ok(None);
    };
    let replication = u64::from(replication);
    let space = client.get_content_summary(path).await?.space_consumed;
    if space == status.length as u64 * replication {
        return Ok(None);
    }
    let finished = client.read(path).await?.file_length() as u64;
    if space != (finished + block) * replication {
        return Ok(None);
    }
    Ok(Some(format!(
        "its last block is not finished (HDFS lists {} bytes, {finished} of them in finished blocks)",
        status.length
    )))
}

/// `url` keeps `%xx` escapes in paths; HDFS names are the decoded bytes.
fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// Depth-first state: a stack of sorted directory listings (reversed: pop takes the smallest).
struct Walk {
    tree: HdfsTree,
    stack: Vec<Vec<(String, hdfs_native::client::FileStatus)>>,
    started: bool,
}

impl Walk {
    async fn list_dir(
        &self,
        dir: &str,
    ) -> Result<Vec<(String, hdfs_native::client::FileStatus)>, CopyError> {
        let path = if dir.is_empty() {
            "/".to_string()
        } else {
            dir.to_string()
        };
        let statuses = self
            .tree
            .client
            .list_status(&path, false)
            .await
            .map_err(|e| read_error(format!("{}{path}", self.tree.base), e))?;
        let mut items: Vec<_> = statuses
            .into_iter()
            .map(|s| {
                let name = s.path.rsplit('/').next().unwrap_or_default().to_string();
                (sort_key(&name, s.isdir).into_owned(), s)
            })
            .collect();
        items.sort_by(|a, b| b.0.as_bytes().cmp(a.0.as_bytes()));
        Ok(items)
    }

    async fn next(&mut self) -> Option<Result<Listed, CopyError>> {
        if !self.started {
            self.started = true;
            let root = self.tree.root.clone();
            match self.list_dir(&root).await {
                Ok(items) => self.stack.push(items),
                Err(e) => return Some(Err(e)),
            }
        }
        loop {
            let level = self.stack.last_mut()?;
            let Some((_, status)) = level.pop() else {
                self.stack.pop();
                continue;
            };
            let rel = status
                .path
                .strip_prefix(&self.tree.root)
                .unwrap_or(&status.path)
                .trim_start_matches('/')
                .to_string();
            if status.isdir {
                match self.list_dir(&status.path).await {
                    Ok(children) if children.is_empty() => return Some(Ok(Listed::EmptyDir(rel))),
                    Ok(children) => self.stack.push(children),
                    Err(e) => {
                        return Some(Ok(Listed::Unreadable {
                            rel,
                            reason: e.to_string(),
                            dir: true,
                        }))
                    }
                }
                continue;
            }
            return Some(Ok(Listed::File(Entry {
                rel,
                size: status.length as u64,
                mtime_ms: i64::try_from(status.modification_time).unwrap_or(i64::MAX),
                owner: Some(status.owner),
                group: Some(status.group),
                permission: Some(u32::from(status.permission)),
                etag: None,
                block_size: status.blocksize,
            })));
        }
    }
}

impl FileSource for HdfsTree {
    fn list(&self) -> BoxStream<'static, Result<Listed, CopyError>> {
        let walk = Walk {
            tree: self.clone(),
            stack: Vec::new(),
            started: false,
        };
        stream::unfold(walk, |mut walk| async move {
            walk.next().await.map(|item| (item, walk))
        })
        .boxed()
    }

    fn read(&self, rel: &str, range: Range<u64>) -> BoxFuture<'static, Result<Bytes, CopyError>> {
        let client = Arc::clone(&self.client);
        let path = self.full(rel);
        let url = self.url(rel);
        async move {
            let reader = client
                .read(&path)
                .await
                .map_err(|e| read_error(url.clone(), e))?;
            let len = usize::try_from(range.end - range.start)
                .map_err(|_| CopyError::Invalid(format!("{url}: range too large")))?;
            if (reader.file_length() as u64) < range.end {
                // The length HDFS gives a reader leaves out a block being written.
                let status = client
                    .get_file_info(&path)
                    .await
                    .map_err(|e| read_error(url.clone(), e))?;
                refuse_being_written(&client, &path, &status, &url).await?;
                return Err(CopyError::Changed {
                    path: url,
                    listed: format!("at least {} bytes", range.end),
                    now: format!("{} bytes", reader.file_length()),
                });
            }
            let start = usize::try_from(range.start)
                .map_err(|_| CopyError::Invalid(format!("{url}: offset too large")))?;
            reader
                .read_range(start, len)
                .await
                .map_err(|e| read_error(url, e))
        }
        .boxed()
    }

    fn url(&self, rel: &str) -> String {
        format!("{}{}", self.base, self.full(rel))
    }

    fn unchanged(&self, entry: &Entry) -> BoxFuture<'static, Result<(), CopyError>> {
        let client = Arc::clone(&self.client);
        let path = self.full(&entry.rel);
        let url = self.url(&entry.rel);
        let listed = (entry.size, entry.mtime_ms);
        async move {
            let status = client
                .get_file_info(&path)
                .await
                .map_err(|e| read_error(url.clone(), e))?;
            refuse_being_written(&client, &path, &status, &url).await?;
            let now = (
                status.length as u64,
                i64::try_from(status.modification_time).unwrap_or(i64::MAX),
            );
            crate::source::same_file(url, listed, now)
        }
        .boxed()
    }

    fn file_checksum(
        &self,
        entry: &Entry,
    ) -> BoxFuture<'static, Result<SourceChecksum, CopyError>> {
        let webhdfs = Arc::clone(&self.webhdfs);
        let path = self.full(&entry.rel);
        let block_size = entry.block_size;
        async move {
            let web = match &*webhdfs {
                Ok(w) => w,
                Err(reason) => return Ok(SourceChecksum::Unavailable(reason.clone())),
            };
            let Some(block_size) = block_size.filter(|b| *b > 0) else {
                return Ok(SourceChecksum::Unavailable(
                    "the NameNode gave no block size".into(),
                ));
            };
            Ok(match web.file_checksum(&path).await? {
                Ok(sum) => SourceChecksum::Hdfs { sum, block_size },
                Err(reason) => SourceChecksum::Unavailable(reason),
            })
        }
        .boxed()
    }

    fn block_checksums(&self) -> bool {
        self.webhdfs.is_ok()
    }

    fn block_lengths(&self, rel: &str, size: u64) -> BoxFuture<'static, Option<Vec<u64>>> {
        let webhdfs = Arc::clone(&self.webhdfs);
        let path = self.full(rel);
        async move {
            let web = webhdfs.as_ref().as_ref().ok()?;
            match web.block_lengths(&path, size).await {
                Ok(lengths) => Some(lengths),
                Err(e) => {
                    tracing::warn!(path, error = %e, "cannot read the block lengths");
                    None
                }
            }
        }
        .boxed()
    }
}
