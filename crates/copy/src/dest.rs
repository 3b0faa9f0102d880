//! Where files are written: an S3 prefix (single PUTs and multipart uploads whose parts may be sent
//! by different workers, in any order, and across runs) or a local directory (files written under a
//! temporary name and renamed into place).
//!
//! Durability: an object or file appears complete or not at all (S3 PUT / CompleteMultipartUpload;
//! local rename). Uploaded parts of an unfinished multipart upload stay on S3 until the upload is
//! completed or aborted: a resumed copy completes them; otherwise a bucket lifecycle rule
//! (AbortIncompleteMultipartUpload) cleans them up.

use crate::digest::{self, PartMd5};
use crate::error::{blocking, CopyError};
use crate::s3crc::{CompletedPart, Written};
use crate::source::{
    lossless_path, lossless_string, FileAttrs, FileSource, Listed, LocalTree, S3Tree,
};
use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt};
use object_store::multipart::{MultipartStore, PartId};
use object_store::{
    Attribute, Attributes, GetOptions, ObjectStore, ObjectStoreExt, PutMultipartOptions,
    PutOptions, PutPayload,
};
use std::path::PathBuf;

/// Metadata keys (`x-amz-meta-…`) the copy writes.
pub(crate) const META_PART_SIZE: &str = "migrate-part-size";
pub(crate) const META_MTIME: &str = "migrate-mtime";
pub(crate) const META_OWNER: &str = "migrate-owner";
pub(crate) const META_GROUP: &str = "migrate-group";
pub(crate) const META_PERMISSION: &str = "migrate-permission";

/// Creates the directories of the file `rel` under a local destination's `root` (see
/// [`make_dirs`]).
fn make_parent_dirs(root: &std::path::Path, rel: &str) -> Result<(), CopyError> {
    make_dirs(root, rel.rsplit_once('/').map_or("", |(dir, _file)| dir))
}

/// Creates the directory `rel_dir` (and its parents; empty: the root) under a local
/// destination's `root`. A directory on the way that is a symbolic link is refused: writing
/// through it would put files outside the destination (the listing never follows the
/// destination's links, for the same reason).
fn make_dirs(root: &std::path::Path, rel_dir: &str) -> Result<(), CopyError> {
    std::fs::create_dir_all(root)
        .map_err(|e| CopyError::io("create directory", root.display(), e))?;
    let mut dir = root.to_path_buf();
    for part in rel_dir.split('/').filter(|p| !p.is_empty()) {
        dir.push(lossless_path(part));
        match std::fs::symlink_metadata(&dir) {
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(CopyError::Invalid(format!(
                    "{} is a symbolic link in the destination: the copy writes only inside the destination directory; remove the link (or copy to another directory)",
                    dir.display()
                )))
            }
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => {
                return Err(CopyError::Invalid(format!(
                    "{} is a file in the destination where the source has a directory: remove it",
                    dir.display()
                )))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => std::fs::create_dir(&dir)
                .or_else(|e| match e.kind() {
                    // Another worker made it meanwhile.
                    std::io::ErrorKind::AlreadyExists if dir.is_dir() => Ok(()),
                    _ => Err(e),
                })
                .map_err(|e| CopyError::io("create directory", dir.display(), e))?,
            Err(e) => return Err(CopyError::io("read", dir.display(), e)),
        }
    }
    Ok(())
}

/// What the destination says it stored, to be compared with what was read.
#[derive(Debug, Clone)]
pub(crate) enum Stored {
    /// The S3 ETag, and the CRC32C when the copy sent one and the server stored it.
    S3(Written),
    /// A local file: its bytes are read back and hashed by the caller's part layout.
    LocalFile,
}

#[derive(Debug, Clone)]
pub enum Destination {
    S3(S3Tree),
    Local(LocalTree),
}

