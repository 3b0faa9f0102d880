//! Discovery of everything besides base tables, for `migrate assess`: views, stored procedures
//! and functions, triggers, events, MariaDB sequences, secondary indexes and partitions.

use crate::connect::get;
use crate::discover::schema_filter;
use crate::{MysqlSource, SourceError};
use migrate_core::{
    Catalog, CheckOption, Finding, Ident, Index, IndexKind, Partition, PartitionMethod,
    Partitioning, QualifiedName, Routine, RoutineKind, Sequence, Severity, View, ViewOptions,
};
use mysql_async::prelude::Queryable;
use mysql_async::Row;

const VIEWS: &str = "SELECT TABLE_SCHEMA, TABLE_NAME, VIEW_DEFINITION, CHECK_OPTION
  FROM information_schema.VIEWS WHERE {schemas} ORDER BY 1, 2";

const ROUTINES: &str = "SELECT ROUTINE_SCHEMA, ROUTINE_NAME, ROUTINE_TYPE, ROUTINE_DEFINITION
  FROM information_schema.ROUTINES WHERE {schemas} ORDER BY 1, 2";

const TRIGGERS: &str = "SELECT TRIGGER_SCHEMA, TRIGGER_NAME,
       CONCAT('CREATE TRIGGER ', TRIGGER_NAME, ' ', ACTION_TIMING, ' ', EVENT_MANIPULATION, ' ON ',
              EVENT_OBJECT_TABLE, ' FOR EACH ROW ', ACTION_STATEMENT)
  FROM information_schema.TRIGGERS WHERE {schemas} ORDER BY 1, 2";

/// Per schema, whether the user holds TRIGGER and EVENT there (globally or on the schema):
/// `information_schema.TRIGGERS` and `EVENTS` list only objects the user holds them for, and
/// say nothing of the others.
const VISIBILITY: &str = "SELECT s.SCHEMA_NAME,
       EXISTS (SELECT 1 FROM information_schema.USER_PRIVILEGES u
                WHERE u.GRANTEE = {me} AND u.PRIVILEGE_TYPE = 'TRIGGER')
       OR EXISTS (SELECT 1 FROM information_schema.SCHEMA_PRIVILEGES p
                   WHERE p.GRANTEE = {me} AND p.TABLE_SCHEMA = s.SCHEMA_NAME
                     AND p.PRIVILEGE_TYPE = 'TRIGGER'),
       EXISTS (SELECT 1 FROM information_schema.USER_PRIVILEGES u
                WHERE u.GRANTEE = {me} AND u.PRIVILEGE_TYPE = 'EVENT')
       OR EXISTS (SELECT 1 FROM information_schema.SCHEMA_PRIVILEGES p
                   WHERE p.GRANTEE = {me} AND p.TABLE_SCHEMA = s.SCHEMA_NAME
                     AND p.PRIVILEGE_TYPE = 'EVENT')
  FROM information_schema.SCHEMATA s WHERE {schemas} ORDER BY 1";

/// The current account as `GRANTEE` columns write it: `'user'@'host'`.
const CURRENT_GRANTEE: &str = "CONCAT('''', SUBSTRING_INDEX(CURRENT_USER(), '@', 1), '''@''', \
SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''')";

const EVENTS: &str = "SELECT EVENT_SCHEMA, EVENT_NAME, EVENT_DEFINITION
  FROM information_schema.EVENTS WHERE {schemas} ORDER BY 1, 2";

const SEQUENCES: &str = "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES
 WHERE TABLE_TYPE = 'SEQUENCE' AND {schemas} ORDER BY 1, 2";

/// Non-unique indexes, and the unique ones that discovery does not read as unique keys (a key
/// with a prefix part, see `discover.rs`). Each key as MySQL writes it: a prefix length
/// (`name(20)`), then `DESC` for a descending key (`COLLATION` `D`: MySQL 8, MariaDB 10.8). A
/// MySQL 8 functional key has no column; its expression is in a column MariaDB doesn't have, so
/// it is listed as [`Index::UNREAD_EXPRESSION`]. MariaDB (and MySQL 5.7) give a SPATIAL key a
/// `SUB_PART` of 32 that is no prefix (one can't be written): it is left out.
const INDEXES: &str = "SELECT TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, INDEX_TYPE,
       COALESCE(CONCAT(COLUMN_NAME,
                       CASE WHEN INDEX_TYPE = 'SPATIAL' THEN ''
                            ELSE COALESCE(CONCAT('(', SUB_PART, ')'), '') END,
                       CASE WHEN COLLATION = 'D' THEN ' DESC' ELSE '' END), {unread}),
       CASE WHEN NON_UNIQUE = 0 THEN 'unique' ELSE '' END
  FROM information_schema.STATISTICS s
 WHERE (NON_UNIQUE = 1 OR (INDEX_NAME <> 'PRIMARY' AND EXISTS (
          SELECT 1 FROM information_schema.STATISTICS p
           WHERE p.TABLE_SCHEMA = s.TABLE_SCHEMA AND p.TABLE_NAME = s.TABLE_NAME
             AND p.INDEX_NAME = s.INDEX_NAME AND (p.SUB_PART IS NOT NULL OR p.COLUMN_NAME IS NULL))))
   AND {schemas}
 ORDER BY TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX";

