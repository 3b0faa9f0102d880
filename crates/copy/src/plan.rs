//! Opening the two sides from their URLs, and the merge of their sorted listings into pairs.

use crate::dest::Destination;
use crate::error::CopyError;
use crate::s3crc::ChecksumWriter;
use crate::source::{sort_key, Entry, FileSource, Links, Listed, LocalTree, S3Tree};
use crate::CopyOptions;
use futures::stream::{BoxStream, StreamExt};
use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::Arc;

enum Parsed {
    Local(PathBuf),
    S3 {
        bucket: String,
        prefix: String,
    },
    #[cfg_attr(not(feature = "hdfs"), allow(dead_code))]
    Hdfs(url::Url),
}

fn parse(what: &'static str, raw: &str) -> Result<Parsed, CopyError> {
    let bad = |reason: String| CopyError::InvalidUrl {
        what,
        url: raw.to_string(),
        reason,
    };
    if raw.trim().is_empty() {
        return Err(bad("empty".into()));
    }
    let Some((scheme, rest)) = raw.split_once("://") else {
        return Ok(Parsed::Local(PathBuf::from(raw)));
    };
    let scheme = scheme.to_ascii_lowercase();
    if scheme == "s3" || scheme == "s3a" {
        // Taken literally, like the AWS CLI does: S3 keys may hold `%`, `#`, `?` and spaces
        // (Hive writes `%3A` into partition directory names), so nothing is decoded.
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(bad("no bucket: expected s3://bucket/prefix".into()));
        }
        let prefix = key.trim_matches('/').to_string();
        object_store::path::Path::parse(&prefix).map_err(|e| bad(format!("bad prefix: {e}")))?;
        return Ok(Parsed::S3 {
            bucket: bucket.to_string(),
            prefix,
        });
    }
    let url = url::Url::parse(raw).map_err(|e| bad(e.to_string()))?;
    match scheme.as_str() {
        "file" => url
            .to_file_path()
            .map(Parsed::Local)
            .map_err(|()| bad("a file:// URL needs an absolute local path".into())),
        "hdfs" | "viewfs" => Ok(Parsed::Hdfs(url)),
        other => Err(bad(format!(
            "unsupported scheme {other:?}: use hdfs://, viewfs://, s3://, file:// or a directory"
        ))),
    }
}

/// The S3 tree of `s3://bucket/prefix`; `destination`: one the copy writes to, with the signed
/// writers of CRC32C-checksummed objects (when `opts.crc32c`) and of directory markers.
fn s3_tree(
    opts: &CopyOptions,
    what: &'static str,
    raw: &str,
    bucket: String,
    prefix: String,
    destination: bool,
) -> Result<S3Tree, CopyError> {
    // Unsigned payloads: signing hashes every byte with SHA-256 (a fifth of upload throughput here),
    // and the copy checks every object and part against the MD5 (and CRC32C) of what it read anyway.
    let builder = migrate_stage::s3_builder(&bucket, opts.endpoint.as_deref(), opts.allow_http)
        .with_unsigned_payload(true);
    let store = Arc::new(builder.clone().build().map_err(|e| CopyError::InvalidUrl {
        what,
        url: raw.to_string(),
        reason: e.to_string(),
    })?);
    let markers = match destination {
        true => ChecksumWriter::new(&builder, Arc::clone(&store))?.map(Arc::new),
        false => None,
    };
    let crc = markers.clone().filter(|_| opts.crc32c);
    Ok(S3Tree {
        store,
        crc,
        markers,
        bucket,
        prefix,
    })
}

