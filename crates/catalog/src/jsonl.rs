//! The export format: JSON lines in `databases/`, `tables/` and `partitions/`, one object per line
//! in Glue's input shape, wrapped as AWS's migration scripts wrap it, and a `manifest.json`:
//!
//! ```text
//! databases/part-00000.jsonl   {"type":"database","item":{DatabaseInput}}
//! tables/part-00000.jsonl      {"type":"table","database":"db","item":{TableInput}}
//! partitions/part-00000.jsonl  {"type":"partition","database":"db","table":"t","item":{PartitionInput}}
//! manifest.json                {"format":"migrate-catalog-export","version":1,"files":[{"path":..,"lines":..,"bytes":..,"crc32c":..}]}
//! ```
//!
//! The manifest is written last, atomically (a temporary name renamed once every file is synced):
//! an export without one did not finish. An import first checks the whole export against it
//! ([`validate`]: every listed file present, every line readable, counts and checksums equal, no
//! unlisted file) before anything is written anywhere.
//!
//! Partitions of one table are written on consecutive lines. Reading goes line by line (never a
//! whole file in memory).

use crate::CatalogError;
use migrate_glue::{DatabaseInput, PartitionInput, TableInput};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

const KINDS: [&str; 3] = ["databases", "tables", "partitions"];
const MANIFEST: &str = "manifest.json";
const FORMAT: &str = "migrate-catalog-export";
const VERSION: u32 = 1;

#[derive(Serialize)]
struct Line<'a, T> {
    r#type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    database: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    table: Option<&'a str>,
    item: &'a T,
}

#[derive(Deserialize)]
struct ReadLine<T> {
    r#type: String,
    #[serde(default)]
    database: Option<String>,
    #[serde(default)]
    table: Option<String>,
    item: T,
}

/// What the manifest says of one file, and what reading it finds.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct FileSummary {
    /// Relative to the export directory, `/`-separated: `tables/part-00000.jsonl`.
    path: String,
    lines: u64,
    bytes: u64,
    /// CRC-32C of the file's bytes, 8 hex digits.
    crc32c: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    format: String,
    version: u32,
    files: Vec<FileSummary>,
}

/// A file being written, with what its manifest entry will say.
struct OutFile {
    path: PathBuf,
    file: BufWriter<File>,
    lines: u64,
    bytes: u64,
    crc: u32,
}

pub(crate) struct Writer {
    dir: PathBuf,
    files: Vec<OutFile>,
}

fn io(path: &Path, e: impl std::fmt::Display) -> CatalogError {
    CatalogError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// The end of every message about an export that can't be used.
const EXPORT_AGAIN: &str = "export again into a new directory and carry the whole directory over";

fn bad_export(path: &Path, message: impl std::fmt::Display) -> CatalogError {
    CatalogError::BadExport {
        path: path.to_path_buf(),
        message: format!("{message}; {EXPORT_AGAIN}"),
    }
}

impl Writer {
    /// Creates `dir` with its three subdirectories. An existing non-empty `dir` is refused: an
    /// export mixed with an older one would import objects that no longer exist.
    pub(crate) fn create(dir: &Path) -> Result<Writer, CatalogError> {
        if dir.is_file() {
            return Err(io(
                dir,
                "is a file, not a directory; export into a new directory",
            ));
        }
        if dir.exists() {
            let mut entries = std::fs::read_dir(dir).map_err(|e| io(dir, e))?;
            if entries.next().is_some() {
                return Err(io(
                    dir,
                    "exists and is not empty; export into a new directory",
                ));
            }
        }
        let mut files = Vec::new();
        for kind in KINDS {
            let sub = dir.join(kind);
            std::fs::create_dir_all(&sub).map_err(|e| io(&sub, e))?;
            let path = sub.join("part-00000.jsonl");
            let file = File::create(&path).map_err(|e| io(&path, e))?;
            files.push(OutFile {
                path,
                file: BufWriter::new(file),
                lines: 0,
                bytes: 0,
                crc: 0,
            });
        }
        Ok(Writer {
            dir: dir.to_path_buf(),
            files,
        })
    }

    fn write<T: Serialize>(&mut self, slot: usize, line: &Line<'_, T>) -> Result<(), CatalogError> {
        let out = &mut self.files[slot];
        let mut bytes = serde_json::to_vec(line).map_err(|e| io(&out.path, e))?;
        bytes.push(b'\n');
        out.file.write_all(&bytes).map_err(|e| io(&out.path, e))?;
        out.lines += 1;
        out.bytes += bytes.len() as u64;
        out.crc = crc32c::crc32c_append(out.crc, &bytes);
        Ok(())
    }

    pub(crate) fn database(&mut self, d: &DatabaseInput) -> Result<(), CatalogError> {
        self.write(
            0,
            &Line {
                r#type: "database",
                database: None,
                table: None,
                item: d,
            },
        )
    }

    pub(crate) fn table(&mut self, db: &str, t: &TableInput) -> Result<(), CatalogError> {
        self.write(
            1,
            &Line {
                r#type: "table",
                database: Some(db),
                table: None,
                item: t,
            },
        )
    }

    pub(crate) fn partition(
        &mut self,
        db: &str,
        table: &str,
        p: &PartitionInput,
    ) -> Result<(), CatalogError> {
        self.write(
            2,
            &Line {
                r#type: "partition",
                database: Some(db),
                table: Some(table),
                item: p,
            },
        )
    }

    /// Flushes and syncs every file, then writes the manifest (under a temporary name, synced,
    /// renamed): the export is complete, and importable, when this returns.
    pub(crate) fn finish(&mut self) -> Result<(), CatalogError> {
        let mut summaries = Vec::new();
        for out in &mut self.files {
            out.file.flush().map_err(|e| io(&out.path, e))?;
            out.file
                .get_ref()
                .sync_all()
                .map_err(|e| io(&out.path, e))?;
            summaries.push(FileSummary {
                path: relative(&self.dir, &out.path),
                lines: out.lines,
                bytes: out.bytes,
                crc32c: format!("{:08x}", out.crc),
            });
        }
        let manifest = Manifest {
            format: FORMAT.into(),
            version: VERSION,
            files: summaries,
        };
        let partial = self.dir.join(format!("{MANIFEST}.partial"));
        let text = serde_json::to_vec_pretty(&manifest).map_err(|e| io(&partial, e))?;
        let mut file = File::create(&partial).map_err(|e| io(&partial, e))?;
        file.write_all(&text).map_err(|e| io(&partial, e))?;
        file.sync_all().map_err(|e| io(&partial, e))?;
        let path = self.dir.join(MANIFEST);
        std::fs::rename(&partial, &path).map_err(|e| io(&path, e))?;
        // The rename itself is durable once the directory is synced.
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io(&self.dir, e))
    }
}

