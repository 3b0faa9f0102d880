//! Discovery without I/O: rows of `ALL_TABLES`, `ALL_TAB_COLS`, `ALL_CONSTRAINTS` and
//! `ALL_CONS_COLUMNS` (as [`crate::sql`] selects them) into a [`Catalog`] with canonical types from
//! the converter's Oracle type map (`dialect-maps/oracle.toml`), so that `migrate convert` and the
//! replication agree on every column.

use migrate_core::{
    Catalog, Column, ColumnDefault, Constraint, ConstraintKind, ConstraintState, Finding,
    ForeignKey, Ident, Identity, LogicalType, QualifiedName, Severity, SourceDialect, Table,
    TableStatistics,
};
use migrate_dialect::{parse_type_text, TypeMaps};
use std::collections::HashMap;

/// Oracle's block size when the catalog does not say: for size estimates only.
const BLOCK_BYTES: u64 = 8192;

/// A row of [`crate::sql::tables_query`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRow {
    pub owner: String,
    pub name: String,
    /// `NUM_ROWS`: the optimizer's estimate, null until statistics are gathered.
    pub num_rows: Option<u64>,
    pub blocks: Option<u64>,
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
}

/// A row of [`crate::sql::constraints_query`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConstraintRow {
    pub owner: String,
    pub table: String,
    pub name: String,
    /// `P`, `U` or `R`.
    pub kind: String,
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
/// tables not listed are ignored.
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
        table.statistics = Some(TableStatistics {
            row_count: row.num_rows,
            size_bytes: row.blocks.map(|b| b.saturating_mul(BLOCK_BYTES)),
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
        let data_type = match parse_type_text(SourceDialect::Oracle, &text)
            .ok()
            .map(|ty| maps.map_source(&ty))
        {
            Some(Ok(mapped)) => {
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
            _ => {
                catalog.findings.push(Finding::new(
                    Severity::Warning,
                    "type.read-as-text",
                    object.clone(),
                    format!("type {text} has no canonical equivalent; its values are read as their text form"),
                    "Check that the text form is what the target needs, or convert the column before the migration.",
                ));
                LogicalType::Text
            }
        };
        let mut column = Column::new(oracle_ident(&row.name), text, data_type);
        column.nullable = row.nullable;
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
            }),
        };
        let constraint = Constraint {
            name: Some(oracle_ident(&row.name)),
            kind,
            state: ConstraintState {
                enabled: row.status.as_deref() != Some("DISABLED"),
                validated: row.validated.as_deref() != Some("NOT VALIDATED"),
                rely: row.rely.as_deref() == Some("RELY"),
            },
        };
        current = Some((index, row.name, constraint));
    }
    if let Some((i, _, constraint)) = current {
        catalog.tables[i].constraints.push(constraint);
    }
    catalog
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
                blocks: Some(10),
            },
            TableRow {
                owner: "APP".into(),
                name: "Lines".into(),
                num_rows: None,
                blocks: None,
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
}
