//! Discovery: `information_schema` as a [`Catalog`] of canonical types, keys and statistics.

use crate::connect::{get, Flavor};
use crate::{MysqlSource, SourceError};
use migrate_core::{
    Catalog, Column, ColumnDefault, Constraint, ConstraintKind, ConstraintState, Finding,
    ForeignKey, Ident, Identity, LogicalType, QualifiedName, Severity, SourceDialect, Table,
    TableStatistics,
};
use migrate_dialect::{parse_type_text, TypeMaps};
use mysql_async::prelude::Queryable;
use mysql_async::{Row, Value};
use std::collections::{HashMap, HashSet};

/// Schemas of the server itself, never migrated.
pub(crate) const SYSTEM_SCHEMAS: [&str; 4] =
    ["mysql", "information_schema", "performance_schema", "sys"];

const TABLES: &str = "
SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, ENGINE, TABLE_ROWS,
       DATA_LENGTH + INDEX_LENGTH, AUTO_INCREMENT, TABLE_COMMENT
  FROM information_schema.TABLES
 WHERE TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED') AND {schemas}
 ORDER BY TABLE_SCHEMA, TABLE_NAME";

const COLUMNS: &str = "
SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA,
       GENERATION_EXPRESSION, COLUMN_COMMENT, COLLATION_NAME
  FROM information_schema.COLUMNS
 WHERE {schemas}
 ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION";

/// Primary, unique and foreign keys, read from `KEY_COLUMN_USAGE`, which lists the columns of
/// exactly these: MariaDB shows `TABLE_CONSTRAINTS` and `REFERENTIAL_CONSTRAINTS` only to users
/// with a privilege besides SELECT on the table, so a user granted SELECT (as migrate's docs
/// ask) would find no keys there. A foreign key's rules are in `REFERENTIAL_CONSTRAINTS` alone;
/// the last column says whether that row was visible. A unique key with a prefix part
/// (`UNIQUE KEY (url(255))`, often on a TEXT column) or a MySQL 8 functional part is not read as
/// a key: its rule is not one of whole columns, and a unique key on the whole column could
/// refuse values on the target (PostgreSQL's B-tree entries hold at most about 2.7 kB).
/// `discover_objects` lists it as a unique index, which the converter reports. The rules are
/// read through a derived table the server can't merge into the query (`DISTINCT`), so that
/// its own filter (`{referential}`) narrows what fills it: joined directly, the view is filled
/// with the foreign keys of every database of the server.
const CONSTRAINTS: &str = "
SELECT k.TABLE_SCHEMA, k.TABLE_NAME, k.CONSTRAINT_NAME,
       CASE WHEN k.REFERENCED_TABLE_NAME IS NOT NULL THEN 'FOREIGN KEY'
            WHEN k.CONSTRAINT_NAME = 'PRIMARY' THEN 'PRIMARY KEY' ELSE 'UNIQUE' END AS KIND,
       k.COLUMN_NAME, k.REFERENCED_TABLE_SCHEMA, k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME,
       r.DELETE_RULE, r.UPDATE_RULE, r.CONSTRAINT_NAME IS NOT NULL
  FROM information_schema.KEY_COLUMN_USAGE k
  LEFT JOIN (SELECT DISTINCT CONSTRAINT_SCHEMA, TABLE_NAME, CONSTRAINT_NAME, DELETE_RULE, UPDATE_RULE
               FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE {referential}) r
    ON k.REFERENCED_TABLE_NAME IS NOT NULL AND r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA
   AND r.TABLE_NAME = k.TABLE_NAME AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME
 WHERE {schemas}
   AND NOT (k.REFERENCED_TABLE_NAME IS NULL AND k.CONSTRAINT_NAME <> 'PRIMARY' AND EXISTS (
            SELECT 1 FROM information_schema.STATISTICS p
             WHERE p.TABLE_SCHEMA = k.TABLE_SCHEMA AND p.TABLE_NAME = k.TABLE_NAME
               AND p.INDEX_NAME = k.CONSTRAINT_NAME
               AND (p.SUB_PART IS NOT NULL OR p.COLUMN_NAME IS NULL)))
 ORDER BY k.TABLE_SCHEMA, k.TABLE_NAME, KIND, k.CONSTRAINT_NAME, k.ORDINAL_POSITION";