fn relative(dir: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(dir).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

fn read_manifest(dir: &Path) -> Result<Manifest, CatalogError> {
    let path = dir.join(MANIFEST);
    let text = match std::fs::read(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !dir.is_dir() => {
            return Err(CatalogError::Io {
                path: dir.to_path_buf(),
                message: "no such directory: give the directory `migrate catalog --export` wrote"
                    .into(),
            });
        }
        Err(_) if dir.is_file() => {
            return Err(io(
                dir,
                "is a file, not a directory: give the directory `migrate catalog --export` wrote",
            ));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(bad_export(
                dir,
                format!("no {MANIFEST}: the export did not finish (it was stopped or failed), files are missing, or this is not a `migrate catalog --export` directory"),
            ));
        }
        Err(e) => return Err(io(&path, e)),
    };
    let manifest: Manifest = serde_json::from_slice(&text)
        .map_err(|e| bad_export(&path, format!("not a readable manifest: {e}")))?;
    if manifest.format != FORMAT || manifest.version != VERSION {
        return Err(bad_export(
            &path,
            format!(
                "format {} version {}; this migrate reads {FORMAT} version {VERSION}",
                manifest.format, manifest.version
            ),
        ));
    }
    for f in &manifest.files {
        let safe = !f.path.starts_with('/')
            && f.path
                .split('/')
                .all(|part| !part.is_empty() && part != "..")
            && KINDS.iter().any(|k| f.path.starts_with(&format!("{k}/")));
        if !safe {
            return Err(bad_export(
                &path,
                format!("lists `{}`, which is not a file of an export", f.path),
            ));
        }
    }
    Ok(manifest)
}

/// Checks a whole export before anything is imported: the manifest, every file it lists (each
/// line read as its object type; line count, size and checksum as listed), and no `*.jsonl`
/// file anywhere in the directory that it doesn't list (a stray part file means a mixed or
/// changed export). The first problem is the error, naming the file (and line).
pub(crate) fn validate(dir: &Path) -> Result<(), CatalogError> {
    let manifest = read_manifest(dir)?;
    for listed in &manifest.files {
        let path = dir.join(&listed.path);
        let found = match kind_of(&listed.path) {
            "databases" => check_file::<DatabaseInput>(dir, path.clone(), "database")?,
            "tables" => check_file::<TableInput>(dir, path.clone(), "table")?,
            _ => check_file::<PartitionInput>(dir, path.clone(), "partition")?,
        };
        if found != *listed {
            return Err(bad_export(
                &path,
                format!(
                    "{} lines, {} bytes, CRC-32C {} where {MANIFEST} says {} lines, {} bytes, CRC-32C {}: the file is truncated or was changed after the export",
                    found.lines, found.bytes, found.crc32c, listed.lines, listed.bytes, listed.crc32c
                ),
            ));
        }
    }
    for path in jsonl_files(dir)? {
        let rel = relative(dir, &path);
        if !manifest.files.iter().any(|f| f.path == rel) {
            return Err(bad_export(
                &path,
                format!("is not listed in {MANIFEST}: it is not part of this export"),
            ));
        }
    }
    Ok(())
}

fn kind_of(path: &str) -> &str {
    path.split('/').next().unwrap_or_default()
}

/// Reads one file whole, line by line: every line must be an object of `type_name`.
fn check_file<T: DeserializeOwned>(
    dir: &Path,
    path: PathBuf,
    type_name: &'static str,
) -> Result<FileSummary, CatalogError> {
    let file = File::open(&path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => {
            bad_export(&path, format!("is listed in {MANIFEST} but missing"))
        }
        _ => io(&path, e),
    })?;
    let mut summary = FileSummary {
        path: relative(dir, &path),
        ..FileSummary::default()
    };
    let mut crc = 0;
    for line in raw_lines(path.clone(), file) {
        let (n, bytes) = line?;
        summary.lines = n;
        summary.bytes += bytes.len() as u64;
        crc = crc32c::crc32c_append(crc, &bytes);
        parse::<T>(&path, n, &bytes, type_name)?;
    }
    summary.crc32c = format!("{crc:08x}");
    Ok(summary)
}

