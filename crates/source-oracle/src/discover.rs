//! Discovery without I/O: rows of Oracle's dictionary views (as [`crate::sql`] selects them)
//! into a [`Catalog`], with canonical types from the converter's Oracle type map
//! (`dialect-maps/oracle.toml`), so that `migrate convert`, `migrate assess` and the replication
//! agree on every column.
//!
//! Three steps, as for the other sources: [`build_catalog`] (tables, columns with statistics,
//! keys and checks: what replication needs), [`add_sizes`] (`DBA_SEGMENTS`: table and LOB
//! bytes) and [`add_objects`] (indexes, views, materialized views, sequences, synonyms,
//! procedural code, database links, partitions: what `migrate assess` inventories).

use crate::events::watched;
use crate::sql::WatchedTable;
use migrate_core::{
    Catalog, Column, ColumnDefault, ColumnStatistics, Constraint, ConstraintKind, ConstraintState,
    Finding, ForeignKey, Ident, Identity, Index, IndexKind, Partition, PartitionMethod,
    Partitioning, QualifiedName, Routine, RoutineKind, Sequence, Severity, SourceDialect, Synonym,
    Table, TableKind, TableStatistics, View,
};
use migrate_dialect::{parse_type_text, TypeMaps};
use std::collections::HashMap;

/// A row of [`crate::sql::tables_query`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TableRow {
    pub owner: String,
    pub name: String,
    /// `NUM_ROWS`: the optimizer's estimate, null until statistics are gathered.
    pub num_rows: Option<u64>,
    /// A global temporary table (`TEMPORARY = 'Y'`): its rows belong to sessions, none is
    /// migrated.
    pub temporary: bool,
    /// An index-organized table (`IOT_TYPE = 'IOT'`).
    pub index_organized: bool,
    /// An external table (`ALL_EXTERNAL_TABLES`): its rows are files outside the database.
    pub external: bool,
}

/// A row of [`crate::sql::sizes_query`]: the bytes of a table's segments.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SizeRow {
    pub owner: String,
    pub table: String,
    /// Table, index and LOB segments.
    pub bytes: Option<u64>,
    /// LOB segments and LOB indexes (part of `bytes`).
    pub lob_bytes: Option<u64>,
}

/// A row of [`crate::sql::columns_query`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ColumnRow {
    pub owner: String,
    pub table: String,
    pub name: String,
    /// `DATA_TYPE`: `NUMBER`, `VARCHAR2`, `TIMESTAMP(6) WITH TIME ZONE`...
    pub data_type: String,
    pub data_length: Option<i64>,
    pub data_precision: Option<i64>,
    pub data_scale: Option<i64>,
    pub char_length: Option<i64>,
    /// `B` (bytes) or `C` (characters) for character types.
    pub char_used: Option<String>,
    pub nullable: bool,
    pub default: Option<String>,
    pub is_virtual: bool,
    pub is_identity: bool,
    /// `NUM_DISTINCT` and `NUM_NULLS`: the optimizer's statistics, null until gathered.
    pub num_distinct: Option<u64>,
    pub num_nulls: Option<u64>,
}

/// A row of [`crate::sql::constraints_query`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConstraintRow {
    pub owner: String,
    pub table: String,
    pub name: String,
    /// `P`, `U`, `R` or `C`.
    pub kind: String,
    /// Empty for a check constraint that names no column.
    pub column: String,
    pub r_owner: Option<String>,
    pub r_table: Option<String>,
    pub r_column: Option<String>,
    pub delete_rule: Option<String>,
    /// `ENABLED` / `DISABLED`.
    pub status: Option<String>,
    /// `VALIDATED` / `NOT VALIDATED`.
    pub validated: Option<String>,
    /// `RELY` or null.
    pub rely: Option<String>,
    /// `SEARCH_CONDITION_VC` of a check constraint.
    pub search_condition: Option<String>,
}

/// An Oracle name as stored: upper-case names were written unquoted; any other was quoted.
pub fn oracle_ident(name: &str) -> Ident {
    let plain = name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || matches!(c, '_' | '$' | '#'));
    if plain {
        Ident::new(name)
    } else {
        Ident::quoted(name)
    }
}

/// The type as DDL would write it, from the catalog's columns: the text the type map reads.
pub fn type_text(column: &ColumnRow) -> String {
    let ty = column.data_type.trim();
    let n = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    match ty {
        "NUMBER" => match (column.data_precision, column.data_scale) {
            (None, None) => "NUMBER".into(),
            (None, Some(s)) => format!("NUMBER(*,{s})"),
            (Some(p), s) => format!("NUMBER({p},{})", s.unwrap_or(0)),
        },
        "FLOAT" => match column.data_precision {
            Some(p) => format!("FLOAT({p})"),
            None => "FLOAT".into(),
        },
        "VARCHAR2" | "CHAR" | "VARCHAR" => {
            if column.char_used.as_deref() == Some("C") {
                format!("{ty}({} CHAR)", n(column.char_length))
            } else {
                format!("{ty}({} BYTE)", n(column.data_length))
            }
        }
        "NVARCHAR2" | "NCHAR" => format!("{ty}({})", n(column.char_length)),
        "RAW" | "UROWID" => format!("{ty}({})", n(column.data_length)),
        _ => ty.to_string(),
    }
}