/// CHECK constraints: schema, table, name, condition, whether it is a column's (MariaDB names
/// those after their column, and mariadb-dump writes them in the column, unnamed) and whether
/// it is enforced (MySQL's `NOT ENFORCED`). MariaDB's `JSON` is `LONGTEXT` with a column-level
/// `CHECK (json_valid(col))`: that check says the column is JSON.
const MARIADB_CHECKS: &str = "
SELECT CONSTRAINT_SCHEMA, TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE, LEVEL = 'Column', 1
  FROM information_schema.CHECK_CONSTRAINTS
 WHERE {schemas}
 ORDER BY 1, 2, 3";

/// MySQL 8.0.16+ keeps the table of a check in `TABLE_CONSTRAINTS` (check names are unique
/// per schema).
const MYSQL_CHECKS: &str = "
SELECT c.CONSTRAINT_SCHEMA, t.TABLE_NAME, c.CONSTRAINT_NAME, c.CHECK_CLAUSE, 0,
       t.ENFORCED = 'YES'
  FROM information_schema.CHECK_CONSTRAINTS c
  JOIN information_schema.TABLE_CONSTRAINTS t
    ON t.CONSTRAINT_SCHEMA = c.CONSTRAINT_SCHEMA AND t.CONSTRAINT_NAME = c.CONSTRAINT_NAME
   AND t.CONSTRAINT_TYPE = 'CHECK'
 WHERE {schemas}
 ORDER BY 1, 2, 3";

/// Whether the server has `information_schema.CHECK_CONSTRAINTS` (MySQL before 8.0.16 has
/// none: it ignores CHECK clauses).
const HAS_CHECKS: &str = "
SELECT COUNT(*) FROM information_schema.TABLES
 WHERE TABLE_SCHEMA = 'information_schema' AND TABLE_NAME = 'CHECK_CONSTRAINTS'";

/// `TABLE_SCHEMA IN (?, ...)` (or `NOT IN` the system schemas) with its parameters.
pub(crate) fn schema_filter(column: &str, schemas: Option<&[String]>) -> (String, Vec<Value>) {
    let system = SYSTEM_SCHEMAS
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ");
    match schemas {
        Some(list) if !list.is_empty() => (
            format!(
                "{column} IN ({}) AND {column} NOT IN ({system})",
                vec!["?"; list.len()].join(", ")
            ),
            list.iter().map(|s| Value::from(s.as_str())).collect(),
        ),
        _ => (format!("{column} NOT IN ({system})"), Vec::new()),
    }
}

type Key = (String, String);

impl MysqlSource {
    /// The schemas discovery reads: those given, else the URL's database, else every one.
    pub(crate) fn default_schemas(&self, schemas: Option<&[String]>) -> Option<Vec<String>> {
        match (schemas, &self.target.database) {
            (Some(list), _) => Some(list.to_vec()),
            (None, Some(db)) => Some(vec![db.clone()]),
            (None, None) => None,
        }
    }
}

impl MysqlSource {
    /// Reads the base tables of `schemas` (when `None`: the URL's database, or every non-system
    /// database when the URL names none): columns in ordinal order with canonical types from the
    /// converter's MySQL type map (`dialect-maps/mysql.toml`, so that `migrate convert` and
    /// replicate agree), NOT NULL, defaults, AUTO_INCREMENT, primary, unique and foreign keys,
    /// CHECK constraints (MariaDB's `json_valid` one of a JSON column makes it JSON instead),
    /// and the row estimate and size the server keeps (`TABLE_ROWS`: exact for MyISAM, an
    /// estimate for InnoDB).
    ///
    /// Findings: the notes of the type map's rules, `type.read-as-text` for types the map does
    /// not know (read as their text form), `snapshot.not-transactional` for tables whose engine
    /// (MyISAM, Aria, ...) a consistent snapshot does not cover, `table.system-versioned` for
    /// MariaDB tables whose history rows are not read.
    ///
    /// Consistency: one statement per catalog view, not one snapshot.
    pub async fn discover(&self, schemas: Option<&[String]>) -> Result<Catalog, SourceError> {
        let default = self.default_schemas(schemas);
        self.discover_where(default.as_deref(), None).await
    }

