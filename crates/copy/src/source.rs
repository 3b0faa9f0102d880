//! Where files are read from: the [`FileSource`] trait and its local and S3 implementations (HDFS is
//! in `hdfs.rs`). The same listings describe the destination, so a plan is a merge of two sorted
//! streams (see `plan.rs`).

use crate::error::{blocking, CopyError};
use bytes::Bytes;
use futures::future::{BoxFuture, FutureExt};
use futures::stream::{self, BoxStream, StreamExt};
use object_store::aws::AmazonS3;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use std::borrow::Cow;
use std::collections::HashSet;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

/// One file of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Path relative to the listed root, `/`-separated, never starting with `/`.
    pub rel: String,
    pub size: u64,
    /// Modification time, milliseconds since the Unix epoch (S3: last-modified).
    pub mtime_ms: i64,
    pub owner: Option<String>,
    pub group: Option<String>,
    /// Unix permission bits (`0o644`), where the file system has them.
    pub permission: Option<u32>,
    /// The S3 ETag (destination listings of S3 only).
    pub etag: Option<String>,
    /// The file's block size (HDFS only): where HDFS's checksum starts a new block.
    pub block_size: Option<u64>,
}

/// What `--preserve` keeps of a file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileAttrs {
    /// Milliseconds since the Unix epoch.
    pub mtime_ms: i64,
    pub owner: Option<String>,
    pub group: Option<String>,
    pub permission: Option<u32>,
}

impl FileAttrs {
    /// The attributes a listing gave.
    pub fn of(entry: &Entry) -> FileAttrs {
        FileAttrs {
            mtime_ms: entry.mtime_ms,
            owner: entry.owner.clone(),
            group: entry.group.clone(),
            permission: entry.permission,
        }
    }
}

/// What a listing yields, in byte-wise lexicographic order of the relative path (the order S3
/// lists keys in), so that two listings can be merged without holding either in memory.
#[derive(Debug, Clone)]
pub enum Listed {
    File(Entry),
    /// A directory without entries (S3: a directory marker with nothing under it). Copied as a
    /// local directory, or to S3 as its marker.
    EmptyDir(String),
    /// An S3 directory marker beside entries (listed before them): it adds nothing to a source,
    /// whose entries are the directory, but a destination has it, and `--delete` may delete it.
    Marker(String),
    /// An entry that can't be copied (special file, unreadable directory, dangling link): a
    /// failure of that path, not of the whole listing. Listed where its kind sorts it: a
    /// directory (`dir`) as `rel/`.
    Unreadable {
        rel: String,
        reason: String,
        dir: bool,
    },
}

/// A tree of files that can be listed and read.
///
/// Contract: [`FileSource::list`] streams every file under the root once (and every empty
/// directory, and S3 directory markers), sorted by relative path (byte-wise; a directory as
/// `dir/`, so that `dir.txt` comes before `dir/x`), holding at most one directory's entries per
/// level in memory; an error item ends the listing (the copy stops: a partial listing must not
/// drive `--delete`). [`FileSource::read`] returns exactly `range` of the file or an error.
pub trait FileSource: Send + Sync + 'static {
    fn list(&self) -> BoxStream<'static, Result<Listed, CopyError>>;
    fn read(&self, rel: &str, range: Range<u64>) -> BoxFuture<'static, Result<Bytes, CopyError>>;
    /// The URL of a file, for messages.
    fn url(&self, rel: &str) -> String;

    /// Confirms, once a file's bytes are read, that it is still as `entry` lists it (size and
    /// modification time; S3: the ETag). A file written to while it was read would otherwise
    /// give a torn or short copy that verifies against itself. `Err(CopyError::Changed)` when
    /// it is not.
    fn unchanged(&self, entry: &Entry) -> BoxFuture<'static, Result<(), CopyError>>;

    /// The attributes `--preserve` keeps of a file (asked only when it keeps any). Default: the
    /// listing's.
    fn attributes(&self, entry: &Entry) -> BoxFuture<'static, Result<FileAttrs, CopyError>> {
        futures::future::ready(Ok(FileAttrs::of(entry))).boxed()
    }

    /// The checksum the source system keeps for a file (HDFS's file checksum), to be compared
    /// with the same value computed from the bytes the copy reads. Asked before the file is
    /// read. `Err` is a failure to ask (retried when transient); default: the source keeps none.
    fn file_checksum(
        &self,
        _entry: &Entry,
    ) -> BoxFuture<'static, Result<SourceChecksum, CopyError>> {
        futures::future::ready(Ok(SourceChecksum::NotKept)).boxed()
    }

    /// Whether [`FileSource::file_checksum`] can answer for this source and depends on block
    /// boundaries, so that multipart parts should start on them.
    fn block_checksums(&self) -> bool {
        false
    }

    /// The lengths of a file's blocks, where the source has blocks and can tell (HDFS), to tell a
    /// real checksum difference from blocks of unequal sizes. `None`: unknown.
    fn block_lengths(&self, _rel: &str, _size: u64) -> BoxFuture<'static, Option<Vec<u64>>> {
        futures::future::ready(None).boxed()
    }
}

