//! Helpers shared by the end-to-end tests.
// Each test binary uses its own part of these helpers.
#![allow(dead_code)]

use migrate_advisor::{advise, Statistics, Workload};
use migrate_core::{Catalog, Finding, SourceDialect, TargetDialect};
use migrate_dialect::{emit, DdlReader};
use std::path::{Path, PathBuf};

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the repository")
        .to_path_buf()
}

/// What one conversion produced.
pub struct Converted {
    pub catalog: Catalog,
    pub ddl: String,
    pub findings: Vec<Finding>,
}

/// Reads files (path, content) and converts them the way `migrate convert` does.
pub fn convert(from: SourceDialect, to: TargetDialect, files: &[(String, Vec<u8>)]) -> Converted {
    let mut reader = DdlReader::new(from);
    for (name, bytes) in files {
        reader
            .read_bytes(name, bytes)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let catalog = reader.finish();
    let layouts = match to {
        TargetDialect::Redshift => advise(
            &catalog,
            &Statistics::from_catalog(&catalog),
            &Workload::default(),
        ),
        TargetDialect::Postgres => Vec::new(),
    };
    let conversion = emit(&catalog, from, to, &layouts);
    let mut findings = catalog.findings.clone();
    findings.extend(conversion.findings);
    Converted {
        catalog,
        ddl: conversion.ddl,
        findings,
    }
}
