//! The dictionary queries of discovery (`ALL_*` views, `DBA_SEGMENTS` for sizes) and of the
//! preflight, with the owner list as bind variables. Each query's doc lists its columns in
//! order: the row types of [`crate::discover`] and [`crate::preflight`] read them in that order.

use super::{quote_ident, SYSTEM_SCHEMAS};
use migrate_core::Table;

/// A statement and its bind variables by name (`:b1` is bound as `("b1", value)`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Query {
    pub sql: String,
    pub binds: Vec<(String, String)>,
}

impl Query {
    /// `<column> IN (:b1, :b2)` with one bind per owner, or, when no owner is chosen, every
    /// schema but Oracle's own: those `ALL_USERS` marks `ORACLE_MAINTAINED` and a fixed list
    /// (literals). Every occurrence gets binds of its own names, so a query may filter two
    /// columns on the owners.
    fn owners(&mut self, column: &str, owners: Option<&[String]>) -> String {
        match owners {
            Some(owners) if !owners.is_empty() => {
                // Oracle takes at most 1,000 expressions in one IN list (ORA-01795).
                let lists: Vec<String> = owners
                    .chunks(super::IN_LIST_LIMIT)
                    .map(|chunk| {
                        let names: Vec<String> = chunk
                            .iter()
                            .map(|owner| {
                                let name = format!("b{}", self.binds.len() + 1);
                                self.binds.push((name.clone(), owner.clone()));
                                format!(":{name}")
                            })
                            .collect();
                        format!("{column} IN ({})", names.join(", "))
                    })
                    .collect();
                match lists.as_slice() {
                    [one] => one.clone(),
                    _ => format!("({})", lists.join(" OR ")),
                }
            }
            _ => {
                let list: Vec<String> = SYSTEM_SCHEMAS
                    .iter()
                    .map(|s| super::quote_literal(s))
                    .collect();
                format!(
                    "{column} NOT IN ({}) AND {column} NOT IN (SELECT USERNAME FROM ALL_USERS WHERE ORACLE_MAINTAINED = 'Y')",
                    list.join(", ")
                )
            }
        }
    }

    fn build(
        owners: Option<&[String]>,
        text: impl FnOnce(&mut dyn FnMut(&str) -> String) -> String,
    ) -> Query {
        let mut query = Query::default();
        let sql = text(&mut |column| query.owners(column, owners));
        Query { sql, ..query }
    }
}

/// Tables: base, global temporary, index-organized and external tables (no nested tables,
/// IOT overflow or mapping segments, materialized-view containers or recycle bin). Columns:
/// OWNER, TABLE_NAME, NUM_ROWS (the optimizer's estimate, null until statistics are gathered),
/// TEMPORARY (`Y`/`N`), IOT_TYPE, EXTERNAL (`Y`/`N`).
pub fn tables_query(owners: Option<&[String]>) -> Query {
    Query::build(owners, |owners| {
        format!(
            "SELECT t.OWNER, t.TABLE_NAME, t.NUM_ROWS, t.TEMPORARY, t.IOT_TYPE, \
CASE WHEN EXISTS (SELECT 1 FROM ALL_EXTERNAL_TABLES e WHERE e.OWNER = t.OWNER AND e.TABLE_NAME = t.TABLE_NAME) THEN 'Y' ELSE 'N' END \
FROM ALL_TABLES t \
WHERE {} AND t.NESTED = 'NO' AND t.SECONDARY = 'N' \
AND t.DROPPED = 'NO' AND (t.IOT_TYPE IS NULL OR t.IOT_TYPE = 'IOT') \
AND NOT EXISTS (SELECT 1 FROM ALL_MVIEWS m WHERE m.OWNER = t.OWNER AND m.CONTAINER_NAME = t.TABLE_NAME) \
ORDER BY t.OWNER, t.TABLE_NAME",
            owners("t.OWNER")
        )
    })
}

