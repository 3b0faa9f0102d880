//! Whether a table can be in the task's publication without harming the source: PostgreSQL
//! refuses the UPDATE and DELETE of a published table that has no replica identity (the
//! source's own application would fail), and it can't publish an unlogged table at all (its
//! changes are not in the WAL). Shared by the CDC start, which refuses such a table before
//! creating anything, and the preflight, which reports it. A table of the task made unlogged
//! later stops the change stream (the catalog tells: [`unlogged_tables`], and so does the
//! announcement of the publication's event trigger: [`unlogged_error`]).

use crate::sql::quote_ident;
use crate::SourceError;
use migrate_core::Table;
use migrate_source::START_OVER;
use tokio_postgres::Client;

/// Of table `c` (`pg_class`): its replica identity as PostgreSQL applies it, as one of the
/// codes [`Identity::from_code`] reads. A DEFERRABLE primary key (or index: `indimmediate` is
/// false) is no replica identity: PostgreSQL ignores it for `DEFAULT` and refuses it for
/// `USING INDEX`.
pub(crate) const IDENTITY_SQL: &str = "CASE c.relreplident
          WHEN 'f' THEN 'full'
          WHEN 'n' THEN 'nothing'
          WHEN 'i' THEN CASE WHEN EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid
                                             AND i.indisreplident AND i.indimmediate)
                             THEN 'index' ELSE 'index gone' END
          ELSE CASE WHEN EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid
                                    AND i.indisprimary AND i.indimmediate) THEN 'primary key'
                    WHEN EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid
                                    AND i.indisprimary) THEN 'deferrable primary key'
                    ELSE 'no primary key' END
        END";

/// Of relation `c` (`pg_class`): it is one whose replica identity PostgreSQL checks before an
/// UPDATE or DELETE while a publication includes it: a table that holds rows, plain or a
/// partition. A partitioned table's own replica identity is never checked: PostgreSQL 15 checks
/// each partition by its own, whether the publication names the partitioned table or is FOR ALL
/// TABLES, with or without `publish_via_partition_root` (and `ALTER TABLE ... REPLICA
/// IDENTITY` of a partitioned table does not reach its partitions).
pub(crate) const CHECKED_SQL: &str = "c.relkind = 'r'";

/// Of table `c` (`pg_class`): it has no replica identity ([`IDENTITY_SQL`] is none of those
/// that identify a row, the ones [`Identity::gap`] lets by).
pub(crate) fn without_replica_identity() -> String {
    format!("(({IDENTITY_SQL}) NOT IN ('primary key', 'index', 'full'))")
}

/// Of relation `c` (`pg_class`): PostgreSQL refuses its UPDATE and DELETE while a publication
/// includes it: it is checked ([`CHECKED_SQL`]) and has no replica identity. The rule of the
/// choice of a publication FOR ALL TABLES; [`published`] judges the same relations.
pub(crate) fn refused_when_published() -> String {
    format!("({CHECKED_SQL} AND {})", without_replica_identity())
}

/// A table's replica identity as PostgreSQL applies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Identity {
    /// `DEFAULT`, with a primary key that is not deferrable.
    PrimaryKey,
    /// `USING INDEX` an index that exists.
    Index,
    /// `FULL`: the whole old row identifies it.
    Full,
    /// `NOTHING`.
    Nothing,
    /// `DEFAULT` without a primary key.
    NoPrimaryKey,
    /// `DEFAULT` with a DEFERRABLE primary key, which PostgreSQL can't use.
    DeferrablePrimaryKey,
    /// `USING INDEX` an index since dropped.
    IndexGone,
}

impl Identity {
    /// The identity [`IDENTITY_SQL`] calls `code`.
    pub(crate) fn from_code(code: &str) -> Option<Identity> {
        Some(match code {
            "primary key" => Identity::PrimaryKey,
            "index" => Identity::Index,
            "full" => Identity::Full,
            "nothing" => Identity::Nothing,
            "no primary key" => Identity::NoPrimaryKey,
            "deferrable primary key" => Identity::DeferrablePrimaryKey,
            "index gone" => Identity::IndexGone,
            _ => return None,
        })
    }

