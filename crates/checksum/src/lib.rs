//! Checksums that a source and a target compute in their own database, comparable with each
//! other: one definition, written as SQL for PostgreSQL and for MySQL/MariaDB.
//!
//! `migrate validate` compares a source table and its copy by row counts and per-chunk checksums
//! computed where the rows are: no row leaves either database. The same rows give the same
//! [`ChunkChecksum`] in both engines, whatever the column types on each side, as long as each
//! column is described by the canonical type ([`LogicalType`]) of the values it carries.
//!
//! # The definition
//!
//! 1. **Canonical text of a value**, fixed by its [`LogicalType`] (the type of the Arrow column
//!    that carried it, see `migrate-batch`), never by the engine's column type:
//!
//!    | canonical type | canonical text | examples |
//!    | --- | --- | --- |
//!    | `boolean` | `true` / `false` (MySQL: any non-zero number is `true`) | `true` |
//!    | `smallint`, `integer`, `bigint` | decimal digits, `-` for negatives (MySQL `BIT(n)` and `YEAR` as their number) | `-32768`, `2024` |
//!    | `decimal(p,s)` | exactly `s` fraction digits, `0` before the point, `-` for negatives | `0.50`, `-12.000`, `18446744073709551615` |
//!    | `numeric` | the value's own text (PostgreSQL keeps its display scale; `NaN`, `Infinity`) | `1.500` |
//!    | `real`, `double` | the value widened exactly to a double; its shortest round-trip digits in fixed notation when 1e-4 <= \|x\| < 1e15; else those digits `D` and the power of ten `E` with value = `D`×10^`E`: `[-]DeE`; zero is `0` or `-0`; `NaN`, `Infinity`, `-Infinity` | `0.1`, `-123.45`, `100`, `0.0001`, `1e-5`, `1e15`, `12345e20`, `5e-324` |
//!    | `char(n)` | the text without trailing spaces (CHAR semantics in both engines) | `ab` |
//!    | `varchar(n)`, `text` | the text (UTF-8; MySQL converts from the column's character set) | |
//!    | `binary`, `varbinary`, `blob` | lower-case hex of the bytes | `00ff` |
//!    | `date` | `YYYY-MM-DD`, ` BC` appended before year 1 (MySQL's year 0 is `0001-..-.. BC`, as the load writes it) | `1000-01-01` |
//!    | `time(p)` | `HH:MM:SS.ffffff` (MySQL durations: `-838:59:59.000000`) | `23:59:59.999999` |
//!    | `timetz(p)` | `HH:MM:SS.ffffff±HH:MM:SS` (MySQL: `+00:00:00`) | `12:00:00.000000+05:30:00` |
//!    | `timestamp(p)` | `YYYY-MM-DD HH:MM:SS.ffffff` | `9999-12-31 23:59:59.999999` |
//!    | `timestamptz(p)` | the same, in UTC | |
//!    | `interval_ym`, `interval_ds(p)` | `P<months>M<days>DT<seconds, 6 fraction digits>S`, each part signed | `P14M3DT3723.500000S` |
//!    | `json` | the text PostgreSQL's `jsonb` prints: keys sorted (shorter first, then by bytes), last duplicate wins, `", "` and `": "` between items; or, when both sides say so ([`JsonText::Normalized`], for MariaDB), MariaDB's `JSON_NORMALIZE` text of `[doc]` | `{"a": 1, "bb": [1, 2]}`, `[{"a":1.0E0,"bb":[1.0E0,2.0E0]}]` |
//!    | `xml` | the document text | |
//!    | `uuid` | lower-case `8-4-4-4-12` | |
//!    | `geometry`, `geography` | lower-case hex of the WKB (MySQL: `ST_AsBinary`; PostgreSQL: the WKB the caller selects) | |
//!    | `array`, `map`, `struct`, `union` | the value as `jsonb` text (`to_jsonb`) | `[1, null]` |
//!
//!    Dates and times never depend on `DateStyle`, `IntervalStyle` or the session time zone in
//!    PostgreSQL (`to_char`, `AT TIME ZONE 'UTC'`, `extract`); floats do depend on
//!    `extra_float_digits` being positive (PostgreSQL 12 or later prints the shortest round-trip
//!    digits then), and the JSON of arrays and composites on every setting that changes a value's
//!    text: run [`session_settings`] first.
//!
//!    Floats cost one conversion to text in the common case: both engines print a double of
//!    1e-4 <= |x| < 1e15 in fixed notation with its shortest digits, which is its canonical
//!    text. Only other values are reshaped (and in PostgreSQL, which prints the shortest digits
//!    strictly inside the rounding interval, completed with the shorter midpoint digits that
//!    round-half-even reads back, like `1e23`).
//!
//! 2. **Row text**: each column in order as `N` when NULL, else its canonical text in double
//!    quotes with inner double quotes doubled; columns joined by `,`. So NULL and `''` (`""`)
//!    differ, and no separator is ambiguous (the text splits back into its values like CSV).
//!    MySQL writes `?` for a non-NULL value that has no canonical text (a value whose text is
//!    longer than `max_allowed_packet`, invalid JSON): nothing in PostgreSQL matches it.
//!
//! 3. **Row hash** `h`: MD5 of the row text's UTF-8 bytes, 32 lower-case hex digits. (MySQL: a
//!    row text longer than `max_allowed_packet` makes the hash 32 zeros, which no real row hashes
//!    to: the checksum differs rather than skip the row.)
//!
//! 4. **Checksum** of a set of rows: the row count and two sums over the rows of 60-bit numbers
//!    read from the hash, hex digits 1-15 and 16-30 (PostgreSQL bits 1-60 and 61-120 of
//!    `('x' || h)::bit(128)`, MySQL `CONV(SUBSTRING(h, 1, 15), 16, 10)`), summed exactly
//!    (PostgreSQL `numeric`, MySQL `DECIMAL(65,0)`). The sums don't depend on row order and add
//!    up: a table's checksum is the [`ChunkChecksum::combine`] of its chunks'. Each row is
//!    hashed once (MySQL: the hashes go through an internal temporary table, 32 bytes a row).
//!
//! 5. **Row hashes**, to find the rows behind a mismatch: each row's key text (the key columns
//!    written as in a row text) and its hash, ordered by the key text's UTF-8 bytes in both
//!    engines (PostgreSQL `COLLATE "C"`, MySQL `CAST(... AS BINARY)`).
//!
//! # Limits (a mismatch, never a silent match)
//!
//! - MariaDB keeps JSON documents as written. In [`JsonText::Normalized`] form (MariaDB 10.7+)
//!   its documents equal `jsonb`'s but for duplicate keys (MariaDB keeps them all) and escapes
//!   of characters `jsonb` prints as themselves (`\u00e9`, `\/`), which only the client can
//!   rewrite: [`client_row_hash`] gives such rows the target's hash. In [`JsonText::Jsonb`] form
//!   (older MariaDB) only documents already in `jsonb`'s form (keys in `jsonb`'s order, numbers
//!   as `jsonb` prints them) are equal. MySQL 8 normalises documents like `jsonb` except for
//!   numbers with a fraction or an exponent.
//! - MySQL `TIME` values outside `00:00:00..24:00:00` have no PostgreSQL `time`; MariaDB turns
//!   `-0.0` into `0`; PostgreSQL `NaN`/`Infinity` floats and dates have no MySQL value.
//! - PostgreSQL `geometry`/`geography` columns are hashed from the WKB the caller selects: the
//!   same shape written as NDR and as XDR WKB hashes differently.
//!
//! ```
//! use migrate_checksum::{checksum_sql, ChecksumColumn, Engine};
//! use migrate_core::LogicalType;
//! let columns = [
//!     ChecksumColumn::new("\"id\"", LogicalType::BigInt),
//!     ChecksumColumn::new("\"name\"", LogicalType::Text),
//! ];
//! let sql = checksum_sql(Engine::Postgres, "\"public\".\"t\"", &columns, "\"id\" < 1000");
//! assert!(sql.starts_with("SELECT count(*)"));
//! ```