/// What [`FileSource::file_checksum`] found.
#[derive(Debug, Clone)]
pub enum SourceChecksum {
    /// The source keeps no checksum of its own (local files, S3): nothing to count.
    NotKept,
    /// It does, but not for this file or not now: the reason, counted in the summary.
    Unavailable(String),
    /// HDFS's file checksum, and the block size of the file.
    Hdfs {
        sum: crate::hdfs_checksum::HdfsChecksum,
        block_size: u64,
    },
}

/// Sort key of a directory entry: directories sort as `name/`, so that a depth-first walk of
/// sorted directories yields full paths in byte-wise order (`a.txt` < `a/x` because `.` < `/`).
pub(crate) fn sort_key(name: &str, is_dir: bool) -> Cow<'_, str> {
    if is_dir {
        format!("{name}/").into()
    } else {
        name.into()
    }
}

/// A local name (or path) as the `String` relative paths, journals and manifests hold. A name that
/// is not valid UTF-8 (legal on Unix, where a name is bytes) is carried losslessly: each byte that
/// is not part of valid UTF-8 is written as NUL and two hex digits. No Unix file name holds a NUL
/// (and S3 keys can't be listed with one), so this never collides with a real name, and valid
/// names are unchanged.
pub(crate) fn lossless_string(name: &std::ffi::OsStr) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut rel = String::new();
    for chunk in name.as_bytes().utf8_chunks() {
        rel.push_str(chunk.valid());
        for b in chunk.invalid() {
            rel.push_str(&format!("\0{b:02x}"));
        }
    }
    rel
}

/// The local name (or path) a [`lossless_string`] stands for.
pub(crate) fn lossless_path(rel: &str) -> PathBuf {
    use std::os::unix::ffi::OsStringExt;
    let mut bytes = Vec::with_capacity(rel.len());
    let mut rest = rel;
    while let Some(at) = rest.find('\0') {
        bytes.extend_from_slice(&rest.as_bytes()[..at]);
        let hex = rest
            .get(at + 1..at + 3)
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()));
        match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
            Some(b) => {
                bytes.push(b);
                rest = &rest[at + 3..];
            }
            None => {
                bytes.push(0);
                rest = &rest[at + 1..];
            }
        }
    }
    bytes.extend_from_slice(rest.as_bytes());
    PathBuf::from(std::ffi::OsString::from_vec(bytes))
}

/// A relative path for messages: the bytes of a name that is not UTF-8 as `\xff`.
pub(crate) fn shown_rel(rel: &str) -> std::borrow::Cow<'_, str> {
    if is_utf8_name(rel) {
        return rel.into();
    }
    let mut out = String::with_capacity(rel.len() + 8);
    let mut chars = rel.chars();
    while let Some(c) = chars.next() {
        if c == '\0' {
            out.push_str("\\x");
            out.extend(chars.by_ref().take(2));
        } else {
            out.push(c);
        }
    }
    out.into()
}