/// Visible columns in column order, with the optimizer's column statistics. Columns: OWNER,
/// TABLE_NAME, COLUMN_NAME, DATA_TYPE, DATA_LENGTH, DATA_PRECISION, DATA_SCALE, CHAR_LENGTH,
/// CHAR_USED, NULLABLE, DATA_DEFAULT, VIRTUAL_COLUMN, IDENTITY_COLUMN, NUM_DISTINCT, NUM_NULLS.
pub fn columns_query(owners: Option<&[String]>) -> Query {
    Query::build(owners, |owners| {
        format!(
            "SELECT c.OWNER, c.TABLE_NAME, c.COLUMN_NAME, c.DATA_TYPE, c.DATA_LENGTH, c.DATA_PRECISION, \
c.DATA_SCALE, c.CHAR_LENGTH, c.CHAR_USED, c.NULLABLE, c.DATA_DEFAULT, c.VIRTUAL_COLUMN, c.IDENTITY_COLUMN, \
c.NUM_DISTINCT, c.NUM_NULLS \
FROM ALL_TAB_COLS c \
WHERE {} AND c.USER_GENERATED = 'YES' \
ORDER BY c.OWNER, c.TABLE_NAME, c.COLUMN_ID",
            owners("c.OWNER")
        )
    })
}

/// Primary-key, unique, foreign-key and check constraints with their columns in key order.
/// Columns: OWNER, TABLE_NAME, CONSTRAINT_NAME, CONSTRAINT_TYPE, COLUMN_NAME, R_OWNER,
/// R_TABLE_NAME, R_COLUMN_NAME, DELETE_RULE, STATUS, VALIDATED, RELY, SEARCH_CONDITION_VC.
pub fn constraints_query(owners: Option<&[String]>) -> Query {
    Query::build(owners, |owners| {
        format!(
            "SELECT c.OWNER, c.TABLE_NAME, c.CONSTRAINT_NAME, c.CONSTRAINT_TYPE, cc.COLUMN_NAME, \
r.OWNER, r.TABLE_NAME, rc.COLUMN_NAME, c.DELETE_RULE, c.STATUS, c.VALIDATED, c.RELY, c.SEARCH_CONDITION_VC \
FROM ALL_CONSTRAINTS c \
LEFT JOIN ALL_CONS_COLUMNS cc ON cc.OWNER = c.OWNER AND cc.CONSTRAINT_NAME = c.CONSTRAINT_NAME AND cc.TABLE_NAME = c.TABLE_NAME \
LEFT JOIN ALL_CONSTRAINTS r ON r.OWNER = c.R_OWNER AND r.CONSTRAINT_NAME = c.R_CONSTRAINT_NAME \
LEFT JOIN ALL_CONS_COLUMNS rc ON rc.OWNER = r.OWNER AND rc.CONSTRAINT_NAME = r.CONSTRAINT_NAME AND rc.POSITION = cc.POSITION \
WHERE {} AND c.CONSTRAINT_TYPE IN ('P', 'U', 'R', 'C') \
ORDER BY c.OWNER, c.TABLE_NAME, c.CONSTRAINT_TYPE, c.CONSTRAINT_NAME, cc.POSITION",
            owners("c.OWNER")
        )
    })
}

/// Bytes of each table's segments from `DBA_SEGMENTS` (needs `SELECT_CATALOG_ROLE` or `SELECT
/// ON SYS.DBA_SEGMENTS`): the table's own segments (partitions included), its indexes' (an
/// index-organized table's rows are in its primary-key index) and its LOB segments and LOB
/// indexes (`ALL_LOBS`). A table without a segment (deferred segment creation, a temporary
/// table) has no row: it holds 0 bytes. Columns: OWNER, TABLE_NAME, BYTES, LOB_BYTES.
pub fn sizes_query(owners: Option<&[String]>) -> Query {
    Query::build(owners, |owners| {
        format!(
            "SELECT x.OWNER, x.TABLE_NAME, SUM(x.BYTES), SUM(CASE WHEN x.PART = 'LOB' THEN x.BYTES ELSE 0 END) FROM (\
SELECT s.OWNER, s.SEGMENT_NAME TABLE_NAME, s.BYTES, 'TABLE' PART FROM DBA_SEGMENTS s \
WHERE {} AND s.SEGMENT_TYPE IN ('TABLE', 'TABLE PARTITION', 'TABLE SUBPARTITION') \
UNION ALL \
SELECT i.TABLE_OWNER, i.TABLE_NAME, s.BYTES, 'INDEX' FROM ALL_INDEXES i \
JOIN DBA_SEGMENTS s ON s.OWNER = i.OWNER AND s.SEGMENT_NAME = i.INDEX_NAME \
WHERE {} AND i.INDEX_TYPE <> 'LOB' AND s.SEGMENT_TYPE IN ('INDEX', 'INDEX PARTITION', 'INDEX SUBPARTITION') \
UNION ALL \
SELECT l.OWNER, l.TABLE_NAME, s.BYTES, 'LOB' FROM ALL_LOBS l \
JOIN DBA_SEGMENTS s ON s.OWNER = l.OWNER AND s.SEGMENT_NAME IN (l.SEGMENT_NAME, l.INDEX_NAME) \
WHERE {} AND s.SEGMENT_TYPE IN ('LOBSEGMENT', 'LOBINDEX', 'LOB PARTITION', 'LOB SUBPARTITION', 'INDEX PARTITION', 'INDEX SUBPARTITION')\
) x GROUP BY x.OWNER, x.TABLE_NAME",
            owners("s.OWNER"),
            owners("i.TABLE_OWNER"),
            owners("l.OWNER")
        )
    })
}