mod canonical;
mod row_text;

pub use row_text::{client_row_hash, hashed_on_client, push_jsonb_string, row_text_values};

use canonical::PgColumn;
use migrate_core::LogicalType;
use std::fmt;

/// The SQL dialect a checksum query is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Engine {
    /// PostgreSQL 12 or later.
    Postgres,
    /// MySQL 8 and MariaDB 10.x.
    Mysql,
}

/// One column of a checksum: what to hash and what its values mean.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecksumColumn {
    /// A column reference (already quoted) or any SQL expression of the engine. In PostgreSQL,
    /// `array`/`map`/`struct`/`union` columns must be the value itself (an array, `hstore`,
    /// composite or `json`/`jsonb`), not its text, and `geometry`/`geography` ones its WKB
    /// (`bytea`: `ST_AsBinary(x)` of a PostGIS value, a BYTEA column holding WKB).
    pub sql: String,
    /// The canonical type of the values: the type of the Arrow column that carries them.
    pub data_type: LogicalType,
    /// How a `json` value is written (other types ignore it); both sides of a comparison must
    /// use the same.
    pub json: JsonText,
}

impl ChecksumColumn {
    /// The column `sql` of canonical type `data_type`, JSON written as [`JsonText::Jsonb`].
    pub fn new(sql: impl Into<String>, data_type: LogicalType) -> ChecksumColumn {
        ChecksumColumn {
            sql: sql.into(),
            data_type,
            json: JsonText::Jsonb,
        }
    }