/// Whether a relative path names only valid UTF-8 (every S3 key does; see [`lossless_string`]).
pub(crate) fn is_utf8_name(rel: &str) -> bool {
    !rel.contains('\0')
}

/// A local directory tree.
#[derive(Debug, Clone)]
pub struct LocalTree {
    root: PathBuf,
    links: Links,
    /// A directory the listing leaves out wherever the walk meets it (see
    /// [`LocalTree::leaving_out`]).
    leave_out: Option<PathBuf>,
}

/// What a listing does with symbolic links.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Links {
    /// A source: a link is listed as what it points to (a link to a file copies the file, a
    /// link to a directory its files). A link that points nowhere, or to a directory the walk is
    /// already inside (a loop), is a failure of that path.
    Follow,
    /// A destination: a link is an entry of its own, listed with the link's own size and time,
    /// never followed, so that `--delete` removes the link and never what it points to.
    AsEntries,
}

impl LocalTree {
    /// `root` must be an existing directory (checked by the caller for sources; a missing
    /// destination directory lists as empty).
    pub fn new(root: PathBuf, links: Links) -> LocalTree {
        LocalTree {
            root,
            links,
            leave_out: None,
        }
    }

    /// The listing leaves out the directory `dir` (the other side of the copy, when it is
    /// nested in this one), recognised by its device and inode wherever the walk meets it:
    /// through followed links, `..` or another spelling of its path, and once it is created
    /// during the walk.
    pub(crate) fn leaving_out(self, dir: PathBuf) -> LocalTree {
        LocalTree {
            leave_out: Some(dir),
            ..self
        }
    }

    pub fn root(&self) -> &std::path::Path {
        &self.root
    }

    /// The local path of a relative path of this tree.
    pub(crate) fn path(&self, rel: &str) -> PathBuf {
        self.root.join(lossless_path(rel))
    }
}

impl FileSource for LocalTree {
    fn list(&self) -> BoxStream<'static, Result<Listed, CopyError>> {
        let (tx, rx) = tokio::sync::mpsc::channel(1024);
        let root = self.root.clone();
        let links = self.links;
        let leave_out = self.leave_out.clone();
        // std::fs is blocking: walk on a blocking thread, hand entries over a bounded channel.
        let walker = tokio::task::spawn_blocking(move || {
            if let Err(e) = walk_local(&root, links, leave_out.as_deref(), &tx) {
                let _ = tx.blocking_send(Err(e));
            }
        });
        let entries = stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        });
        // A walk that panicked ends the channel early, and a short listing would look to
        // `--delete` like files gone from the source: it ends in an error instead.
        let ended = stream::once(walker).filter_map(|joined| async move {
            joined.err().map(|e| {
                Err(CopyError::Invalid(format!(
                    "the listing of the source directory stopped: {e}"
                )))
            })
        });
        entries.chain(ended).boxed()
    }

    fn read(&self, rel: &str, range: Range<u64>) -> BoxFuture<'static, Result<Bytes, CopyError>> {
        let path = self.path(rel);
        blocking("reader", move || read_local(&path, range)).boxed()
    }

    fn url(&self, rel: &str) -> String {
        self.root.join(&*shown_rel(rel)).display().to_string()
    }

    fn unchanged(&self, entry: &Entry) -> BoxFuture<'static, Result<(), CopyError>> {
        let path = self.path(&entry.rel);
        let listed = (entry.size, entry.mtime_ms);
        async move {
            let meta = tokio::fs::metadata(&path)
                .await
                .map_err(|e| CopyError::io("read", path.display(), e))?;
            let now = (meta.len(), mtime_ms(&meta));
            same_file(path.display().to_string(), listed, now)
        }
        .boxed()
    }
}

