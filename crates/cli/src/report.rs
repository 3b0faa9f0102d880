//! What `migrate convert` tells the user: a terminal summary and a versioned JSON document
//! (schema in docs/convert-json.md).

use anyhow::Result;
use migrate_core::{
    Catalog, DistStyle, Finding, Severity, SourceDialect, TableLayout, TargetDialect,
};
use migrate_dialect::Conversion;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;

/// Warnings and actions printed per finding code in the terminal summary; more are counted.
const SHOWN_PER_CODE: usize = 20;

/// Bumped on any incompatible change of the JSON document.
const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
pub struct ConvertReport<'a> {
    schema_version: u32,
    source: SourceDialect,
    target: TargetDialect,
    summary: ReportSummary,
    tables: Vec<TableAdvice<'a>>,
    findings: &'a [Finding],
    #[serde(skip_serializing_if = "Option::is_none")]
    ddl: Option<&'a str>,
    #[serde(skip)]
    full_ddl: &'a str,
}

#[derive(Serialize)]
struct ReportSummary {
    tables: usize,
    views: usize,
    foreign_keys: usize,
    comments: usize,
    indexes: usize,
    routines: usize,
    not_converted: usize,
    findings: BTreeMap<Severity, usize>,
}

#[derive(Serialize)]
struct TableAdvice<'a> {
    table: String,
    diststyle: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    distkey: Option<String>,
    sortkey: Vec<String>,
    encodings: BTreeMap<String, &'static str>,
    evidence: &'a [migrate_core::Evidence],
}

impl<'a> ConvertReport<'a> {
    pub fn new(
        source: SourceDialect,
        target: TargetDialect,
        catalog: &Catalog,
        layouts: &'a [TableLayout],
        conversion: &'a Conversion,
        findings: &'a [Finding],
    ) -> Self {
        let mut by_severity = BTreeMap::new();
        for finding in findings {
            *by_severity.entry(finding.severity).or_insert(0) += 1;
        }
        let tables = catalog
            .tables
            .iter()
            .zip(layouts)
            .map(|(table, layout)| {
                let (diststyle, distkey) = match &layout.diststyle {
                    DistStyle::Auto => ("auto", None),
                    DistStyle::Even => ("even", None),
                    DistStyle::All => ("all", None),
                    DistStyle::Key(column) => ("key", Some(column.value.to_lowercase())),
                };
                TableAdvice {
                    table: table.name.to_string(),
                    diststyle,
                    distkey,
                    sortkey: layout
                        .sortkey
                        .iter()
                        .map(|c| c.value.to_lowercase())
                        .collect(),
                    encodings: layout
                        .encodings
                        .iter()
                        .map(|(c, e)| (c.value.to_lowercase(), e.as_sql()))
                        .collect(),
                    evidence: &layout.evidence,
                }
            })
            .collect();
        ConvertReport {
            schema_version: SCHEMA_VERSION,
            source,
            target,
            summary: ReportSummary {
                tables: conversion.summary.tables,
                views: conversion.summary.views,
                foreign_keys: conversion.summary.foreign_keys,
                comments: conversion.summary.comments,
                indexes: conversion.summary.indexes,
                routines: catalog.routines.len(),
                not_converted: conversion.summary.not_converted,
                findings: by_severity,
            },
            tables,
            findings,
            ddl: None,
            full_ddl: &conversion.ddl,
        }
    }

    /// Writes the JSON document (with the DDL when `include_ddl`), streamed: a report of
    /// 100,000 findings is never held as one string.
    pub fn write_json(&self, include_ddl: bool, out: impl Write) -> Result<()> {
        let document = ConvertReport {
            ddl: include_ddl.then_some(self.full_ddl),
            ..self.shallow_copy()
        };
        let mut out = std::io::BufWriter::new(out);
        serde_json::to_writer_pretty(&mut out, &document)?;
        out.write_all(b"\n")?;
        out.flush()?;
        Ok(())
    }

    fn shallow_copy(&self) -> ConvertReport<'a> {
        ConvertReport {
            schema_version: self.schema_version,
            source: self.source,
            target: self.target,
            summary: ReportSummary {
                findings: self.summary.findings.clone(),
                ..self.summary
            },
            tables: self
                .tables
                .iter()
                .map(|t| TableAdvice {
                    table: t.table.clone(),
                    diststyle: t.diststyle,
                    distkey: t.distkey.clone(),
                    sortkey: t.sortkey.clone(),
                    encodings: t.encodings.clone(),
                    evidence: t.evidence,
                })
                .collect(),
            findings: self.findings,
            ddl: self.ddl,
            full_ddl: self.full_ddl,
        }
    }

    /// Actions and warnings in full, up to [`SHOWN_PER_CODE`] per code; informational
    /// findings counted by code. The JSON report has every finding.
    pub fn print_text(&self, out: impl Write) -> Result<()> {
        let mut out = std::io::BufWriter::new(out);
        let mut infos: BTreeMap<&str, usize> = BTreeMap::new();
        let mut serious: Vec<&Finding> = Vec::new();
        for finding in self.findings {
            if finding.severity == Severity::Info {
                *infos.entry(finding.code.as_str()).or_insert(0) += 1;
            } else {
                serious.push(finding);
            }
        }
        serious.sort_by_key(|f| std::cmp::Reverse(f.severity));
        let mut shown: BTreeMap<&str, usize> = BTreeMap::new();
        for finding in &serious {
            let count = shown.entry(finding.code.as_str()).or_insert(0);
            *count += 1;
            if *count <= SHOWN_PER_CODE {
                writeln!(out, "{finding}")?;
            }
        }
        for (code, count) in &shown {
            if *count > SHOWN_PER_CODE {
                writeln!(out, "... and {} more [{code}] (every finding is in the JSON report: -o DIR or --output json)", count - SHOWN_PER_CODE)?;
            }
        }
        if !infos.is_empty() {
            let counts: Vec<String> = infos
                .iter()
                .map(|(code, n)| format!("{code} x{n}"))
                .collect();
            writeln!(
                out,
                "info: {} (see --output json for each)",
                counts.join(", ")
            )?;
        }
        let s = &self.summary;
        let count = |severity| s.findings.get(&severity).copied().unwrap_or(0);
        writeln!(
            out,
            "converted {} tables, {} views, {} foreign keys, {} comments{}; {} not converted; findings: {} action, {} warning, {} info",
            s.tables,
            s.views,
            s.foreign_keys,
            s.comments,
            if s.indexes > 0 { format!(", {} indexes", s.indexes) } else { String::new() },
            s.not_converted + s.routines,
            count(Severity::Action),
            count(Severity::Warning),
            count(Severity::Info),
        )?;
        out.flush()?;
        Ok(())
    }
}
