//! The canonical text of one value, as SQL for each engine (see the crate docs for the table).
//!
//! Every function here takes `x`, an SQL expression of the engine, and returns an SQL expression
//! that is NULL exactly when `x` is NULL (PostgreSQL) or that is only evaluated for a non-NULL `x`
//! (MySQL, where [`mysql_column`] tests `x` first).

use crate::{ChecksumColumn, JsonText};
use migrate_core::LogicalType;

/// MySQL's largest DECIMAL precision and scale: `CAST(x AS DECIMAL(p,s))` works up to these.
const MYSQL_MAX_PRECISION: u32 = 65;
const MYSQL_MAX_SCALE: u32 = 30;

/// What a column's row text is made of in PostgreSQL: most types in one step, floats in two (the
/// float's text once, then reshaped from that one value: see [`postgres_float`]).
pub(crate) enum PgColumn {
    /// The column's complete text (`N` or `"..."`).
    Done(String),
    /// The float's `float8out` text, to be finished by [`postgres_float_column`].
    Float(String),
}

/// The text of one column inside a row, for PostgreSQL: `N` for NULL, else the canonical text in
/// double quotes with inner double quotes doubled.
pub(crate) fn postgres_column(column: &ChecksumColumn) -> PgColumn {
    let (ty, x) = (&column.data_type, column.sql.as_str());
    match ty {
        LogicalType::Real | LogicalType::Double => PgColumn::Float(format!("({x})::float8::text")),
        _ if quote_free(ty) => PgColumn::Done(format!(
            "coalesce('\"' || {} || '\"', 'N')",
            postgres_value(ty, x, column.json)
        )),
        _ => PgColumn::Done(format!(
            "coalesce('\"' || replace({}, '\"', '\"\"') || '\"', 'N')",
            postgres_value(ty, x, column.json)
        )),
    }
}

/// Defines `pg_temp.migrate_json_normalized(jsonb)`, the [`JsonText::Normalized`] text of a
/// document, when the session lacks it. Objects and arrays call it for their containers and
/// numbers (PL/pgSQL: its plans are kept across calls, where a recursive SQL function is planned
/// at every call, 25 times slower); keys are ordered by their UTF-8 bytes (`COLLATE "C"`); a
/// number is written from its `numeric` text: its significant digits `D` (no leading or trailing
/// zeros) as `D[0].D[1..]E<exponent>` (`.0` when `D` is one digit), `-` before a negative one,
/// `0.0E0` for zero.
pub(crate) const POSTGRES_JSON_NORMALIZED: &str = r#"DO $migrate$ BEGIN
IF to_regprocedure('pg_temp.migrate_json_normalized(jsonb)') IS NULL THEN
CREATE FUNCTION pg_temp.migrate_json_normalized(j jsonb) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT AS $f$
DECLARE
  kind text := jsonb_typeof(j);
  written text;
  digits text;
  integral text;
  significant text;
BEGIN
  IF kind = 'object' THEN
    SELECT '{' || coalesce(string_agg(to_jsonb(k)::text || ':'
             || CASE WHEN jsonb_typeof(v) IN ('object', 'array', 'number')
                     THEN pg_temp.migrate_json_normalized(v) ELSE v::text END,
             ',' ORDER BY k COLLATE "C"), '') || '}'
      INTO written FROM jsonb_each(j) AS members(k, v);
    RETURN written;
  ELSIF kind = 'array' THEN
    SELECT '[' || coalesce(string_agg(
             CASE WHEN jsonb_typeof(v) IN ('object', 'array', 'number')
                  THEN pg_temp.migrate_json_normalized(v) ELSE v::text END,
             ',' ORDER BY n), '') || ']'
      INTO written FROM jsonb_array_elements(j) WITH ORDINALITY AS elements(v, n);
    RETURN written;
  ELSIF kind = 'number' THEN
    written := ltrim(j::text, '-');
    integral := split_part(written, '.', 1);
    digits := integral || split_part(written, '.', 2);
    significant := rtrim(ltrim(digits, '0'), '0');
    IF significant = '' THEN
      RETURN '0.0E0';
    END IF;
    RETURN CASE WHEN j::text LIKE '-%' THEN '-' ELSE '' END || left(significant, 1) || '.'
      || coalesce(nullif(substr(significant, 2), ''), '0') || 'E'
      || (length(integral) - (length(digits) - length(ltrim(digits, '0'))) - 1)::text;
  END IF;
  RETURN j::text;
