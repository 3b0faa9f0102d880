//! The canonical text of one value, as SQL for each engine (see the crate docs for the table).
//!
//! Every function here takes `x`, an SQL expression of the engine, and returns an SQL expression
//! that is NULL exactly when `x` is NULL (PostgreSQL) or that is only evaluated for a non-NULL `x`
//! (MySQL, where [`mysql_column`] tests `x` first).

use crate::Engine;
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
pub(crate) fn postgres_column(ty: &LogicalType, x: &str) -> PgColumn {
    match ty {
        LogicalType::Real | LogicalType::Double => PgColumn::Float(format!("({x})::float8::text")),
        _ => PgColumn::Done(format!(
            "coalesce('\"' || replace({}, '\"', '\"\"') || '\"', 'N')",
            postgres_value(ty, x)
        )),
    }
}

/// Finishes a [`PgColumn::Float`] whose `float8out` text is the column `t`.
pub(crate) fn postgres_float_column(t: &str) -> String {
    format!(
        "coalesce('\"' || {} || '\"', 'N')",
        float_text(Engine::Postgres, t, &format!("ltrim({t}, '-')"))
    )
}

/// The text of one column inside a row, for MySQL/MariaDB (see [`postgres_column`]), always
/// `utf8mb4`. A non-NULL value without a canonical text (too long for `max_allowed_packet`,
/// invalid JSON) is `?`, which no value of the other engine produces.
pub(crate) fn mysql_column(ty: &LogicalType, x: &str) -> String {
    let text = match ty {
        LogicalType::Real | LogicalType::Double => {
            // The double's shortest text twice: signed for the sign (MySQL prints -0 as `-0`),
            // unsigned for digits and exponent.
            let signed = format!("CAST(CAST({x} AS DOUBLE) AS CHAR)");
            let unsigned = format!("CAST(ABS(CAST({x} AS DOUBLE)) AS CHAR)");
            float_text(Engine::Mysql, &signed, &unsigned)
        }
        _ => format!(
            "REPLACE(CONVERT({} USING utf8mb4), '\"', '\"\"')",
            mysql_value(ty, x)
        ),
    };
    format!("IF(({x}) IS NULL, 'N', COALESCE(CONCAT('\"', {text}, '\"'), '?'))")
}

/// The canonical text of a non-float value in PostgreSQL.
fn postgres_value(ty: &LogicalType, x: &str) -> String {
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
        L::Varchar { .. } | L::Text => {
            format!("CASE WHEN ({x}) IS NULL THEN NULL ELSE concat({x}) END")
        }
        L::Char { .. } => format!("rtrim(({x})::text, ' ')"),
        L::Binary { .. } | L::Varbinary { .. } | L::Blob => format!("encode(({x})::bytea, 'hex')"),
        L::Date => postgres_calendar(x, "YYYY-MM-DD"),
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
        L::Json => format!("({x})::jsonb::text"),
        L::Xml => format!("({x})::text"),
        L::Uuid => format!("lower(({x})::text)"),
        L::Geometry | L::Geography => format!("encode(ST_AsBinary({x}), 'hex')"),
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

/// The canonical text of a non-float value in MySQL/MariaDB (any character set: the caller
/// converts it to utf8mb4).
fn mysql_value(ty: &LogicalType, x: &str) -> String {
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
        L::Decimal { .. } | L::Numeric => format!("CAST({x} AS CHAR)"),
        L::Real | L::Double => format!("CAST(CAST({x} AS DOUBLE) AS CHAR)"),
        L::Char { .. } => format!("TRIM(TRAILING ' ' FROM CONVERT({x} USING utf8mb4))"),
        L::Varchar { .. } | L::Text | L::Xml => format!("CONVERT({x} USING utf8mb4)"),
        L::Binary { .. } | L::Varbinary { .. } | L::Blob => format!("LOWER(HEX({x}))"),
        L::Date => format!("DATE_FORMAT({x}, '%Y-%m-%d')"),
        // TIMESTAMP is shown in the session time zone: `session_settings` makes it UTC.
        L::Timestamp { .. } => format!("DATE_FORMAT({x}, '%Y-%m-%d %H:%i:%s.%f')"),
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
        L::Json | L::Array(_) | L::Map(..) | L::Struct(_) | L::Union(_) => {
            format!("JSON_EXTRACT({x}, '$')")
        }
        L::Uuid => format!("LOWER(CONVERT({x} USING utf8mb4))"),
        L::Geometry | L::Geography => format!("LOWER(HEX(ST_AsBinary({x})))"),
    }
}

/// A double's canonical text from its shortest round-trip text, in either engine's layout
/// (`123.45`, `0.0001`, `1e+100`, `1e100`, `1.2345678901234568e17`): `[-]<digits>e<exponent>`
/// with `value = digits × 10^exponent`, the significant digits without leading or trailing zeros
/// (`12345e-2`, `1e-4`, `1e100`); zero is `0` or `-0`; `NaN`, `Infinity`, `-Infinity` as such.
///
/// `signed` is the text, `unsigned` the same without its sign.
fn float_text(engine: Engine, signed: &str, unsigned: &str) -> String {
    let u = unsigned;
    // The same steps with each engine's string functions.
    let (exponent, integer, all_digits, trim_leading, trim_trailing) = match engine {
        Engine::Postgres => (
            format!(
                "(CASE WHEN strpos({u}, 'e') > 0 THEN split_part({u}, 'e', 2)::int ELSE 0 END)"
            ),
            format!("split_part(split_part({u}, 'e', 1), '.', 1)"),
            format!("replace(split_part({u}, 'e', 1), '.', '')"),
            "ltrim({}, '0')",
            "rtrim({}, '0')",
        ),
        Engine::Mysql => (
            format!("IF(LOCATE('e', {u}) > 0, CAST(SUBSTRING_INDEX({u}, 'e', -1) AS SIGNED), 0)"),
            format!("SUBSTRING_INDEX(SUBSTRING_INDEX({u}, 'e', 1), '.', 1)"),
            format!("REPLACE(SUBSTRING_INDEX({u}, 'e', 1), '.', '')"),
            "TRIM(LEADING '0' FROM {})",
            "TRIM(TRAILING '0' FROM {})",
        ),
    };
    let without_trailing = trim_trailing.replace("{}", &all_digits);
    let digits = trim_leading.replace("{}", &without_trailing);
    // value = int(all digits) × 10^(exponent - fraction length)
    //       = int(digits) × 10^(exponent + integer length - length without trailing zeros)
    let power = format!("({exponent} + length({integer}) - length({without_trailing}))");
    match engine {
        Engine::Postgres => format!(
            "CASE WHEN {signed} IN ('NaN', 'Infinity', '-Infinity') THEN {signed} \
             ELSE CASE WHEN left({signed}, 1) = '-' THEN '-' ELSE '' END \
             || CASE WHEN {digits} = '' THEN '0' ELSE {digits} || 'e' || {power}::text END END"
        ),
        Engine::Mysql => format!(
            "CONCAT(IF(LEFT({signed}, 1) = '-', '-', ''), \
             IF({digits} = '', '0', CONCAT({digits}, 'e', {power})))"
        ),
    }
}