    /// Why PostgreSQL would refuse the UPDATE and DELETE of the table (`sql_name`) once it is
    /// published, and what to do about it; `None` when it has a replica identity.
    pub(crate) fn gap(self, sql_name: &str) -> Option<(String, String)> {
        let (why, fix) = match self {
            Identity::PrimaryKey | Identity::Index | Identity::Full => return None,
            Identity::Nothing => (
                "REPLICA IDENTITY NOTHING".to_string(),
                format!("ALTER TABLE {sql_name} REPLICA IDENTITY DEFAULT (with a primary key), USING INDEX or FULL"),
            ),
            Identity::NoPrimaryKey => (
                "REPLICA IDENTITY DEFAULT without a primary key".to_string(),
                format!("add a primary key, or ALTER TABLE {sql_name} REPLICA IDENTITY USING INDEX <unique index> (or FULL)"),
            ),
            Identity::DeferrablePrimaryKey => (
                "its primary key is DEFERRABLE, and PostgreSQL can't use a deferrable key as replica identity".to_string(),
                format!("ALTER TABLE {sql_name} REPLICA IDENTITY FULL, or make the primary key NOT DEFERRABLE (drop it and add it again), or ALTER TABLE {sql_name} REPLICA IDENTITY USING INDEX <a unique index that is not deferrable>"),
            ),
            Identity::IndexGone => (
                "REPLICA IDENTITY USING INDEX of an index that was dropped".to_string(),
                format!("ALTER TABLE {sql_name} REPLICA IDENTITY DEFAULT (with a primary key), USING INDEX <unique index> or FULL"),
            ),
        };
        Some((
            format!("{why}: once the table is in a publication, the source refuses its UPDATE and DELETE"),
            fix,
        ))
    }
}

/// What a publication of one selected table would hold: the table itself, or for a
/// partitioned table each of its partitions (whose UPDATE and DELETE PostgreSQL checks, see
/// [`CHECKED_SQL`]).
#[derive(Debug, Clone)]
pub(crate) struct Published {
    /// The selected table, as the task names it.
    pub table: String,
    /// The partition, `schema.name` quoted where needed; `None` for the table itself.
    pub partition: Option<String>,
    /// As SQL (`"schema"."name"`), for the remedies.
    pub sql_name: String,
    /// UNLOGGED: its changes are not in the WAL, so it can't be published.
    pub unlogged: bool,
    pub identity: Identity,
}

impl Published {
    /// `public.t`, or `partition public.t_1 of public.t`.
    pub(crate) fn object(&self) -> String {
        object(&self.table, self.partition.as_deref())
    }

    /// Why publishing it would harm the source or lose its changes, and what to do; `None` when
    /// it can be published.
    pub(crate) fn problem(&self) -> Option<(String, String)> {
        if self.unlogged {
            return Some((
                "it is UNLOGGED: its changes are not written to the WAL, so logical replication can't capture them (PostgreSQL refuses to add it to a publication)".into(),
                format!("ALTER TABLE {} SET LOGGED (a task without --cdc loads it as it is)", self.sql_name),
            ));
        }
        self.identity.gap(&self.sql_name)
    }
}

/// `table` (as the task names it), or `partition <partition> of <table>`.
fn object(table: &str, partition: Option<&str>) -> String {
    match partition {
        Some(partition) => format!("partition {partition} of {table}"),
        None => table.to_string(),
    }
}

/// Of a row whose columns 1 to 3 are "is a partition", schema and name (as [`published`]'s
/// query gives them): see [`sql_names`].
fn relation_names(row: &tokio_postgres::Row) -> (Option<String>, String) {
    sql_names(row.get(2), row.get(3), row.get(1))
}

/// Of relation `schema.name`: its name as messages show a partition, if it is one, and its name
/// as SQL.
pub(crate) fn sql_names(schema: &str, name: &str, partition: bool) -> (Option<String>, String) {
    let shown =
        partition.then(|| format!("{}.{}", crate::sql::ident(schema), crate::sql::ident(name)));
    (
        shown,
        format!("{}.{}", quote_ident(schema), quote_ident(name)),
    )
}

/// The plain tables `tables` put in a publication (see [`Published`]), in their order.
pub(crate) async fn published(
    client: &Client,
    tables: &[Table],
) -> Result<Vec<Published>, SourceError> {
    let names: Vec<String> = tables.iter().map(crate::table_sql_name).collect();
    let rows = client
        .query(
            &format!(
                "SELECT t.n::int8, c.oid <> t.name::regclass, n.nspname::text, c.relname::text,
                        c.relpersistence = 'u', {IDENTITY_SQL}
                   FROM unnest($1::text[]) WITH ORDINALITY AS t(name, n)
                   CROSS JOIN LATERAL (SELECT t.name::regclass
                                       UNION SELECT relid FROM pg_partition_tree(t.name::regclass)
                                              WHERE isleaf) p(relid)
                   JOIN pg_class c ON c.oid = p.relid
                   JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE {CHECKED_SQL}
                  ORDER BY 1, 3, 4"
            ),
            &[&names],
        )
        .await
        .map_err(SourceError::query(
            "reading the replica identity and persistence of the selected tables",
        ))?;
    let mut published = Vec::with_capacity(rows.len());
    for row in rows {
        let Some(table) = usize::try_from(row.get::<_, i64>(0) - 1)
            .ok()
            .and_then(|i| tables.get(i))
        else {
            continue;
        };
        let (partition, sql_name) = relation_names(&row);
        let code: String = row.get(5);
        let identity = Identity::from_code(&code).ok_or_else(|| SourceError::Capture {
            message: format!("{}: unknown replica identity {code:?}", table.name),
            action: "report this as a bug in migrate, with the server version".into(),
        })?;
        published.push(Published {
            table: table.name.to_string(),
            partition,
            sql_name,
            unlogged: row.get(4),
            identity,
        });
    }
    Ok(published)
}