END
$f$;
END IF;
END $migrate$"#;

/// Whether the canonical text of `ty` is written by the checksum's SQL from digits, hex digits,
/// signs and date and time punctuation, never copied from the value: then it holds no `"` to
/// double (and, in MySQL, no character to convert to utf8mb4).
fn quote_free(ty: &LogicalType) -> bool {
    use LogicalType as L;
    match ty {
        L::Boolean
        | L::SmallInt
        | L::Integer
        | L::BigInt
        | L::Decimal { .. }
        | L::Real
        | L::Double
        | L::Binary { .. }
        | L::Varbinary { .. }
        | L::Blob
        | L::Date
        | L::Time { .. }
        | L::Timestamp { .. }
        | L::IntervalYearMonth
        | L::IntervalDaySecond { .. }
        | L::Geometry
        | L::Geography => true,
        // MySQL's `numeric` is the value's own text (a DECIMAL's, or whatever `x` is).
        L::Numeric
        | L::Char { .. }
        | L::Varchar { .. }
        | L::Text
        | L::Json
        | L::Xml
        | L::Uuid
        | L::Array(_)
        | L::Map(..)
        | L::Struct(_)
        | L::Union(_) => false,
    }
}

/// Finishes a [`PgColumn::Float`] whose `float8out` text is the column `t`.
///
/// Cheap in the common case: `float8out` prints the canonical text itself (fixed notation, no
/// `e`) exactly for zero, `NaN`, the infinities and 1e-4 <= |x| < 1e15 (its fixed-notation
/// range). Only the other values go through [`postgres_float`].
pub(crate) fn postgres_float_column(t: &str) -> String {
    format!(
        "coalesce('\"' || CASE WHEN strpos({t}, 'e') = 0 THEN {t} ELSE {} END || '\"', 'N')",
        postgres_float(t)
    )
}

/// The canonical text `[-]DeE` of a non-zero finite double outside the fixed-notation range,
/// from its `float8out` text `t`, then always `[-]d[.ddd]e±XX`.
///
/// `float8out` prints the shortest digits strictly between the midpoints to the neighbouring
/// doubles; the canonical digits (like MySQL's and Rust's) may also be a midpoint itself when
/// round-half-even reads it back as the value (`1e23`, printed `9.999999999999999e+22`). No
/// number with fewer digits lies strictly between the midpoints, so the only candidates are
/// the printed digits cut by one digit, rounded down and rounded up: either one is taken when
/// it reads back as the value.
fn postgres_float(t: &str) -> String {
    // value = digits × 10^power; `rtrim` keeps that true even for digits ending in zeros.
    let digits = format!("rtrim(translate(split_part({t}, 'e', 1), '-.', ''), '0')");
    let power = format!("(split_part({t}, 'e', 2)::int + 1 - length({digits}))");
    // A candidate: `cut` digits × 10^(power + 1).
    let reads_back =
        |cut: &str| format!("({cut} || 'e' || ({power} + 1))::float8 = abs(({t})::float8)");
    let text = |cut: &str| {
        let significant = format!("rtrim({cut}, '0')");
        format!(
            "{significant} || 'e' || ({power} + 1 + length({cut}) - length({significant}))::text"
        )
    };
    let down = format!("left({digits}, -1)");
    let up = format!("({down}::int8 + 1)::text");
    // Rounded up, the largest doubles' digits overflow (`float8in` fails on them): from
    // 2^1024 - 2^970 on, a number reads as infinity, never as the value.
    let up_reads_back = format!(
        "CASE WHEN ({up} || 'e' || ({power} + 1))::numeric < 2::numeric ^ 1024 - 2::numeric ^ 970 \
         THEN {} END",
        reads_back(&up)
    );
    format!(
        "CASE WHEN left({t}, 1) = '-' THEN '-' ELSE '' END || \
           CASE WHEN length({digits}) = 1 THEN {digits} || 'e' || {power}::text \
                WHEN {} THEN {} \
                WHEN {up_reads_back} THEN {} \
                ELSE {digits} || 'e' || {power}::text END",
        reads_back(&down),
        text(&down),
        text(&up),
    )
}