    /// The same column with JSON written as `json`.
    pub fn with_json(self, json: JsonText) -> ChecksumColumn {
        ChecksumColumn { json, ..self }
    }
}

/// The canonical text of a `json` value: which normal form of the document is hashed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum JsonText {
    /// The text PostgreSQL's `jsonb` prints (see the crate docs' table). MySQL 8 writes it
    /// (`JSON_EXTRACT(x, '$')`) but for numbers with a fraction or an exponent; MariaDB only for
    /// documents already in that form.
    #[default]
    Jsonb,
    /// The text MariaDB 10.7+'s `JSON_NORMALIZE` writes for the document as the one element of
    /// an array (`[doc]`: alone, its number reader takes digits after the document's end into
    /// an exponent that ends it, `1e3`): no whitespace, object keys ordered by their bytes
    /// (duplicate keys kept, in order), every number as `[-]D.DDDE[-]N` with all its significant
    /// digits (`1.0E2`, `-1.25E-3`, `0.0E0`), strings as written. PostgreSQL writes it from
    /// `jsonb` with the function [`postgres_functions`] defines. For comparing MariaDB, whose
    /// documents are stored as written, with `jsonb`.
    Normalized,
}

/// PostgreSQL: the output text of value `x` (SQL), as its type's output function writes it, NULL
/// kept. `concat` runs the output function but turns NULL into ''; the NULL test is `IS NOT
/// DISTINCT FROM` because `IS NULL` is also true of a composite whose fields are all NULL, whose
/// text is `(,)`, not NULL.
pub fn postgres_output_text(x: &str) -> String {
    format!("CASE WHEN ({x}) IS NOT DISTINCT FROM NULL THEN NULL ELSE concat({x}) END")
}

/// The query computing the [`ChunkChecksum`] of the rows of `from_sql` (a table name as SQL, or a
/// subquery with an alias) that match `predicate` (SQL; empty means every row), over `columns`.
/// It returns one row: the count (`bigint`), then both sums as decimal text, for
/// [`ChunkChecksum::from_sql_text`]. Run [`session_settings`] on the session first
/// (and, in PostgreSQL, [`postgres_functions`] of `columns`).
///
/// Consistency: the query sees what its statement or transaction sees; run it in the snapshot
/// that was read to compare with what was copied.
pub fn checksum_sql(
    engine: Engine,
    from_sql: &str,
    columns: &[ChecksumColumn],
    predicate: &str,
) -> String {
    let predicate = predicate_sql(predicate);
    match engine {
        Engine::Postgres => {
            let (values, texts) = postgres_stages(columns, &[]);
            // The hash's bits, read once: bits 1-60 are hex digits 1-15, bits 61-120 digits 16-30.
            format!(
                "SELECT count(*)::int8, \
                        coalesce(sum(substring(b FROM 1 FOR 60)::bit(60)::int8), 0)::text, \
                        coalesce(sum(substring(b FROM 61 FOR 60)::bit(60)::int8), 0)::text \
                   FROM (SELECT ('x' || {})::bit(128) AS b \
                           FROM (SELECT {values} FROM {from_sql} WHERE {predicate} OFFSET 0) AS migrate_values \
                         OFFSET 0) AS migrate_rows",
                postgres_hash(&texts)
            )
        }
        Engine::Mysql => {
            // MySQL merges a plain derived table into the outer query, and then computes the
            // row hash once per sum. A LIMIT keeps it apart: the hashes are materialised (an
            // internal temporary table of 32 bytes per row, on disk past `tmp_table_size`).
            let sum = |from: u32| {
                format!(
                    "CAST(COALESCE(SUM(CAST(CONV(SUBSTRING(h, {from}, 15), 16, 10) AS DECIMAL(65,0))), 0) AS CHAR)"
                )
            };
            format!(
                "SELECT COUNT(*), {}, {} FROM (SELECT CAST({} AS BINARY) AS h FROM {from_sql} \
                   WHERE {predicate} LIMIT 18446744073709551615) AS migrate_rows",
                sum(1),
                sum(16),
                mysql_hash(columns)
            )
        }
    }
}