/// The lines of a file with their numbers (from 1), each with its `\n` if it has one.
fn raw_lines(
    path: PathBuf,
    file: File,
) -> impl Iterator<Item = Result<(u64, Vec<u8>), CatalogError>> {
    let mut reader = BufReader::new(file);
    let mut n = 0;
    std::iter::from_fn(move || {
        let mut bytes = Vec::new();
        match reader.read_until(b'\n', &mut bytes) {
            Ok(0) => None,
            Ok(_) => {
                n += 1;
                Some(Ok((n, bytes)))
            }
            Err(e) => Some(Err(CatalogError::BadImport {
                path: path.clone(),
                line: n + 1,
                message: e.to_string(),
            })),
        }
    })
}

/// One line read back.
pub(crate) struct Record<T> {
    pub database: Option<String>,
    pub table: Option<String>,
    pub item: T,
}

/// One line as an object of `type_name`, with the names a table (database) or a partition
/// (database and table) line must carry.
fn parse<T: DeserializeOwned>(
    path: &Path,
    n: u64,
    bytes: &[u8],
    type_name: &'static str,
) -> Result<Record<T>, CatalogError> {
    let bad = |message: String| CatalogError::BadImport {
        path: path.to_path_buf(),
        line: n,
        message,
    };
    let l: ReadLine<T> =
        serde_json::from_slice(bytes).map_err(|e| bad(format!("not a {type_name} line: {e}")))?;
    if l.r#type != type_name {
        return Err(bad(format!(
            "type \"{}\" where \"{type_name}\" belongs",
            l.r#type
        )));
    }
    let needs_database = type_name != "database";
    let needs_table = type_name == "partition";
    if (needs_database && l.database.is_none()) || (needs_table && l.table.is_none()) {
        return Err(bad(format!(
            "a {type_name} without its {}",
            if needs_table {
                "\"database\" and \"table\""
            } else {
                "\"database\""
            }
        )));
    }
    Ok(Record {
        database: l.database,
        table: l.table,
        item: l.item,
    })
}

/// Every line of the files of `dir/<kind>/` that the manifest lists, in order. Call
/// [`validate`] first: this stops at the first bad line, after the lines before it.
pub(crate) fn read<T: DeserializeOwned + 'static>(
    dir: &Path,
    kind: &'static str,
    type_name: &'static str,
) -> Result<impl Iterator<Item = Result<Record<T>, CatalogError>>, CatalogError> {
    let files: Vec<PathBuf> = read_manifest(dir)?
        .files
        .into_iter()
        .filter(|f| kind_of(&f.path) == kind)
        .map(|f| dir.join(f.path))
        .collect();
    Ok(files.into_iter().flat_map(move |path| {
        let lines: Box<dyn Iterator<Item = _>> =
            match File::open(&path) {
                Ok(f) => Box::new(raw_lines(path.clone(), f).map(move |line| {
                    line.and_then(|(n, bytes)| parse(&path, n, &bytes, type_name))
                })),
                Err(e) => Box::new(std::iter::once(Err(io(&path, e)))),
            };
        lines
    }))
}

/// Every `*.jsonl` file under `dir`, at any depth (symbolic links to directories are not
/// followed), sorted.
fn jsonl_files(dir: &Path) -> Result<Vec<PathBuf>, CatalogError> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(sub) = pending.pop() {
        for entry in std::fs::read_dir(&sub).map_err(|e| io(&sub, e))? {
            let entry = entry.map_err(|e| io(&sub, e))?;
            let path = entry.path();
            if entry.file_type().map_err(|e| io(&path, e))?.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|x| x == "jsonl") {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}