/// A local file's modification time in milliseconds since the Unix epoch, as listings give it.
fn mtime_ms(meta: &std::fs::Metadata) -> i64 {
    use std::os::unix::fs::MetadataExt;
    meta.mtime() * 1000 + meta.mtime_nsec() / 1_000_000
}

/// `Ok` when a file's (size, modification time in ms) is still the listed one.
pub(crate) fn same_file(
    path: String,
    listed: (u64, i64),
    now: (u64, i64),
) -> Result<(), CopyError> {
    let shown = |(size, mtime_ms): (u64, i64)| {
        let time = chrono::DateTime::from_timestamp_millis(mtime_ms).map_or_else(
            || format!("{mtime_ms} ms"),
            |t| t.format("%Y-%m-%d %H:%M:%S%.3f UTC").to_string(),
        );
        format!("{size} bytes modified {time}")
    };
    if listed == now {
        Ok(())
    } else {
        Err(CopyError::Changed {
            path,
            listed: shown(listed),
            now: shown(now),
        })
    }
}

fn read_local(path: &std::path::Path, range: Range<u64>) -> Result<Bytes, CopyError> {
    use std::os::unix::fs::FileExt;
    let err = |e: std::io::Error| CopyError::Read {
        path: path.display().to_string(),
        reason: e.to_string(),
        transient: false,
    };
    let file = std::fs::File::open(path).map_err(err)?;
    let len = usize::try_from(range.end - range.start)
        .map_err(|_| CopyError::Invalid(format!("{}: range too large", path.display())))?;
    let mut buf = vec![0u8; len];
    match file.read_exact_at(&mut buf, range.start) {
        Ok(()) => Ok(Bytes::from(buf)),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            let now = file.metadata().map(|m| m.len()).unwrap_or(0);
            Err(CopyError::Changed {
                path: path.display().to_string(),
                listed: format!("at least {} bytes", range.end),
                now: format!("{now} bytes"),
            })
        }
        Err(e) => Err(err(e)),
    }
}

type Sender = tokio::sync::mpsc::Sender<Result<Listed, CopyError>>;

/// Whether the symbolic link `link` leads to the directory `dir` or to a directory above it.
fn leads_above(link: &std::path::Path, dir: &std::path::Path) -> bool {
    match (link.canonicalize(), dir.canonicalize()) {
        (Ok(target), Ok(dir)) => dir.starts_with(target),
        _ => false,
    }
}