/// Of `written` (files and directories the run itself writes: the journal, its state directory,
/// the manifest, the failure report), those under the local directory `raw` names, as paths
/// relative to it (`.migrate-copy`, `logs/report.jsonl`): a copy must not copy, compare or delete
/// its own state. Paths that don't exist (yet) or aren't under it are left out.
pub(crate) fn own_paths_under(raw: &str, written: &[PathBuf]) -> Vec<String> {
    let Ok(Parsed::Local(dir)) = parse("directory", raw) else {
        return Vec::new();
    };
    let Ok(root) = dir.canonicalize() else {
        return Vec::new();
    };
    written
        .iter()
        .filter_map(|path| path.canonicalize().ok())
        .filter_map(|path| {
            let parts: Vec<String> = path
                .strip_prefix(&root)
                .ok()?
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            (!parts.is_empty()).then(|| parts.join("/"))
        })
        .collect()
}

/// Whether `rel` is one of `own` (see [`own_paths_under`]) or inside one of them.
pub(crate) fn is_own(own: &[String], rel: &str) -> bool {
    own.iter().any(|o| {
        rel.strip_prefix(o.as_str())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

/// The local directory `raw` names, if it names one.
fn local_dir(raw: &str) -> Option<PathBuf> {
    match parse("directory", raw) {
        Ok(Parsed::Local(dir)) => Some(dir),
        _ => None,
    }
}

/// How a copy's source and destination overlap, as far as each side must leave the other
/// alone: S3 prefixes of one bucket nested in one another give the inner one's path relative
/// to the outer one, as `(destination in the source, source in the destination)`, compared by
/// whole segments (`s3://b/data2` is not inside `s3://b/data`); nested local directories are
/// left out by the walks ([`LocalTree::leaving_out`]). A copy whose source and destination are
/// the same local directory (by device and inode: whatever links, `..` or `file://` spelling
/// lead to it) or the same S3 prefix is refused.
pub(crate) fn nested_prefixes(
    opts: &CopyOptions,
) -> Result<(Option<String>, Option<String>), CopyError> {
    use std::os::unix::fs::MetadataExt;
    let same_place = || {
        Err(CopyError::SamePlace {
            source_url: opts.source.clone(),
            destination: opts.destination.clone(),
        })
    };
    match (
        parse("source", &opts.source)?,
        parse("destination", &opts.destination)?,
    ) {
        (Parsed::Local(s), Parsed::Local(d)) => {
            if let (Ok(s), Ok(d)) = (std::fs::metadata(&s), std::fs::metadata(&d)) {
                if (s.dev(), s.ino()) == (d.dev(), d.ino()) {
                    return same_place();
                }
            }
            Ok((None, None))
        }
        (
            Parsed::S3 { bucket, prefix },
            Parsed::S3 {
                bucket: to_bucket,
                prefix: to_prefix,
            },
        ) if bucket == to_bucket => {
            if prefix == to_prefix {
                return same_place();
            }
            let inside = |inner: &str, outer: &str| -> Option<String> {
                if outer.is_empty() {
                    return (!inner.is_empty()).then(|| inner.to_string());
                }
                inner
                    .strip_prefix(outer)?
                    .strip_prefix('/')
                    .map(str::to_string)
            };
            Ok((inside(&to_prefix, &prefix), inside(&prefix, &to_prefix)))
        }
        _ => Ok((None, None)),
    }
}

/// `dir` without `..`: its longest existing part resolved (through links, as the system would),
/// the rest applied as written, where no link can be. Creating `data/new/../../out` as written
/// would make `data/new` on the way, inside a source `data`.
fn without_dot_dot(dir: PathBuf) -> PathBuf {
    use std::path::Component;
    if !dir.components().any(|c| c == Component::ParentDir) {
        return dir;
    }
    let absolute = std::path::absolute(&dir).unwrap_or(dir);
    let Some((mut resolved, existing)) = absolute
        .ancestors()
        .find_map(|a| a.canonicalize().ok().map(|real| (real, a)))
    else {
        return absolute;
    };
    for component in absolute
        .strip_prefix(existing)
        .unwrap_or(&absolute)
        .components()
    {
        match component {
            Component::ParentDir => {
                resolved.pop();
            }
            Component::Normal(name) => resolved.push(name),
            _ => {}
        }
    }
    resolved
}

/// Whether a source URL is HDFS (`hdfs://`, `viewfs://`), as [`open_source`] reads it.
pub(crate) fn is_hdfs(raw: &str) -> bool {
    matches!(parse("source", raw), Ok(Parsed::Hdfs(_)))
}

/// Opens the source and checks that its root exists (S3 prefixes always "exist"; an empty one
/// lists nothing).
pub(crate) async fn open_source(opts: &CopyOptions) -> Result<Arc<dyn FileSource>, CopyError> {
    let raw = &opts.source;
    match parse("source", raw)? {
        Parsed::Local(dir) => {
            let meta = std::fs::metadata(&dir).map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => CopyError::MissingSource(dir.display().to_string()),
                _ => CopyError::io("read", dir.display(), e),
            })?;
            if !meta.is_dir() {
                return Err(CopyError::Invalid(format!(
                    "source {} is a file: give its directory (and --src-pattern to pick files)",
                    dir.display()
                )));
            }
            let tree = LocalTree::new(dir, Links::Follow);
            // A destination inside the source (`copy data data/backup`) is not copied again.
            Ok(Arc::new(match local_dir(&opts.destination) {
                Some(dest) => tree.leaving_out(dest),
                None => tree,
            }))
        }
        Parsed::S3 { bucket, prefix } => {
            let tree = s3_tree(opts, "source", raw, bucket, prefix, false)?;
            check_s3_source(&tree).await?;
            Ok(Arc::new(tree))
        }
        #[cfg(feature = "hdfs")]
        Parsed::Hdfs(url) => Ok(Arc::new(
            crate::hdfs::HdfsTree::open(&url, &opts.hdfs_http, opts.hdfs_checksum).await?,
        )),
        #[cfg(not(feature = "hdfs"))]
        Parsed::Hdfs(_) => Err(CopyError::InvalidUrl {
            what: "source",
            url: raw.clone(),
            reason: "this build has no HDFS support (cargo feature `hdfs`)".into(),
        }),
    }
}

/// An S3 source must have objects under its prefix, as a local or HDFS source must exist: a
/// mistyped prefix lists nothing, and would otherwise be an empty copy (one that `--delete`
/// takes as "delete everything").
async fn check_s3_source(tree: &S3Tree) -> Result<(), CopyError> {
    if tree.has_objects().await? {
        return Ok(());
    }
    let shown = tree.url("").trim_end_matches('/').to_string();
    if let Some(key) = tree.root()? {
        use object_store::ObjectStoreExt;
        match tree.store.head(&key).await {
            Ok(_) => {
                return Err(CopyError::Invalid(format!(
                    "source {shown} is an object, not a prefix: give the prefix it is under (and --src-pattern to pick files)"
                )))
            }
            Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(CopyError::store("head", shown, e)),
        }
    }
    Err(CopyError::MissingSource(shown))
}

pub(crate) fn open_destination(opts: &CopyOptions) -> Result<Destination, CopyError> {
    let raw = &opts.destination;
    match parse("destination", raw)? {
        Parsed::Local(dir) => {
            let dir = without_dot_dot(dir);
            // A missing directory is created as files arrive; a file can't hold any.
            match std::fs::metadata(&dir) {
                Ok(meta) if !meta.is_dir() => {
                    return Err(CopyError::Invalid(format!(
                        "destination {} is a file, not a directory: give the directory to copy into (one that does not exist is created)",
                        dir.display()
                    )))
                }
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(CopyError::io("read destination", dir.display(), e))
                }
                _ => {}
            }
            let tree = LocalTree::new(dir, Links::AsEntries);
            // A source inside the destination (`copy data/in data --delete`) is not listed,
            // so never deleted.
            Ok(Destination::Local(match local_dir(&opts.source) {
                Some(source) => tree.leaving_out(source),
                None => tree,
            }))
        }
        Parsed::S3 { bucket, prefix } => Ok(Destination::S3(s3_tree(
            opts,
            "destination",
            raw,
            bucket,
            prefix,
            true,
        )?)),
        Parsed::Hdfs(_) => Err(CopyError::InvalidUrl {
            what: "destination",
            url: raw.clone(),
            reason: "destinations are s3://bucket/prefix, file:///dir or a directory".into(),
        }),
    }
}

