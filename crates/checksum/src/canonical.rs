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
    format!("coalesce('\"' || {} || '\"', 'N')", postgres_float(t))
}

/// 2^53: from here on, doubles are integers and the midpoints between neighbours too.
const TWO_TO_53: &str = "9007199254740992";

/// The canonical text of a double from its `float8out` text `t`.
///
/// `float8out` prints the shortest digits strictly between the midpoints to the neighbouring
/// doubles; the canonical digits (like MySQL's and Rust's) may also be a midpoint itself when
/// round-half-even reads it back as the value (`1e23`). That can only make the text shorter
/// from 2^53 on, where the midpoints are integers: there they are computed exactly (numeric,
/// from the bits) and taken when shorter.
fn postgres_float(t: &str) -> String {
    let parts = float_parts(Engine::Postgres, &format!("ltrim({t}, '-')"));
    let (digits, power) = (&parts.digits, &parts.power);
    let bits = format!("('x' || encode(float8send(abs(({t})::float8)), 'hex'))::bit(64)::int8");
    let exponent = format!("({bits} >> 52)");
    let mantissa = format!("({bits} & 4503599627370495)");
    let value = format!(
        "(({mantissa} + 4503599627370496)::numeric * round(2::numeric ^ ({exponent} - 1075)))"
    );
    let half_up = format!("round(2::numeric ^ ({exponent} - 1076))");
    // Below a power of two the neighbour is half as far.
    let half_down = format!(
        "CASE WHEN {mantissa} = 0 THEN 2::numeric ^ ({exponent} - 1077) ELSE {half_up} END"
    );
    let upper = format!("({value} + {half_up})::text");
    let lower = format!("({value} - {half_down})::text");
    let short = |bound: &str| {
        let significant = format!("rtrim({bound}, '0')");
        (
            format!("strpos({bound}, '.') = 0 AND length({significant}) < length({digits})"),
            format!("{significant} || 'e' || (length({bound}) - length({significant}))::text"),
        )
    };
    let (upper_shorter, upper_text) = short(&upper);
    let (lower_shorter, lower_text) = short(&lower);
    format!(
        "CASE WHEN {t} IN ('NaN', 'Infinity', '-Infinity') THEN {t} \
         ELSE CASE WHEN left({t}, 1) = '-' THEN '-' ELSE '' END || \
           CASE WHEN {digits} = '' THEN '0' \
                WHEN abs(({t})::float8) < {TWO_TO_53} OR {mantissa} % 2 = 1 \
                  THEN {digits} || 'e' || {power}::text \
                WHEN {upper_shorter} THEN {upper_text} \
                WHEN {lower_shorter} THEN {lower_text} \
                ELSE {digits} || 'e' || {power}::text END END"
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
            mysql_float(&signed, &unsigned)
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

/// The significant digits and the power of ten of a double's shortest round-trip text in either
/// engine's layout (`123.45`, `0.0001`, `1e+100`, `1e100`, `1.2345678901234568e17`), given
/// without its sign as `unsigned`: value = digits × 10^power, the digits without leading or
/// trailing zeros (`12345`, -2 for 123.45); digits are empty for zero.
struct FloatParts {
    digits: String,
    power: String,
}

fn float_parts(engine: Engine, unsigned: &str) -> FloatParts {
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
    // value = int(all digits) × 10^(exponent - fraction length)
    //       = int(digits) × 10^(exponent + integer length - length without trailing zeros)
    FloatParts {
        digits: trim_leading.replace("{}", &without_trailing),
        power: format!("({exponent} + length({integer}) - length({without_trailing}))"),
    }
}

/// MySQL's canonical text of a double: its shortest text already includes the midpoints that
/// round-half-even reads back as the value (see [`postgres_float`]). `signed` is the text,
/// `unsigned` the text of the absolute value.
fn mysql_float(signed: &str, unsigned: &str) -> String {
    let FloatParts { digits, power } = float_parts(Engine::Mysql, unsigned);
    format!(
        "CONCAT(IF(LEFT({signed}, 1) = '-', '-', ''), \
         IF({digits} = '', '0', CONCAT({digits}, 'e', {power})))"
    )
}
