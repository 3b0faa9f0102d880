//! The pipeline every fuzz target drives: the same calls, in the same order, as
//! `migrate convert` (crates/cli/src/convert.rs), for both targets.

use migrate_advisor::{advise, Statistics, Workload};
use migrate_core::{Finding, SourceDialect, TargetDialect};
use migrate_dialect::{emit, DdlReader};

const FILE: &str = "fuzz.sql";

/// Reads `data` as a `dialect` script and converts it to every target. Panics on a broken
/// promise of the converter, which libFuzzer reports as a crash: a panic anywhere inside, or a
/// finding that points outside the input.
pub fn pipeline(dialect: SourceDialect, data: &[u8]) {
    let mut reader = DdlReader::new(dialect);
    if let Err(error) = reader.read_bytes(FILE, data) {
        // Rejected input must still be explained: the message is what the user reads.
        assert!(!error.to_string().is_empty());
        return;
    }
    let catalog = reader.finish();
    let lines = data.iter().filter(|b| **b == b'\n').count() as u64 + 1;
    check_locations(&catalog.findings, lines);

    for target in TargetDialect::ALL {
        let layouts = match target {
            // DDL carries no statistics, so this is the advisor on empty statistics and no
            // workload: what `migrate convert` runs without --stats and --workload.
            TargetDialect::Redshift => advise(
                &catalog,
                &Statistics::from_catalog(&catalog),
                &Workload::default(),
            ),
            TargetDialect::Postgres => Vec::new(),
        };
        let conversion = emit(&catalog, dialect, target, &layouts);
        check_locations(&conversion.findings, lines);
    }
}

/// A finding's file:line:column must name a real line of the input, counted from 1.
fn check_locations(findings: &[Finding], lines: u64) {
    for finding in findings {
        if let Some(location) = &finding.location {
            assert!(
                location.line >= 1 && location.line <= lines && location.column >= 1,
                "finding {} at {location} is outside the input ({lines} lines)",
                finding.code
            );
        }
    }
}