/// Refuses, before anything is created on the source, tables a publication can't carry
/// without harm: unlogged ones (PostgreSQL refuses them, or a publication for all tables
/// silently leaves their changes out) and ones without a replica identity (the source would
/// refuse their UPDATE and DELETE). Names each, with its remedy.
pub(crate) async fn check_publishable(
    client: &Client,
    tables: &[Table],
) -> Result<(), SourceError> {
    let problems: Vec<(String, String, String)> = published(client, tables)
        .await?
        .iter()
        .filter_map(|p| p.problem().map(|(why, fix)| (p.object(), why, fix)))
        .collect();
    if problems.is_empty() {
        return Ok(());
    }
    Err(SourceError::Capture {
        message: format!(
            "change capture can't publish {} of the selected tables: {}",
            problems.len(),
            problems
                .iter()
                .map(|(object, why, _)| format!("{object}: {why}"))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        action: format!(
            "{}; or exclude {} from the task's table mapping",
            problems
                .iter()
                .map(|(object, _, fix)| format!("for {object}: {fix}"))
                .collect::<Vec<_>>()
                .join("; "),
            if problems.len() == 1 { "it" } else { "them" }
        ),
    })
}

/// Of the relations `roots` (a `FROM` item of one `oid` column: plain or partitioned tables),
/// each one that is UNLOGGED, or is an UNLOGGED partition of one at any depth (not an
/// inheritance child: a plain table is published `ONLY`), by oid (`relid`). Through
/// `pg_inherits`: a relation dropped meanwhile is not found, and no lock is taken
/// (`pg_partition_tree` locks each partition, which would queue behind an `ALTER TABLE`). Run by
/// the publication's event trigger for the tables of a DDL.
pub(crate) fn unlogged_sql(roots: &str) -> String {
    format!(
        "
WITH RECURSIVE tree(relid) AS (
    SELECT r.oid FROM {roots} AS r(oid)
  UNION ALL
    SELECT i.inhrelid FROM tree t JOIN pg_inherits i ON i.inhparent = t.relid
      JOIN pg_class c ON c.oid = i.inhrelid
     WHERE c.relispartition
)
SELECT t.relid FROM tree t JOIN pg_class c ON c.oid = t.relid
 WHERE c.relkind = 'r' AND c.relpersistence = 'u'"
    )
}

/// An UNLOGGED table, then each of its partition ancestors up to the root (the table its changes
/// would arrive as), each by relation oid, schema and name: as the catalog tells it
/// ([`unlogged_tables`]) and as the publication's event trigger announces it
/// ([`super::TABLE_UNLOGGED`]).
pub(crate) type Ancestry = Vec<(u32, String, String)>;

/// Every UNLOGGED table of the source (partitions included: a partitioned table holds no rows),
/// each with its [`Ancestry`]; the change stream keeps those of the task. One catalog query,
/// cheap enough to run every few seconds while changes flow: a scan of `pg_class` for the few
/// UNLOGGED tables, then their partition ancestors by index (`pg_inherits`, without a lock: a
/// relation dropped meanwhile is not found).
pub(crate) async fn unlogged_tables(client: &Client) -> Result<Vec<Ancestry>, SourceError> {
    let rows = client
        .query(
            "WITH RECURSIVE chain(relid, depth, oid) AS (
                 SELECT c.oid, 0, c.oid FROM pg_class c
                  WHERE c.relkind = 'r' AND c.relpersistence = 'u'
               UNION ALL
                 SELECT h.relid, h.depth + 1, i.inhparent
                   FROM chain h JOIN pg_class c ON c.oid = h.oid AND c.relispartition
                   JOIN pg_inherits i ON i.inhrelid = h.oid
             )
             SELECT array_agg(h.oid ORDER BY h.depth), array_agg(n.nspname::text ORDER BY h.depth),
                    array_agg(c.relname::text ORDER BY h.depth)
               FROM chain h JOIN pg_class c ON c.oid = h.oid
               JOIN pg_namespace n ON n.oid = c.relnamespace
              GROUP BY h.relid",
            &[],
        )
        .await
        .map_err(SourceError::query(
            "looking for UNLOGGED tables in the source's catalog",
        ))?;
    Ok(rows
        .iter()
        .map(|row| {
            let (oids, schemas, names): (Vec<u32>, Vec<String>, Vec<String>) =
                (row.get(0), row.get(1), row.get(2));
            oids.into_iter()
                .zip(schemas)
                .zip(names)
                .map(|((oid, schema), name)| (oid, schema, name))
                .collect()
        })
        .collect())
}

