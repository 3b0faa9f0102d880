//! Every statement this crate sends to Oracle, as pure functions of their inputs, so that each is
//! tested as text. The I/O layer (feature `oracle`) only executes them.

use crate::redo::Literal;
use migrate_core::{LogicalType, Table};

mod dictionary;
pub use dictionary::*;

/// `"NAME"`, with embedded double quotes doubled. Oracle stores unquoted names in upper case, so
/// catalog names are quoted exactly as stored.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `'text'`, with embedded quotes doubled.
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The NLS settings of every session this crate opens. LogMiner writes dates, timestamps and
/// numbers of `SQL_REDO` in the session's formats, and the full load reads them as text in the
/// same formats: both go through one parser ([`crate::value`]). `SYYYY` keeps years before 1 AD,
/// `FF9` every fractional digit, and the UTC session time zone makes `TIMESTAMP WITH LOCAL TIME
/// ZONE` values UTC instants.
pub const SESSION_SETUP: [&str; 5] = [
    "ALTER SESSION SET NLS_DATE_FORMAT = 'SYYYY-MM-DD HH24:MI:SS'",
    "ALTER SESSION SET NLS_TIMESTAMP_FORMAT = 'SYYYY-MM-DD HH24:MI:SS.FF9'",
    "ALTER SESSION SET NLS_TIMESTAMP_TZ_FORMAT = 'SYYYY-MM-DD HH24:MI:SS.FF9 TZH:TZM'",
    "ALTER SESSION SET NLS_NUMERIC_CHARACTERS = '.,'",
    "ALTER SESSION SET TIME_ZONE = '+00:00'",
];

/// Schemas of Oracle itself, never migrated (the common ones of 19c and 23ai).
pub const SYSTEM_SCHEMAS: &[&str] = &[
    "SYS",
    "SYSTEM",
    "OUTLN",
    "DBSNMP",
    "APPQOSSYS",
    "AUDSYS",
    "CTXSYS",
    "DVSYS",
    "DVF",
    "GSMADMIN_INTERNAL",
    "LBACSYS",
    "MDSYS",
    "OJVMSYS",
    "OLAPSYS",
    "ORDDATA",
    "ORDSYS",
    "ORDPLUGINS",
    "SI_INFORMTN_SCHEMA",
    "WMSYS",
    "XDB",
    "GGSYS",
    "DGPDB_INT",
    "REMOTE_SCHEDULER_AGENT",
    "ANONYMOUS",
    "XS$NULL",
];

/// The database's current SCN.
pub const CURRENT_SCN: &str = "SELECT CURRENT_SCN FROM V$DATABASE";

/// The lowest start SCN of the transactions open now (null when none is), for the mining
/// restart point. `V$TRANSACTION` shows every transaction of the instance.
pub const OLDEST_OPEN_TRANSACTION: &str = "SELECT MIN(START_SCN) FROM V$TRANSACTION";

/// The redo settings LogMiner-based capture needs: `LOG_MODE` (`ARCHIVELOG`) and minimal and
/// all-column supplemental logging at database level.
pub const REDO_SETTINGS: &str =
    "SELECT LOG_MODE, SUPPLEMENTAL_LOG_DATA_MIN, SUPPLEMENTAL_LOG_DATA_ALL FROM V$DATABASE";

/// The full load's consistent read: `SELECT` of every column at `AS OF SCN`, so that every
/// table is read as of the one SCN the change stream starts after. Each column is selected in
/// the text form [`crate::value`] parses (the same as LogMiner's literals), except LOBs, which
/// are fetched whole.
pub fn select_as_of(table: &Table, scn: u64) -> String {
    let columns: Vec<String> = table
        .columns
        .iter()
        .map(|c| read_expression(&quote_ident(&c.name.value), &c.source_type, &c.data_type))
        .collect();
    format!(
        "SELECT {} FROM {} AS OF SCN {scn}",
        columns.join(", "),
        table_sql_name(table)
    )
}

