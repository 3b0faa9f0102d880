//! Discovery of everything besides base tables, for `migrate assess`: views and materialized
//! views, sequences, indexes, functions and procedures, triggers, the partitions of
//! partitioned tables, and the rules and policies the target has no equivalent for.

use crate::sql::ident;
use crate::{PostgresSource, SourceError};
use migrate_core::{
    Catalog, Finding, Index, IndexKind, IndexOptions, Partition, PartitionMethod, Partitioning,
    QualifiedName, Routine, RoutineKind, Sequence, Severity, View, ViewOptions,
};
use migrate_source::{ObjectKind, OtherObject, OtherObjects};

/// Schemas of the server itself, and objects that extensions own (they come back with the
/// extension, not with a migration).
const USER_OBJECTS: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'
   AND ($1::text[] IS NULL OR n.nspname = ANY($1::text[]))";

/// The user's objects of each kind, as the `FROM ... WHERE ...` of a query (`n` their schema),
/// placed by [`user_sql`]: the queries of [`PostgresSource::discover_objects`], which read the
/// objects, and [`OTHER_OBJECTS`], which lists their names, take the same objects. Views and
/// materialized views (`c`) that no extension owns.
const FROM_VIEWS: &str = "pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('v', 'm') AND {user}
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')";

/// Sequences (`s`, `c`) that no extension, identity or serial column owns.
const FROM_SEQUENCES: &str = "pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE {user}
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('e', 'i', 'a'))";

/// Indexes (`i`, `ic`) that no constraint owns (constraint indexes are the table's keys
/// already), of tables (`t`, `tn`) that are not partitions, with their access method (`am`).
const FROM_INDEXES: &str = "pg_index i
  JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_namespace n ON n.oid = ic.relnamespace
  JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace tn ON tn.oid = t.relnamespace
  JOIN pg_am am ON am.oid = ic.relam
 WHERE {user} AND t.relkind IN ('r', 'p', 'm') AND NOT t.relispartition
   AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x'))";

/// Functions and procedures (`p`), but those an extension owns, those that come with a type (a
/// range's constructors), and the function of the event trigger that migrate's change capture
/// installs beside its publication (both named alike, see `cdc::identity_keeper_sql`): it is
/// migrate's, not the user's.
const FROM_ROUTINES: &str = "pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE {user}
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype IN ('e', 'i'))
   AND NOT EXISTS (SELECT 1 FROM pg_event_trigger e JOIN pg_publication pb ON pb.pubname = e.evtname
                    WHERE e.evtfoid = p.oid AND p.proname = e.evtname
                      AND e.evtname LIKE 'migrate\\_%')";

/// Triggers (`t`) of tables (`c`), but the internal ones (of foreign keys).
const FROM_TRIGGERS: &str = "pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE NOT t.tgisinternal AND {user}";

/// Rules (besides a view's own `_RETURN`) and row-level security policies, by name, with the
/// word `CREATE` names them with (the target has neither), the name, the schema and the table.
const UNSUPPORTED_ROWS: &str = "
SELECT 'RULE', r.rulename::text, n.nspname::text, c.relname::text
  FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE r.rulename <> '_RETURN' AND {user}
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = r.oid AND d.deptype = 'e')
UNION ALL
SELECT 'POLICY', p.polname::text, n.nspname::text, c.relname::text
  FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE {user}";

/// `sql` with the fragments above in place of `{views}`, `{sequences}`, `{indexes}`,
/// `{routines}`, `{triggers}` and `{unsupported}`, and [`USER_OBJECTS`] in place of `{user}`.
fn user_sql(sql: &str) -> String {
    sql.replace("{views}", FROM_VIEWS)
        .replace("{sequences}", FROM_SEQUENCES)
        .replace("{indexes}", FROM_INDEXES)
        .replace("{routines}", FROM_ROUTINES)
        .replace("{triggers}", FROM_TRIGGERS)
        .replace("{unsupported}", UNSUPPORTED_ROWS)
        .replace("{user}", USER_OBJECTS)
}