    /// The tables named `name` in `schema` as [`discover`](Self::discover) reads them, reading
    /// only their rows of the catalog views (change capture rediscovers one table at a time, in
    /// databases that may have thousands). `name` is spelled as the server has it (a TableMap's
    /// or the catalog's); the catalog's collation may also match names that differ in case, so
    /// the caller picks its table from the answer.
    pub(crate) async fn discover_table(
        &self,
        schema: &str,
        name: &str,
    ) -> Result<Vec<Table>, SourceError> {
        let schemas = [schema.to_string()];
        Ok(self
            .discover_where(Some(&schemas), Some(name))
            .await?
            .tables)
    }

    /// [`discover`](Self::discover) of `schemas`, of the tables named `table` only when given.
    async fn discover_where(
        &self,
        schemas: Option<&[String]>,
        table: Option<&str>,
    ) -> Result<Catalog, SourceError> {
        let mut conn = self.conn.lock().await;
        // `schema_column` and `table_column` name the view's schema and table columns.
        let query = |sql: &str, schema_column: &str, table_column: &str| {
            let (mut filter, mut params) = schema_filter(schema_column, schemas);
            if let Some(table) = table {
                filter.push_str(&format!(" AND {table_column} = ?"));
                params.push(Value::from(table));
            }
            (sql.replace("{schemas}", &filter), params)
        };

        let mut catalog = Catalog::default();
        let mut position: HashMap<Key, usize> = HashMap::new();
        let mut auto_increment: HashMap<usize, i64> = HashMap::new();
        let context = "listing tables";
        let (sql, params) = query(TABLES, "TABLE_SCHEMA", "TABLE_NAME");
        let rows: Vec<Row> = conn
            .exec(sql, params)
            .await
            .map_err(SourceError::query(context))?;
        for mut row in rows {
            let schema: String = get(&mut row, 0, context)?.unwrap_or_default();
            let name: String = get(&mut row, 1, context)?.unwrap_or_default();
            let kind: String = get(&mut row, 2, context)?.unwrap_or_default();
            let engine: Option<String> = get(&mut row, 3, context)?;
            let mut table = Table::new(QualifiedName::new(
                Some(Ident::new(&schema)),
                Ident::new(&name),
            ));
            table.statistics = Some(TableStatistics {
                row_count: get(&mut row, 4, context)?,
                size_bytes: get(&mut row, 5, context)?,
                // InnoDB keeps off-page (LOB) columns in the table's own pages:
                // information_schema has no separate figure, so it stays unknown.
                lob_bytes: None,
            });
            if let Some(next) = get::<i64>(&mut row, 6, context)? {
                auto_increment.insert(catalog.tables.len(), next);
            }
            table.comment = get::<String>(&mut row, 7, context)?.filter(|c| !c.is_empty());
            let object = format!("{schema}.{name}");
            if let Some(engine) = engine.filter(|e| !transactional(e)) {
                catalog.findings.push(Finding::new(
                    Severity::Warning,
                    "snapshot.not-transactional",
                    object.clone(),
                    format!("the table uses the {engine} engine, which has no transactions: the load's consistent snapshot does not cover it, so rows written during the load may or may not be read"),
                    "Stop writes to the table during the load, or convert it to InnoDB (ALTER TABLE ... ENGINE=InnoDB).",
                ));
            }
            if kind == "SYSTEM VERSIONED" {
                catalog.findings.push(Finding::new(
                    Severity::Info,
                    "table.system-versioned",
                    object,
                    "the table is system-versioned: its current rows are read, its history is not",
                    "Copy the history separately (SELECT ... FOR SYSTEM_TIME ALL) if it is needed.",
                ));
            }
            position.insert((schema, name), catalog.tables.len());
            catalog.tables.push(table);
        }

        let context = "reading CHECK constraints";
        let checks_sql = if self.flavor.is_mariadb() {
            Some(MARIADB_CHECKS)
        } else {
            let has: Option<i64> = conn
                .query_first(HAS_CHECKS)
                .await
                .map_err(SourceError::query(context))?;
            (has.unwrap_or(0) > 0).then_some(MYSQL_CHECKS)
        };
        let mut json_columns = HashSet::new();
        let mut checks = Vec::new();
        if let Some(checks_sql) = checks_sql {
            let (schema_column, table_column) = if self.flavor.is_mariadb() {
                ("CONSTRAINT_SCHEMA", "TABLE_NAME")
            } else {
                ("c.CONSTRAINT_SCHEMA", "t.TABLE_NAME")
            };
            let (sql, params) = query(checks_sql, schema_column, table_column);
            let rows: Vec<Row> = conn
                .exec(sql, params)
                .await
                .map_err(SourceError::query(context))?;
            for mut row in rows {
                let schema: String = get(&mut row, 0, context)?.unwrap_or_default();
                let table: String = get(&mut row, 1, context)?.unwrap_or_default();
                let name: String = get(&mut row, 2, context)?.unwrap_or_default();
                let clause: String = get(&mut row, 3, context)?.unwrap_or_default();
                let column_level = get::<i64>(&mut row, 4, context)? == Some(1);
                let enforced = get::<i64>(&mut row, 5, context)? == Some(1);
                if column_level && clause == format!("json_valid({})", crate::quote_ident(&name)) {
                    json_columns.insert((schema, table, name));
                    continue;
                }
                let Some(&index) = position.get(&(schema, table)) else {
                    continue;
                };
                checks.push((
                    index,
                    Constraint {
                        name: (!column_level).then(|| Ident::new(&name)),
                        kind: ConstraintKind::Check(clause),
                        state: ConstraintState {
                            enabled: enforced,
                            validated: enforced,
                            ..ConstraintState::default()
                        },
                        index: Default::default(),
                    },
                ));
            }
        }

        let context = "reading columns";
        let (sql, params) = query(COLUMNS, "TABLE_SCHEMA", "TABLE_NAME");
        let rows: Vec<Row> = conn
            .exec(sql, params)
            .await
            .map_err(SourceError::query(context))?;
        let maps = TypeMaps::builtin().source(SourceDialect::Mysql);
        for mut row in rows {
            let schema: String = get(&mut row, 0, context)?.unwrap_or_default();
            let table_name: String = get(&mut row, 1, context)?.unwrap_or_default();
            let Some(&index) = position.get(&(schema.clone(), table_name.clone())) else {
                continue;
            };
            let name: String = get(&mut row, 2, context)?.unwrap_or_default();
            let column_type: String = get(&mut row, 3, context)?.unwrap_or_default();
            let nullable = get::<String>(&mut row, 4, context)?.as_deref() != Some("NO");
            let default: Option<String> = get(&mut row, 5, context)?;
            let extra: String = get(&mut row, 6, context)?.unwrap_or_default();
            let generated: Option<String> = get(&mut row, 7, context)?;
            let comment: Option<String> = get(&mut row, 8, context)?;
            let collation: Option<String> = get(&mut row, 9, context)?;
            let object = format!("{schema}.{table_name}.{name}");
            let is_json = json_columns.contains(&(schema, table_name, name.clone()));
            let type_text = if is_json {
                "json"
            } else {
                column_type.as_str()
            };
            let data_type = maps.column_type(
                parse_type_text(SourceDialect::Mysql, type_text)
                    .ok()
                    .as_ref(),
                &column_type,
                &object,
                &mut catalog.findings,
            );
            let extra_lower = extra.to_ascii_lowercase();
            let mut column = Column::new(Ident::new(&name), column_type, data_type);
            column.nullable = nullable;
            column.default = column_default(self.flavor, default, &extra_lower);
            if extra_lower.contains("auto_increment") {
                column.identity = Some(Identity {
                    start: auto_increment.get(&index).copied().unwrap_or(1),
                    ..Identity::default()
                });
            }
            column.generated = generated.filter(|g| !g.is_empty());
            column.on_update = on_update(&extra);
            column.comment = comment.filter(|c| !c.is_empty());
            column.collation = collation;
            catalog.tables[index].columns.push(column);
        }

        let context = "reading constraints";
        // `{referential}` comes first in the statement, and so do its parameters.
        let (referential, mut params) = query("{schemas}", "CONSTRAINT_SCHEMA", "TABLE_NAME");
        let (sql, constraints) = query(CONSTRAINTS, "k.TABLE_SCHEMA", "k.TABLE_NAME");
        let sql = sql.replace("{referential}", &referential);
        params.extend(constraints);
        let rows: Vec<Row> = conn
            .exec(sql, params)
            .await
            .map_err(SourceError::query(context))?;
        // Rows come ordered by constraint, then column position: consecutive rows of the same
        // constraint are gathered into one.
        let mut current: Option<(usize, String, Constraint)> = None;
        for mut row in rows {
            let schema: String = get(&mut row, 0, context)?.unwrap_or_default();
            let table: String = get(&mut row, 1, context)?.unwrap_or_default();
            let Some(&index) = position.get(&(schema, table)) else {
                continue;
            };
            let name: String = get(&mut row, 2, context)?.unwrap_or_default();
            let kind: String = get(&mut row, 3, context)?.unwrap_or_default();
            let column = Ident::new(get::<String>(&mut row, 4, context)?.unwrap_or_default());
            let referenced_schema: Option<String> = get(&mut row, 5, context)?;
            let referenced_table: Option<String> = get(&mut row, 6, context)?;
            let referenced_column: Option<String> = get(&mut row, 7, context)?;
            let delete_rule: Option<String> = get(&mut row, 8, context)?;
            let update_rule: Option<String> = get(&mut row, 9, context)?;
            let rules_read = get::<i64>(&mut row, 10, context)? == Some(1);
            if let Some((i, n, constraint)) = &mut current {
                let same_kind = matches!(
                    (&constraint.kind, kind.as_str()),
                    (ConstraintKind::PrimaryKey(_), "PRIMARY KEY")
                        | (ConstraintKind::Unique(_), "UNIQUE")
                        | (ConstraintKind::ForeignKey(_), "FOREIGN KEY")
                );
                if *i == index && *n == name && same_kind {
                    match &mut constraint.kind {
                        ConstraintKind::PrimaryKey(c) | ConstraintKind::Unique(c) => c.push(column),
                        ConstraintKind::ForeignKey(fk) => {
                            fk.columns.push(column);
                            fk.referenced_columns
                                .extend(referenced_column.map(Ident::new));
                        }
                        ConstraintKind::Check(_) => {}
                    }
                    continue;
                }
            }
            if let Some((i, _, constraint)) = current.take() {
                catalog.tables[i].constraints.push(constraint);
            }
            if kind == "FOREIGN KEY" && !rules_read {
                let table = &catalog.tables[index].name;
                catalog.findings.push(Finding::new(
                    Severity::Warning,
                    "foreign-key.rules-unread",
                    format!("{table}.{name}"),
                    "the foreign key's ON DELETE and ON UPDATE rules can't be read: MariaDB shows information_schema.REFERENTIAL_CONSTRAINTS only to a user with a privilege besides SELECT on the table; the key is converted without its rules",
                    "Grant the user SHOW VIEW on the database (read only: GRANT SHOW VIEW ON db.* TO user) and run again.",
                ));
            }
            let kind = match kind.as_str() {
                "PRIMARY KEY" => ConstraintKind::PrimaryKey(vec![column]),
                "UNIQUE" => ConstraintKind::Unique(vec![column]),
                _ => ConstraintKind::ForeignKey(ForeignKey {
                    columns: vec![column],
                    referenced_table: QualifiedName::new(
                        referenced_schema.map(Ident::new),
                        Ident::new(referenced_table.unwrap_or_default()),
                    ),
                    referenced_columns: referenced_column.map(Ident::new).into_iter().collect(),
                    on_delete: delete_rule.and_then(acting_rule),
                    on_update: update_rule.and_then(acting_rule),
                    match_full: false,
                }),
            };
            let constraint = Constraint {
                // Every MySQL primary key is named PRIMARY: the name carries nothing.
                name: (!matches!(kind, ConstraintKind::PrimaryKey(_))).then(|| Ident::new(&name)),
                kind,
                state: ConstraintState::default(),
                index: Default::default(),
            };
            current = Some((index, name, constraint));
        }
        if let Some((i, _, constraint)) = current {
            catalog.tables[i].constraints.push(constraint);
        }
        for (i, check) in checks {
            catalog.tables[i].constraints.push(check);
        }
        Ok(catalog)
    }
}