/// Indexes that no primary or unique key owns (key indexes are the table's keys already), with
/// their columns in order and the expression of function-based index columns. Columns: OWNER,
/// INDEX_NAME, TABLE_OWNER, TABLE_NAME, UNIQUENESS, INDEX_TYPE, ITYP_NAME, COLUMN_NAME,
/// COLUMN_EXPRESSION.
pub fn indexes_query(owners: Option<&[String]>) -> Query {
    Query::build(owners, |owners| {
        format!(
            "SELECT i.OWNER, i.INDEX_NAME, i.TABLE_OWNER, i.TABLE_NAME, i.UNIQUENESS, i.INDEX_TYPE, i.ITYP_NAME, \
ic.COLUMN_NAME, e.COLUMN_EXPRESSION \
FROM ALL_INDEXES i \
JOIN ALL_IND_COLUMNS ic ON ic.INDEX_OWNER = i.OWNER AND ic.INDEX_NAME = i.INDEX_NAME \
LEFT JOIN ALL_IND_EXPRESSIONS e ON e.INDEX_OWNER = ic.INDEX_OWNER AND e.INDEX_NAME = ic.INDEX_NAME AND e.COLUMN_POSITION = ic.COLUMN_POSITION \
WHERE {} AND i.INDEX_TYPE NOT IN ('LOB', 'IOT - TOP', 'CLUSTER') \
AND NOT EXISTS (SELECT 1 FROM ALL_CONSTRAINTS c WHERE c.OWNER = i.TABLE_OWNER AND c.TABLE_NAME = i.TABLE_NAME \
AND c.INDEX_OWNER = i.OWNER AND c.INDEX_NAME = i.INDEX_NAME AND c.CONSTRAINT_TYPE IN ('P', 'U')) \
ORDER BY i.OWNER, i.INDEX_NAME, ic.COLUMN_POSITION",
            owners("i.TABLE_OWNER")
        )
    })
}

/// Views with their whole text (`TEXT` is a LONG; `TEXT_VC` would cut it at 4,000 bytes).
/// Columns: OWNER, VIEW_NAME, TEXT.
pub fn views_query(owners: Option<&[String]>) -> Query {
    Query::build(owners, |owners| {
        format!(
            "SELECT OWNER, VIEW_NAME, TEXT FROM ALL_VIEWS WHERE {} ORDER BY OWNER, VIEW_NAME",
            owners("OWNER")
        )
    })
}

/// Materialized views with their query (a LONG). Columns: OWNER, MVIEW_NAME, QUERY.
pub fn mviews_query(owners: Option<&[String]>) -> Query {
    Query::build(owners, |owners| {
        format!(
            "SELECT OWNER, MVIEW_NAME, QUERY FROM ALL_MVIEWS WHERE {} ORDER BY OWNER, MVIEW_NAME",
            owners("OWNER")
        )
    })
}

