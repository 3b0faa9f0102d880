//! Keeping the target's identity and serial columns ahead of the rows migrate writes.
//!
//! Loads and applied changes write these columns with the source's values (`OVERRIDING SYSTEM
//! VALUE`), which don't move the column's sequence. A table created by `prepare` starts its
//! sequence at the source's next value *at discovery*, and rows the source inserts later (before
//! its snapshot, or captured by CDC) carry higher numbers: without a correction, the first insert
//! the target makes on its own after the cutover would take a number that is already there. So
//! after a table's load and within every change batch, each such sequence is moved past the
//! values written, never backwards (a target that took inserts of its own keeps its numbers).

use crate::WarehouseError;
use std::collections::BTreeSet;
use std::sync::Mutex;
use tokio_postgres::GenericClient;

/// The sequences already warned about (each change batch looks them up again).
static WARNED: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// Whether the warning `key` names is the first of its kind in this process.
fn first_warning(key: String) -> bool {
    WARNED.lock().map_or(true, |mut warned| warned.insert(key))
}

/// One column of a target table whose values come from a sequence (identity, `serial`, or a
/// sequence `OWNED BY` it), of an integer type.
#[derive(Debug, Clone)]
pub(super) struct IdentitySequence {
    /// The column's position in the caller's column list.
    pub position: usize,
    /// The sequence, as SQL (schema-qualified and quoted by PostgreSQL).
    pub sequence: String,
    /// The sequence counts up (else down).
    pub ascending: bool,
    /// Its `MAXVALUE` when counting up, else its `MINVALUE`: a sequence can't be set past it.
    pub bound: i64,
}

/// The identity sequences of table `$1` (as SQL) among the columns `$2` (as SQL, in the
/// caller's order), with whether this role may move each one.
const IDENTITIES_SQL: &str = "
SELECT c.i::int8 - 1, s.seq, p.seqincrement > 0,
       CASE WHEN p.seqincrement > 0 THEN p.seqmax ELSE p.seqmin END,
       has_sequence_privilege(s.seq, 'SELECT') AND has_sequence_privilege(s.seq, 'UPDATE')
  FROM unnest($2::text[]) WITH ORDINALITY AS c(column_sql, i)
  JOIN pg_attribute a ON a.attrelid = $1::text::regclass AND a.attname = (parse_ident(c.column_sql))[1]
                     AND a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype)
 CROSS JOIN LATERAL (SELECT pg_get_serial_sequence($1, a.attname) AS seq) s
  JOIN pg_sequence p ON p.seqrelid = s.seq::regclass
 ORDER BY c.i";

/// The identity sequences of `table` (as SQL) among `columns` (as SQL) that this role may move.
/// A sequence it may not move is left as it is, with a warning (once per process): inserts the
/// target makes on its own may then collide with migrated rows.
pub(super) async fn identity_sequences(
    client: &impl GenericClient,
    table: &str,
    columns: &[String],
) -> Result<Vec<IdentitySequence>, WarehouseError> {
    let rows = client
        .query(IDENTITIES_SQL, &[&table, &columns])
        .await
        .map_err(WarehouseError::database(format!(
            "reading the identity sequences of table {table}"
        )))?;
    let mut found = Vec::with_capacity(rows.len());
    for row in rows {
        let sequence: String = row.get(1);
        if !row.get::<_, bool>(4) {
            if first_warning(sequence.clone()) {
                tracing::warn!(
                    "table {table}: this role may not move sequence {sequence} past the rows migrate writes (that needs SELECT and UPDATE on it); inserts the target makes on its own may collide with migrated rows until it is moved (setval)"
                );
            }
            continue;
        }
        found.push(IdentitySequence {
            // An ordinal of `columns`.
            position: row.get::<_, i64>(0).max(0) as usize,
            sequence,
            ascending: row.get(2),
            bound: row.get(3),
        });
    }
    Ok(found)
}

/// Moves each of `sequences` past the values of its column in `relation` (SQL: a table, or a
/// table with a `WHERE` clause), where `column_sql` names the column at each position: the next
/// number a sequence gives is then beyond every value written. Never moves one backwards, nor
/// past its bound: values beyond it leave it at the bound, with a warning (once per process).
pub(super) async fn advance_identities(
    client: &impl GenericClient,
    sequences: &[IdentitySequence],
    relation: &str,
    column_sql: impl Fn(usize) -> String,
    doing: &str,
) -> Result<(), WarehouseError> {
    for identity in sequences {
        let column = column_sql(identity.position);
        let (extreme, clamp, beyond) = if identity.ascending {
            ("max", "LEAST", ">")
        } else {
            ("min", "GREATEST", "<")
        };
        let moved = client
            .query_opt(
                &format!(
                    "SELECT setval($1::text::regclass, x.v), x.past \
                       FROM (SELECT {clamp}({extreme}({column}), $2::int8) AS v, \
                                    {extreme}({column}) {beyond} $2::int8 AS past FROM {relation}) x, \
                            {sequence} s \
                      WHERE x.v {beyond} s.last_value OR (x.v = s.last_value AND NOT s.is_called)",
                    sequence = identity.sequence,
                ),
                &[&identity.sequence, &identity.bound],
            )
            .await
            .map_err(WarehouseError::database(format!(
                "{doing}: moving sequence {} past the values of its column",
                identity.sequence
            )))?;
        if moved.is_some_and(|row| row.get::<_, Option<bool>>(1) == Some(true)) {
            past_bound(identity, doing);
        }
    }
    Ok(())
}

/// Warns, once per sequence, that values written are past `identity`'s bound.
fn past_bound(identity: &IdentitySequence, doing: &str) {
    let sequence = &identity.sequence;
    if first_warning(format!("{sequence} bound")) {
        let (option, beyond) = match identity.ascending {
            true => ("MAXVALUE", "above"),
            false => ("MINVALUE", "below"),
        };
        tracing::warn!(
            "{doing}: the column has values {beyond} the {option} {} of its sequence {sequence}, which is left at its {option}: inserts the target numbers itself fail (the sequence has reached its {option}) or, if it cycles, start again from its other bound and may take numbers of migrated rows",
            identity.bound
        );
    }
}