const VIEWS: &str = "
SELECT n.nspname::text, c.relname::text, c.relkind = 'm', pg_get_viewdef(c.oid),
       coalesce(c.reloptions, '{}')::text[]
  FROM {views}
 ORDER BY 1, 2";

const SEQUENCES: &str = "
SELECT n.nspname::text, c.relname::text, s.seqstart, s.seqincrement, s.seqmin::numeric::text,
       s.seqmax::numeric::text, s.seqcycle
  FROM {sequences}
 ORDER BY 1, 2";

/// An index's `INCLUDE` columns, and its `NULLS NOT DISTINCT` (PostgreSQL 15: read through
/// `to_jsonb` so that the query runs on servers whose `pg_index` has no such column), of
/// `pg_index i`, or an empty list and false where `i` is NULL.
pub(crate) fn with_index_options(sql: &str) -> String {
    sql.replace(
        "{include}",
        "ARRAY(SELECT a.attname::text FROM generate_series(i.indnkeyatts + 1, i.indnatts) k
                JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[k - 1]
               ORDER BY k)",
    )
    .replace(
        "{nulls_not_distinct}",
        "coalesce((to_jsonb(i) ->> 'indnullsnotdistinct')::boolean, false)",
    )
}

/// The [`with_index_options`] columns of `row`, the include list at `at`.
pub(crate) fn index_options(row: &tokio_postgres::Row, at: usize) -> IndexOptions {
    IndexOptions {
        include: row
            .get::<_, Vec<String>>(at)
            .iter()
            .map(|c| ident(c))
            .collect(),
        nulls_not_distinct: row.get(at + 1),
    }
}

/// Indexes ([`FROM_INDEXES`]). Each key is its column or expression, then a collation other than the column's (for an expression,
/// other than the database's default, oid 100: one the expression takes from its columns is
/// written out, which changes nothing), an operator class other than the default, and an
/// ordering other than `ASC NULLS LAST` (bit 1 of `indoption` is DESC, bit 2 NULLS FIRST).
const INDEXES: &str = "
SELECT n.nspname::text, ic.relname::text, tn.nspname::text, t.relname::text, i.indisunique,
       am.amname::text,
       ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true)
                    || CASE WHEN i.indcollation[k - 1] NOT IN (0, coalesce(a.attcollation, 100))
                            THEN ' COLLATE ' || (SELECT CASE WHEN cn.nspname = 'pg_catalog' THEN ''
                                                              ELSE quote_ident(cn.nspname) || '.' END
                                                         || quote_ident(co.collname)
                                                    FROM pg_collation co
                                                    JOIN pg_namespace cn ON cn.oid = co.collnamespace
                                                   WHERE co.oid = i.indcollation[k - 1])
                            ELSE '' END
                    || CASE WHEN oc.opcdefault THEN ''
                            ELSE ' ' || CASE WHEN ocn.nspname = 'pg_catalog' THEN ''
                                             ELSE quote_ident(ocn.nspname) || '.' END
                                     || quote_ident(oc.opcname) END
                    || CASE WHEN i.indoption[k - 1] & 1 = 1 THEN ' DESC' ELSE '' END
                    || CASE i.indoption[k - 1] & 3 WHEN 2 THEN ' NULLS FIRST'
                                                   WHEN 1 THEN ' NULLS LAST' ELSE '' END
               FROM generate_series(1, i.indnkeyatts) k
               LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[k - 1]
               JOIN pg_opclass oc ON oc.oid = i.indclass[k - 1]
               JOIN pg_namespace ocn ON ocn.oid = oc.opcnamespace
              ORDER BY k),
       pg_get_expr(i.indpred, i.indrelid), {include}, {nulls_not_distinct}
  FROM {indexes}
 ORDER BY 1, 2";

