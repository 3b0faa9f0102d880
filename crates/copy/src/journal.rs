//! The journal that makes a copy resumable, and the manifests of incremental copies.
//!
//! The journal is an append-only file of JSON lines (one record per line, written with one
//! `write` call each):
//! - `{"t":"file","p":REL,"s":SIZE,"m":MTIME}`: the file was copied and verified;
//! - `{"t":"upload","p":REL,"s":SIZE,"m":MTIME,"id":UPLOAD_ID,"ps":PART_SIZE,"ck":true}`: a
//!   multipart upload was started for that version of the file (`ck`: created with CRC32C part
//!   checksums; absent in journals of earlier versions);
//! - `{"t":"part","p":REL,"id":UPLOAD_ID,"n":INDEX,"e":ETAG,"md5":HEX,"c":CRC32C}`: that part was
//!   sent and verified (`c`: the CRC32C the server stored for it, which CompleteMultipartUpload
//!   must repeat; absent when the server stored none).
//!   The part record's `b` (HDFS sources with checksums) holds the HDFS block MD5s of the blocks
//!   the part covers, so that a resumed upload can still be compared with HDFS's file checksum.
//! - `{"t":"aborted","p":REL,"id":UPLOAD_ID}`: that upload was aborted (or found gone): nothing
//!   is left to resume or abort.
//!
//! A record is written after what it describes is durable on the destination, so a copy killed
//! at any point loses at most the work in flight: on restart, files recorded as done (with the
//! same size and mtime in the source) are not sent again, and uploads resume with their recorded
//! parts. Records reach the kernel before the next file starts (a process kill loses nothing
//! written); a machine crash may lose the last records, whose files or parts are then sent again.
//! A torn last line is ignored. The journal is removed when a copy finishes with no failure.
//!
//! One run at a time: a run holds an exclusive `flock` on `<journal>.lock` while it has the
//! journal open; another run of the same copy (same journal) stops at once
//! ([`CopyError::JournalLocked`]). The kernel releases the lock when the process ends, however it
//! ends (a SIGKILL too), so a lock is never stale; the lock file is removed on the way out.
//!
//! Memory: finished files are kept as a 64-bit hash of the path with size and mtime (about 40
//! bytes each); unfinished uploads with their part list.

use crate::digest::PartMd5;
use crate::error::CopyError;
use crate::hdfs_checksum::{blocks_from_hex, blocks_to_hex};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
enum Record {
    File {
        p: String,
        s: u64,
        m: i64,
    },
    Upload {
        p: String,
        s: u64,
        m: i64,
        id: String,
        ps: u64,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        ck: bool,
    },
    Part {
        p: String,
        id: String,
        n: usize,
        e: String,
        md5: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        c: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        b: Option<String>,
    },
    Aborted {
        p: String,
        id: String,
    },
}

/// A part that was sent and verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SentPart {
    pub etag: String,
    pub md5: PartMd5,
    /// The CRC32C the server stored for the part (`None`: it stores none).
    pub crc32c: Option<u32>,
    /// HDFS block MD5s of the blocks in the part, when they were computed.
    pub blocks: Option<Vec<PartMd5>>,
}

/// An upload in progress, as recorded.
#[derive(Debug, Clone)]
pub(crate) struct UploadState {
    pub size: u64,
    pub mtime_ms: i64,
    pub id: String,
    pub part_size: u64,
    /// Created with CRC32C part checksums (CreateMultipartUpload with `x-amz-checksum-algorithm`).
    pub crc32c: bool,
    pub parts: BTreeMap<usize, SentPart>,
}

pub(crate) fn path_key(rel: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    rel.hash(&mut h);
    h.finish()
}

/// Size and mtime of files, by path hash: finished files of a journal, or a previous manifest.
pub(crate) type FileIndex = HashMap<u64, (u64, i64)>;

pub(crate) struct Journal {
    path: PathBuf,
    file: Mutex<std::fs::File>,
    /// Dropped last: the journal is closed (or removed) before another run can take it over.
    _lock: Lock,
}

/// The lock file of a journal.
pub(crate) fn lock_path(journal: &Path) -> PathBuf {
    let mut name = journal.as_os_str().to_os_string();
    name.push(".lock");
    PathBuf::from(name)
}