/// Depth-first walk with a stack of sorted directory listings (one per level below the root),
/// leaving out the directory `leave_out` (see [`LocalTree::leaving_out`]).
fn walk_local(
    root: &std::path::Path,
    links: Links,
    leave_out: Option<&std::path::Path>,
    tx: &Sender,
) -> Result<(), CopyError> {
    use std::os::unix::fs::MetadataExt;
    struct Item {
        key: String,
        rel: String,
        path: PathBuf,
        /// The entry's metadata, or why it can't be read (a dangling link).
        meta: Result<std::fs::Metadata, String>,
    }
    let read_dir = |dir: &std::path::Path, rel: &str| -> Result<Vec<Item>, String> {
        let mut items = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(|e| e.to_string())? {
            let entry = entry.map_err(|e| e.to_string())?;
            let path = entry.path();
            let name = entry.file_name();
            let name_rel = |name: &str| {
                if rel.is_empty() {
                    name.to_string()
                } else {
                    format!("{rel}/{name}")
                }
            };
            // The entry itself (a link is not followed here).
            let own = entry.metadata().map_err(|e| e.to_string());
            let name = lossless_string(&name);
            let meta = match own {
                Ok(own) if own.file_type().is_symlink() && links == Links::Follow => {
                    std::fs::metadata(&path).map_err(|e| {
                        let target = std::fs::read_link(&path)
                            .map(|t| t.display().to_string())
                            .unwrap_or_else(|_| "?".into());
                        format!("symbolic link to {target}, which can't be read: {e}")
                    })
                }
                other => other,
            };
            let is_dir = meta.as_ref().is_ok_and(|m| m.is_dir());
            items.push(Item {
                key: sort_key(&name, is_dir).into_owned(),
                rel: name_rel(&name),
                path,
                meta,
            });
        }
        // Reversed: the stack pops the smallest first.
        items.sort_by(|a, b| b.key.as_bytes().cmp(a.key.as_bytes()));
        Ok(items)
    };
    let send = |item: Result<Listed, CopyError>| tx.blocking_send(item).is_ok();
    let top = read_dir(root, "").map_err(|reason| CopyError::Read {
        path: root.display().to_string(),
        reason,
        transient: false,
    })?;
    let root_id = std::fs::metadata(root)
        .map(|m| (m.dev(), m.ino()))
        .map_err(|e| CopyError::io("read", root.display(), e))?;
    // Each level of the stack, and the (device, inode) of the directory it lists: a followed
    // link to one of them would walk the same files again and again.
    let mut stack = vec![(top, root_id)];
    // Looked up until found: the other side may not exist yet, and be created by the copy.
    let mut left_out: Option<(u64, u64)> = None;
    while let Some((level, _)) = stack.last_mut() {
        let Some(item) = level.pop() else {
            stack.pop();
            continue;
        };
        // A destination's link to the source, or to a directory above it: `--delete` would
        // delete it, and with it the path the source may be read through (`copy data/link/in
        // data --delete`).
        if links == Links::AsEntries
            && item.meta.as_ref().is_ok_and(|m| m.is_symlink())
            && leave_out.is_some_and(|dir| leads_above(&item.path, dir))
        {
            tracing::info!(
                "not listed: {} leads to the other side of the copy",
                item.path.display()
            );
            continue;
        }
        let listed = match item.meta {
            // A dangling link: what it would be is unknown, and it sorted as a file.
            Err(reason) => Listed::Unreadable {
                rel: item.rel,
                reason,
                dir: false,
            },
            Ok(meta) if meta.is_dir() => {
                let id = (meta.dev(), meta.ino());
                if left_out.is_none() {
                    left_out = leave_out
                        .and_then(|dir| std::fs::metadata(dir).ok())
                        .map(|m| (m.dev(), m.ino()));
                }
                // The same device and inode, and the same place (an overlay file system may
                // give two directories one inode number).
                if left_out == Some(id)
                    && leave_out.and_then(|dir| dir.canonicalize().ok())
                        == item.path.canonicalize().ok()
                {
                    tracing::info!(
                        "not listed: {} is the other side of the copy",
                        item.path.display()
                    );
                    continue;
                }
                if stack.iter().any(|(_, ancestor)| *ancestor == id) {
                    Listed::Unreadable {
                        rel: item.rel,
                        reason:
                            "a symbolic link to a directory that contains it (a loop): not followed"
                                .into(),
                        dir: true,
                    }
                } else {
                    match read_dir(&item.path, &item.rel) {
                        Ok(children) if children.is_empty() => Listed::EmptyDir(item.rel),
                        Ok(children) => {
                            stack.push((children, id));
                            continue;
                        }
                        Err(reason) => Listed::Unreadable {
                            rel: item.rel,
                            reason: format!("cannot list directory: {reason}"),
                            dir: true,
                        },
                    }
                }
            }
            Ok(meta) if meta.is_file() || meta.file_type().is_symlink() => {
                let mtime_ms = mtime_ms(&meta);
                Listed::File(Entry {
                    rel: item.rel,
                    size: meta.len(),
                    mtime_ms,
                    owner: Some(meta.uid().to_string()),
                    group: Some(meta.gid().to_string()),
                    permission: Some(meta.mode() & 0o7777),
                    etag: None,
                    block_size: None,
                })
            }
            Ok(_) => Listed::Unreadable {
                rel: item.rel,
                reason: "not a regular file (device, socket or FIFO)".into(),
                dir: false,
            },
        };
        if !send(Ok(listed)) {
            return Ok(()); // the consumer stopped listening
        }
    }
    Ok(())
}