/// Functions and procedures ([`FROM_ROUTINES`]) with their full definition (aggregates and
/// window functions have no `pg_get_functiondef`: their signature stands in).
const ROUTINES: &str = "
SELECT n.nspname::text, p.proname::text, p.prokind::text,
       CASE WHEN p.prokind IN ('f', 'p') THEN pg_get_functiondef(p.oid)
            ELSE p.proname || '(' || pg_get_function_arguments(p.oid) || ')' END
  FROM {routines}
 ORDER BY 1, 2";

/// Everything [`PostgresSource::other_objects`] lists, by kind, name, schema, and the table of
/// a constraint, rule or policy (whose names are unique per table only): the objects of
/// [`PostgresSource::discover_objects`] (the same fragments, names only: reading a view's or a
/// routine's definition deparses it), enums, domains, ranges and composite types of their own
/// (not a table's row type; a range's multirange comes with it), foreign tables, and, of the whole database,
/// event triggers (but the one migrate's change capture installs beside its publication, see
/// [`FROM_ROUTINES`], and those an extension owns) and extensions (but `plpgsql`, which every
/// database has). Foreign keys are listed by `replicate` from the catalog it plans with.
const OTHER_OBJECTS: &str = "
SELECT CASE c.relkind WHEN 'v' THEN 'view' ELSE 'materialized view' END, c.relname::text,
       n.nspname::text, NULL::text
  FROM {views}
UNION ALL
SELECT 'foreign table', c.relname::text, n.nspname::text, NULL
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'f' AND {user}
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
UNION ALL
SELECT 'sequence', c.relname::text, n.nspname::text, NULL FROM {sequences}
UNION ALL
SELECT 'index', ic.relname::text, n.nspname::text, NULL FROM {indexes}
UNION ALL
SELECT CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END, p.proname::text,
       n.nspname::text, NULL
  FROM {routines}
UNION ALL
SELECT 'trigger', t.tgname::text, n.nspname::text, NULL FROM {triggers}
UNION ALL
SELECT 'type', t.typname::text, n.nspname::text, NULL
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
 WHERE t.typtype IN ('e', 'd', 'r', 'c') AND {user}
   AND (t.typtype <> 'c' OR EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind = 'c'))
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = t.oid AND d.deptype = 'e')
UNION ALL
{unsupported}
UNION ALL
SELECT 'event trigger', e.evtname::text, NULL, NULL
  FROM pg_event_trigger e
 WHERE NOT (e.evtname LIKE 'migrate\\_%'
            AND EXISTS (SELECT 1 FROM pg_publication pb WHERE pb.pubname = e.evtname))
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = e.oid AND d.deptype = 'e')
UNION ALL
SELECT 'extension', x.extname::text, NULL, NULL FROM pg_extension x WHERE x.extname <> 'plpgsql'
 ORDER BY 3, 4, 2";

const TRIGGERS: &str = "
SELECT n.nspname::text, t.tgname::text, pg_get_triggerdef(t.oid)
  FROM {triggers}
 ORDER BY 1, 2";

const PARTITIONS: &str = "
SELECT pn.nspname::text, p.relname::text, pt.partstrat::text,
       ARRAY(SELECT a.attname::text FROM unnest(pt.partattrs::int2[]) WITH ORDINALITY k(n, i)
               JOIN pg_attribute a ON a.attrelid = p.oid AND a.attnum = k.n ORDER BY k.i),
       c.relname::text, pg_get_expr(c.relpartbound, c.oid)
  FROM pg_partitioned_table pt
  JOIN pg_class p ON p.oid = pt.partrelid JOIN pg_namespace pn ON pn.oid = p.relnamespace
  JOIN pg_inherits h ON h.inhparent = p.oid JOIN pg_class c ON c.oid = h.inhrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE {user} AND NOT p.relispartition
 ORDER BY 1, 2, 5";

/// Rules and policies ([`UNSUPPORTED_ROWS`]).
const UNSUPPORTED: &str = "{unsupported} ORDER BY 3, 4, 1, 2";