/// An exclusive `flock` on a journal's lock file, held while it lives.
struct Lock {
    path: PathBuf,
    _file: std::fs::File,
}

impl Lock {
    fn take(journal: &Path) -> Result<Lock, CopyError> {
        use std::os::unix::fs::MetadataExt;
        let path = lock_path(journal);
        let io = |op, e| CopyError::io(op, path.display(), e);
        loop {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .map_err(|e| io("create lock file", e))?;
            match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
                Ok(()) => {}
                Err(e) if e == rustix::io::Errno::WOULDBLOCK => {
                    return Err(CopyError::JournalLocked {
                        journal: journal.display().to_string(),
                        lock: path.display().to_string(),
                    })
                }
                Err(e) => return Err(io("lock", e.into())),
            }
            // A run that ended meanwhile removed the file this one opened (while holding its
            // lock): a lock on it locks nothing; lock the file now at the path.
            let held = file.metadata().map_err(|e| io("read", e))?;
            match std::fs::metadata(&path) {
                Ok(now) if (now.dev(), now.ino()) == (held.dev(), held.ino()) => {
                    return Ok(Lock { path, _file: file })
                }
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io("read", e)),
            }
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Removed while still locked (the file is closed after this), so no run locks a file
        // that is no longer at the path. Best effort: a lock file left behind is not locked.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// What an existing journal holds.
#[derive(Default)]
pub(crate) struct Resumed {
    pub done: FileIndex,
    pub uploads: HashMap<String, UploadState>,
}

fn parse_md5(hex: &str) -> Option<PartMd5> {
    PartMd5::try_from(crate::digest::unhex(hex)?).ok()
}

impl Journal {
    /// Locks the journal at `path` for this run (see the module docs), opens (creating) it, and
    /// reads what an earlier run recorded.
    pub(crate) fn open(path: &Path) -> Result<(Journal, Resumed), CopyError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| CopyError::io("create journal directory", dir.display(), e))?;
        }
        let lock = Lock::take(path)?;
        let mut resumed = Resumed::default();
        if path.exists() {
            let f = std::fs::File::open(path)
                .map_err(|e| CopyError::io("read journal", path.display(), e))?;
            for line in std::io::BufReader::new(f).lines() {
                let line = line.map_err(|e| CopyError::io("read journal", path.display(), e))?;
                // A torn last line (killed mid-write) is skipped.
                let Ok(record) = serde_json::from_str::<Record>(&line) else {
                    continue;
                };
                match record {
                    Record::File { p, s, m } => {
                        resumed.uploads.remove(&p);
                        resumed.done.insert(path_key(&p), (s, m));
                    }
                    Record::Upload {
                        p,
                        s,
                        m,
                        id,
                        ps,
                        ck,
                    } => {
                        resumed.uploads.insert(
                            p,
                            UploadState {
                                size: s,
                                mtime_ms: m,
                                id,
                                part_size: ps,
                                crc32c: ck,
                                parts: BTreeMap::new(),
                            },
                        );
                    }
                    Record::Aborted { p, id } => {
                        if resumed.uploads.get(&p).is_some_and(|u| u.id == id) {
                            resumed.uploads.remove(&p);
                        }
                    }
                    Record::Part {
                        p,
                        id,
                        n,
                        e,
                        md5,
                        c,
                        b,
                    } => {
                        if let (Some(u), Some(md5)) = (resumed.uploads.get_mut(&p), parse_md5(&md5))
                        {
                            if u.id == id {
                                let part = SentPart {
                                    etag: e,
                                    md5,
                                    crc32c: c,
                                    blocks: b.as_deref().and_then(blocks_from_hex),
                                };
                                u.parts.insert(n, part);
                            }
                        }
                    }
                }
            }
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| CopyError::io("open journal", path.display(), e))?;
        Ok((
            Journal {
                path: path.to_path_buf(),
                file: Mutex::new(file),
                _lock: lock,
            },
            resumed,
        ))
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    fn append(&self, record: &Record) -> Result<(), CopyError> {
        let mut line = serde_json::to_vec(record).map_err(|e| CopyError::Invalid(e.to_string()))?;
        line.push(b'\n');
        let mut f = self.file.lock().unwrap_or_else(|p| p.into_inner());
        f.write_all(&line)
            .map_err(|e| CopyError::io("write journal", self.path.display(), e))
    }

    pub(crate) fn file_done(&self, rel: &str, size: u64, mtime_ms: i64) -> Result<(), CopyError> {
        self.append(&Record::File {
            p: rel.to_string(),
            s: size,
            m: mtime_ms,
        })
    }

    pub(crate) fn upload_started(&self, rel: &str, u: &UploadState) -> Result<(), CopyError> {
        self.append(&Record::Upload {
            p: rel.to_string(),
            s: u.size,
            m: u.mtime_ms,
            id: u.id.clone(),
            ps: u.part_size,
            ck: u.crc32c,
        })
    }

    pub(crate) fn part_done(
        &self,
        rel: &str,
        id: &str,
        idx: usize,
        part: &SentPart,
    ) -> Result<(), CopyError> {
        self.append(&Record::Part {
            p: rel.to_string(),
            id: id.to_string(),
            n: idx,
            e: part.etag.clone(),
            md5: crate::digest::hex(&part.md5),
            c: part.crc32c,
            b: part.blocks.as_deref().map(blocks_to_hex),
        })
    }

    pub(crate) fn upload_aborted(&self, rel: &str, id: &str) -> Result<(), CopyError> {
        self.append(&Record::Aborted {
            p: rel.to_string(),
            id: id.to_string(),
        })
    }

    /// Removes the journal after a copy that finished with no failure (then its lock).
    pub(crate) fn remove(self) -> Result<(), CopyError> {
        std::fs::remove_file(&self.path)
            .map_err(|e| CopyError::io("remove journal", self.path.display(), e))
    }
}

