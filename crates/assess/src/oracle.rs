//! The Oracle live catalog: the `ALL_*` dictionary views (`DBA_SEGMENTS` for sizes) as queries,
//! and their result rows -> [`Catalog`]. The rows are plain data (every value as text, `None` for
//! NULL), so the mapping is tested on the shapes Oracle returns without an Oracle server; a
//! caller with an Oracle client runs [`QUERIES`] (binding the owner list as `:owners`) and hands
//! the rows to [`catalog_from_rows`].

use migrate_core::{
    Catalog, Column, ColumnStatistics, Constraint, ConstraintKind, ConstraintState, Finding,
    ForeignKey, Ident, Index, IndexKind, LogicalType, QualifiedName, Routine, RoutineKind,
    Sequence, Severity, SourceDialect, Synonym, Table, TableKind, TableStatistics, View,
};
use migrate_dialect::{parse_type_text, TypeMaps};
use std::collections::{BTreeMap, HashMap};

/// One result row: the selected columns in order, as text.
pub type Row = Vec<Option<String>>;

/// The dictionary queries, by the name [`OracleRows`] files their rows under.
pub const QUERIES: &[(&str, &str)] = &[
    ("tables", "SELECT t.owner, t.table_name, t.num_rows, t.temporary, t.iot_type, t.partitioned,
       (SELECT SUM(s.bytes) FROM dba_segments s WHERE s.owner = t.owner AND s.segment_name = t.table_name)
  FROM all_tables t WHERE t.owner IN (:owners) AND t.nested = 'NO' AND t.secondary = 'N'"),
    ("columns", "SELECT owner, table_name, column_name, data_type, data_length, char_length, char_used,
       data_precision, data_scale, nullable, num_distinct, num_nulls
  FROM all_tab_columns WHERE owner IN (:owners) ORDER BY owner, table_name, column_id"),
    ("constraints", "SELECT c.owner, c.table_name, c.constraint_name, c.constraint_type, cc.column_name,
       r.owner, r.table_name, c.search_condition_vc, c.status
  FROM all_constraints c
  LEFT JOIN all_cons_columns cc ON cc.owner = c.owner AND cc.constraint_name = c.constraint_name
  LEFT JOIN all_constraints r ON r.owner = c.r_owner AND r.constraint_name = c.r_constraint_name
 WHERE c.owner IN (:owners) AND c.constraint_type IN ('P', 'U', 'R', 'C')
   AND c.generated = 'USER NAME'
 ORDER BY c.owner, c.table_name, c.constraint_name, cc.position"),
    ("indexes", "SELECT i.owner, i.index_name, i.table_owner, i.table_name, i.uniqueness, i.index_type,
       ic.column_name
  FROM all_indexes i JOIN all_ind_columns ic ON ic.index_owner = i.owner AND ic.index_name = i.index_name
 WHERE i.owner IN (:owners) ORDER BY i.owner, i.index_name, ic.column_position"),
    ("views", "SELECT owner, view_name, text_vc FROM all_views WHERE owner IN (:owners)"),
    ("mviews", "SELECT owner, mview_name, query FROM all_mviews WHERE owner IN (:owners)"),
    ("sequences", "SELECT sequence_owner, sequence_name, min_value, max_value, increment_by, cycle_flag,
       last_number FROM all_sequences WHERE sequence_owner IN (:owners)"),
    ("synonyms", "SELECT owner, synonym_name, table_owner, table_name FROM all_synonyms
 WHERE owner IN (:owners) OR (owner = 'PUBLIC' AND table_owner IN (:owners))"),
    ("source", "SELECT owner, name, type, line, text FROM all_source
 WHERE owner IN (:owners) ORDER BY owner, name, type, line"),
    ("db_links", "SELECT owner, db_link, host FROM all_db_links WHERE owner IN (:owners)"),
    ("partitions", "SELECT table_owner, table_name, partition_name, high_value FROM all_tab_partitions
 WHERE table_owner IN (:owners) ORDER BY table_owner, table_name, partition_position"),
];

/// The rows of each query of [`QUERIES`], by its name.
#[derive(Debug, Default)]
pub struct OracleRows {
    pub rows: BTreeMap<&'static str, Vec<Row>>,
}

fn cell(row: &Row, i: usize) -> Option<&str> {
    row.get(i).and_then(|v| v.as_deref())
}

fn text(row: &Row, i: usize) -> String {
    cell(row, i).unwrap_or_default().to_string()
}

fn number<T: std::str::FromStr>(row: &Row, i: usize) -> Option<T> {
    cell(row, i).and_then(|v| v.trim().parse().ok())
}

fn name(owner: String, name: String) -> QualifiedName {
    QualifiedName::new(Some(Ident::new(owner)), Ident::new(name))
}

/// The type as DDL would write it, from `ALL_TAB_COLUMNS`.
fn type_text(row: &Row) -> String {
    let data_type = text(row, 3);
    let precision: Option<u32> = number(row, 7);
    let scale: Option<i32> = number(row, 8);
    match data_type.as_str() {
        "VARCHAR2" | "NVARCHAR2" | "CHAR" | "NCHAR" => {
            let unit = if cell(row, 6) == Some("C") {
                " CHAR"
            } else {
                ""
            };
            let length = if unit.is_empty() {
                text(row, 4)
            } else {
                text(row, 5)
            };
            format!("{data_type}({length}{unit})")
        }
        "RAW" => format!("RAW({})", text(row, 4)),
        "NUMBER" => match (precision, scale) {
            (Some(p), Some(s)) => format!("NUMBER({p},{s})"),
            (None, Some(0)) => "INTEGER".to_string(),
            _ => "NUMBER".to_string(),
        },
        "FLOAT" => match precision {
            Some(p) => format!("FLOAT({p})"),
            None => "FLOAT".to_string(),
        },
        // TIMESTAMP(6), TIMESTAMP(6) WITH TIME ZONE... are written whole in DATA_TYPE.
        other => other.to_string(),
    }
}

/// Builds the catalog from the dictionary rows. Findings: the type map's notes, unknown types
/// (read as text), and one `object.database-link` per DB link, as the DDL front end reports them.
pub fn catalog_from_rows(rows: &OracleRows) -> Catalog {
    let empty = Vec::new();
    let get = |name: &str| rows.rows.get(name).unwrap_or(&empty);
    let maps = TypeMaps::builtin().source(SourceDialect::Oracle);
    let mut catalog = Catalog::default();
    let mut position: HashMap<(String, String), usize> = HashMap::new();
    for row in get("tables") {
        let mut table = Table::new(name(text(row, 0), text(row, 1)));
        table.kind = if cell(row, 3) == Some("Y") {
            TableKind::GlobalTemporary
        } else if cell(row, 4).is_some_and(|v| v == "IOT") {
            TableKind::IndexOrganized
        } else {
            TableKind::Regular
        };
        table.statistics = Some(TableStatistics {
            row_count: number(row, 2),
            size_bytes: number(row, 6),
        });
        position.insert((text(row, 0), text(row, 1)), catalog.tables.len());
        catalog.tables.push(table);
    }
    for row in get("columns") {
        let Some(&index) = position.get(&(text(row, 0), text(row, 1))) else {
            continue;
        };
        let source_type = type_text(row);
        let object = format!("{}.{}.{}", text(row, 0), text(row, 1), text(row, 2));
        let data_type = match parse_type_text(SourceDialect::Oracle, &source_type)
            .ok()
            .and_then(|ty| maps.map_source(&ty).ok())
        {
            Some(mapped) => {
                for note in mapped.notes {
                    catalog.findings.push(Finding::new(
                        note.severity,
                        note.code,
                        object.clone(),
                        note.message,
                        note.action,
                    ));
                }
                mapped.value
            }
            None => {
                catalog.findings.push(Finding::new(
                    Severity::Action,
                    "type.unknown",
                    object.clone(),
                    format!("type {source_type} is not known: the column is emitted as unbounded text"),
                    "choose the target type by hand; if it is a user-defined type, convert it to columns or to SUPER",
                ));
                LogicalType::Text
            }
        };
        let table = &mut catalog.tables[index];
        let rows_count = table.statistics.as_ref().and_then(|s| s.row_count);
        let mut column = Column::new(Ident::new(text(row, 2)), source_type, data_type);
        column.nullable = cell(row, 9) != Some("N");
        let distinct: Option<u64> = number(row, 10);
        let nulls: Option<u64> = number(row, 11);
        if distinct.is_some() || nulls.is_some() {
            column.statistics = Some(ColumnStatistics {
                distinct_count: distinct,
                null_fraction: match (nulls, rows_count) {
                    (Some(n), Some(r)) if r > 0 => Some(n as f64 / r as f64),
                    _ => None,
                },
            });
        }
        table.columns.push(column);
    }
    // Constraints come one row per column; rows of one constraint are adjacent.
    let mut last: Option<(usize, String)> = None;
    for row in get("constraints") {
        let Some(&index) = position.get(&(text(row, 0), text(row, 1))) else {
            continue;
        };
        let constraint_name = text(row, 2);
        let column = Ident::new(text(row, 4));
        let table = &mut catalog.tables[index];
        if last.as_ref() == Some(&(index, constraint_name.clone())) {
            if let Some(constraint) = table.constraints.last_mut() {
                match &mut constraint.kind {
                    ConstraintKind::PrimaryKey(c) | ConstraintKind::Unique(c) => c.push(column),
                    ConstraintKind::ForeignKey(fk) => fk.columns.push(column),
                    ConstraintKind::Check(_) => {}
                }
            }
            continue;
        }
        let kind = match cell(row, 3) {
            Some("P") => ConstraintKind::PrimaryKey(vec![column]),
            Some("U") => ConstraintKind::Unique(vec![column]),
            Some("R") => ConstraintKind::ForeignKey(ForeignKey {
                columns: vec![column],
                referenced_table: name(text(row, 5), text(row, 6)),
                referenced_columns: Vec::new(),
                on_delete: None,
            }),
            _ => ConstraintKind::Check(text(row, 7)),
        };
        table.constraints.push(Constraint {
            name: Some(Ident::new(constraint_name.clone())),
            kind,
            state: ConstraintState {
                enabled: cell(row, 8) != Some("DISABLED"),
                ..ConstraintState::default()
            },
        });
        last = Some((index, constraint_name));
    }
    for row in get("indexes") {
        let index_name = name(text(row, 0), text(row, 1));
        let column = text(row, 6);
        match catalog.indexes.last_mut() {
            Some(index) if index.name == index_name => index.columns.push(column),
            _ => catalog.indexes.push(Index {
                name: index_name,
                table: name(text(row, 2), text(row, 3)),
                columns: vec![column],
                unique: cell(row, 4) == Some("UNIQUE"),
                kind: if cell(row, 5) == Some("BITMAP") {
                    IndexKind::Bitmap
                } else {
                    IndexKind::BTree
                },
                method: None,
                predicate: None,
                location: None,
            }),
        }
    }
    for (query, materialized) in [("views", false), ("mviews", true)] {
        for row in get(query) {
            catalog.views.push(View {
                name: name(text(row, 0), text(row, 1)),
                columns: Vec::new(),
                query: text(row, 2),
                materialized,
                location: None,
            });
        }
    }
    for row in get("sequences") {
        catalog.sequences.push(Sequence {
            name: name(text(row, 0), text(row, 1)),
            start: number(row, 6).unwrap_or(1),
            increment: number(row, 4).unwrap_or(1),
            min_value: number(row, 2),
            max_value: number(row, 3),
            cycle: cell(row, 5) == Some("Y"),
            location: None,
        });
    }
    for row in get("synonyms") {
        catalog.synonyms.push(Synonym {
            name: name(text(row, 0), text(row, 1)),
            target: name(text(row, 2), text(row, 3)),
            public: cell(row, 0) == Some("PUBLIC"),
            location: None,
        });
    }
    // ALL_SOURCE: one row per line; an object is (owner, name, type).
    let mut sources: Vec<((String, String, String), String)> = Vec::new();
    for row in get("source") {
        let key = (text(row, 0), text(row, 1), text(row, 2));
        match sources.last_mut() {
            Some((last, body)) if *last == key => body.push_str(&text(row, 4)),
            _ => sources.push((key, text(row, 4))),
        }
    }
    for ((owner, object, kind), body) in sources {
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
            name: Some(name(owner, object)),
            kind,
            text: body,
            location: None,
        });
    }
    for row in get("db_links") {
        catalog.findings.push(Finding::new(
            Severity::Action,
            "object.database-link",
            format!("database link {}", text(row, 1)),
            format!(
                "database link of {} to {}: database links have no equivalent in the target",
                text(row, 0),
                text(row, 2)
            ),
            "use Redshift federated queries or an external schema to reach the remote database",
        ));
    }
    for row in get("partitions") {
        let Some(&index) = position.get(&(text(row, 0), text(row, 1))) else {
            continue;
        };
        let partitioning =
            catalog.tables[index]
                .partitioning
                .get_or_insert_with(|| migrate_core::Partitioning {
                    method: migrate_core::PartitionMethod::Range,
                    columns: Vec::new(),
                    partitions: Vec::new(),
                    interval: None,
                    subpartitioning: None,
                });
        partitioning.partitions.push(migrate_core::Partition {
            name: Some(text(row, 2)),
            bound: text(row, 3),
        });
    }
    catalog
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{assess, EffortModel, Input, ObjectKind, SourceInfo, Status};

    fn row(values: &[Option<&str>]) -> Row {
        values.iter().map(|v| v.map(str::to_string)).collect()
    }

    /// Rows shaped as Oracle's dictionary returns them for a small HR-like schema.
    fn hr_rows() -> OracleRows {
        let mut rows = OracleRows::default();
        let s = Some;
        rows.rows.insert(
            "tables",
            vec![
                row(&[
                    s("HR"),
                    s("EMPLOYEES"),
                    s("107"),
                    s("N"),
                    None,
                    s("NO"),
                    s("65536"),
                ]),
                row(&[s("HR"), s("SESSION_TMP"), None, s("Y"), None, s("NO"), None]),
            ],
        );
        rows.rows.insert(
            "columns",
            vec![
                row(&[
                    s("HR"),
                    s("EMPLOYEES"),
                    s("EMPLOYEE_ID"),
                    s("NUMBER"),
                    s("22"),
                    s("0"),
                    None,
                    s("6"),
                    s("0"),
                    s("N"),
                    s("107"),
                    s("0"),
                ]),
                row(&[
                    s("HR"),
                    s("EMPLOYEES"),
                    s("LAST_NAME"),
                    s("VARCHAR2"),
                    s("100"),
                    s("25"),
                    s("C"),
                    None,
                    None,
                    s("N"),
                    s("102"),
                    s("0"),
                ]),
                row(&[
                    s("HR"),
                    s("EMPLOYEES"),
                    s("MANAGER_ID"),
                    s("NUMBER"),
                    s("22"),
                    s("0"),
                    None,
                    s("6"),
                    s("0"),
                    s("Y"),
                    s("18"),
                    s("1"),
                ]),
                row(&[
                    s("HR"),
                    s("EMPLOYEES"),
                    s("RESUME"),
                    s("CLOB"),
                    s("4000"),
                    s("0"),
                    None,
                    None,
                    None,
                    s("Y"),
                    None,
                    None,
                ]),
                row(&[
                    s("HR"),
                    s("SESSION_TMP"),
                    s("K"),
                    s("NUMBER"),
                    s("22"),
                    s("0"),
                    None,
                    None,
                    None,
                    s("Y"),
                    None,
                    None,
                ]),
            ],
        );
        rows.rows.insert(
            "constraints",
            vec![
                row(&[
                    s("HR"),
                    s("EMPLOYEES"),
                    s("EMP_ID_PK"),
                    s("P"),
                    s("EMPLOYEE_ID"),
                    None,
                    None,
                    None,
                    s("ENABLED"),
                ]),
                row(&[
                    s("HR"),
                    s("EMPLOYEES"),
                    s("EMP_MANAGER_FK"),
                    s("R"),
                    s("MANAGER_ID"),
                    s("HR"),
                    s("EMPLOYEES"),
                    None,
                    s("ENABLED"),
                ]),
            ],
        );
        rows.rows.insert(
            "indexes",
            vec![
                row(&[
                    s("HR"),
                    s("EMP_NAME_IX"),
                    s("HR"),
                    s("EMPLOYEES"),
                    s("NONUNIQUE"),
                    s("NORMAL"),
                    s("LAST_NAME"),
                ]),
                row(&[
                    s("HR"),
                    s("EMP_NAME_IX"),
                    s("HR"),
                    s("EMPLOYEES"),
                    s("NONUNIQUE"),
                    s("NORMAL"),
                    s("EMPLOYEE_ID"),
                ]),
            ],
        );
        rows.rows.insert(
            "views",
            vec![row(&[
                s("HR"),
                s("EMP_V"),
                s("SELECT employee_id FROM employees"),
            ])],
        );
        rows.rows.insert(
            "sequences",
            vec![row(&[
                s("HR"),
                s("EMPLOYEES_SEQ"),
                s("1"),
                s("9999999999999999999999999999"),
                s("1"),
                s("N"),
                s("207"),
            ])],
        );
        rows.rows.insert(
            "synonyms",
            vec![row(&[s("PUBLIC"), s("EMPS"), s("HR"), s("EMPLOYEES")])],
        );
        rows.rows.insert(
            "source",
            vec![
                row(&[
                    s("HR"),
                    s("LOG_IT"),
                    s("PROCEDURE"),
                    s("1"),
                    s("PROCEDURE log_it IS\n"),
                ]),
                row(&[
                    s("HR"),
                    s("LOG_IT"),
                    s("PROCEDURE"),
                    s("2"),
                    s("  PRAGMA AUTONOMOUS_TRANSACTION;\n"),
                ]),
                row(&[
                    s("HR"),
                    s("LOG_IT"),
                    s("PROCEDURE"),
                    s("3"),
                    s("BEGIN EXECUTE IMMEDIATE 'INSERT INTO log VALUES (1)'; COMMIT; END;\n"),
                ]),
                row(&[
                    s("HR"),
                    s("PKG"),
                    s("PACKAGE"),
                    s("1"),
                    s("PACKAGE pkg IS PROCEDURE p; END;\n"),
                ]),
            ],
        );
        rows.rows.insert(
            "db_links",
            vec![row(&[s("HR"), s("REMOTE.EXAMPLE.COM"), s("remotedb")])],
        );
        rows
    }

    #[test]
    fn dictionary_rows_become_a_catalog() {
        let catalog = catalog_from_rows(&hr_rows());
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
        assert_eq!(
            employees.statistics.as_ref().unwrap().size_bytes,
            Some(65536)
        );
        assert_eq!(catalog.tables[1].kind, TableKind::GlobalTemporary);
        assert_eq!(catalog.indexes.len(), 1);
        assert_eq!(catalog.indexes[0].columns, vec!["LAST_NAME", "EMPLOYEE_ID"]);
        assert_eq!(catalog.sequences[0].start, 207);
        assert!(catalog.synonyms[0].public);
        assert_eq!(catalog.routines.len(), 2);
        assert_eq!(catalog.routines[0].text.lines().count(), 3);
    }

    #[test]
    fn the_live_oracle_catalog_is_assessed_like_scripts() {
        let catalog = catalog_from_rows(&hr_rows());
        let a = assess(Input {
            catalog: &catalog,
            from: SourceDialect::Oracle,
            to: migrate_core::TargetDialect::Redshift,
            source: SourceInfo {
                kind: "live",
                dialect: "oracle",
                inputs: vec!["hr@db".into()],
            },
            preflight: Vec::new(),
            model: &EffortModel::builtin(),
        });
        let link = a
            .objects
            .iter()
            .find(|o| o.kind == ObjectKind::DatabaseLink)
            .unwrap();
        assert_eq!(
            (link.name.as_str(), link.status),
            ("REMOTE.EXAMPLE.COM", Status::Unsupported)
        );
        let procedure = a
            .objects
            .iter()
            .find(|o| o.kind == ObjectKind::Procedure)
            .unwrap();
        let constructs = procedure.constructs.as_ref().unwrap();
        assert_eq!(
            (constructs.autonomous_transactions, constructs.dynamic_sql),
            (1, 1)
        );
        let codes: Vec<&str> = a
            .action_items
            .iter()
            .filter(|i| i.object_id == Some(procedure.id))
            .map(|i| i.code.as_str())
            .collect();
        assert!(
            codes.contains(&"plsql.autonomous-transaction") && codes.contains(&"plsql.dynamic-sql"),
            "{codes:?}"
        );
        assert_eq!(a.summary.by_kind["synonym"].total, 1);
        assert_eq!(a.summary.rows, 107);
    }
}