/// The catalog of the rows read. Tables keep the order of `tables`; columns and constraints of
/// tables not listed are ignored. Column statistics: `NUM_DISTINCT`, and `NUM_NULLS /
/// NUM_ROWS` as the null fraction. Check constraints that only say `"COL" IS NOT NULL` are
/// the column's NOT NULL, not constraints of their own.
///
/// Findings: the type map's notes; `type.read-as-text` for a type the map does not know (read as
/// text); `column.virtual-skipped` for virtual columns, which have no redo and are left out.
pub fn build_catalog(
    tables: Vec<TableRow>,
    columns: Vec<ColumnRow>,
    constraints: Vec<ConstraintRow>,
) -> Catalog {
    let mut catalog = Catalog::default();
    let mut position: HashMap<(String, String), usize> = HashMap::new();
    for row in tables {
        let mut table = Table::new(QualifiedName::new(
            Some(oracle_ident(&row.owner)),
            oracle_ident(&row.name),
        ));
        table.kind = if row.temporary {
            TableKind::GlobalTemporary
        } else if row.external {
            TableKind::External
        } else if row.index_organized {
            TableKind::IndexOrganized
        } else {
            TableKind::Regular
        };
        // Sizes come from DBA_SEGMENTS ([`add_sizes`]).
        table.statistics = Some(TableStatistics {
            row_count: row.num_rows,
            ..TableStatistics::default()
        });
        position.insert((row.owner, row.name), catalog.tables.len());
        catalog.tables.push(table);
    }
    let maps = TypeMaps::builtin().source(SourceDialect::Oracle);
    for row in columns {
        let Some(&index) = position.get(&(row.owner.clone(), row.table.clone())) else {
            continue;
        };
        let object = format!("{}.{}.{}", row.owner, row.table, row.name);
        if row.is_virtual {
            catalog.findings.push(Finding::new(
                Severity::Warning,
                "column.virtual-skipped",
                object,
                "a virtual column has no stored value (and no redo for change capture); it is not replicated",
                "Define the column in the target as a generated column, or compute it in a view.",
            ));
            continue;
        }
        let text = type_text(&row);
        let data_type = maps.column_type(
            parse_type_text(SourceDialect::Oracle, &text).ok().as_ref(),
            &text,
            &object,
            &mut catalog.findings,
        );
        let mut column = Column::new(oracle_ident(&row.name), text, data_type);
        column.nullable = row.nullable;
        if row.num_distinct.is_some() || row.num_nulls.is_some() {
            let rows = catalog.tables[index]
                .statistics
                .as_ref()
                .and_then(|s| s.row_count);
            column.statistics = Some(ColumnStatistics {
                distinct_count: row.num_distinct,
                null_fraction: match (row.num_nulls, rows) {
                    (Some(nulls), Some(rows)) if rows > 0 => Some(nulls as f64 / rows as f64),
                    _ => None,
                },
            });
        }
        column.default = row
            .default
            .map(|d| d.trim().to_string())
            .filter(|d| !d.is_empty() && !d.eq_ignore_ascii_case("NULL"))
            .map(ColumnDefault::Expression);
        if row.is_identity {
            // The sequence behind an identity column is not read: the target's identity starts
            // after the loaded values (the warehouse resets it).
            column.identity = Some(Identity::default());
            column.default = None;
        }
        catalog.tables[index].columns.push(column);
    }
    // Rows come ordered by table, constraint, then position: consecutive rows of one constraint
    // are gathered.
    let mut current: Option<(usize, String, Constraint)> = None;
    for row in constraints {
        let Some(&index) = position.get(&(row.owner.clone(), row.table.clone())) else {
            continue;
        };
        if row.kind == "C" && is_not_null_check(&row) {
            continue;
        }
        let column = oracle_ident(&row.column);
        if let Some((i, name, constraint)) = &mut current {
            if *i == index && *name == row.name {
                match &mut constraint.kind {
                    ConstraintKind::PrimaryKey(c) | ConstraintKind::Unique(c) => c.push(column),
                    ConstraintKind::ForeignKey(fk) => {
                        fk.columns.push(column);
                        fk.referenced_columns
                            .extend(row.r_column.as_deref().map(oracle_ident));
                    }
                    ConstraintKind::Check(_) => {}
                }
                continue;
            }
        }
        if let Some((i, _, constraint)) = current.take() {
            catalog.tables[i].constraints.push(constraint);
        }
        let kind = match row.kind.as_str() {
            "P" => ConstraintKind::PrimaryKey(vec![column]),
            "U" => ConstraintKind::Unique(vec![column]),
            "C" => ConstraintKind::Check(row.search_condition.clone().unwrap_or_default()),
            _ => ConstraintKind::ForeignKey(ForeignKey {
                columns: vec![column],
                referenced_table: QualifiedName::new(
                    row.r_owner.as_deref().map(oracle_ident),
                    oracle_ident(row.r_table.as_deref().unwrap_or_default()),
                ),
                referenced_columns: row
                    .r_column
                    .as_deref()
                    .map(oracle_ident)
                    .into_iter()
                    .collect(),
                on_delete: row.delete_rule.clone().filter(|r| r != "NO ACTION"),
                // Oracle has neither ON UPDATE nor MATCH.
                on_update: None,
                match_full: false,
            }),
        };
        let constraint = Constraint {
            name: Some(oracle_ident(&row.name)),
            kind,
            state: ConstraintState {
                enabled: row.status.as_deref() != Some("DISABLED"),
                validated: row.validated.as_deref() != Some("NOT VALIDATED"),
                rely: row.rely.as_deref() == Some("RELY"),
                ..ConstraintState::default()
            },
            index: Default::default(),
        };
        current = Some((index, row.name, constraint));
    }
    if let Some((i, _, constraint)) = current {
        catalog.tables[i].constraints.push(constraint);
    }
    catalog
}