/// A source path that pairs with a destination file: a file, or a path that can't be read (a
/// directory, `dir`, pairs with the destination's directory or marker of that name, if any).
pub(crate) enum SourcePath {
    File(Entry),
    Unreadable {
        rel: String,
        reason: String,
        dir: bool,
    },
}

impl SourcePath {
    pub(crate) fn rel(&self) -> &str {
        match self {
            SourcePath::File(e) => &e.rel,
            SourcePath::Unreadable { rel, .. } => rel,
        }
    }

    fn is_dir(&self) -> bool {
        matches!(self, SourcePath::Unreadable { dir: true, .. })
    }
}

/// A source item, the destination item at the same path, or both.
pub(crate) enum Pair {
    /// A source path the destination does not have.
    Source(SourcePath),
    Both(SourcePath, Entry),
    DestOnly(Entry),
    /// An empty source directory the destination does not have: neither as an empty directory,
    /// nor as an S3 directory marker, nor with entries under it.
    SourceDir(String),
    /// An empty source directory the destination has: empty (S3: a directory marker with nothing
    /// under it), as a marker beside entries, or (`entries_only`) only as entries under it (files
    /// or directories the source does not have) without a marker.
    DirInBoth {
        rel: String,
        entries_only: bool,
    },
    /// An empty directory of the destination, or an S3 directory marker (with or without entries
    /// beside it), that the source does not have at all, empty or not.
    DestOnlyDir(String),
}