/// The finding about a rule or a row-level security policy (`word`: `RULE` or `POLICY`) on
/// `table`, named as the converter names them in a script (pg_dump's `CREATE RULE r AS ON
/// INSERT TO s.t`): by their own name, which is unique per table only.
fn unsupported(word: &str, name: String, table: QualifiedName) -> Finding {
    Finding::new(
        Severity::Action,
        "object.unsupported",
        format!("{} {}", word.to_ascii_lowercase(), ident(&name)),
        format!("CREATE {word} has no equivalent in the target and is not converted (on {table})"),
        "recreate what it does by other means, or drop it",
    )
}

/// A view's options from its `reloptions` (`check_option=local`, `security_barrier=true`, ...).
fn view_options(reloptions: &[String]) -> ViewOptions {
    let mut options = ViewOptions::default();
    for option in reloptions {
        let (name, value) = option.split_once('=').unwrap_or((option, "true"));
        options.set_parameter(name, value);
    }
    options
}

impl PostgresSource {
    /// Adds to `catalog` (as [`PostgresSource::discover`] returned it, for the same `schemas`)
    /// the views, materialized views, sequences, indexes that no key owns, functions,
    /// procedures, triggers, and each partitioned table's partitions, and an `object.unsupported`
    /// finding for each rule and row-level security policy (as for their CREATE statements in a
    /// script). Objects owned by extensions and the sequences behind identity and serial
    /// columns are left out.
    ///
    /// Consistency: one statement per kind of object, not one snapshot.
    pub async fn discover_objects(
        &self,
        schemas: Option<&[String]>,
        catalog: &mut Catalog,
    ) -> Result<(), SourceError> {
        let schemas: Option<Vec<String>> = schemas.map(<[String]>::to_vec);
        let client = self.client();
        let name =
            |schema: String, name: String| QualifiedName::new(Some(ident(&schema)), ident(&name));

        for row in client
            .query(&user_sql(VIEWS), &[&schemas])
            .await
            .map_err(SourceError::query("listing views"))?
        {
            catalog.views.push(View {
                name: name(row.get(0), row.get(1)),
                columns: Vec::new(),
                query: row.get::<_, Option<String>>(3).unwrap_or_default(),
                materialized: row.get(2),
                options: view_options(&row.get::<_, Vec<String>>(4)),
                location: None,
            });
        }
        for row in client
            .query(&user_sql(SEQUENCES), &[&schemas])
            .await
            .map_err(SourceError::query("listing sequences"))?
        {
            let bound = |i: usize| {
                row.get::<_, Option<String>>(i)
                    .and_then(|v| v.parse::<i128>().ok())
            };
            catalog.sequences.push(Sequence {
                name: name(row.get(0), row.get(1)),
                start: row.get(2),
                increment: row.get(3),
                min_value: bound(4),
                max_value: bound(5),
                cycle: row.get(6),
                location: None,
            });
        }
        for row in client
            .query(&with_index_options(&user_sql(INDEXES)), &[&schemas])
            .await
            .map_err(SourceError::query("listing indexes"))?
        {
            let method: String = row.get(5);
            let kind = match method.as_str() {
                "hash" => IndexKind::Hash,
                _ => IndexKind::BTree,
            };
            catalog.indexes.push(Index {
                name: name(row.get(0), row.get(1)),
                table: name(row.get(2), row.get(3)),
                columns: row.get(6),
                unique: row.get(4),
                kind,
                method: (!matches!(method.as_str(), "btree" | "hash")).then_some(method),
                predicate: row.get(7),
                options: index_options(&row, 8),
                location: None,
            });
        }
        for row in client
            .query(&user_sql(ROUTINES), &[&schemas])
            .await
            .map_err(SourceError::query("listing functions and procedures"))?
        {
            let kind = match row.get::<_, String>(2).as_str() {
                "p" => RoutineKind::Procedure,
                _ => RoutineKind::Function,
            };
            catalog.routines.push(Routine {
                name: Some(name(row.get(0), row.get(1))),
                kind,
                text: row.get::<_, Option<String>>(3).unwrap_or_default(),
                location: None,
            });
        }
        for row in client
            .query(&user_sql(TRIGGERS), &[&schemas])
            .await
            .map_err(SourceError::query("listing triggers"))?
        {
            catalog.routines.push(Routine {
                name: Some(name(row.get(0), row.get(1))),
                kind: RoutineKind::Trigger,
                text: row.get(2),
                location: None,
            });
        }
        for row in client
            .query(&user_sql(UNSUPPORTED), &[&schemas])
            .await
            .map_err(SourceError::query("listing rules and policies"))?
        {
            let word: String = row.get(0);
            catalog
                .findings
                .push(unsupported(&word, row.get(1), name(row.get(2), row.get(3))));
        }
        // The partitions of the catalog's tables: none to read for a catalog without tables.
        if catalog.tables.is_empty() {
            return Ok(());
        }
        let index = migrate_core::TableIndex::new(&catalog.tables);
        for row in client
            .query(&user_sql(PARTITIONS), &[&schemas])
            .await
            .map_err(SourceError::query("listing partitions"))?
        {
            let parent = name(row.get(0), row.get(1));
            let Some(position) = index.find(&catalog.tables, &parent) else {
                continue;
            };
            let method = match row.get::<_, String>(2).as_str() {
                "r" => PartitionMethod::Range,
                "l" => PartitionMethod::List,
                _ => PartitionMethod::Hash,
            };
            let columns: Vec<String> = row.get(3);
            let partitioning = catalog.tables[position]
                .partitioning
                .get_or_insert_with(|| Partitioning {
                    method,
                    columns: columns.iter().map(|c| ident(c)).collect(),
                    partitions: Vec::new(),
                    interval: None,
                    subpartitioning: None,
                });
            partitioning.partitions.push(Partition {
                name: Some(row.get(4)),
                bound: row.get::<_, Option<String>>(5).unwrap_or_default(),
            });
        }
        Ok(())
    }