/// Oracle keeps NOT NULL as a check constraint `"COL" IS NOT NULL` (the column's `NULLABLE`
/// already says it).
fn is_not_null_check(row: &ConstraintRow) -> bool {
    row.search_condition.as_deref().is_some_and(|c| {
        c.trim() == format!("{} IS NOT NULL", crate::sql::quote_ident(&row.column))
    })
}

/// Sets each table's size and LOB size from `sizes` (the rows of
/// [`crate::sql::sizes_query`]). A table without a row has no segment: 0 bytes. `None` means
/// `DBA_SEGMENTS` could not be read: sizes stay unknown (never 0) and a finding
/// `discover.sizes-unavailable` says which privilege shows them.
pub fn add_sizes(catalog: &mut Catalog, sizes: Option<Vec<SizeRow>>, user: &str) {
    let Some(sizes) = sizes else {
        catalog.findings.push(Finding::new(
            Severity::Info,
            "discover.sizes-unavailable",
            format!("user {user}"),
            "DBA_SEGMENTS is not readable: table and LOB sizes are unknown",
            format!("GRANT SELECT_CATALOG_ROLE TO {user} (or GRANT SELECT ON SYS.DBA_SEGMENTS TO {user}) and assess again"),
        ));
        return;
    };
    let by_table: HashMap<(String, String), SizeRow> = sizes
        .into_iter()
        .map(|row| ((row.owner.clone(), row.table.clone()), row))
        .collect();
    for table in &mut catalog.tables {
        let WatchedTable { owner, table: name } = watched(table);
        let row = by_table.get(&(owner, name));
        let statistics = table
            .statistics
            .get_or_insert_with(TableStatistics::default);
        statistics.size_bytes = Some(row.and_then(|r| r.bytes).unwrap_or(0));
        statistics.lob_bytes = Some(row.and_then(|r| r.lob_bytes).unwrap_or(0));
    }
}

/// A row of [`crate::sql::indexes_query`]: one column of an index.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IndexRow {
    pub owner: String,
    pub name: String,
    pub table_owner: String,
    pub table: String,
    pub unique: bool,
    /// `NORMAL`, `BITMAP`, `FUNCTION-BASED NORMAL`, `DOMAIN`...
    pub index_type: String,
    /// The indextype of a domain index (`CONTEXT`, `SPATIAL_INDEX`...).
    pub indextype: Option<String>,
    pub column: String,
    /// The expression of a function-based index's column (`UPPER("NAME")`).
    pub expression: Option<String>,
}

/// A row of [`crate::sql::views_query`] or [`crate::sql::mviews_query`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ViewRow {
    pub owner: String,
    pub name: String,
    pub text: String,
    pub materialized: bool,
}

/// A row of [`crate::sql::sequences_query`]; numbers as Oracle prints them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SequenceRow {
    pub owner: String,
    pub name: String,
    pub min_value: Option<String>,
    pub max_value: Option<String>,
    pub increment: Option<String>,
    pub cycle: bool,
    /// `LAST_NUMBER`: at least the next value (cached values included).
    pub last_number: Option<String>,
}

/// A row of [`crate::sql::synonyms_query`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SynonymRow {
    pub owner: String,
    pub name: String,
    pub table_owner: Option<String>,
    pub table: String,
}

/// A row of [`crate::sql::source_query`]: one line of procedural code.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SourceRow {
    pub owner: String,
    pub name: String,
    /// `PROCEDURE`, `FUNCTION`, `PACKAGE`, `PACKAGE BODY`, `TRIGGER`, `TYPE`, `TYPE BODY`.
    pub kind: String,
    pub text: String,
}