const PARTITIONS: &str = "SELECT TABLE_SCHEMA, TABLE_NAME, PARTITION_NAME, PARTITION_METHOD,
       PARTITION_EXPRESSION, PARTITION_DESCRIPTION
  FROM information_schema.PARTITIONS WHERE PARTITION_NAME IS NOT NULL AND {schemas}
 ORDER BY TABLE_SCHEMA, TABLE_NAME, PARTITION_ORDINAL_POSITION";

fn name(schema: String, name: String) -> QualifiedName {
    QualifiedName::new(Some(Ident::new(schema)), Ident::new(name))
}

impl MysqlSource {
    /// Adds to `catalog` (as [`MysqlSource::discover`] returned it, for the same `schemas`)
    /// views, stored procedures and functions (their bodies), triggers, events, MariaDB
    /// sequences, non-unique indexes, and each partitioned table's partitions.
    ///
    /// Consistency: one statement per kind of object, not one snapshot.
    pub async fn discover_objects(
        &self,
        schemas: Option<&[String]>,
        catalog: &mut Catalog,
    ) -> Result<(), SourceError> {
        let schemas = self.default_schemas(schemas);
        let mut conn = self.conn.lock().await;
        let mut rows =
            async |sql: &str, column: &str, context: &str| -> Result<Vec<Row>, SourceError> {
                let (filter, params) = schema_filter(column, schemas.as_deref());
                conn.exec(sql.replace("{schemas}", &filter), params)
                    .await
                    .map_err(SourceError::query(context))
            };
        let context = "listing views";
        for mut row in rows(VIEWS, "TABLE_SCHEMA", context).await? {
            let view = name(text(&mut row, 0, context)?, text(&mut row, 1, context)?);
            let query = text(&mut row, 2, context)?;
            if query.trim().is_empty() {
                // MySQL and MariaDB show a view's query only to its definer and to users with
                // SHOW VIEW on it.
                catalog.findings.push(Finding::new(
                    Severity::Action,
                    "view.definition-unread",
                    format!("view {view}"),
                    "the view's query can't be read: MySQL and MariaDB show it only to a user with the SHOW VIEW privilege on it; the view is not converted",
                    "Grant the user SHOW VIEW on the database (read only: GRANT SHOW VIEW ON db.* TO user) and run again.",
                ));
                continue;
            }
            catalog.views.push(View {
                name: view,
                columns: Vec::new(),
                query,
                materialized: false,
                options: ViewOptions {
                    // `NONE`, `CASCADED` or `LOCAL`.
                    check: match text(&mut row, 3, context)?.as_str() {
                        "NONE" => None,
                        word => Some(CheckOption::from_word(word)),
                    },
                    ..ViewOptions::default()
                },
                location: None,
            });
        }
        let context = "reading the privileges that show triggers and events";
        let visibility = VISIBILITY.replace("{me}", CURRENT_GRANTEE);
        for mut row in rows(&visibility, "s.SCHEMA_NAME", context).await? {
            let schema = text(&mut row, 0, context)?;
            for (column, privilege, objects) in [(1, "TRIGGER", "triggers"), (2, "EVENT", "events")]
            {
                if get::<i64>(&mut row, column, context)? == Some(1) {
                    continue;
                }
                catalog.findings.push(Finding::new(
                    Severity::Warning,
                    "privilege.objects-hidden",
                    format!("schema {schema}"),
                    format!("the user has no {privilege} privilege on the schema, and MySQL and MariaDB list only the {objects} of tables and schemas the user holds it for: its {objects}, if any, are not assessed"),
                    format!("Assess as a user with {privilege} on the schema (GRANT {privilege} ON {schema}.* TO user; it also lets the user change {objects}), or check the {objects} by hand."),
                ));
            }
        }
        let context = "listing stored routines";
        for mut row in rows(ROUTINES, "ROUTINE_SCHEMA", context).await? {
            let kind = match text(&mut row, 2, context)?.as_str() {
                "PROCEDURE" => RoutineKind::Procedure,
                _ => RoutineKind::Function,
            };
            catalog.routines.push(Routine {
                name: Some(name(
                    text(&mut row, 0, context)?,
                    text(&mut row, 1, context)?,
                )),
                kind,
                text: text(&mut row, 3, context)?,
                location: None,
            });
        }
        for (sql, column, kind, context) in [
            (
                TRIGGERS,
                "TRIGGER_SCHEMA",
                RoutineKind::Trigger,
                "listing triggers",
            ),
            (EVENTS, "EVENT_SCHEMA", RoutineKind::Event, "listing events"),
        ] {
            for mut row in rows(sql, column, context).await? {
                catalog.routines.push(Routine {
                    name: Some(name(
                        text(&mut row, 0, context)?,
                        text(&mut row, 1, context)?,
                    )),
                    kind,
                    text: text(&mut row, 2, context)?,
                    location: None,
                });
            }
        }
        let context = "listing sequences";
        for mut row in rows(SEQUENCES, "TABLE_SCHEMA", context).await? {
            catalog.sequences.push(Sequence {
                name: name(text(&mut row, 0, context)?, text(&mut row, 1, context)?),
                start: 1,
                increment: 1,
                min_value: None,
                max_value: None,
                cycle: false,
                location: None,
            });
        }
        let context = "listing indexes";
        let unread = format!("'{}'", Index::UNREAD_EXPRESSION);
        let indexes = INDEXES.replace("{unread}", &unread);
        for mut row in rows(&indexes, "TABLE_SCHEMA", context).await? {
            let schema = text(&mut row, 0, context)?;
            let table = name(schema.clone(), text(&mut row, 1, context)?);
            let index = name(schema, text(&mut row, 2, context)?);
            let column = text(&mut row, 4, context)?;
            match catalog.indexes.last_mut() {
                Some(last) if last.name == index && last.table == table => {
                    last.columns.push(column)
                }
                _ => {
                    let kind = match text(&mut row, 3, context)?.as_str() {
                        "FULLTEXT" => IndexKind::FullText,
                        "SPATIAL" => IndexKind::Spatial,
                        "HASH" => IndexKind::Hash,
                        _ => IndexKind::BTree,
                    };
                    let unique = text(&mut row, 5, context)? == "unique";
                    catalog.indexes.push(Index {
                        name: index,
                        table,
                        columns: vec![column],
                        unique,
                        kind,
                        method: None,
                        predicate: None,
                        location: None,
                        options: Default::default(),
                    });
                }
            }
        }
        // The partitions of the catalog's tables: none to read for a catalog without tables
        // (`other_objects`).
        if catalog.tables.is_empty() {
            return Ok(());
        }
        let context = "listing partitions";
        let index = migrate_core::TableIndex::new(&catalog.tables);
        for mut row in rows(PARTITIONS, "TABLE_SCHEMA", context).await? {
            let table = name(text(&mut row, 0, context)?, text(&mut row, 1, context)?);
            let Some(position) = index.find(&catalog.tables, &table) else {
                continue;
            };
            let method = match text(&mut row, 3, context)?.as_str() {
                "RANGE" | "RANGE COLUMNS" => PartitionMethod::Range,
                "LIST" | "LIST COLUMNS" => PartitionMethod::List,
                "KEY" | "LINEAR KEY" => PartitionMethod::Key,
                _ => PartitionMethod::Hash,
            };
            let expression = text(&mut row, 4, context)?;
            let partitioning = catalog.tables[position]
                .partitioning
                .get_or_insert_with(|| Partitioning {
                    method,
                    columns: expression
                        .split(',')
                        .map(|c| Ident::new(c.trim().trim_matches('`')))
                        .filter(|c| !c.value.is_empty())
                        .collect(),
                    partitions: Vec::new(),
                    interval: None,
                    subpartitioning: None,
                });
            partitioning.partitions.push(Partition {
                name: Some(text(&mut row, 2, context)?),
                bound: text(&mut row, 5, context)?,
            });
        }
        Ok(())
    }
}

/// A text column, NULL read as empty.
fn text(row: &mut Row, index: usize, context: &str) -> Result<String, SourceError> {
    Ok(get::<String>(row, index, context)?.unwrap_or_default())
}