/// How a column is selected for the full load: as text in the session formats of
/// [`SESSION_SETUP`] (numbers in the text-minimum format, which keeps every digit), hex for
/// RAW, UTC for time zones; LOBs as they are.
fn read_expression(column: &str, source_type: &str, ty: &LogicalType) -> String {
    let upper = source_type.to_ascii_uppercase();
    if upper.starts_with("TIMESTAMP") && upper.contains("WITH TIME ZONE") {
        return format!("TO_CHAR(SYS_EXTRACT_UTC({column}), 'SYYYY-MM-DD HH24:MI:SS.FF9')");
    }
    if upper.starts_with("TIMESTAMP") {
        return format!("TO_CHAR({column}, 'SYYYY-MM-DD HH24:MI:SS.FF9')");
    }
    if upper.starts_with("DATE") {
        return format!("TO_CHAR({column}, 'SYYYY-MM-DD HH24:MI:SS')");
    }
    if upper.starts_with("RAW") {
        return format!("RAWTOHEX({column})");
    }
    // Object types are read in the form of their canonical type: XML and JSON text, WKB.
    if upper.starts_with("XMLTYPE") {
        return format!("XMLSERIALIZE(DOCUMENT {column} AS CLOB)");
    }
    if upper.starts_with("JSON") {
        return format!("JSON_SERIALIZE({column} RETURNING CLOB)");
    }
    if upper.starts_with("SDO_GEOMETRY") {
        return format!("SDO_UTIL.TO_WKBGEOMETRY({column})");
    }
    match ty {
        LogicalType::SmallInt
        | LogicalType::Integer
        | LogicalType::BigInt
        | LogicalType::Decimal { .. }
        | LogicalType::Numeric
            if upper.starts_with("NUMBER")
                || upper.starts_with("FLOAT")
                || upper.starts_with("DECIMAL")
                || upper.starts_with("INTEGER") =>
        {
            format!("TO_CHAR({column}, 'TM9')")
        }
        _ => column.to_string(),
    }
}

/// How a column's value, selected by [`select_as_of`] as text, is read: the same [`Literal`]
/// forms LogMiner writes, so that one conversion ([`crate::value::append`]) serves both.
pub fn read_literal(source_type: &str, ty: &LogicalType, text: String) -> Literal {
    let upper = source_type.to_ascii_uppercase();
    if upper.starts_with("TIMESTAMP") {
        return Literal::Timestamp {
            text,
            format: "SYYYY-MM-DD HH24:MI:SS.FF9".into(),
        };
    }
    if upper.starts_with("DATE") {
        return Literal::Date {
            text,
            format: "SYYYY-MM-DD HH24:MI:SS".into(),
        };
    }
    if upper.starts_with("RAW") {
        return Literal::Raw(text);
    }
    match ty {
        LogicalType::IntervalYearMonth => Literal::YearMonthInterval(text),
        LogicalType::IntervalDaySecond { .. } => Literal::DaySecondInterval(text),
        LogicalType::SmallInt
        | LogicalType::Integer
        | LogicalType::BigInt
        | LogicalType::Decimal { .. }
        | LogicalType::Numeric
        | LogicalType::Real
        | LogicalType::Double => Literal::Number(text),
        LogicalType::Boolean => Literal::Boolean(text == "1" || text.eq_ignore_ascii_case("TRUE")),
        _ => Literal::String(text),
    }
}

/// Options of every LogMiner session: the dictionary of the open database (names and types as
/// they are when the window is mined), statements without the trailing `;`, and with
/// `COMMITTED_DATA_ONLY` (the default, [`crate::logminer::Mode::CommittedOnly`]) only committed
/// transactions, each whole and in commit order.
///
/// `CONTINUOUS_MINE` was removed in 19c: the log files of each window are added by hand
/// ([`add_logfile`]) from `V$ARCHIVED_LOG` and `V$LOG` ([`crate::logminer::select_log_files`]).
pub fn logminer_options(committed_only: bool) -> &'static str {
    if committed_only {
        "DBMS_LOGMNR.DICT_FROM_ONLINE_CATALOG + DBMS_LOGMNR.COMMITTED_DATA_ONLY + DBMS_LOGMNR.NO_SQL_DELIMITER"
    } else {
        "DBMS_LOGMNR.DICT_FROM_ONLINE_CATALOG + DBMS_LOGMNR.NO_SQL_DELIMITER"
    }
}