/// A captured table (or one the task selects), or a partition of one, whose changes are not in
/// the change stream because it is, or was, UNLOGGED.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Unlogged {
    /// The table, as the task names it.
    pub table: String,
    /// The task captured `table` (it has a target table); `false` for a selected table it never
    /// did (created UNLOGGED, or made so before its first change).
    pub captured: bool,
    /// The unlogged partition of `table` (see [`sql_names`]), if it is one.
    pub partition: Option<String>,
    /// The unlogged relation as SQL, for the remedy.
    pub sql_name: String,
    /// How it is known: `it is UNLOGGED`, or the DDL that left it so.
    pub seen: String,
}

/// The error that stops change capture for the `unlogged` tables (at least one), naming each
/// with its remedy. It tells a captured table (its target table misses the changes, and keeps
/// its rows if the table is excluded) from one the task never captured (it has no target table).
pub(crate) fn unlogged_error(mut unlogged: Vec<Unlogged>) -> SourceError {
    unlogged.sort();
    let mut tables: Vec<(&str, bool)> = unlogged
        .iter()
        .map(|u| (u.table.as_str(), u.captured))
        .collect();
    tables.dedup_by_key(|(table, _)| *table);
    let names = |captured: bool| -> Vec<&str> {
        tables
            .iter()
            .filter(|t| t.1 == captured)
            .map(|t| t.0)
            .collect()
    };
    let (captured, uncaptured) = (names(true), names(false));
    let (kind, missed) = match (captured.is_empty(), uncaptured.is_empty()) {
        (_, true) => ("captured", "its target table misses them"),
        (true, false) => ("selected", "it gets no target table"),
        (false, false) => (
            "selected",
            "its target table, if it was captured, misses them",
        ),
    };
    SourceError::Capture {
        message: format!(
            "change capture can't follow {} of the {kind} tables: {} (a table made UNLOGGED, or created so, writes none of its changes to the WAL: the changes made to it since are not in the change stream, and {missed})",
            tables.len(),
            unlogged
                .iter()
                .map(|u| format!("{}: {}", object(&u.table, u.partition.as_deref()), u.seen))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        action: format!(
            "{}, then {START_OVER}: SET LOGGED does not put the changes made while the table was UNLOGGED in the change stream; or exclude {} from the task's table mapping ({})",
            unlogged
                .iter()
                .map(|u| format!("ALTER TABLE {} SET LOGGED", u.sql_name))
                .collect::<Vec<_>>()
                .join("; "),
            tables
                .iter()
                .map(|t| t.0)
                .collect::<Vec<_>>()
                .join(", "),
            left_in_target(&captured, &uncaptured),
        ),
    }
}

/// What excluding the `captured` and `uncaptured` tables of [`unlogged_error`] leaves in the
/// target: a captured table's target table as it is, no target table for one never captured.
/// Names the tables only when there are both.
fn left_in_target(captured: &[&str], uncaptured: &[&str]) -> String {
    let kept = |subject: &str, one: bool| {
        format!(
            "{subject} then {} the rows {} has, without further changes",
            if one { "keeps" } else { "keep" },
            if one { "it" } else { "each" }
        )
    };
    let none = |subject: &str, one: bool| {
        format!(
            "{subject} then {} no target table",
            if one { "gets" } else { "get" }
        )
    };
    let (one_captured, one_uncaptured) = (captured.len() == 1, uncaptured.len() == 1);
    match (captured.is_empty(), uncaptured.is_empty()) {
        (_, true) => kept(
            if one_captured {
                "its target table"
            } else {
                "their target tables"
            },
            one_captured,
        ),
        (true, false) => none(if one_uncaptured { "it" } else { "they" }, one_uncaptured),
        (false, false) => format!(
            "{}; {}",
            kept(
                &format!(
                    "the target {} of {}",
                    if one_captured { "table" } else { "tables" },
                    captured.join(", ")
                ),
                one_captured
            ),
            none(&uncaptured.join(", "), one_uncaptured)
        ),
    }
}