/// The query listing each row's key text and hash (`k`, `h`: both text) for the rows of
/// `from_sql` matching `predicate`, ordered by the key text's bytes identically in both engines
/// (MySQL: in no order without `key` columns).
/// `key` are the key columns (their text is written as in a row text, see the crate docs);
/// `columns` are the hashed columns, as in [`checksum_sql`]: `h` is the same per-row hash the
/// sums are built from. Run [`session_settings`] on the session first (and, in PostgreSQL,
/// [`postgres_functions`] of `key` and `columns`).
///
/// Memory: the server sorts the rows; the client should stream the result.
pub fn row_hashes_sql(
    engine: Engine,
    from_sql: &str,
    key: &[ChecksumColumn],
    columns: &[ChecksumColumn],
    predicate: &str,
) -> String {
    let predicate = predicate_sql(predicate);
    match engine {
        Engine::Postgres => {
            let (values, texts) = postgres_stages(columns, key);
            let (row, key_texts) = texts.split_at(columns.len());
            format!(
                "SELECT k, h FROM (SELECT {} AS k, {} AS h \
                   FROM (SELECT {values} FROM {from_sql} WHERE {predicate} OFFSET 0) AS migrate_values) \
                   AS migrate_rows ORDER BY k COLLATE \"C\"",
                join_postgres(key_texts),
                postgres_hash(row)
            )
        }
        Engine::Mysql => mysql_keyed_rows(from_sql, key, ("h", &mysql_hash(columns)), &predicate),
    }
}

/// MySQL: the query listing each row's key text and row text (`k`, `t`), as
/// [`row_hashes_sql`] lists key texts and hashes, for hashes that the client computes with
/// [`client_row_hash`] ([`hashed_on_client`] says when). `t` is NULL for a row whose text is
/// longer than `max_allowed_packet`.
pub fn mysql_row_texts_sql(
    from_sql: &str,
    key: &[ChecksumColumn],
    columns: &[ChecksumColumn],
    predicate: &str,
) -> String {
    mysql_keyed_rows(
        from_sql,
        key,
        ("t", &mysql_row_text(columns)),
        &predicate_sql(predicate),
    )
}

/// Each row's key text `k` and `value` (its alias and SQL), ordered by the key text's bytes;
/// without key columns (every `k` empty), in no order: a sort would only cost the server.
fn mysql_keyed_rows(
    from_sql: &str,
    key: &[ChecksumColumn],
    (alias, value): (&str, &str),
    predicate: &str,
) -> String {
    let order = if key.is_empty() {
        ""
    } else {
        " ORDER BY CAST(k AS BINARY)"
    };
    format!(
        "SELECT k, {alias} FROM (SELECT {} AS k, {value} AS {alias} FROM {from_sql} \
           WHERE {predicate}) AS migrate_rows{order}",
        mysql_row_text(key)
    )
}