/// Objects under a prefix of an S3 bucket.
#[derive(Debug, Clone)]
pub struct S3Tree {
    pub(crate) store: Arc<AmazonS3>,
    /// Destinations: the writer of CRC32C-checksummed PUTs and uploads (`None`: object_store's
    /// writes, verified by ETag alone).
    pub(crate) crc: Option<Arc<crate::s3crc::ChecksumWriter>>,
    /// Destinations: the writer of directory markers, whose keys end in `/` (object_store's paths
    /// can't name them); the same writer as `crc` when that is on. `None`: a source, or an S3
    /// configuration the writer does not sign (see [`crate::s3crc::ChecksumWriter::new`]).
    pub(crate) markers: Option<Arc<crate::s3crc::ChecksumWriter>>,
    pub(crate) bucket: String,
    /// Key prefix without trailing `/` (empty: the whole bucket).
    pub(crate) prefix: String,
}

impl S3Tree {
    pub(crate) fn key(&self, rel: &str) -> String {
        if self.prefix.is_empty() {
            rel.to_string()
        } else {
            format!("{}/{rel}", self.prefix)
        }
    }

    /// The prefix as a store path (`None`: the whole bucket).
    pub(crate) fn root(&self) -> Result<Option<Path>, CopyError> {
        if self.prefix.is_empty() {
            return Ok(None);
        }
        Path::parse(&self.prefix).map(Some).map_err(|e| {
            CopyError::Invalid(format!(
                "s3://{}/{}: bad prefix: {e}",
                self.bucket, self.prefix
            ))
        })
    }

    /// Whether any object is under the prefix, asked with one request (a listing's first page):
    /// errors of the bucket or the credentials show here.
    pub(crate) async fn has_objects(&self) -> Result<bool, CopyError> {
        let root = self.root()?;
        match self.store.list(root.as_ref()).next().await {
            Some(Ok(_)) => Ok(true),
            Some(Err(e)) => Err(CopyError::store(
                "list",
                self.url("").trim_end_matches('/').to_string(),
                e,
            )),
            None => Ok(false),
        }
    }

    pub(crate) fn path(&self, rel: &str) -> Result<Path, CopyError> {
        let key = self.key(rel);
        Path::parse(&key).map_err(|e| {
            CopyError::Invalid(format!("s3://{}/{key}: not a valid key: {e}", self.bucket))
        })
    }
}

/// Depth-first walk of an S3 prefix, one delimited listing (`/`) per "directory", each sorted like
/// a local directory. S3-compatible servers do not agree on the order of a flat listing (AWS: byte
/// order of keys; SeaweedFS: directory by directory), so the order is made here, the same way for
/// every source; memory holds one directory level per depth.
struct S3Walk {
    tree: S3Tree,
    stack: Vec<Vec<(String, S3Item)>>,
    started: bool,
}

enum S3Item {
    /// A common prefix, and whether the listing that has it held its marker too.
    Dir {
        path: Path,
        marker: bool,
    },
    Object(object_store::ObjectMeta),
}

impl S3Walk {
    fn rel_of(&self, key: &str) -> String {
        let key = key.trim_end_matches('/');
        if self.tree.prefix.is_empty() {
            key.to_string()
        } else {
            key.strip_prefix(&self.tree.prefix)
                .unwrap_or(key)
                .trim_start_matches('/')
                .to_string()
        }
    }