/// The text of one column inside a row, for MySQL/MariaDB (see [`postgres_column`]): utf8mb4 or
/// ASCII. A non-NULL value without a canonical text (too long for `max_allowed_packet`,
/// invalid JSON) is `?`, which no value of the other engine produces.
pub(crate) fn mysql_column(column: &ChecksumColumn) -> String {
    let (ty, x) = (&column.data_type, column.sql.as_str());
    let text = match ty {
        LogicalType::Real | LogicalType::Double => {
            // The fixed-notation range is the common case and costs one conversion to text:
            // MySQL prints those doubles (and zero) in fixed notation, as PostgreSQL does.
            let v = format!("CAST({x} AS DOUBLE)");
            format!(
                "IF({v} = 0 OR ABS({v}) >= 1e-4 AND ABS({v}) < 1e15, CAST({v} AS CHAR), {})",
                mysql_float(&v)
            )
        }
        _ if quote_free(ty) => mysql_value(ty, x, column.json),
        _ => format!("REPLACE({}, '\"', '\"\"')", mysql_value(ty, x, column.json)),
    };
    format!("IF(({x}) IS NULL, 'N', COALESCE(CONCAT('\"', {text}, '\"'), '?'))")
}

/// The canonical text of a non-float value in PostgreSQL.
fn postgres_value(ty: &LogicalType, x: &str, json: JsonText) -> String {
    use LogicalType as L;
    match ty {
        L::Boolean => {
            format!("CASE WHEN ({x})::boolean THEN 'true' WHEN NOT ({x})::boolean THEN 'false' END")
        }
        L::SmallInt | L::Integer | L::BigInt => format!("({x})::int8::text"),
        L::Decimal { scale, .. } => format!("round(({x})::numeric, {scale})::text"),
        L::Numeric => format!("({x})::numeric::text"),
        // Only reached through `postgres_column`'s float branch; kept total for safety.
        L::Real | L::Double => format!("({x})::float8::text"),
        // `concat` runs the type's output function: `bpchar` keeps its blanks, which `::text`
        // would strip (an unbounded `bpchar` is `text` and its blanks are data).
        L::Varchar { .. } | L::Text => crate::postgres_output_text(x),
        L::Char { .. } => format!("rtrim(({x})::text, ' ')"),
        L::Binary { .. } | L::Varbinary { .. } | L::Blob => format!("encode(({x})::bytea, 'hex')"),
        L::Date => postgres_date(x),
        L::Timestamp {
            with_time_zone: false,
            ..
        } => postgres_calendar(x, "YYYY-MM-DD HH24:MI:SS.US"),
        L::Timestamp {
            with_time_zone: true,
            ..
        } => postgres_calendar(
            &format!("({x}) AT TIME ZONE 'UTC'"),
            "YYYY-MM-DD HH24:MI:SS.US",
        ),
        L::Time {
            with_time_zone: false,
            ..
        } => format!("to_char(({x})::time, 'HH24:MI:SS.US')"),
        L::Time {
            with_time_zone: true,
            ..
        } => {
            // extract(timezone) is seconds east of UTC.
            let east = format!("extract(timezone FROM ({x})::timetz)");
            format!(
                "to_char(({x})::time, 'HH24:MI:SS.US') || CASE WHEN {east} < 0 THEN '-' ELSE '+' END \
                 || to_char(abs({east}) * interval '1 second', 'HH24:MI:SS')"
            )
        }
        L::IntervalYearMonth | L::IntervalDaySecond { .. } => {
            let iv = format!("({x})::interval");
            format!(
                "'P' || (extract(year FROM {iv}) * 12 + extract(month FROM {iv}))::text || 'M' \
                 || extract(day FROM {iv})::text || 'DT' \
                 || round(extract(hour FROM {iv}) * 3600 + extract(minute FROM {iv}) * 60 \
                          + extract(second FROM {iv}), 6)::text || 'S'"
            )
        }
        L::Json => match json {
            JsonText::Jsonb => format!("({x})::jsonb::text"),
            JsonText::Normalized => {
                format!("'[' || pg_temp.migrate_json_normalized(({x})::jsonb) || ']'")
            }
        },
        L::Xml => format!("({x})::text"),
        L::Uuid => format!("lower(({x})::text)"),
        // `x` is the WKB already (see `ChecksumColumn::sql`).
        L::Geometry | L::Geography => format!("encode(({x})::bytea, 'hex')"),
        L::Array(_) | L::Map(..) | L::Struct(_) | L::Union(_) => format!("to_jsonb({x})::text"),
    }
}