/// PostgreSQL session settings under which the checksum queries give the documented text, and
/// under which every other text this project reads from or writes to PostgreSQL is
/// unambiguous: instants in UTC, ISO dates, ISO 8601 intervals, floats with the shortest
/// round-trip digits, bytea in hex. The source and the warehouse sessions use exactly this.
///
/// JIT is off: compiling the checksum queries' long expressions took longer (0.3 to 0.8 s per
/// query over a million rows) than it saved, and the plain reads and loads gain nothing from it.
pub const POSTGRES_SESSION_SETTINGS: &str = "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; \
     SET IntervalStyle = 'iso_8601'; SET extra_float_digits = 3; SET bytea_output = 'hex'; \
     SET jit = off";

/// MySQL/MariaDB session settings (one statement): `TIMESTAMP` values shown in UTC, and strings
/// exchanged with the client as utf8mb4.
pub const MYSQL_SESSION_SETTINGS: &str = "SET time_zone = '+00:00', NAMES utf8mb4";

/// The session's functions that the queries over `columns` call (PostgreSQL), to run before
/// them: `None` when they call none. Idempotent (defines what the session lacks); the functions
/// live in the session's `pg_temp` schema, which needs the `TEMPORARY` privilege on the database
/// (PostgreSQL grants it to every user by default).
pub fn postgres_functions(columns: &[ChecksumColumn]) -> Option<&'static str> {
    columns
        .iter()
        .any(|c| c.data_type == LogicalType::Json && c.json == JsonText::Normalized)
        .then_some(canonical::POSTGRES_JSON_NORMALIZED)
}

/// Statements a session must run once before the queries above (time zone UTC, character set,
/// float digits, ...).
pub const fn session_settings(engine: Engine) -> &'static str {
    match engine {
        Engine::Postgres => POSTGRES_SESSION_SETTINGS,
        Engine::Mysql => MYSQL_SESSION_SETTINGS,
    }
}

fn predicate_sql(predicate: &str) -> String {
    if predicate.trim().is_empty() {
        "TRUE".to_string()
    } else {
        format!("({predicate})")
    }
}

/// PostgreSQL computes the rows' texts in two steps so that a float's text is printed once and
/// reshaped from that one value (the planner would otherwise inline it at every use; `OFFSET 0`
/// keeps the step apart). Returns the first step's select list and the second step's column
/// texts: `columns` first, then `key`.
fn postgres_stages(columns: &[ChecksumColumn], key: &[ChecksumColumn]) -> (String, Vec<String>) {
    let mut values = Vec::new();
    let mut texts = Vec::new();
    for (i, column) in columns.iter().chain(key).enumerate() {
        let alias = format!("v{i}");
        match canonical::postgres_column(column) {
            PgColumn::Done(text) => values.push(format!("{text} AS {alias}")),
            PgColumn::Float(float) => {
                values.push(format!("{float} AS {alias}"));
                texts.push(canonical::postgres_float_column(&alias));
                continue;
            }
        }
        texts.push(alias);
    }
    if values.is_empty() {
        // A select list can't be empty; a table without columns still has rows to count.
        values.push("NULL AS v".to_string());
    }
    (values.join(", "), texts)
}

fn join_postgres(texts: &[String]) -> String {
    if texts.is_empty() {
        "''".to_string()
    } else {
        texts.join(" || ',' || ")
    }
}

fn postgres_hash(texts: &[String]) -> String {
    format!("md5(convert_to({}, 'UTF8'))", join_postgres(texts))
}

fn mysql_row_text(columns: &[ChecksumColumn]) -> String {
    if columns.is_empty() {
        return "''".to_string();
    }
    let texts: Vec<String> = columns.iter().map(canonical::mysql_column).collect();
    // Every text is utf8mb4 or ASCII (see `canonical::mysql_column`), and so is the row's.
    format!("CONCAT({})", texts.join(", ',', "))
}

fn mysql_hash(columns: &[ChecksumColumn]) -> String {
    format!(
        "COALESCE(MD5({}), '{}')",
        mysql_row_text(columns),
        row_text::NO_TEXT_HASH
    )
}

/// The row count and checksum of a set of rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChunkChecksum {
    pub rows: u64,
    /// Sums of the two 60-bit halves of each row's hash. With at most 2^63 rows, a sum stays
    /// below 2^123: no overflow.
    pub sums: [u128; 2],
}

impl ChunkChecksum {
    /// The checksum of the union of two disjoint sets of rows.
    pub fn combine(&self, other: &ChunkChecksum) -> ChunkChecksum {
        ChunkChecksum {
            rows: self.rows + other.rows,
            sums: [self.sums[0] + other.sums[0], self.sums[1] + other.sums[1]],
        }
    }