    /// The entries of `dir`, sorted in reverse (the stack pops the smallest first), and whether
    /// the listing held `dir`'s own marker.
    async fn list_dir(
        &self,
        dir: Option<&Path>,
    ) -> Result<(Vec<(String, S3Item)>, bool), CopyError> {
        let shown = format!(
            "s3://{}/{}",
            self.tree.bucket,
            dir.map(|d| d.as_ref()).unwrap_or("")
        );
        let r = self
            .tree
            .store
            .list_with_delimiter(dir)
            .await
            .map_err(|e| CopyError::store("list", shown, e))?;
        let name = |p: &Path| {
            p.as_ref()
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_string()
        };
        // A directory marker (the empty object `dir/` that the S3 console's "Create folder" and
        // S3A's `mkdirs` make) lists as an object with the directory's path: in the directory's
        // own listing (SeaweedFS), or beside the common prefix in the parent's. It is the
        // directory itself, not a file (one with nothing beside it makes the directory an empty
        // one).
        // One set of each, not a scan per object or per prefix: a directory may list thousands
        // of both.
        let prefixes: HashSet<&Path> = r.common_prefixes.iter().collect();
        let is_marker = |o: &object_store::ObjectMeta| {
            o.size == 0 && (Some(&o.location) == dir || prefixes.contains(&o.location))
        };
        let markers: HashSet<&Path> = r
            .objects
            .iter()
            .filter(|o| is_marker(o))
            .map(|o| &o.location)
            .collect();
        let marker_of = |p: &Path| markers.contains(p);
        let own_marker = dir.is_some_and(marker_of);
        let objects: Vec<object_store::ObjectMeta> = r
            .objects
            .iter()
            .filter(|o| !is_marker(o))
            .cloned()
            .collect();
        let mut items: Vec<(String, S3Item)> = r
            .common_prefixes
            .iter()
            .map(|p| {
                let dir = S3Item::Dir {
                    path: p.clone(),
                    marker: marker_of(p),
                };
                (sort_key(&name(p), true).into_owned(), dir)
            })
            .chain(objects.into_iter().map(|o| {
                (
                    sort_key(&name(&o.location), false).into_owned(),
                    S3Item::Object(o),
                )
            }))
            .collect();
        items.sort_by(|a, b| b.0.as_bytes().cmp(a.0.as_bytes()));
        Ok((items, own_marker))
    }

    async fn next(&mut self) -> Option<Result<Listed, CopyError>> {
        if !self.started {
            self.started = true;
            let root = match Path::parse(&self.tree.prefix) {
                Ok(p) => (!self.tree.prefix.is_empty()).then_some(p),
                Err(e) => {
                    return Some(Err(CopyError::Invalid(format!(
                        "s3://{}/{}: bad prefix: {e}",
                        self.tree.bucket, self.tree.prefix
                    ))))
                }
            };
            // The root's own marker is not a directory of the listing.
            match self.list_dir(root.as_ref()).await {
                Ok((items, _)) => self.stack.push(items),
                Err(e) => return Some(Err(e)),
            }
        }
        loop {
            let level = self.stack.last_mut()?;
            let Some((_, item)) = level.pop() else {
                self.stack.pop();
                continue;
            };
            match item {
                S3Item::Dir { path, marker } => match self.list_dir(Some(&path)).await {
                    // Only its directory marker: an empty directory, as S3A sees it.
                    Ok((children, _)) if children.is_empty() => {
                        return Some(Ok(Listed::EmptyDir(self.rel_of(path.as_ref()))))
                    }
                    Ok((children, own_marker)) => {
                        self.stack.push(children);
                        if marker || own_marker {
                            return Some(Ok(Listed::Marker(self.rel_of(path.as_ref()))));
                        }
                    }
                    Err(e) => return Some(Err(e)),
                },
                S3Item::Object(meta) => {
                    return Some(Ok(Listed::File(Entry {
                        rel: self.rel_of(meta.location.as_ref()),
                        size: meta.size,
                        mtime_ms: meta.last_modified.timestamp_millis(),
                        owner: None,
                        group: None,
                        permission: None,
                        etag: meta.e_tag.as_deref().map(crate::digest::normalize_etag),
                        block_size: None,
                    })))
                }
            }
        }
    }
}

impl FileSource for S3Tree {
    fn list(&self) -> BoxStream<'static, Result<Listed, CopyError>> {
        let walk = S3Walk {
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
        let store = Arc::clone(&self.store);
        let path = self.path(rel);
        let url = self.url(rel);
        async move {
            let path = path?;
            if range.is_empty() {
                return Ok(Bytes::new());
            }
            store
                .get_range(&path, range)
                .await
                .map_err(|e| CopyError::store("read", url, e))
        }
        .boxed()
    }