/// User metadata of an object (empty for local files, which get mtime/permission set directly).
pub(crate) type Meta = Vec<(&'static str, String)>;

fn attributes(meta: &Meta) -> Attributes {
    let mut attrs = Attributes::new();
    for (k, v) in meta {
        attrs.insert(Attribute::Metadata((*k).into()), v.clone().into());
    }
    attrs
}

impl Destination {
    pub fn url(&self, rel: &str) -> String {
        match self {
            Destination::S3(t) => t.url(rel),
            Destination::Local(t) => t.url(rel),
        }
    }

    /// The destination's files, sorted like a source listing. A missing local directory is empty.
    pub(crate) fn list(&self) -> BoxStream<'static, Result<Listed, CopyError>> {
        match self {
            Destination::S3(t) => t.list(),
            Destination::Local(t) if !t.root().exists() => futures::stream::empty().boxed(),
            Destination::Local(t) => t.list(),
        }
    }

    /// Asks an S3 destination for the first object under its prefix: a bucket that does not
    /// exist, wrong credentials or a missing permission stop the copy before it starts (instead
    /// of failing every file). A local destination is created as files arrive.
    pub(crate) async fn check_reachable(&self) -> Result<(), CopyError> {
        match self {
            Destination::S3(t) => t.has_objects().await.map(|_| ()),
            Destination::Local(_) => Ok(()),
        }
    }

    pub(crate) fn is_s3(&self) -> bool {
        matches!(self, Destination::S3(_))
    }

    /// Whether writes carry a CRC32C (S3 through [`crate::s3crc::ChecksumWriter`]); multipart
    /// uploads are then created with the CRC32C algorithm.
    pub(crate) fn sends_crc32c(&self) -> bool {
        matches!(self, Destination::S3(t) if t.crc.is_some())
    }

    fn local_path(&self, rel: &str) -> PathBuf {
        match self {
            Destination::Local(t) => t.path(rel),
            Destination::S3(_) => PathBuf::new(),
        }
    }

    /// Writes a whole file with one request; `crc` is the CRC32C of `data`.
    pub(crate) async fn put(
        &self,
        rel: &str,
        data: Bytes,
        crc: u32,
        meta: &Meta,
    ) -> Result<Stored, CopyError> {
        match self {
            Destination::S3(t) => {
                let path = t.path(rel)?;
                if let Some(w) = &t.crc {
                    return Ok(Stored::S3(
                        w.put(&path, &t.url(rel), data, crc, meta).await?,
                    ));
                }
                let opts = PutOptions {
                    attributes: attributes(meta),
                    ..PutOptions::default()
                };
                let r = t
                    .store
                    .put_opts(&path, PutPayload::from_bytes(data), opts)
                    .await
                    .map_err(|e| CopyError::store("put", t.url(rel), e))?;
                Ok(etag_only(r.e_tag.as_deref()))
            }
            Destination::Local(t) => {
                let path = self.local_path(rel);
                let tmp = tmp_name(&path);
                let (root, rel) = (t.root().to_path_buf(), rel.to_string());
                blocking("writer", move || {
                    make_parent_dirs(&root, &rel)?;
                    std::fs::write(&tmp, &data)
                        .map_err(|e| CopyError::io("write", tmp.display(), e))?;
                    move_into_place(&tmp, &path)
                })
                .await?;
                Ok(Stored::LocalFile)
            }
        }
    }

    /// Starts a multipart upload; returns its id (S3 upload id, or the local temporary file as a
    /// [`lossless_string`]: the journal records it).
    pub(crate) async fn create_upload(
        &self,
        rel: &str,
        size: u64,
        meta: &Meta,
    ) -> Result<String, CopyError> {
        match self {
            Destination::S3(t) => {
                let path = t.path(rel)?;
                if let Some(w) = &t.crc {
                    return w.create_upload(&path, &t.url(rel), meta).await;
                }
                let opts = PutMultipartOptions {
                    attributes: attributes(meta),
                    ..PutMultipartOptions::default()
                };
                t.store
                    .create_multipart_opts(&path, opts)
                    .await
                    .map_err(|e| CopyError::store("create multipart upload", t.url(rel), e))
            }
            Destination::Local(t) => {
                let path = self.local_path(rel);
                let tmp = tmp_name(&path);
                let id = lossless_string(tmp.as_os_str());
                let (root, rel) = (t.root().to_path_buf(), rel.to_string());
                blocking("writer", move || {
                    make_parent_dirs(&root, &rel)?;
                    let f = std::fs::OpenOptions::new()
                        .create(true)
                        .write(true)
                        .truncate(false)
                        .open(&tmp)
                        .map_err(|e| CopyError::io("create", tmp.display(), e))?;
                    f.set_len(size)
                        .map_err(|e| CopyError::io("size", tmp.display(), e))
                })
                .await?;
                Ok(id)
            }
        }
    }

    /// Sends part `idx` (0-based) of an upload (`crc`: its CRC32C); returns what the destination
    /// stored for it.
    pub(crate) async fn put_part(
        &self,
        rel: &str,
        id: &str,
        idx: usize,
        offset: u64,
        data: Bytes,
        crc: u32,
    ) -> Result<Stored, CopyError> {
        match self {
            Destination::S3(t) => {
                let path = t.path(rel)?;
                if let Some(w) = &t.crc {
                    let shown = format!("{} part {}", t.url(rel), idx + 1);
                    return Ok(Stored::S3(
                        w.put_part(&path, &shown, id, idx, data, crc).await?,
                    ));
                }
                let part = t
                    .store
                    .put_part(&path, &id.to_string(), idx, PutPayload::from_bytes(data))
                    .await
                    .map_err(|e| {
                        CopyError::store(
                            "upload part",
                            format!("{} part {}", t.url(rel), idx + 1),
                            e,
                        )
                    })?;
                Ok(etag_only(Some(&part.content_id)))
            }
            Destination::Local(_) => {
                let tmp = lossless_path(id);
                blocking("writer", move || {
                    use std::os::unix::fs::FileExt;
                    let f = std::fs::OpenOptions::new()
                        .write(true)
                        .open(&tmp)
                        .map_err(|e| CopyError::io("open", tmp.display(), e))?;
                    f.write_all_at(&data, offset)
                        .map_err(|e| CopyError::io("write", tmp.display(), e))
                })
                .await?;
                Ok(Stored::LocalFile)
            }
        }
    }

    /// Completes an upload from its parts (in order). With CRC32C part checksums, the answer has
    /// the object's composite checksum: from CompleteMultipartUpload, else from a HEAD.
    pub(crate) async fn complete_upload(
        &self,
        rel: &str,
        id: &str,
        parts: &[CompletedPart],
    ) -> Result<Stored, CopyError> {
        match self {
            Destination::S3(t) => {
                let path = t.path(rel)?;
                if let Some(w) = &t.crc {
                    let shown = t.url(rel);
                    let mut done = w.complete(&path, &shown, id, parts).await?;
                    if done.crc32c.is_none() && parts.iter().all(|p| p.crc32c.is_some()) {
                        done.crc32c = w.stored_crc32c(&path, &shown).await?;
                    }
                    return Ok(Stored::S3(done));
                }
                let parts = parts
                    .iter()
                    .map(|p| PartId {
                        content_id: p.etag.clone(),
                    })
                    .collect();
                let r = t
                    .store
                    .complete_multipart(&path, &id.to_string(), parts)
                    .await
                    .map_err(|e| CopyError::store("complete multipart upload", t.url(rel), e))?;
                Ok(etag_only(r.e_tag.as_deref()))
            }
            Destination::Local(_) => {
                let path = self.local_path(rel);
                let tmp = lossless_path(id);
                blocking("writer", move || move_into_place(&tmp, &path)).await?;
                Ok(Stored::LocalFile)
            }
        }
    }

    /// Gives up an upload (the source changed under it).
    /// Aborts a multipart upload (local: removes its temporary file). `Ok(false)`: it was gone
    /// already (completed, aborted, or removed by a lifecycle rule).
    pub(crate) async fn abort_upload(&self, rel: &str, id: &str) -> Result<bool, String> {
        match self {
            Destination::S3(t) => {
                let path = t.path(rel).map_err(|e| e.to_string())?;
                match t.store.abort_multipart(&path, &id.to_string()).await {
                    Ok(()) => Ok(true),
                    Err(object_store::Error::NotFound { .. }) => Ok(false),
                    Err(e) => Err(migrate_stage::readable_store_error(&e)),
                }
            }
            Destination::Local(_) => match tokio::fs::remove_file(lossless_path(id)).await {
                Ok(()) => Ok(true),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
                Err(e) => Err(e.to_string()),
            },
        }
    }

    pub(crate) async fn delete(&self, rel: &str) -> Result<(), CopyError> {
        match self {
            Destination::S3(t) => {
                let path = t.path(rel)?;
                t.store
                    .delete(&path)
                    .await
                    .map_err(|e| CopyError::store("delete", t.url(rel), e))
            }
            Destination::Local(_) => {
                let path = self.local_path(rel);
                tokio::fs::remove_file(&path)
                    .await
                    .map_err(|e| CopyError::io("delete", path.display(), e))
            }
        }
    }

    /// The part size recorded in an object's metadata by the copy that wrote it.
    pub(crate) async fn part_size_of(&self, rel: &str) -> Result<Option<u64>, CopyError> {
        let Destination::S3(t) = self else {
            return Ok(None);
        };
        let path = t.path(rel)?;
        let opts = GetOptions {
            head: true,
            ..GetOptions::default()
        };
        let r = t
            .store
            .get_opts(&path, opts)
            .await
            .map_err(|e| CopyError::store("head", t.url(rel), e))?;
        Ok(r.attributes
            .get(&Attribute::Metadata(META_PART_SIZE.into()))
            .and_then(|v| v.as_ref().parse().ok()))
    }

    /// Reads back a range of a destination file (local destinations verify this way; `--update`
    /// hashes local destination files this way).
    pub(crate) async fn read(
        &self,
        rel: &str,
        range: std::ops::Range<u64>,
    ) -> Result<Bytes, CopyError> {
        match self {
            Destination::S3(t) => t.read(rel, range).await,
            Destination::Local(t) => t.read(rel, range).await,
        }
    }

    /// Applies mtime and permission to a local file (S3 gets them as metadata instead).
    pub(crate) async fn preserve_local(
        &self,
        rel: &str,
        attrs: FileAttrs,
        mtime: bool,
        permission: bool,
    ) -> Result<(), CopyError> {
        if self.is_s3() {
            return Ok(());
        }
        let path = self.local_path(rel);
        blocking("writer", move || {
            use std::os::unix::fs::PermissionsExt;
            if mtime {
                let f = std::fs::File::options()
                    .write(true)
                    .open(&path)
                    .map_err(|e| CopyError::io("open", path.display(), e))?;
                let t = std::time::UNIX_EPOCH
                    + std::time::Duration::from_millis(attrs.mtime_ms.max(0) as u64);
                f.set_modified(t)
                    .map_err(|e| CopyError::io("set mtime of", path.display(), e))?;
            }
            if let (true, Some(mode)) = (permission, attrs.permission) {
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
                    .map_err(|e| CopyError::io("set permission of", path.display(), e))?;
            }
            Ok(())
        })
        .await
    }

    /// Makes the empty directory `rel`: a local directory, or on S3 its directory marker (the
    /// empty object `rel/` S3A's `mkdirs` writes, which S3A, and so Hadoop and Spark, read as an
    /// empty directory).
    pub(crate) async fn create_dir(&self, rel: &str) -> Result<(), CopyError> {
        match self {
            Destination::S3(t) => {
                let Some(w) = &t.markers else {
                    return Err(no_marker_writer(
                        "written: create it with another tool, or leave empty directories out with --filters",
                    ));
                };
                w.put_marker(&t.key(&format!("{rel}/")), &self.dir_url(rel))
                    .await
            }
            Destination::Local(t) => {
                let (root, rel) = (t.root().to_path_buf(), rel.to_string());
                blocking("writer", move || make_dirs(&root, &rel)).await
            }
        }
    }

    /// The URL of a directory, for messages: S3, its marker's (`s3://bucket/prefix/dir/`).
    pub(crate) fn dir_url(&self, rel: &str) -> String {
        match self {
            Destination::S3(t) => t.url(&format!("{rel}/")),
            Destination::Local(t) => t.url(rel),
        }
    }
}