/// A row of [`crate::sql::db_links_query`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DbLinkRow {
    pub owner: String,
    pub name: String,
    pub host: Option<String>,
}

/// A row of [`crate::sql::partitions_query`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PartitionRow {
    pub owner: String,
    pub table: String,
    pub name: String,
    /// `HIGH_VALUE`: the bound as DDL writes it (`TO_DATE(' 2024-01-01 ...')`, `'A', 'B'`).
    pub high_value: Option<String>,
    /// `RANGE`, `LIST`, `HASH`, `REFERENCE`, `SYSTEM`, `AUTO LIST`...
    pub method: String,
    /// The interval of interval partitioning (`NUMTOYMINTERVAL(1,'MONTH')`).
    pub interval: Option<String>,
}

/// A row of [`crate::sql::partition_keys_query`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PartitionKeyRow {
    pub owner: String,
    pub table: String,
    pub column: String,
}

/// The rows of everything besides tables, for [`add_objects`].
#[derive(Debug, Clone, Default)]
pub struct ObjectRows {
    pub indexes: Vec<IndexRow>,
    pub views: Vec<ViewRow>,
    pub sequences: Vec<SequenceRow>,
    pub synonyms: Vec<SynonymRow>,
    pub sources: Vec<SourceRow>,
    pub db_links: Vec<DbLinkRow>,
    pub partitions: Vec<PartitionRow>,
    pub partition_keys: Vec<PartitionKeyRow>,
}

fn qualified(owner: &str, name: &str) -> QualifiedName {
    QualifiedName::new(Some(oracle_ident(owner)), oracle_ident(name))
}