/// What the merge takes from the source listing.
enum SourceItem {
    Path(SourcePath),
    EmptyDir(String),
}

impl SourceItem {
    fn key(&self) -> Cow<'_, str> {
        match self {
            SourceItem::Path(p) => sort_key(p.rel(), p.is_dir()),
            SourceItem::EmptyDir(rel) => sort_key(rel, true),
        }
    }

    fn alone(self) -> Pair {
        match self {
            SourceItem::Path(p) => Pair::Source(p),
            SourceItem::EmptyDir(rel) => Pair::SourceDir(rel),
        }
    }
}

/// What the merge takes from the destination listing.
enum DestItem {
    File(Entry),
    EmptyDir(String),
    /// A directory marker beside entries, which follow it.
    Marker(String),
}

impl DestItem {
    fn key(&self) -> Cow<'_, str> {
        match self {
            DestItem::File(e) => sort_key(&e.rel, false),
            DestItem::EmptyDir(rel) | DestItem::Marker(rel) => sort_key(rel, true),
        }
    }

    fn alone(self) -> Pair {
        match self {
            DestItem::File(e) => Pair::DestOnly(e),
            DestItem::EmptyDir(rel) | DestItem::Marker(rel) => Pair::DestOnlyDir(rel),
        }
    }
}

/// Merges two listings sorted by [`sort_key`].
pub(crate) struct Merge {
    src: BoxStream<'static, Result<Listed, CopyError>>,
    dst: BoxStream<'static, Result<Listed, CopyError>>,
    s: Option<SourceItem>,
    d: Option<DestItem>,
    s_done: bool,
    d_done: bool,
    /// The last key taken from each side: both must strictly increase, or the merge would take
    /// a file present on both sides for a missing one (and `--delete` would remove it).
    s_last: String,
    d_last: String,
}

fn check_order(last: &mut String, key: &str, side: &str) -> Result<(), CopyError> {
    if !last.is_empty() && key.as_bytes() <= last.as_bytes() {
        return Err(CopyError::Invalid(format!(
            "the {side} listing is out of order ({key:?} after {last:?}); nothing after this point was planned"
        )));
    }
    last.clear();
    last.push_str(key);
    Ok(())
}