impl S3Tree {
    /// Deletes the directory marker `rel/` of this S3 destination.
    pub(crate) async fn delete_marker(&self, rel: &str) -> Result<(), CopyError> {
        let marker = format!("{rel}/");
        match &self.markers {
            Some(w) => {
                w.delete_marker(&self.key(&marker), &self.url(&marker))
                    .await
            }
            None => Err(no_marker_writer("deleted: delete it with another tool")),
        }
    }
}

/// Why a directory marker can't be `what` (written or deleted, and what to do).
fn no_marker_writer(what: &str) -> CopyError {
    CopyError::Invalid(format!(
        "this S3 configuration (S3 Express One Zone, SSE-C, requester pays or unsigned requests) is written through object_store, which can't name a key ending in `/`, so the directory marker can't be {what}"
    ))
}

/// What object_store's writes tell: the ETag alone.
fn etag_only(etag: Option<&str>) -> Stored {
    Stored::S3(Written {
        etag: etag.map(digest::normalize_etag).unwrap_or_default(),
        crc32c: None,
    })
}

/// Renames a written temporary file to its destination `path`. Where the destination has a
/// directory by that name, no run could ever put the file there: the error says so (and what to
/// do), and the temporary file is removed rather than left beside the directory.
fn move_into_place(tmp: &std::path::Path, path: &std::path::Path) -> Result<(), CopyError> {
    std::fs::rename(tmp, path).map_err(|e| {
        if !path.is_dir() {
            return CopyError::io("rename", path.display(), e);
        }
        // Best effort: a leftover is only a file beside the directory, replaced by the next run.
        let _ = std::fs::remove_file(tmp);
        CopyError::Invalid(format!(
            "{} is a directory in the destination where the source has a file: remove or rename the directory (migrate copy does not delete a directory to put a file in its place)",
            path.display()
        ))
    })
}