/// `to_char` of a date or timestamp with `BC` for years before 1 (the year alone would hide the
/// era), and `infinity`/`-infinity` as such (`to_char` prints them as '').
fn postgres_calendar(x: &str, format: &str) -> String {
    format!(
        "CASE WHEN isfinite({x}) THEN replace(to_char({x}, '{format} BC'), ' AD', '') \
         ELSE ({x})::text END"
    )
}

/// A date as [`postgres_calendar`] writes it. `to_char` reads a date as a timestamp, whose range
/// ends in 294276 AD, while a date's goes on to 5874897 AD: those later dates (six or more digits
/// of year, all AD) are put together from their parts.
fn postgres_date(x: &str) -> String {
    let d = format!("({x})::date");
    format!(
        "CASE WHEN isfinite({d}) AND {d} >= date '294277-01-01' \
         THEN extract(year FROM {d})::text || to_char(make_date(2000, extract(month FROM {d})::int, \
         extract(day FROM {d})::int), '-MM-DD') ELSE {} END",
        postgres_calendar(x, "YYYY-MM-DD")
    )
}

/// The canonical text of a non-float value in MySQL/MariaDB: utf8mb4, or ASCII for the
/// [`quote_free`] types (the same bytes in any character set MySQL uses for them), so that no
/// conversion of the whole row text is needed.
fn mysql_value(ty: &LogicalType, x: &str, json: JsonText) -> String {
    use LogicalType as L;
    match ty {
        // `+ 0` makes BIT and YEAR numbers; unsigned stays unsigned.
        L::Boolean => format!("IF(({x}) + 0 <> 0, 'true', 'false')"),
        L::SmallInt | L::Integer | L::BigInt => format!("CAST(({x}) + 0 AS CHAR)"),
        L::Decimal { precision, scale }
            if *precision <= MYSQL_MAX_PRECISION && *scale <= MYSQL_MAX_SCALE =>
        {
            format!("CAST(CAST({x} AS DECIMAL({precision},{scale})) AS CHAR)")
        }
        L::Decimal { .. } | L::Numeric => format!("CAST({x} AS CHAR CHARACTER SET utf8mb4)"),
        L::Real | L::Double => format!("CAST(CAST({x} AS DOUBLE) AS CHAR)"),
        L::Char { .. } => format!("TRIM(TRAILING ' ' FROM CONVERT({x} USING utf8mb4))"),
        L::Varchar { .. } | L::Text | L::Xml => format!("CONVERT({x} USING utf8mb4)"),
        L::Binary { .. } | L::Varbinary { .. } | L::Blob => format!("LOWER(HEX({x}))"),
        // MySQL's year 0 is 1 BC, as PostgreSQL writes it (the load carries it there).
        L::Date => format!(
            "IF(YEAR({x}) = 0, DATE_FORMAT({x}, '0001-%m-%d BC'), DATE_FORMAT({x}, '%Y-%m-%d'))"
        ),
        // TIMESTAMP is shown in the session time zone: `session_settings` makes it UTC.
        L::Timestamp { .. } => {
            let text = format!("CAST(CAST({x} AS DATETIME(6)) AS CHAR)");
            format!("IF(YEAR({x}) = 0, CONCAT(INSERT({text}, 1, 4, '0001'), ' BC'), {text})")
        }
        L::Time {
            with_time_zone: false,
            ..
        } => format!("TIME_FORMAT({x}, '%H:%i:%s.%f')"),
        // MySQL has no time with time zone: a TIME is taken as UTC.
        L::Time {
            with_time_zone: true,
            ..
        } => format!("CONCAT(TIME_FORMAT({x}, '%H:%i:%s.%f'), '+00:00:00')"),
        // MySQL has no interval types: a number of months, or a TIME as a duration.
        L::IntervalYearMonth => format!("CONCAT('P', ({x}) + 0, 'M0DT0.000000S')"),
        L::IntervalDaySecond { .. } => format!(
            "CONCAT('P0M0DT', IF(({x}) + 0 < 0, '-', ''), CAST(HOUR({x}) * 3600 + MINUTE({x}) * 60 \
             + SECOND({x}) + MICROSECOND({x}) * 0.000001 AS DECIMAL(20,6)), 'S')"
        ),
        // NULL for invalid JSON, which makes the value's text `?`. (An invalid document that
        // the brackets make valid, `1, 2`, has other than one element: no jsonb matches it.)
        L::Json if json == JsonText::Normalized => {
            format!("CONVERT(JSON_NORMALIZE(CONCAT('[', {x}, ']')) USING utf8mb4)")
        }
        L::Json | L::Array(_) | L::Map(..) | L::Struct(_) | L::Union(_) => {
            format!("CONVERT(JSON_EXTRACT({x}, '$') USING utf8mb4)")
        }
        L::Uuid => format!("LOWER(CONVERT({x} USING utf8mb4))"),
        L::Geometry | L::Geography => format!("LOWER(HEX(ST_AsBinary({x})))"),
    }
}