impl Merge {
    pub(crate) fn new(
        src: BoxStream<'static, Result<Listed, CopyError>>,
        dst: BoxStream<'static, Result<Listed, CopyError>>,
    ) -> Merge {
        Merge {
            src,
            dst,
            s: None,
            d: None,
            s_done: false,
            d_done: false,
            s_last: String::new(),
            d_last: String::new(),
        }
    }

    async fn pull_src(&mut self) -> Result<(), CopyError> {
        while self.s.is_none() && !self.s_done {
            let item = match self.src.next().await {
                Some(item) => match item? {
                    Listed::File(e) => SourceItem::Path(SourcePath::File(e)),
                    Listed::Unreadable { rel, reason, dir } => {
                        SourceItem::Path(SourcePath::Unreadable { rel, reason, dir })
                    }
                    Listed::EmptyDir(rel) => SourceItem::EmptyDir(rel),
                    // The directory is its entries, which follow.
                    Listed::Marker(_) => continue,
                },
                None => {
                    self.s_done = true;
                    continue;
                }
            };
            check_order(&mut self.s_last, &item.key(), "source")?;
            self.s = Some(item);
        }
        Ok(())
    }

    async fn pull_dst(&mut self) -> Result<(), CopyError> {
        while self.d.is_none() && !self.d_done {
            let item = match self.dst.next().await {
                Some(item) => match item? {
                    Listed::File(e) if !crate::dest::is_temporary(&e.rel) => DestItem::File(e),
                    Listed::EmptyDir(rel) => DestItem::EmptyDir(rel),
                    Listed::Marker(rel) => DestItem::Marker(rel),
                    _ => continue,
                },
                None => {
                    self.d_done = true;
                    continue;
                }
            };
            check_order(&mut self.d_last, &item.key(), "destination")?;
            self.d = Some(item);
        }
        Ok(())
    }