/// Sequences, without those behind identity columns (`ISEQ$$_n`: the column's identity stands
/// for them). Numbers as text: `MAX_VALUE` has 28 digits by default. Columns: SEQUENCE_OWNER,
/// SEQUENCE_NAME, MIN_VALUE, MAX_VALUE, INCREMENT_BY, CYCLE_FLAG, LAST_NUMBER.
pub fn sequences_query(owners: Option<&[String]>) -> Query {
    Query::build(owners, |owners| {
        format!(
            "SELECT SEQUENCE_OWNER, SEQUENCE_NAME, TO_CHAR(MIN_VALUE), TO_CHAR(MAX_VALUE), TO_CHAR(INCREMENT_BY), \
CYCLE_FLAG, TO_CHAR(LAST_NUMBER) FROM ALL_SEQUENCES \
WHERE {} AND SEQUENCE_NAME NOT LIKE 'ISEQ$$\\_%' ESCAPE '\\' ORDER BY SEQUENCE_OWNER, SEQUENCE_NAME",
            owners("SEQUENCE_OWNER")
        )
    })
}

/// Synonyms of the owners, and public synonyms of their objects. Columns: OWNER,
/// SYNONYM_NAME, TABLE_OWNER, TABLE_NAME.
pub fn synonyms_query(owners: Option<&[String]>) -> Query {
    Query::build(owners, |owners| {
        format!(
            "SELECT OWNER, SYNONYM_NAME, TABLE_OWNER, TABLE_NAME FROM ALL_SYNONYMS \
WHERE (OWNER <> 'PUBLIC' AND {}) OR (OWNER = 'PUBLIC' AND {}) ORDER BY OWNER, SYNONYM_NAME",
            owners("OWNER"),
            owners("TABLE_OWNER")
        )
    })
}

/// The source of procedural objects, one row per line. Columns: OWNER, NAME, TYPE, LINE, TEXT.
pub fn source_query(owners: Option<&[String]>) -> Query {
    Query::build(owners, |owners| {
        format!(
            "SELECT OWNER, NAME, TYPE, LINE, TEXT FROM ALL_SOURCE \
WHERE {} AND TYPE IN ('PROCEDURE', 'FUNCTION', 'PACKAGE', 'PACKAGE BODY', 'TRIGGER', 'TYPE', 'TYPE BODY') \
ORDER BY OWNER, NAME, TYPE, LINE",
            owners("OWNER")
        )
    })
}

/// Database links. Columns: OWNER, DB_LINK, HOST.
pub fn db_links_query(owners: Option<&[String]>) -> Query {
    Query::build(owners, |owners| {
        format!(
            "SELECT OWNER, DB_LINK, HOST FROM ALL_DB_LINKS WHERE {} ORDER BY OWNER, DB_LINK",
            owners("OWNER")
        )
    })
}

/// Partitions of partitioned tables in partition order, with the table's method and interval.
/// Columns: TABLE_OWNER, TABLE_NAME, PARTITION_NAME, HIGH_VALUE (a LONG), PARTITIONING_TYPE,
/// INTERVAL.
pub fn partitions_query(owners: Option<&[String]>) -> Query {
    Query::build(owners, |owners| {
        format!(
            "SELECT p.TABLE_OWNER, p.TABLE_NAME, p.PARTITION_NAME, p.HIGH_VALUE, pt.PARTITIONING_TYPE, pt.INTERVAL \
FROM ALL_TAB_PARTITIONS p JOIN ALL_PART_TABLES pt ON pt.OWNER = p.TABLE_OWNER AND pt.TABLE_NAME = p.TABLE_NAME \
WHERE {} ORDER BY p.TABLE_OWNER, p.TABLE_NAME, p.PARTITION_POSITION",
            owners("p.TABLE_OWNER")
        )
    })
}

/// Partition key columns in order. Columns: OWNER, NAME, COLUMN_NAME.
pub fn partition_keys_query(owners: Option<&[String]>) -> Query {
    Query::build(owners, |owners| {
        format!(
            "SELECT OWNER, NAME, COLUMN_NAME FROM ALL_PART_KEY_COLUMNS \
WHERE {} AND OBJECT_TYPE = 'TABLE' ORDER BY OWNER, NAME, COLUMN_POSITION",
            owners("OWNER")
        )
    })
}