/// Adds to `catalog` (as [`build_catalog`] returned it) the objects of `rows`: indexes (rows of
/// one index are adjacent, in column order), views and materialized views, sequences, synonyms,
/// procedural code (lines of one object are adjacent, in order: joined into its text, which the
/// assessment scans for PL/SQL constructs), and the partitions of the catalog's tables. Each
/// database link becomes a finding `object.database-link`, as the DDL front end reports one.
pub fn add_objects(catalog: &mut Catalog, rows: ObjectRows) {
    for row in rows.indexes {
        let name = qualified(&row.owner, &row.name);
        let column = row.expression.unwrap_or(row.column);
        match catalog.indexes.last_mut() {
            Some(index) if index.name == name => index.columns.push(column),
            _ => {
                let domain = row.indextype.as_deref().unwrap_or_default();
                let kind = if row.index_type.contains("BITMAP") {
                    IndexKind::Bitmap
                } else if domain.eq_ignore_ascii_case("CONTEXT")
                    || domain.eq_ignore_ascii_case("CTXCAT")
                {
                    IndexKind::FullText
                } else if domain.to_ascii_uppercase().starts_with("SPATIAL") {
                    IndexKind::Spatial
                } else {
                    IndexKind::BTree
                };
                catalog.indexes.push(Index {
                    name,
                    table: qualified(&row.table_owner, &row.table),
                    columns: vec![column],
                    unique: row.unique,
                    kind,
                    method: (row.index_type != "NORMAL").then_some(row.index_type),
                    predicate: None,
                    location: None,
                    options: Default::default(),
                });
            }
        }
    }
    for row in rows.views {
        catalog.views.push(View {
            name: qualified(&row.owner, &row.name),
            columns: Vec::new(),
            query: row.text,
            materialized: row.materialized,
            options: Default::default(),
            location: None,
        });
    }
    let number =
        |text: &Option<String>| text.as_deref().and_then(|t| t.trim().parse::<i128>().ok());
    for row in rows.sequences {
        catalog.sequences.push(Sequence {
            name: qualified(&row.owner, &row.name),
            start: number(&row.last_number)
                .and_then(|n| i64::try_from(n).ok())
                .unwrap_or(1),
            increment: number(&row.increment)
                .and_then(|n| i64::try_from(n).ok())
                .unwrap_or(1),
            min_value: number(&row.min_value),
            max_value: number(&row.max_value),
            cycle: row.cycle,
            location: None,
        });
    }
    for row in rows.synonyms {
        catalog.synonyms.push(Synonym {
            public: row.owner == "PUBLIC",
            name: qualified(&row.owner, &row.name),
            target: QualifiedName::new(
                row.table_owner.as_deref().map(oracle_ident),
                oracle_ident(&row.table),
            ),
            location: None,
        });
    }
    let mut current: Option<(String, String, String, String)> = None;
    let mut routines = Vec::new();
    for row in rows.sources {
        match &mut current {
            Some((owner, name, kind, text))
                if *owner == row.owner && *name == row.name && *kind == row.kind =>
            {
                text.push_str(&row.text)
            }
            _ => {
                routines.extend(current.take());
                current = Some((row.owner, row.name, row.kind, row.text));
            }
        }
    }
    routines.extend(current);
    for (owner, name, kind, text) in routines {
        let kind = match kind.as_str() {
            "PROCEDURE" => RoutineKind::Procedure,
            "FUNCTION" => RoutineKind::Function,
            "PACKAGE" => RoutineKind::Package,
            "PACKAGE BODY" => RoutineKind::PackageBody,
            "TRIGGER" => RoutineKind::Trigger,
            "TYPE" => RoutineKind::Type,
            "TYPE BODY" => RoutineKind::TypeBody,
            _ => continue,
        };
        catalog.routines.push(Routine {
            name: Some(qualified(&owner, &name)),
            kind,
            text,
            location: None,
        });
    }
    for row in rows.db_links {
        catalog.findings.push(Finding::new(
            Severity::Action,
            "object.database-link",
            format!("database link {}", row.name),
            format!(
                "database link of {} to {}: database links have no equivalent in the target",
                row.owner,
                row.host.as_deref().unwrap_or("(no host)")
            ),
            "use Redshift federated queries or an external schema to reach the remote database",
        ));
    }
    let position: HashMap<(String, String), usize> = catalog
        .tables
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let WatchedTable { owner, table } = watched(t);
            ((owner, table), i)
        })
        .collect();
    let mut keys: HashMap<(String, String), Vec<Ident>> = HashMap::new();
    for row in rows.partition_keys {
        keys.entry((row.owner, row.table))
            .or_default()
            .push(oracle_ident(&row.column));
    }
    for row in rows.partitions {
        let key = (row.owner, row.table);
        let Some(&index) = position.get(&key) else {
            continue;
        };
        let partitioning = catalog.tables[index]
            .partitioning
            .get_or_insert_with(|| Partitioning {
                method: match (row.method.as_str(), &row.interval) {
                    (_, Some(_)) => PartitionMethod::Interval,
                    ("HASH", _) => PartitionMethod::Hash,
                    ("REFERENCE", _) => PartitionMethod::Reference,
                    (m, _) if m.contains("LIST") => PartitionMethod::List,
                    // SYSTEM partitioning has no key (the application names the partition):
                    // rows spread without a key, as hash partitions do.
                    ("SYSTEM", _) => PartitionMethod::Hash,
                    _ => PartitionMethod::Range,
                },
                columns: keys.remove(&key).unwrap_or_default(),
                partitions: Vec::new(),
                interval: row.interval.clone(),
                subpartitioning: None,
            });
        partitioning.partitions.push(Partition {
            name: Some(row.name),
            bound: row.high_value.unwrap_or_default(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(table: &str, name: &str, data_type: &str) -> ColumnRow {
        ColumnRow {
            owner: "APP".into(),
            table: table.into(),
            name: name.into(),
            data_type: data_type.into(),
            nullable: true,
            ..ColumnRow::default()
        }
    }

    #[test]
    fn catalog_rows_become_type_text_the_type_map_reads() {
        let mut c = column("T", "A", "NUMBER");
        assert_eq!(type_text(&c), "NUMBER");
        c.data_scale = Some(0);
        assert_eq!(type_text(&c), "NUMBER(*,0)");
        c.data_precision = Some(10);
        c.data_scale = Some(-2);
        assert_eq!(type_text(&c), "NUMBER(10,-2)");
        let mut v = column("T", "B", "VARCHAR2");
        v.data_length = Some(400);
        v.char_length = Some(100);
        v.char_used = Some("C".into());
        assert_eq!(type_text(&v), "VARCHAR2(100 CHAR)");
        v.char_used = Some("B".into());
        assert_eq!(type_text(&v), "VARCHAR2(400 BYTE)");
        let mut r = column("T", "R", "RAW");
        r.data_length = Some(16);
        assert_eq!(type_text(&r), "RAW(16)");
        assert_eq!(
            type_text(&column("T", "X", "TIMESTAMP(6) WITH TIME ZONE")),
            "TIMESTAMP(6) WITH TIME ZONE"
        );
    }

    #[test]
    fn discovery_maps_types_through_the_converter_and_gathers_keys() {
        let tables = vec![
            TableRow {
                owner: "APP".into(),
                name: "ORDERS".into(),
                num_rows: Some(1234),
                ..TableRow::default()
            },
            TableRow {
                owner: "APP".into(),
                name: "Lines".into(),
                ..TableRow::default()
            },
        ];
        let mut id = column("ORDERS", "ID", "NUMBER");
        id.data_precision = Some(10);
        id.data_scale = Some(0);
        id.nullable = false;
        let mut amount = column("ORDERS", "AMOUNT", "NUMBER");
        amount.data_precision = Some(12);
        amount.data_scale = Some(2);
        let at = column("ORDERS", "AT", "DATE");
        let unbounded = column("ORDERS", "N", "NUMBER");
        let mut total = column("ORDERS", "TOTAL", "NUMBER");
        total.is_virtual = true;
        let odd = column("ORDERS", "G", "MY_OBJECT_TYPE");
        let mut line_id = column("Lines", "ORDER_ID", "NUMBER");
        line_id.data_precision = Some(10);
        line_id.data_scale = Some(0);
        let ignored = column("OTHER", "X", "DATE");
        let constraints = vec![
            ConstraintRow {
                owner: "APP".into(),
                table: "ORDERS".into(),
                name: "PK_ORDERS".into(),
                kind: "P".into(),
                column: "ID".into(),
                ..Default::default()
            },
            ConstraintRow {
                owner: "APP".into(),
                table: "ORDERS".into(),
                name: "PK_ORDERS".into(),
                kind: "P".into(),
                column: "AT".into(),
                ..Default::default()
            },
            ConstraintRow {
                owner: "APP".into(),
                table: "Lines".into(),
                name: "FK_L".into(),
                kind: "R".into(),
                column: "ORDER_ID".into(),
                r_owner: Some("APP".into()),
                r_table: Some("ORDERS".into()),
                r_column: Some("ID".into()),
                delete_rule: Some("CASCADE".into()),
                status: Some("ENABLED".into()),
                validated: Some("NOT VALIDATED".into()),
                rely: Some("RELY".into()),
                search_condition: None,
            },
        ];
        let catalog = build_catalog(
            tables,
            vec![id, amount, at, unbounded, total, odd, line_id, ignored],
            constraints,
        );
        assert_eq!(catalog.tables.len(), 2);
        let orders = &catalog.tables[0];
        assert_eq!(orders.name.to_string(), "APP.ORDERS");
        assert_eq!(orders.statistics.as_ref().unwrap().row_count, Some(1234));
        let types: Vec<String> = orders
            .columns
            .iter()
            .map(|c| format!("{}:{}", c.name.value, c.data_type))
            .collect();
        assert_eq!(
            types,
            [
                "ID:bigint",
                "AMOUNT:decimal(12,2)",
                "AT:timestamp(0)",
                "N:numeric",
                "G:text"
            ]
        );
        assert!(!orders.columns[0].nullable);
        assert_eq!(migrate_source::key_columns(orders), ["ID", "AT"]);
        let codes: Vec<&str> = catalog.findings.iter().map(|f| f.code.as_str()).collect();
        assert!(codes.contains(&"type.oracle-date"), "{codes:?}");
        assert!(codes.contains(&"column.virtual-skipped"), "{codes:?}");
        assert!(codes.contains(&"type.read-as-text"), "{codes:?}");
        let lines = &catalog.tables[1];
        assert!(lines.name.name.quoted, "mixed-case names were quoted");
        match &lines.constraints[0].kind {
            ConstraintKind::ForeignKey(fk) => {
                assert_eq!(fk.referenced_table.to_string(), "APP.ORDERS");
                assert_eq!(fk.on_delete.as_deref(), Some("CASCADE"));
            }
            other => panic!("{other:?}"),
        }
        assert!(!lines.constraints[0].state.validated && lines.constraints[0].state.rely);
    }
    fn s(text: &str) -> String {
        text.to_string()
    }

    fn hr_column(table: &str, name: &str, ty: &str) -> ColumnRow {
        ColumnRow {
            owner: s("HR"),
            ..column(table, name, ty)
        }
    }

    /// Rows shaped as Oracle's dictionary returns them for a small HR-like schema (moved from
    /// migrate-assess, where the assessment of these rows is tested too).
    fn hr_catalog() -> Catalog {
        let tables = vec![
            TableRow {
                owner: s("HR"),
                name: s("EMPLOYEES"),
                num_rows: Some(107),
                ..TableRow::default()
            },
            TableRow {
                owner: s("HR"),
                name: s("SESSION_TMP"),
                temporary: true,
                ..TableRow::default()
            },
        ];
        let mut id = hr_column("EMPLOYEES", "EMPLOYEE_ID", "NUMBER");
        (id.data_precision, id.data_scale, id.nullable) = (Some(6), Some(0), false);
        (id.num_distinct, id.num_nulls) = (Some(107), Some(0));
        let mut last_name = hr_column("EMPLOYEES", "LAST_NAME", "VARCHAR2");
        (last_name.data_length, last_name.char_length) = (Some(100), Some(25));
        (last_name.char_used, last_name.nullable) = (Some(s("C")), false);
        (last_name.num_distinct, last_name.num_nulls) = (Some(102), Some(0));
        let mut manager = hr_column("EMPLOYEES", "MANAGER_ID", "NUMBER");
        (manager.data_precision, manager.data_scale) = (Some(6), Some(0));
        (manager.num_distinct, manager.num_nulls) = (Some(18), Some(1));
        let resume = hr_column("EMPLOYEES", "RESUME", "CLOB");
        let k = hr_column("SESSION_TMP", "K", "NUMBER");
        let constraint = |name: &str, kind: &str, column: &str| ConstraintRow {
            owner: s("HR"),
            table: s("EMPLOYEES"),
            name: s(name),
            kind: s(kind),
            column: s(column),
            status: Some(s("ENABLED")),
            ..ConstraintRow::default()
        };
        let constraints = vec![
            constraint("EMP_ID_PK", "P", "EMPLOYEE_ID"),
            ConstraintRow {
                r_owner: Some(s("HR")),
                r_table: Some(s("EMPLOYEES")),
                r_column: Some(s("EMPLOYEE_ID")),
                ..constraint("EMP_MANAGER_FK", "R", "MANAGER_ID")
            },
            ConstraintRow {
                search_condition: Some(s("\"LAST_NAME\" IS NOT NULL")),
                ..constraint("SYS_C008", "C", "LAST_NAME")
            },
            ConstraintRow {
                search_condition: Some(s("manager_id <> employee_id")),
                ..constraint("EMP_NOT_SELF", "C", "MANAGER_ID")
            },
            ConstraintRow {
                search_condition: Some(s("manager_id <> employee_id")),
                ..constraint("EMP_NOT_SELF", "C", "EMPLOYEE_ID")
            },
        ];
        let mut catalog =
            build_catalog(tables, vec![id, last_name, manager, resume, k], constraints);
        add_sizes(
            &mut catalog,
            Some(vec![SizeRow {
                owner: s("HR"),
                table: s("EMPLOYEES"),
                bytes: Some(65536 + 196608),
                lob_bytes: Some(196608),
            }]),
            "HR",
        );
        let index = |column: &str| IndexRow {
            owner: s("HR"),
            name: s("EMP_NAME_IX"),
            table_owner: s("HR"),
            table: s("EMPLOYEES"),
            index_type: s("NORMAL"),
            column: s(column),
            ..IndexRow::default()
        };
        let line = |name: &str, kind: &str, text: &str| SourceRow {
            owner: s("HR"),
            name: s(name),
            kind: s(kind),
            text: s(text),
        };
        add_objects(
            &mut catalog,
            ObjectRows {
                indexes: vec![
                    index("LAST_NAME"),
                    index("EMPLOYEE_ID"),
                    IndexRow {
                        name: s("EMP_UPPER_IX"),
                        index_type: s("FUNCTION-BASED NORMAL"),
                        expression: Some(s("UPPER(\"LAST_NAME\")")),
                        ..index("SYS_NC00012$")
                    },
                ],
                views: vec![ViewRow {
                    owner: s("HR"),
                    name: s("EMP_V"),
                    text: s("SELECT employee_id FROM employees"),
                    materialized: false,
                }],
                sequences: vec![SequenceRow {
                    owner: s("HR"),
                    name: s("EMPLOYEES_SEQ"),
                    min_value: Some(s("1")),
                    max_value: Some(s("9999999999999999999999999999")),
                    increment: Some(s("1")),
                    cycle: false,
                    last_number: Some(s("207")),
                }],
                synonyms: vec![SynonymRow {
                    owner: s("PUBLIC"),
                    name: s("EMPS"),
                    table_owner: Some(s("HR")),
                    table: s("EMPLOYEES"),
                }],
                sources: vec![
                    line("LOG_IT", "PROCEDURE", "PROCEDURE log_it IS\n"),
                    line("LOG_IT", "PROCEDURE", "  PRAGMA AUTONOMOUS_TRANSACTION;\n"),
                    line(
                        "LOG_IT",
                        "PROCEDURE",
                        "BEGIN EXECUTE IMMEDIATE 'INSERT INTO log VALUES (1)'; COMMIT; END;\n",
                    ),
                    line("PKG", "PACKAGE", "PACKAGE pkg IS PROCEDURE p; END;\n"),
                ],
                db_links: vec![DbLinkRow {
                    owner: s("HR"),
                    name: s("REMOTE.EXAMPLE.COM"),
                    host: Some(s("remotedb")),
                }],
                partitions: Vec::new(),
                partition_keys: Vec::new(),
            },
        );
        catalog
    }

    #[test]
    fn dictionary_rows_become_a_catalog() {
        let catalog = hr_catalog();
        assert_eq!(catalog.tables.len(), 2);
        let employees = &catalog.tables[0];
        assert_eq!(employees.columns.len(), 4);
        assert_eq!(employees.columns[1].source_type, "VARCHAR2(25 CHAR)");
        assert_eq!(employees.columns[0].source_type, "NUMBER(6,0)");
        assert!(!employees.columns[0].nullable);
        assert_eq!(employees.primary_key().map(|k| k.len()), Some(1));
        assert_eq!(employees.foreign_keys().count(), 1);
        let stats = employees.columns[2].statistics.as_ref().unwrap();
        assert_eq!(stats.distinct_count, Some(18));
        assert!((stats.null_fraction.unwrap() - 1.0 / 107.0).abs() < 1e-9);
        assert!(
            employees.columns[3].statistics.is_none(),
            "no statistics gathered"
        );
        let sizes = employees.statistics.as_ref().unwrap();
        assert_eq!(sizes.size_bytes, Some(65536 + 196608));
        assert_eq!(sizes.lob_bytes, Some(196608));
        // A table without a segment holds 0 bytes (sizes were readable).
        let tmp = catalog.tables[1].statistics.as_ref().unwrap();
        assert_eq!((tmp.size_bytes, tmp.lob_bytes), (Some(0), Some(0)));
        assert_eq!(catalog.tables[1].kind, TableKind::GlobalTemporary);
        // The NOT NULL check is the column's nullability; the real check is one constraint.
        let checks: Vec<&ConstraintKind> = employees
            .constraints
            .iter()
            .map(|c| &c.kind)
            .filter(|k| matches!(k, ConstraintKind::Check(_)))
            .collect();
        assert_eq!(
            checks,
            [&ConstraintKind::Check(s("manager_id <> employee_id"))]
        );
        assert_eq!(catalog.indexes.len(), 2);
        assert_eq!(catalog.indexes[0].columns, vec!["LAST_NAME", "EMPLOYEE_ID"]);
        assert_eq!(catalog.indexes[1].columns, vec!["UPPER(\"LAST_NAME\")"]);
        assert_eq!(
            catalog.indexes[1].method.as_deref(),
            Some("FUNCTION-BASED NORMAL")
        );
        assert_eq!(catalog.sequences[0].start, 207);
        assert_eq!(
            catalog.sequences[0].max_value,
            Some(9_999_999_999_999_999_999_999_999_999)
        );
        assert!(catalog.synonyms[0].public);
        assert_eq!(catalog.routines.len(), 2);
        assert_eq!(catalog.routines[0].text.lines().count(), 3);
        assert_eq!(catalog.routines[1].kind, RoutineKind::Package);
        let link = catalog
            .findings
            .iter()
            .find(|f| f.code == "object.database-link")
            .unwrap();
        assert_eq!(link.object, "database link REMOTE.EXAMPLE.COM");
    }

    #[test]
    fn unreadable_segments_leave_sizes_unknown_and_say_why() {
        let mut catalog = build_catalog(
            vec![TableRow {
                owner: s("APP"),
                name: s("T"),
                num_rows: Some(5),
                ..TableRow::default()
            }],
            Vec::new(),
            Vec::new(),
        );
        add_sizes(&mut catalog, None, "APP");
        let stats = catalog.tables[0].statistics.as_ref().unwrap();
        assert_eq!(
            (stats.row_count, stats.size_bytes, stats.lob_bytes),
            (Some(5), None, None)
        );
        let finding = &catalog.findings[0];
        assert_eq!(finding.code, "discover.sizes-unavailable");
        assert!(
            finding.action.contains("SELECT_CATALOG_ROLE"),
            "{finding:?}"
        );
    }

    #[test]
    fn partitions_gather_under_their_table_with_method_and_keys() {
        let mut catalog = build_catalog(
            vec![TableRow {
                owner: s("APP"),
                name: s("SALES"),
                ..TableRow::default()
            }],
            Vec::new(),
            Vec::new(),
        );
        let partition = |name: &str, bound: &str| PartitionRow {
            owner: s("APP"),
            table: s("SALES"),
            name: s(name),
            high_value: Some(s(bound)),
            method: s("RANGE"),
            interval: Some(s("NUMTOYMINTERVAL(1,'MONTH')")),
        };
        add_objects(
            &mut catalog,
            ObjectRows {
                partitions: vec![
                    partition(
                        "P2023",
                        "TO_DATE(' 2024-01-01 00:00:00', 'SYYYY-MM-DD HH24:MI:SS')",
                    ),
                    partition(
                        "P2024",
                        "TO_DATE(' 2025-01-01 00:00:00', 'SYYYY-MM-DD HH24:MI:SS')",
                    ),
                    PartitionRow {
                        table: s("GONE"),
                        ..partition("X", "1")
                    },
                ],
                partition_keys: vec![PartitionKeyRow {
                    owner: s("APP"),
                    table: s("SALES"),
                    column: s("SOLD_AT"),
                }],
                ..ObjectRows::default()
            },
        );
        let p = catalog.tables[0].partitioning.as_ref().unwrap();
        assert_eq!(p.method, PartitionMethod::Interval);
        assert_eq!(p.columns, [Ident::new("SOLD_AT")]);
        assert_eq!(p.partitions.len(), 2);
        assert_eq!(p.partitions[1].name.as_deref(), Some("P2024"));
        assert!(p.partitions[0].bound.starts_with("TO_DATE(' 2024"));
    }
}