/// Starts LogMiner over `[start, end]` on the files added before.
pub fn start_logminer(start: u64, end: u64, committed_only: bool) -> String {
    format!(
        "BEGIN DBMS_LOGMNR.START_LOGMNR(STARTSCN => {start}, ENDSCN => {end}, OPTIONS => {}); END;",
        logminer_options(committed_only)
    )
}

/// Adds one redo log file (its path is bound as `:1`): the first of a session with `NEW`, which
/// also forgets the files of the previous window.
pub fn add_logfile(first: bool) -> &'static str {
    if first {
        "BEGIN DBMS_LOGMNR.ADD_LOGFILE(LOGFILENAME => :1, OPTIONS => DBMS_LOGMNR.NEW); END;"
    } else {
        "BEGIN DBMS_LOGMNR.ADD_LOGFILE(LOGFILENAME => :1, OPTIONS => DBMS_LOGMNR.ADDFILE); END;"
    }
}

/// Ends the LogMiner session (releases its memory).
pub const END_LOGMINER: &str = "BEGIN DBMS_LOGMNR.END_LOGMNR; END;";

/// Archived redo logs that may hold SCNs of `[start, end]`. Columns: NAME, THREAD#, SEQUENCE#,
/// FIRST_CHANGE#, NEXT_CHANGE#.
pub fn archived_logs_query(start: u64, end: u64) -> String {
    format!(
        "SELECT NAME, THREAD#, SEQUENCE#, FIRST_CHANGE#, NEXT_CHANGE# FROM V$ARCHIVED_LOG \
WHERE NAME IS NOT NULL AND STATUS = 'A' AND DELETED = 'NO' AND STANDBY_DEST = 'NO' \
AND DEST_ID IN (SELECT DEST_ID FROM V$ARCHIVE_DEST_STATUS WHERE STATUS = 'VALID' AND TYPE = 'LOCAL') \
AND NEXT_CHANGE# > {start} AND FIRST_CHANGE# <= {end} \
ORDER BY THREAD#, SEQUENCE#"
    )
}

/// Online redo log groups with one member each. Columns: MEMBER, THREAD#, SEQUENCE#,
/// FIRST_CHANGE#, NEXT_CHANGE# (the current log's NEXT_CHANGE# is the highest SCN there is).
pub const ONLINE_LOGS: &str = "SELECT MIN(f.MEMBER), l.THREAD#, l.SEQUENCE#, l.FIRST_CHANGE#, l.NEXT_CHANGE# \
FROM V$LOG l JOIN V$LOGFILE f ON f.GROUP# = l.GROUP# \
WHERE l.STATUS IN ('CURRENT', 'ACTIVE', 'INACTIVE') AND (f.STATUS IS NULL OR f.STATUS <> 'INVALID') \
GROUP BY l.THREAD#, l.SEQUENCE#, l.FIRST_CHANGE#, l.NEXT_CHANGE# \
ORDER BY l.THREAD#, l.SEQUENCE#";

/// One watched table: owner and name as stored.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WatchedTable {
    pub owner: String,
    pub table: String,
}

/// Operation codes of `V$LOGMNR_CONTENTS` this crate reads.
pub mod op {
    pub const INSERT: i64 = 1;
    pub const DELETE: i64 = 2;
    pub const UPDATE: i64 = 3;
    pub const DDL: i64 = 5;
    pub const START: i64 = 6;
    pub const COMMIT: i64 = 7;
    pub const SELECT_LOB_LOCATOR: i64 = 9;
    pub const LOB_WRITE: i64 = 10;
    pub const LOB_TRIM: i64 = 11;
    pub const LOB_ERASE: i64 = 28;
    pub const ROLLBACK: i64 = 36;
    pub const UNSUPPORTED: i64 = 255;
}

/// Most tuples Oracle accepts in one `IN` list.
const IN_LIST_LIMIT: usize = 1000;