    fn url(&self, rel: &str) -> String {
        format!("s3://{}/{}", self.bucket, self.key(rel))
    }

    /// The attributes a copy with `--preserve` wrote into the object's metadata (one HEAD): a
    /// listing has none of them. Without `migrate-mtime`, the mtime is the object's Last-Modified.
    fn attributes(&self, entry: &Entry) -> BoxFuture<'static, Result<FileAttrs, CopyError>> {
        use crate::dest::{META_GROUP, META_MTIME, META_OWNER, META_PERMISSION};
        let store = Arc::clone(&self.store);
        let path = self.path(&entry.rel);
        let url = self.url(&entry.rel);
        let mtime_ms = entry.mtime_ms;
        async move {
            let opts = object_store::GetOptions {
                head: true,
                ..object_store::GetOptions::default()
            };
            let r = store
                .get_opts(&path?, opts)
                .await
                .map_err(|e| CopyError::store("head", url, e))?;
            let meta = |k: &str| {
                r.attributes
                    .get(&object_store::Attribute::Metadata(k.to_string().into()))
                    .map(|v| v.as_ref().to_string())
            };
            Ok(FileAttrs {
                mtime_ms: meta(META_MTIME)
                    .and_then(|m| m.parse().ok())
                    .unwrap_or(mtime_ms),
                owner: meta(META_OWNER),
                group: meta(META_GROUP),
                permission: meta(META_PERMISSION).and_then(|p| u32::from_str_radix(&p, 8).ok()),
            })
        }
        .boxed()
    }

    fn unchanged(&self, entry: &Entry) -> BoxFuture<'static, Result<(), CopyError>> {
        let store = Arc::clone(&self.store);
        let path = self.path(&entry.rel);
        let url = self.url(&entry.rel);
        let listed = entry.clone();
        async move {
            let meta = store
                .head(&path?)
                .await
                .map_err(|e| CopyError::store("head", url.clone(), e))?;
            let etag = meta.e_tag.as_deref().map(crate::digest::normalize_etag);
            match (&listed.etag, etag) {
                // An overwrite gives a new ETag, even with the same bytes.
                (Some(listed_etag), Some(now)) => {
                    if *listed_etag == now && listed.size == meta.size {
                        Ok(())
                    } else {
                        Err(CopyError::Changed {
                            path: url,
                            listed: format!("{} bytes, ETag {listed_etag}", listed.size),
                            now: format!("{} bytes, ETag {now}", meta.size),
                        })
                    }
                }
                // A HEAD tells the time to the second only (listings may tell milliseconds).
                _ => same_file(
                    url,
                    (listed.size, listed.mtime_ms / 1000 * 1000),
                    (meta.size, meta.last_modified.timestamp() * 1000),
                ),
            }
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStrExt;

    #[test]
    fn names_that_are_not_utf8_survive_as_strings() {
        let raw: &[u8] = b"caf\xe9/d\xff\xfe/\xc3\xa9t\xc3";
        let name = std::ffi::OsStr::from_bytes(raw);
        let rel = lossless_string(name);
        assert_eq!(rel, "caf\u{0}e9/d\u{0}ff\u{0}fe/\u{e9}t\u{0}c3");
        assert!(!is_utf8_name(&rel));
        assert_eq!(lossless_path(&rel).as_os_str().as_bytes(), raw);
        assert_eq!(shown_rel(&rel), "caf\\xe9/d\\xff\\xfe/\u{e9}t\\xc3");
        // Valid names are unchanged.
        assert_eq!(lossless_string(std::ffi::OsStr::new("été/a b")), "été/a b");
        assert_eq!(lossless_path("été/a b"), PathBuf::from("été/a b"));
        assert!(is_utf8_name("été/a b"));
    }
}