    /// The next pair, in path order; an error of either listing ends the merge.
    pub(crate) async fn next(&mut self) -> Option<Result<Pair, CopyError>> {
        loop {
            if let Err(e) = self.pull_src().await {
                return Some(Err(e));
            }
            if let Err(e) = self.pull_dst().await {
                return Some(Err(e));
            }
            let (s, d) = match (self.s.take(), self.d.take()) {
                (None, None) => return None,
                (Some(s), None) => return Some(Ok(s.alone())),
                (None, Some(d)) => return Some(Ok(d.alone())),
                (Some(s), Some(d)) => (s, d),
            };
            let (order, d_under_s, s_under_d) = {
                let (s_key, d_key) = (s.key(), d.key());
                // A directory's key ends in `/`: the next key of the other side that starts with
                // it is an entry under that directory.
                (
                    s_key.as_bytes().cmp(d_key.as_bytes()),
                    matches!(s, SourceItem::EmptyDir(_)) && d_key.starts_with(&*s_key),
                    !matches!(d, DestItem::File(_)) && s_key.starts_with(&*d_key),
                )
            };
            let pair = match order {
                std::cmp::Ordering::Less => {
                    self.d = Some(d);
                    match s {
                        // Its marker, had the destination one, would have come first (equal).
                        SourceItem::EmptyDir(rel) if d_under_s => Pair::DirInBoth {
                            rel,
                            entries_only: true,
                        },
                        s => s.alone(),
                    }
                }
                std::cmp::Ordering::Greater => {
                    self.s = Some(s);
                    if s_under_d {
                        // The source has the directory, with entries: nothing to pair.
                        continue;
                    }
                    d.alone()
                }
                std::cmp::Ordering::Equal => match (s, d) {
                    (SourceItem::EmptyDir(rel), _) => Pair::DirInBoth {
                        rel,
                        entries_only: false,
                    },
                    (SourceItem::Path(s), DestItem::File(d)) => Pair::Both(s, d),
                    // Only a directory's key ends in `/`: an unreadable source directory and the
                    // destination's directory (or marker), kept like all that is under it.
                    (SourceItem::Path(s), _) => Pair::Source(s),
                },
            };
            return Some(Ok(pair));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(rel: &str) -> Listed {
        Listed::File(Entry {
            rel: rel.into(),
            size: 1,
            mtime_ms: 0,
            owner: None,
            group: None,
            permission: None,
            etag: None,
            block_size: None,
        })
    }

    fn dir(rel: &str) -> Listed {
        Listed::EmptyDir(rel.into())
    }

    fn marker(rel: &str) -> Listed {
        Listed::Marker(rel.into())
    }

    /// The merge of two listings, each pair as a line.
    fn pairs(src: Vec<Listed>, dst: Vec<Listed>) -> Vec<String> {
        let stream = |items: Vec<Listed>| futures::stream::iter(items.into_iter().map(Ok)).boxed();
        let mut merge = Merge::new(stream(src), stream(dst));
        let mut pairs = Vec::new();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        while let Some(pair) = rt.block_on(merge.next()) {
            pairs.push(match pair.unwrap() {
                Pair::Source(p) => format!("source {}", p.rel()),
                Pair::Both(p, d) => format!("both {} {}", p.rel(), d.rel),
                Pair::DestOnly(d) => format!("dest {}", d.rel),
                Pair::SourceDir(rel) => format!("source dir {rel}"),
                Pair::DirInBoth { rel, entries_only } => {
                    format!("dir {rel} entries_only={entries_only}")
                }
                Pair::DestOnlyDir(rel) => format!("dest dir {rel}"),
            });
        }
        pairs
    }

    /// An unreadable directory sorts as the walk lists it (`a/`, after `a.txt`), and pairs with
    /// the destination's directory of its name, before what is under it.
    #[test]
    fn an_unreadable_directory_sorts_as_a_directory() {
        let unreadable = |rel: &str, dir: bool| Listed::Unreadable {
            rel: rel.into(),
            reason: "unreadable".into(),
            dir,
        };
        let src = vec![
            file("a.txt"),
            unreadable("a", true),
            unreadable("b", false),
            file("c"),
        ];
        let dst = vec![
            file("a.txt"),
            marker("a"),
            file("a/x"),
            file("b"),
            file("c"),
        ];
        assert_eq!(
            pairs(src, dst),
            [
                "both a.txt a.txt",
                "source a",
                "dest a/x",
                "both b b",
                "both c c"
            ]
        );
    }

    /// How the merge pairs empty directories: with the destination's empty directory (S3: its
    /// marker), its marker beside entries, entries under it, or with nothing; a destination empty
    /// directory or marker is extra only when the source has nothing under its path; a source
    /// marker beside entries adds nothing.
    #[test]
    fn empty_directories_pair_with_what_the_destination_has() {
        let src = vec![
            dir("a"),
            dir("b"),
            file("c/x"),
            dir("d"),
            dir("e"),
            dir("g"),
            marker("h"),
            file("h/x"),
            file("i/x"),
        ];
        let dst = vec![
            dir("a"),
            file("b/y"),
            dir("c"),
            file("d"),
            dir("f"),
            marker("g"),
            file("g/z"),
            marker("i"),
            file("i/y"),
            marker("j"),
            file("j/z"),
        ];
        assert_eq!(
            pairs(src, dst),
            [
                "dir a entries_only=false",
                "dir b entries_only=true",
                "dest b/y",
                // The destination's empty `c` is the source's `c`, which has entries.
                "source c/x",
                // A file `d` is not the directory `d/`.
                "dest d",
                "source dir d",
                "source dir e",
                "dest dir f",
                "dir g entries_only=false",
                "dest g/z",
                "source h/x",
                // The destination's marker `i/` is the source's `i`, which has entries.
                "source i/x",
                "dest i/y",
                "dest dir j",
                "dest j/z",
            ]
        );
    }
}
