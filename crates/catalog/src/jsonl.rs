//! The export format: JSON lines in `databases/`, `tables/` and `partitions/`, one object per line
//! in Glue's input shape, wrapped as AWS's migration scripts wrap it:
//!
//! ```text
//! databases/part-00000.jsonl   {"type":"database","item":{DatabaseInput}}
//! tables/part-00000.jsonl      {"type":"table","database":"db","item":{TableInput}}
//! partitions/part-00000.jsonl  {"type":"partition","database":"db","table":"t","item":{PartitionInput}}
//! ```
//!
//! Partitions of one table are written on consecutive lines. Reading takes every `*.jsonl` file of
//! a directory in name order, line by line (never a whole file in memory).

use crate::CatalogError;
use migrate_glue::{DatabaseInput, PartitionInput, TableInput};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

const KINDS: [&str; 3] = ["databases", "tables", "partitions"];

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

pub(crate) struct Writer {
    files: Vec<(PathBuf, BufWriter<File>)>,
}

fn io(path: &Path, e: impl std::fmt::Display) -> CatalogError {
    CatalogError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

impl Writer {
    /// Creates `dir` with its three subdirectories. An existing non-empty `dir` is refused: an
    /// export mixed with an older one would import objects that no longer exist.
    pub(crate) fn create(dir: &Path) -> Result<Writer, CatalogError> {
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
            files.push((path, BufWriter::new(file)));
        }
        Ok(Writer { files })
    }

    fn write<T: Serialize>(&mut self, slot: usize, line: &Line<'_, T>) -> Result<(), CatalogError> {
        let (path, file) = &mut self.files[slot];
        serde_json::to_writer(&mut *file, line).map_err(|e| io(path, e))?;
        file.write_all(b"\n").map_err(|e| io(path, e))
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

    /// Flushes and syncs every file: the export is complete when this returns.
    pub(crate) fn finish(&mut self) -> Result<(), CatalogError> {
        for (path, file) in &mut self.files {
            file.flush().map_err(|e| io(path, e))?;
            file.get_ref().sync_all().map_err(|e| io(path, e))?;
        }
        Ok(())
    }
}

/// One line read back.
pub(crate) struct Record<T> {
    pub line: u64,
    pub database: Option<String>,
    pub table: Option<String>,
    pub item: T,
}

/// Every line of `dir/<kind>/*.jsonl`, checking its `type`.
pub(crate) fn read<T: DeserializeOwned>(
    dir: &Path,
    kind: &'static str,
    type_name: &'static str,
) -> Result<impl Iterator<Item = Result<Record<T>, CatalogError>>, CatalogError> {
    let files = files(dir, kind)?;
    Ok(files.into_iter().flat_map(move |path| {
        let lines: Box<dyn Iterator<Item = _>> = match File::open(&path) {
            Ok(f) => Box::new(BufReader::new(f).lines().enumerate()),
            Err(e) => Box::new(std::iter::once((0, Err(e)))),
        };
        lines.filter_map(move |(i, line)| {
            let n = i as u64 + 1;
            let bad = |message: String| CatalogError::BadImport {
                path: path.clone(),
                line: n,
                message,
            };
            let line = match line {
                Ok(l) if l.trim().is_empty() => return None,
                Ok(l) => l,
                Err(e) => return Some(Err(bad(e.to_string()))),
            };
            Some(match serde_json::from_str::<ReadLine<T>>(&line) {
                Ok(l) if l.r#type == type_name => Ok(Record {
                    line: n,
                    database: l.database,
                    table: l.table,
                    item: l.item,
                }),
                Ok(l) => Err(bad(format!(
                    "type \"{}\" where \"{type_name}\" belongs",
                    l.r#type
                ))),
                Err(e) => Err(bad(format!("not a {type_name} line: {e}"))),
            })
        })
    }))
}

fn files(dir: &Path, kind: &str) -> Result<Vec<PathBuf>, CatalogError> {
    let sub = dir.join(kind);
    let entries = std::fs::read_dir(&sub).map_err(|e| {
        io(
            &sub,
            format!("{e}; an export directory has databases/, tables/ and partitions/"),
        )
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    Ok(files)
}