/// Temporary files in a local destination are `.migrate-copy-<16 hex digits>.tmp`.
const TMP_PREFIX: &str = ".migrate-copy-";
const TMP_SUFFIX: &str = ".tmp";
/// What earlier versions appended to the file's name (a journal of theirs may still resume one).
const OLD_TMP_SUFFIX: &str = ".migrate-copy.tmp";

/// The temporary name a local file is written under before the rename, in the same directory (the
/// rename stays on one file system). It is short, so that it fits whatever the file's name is (up
/// to the 255-byte limit), and the same for the same name, so that a later run resumes (or
/// replaces) the file an earlier one left.
fn tmp_name(path: &std::path::Path) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    let name = path.file_name().map(|n| n.as_bytes()).unwrap_or_default();
    let hash = digest::hex(&digest::md5(name));
    path.with_file_name(format!("{TMP_PREFIX}{}{TMP_SUFFIX}", &hash[..16]))
}

/// Whether a destination path is one of the copy's temporary files: not a destination file.
pub(crate) fn is_temporary(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let hash = name
        .strip_prefix(TMP_PREFIX)
        .and_then(|n| n.strip_suffix(TMP_SUFFIX));
    hash.is_some_and(|h| h.len() == 16 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        || name.ends_with(OLD_TMP_SUFFIX)
}

/// Hashes a stored local file with the part layout of the copy, for verification.
pub(crate) async fn local_digest(
    dest: &Destination,
    rel: &str,
    size: u64,
    part_size: u64,
) -> Result<Vec<PartMd5>, CopyError> {
    let mut parts = Vec::new();
    let mut offset = 0;
    while offset < size || parts.is_empty() {
        let end = (offset + part_size).min(size);
        let data = dest.read(rel, offset..end).await?;
        parts.push(digest::md5(&data));
        offset = end;
        if size == 0 {
            break;
        }
    }
    Ok(parts)
}