    /// What `schemas` hold besides base tables, for `migrate replicate` to say it does not
    /// copy them, by name ([`OTHER_OBJECTS`]); rules and policies as the findings of
    /// [`PostgresSource::discover_objects`]. One statement.
    pub async fn other_objects(&self, schemas: &[String]) -> Result<OtherObjects, SourceError> {
        let context = "listing the objects besides tables";
        let rows = self
            .client()
            .query(&user_sql(OTHER_OBJECTS), &[&schemas])
            .await
            .map_err(SourceError::query(context))?;
        let mut other = OtherObjects::default();
        for row in rows {
            let name: String = row.get(1);
            let schema: Option<String> = row.get(2);
            let table = row
                .get::<_, Option<String>>(3)
                .map(|t| QualifiedName::new(schema.as_deref().map(ident), ident(&t)));
            let kind = match row.get::<_, &str>(0) {
                "view" => ObjectKind::View,
                "materialized view" => ObjectKind::MaterializedView,
                "foreign table" => ObjectKind::ForeignTable,
                "sequence" => ObjectKind::Sequence,
                "index" => ObjectKind::Index,
                "function" => ObjectKind::Function,
                "procedure" => ObjectKind::Procedure,
                "trigger" => ObjectKind::Trigger,
                "type" => ObjectKind::Type,
                "event trigger" => ObjectKind::EventTrigger,
                "extension" => ObjectKind::Extension,
                word @ ("RULE" | "POLICY") => {
                    let table = table.ok_or_else(|| SourceError::Protocol {
                        context: context.into(),
                        message: format!("{word} {name} has no table"),
                    })?;
                    other.findings.push(unsupported(word, name, table));
                    continue;
                }
                word => {
                    return Err(SourceError::Protocol {
                        context: context.into(),
                        message: format!("unknown kind of object {word}"),
                    })
                }
            };
            other.objects.push(OtherObject {
                kind,
                name: QualifiedName::new(schema.as_deref().map(ident), ident(&name)),
                table,
            });
        }
        Ok(other)
    }
}