/// One line of an output manifest (JSON lines): a file that is in the destination after the copy.
#[derive(Debug, Serialize, Deserialize)]
pub struct ManifestLine {
    pub path: String,
    pub size: u64,
    pub mtime_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
}

/// Reads a manifest written by an earlier copy (`--previous-manifest`).
pub(crate) fn read_manifest(path: &Path) -> Result<FileIndex, CopyError> {
    let f =
        std::fs::File::open(path).map_err(|e| CopyError::io("read manifest", path.display(), e))?;
    let mut index = FileIndex::new();
    for (n, line) in std::io::BufReader::new(f).lines().enumerate() {
        let line = line.map_err(|e| CopyError::io("read manifest", path.display(), e))?;
        if line.trim().is_empty() {
            continue;
        }
        let entry: ManifestLine = serde_json::from_str(&line).map_err(|e| {
            CopyError::Invalid(format!(
                "{}: line {}: not a copy manifest line ({e}); give a file written by --output-manifest",
                path.display(),
                n + 1
            ))
        })?;
        index.insert(path_key(&entry.path), (entry.size, entry.mtime_ms));
    }
    Ok(index)
}

/// Appends the lines of `--output-manifest` as files are done.
pub(crate) struct ManifestWriter {
    path: PathBuf,
    out: Mutex<std::io::BufWriter<std::fs::File>>,
}

impl ManifestWriter {
    pub(crate) fn create(path: &Path) -> Result<ManifestWriter, CopyError> {
        let f = std::fs::File::create(path)
            .map_err(|e| CopyError::io("create manifest", path.display(), e))?;
        Ok(ManifestWriter {
            path: path.to_path_buf(),
            out: Mutex::new(std::io::BufWriter::new(f)),
        })
    }

    pub(crate) fn add(&self, line: &ManifestLine) -> Result<(), CopyError> {
        // Serialized first: a write that fails is then always the manifest's I/O error, named.
        let mut text = serde_json::to_vec(line).map_err(|e| CopyError::Invalid(e.to_string()))?;
        text.push(b'\n');
        let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
        out.write_all(&text)
            .map_err(|e| CopyError::io("write manifest", self.path.display(), e))
    }

    pub(crate) fn finish(self) -> Result<(), CopyError> {
        let out = self.out.into_inner().unwrap_or_else(|p| p.into_inner());
        let f = out
            .into_inner()
            .map_err(|e| CopyError::io("write manifest", self.path.display(), e.into_error()))?;
        f.sync_all()
            .map_err(|e| CopyError::io("sync manifest", self.path.display(), e))
    }
}