/// Tables that have all-column supplemental logging of their own (`ALTER TABLE ... ADD
/// SUPPLEMENTAL LOG DATA (ALL) COLUMNS`), needed when the database level has none. Columns:
/// OWNER, TABLE_NAME.
pub fn table_log_groups_query(owners: Option<&[String]>) -> Query {
    Query::build(owners, |owners| {
        format!(
            "SELECT OWNER, TABLE_NAME FROM ALL_LOG_GROUPS WHERE {} AND LOG_GROUP_TYPE = 'ALL COLUMN LOGGING'",
            owners("OWNER")
        )
    })
}

/// Every system privilege the session holds, directly or through its enabled roles. Columns:
/// PRIVILEGE.
pub const SESSION_PRIVILEGES: &str = "SELECT PRIVILEGE FROM SESSION_PRIVS";

/// The session's user. Columns: USER.
pub const SESSION_USER: &str = "SELECT USER FROM DUAL";

/// 1 when the session may execute `DBMS_LOGMNR` (`ALL_PROCEDURES` lists what it may execute).
pub const LOGMINER_PACKAGE: &str =
    "SELECT COUNT(*) FROM ALL_PROCEDURES WHERE OWNER = 'SYS' AND OBJECT_NAME = 'DBMS_LOGMNR'";

/// The dynamic performance views change capture reads; [`probe_view`] checks each.
pub const CAPTURE_VIEWS: [&str; 5] = [
    "V$DATABASE",
    "V$LOG",
    "V$LOGFILE",
    "V$ARCHIVED_LOG",
    "V$TRANSACTION",
];

/// Reads nothing, but fails with ORA-00942 when the session can't see `view`.
pub fn probe_view(view: &str) -> String {
    format!("SELECT 1 FROM {view} WHERE 1 = 0")
}

/// A flashback read of `table` as of now, as the full load reads it (`AS OF SCN`), that fetches
/// nothing: ORA-00942 without SELECT on the table, ORA-01031 without FLASHBACK on it. (`AS OF
/// TIMESTAMP`: reading the current SCN needs V$DATABASE, checked on its own.)
pub fn probe_table(table: &Table) -> String {
    format!(
        "SELECT 1 FROM {} AS OF TIMESTAMP SYSTIMESTAMP WHERE 1 = 0",
        table_sql_name(table)
    )
}

/// `"OWNER"."TABLE"`, as stored.
pub fn table_sql_name(table: &Table) -> String {
    table.name.quoted_with(quote_ident)
}

/// How the length of a column's longest value is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LengthUnit {
    /// `LENGTHB`: bytes in the database character set (UTF-8 bytes in an AL32UTF8 database,
    /// the default since 12.2).
    Bytes,
    /// `DBMS_LOB.GETLENGTH` of a CLOB or NCLOB: characters (a lower bound of the bytes; UTF-8
    /// needs up to 4 per character).
    Characters,
}