/// MySQL's canonical text `[-]DeE` of a non-zero double `v` outside the fixed-notation range.
/// Its shortest text already includes the midpoints that round-half-even reads back as the
/// value (see [`postgres_float`]), in fixed or exponent notation (`0.000000008`,
/// `1234567890123456.8`, `1e15`, `1.2345678901234568e17`): only the layout changes.
fn mysql_float(v: &str) -> String {
    let u = format!("CAST(ABS({v}) AS CHAR)");
    let exponent =
        format!("IF(LOCATE('e', {u}) > 0, CAST(SUBSTRING_INDEX({u}, 'e', -1) AS SIGNED), 0)");
    let integer = format!("SUBSTRING_INDEX(SUBSTRING_INDEX({u}, 'e', 1), '.', 1)");
    let without_trailing =
        format!("TRIM(TRAILING '0' FROM REPLACE(SUBSTRING_INDEX({u}, 'e', 1), '.', ''))");
    // value = int(all digits) × 10^(exponent - fraction length)
    //       = int(digits) × 10^(exponent + integer length - length without trailing zeros)
    format!(
        "CONCAT(IF({v} < 0, '-', ''), TRIM(LEADING '0' FROM {without_trailing}), 'e', \
         {exponent} + LENGTH({integer}) - LENGTH({without_trailing}))"
    )
}