    /// The checksum of the rows with these row hashes (32 hex digits each, as the queries and
    /// [`client_row_hash`] give them).
    pub fn of_row_hashes<'a>(
        hashes: impl IntoIterator<Item = &'a str>,
    ) -> Result<ChunkChecksum, String> {
        let mut checksum = ChunkChecksum::default();
        for hash in hashes {
            let half = |digits: std::ops::Range<usize>| {
                hash.get(digits)
                    .and_then(|hex| u64::from_str_radix(hex, 16).ok())
                    .ok_or_else(|| format!("{hash:?} is not a row hash (32 hex digits)"))
            };
            checksum.rows += 1;
            checksum.sums[0] += u128::from(half(0..15)?);
            checksum.sums[1] += u128::from(half(15..30)?);
        }
        Ok(checksum)
    }

    /// Reads the three values a checksum query returns (count and both sums as decimal text).
    pub fn from_sql_text(rows: i64, sum_a: &str, sum_b: &str) -> Result<ChunkChecksum, String> {
        let sum = |text: &str| {
            text.trim().parse::<u128>().map_err(|e| {
                format!("a checksum sum is not a non-negative integer ({text:?}): {e}")
            })
        };
        Ok(ChunkChecksum {
            rows: u64::try_from(rows).map_err(|_| format!("a negative row count ({rows})"))?,
            sums: [sum(sum_a)?, sum(sum_b)?],
        })
    }
}

impl fmt::Display for ChunkChecksum {
    /// `rows:<n> sum:<a>-<b>`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "rows:{} sum:{}-{}",
            self.rows, self.sums[0], self.sums[1]
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_add_up() {
        let a = ChunkChecksum::from_sql_text(2, "10", "20").unwrap();
        let b = ChunkChecksum::from_sql_text(3, "1", "2").unwrap();
        assert_eq!(
            a.combine(&b),
            ChunkChecksum {
                rows: 5,
                sums: [11, 22]
            }
        );
        assert!(ChunkChecksum::from_sql_text(1, "x", "1").is_err());
        assert!(ChunkChecksum::from_sql_text(-1, "1", "1").is_err());
    }

    #[test]
    fn only_normalized_json_needs_the_session_function() {
        let json = ChecksumColumn::new("j", LogicalType::Json);
        let text = ChecksumColumn::new("t", LogicalType::Text);
        assert_eq!(postgres_functions(&[json.clone(), text.clone()]), None);
        // Other types ignore the JSON form.
        assert_eq!(
            postgres_functions(&[text.with_json(JsonText::Normalized)]),
            None
        );
        let normalized = json.with_json(JsonText::Normalized);
        let functions = postgres_functions(std::slice::from_ref(&normalized));
        assert!(functions.is_some_and(|f| f.contains("pg_temp.migrate_json_normalized")));
        let sql = checksum_sql(Engine::Postgres, "t", std::slice::from_ref(&normalized), "");
        assert!(
            sql.contains("'[' || pg_temp.migrate_json_normalized((j)::jsonb) || ']'"),
            "{sql}"
        );
        let sql = checksum_sql(Engine::Mysql, "t", &[normalized], "");
        assert!(sql.contains("JSON_NORMALIZE(CONCAT('[', j, ']'))"), "{sql}");
    }

    #[test]
    fn an_empty_predicate_means_every_row() {
        let columns = [ChecksumColumn::new("a", LogicalType::Integer)];
        for engine in [Engine::Postgres, Engine::Mysql] {
            let sql = checksum_sql(engine, "t", &columns, " ");
            assert!(sql.contains("FROM t WHERE TRUE"), "{sql}");
            let sql = checksum_sql(engine, "t", &columns, "a < 3");
            assert!(sql.contains("FROM t WHERE (a < 3)"), "{sql}");
        }
    }

    #[test]
    fn session_settings_are_one_definition_per_engine() {
        assert_eq!(
            session_settings(Engine::Postgres),
            POSTGRES_SESSION_SETTINGS
        );
        assert!(session_settings(Engine::Mysql).contains("time_zone = '+00:00'"));
    }
}