/// One statement measuring the longest value of each of `columns` (name, source type) of
/// `table`: a full scan. Columns: one maximum per column, in order. `None` when no column can
/// be measured (LONG columns can't be passed to functions: they are left out, and the caller
/// reports them unmeasured).
pub fn longest_values_query(
    table: &Table,
    columns: &[(&str, &str)],
) -> Option<(String, Vec<(String, LengthUnit)>)> {
    let mut measured = Vec::new();
    let mut select = Vec::new();
    for (name, source_type) in columns {
        let upper = source_type.to_ascii_uppercase();
        let column = quote_ident(name);
        if upper == "CLOB" || upper == "NCLOB" {
            select.push(format!("MAX(DBMS_LOB.GETLENGTH({column}))"));
            measured.push((name.to_string(), LengthUnit::Characters));
        } else if upper.starts_with("VARCHAR")
            || upper.starts_with("NVARCHAR")
            || upper.starts_with("CHAR")
            || upper.starts_with("NCHAR")
        {
            select.push(format!("MAX(LENGTHB({column}))"));
            measured.push((name.to_string(), LengthUnit::Bytes));
        }
    }
    if select.is_empty() {
        return None;
    }
    Some((
        format!(
            "SELECT {} FROM {}",
            select.join(", "),
            table_sql_name(table)
        ),
        measured,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use migrate_core::{Ident, QualifiedName};

    #[test]
    fn owners_are_bound_and_system_schemas_excluded() {
        let q = tables_query(Some(&["APP".into(), "O'X".into()]));
        assert!(
            q.sql.contains("WHERE t.OWNER IN (:b1, :b2) AND"),
            "{}",
            q.sql
        );
        assert_eq!(
            q.binds,
            [
                ("b1".to_string(), "APP".to_string()),
                ("b2".into(), "O'X".into())
            ]
        );
        let q = columns_query(None);
        assert!(
            q.sql.contains("c.OWNER NOT IN ('SYS', 'SYSTEM',"),
            "{}",
            q.sql
        );
        assert!(q.binds.is_empty());
        assert!(constraints_query(None)
            .sql
            .contains("c.CONSTRAINT_TYPE IN ('P', 'U', 'R', 'C')"));
        assert!(tables_query(None).sql.contains("t.NUM_ROWS"));
        // Two filters on the owners: each has binds of its own.
        let q = synonyms_query(Some(&["HR".into()]));
        assert!(q.sql.contains("OWNER IN (:b1)") && q.sql.contains("TABLE_OWNER IN (:b2)"));
        assert_eq!(q.binds.len(), 2);
        let q = sizes_query(Some(&["HR".into()]));
        assert_eq!(q.binds.len(), 3);
        for part in [
            "DBA_SEGMENTS",
            "ALL_LOBS",
            "'LOBSEGMENT', 'LOBINDEX'",
            "INDEX_TYPE <> 'LOB'",
        ] {
            assert!(q.sql.contains(part), "{part}: {}", q.sql);
        }
    }

    #[test]
    fn more_owners_than_an_in_list_holds_are_split() {
        let owners: Vec<String> = (0..1001).map(|i| format!("S{i}")).collect();
        let q = views_query(Some(&owners));
        assert!(q.sql.contains("WHERE (OWNER IN (:b1, "), "{}", &q.sql[..80]);
        assert!(q.sql.contains(", :b1000) OR OWNER IN (:b1001))"));
        assert_eq!(q.binds.len(), 1001);
    }

    #[test]
    fn every_dictionary_query_filters_on_the_owners() {
        let owners = ["HR".to_string()];
        for q in [
            tables_query(Some(&owners)),
            columns_query(Some(&owners)),
            constraints_query(Some(&owners)),
            sizes_query(Some(&owners)),
            indexes_query(Some(&owners)),
            views_query(Some(&owners)),
            mviews_query(Some(&owners)),
            sequences_query(Some(&owners)),
            synonyms_query(Some(&owners)),
            source_query(Some(&owners)),
            db_links_query(Some(&owners)),
            partitions_query(Some(&owners)),
            partition_keys_query(Some(&owners)),
            table_log_groups_query(Some(&owners)),
        ] {
            assert!(q.sql.contains(" IN (:b1"), "{}", q.sql);
            assert!(q.binds.iter().all(|(_, v)| v == "HR"));
            assert!(
                !q.sql.contains("'HR'"),
                "owners are bound, not inlined: {}",
                q.sql
            );
        }
    }

    #[test]
    fn probes_and_measures_name_the_table_as_stored() {
        let table = migrate_core::Table::new(QualifiedName::new(
            Some(Ident::new("APP")),
            Ident::quoted("Orders"),
        ));
        assert_eq!(
            probe_table(&table),
            "SELECT 1 FROM \"APP\".\"Orders\" AS OF TIMESTAMP SYSTIMESTAMP WHERE 1 = 0"
        );
        let (sql, measured) = longest_values_query(
            &table,
            &[
                ("NOTE", "CLOB"),
                ("OLD", "LONG"),
                ("NAME", "VARCHAR2(32767 CHAR)"),
            ],
        )
        .unwrap();
        assert_eq!(
            sql,
            "SELECT MAX(DBMS_LOB.GETLENGTH(\"NOTE\")), MAX(LENGTHB(\"NAME\")) FROM \"APP\".\"Orders\""
        );
        assert_eq!(
            measured,
            [
                ("NOTE".to_string(), LengthUnit::Characters),
                ("NAME".to_string(), LengthUnit::Bytes)
            ]
        );
        assert!(longest_values_query(&table, &[("OLD", "LONG")]).is_none());
        assert_eq!(probe_view("V$LOG"), "SELECT 1 FROM V$LOG WHERE 1 = 0");
    }
}