/// Engines whose tables a `START TRANSACTION WITH CONSISTENT SNAPSHOT` covers.
fn transactional(engine: &str) -> bool {
    ["innodb", "rocksdb", "tokudb"].contains(&engine.to_ascii_lowercase().as_str())
}

/// `COLUMN_DEFAULT` as an expression in MySQL syntax. MariaDB (10.2.7+) already gives one
/// (`'text'`, `0`, `current_timestamp()`, and `NULL` for an explicit NULL default); MySQL gives
/// literal values bare and flags expressions with `DEFAULT_GENERATED` in EXTRA.
fn column_default(flavor: Flavor, default: Option<String>, extra: &str) -> Option<ColumnDefault> {
    let default = default?;
    let expression = match flavor {
        Flavor::MariaDb(..) if default.eq_ignore_ascii_case("NULL") => return None,
        Flavor::MariaDb(..) => default,
        Flavor::Mysql(..) if extra.contains("default_generated") => default,
        Flavor::Mysql(..) if is_current_timestamp(&default) => default,
        Flavor::Mysql(..) => crate::sql::quote_literal(&default),
    };
    Some(ColumnDefault::Expression(expression))
}

/// The value MariaDB and MySQL give a NOT NULL column without a DEFAULT in a row that has none
/// of its own, such as each row a table has when the column is added: its type's implicit
/// default, as a default expression in MySQL syntax (`0`, `''`, an ENUM's first label,
/// `'00:00:00'`). An error says what that value is where the target column can't be given it
/// as its default: a zero date, the empty text of a JSON column, the empty value of a geometry,
/// the zero bytes of a BINARY(n) (which the converter writes no PostgreSQL default for).
pub(crate) fn implicit_default(column: &Column) -> Result<String, Unholdable> {
    let unholdable = |what: &str| Unholdable {
        what: what.into(),
        literal: None,
    };
    if column.data_type == LogicalType::Json {
        return Err(unholdable("the empty text, which is not a JSON value"));
    }
    let base = crate::read::base_type(&column.source_type);
    Ok(match base.as_str() {
        "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint" | "decimal"
        | "numeric" | "float" | "double" | "bit" | "year" => "0".into(),
        "char" | "varchar" | "tinytext" | "text" | "mediumtext" | "longtext" | "set"
        | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob" => "''".into(),
        "time" => "'00:00:00'".into(),
        "enum" => {
            let first = parse_type_text(SourceDialect::Mysql, &column.source_type)
                .ok()
                .and_then(|ty| ty.labels.into_iter().next());
            match first {
                Some(label) => crate::sql::quote_literal(&label),
                None => {
                    return Err(unholdable(&format!(
                        "the first label of {}",
                        column.source_type
                    )))
                }
            }
        }
        "date" => {
            return Err(Unholdable {
                what: "the zero date 0000-00-00, which no target date can hold".into(),
                literal: Some("'0000-00-00'"),
            })
        }
        "datetime" | "timestamp" => {
            return Err(Unholdable {
                what: "the zero date 0000-00-00 00:00:00, which no target timestamp can hold"
                    .into(),
                literal: Some("'0000-00-00 00:00:00'"),
            })
        }
        "binary" => {
            return Err(unholdable(&format!(
                "{} zero bytes, which migrate can't give the target column as its default",
                crate::read::type_argument(&column.source_type).unwrap_or(1)
            )))
        }
        "geometry" | "point" | "linestring" | "polygon" | "multipoint" | "multilinestring"
        | "multipolygon" | "geometrycollection" => {
            return Err(unholdable("an empty value, which is no geometry"))
        }
        other => {
            return Err(unholdable(&format!(
                "the implicit value of type {other}, which migrate does not know"
            )))
        }
    })
}

