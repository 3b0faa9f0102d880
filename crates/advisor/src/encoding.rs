//! Column compression encodings, from the column's canonical type and statistics, within
//! Redshift's published compatibility table (Compression encodings, Amazon Redshift Database
//! Developer Guide):
//!
//! | Encoding  | Data types |
//! |-----------|------------|
//! | RAW       | all |
//! | AZ64      | SMALLINT, INTEGER, BIGINT, DECIMAL, DATE, TIMESTAMP, TIMESTAMPTZ |
//! | BYTEDICT  | SMALLINT, INTEGER, BIGINT, DECIMAL, REAL, DOUBLE PRECISION, CHAR, VARCHAR, DATE, TIMESTAMP, TIMESTAMPTZ |
//! | RUNLENGTH | SMALLINT, INTEGER, BIGINT, DECIMAL, REAL, DOUBLE PRECISION, BOOLEAN, CHAR, VARCHAR, DATE, TIMESTAMP, TIMESTAMPTZ |
//! | ZSTD      | SMALLINT, INTEGER, BIGINT, DECIMAL, REAL, DOUBLE PRECISION, BOOLEAN, CHAR, VARCHAR, DATE, TIMESTAMP, TIMESTAMPTZ, SUPER |
//! | LZO       | SMALLINT, INTEGER, BIGINT, DECIMAL, CHAR, VARCHAR, DATE, TIMESTAMP, TIMESTAMPTZ, SUPER |
//!
//! TIME, TIMETZ, VARBYTE, INTERVAL, GEOMETRY and GEOGRAPHY appear in no row but RAW's, so they
//! stay RAW: an encoding the table doesn't list could make CREATE TABLE fail.

use crate::text::count;
use crate::Context;
use migrate_core::{Encoding, Evidence, Ident, LengthUnit, LogicalType};

pub(crate) fn encodings(
    ctx: &Context,
    table: usize,
    sortkey: &[Ident],
) -> (Vec<(Ident, Encoding)>, Vec<Evidence>) {
    let mut encodings = Vec::new();
    let mut evidence = Vec::new();
    for (index, column) in ctx.catalog.tables[table].columns.iter().enumerate() {
        let (encoding, reason) = if sortkey
            .first()
            .is_some_and(|lead| lead.matches(&column.name))
        {
            (
                Encoding::Raw,
                "leading sort key column: RAW, as Redshift recommends, so range-restricted scans read the fewest rows per block".to_string(),
            )
        } else {
            let distinct = ctx.column_stats((table, index)).and_then(|s| s.distinct);
            by_type(ctx, &column.data_type, distinct)
        };
        evidence.push(Evidence {
            choice: format!(
                "encode {} {}",
                column.name,
                encoding.as_sql().to_ascii_lowercase()
            ),
            reasons: vec![reason],
        });
        encodings.push((column.name.clone(), encoding));
    }
    (encodings, evidence)
}

fn by_type(ctx: &Context, data_type: &LogicalType, distinct: Option<u64>) -> (Encoding, String) {
    use LogicalType::*;
    let name = data_type.canonical_name();
    match data_type {
        SmallInt | Integer | BigInt | Decimal { .. } | Date | Timestamp { .. } => (
            Encoding::Az64,
            format!("{name}: AZ64, Redshift's encoding for numbers, dates and timestamps"),
        ),
        Char { length, unit } | Varchar { length, unit } => {
            character(ctx, name, Some(bytes(*length, *unit)), distinct)
        }
        Text => character(ctx, name, None, distinct),
        Boolean => (
            Encoding::Zstd,
            "boolean: ZSTD (RAW, RUNLENGTH and ZSTD are allowed): RUNLENGTH grows the column when values alternate, ZSTD rarely increases size".to_string(),
        ),
        Real | Double => (
            Encoding::Zstd,
            format!("{name}: ZSTD, since AZ64 does not support REAL or DOUBLE PRECISION"),
        ),
        Numeric => (
            Encoding::Zstd,
            "numeric of unbounded precision: its Redshift type depends on the type mapping (DECIMAL, DOUBLE PRECISION or VARCHAR) and ZSTD is valid for each".to_string(),
        ),
        Json | Array(_) | Map(..) | Struct(_) | Union(_) => (
            Encoding::Zstd,
            format!("{name}: stored as SUPER, ZSTD"),
        ),
        Xml | Uuid => (
            Encoding::Zstd,
            format!("{name}: stored as a character or SUPER column, and ZSTD is valid for both"),
        ),
        Binary { .. } | Varbinary { .. } | Blob => raw_only(name, "VARBYTE"),
        Time {
            with_time_zone: false,
            ..
        } => raw_only(name, "TIME"),
        Time { .. } => raw_only(name, "TIMETZ"),
        IntervalYearMonth | IntervalDaySecond { .. } => raw_only(name, "INTERVAL"),
        Geometry => raw_only(name, "GEOMETRY"),
        Geography => raw_only(name, "GEOGRAPHY"),
    }
}

fn raw_only(name: &str, redshift_type: &str) -> (Encoding, String) {
    (
        Encoding::Raw,
        format!("{name}: stored as {redshift_type}, for which Redshift's published compression table lists only RAW"),
    )
}

/// Declared length in bytes (Redshift CHAR/VARCHAR lengths are bytes; UTF-8 needs up to 4 per
/// character).
fn bytes(length: u32, unit: LengthUnit) -> u32 {
    match unit {
        LengthUnit::Byte => length,
        LengthUnit::Char => length.saturating_mul(4),
    }
}

fn character(
    ctx: &Context,
    name: &str,
    declared_bytes: Option<u32>,
    distinct: Option<u64>,
) -> (Encoding, String) {
    let t = ctx.thresholds;
    match distinct {
        Some(d) if d < t.bytedict_max_distinct => match declared_bytes {
            Some(length) if length <= t.bytedict_max_length => (
                Encoding::Bytedict,
                format!(
                    "{name} with {} distinct values (fewer than {}): BYTEDICT replaces each value with a one-byte dictionary index",
                    count(d),
                    count(t.bytedict_max_distinct)
                ),
            ),
            _ => (
                Encoding::Zstd,
                format!(
                    "{name}: ZSTD; only {} distinct values, but BYTEDICT is kept to columns of at most {} bytes, as Redshift warns it can bloat long VARCHAR columns",
                    count(d),
                    count(u64::from(t.bytedict_max_length))
                ),
            ),
        },
        _ => (
            Encoding::Zstd,
            format!("{name}: ZSTD, high compression for character data (LZO is the older alternative)"),
        ),
    }
}