/// The rows of `V$LOGMNR_CONTENTS` the stream needs, in LogMiner's order (commit order with
/// `COMMITTED_DATA_ONLY`): row changes of the watched tables, the operations on them that can't
/// be replicated (LOB writes, unsupported types: reported, never skipped), DDL in their schemas,
/// and every transaction's COMMIT and ROLLBACK. Columns, in order: SCN, START_SCN, COMMIT_SCN,
/// OPERATION_CODE, SEG_OWNER, TABLE_NAME, ROW_ID, SQL_REDO, SQL_UNDO, CSF, XID (hex),
/// RS_ID, SSN, ROLLBACK, COMMIT_TIMESTAMP in seconds since 1970 (a DATE in the server's clock
/// time, turned into UTC with the server's current offset: for lag reports only).
///
/// Panics never; an empty table list selects only commits and rollbacks.
///
/// `pdb`: when mining from the root container of a multitenant database, only the changes of
/// that pluggable database (`SRC_CON_NAME`) are read: two PDBs may have tables of the same name.
pub fn contents_query(tables: &[WatchedTable], pdb: Option<&str>) -> String {
    let mut owners: Vec<&str> = tables.iter().map(|t| t.owner.as_str()).collect();
    owners.sort_unstable();
    owners.dedup();
    let mut table_lists = Vec::new();
    for chunk in tables.chunks(IN_LIST_LIMIT) {
        table_lists.push(format!(
            "(SEG_OWNER, TABLE_NAME) IN ({})",
            chunk
                .iter()
                .map(|t| format!("({}, {})", quote_literal(&t.owner), quote_literal(&t.table)))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let mut filters: Vec<String> = vec![format!(
        "OPERATION_CODE IN ({}, {})",
        op::COMMIT,
        op::ROLLBACK
    )];
    if !table_lists.is_empty() {
        filters.push(format!(
            "(OPERATION_CODE IN ({}, {}, {}, {}, {}, {}, {}, {}) AND ({}))",
            op::INSERT,
            op::DELETE,
            op::UPDATE,
            op::SELECT_LOB_LOCATOR,
            op::LOB_WRITE,
            op::LOB_TRIM,
            op::LOB_ERASE,
            op::UNSUPPORTED,
            table_lists.join(" OR ")
        ));
        let mut owner_lists = Vec::new();
        for chunk in owners.chunks(IN_LIST_LIMIT) {
            owner_lists.push(format!(
                "SEG_OWNER IN ({})",
                chunk
                    .iter()
                    .map(|o| quote_literal(o))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        filters.push(format!(
            "(OPERATION_CODE = {} AND ({}))",
            op::DDL,
            owner_lists.join(" OR ")
        ));
    }
    let container = pdb
        .map(|pdb| format!("SRC_CON_NAME = {} AND ", quote_literal(pdb)))
        .unwrap_or_default();
    if !container.is_empty() {
        for filter in filters.iter_mut().skip(1) {
            *filter = format!("({container}{filter})");
        }
    }
    format!(
        "SELECT SCN, START_SCN, COMMIT_SCN, OPERATION_CODE, SEG_OWNER, TABLE_NAME, ROW_ID, SQL_REDO, SQL_UNDO, \
CSF, RAWTOHEX(XID), RS_ID, SSN, ROLLBACK, \
(CAST(SYS_EXTRACT_UTC(FROM_TZ(CAST(COMMIT_TIMESTAMP AS TIMESTAMP), TO_CHAR(SYSTIMESTAMP, 'TZH:TZM'))) AS DATE) - DATE '1970-01-01') * 86400 \
FROM V$LOGMNR_CONTENTS WHERE {}",
        filters.join(" OR ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(owner: &str, name: &str) -> WatchedTable {
        WatchedTable {
            owner: owner.into(),
            table: name.into(),
        }
    }

    #[test]
    fn start_logminer_is_golden() {
        assert_eq!(
            start_logminer(4523313, 4530000, true),
            "BEGIN DBMS_LOGMNR.START_LOGMNR(STARTSCN => 4523313, ENDSCN => 4530000, OPTIONS => \
DBMS_LOGMNR.DICT_FROM_ONLINE_CATALOG + DBMS_LOGMNR.COMMITTED_DATA_ONLY + DBMS_LOGMNR.NO_SQL_DELIMITER); END;"
        );
        assert_eq!(
            start_logminer(1, 2, false),
            "BEGIN DBMS_LOGMNR.START_LOGMNR(STARTSCN => 1, ENDSCN => 2, OPTIONS => \
DBMS_LOGMNR.DICT_FROM_ONLINE_CATALOG + DBMS_LOGMNR.NO_SQL_DELIMITER); END;"
        );
        assert!(!logminer_options(true).contains("CONTINUOUS_MINE"));
        assert_eq!(END_LOGMINER, "BEGIN DBMS_LOGMNR.END_LOGMNR; END;");
    }

    #[test]
    fn add_logfile_is_golden() {
        assert_eq!(
            add_logfile(true),
            "BEGIN DBMS_LOGMNR.ADD_LOGFILE(LOGFILENAME => :1, OPTIONS => DBMS_LOGMNR.NEW); END;"
        );
        assert_eq!(
            add_logfile(false),
            "BEGIN DBMS_LOGMNR.ADD_LOGFILE(LOGFILENAME => :1, OPTIONS => DBMS_LOGMNR.ADDFILE); END;"
        );
    }

    #[test]
    fn the_contents_query_filters_on_owners_tables_and_transaction_ends() {
        let sql = contents_query(
            &[
                table("APP", "ORDERS"),
                table("APP", "O'NEIL"),
                table("HR", "EMP"),
            ],
            None,
        );
        assert_eq!(
            sql,
            "SELECT SCN, START_SCN, COMMIT_SCN, OPERATION_CODE, SEG_OWNER, TABLE_NAME, ROW_ID, SQL_REDO, SQL_UNDO, \
CSF, RAWTOHEX(XID), RS_ID, SSN, ROLLBACK, (CAST(SYS_EXTRACT_UTC(FROM_TZ(CAST(COMMIT_TIMESTAMP AS TIMESTAMP), TO_CHAR(SYSTIMESTAMP, 'TZH:TZM'))) AS DATE) - DATE '1970-01-01') * 86400 \
FROM V$LOGMNR_CONTENTS WHERE OPERATION_CODE IN (7, 36) \
OR (OPERATION_CODE IN (1, 2, 3, 9, 10, 11, 28, 255) AND ((SEG_OWNER, TABLE_NAME) IN (('APP', 'ORDERS'), ('APP', 'O''NEIL'), ('HR', 'EMP')))) \
OR (OPERATION_CODE = 5 AND (SEG_OWNER IN ('APP', 'HR')))"
        );
        let in_pdb = contents_query(&[table("APP", "ORDERS")], Some("FREEPDB1"));
        assert!(
            in_pdb.ends_with(
                "WHERE OPERATION_CODE IN (7, 36) \
OR (SRC_CON_NAME = 'FREEPDB1' AND (OPERATION_CODE IN (1, 2, 3, 9, 10, 11, 28, 255) AND ((SEG_OWNER, TABLE_NAME) IN (('APP', 'ORDERS'))))) \
OR (SRC_CON_NAME = 'FREEPDB1' AND (OPERATION_CODE = 5 AND (SEG_OWNER IN ('APP'))))"
            ),
            "{in_pdb}"
        );
        let only_ends = contents_query(&[], None);
        assert!(only_ends.ends_with("WHERE OPERATION_CODE IN (7, 36)"));
    }

    #[test]
    fn long_table_lists_are_split_below_oracles_in_list_limit() {
        let tables: Vec<WatchedTable> = (0..2500).map(|i| table("APP", &format!("T{i}"))).collect();
        let sql = contents_query(&tables, None);
        assert_eq!(sql.matches("(SEG_OWNER, TABLE_NAME) IN (").count(), 3);
        assert!(sql.contains("('APP', 'T2499')"));
    }

    #[test]
    fn log_file_queries_cover_the_window() {
        let sql = archived_logs_query(100, 200);
        assert!(sql.contains("NEXT_CHANGE# > 100 AND FIRST_CHANGE# <= 200"));
        assert!(sql.contains("DELETED = 'NO'"));
        assert!(ONLINE_LOGS.contains("V$LOG l JOIN V$LOGFILE f"));
    }

    #[test]
    fn the_full_load_reads_every_table_as_of_one_scn_in_parseable_text() {
        use migrate_core::{Column, Ident, QualifiedName};
        let mut t = Table::new(QualifiedName::new(
            Some(Ident::new("APP")),
            Ident::new("ORDERS"),
        ));
        t.columns = vec![
            Column::new(Ident::new("ID"), "NUMBER(10)", LogicalType::BigInt),
            Column::new(
                Ident::new("AT"),
                "DATE",
                LogicalType::Timestamp {
                    precision: 0,
                    with_time_zone: false,
                },
            ),
            Column::new(
                Ident::new("TZ"),
                "TIMESTAMP(6) WITH TIME ZONE",
                LogicalType::Timestamp {
                    precision: 6,
                    with_time_zone: true,
                },
            ),
            Column::new(
                Ident::new("R"),
                "RAW(16)",
                LogicalType::Varbinary { length: 16 },
            ),
            Column::new(Ident::new("NOTE"), "CLOB", LogicalType::Text),
            Column::new(Ident::new("DOC"), "XMLTYPE", LogicalType::Xml),
            Column::new(Ident::new("SHAPE"), "SDO_GEOMETRY", LogicalType::Geometry),
        ];
        assert_eq!(
            select_as_of(&t, 4523312),
            "SELECT TO_CHAR(\"ID\", 'TM9'), TO_CHAR(\"AT\", 'SYYYY-MM-DD HH24:MI:SS'), \
TO_CHAR(SYS_EXTRACT_UTC(\"TZ\"), 'SYYYY-MM-DD HH24:MI:SS.FF9'), RAWTOHEX(\"R\"), \"NOTE\", \
XMLSERIALIZE(DOCUMENT \"DOC\" AS CLOB), SDO_UTIL.TO_WKBGEOMETRY(\"SHAPE\") \
FROM \"APP\".\"ORDERS\" AS OF SCN 4523312"
        );
    }

    #[test]
    fn full_load_text_reads_through_the_same_conversion_as_redo() {
        use arrow_array::{Array, TimestampMicrosecondArray};
        use migrate_batch::ColumnBuilder;
        let ty = LogicalType::Timestamp {
            precision: 6,
            with_time_zone: true,
        };
        let literal = read_literal(
            "TIMESTAMP(6) WITH TIME ZONE",
            &ty,
            " 2024-01-15 10:30:00.000001000".into(),
        );
        let mut builder = ColumnBuilder::new(&migrate_batch::data_type(&ty)).unwrap();
        crate::value::append(&mut builder, &ty, &literal).unwrap();
        let array = builder.finish();
        let array = array
            .as_any()
            .downcast_ref::<TimestampMicrosecondArray>()
            .unwrap();
        assert_eq!(array.value(0), 1_705_314_600_000_001);
        assert_eq!(
            read_literal(
                "NUMBER(10,2)",
                &LogicalType::Decimal {
                    precision: 10,
                    scale: 2
                },
                ".5".into()
            ),
            Literal::Number(".5".into())
        );
        assert_eq!(
            read_literal("RAW(4)", &LogicalType::Varbinary { length: 4 }, "0A".into()),
            Literal::Raw("0A".into())
        );
        assert_eq!(
            read_literal(
                "INTERVAL YEAR(2) TO MONTH",
                &LogicalType::IntervalYearMonth,
                "+01-02".into()
            ),
            Literal::YearMonthInterval("+01-02".into())
        );
        assert_eq!(
            read_literal("VARCHAR2(10 BYTE)", &LogicalType::Text, "x".into()),
            Literal::String("x".into())
        );
    }

    #[test]
    fn identifiers_and_literals_double_their_quotes() {
        assert_eq!(quote_ident("My \"T\""), "\"My \"\"T\"\"\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
    }
}