/// A column's implicit value that the target column can't be given as its default.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Unholdable {
    /// What the value is, and why the target can't hold it.
    pub what: String,
    /// The value as a MySQL literal, where a row holding it can be told by `=` (the zero dates).
    pub literal: Option<&'static str>,
}

fn is_current_timestamp(text: &str) -> bool {
    text.to_ascii_lowercase().starts_with("current_timestamp")
}

/// `on update current_timestamp(6)` from EXTRA.
fn on_update(extra: &str) -> Option<String> {
    let lower = extra.to_ascii_lowercase();
    let start = lower.find("on update ")? + "on update ".len();
    let rest = &extra[start..];
    let end = rest.find(' ').unwrap_or(rest.len());
    Some(rest[..end].to_string())
}

/// A foreign key's `DELETE_RULE` or `UPDATE_RULE` when it acts on the referencing rows; `None`
/// for `NO ACTION` and `RESTRICT`, which InnoDB both checks at once.
fn acting_rule(rule: String) -> Option<String> {
    (rule != "NO ACTION" && rule != "RESTRICT").then_some(rule)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_filters_always_leave_out_the_system() {
        let (sql, params) = schema_filter("TABLE_SCHEMA", Some(&["a".into(), "b".into()]));
        assert!(sql.starts_with("TABLE_SCHEMA IN (?, ?) AND TABLE_SCHEMA NOT IN ('mysql'"));
        assert_eq!(params.len(), 2);
        let (sql, params) = schema_filter("TABLE_SCHEMA", None);
        assert!(sql.starts_with("TABLE_SCHEMA NOT IN ('mysql', 'information_schema'"));
        assert!(params.is_empty());
    }

    #[test]
    fn defaults_and_on_update() {
        let default =
            |flavor, text: &str, extra| match column_default(flavor, Some(text.into()), extra) {
                Some(ColumnDefault::Expression(e)) => Some(e),
                _ => None,
            };
        assert_eq!(
            default(Flavor::MariaDb(10, 11), "'it''s'", ""),
            Some("'it''s'".into())
        );
        assert_eq!(default(Flavor::MariaDb(10, 11), "NULL", ""), None);
        assert_eq!(
            default(Flavor::Mysql(8, 0), "it's", ""),
            Some("'it''s'".into())
        );
        assert_eq!(
            default(
                Flavor::Mysql(8, 0),
                "CURRENT_TIMESTAMP",
                "default_generated"
            ),
            Some("CURRENT_TIMESTAMP".into())
        );
        assert_eq!(
            on_update("DEFAULT_GENERATED on update CURRENT_TIMESTAMP(6)"),
            Some("CURRENT_TIMESTAMP(6)".into())
        );
        assert_eq!(on_update("auto_increment"), None);
    }

    #[test]
    fn implicit_defaults_of_not_null_columns() {
        let implicit = |source_type: &str, data_type| {
            implicit_default(&Column::new(Ident::new("c"), source_type, data_type))
        };
        assert_eq!(implicit("int(11)", LogicalType::Integer), Ok("0".into()));
        assert_eq!(implicit("bit(1)", LogicalType::Boolean), Ok("0".into()));
        assert_eq!(implicit("varchar(5)", LogicalType::Text), Ok("''".into()));
        assert_eq!(
            implicit("enum('it''s','b')", LogicalType::Text),
            Ok("'it''s'".into())
        );
        assert_eq!(implicit("time", LogicalType::Text), Ok("'00:00:00'".into()));
        let refused =
            |source_type: &str, data_type| implicit(source_type, data_type).expect_err(source_type);
        let date = refused("date", LogicalType::Date);
        assert!(date.what.contains("zero date 0000-00-00"));
        assert_eq!(date.literal, Some("'0000-00-00'"));
        assert!(refused("longtext", LogicalType::Json)
            .what
            .contains("not a JSON value"));
        assert!(refused("binary(3)", LogicalType::Blob)
            .what
            .starts_with("3 zero bytes"));
        assert!(refused("point", LogicalType::Blob)
            .what
            .contains("no geometry"));
    }
}
