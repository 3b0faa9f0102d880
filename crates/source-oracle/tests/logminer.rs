//! LogMiner output as Oracle prints it (`V$LOGMNR_CONTENTS` rows in SQL*Plus CSV markup, in the
//! order 19c returns them with COMMITTED_DATA_ONLY and 23ai without it) through continuation
//! assembly, transactions, the mining plan and the change batches: no database needed.

use arrow_array::{
    Array, Decimal128Array, Int64Array, LargeBinaryArray, LargeStringArray, RecordBatch,
    StringArray, TimestampMicrosecondArray,
};
use migrate_core::{
    Column, Constraint, ConstraintKind, ConstraintState, Ident, LogicalType, QualifiedName, Table,
};
use migrate_source::ChangeEvent;
use migrate_source_oracle::events::{watched, EventBuilder};
use migrate_source_oracle::logminer::{
    ContentRow, Continuations, Mined, Miner, Mode, OpenTransactions, TransactionReader, Window,
};
use migrate_source_oracle::ScnPosition;

/// Splits one CSV record: quoted fields with doubled quotes, bare fields; empty bare = NULL.
fn csv_fields(line: &str) -> Vec<Option<String>> {
    let mut fields = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        let mut field = String::new();
        let quoted = chars.peek() == Some(&'"');
        if quoted {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') | None => break,
                    Some(c) => field.push(c),
                }
            }
        }
        while let Some(&c) = chars.peek() {
            if c == ',' {
                break;
            }
            field.push(c);
            chars.next();
        }
        fields.push((quoted || !field.is_empty()).then_some(field));
        if chars.next().is_none() {
            return fields;
        }
    }
}

fn fixture(name: &str) -> Vec<ContentRow> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines = text.lines();
    let header = csv_fields(lines.next().unwrap());
    assert_eq!(header.len(), 15, "{name}: header");
    lines
        .map(|line| {
            let f = csv_fields(line);
            assert_eq!(f.len(), 15, "{name}: {line}");
            let num = |i: usize| f[i].as_deref().map(|v| v.parse::<u64>().unwrap());
            ContentRow {
                scn: num(0).unwrap(),
                start_scn: num(1),
                commit_scn: num(2),
                operation_code: num(3).unwrap() as i64,
                seg_owner: f[4].clone(),
                table_name: f[5].clone(),
                row_id: f[6].clone(),
                sql_redo: f[7].clone(),
                sql_undo: f[8].clone(),
                csf: num(9) == Some(1),
                xid: f[10].clone().unwrap(),
                rs_id: f[11].clone(),
                ssn: num(12).map(|v| v as i64),
                rollback: num(13) == Some(1),
                commit_time: num(14).map(|v| v as i64),
            }
        })
        .collect()
}

fn orders() -> Table {
    let mut table = Table::new(QualifiedName::new(
        Some(Ident::new("APP")),
        Ident::new("ORDERS"),
    ));
    let mut id = Column::new(Ident::new("ID"), "NUMBER(10,0)", LogicalType::BigInt);
    id.nullable = false;
    table.columns = vec![
        id,
        Column::new(
            Ident::new("NOTE"),
            "VARCHAR2(4000 BYTE)",
            LogicalType::parse("varchar(4000 byte)").unwrap(),
        ),
        Column::new(
            Ident::new("AMOUNT"),
            "NUMBER(12,2)",
            LogicalType::Decimal {
                precision: 12,
                scale: 2,
            },
        ),
        Column::new(
            Ident::new("AT"),
            "DATE",
            LogicalType::Timestamp {
                precision: 0,
                with_time_zone: false,
            },
        ),
        Column::new(
            Ident::new("DATA"),
            "RAW(16)",
            LogicalType::Varbinary { length: 16 },
        ),
    ];
    table.constraints = vec![Constraint {
        name: Some(Ident::new("PK_ORDERS")),
        kind: ConstraintKind::PrimaryKey(vec![Ident::new("ID")]),
        state: ConstraintState::default(),
        index: Default::default(),
    }];
    table
}

/// Runs rows through one window the way the stream does, returning the events.
fn mine(
    rows: Vec<ContentRow>,
    mode: Mode,
    miner: &mut Miner,
    window: &Window,
    reader: &mut TransactionReader,
    batch_rows: usize,
) -> Vec<ChangeEvent> {
    let table = orders();
    let mut builder = EventBuilder::new(std::slice::from_ref(&table), batch_rows).unwrap();
    let mut continuations = Continuations::default();
    let mut events = Vec::new();
    let mut items: Vec<Mined> = Vec::new();
    for row in rows {
        if let Some(row) = continuations.push(row).unwrap() {
            items.extend(reader.push(miner, window, row).unwrap());
            assert!(!reader.remine_requested());
        }
    }
    continuations.finish().unwrap();
    items.extend(reader.finish_window(miner));
    let snapshot = miner.clone();
    for item in items {
        events.extend(builder.push(item, |scn| snapshot.position_at(scn)).unwrap());
    }
    match mode {
        Mode::CommittedOnly => miner.window_done(window),
        Mode::Buffered => miner.window_done_buffered(window, reader.oldest_open()),
    }
    events
}

fn column<'a, T: 'static>(batch: &'a RecordBatch, name: &str) -> &'a T {
    batch
        .column_by_name(name)
        .unwrap()
        .as_any()
        .downcast_ref::<T>()
        .unwrap()
}

fn describe(events: &[ChangeEvent]) -> Vec<String> {
    events
        .iter()
        .map(|e| match e {
            ChangeEvent::Rows { table, changes } => {
                let ops = column::<StringArray>(changes, "__op");
                format!(
                    "rows {table} {}",
                    (0..ops.len()).map(|i| ops.value(i)).collect::<String>()
                )
            }
            ChangeEvent::Truncate { tables } => format!("truncate {}", tables[0]),
            ChangeEvent::Commit { position, .. } => format!("commit {position}"),
            other => format!("{other:?}"),
        })
        .collect()
}

#[test]
fn committed_transactions_of_19c_become_batches_and_commits_in_commit_order() {
    let rows = fixture("committed-19c.csv");
    let from = ScnPosition::parse("scn:2301550").unwrap();
    let mut miner = Miner::resume(from, 100_000);
    let open = OpenTransactions {
        scn_before: 2301650,
        oldest_start: Some(2301640),
    };
    let window = miner.next_window(2301700, Some(open)).unwrap();
    assert_eq!((window.start, window.end), (2301551, 2301700));
    let mut reader = TransactionReader::new(Mode::CommittedOnly, [watched(&orders())]);
    let events = mine(
        rows,
        Mode::CommittedOnly,
        &mut miner,
        &window,
        &mut reader,
        1000,
    );
    assert_eq!(
        describe(&events),
        [
            "rows APP.ORDERS IU",
            "commit scn:2301570;mine_from=2301551",
            "rows APP.ORDERS D",
            "commit scn:2301590;mine_from=2301551",
            // Two transactions committed at SCN 2301600: one commit covers both.
            "rows APP.ORDERS IU",
            "commit scn:2301600;mine_from=2301551",
            "truncate APP.ORDERS",
            "commit scn:2301611;mine_from=2301551",
        ]
    );
    // The first batch: insert, then the update whose statement spanned two rows (CSF=1).
    let ChangeEvent::Rows { changes, .. } = &events[0] else {
        unreachable!()
    };
    assert_eq!(changes.schema().field(2).name(), "__before_ID");
    let note = column::<LargeStringArray>(changes, "NOTE");
    assert_eq!(note.value(0), "it's new");
    assert_eq!(
        note.value(1),
        "first half of a long note, second half: café"
    );
    let before = column::<Int64Array>(changes, "__before_ID");
    assert!(before.is_null(0));
    assert_eq!(before.value(1), 1);
    assert_eq!(
        column::<Decimal128Array>(changes, "AMOUNT").value_as_string(1),
        "12.50"
    );
    assert_eq!(
        column::<TimestampMicrosecondArray>(changes, "AT").value(0),
        1_705_314_600_000_000
    );
    assert_eq!(
        column::<LargeBinaryArray>(changes, "DATA").value(0),
        [0x0a, 0xff]
    );
    assert!(
        column::<StringArray>(changes, "__unchanged").is_null(1),
        "every column was logged"
    );
    // The delete: before-image key, after-image null.
    let ChangeEvent::Rows { changes, .. } = &events[2] else {
        unreachable!()
    };
    assert_eq!(column::<Int64Array>(changes, "__before_ID").value(0), 2);
    assert!(column::<Int64Array>(changes, "ID").is_null(0));
    // The key change 1 -> 10: before 1, after 10; UNISTR and 1.0E+3 decoded.
    let ChangeEvent::Rows { changes, .. } = &events[4] else {
        unreachable!()
    };
    assert_eq!(column::<LargeStringArray>(changes, "NOTE").value(0), "日本");
    assert_eq!(
        column::<Decimal128Array>(changes, "AMOUNT").value_as_string(0),
        "1000.00"
    );
    assert_eq!(column::<Int64Array>(changes, "__before_ID").value(1), 1);
    assert_eq!(column::<Int64Array>(changes, "ID").value(1), 10);
    // The window reached the current SCN: the safe start moves to the oldest open transaction.
    assert_eq!(
        miner.position().to_string(),
        "scn:2301700;mine_from=2301640"
    );
    assert_eq!(miner.next_window(2301700, None), None);
}

#[test]
fn resuming_skips_every_transaction_committed_at_or_before_the_checkpoint() {
    let rows = fixture("committed-19c.csv");
    // Checkpoint after the transactions that committed at 2301590, mining again from the start.
    let from = ScnPosition::parse("scn:2301590;mine_from=2301551").unwrap();
    let mut miner = Miner::resume(from, 100_000);
    let window = miner.next_window(2301700, None).unwrap();
    assert_eq!(window.start, 2301551);
    let mut reader = TransactionReader::new(Mode::CommittedOnly, [watched(&orders())]);
    let events = mine(
        rows,
        Mode::CommittedOnly,
        &mut miner,
        &window,
        &mut reader,
        1000,
    );
    assert_eq!(
        describe(&events),
        [
            "rows APP.ORDERS IU",
            "commit scn:2301600;mine_from=2301551",
            "truncate APP.ORDERS",
            "commit scn:2301611;mine_from=2301551",
        ]
    );
}

#[test]
fn batches_are_cut_at_batch_rows_without_cutting_the_transaction() {
    let rows = fixture("committed-19c.csv");
    let mut miner = Miner::resume(ScnPosition::new(2301550), 100_000);
    let window = miner.next_window(2301700, None).unwrap();
    let mut reader = TransactionReader::new(Mode::CommittedOnly, [watched(&orders())]);
    let events = mine(
        rows,
        Mode::CommittedOnly,
        &mut miner,
        &window,
        &mut reader,
        1,
    );
    assert_eq!(
        describe(&events)[..3],
        [
            "rows APP.ORDERS I",
            "rows APP.ORDERS U",
            "commit scn:2301570;mine_from=2301551"
        ]
    );
}

#[test]
fn a_transaction_that_started_before_the_window_makes_it_mined_again_from_the_safe_start() {
    let rows = fixture("committed-19c.csv");
    // Safe start 2301551, but the window starts later (after an earlier window of the plan).
    let mut miner = Miner::resume(ScnPosition::with_mine_from(2301550, 2301551), 10);
    let first = miner.next_window(2301700, None).unwrap();
    assert_eq!((first.start, first.end), (2301551, 2301560));
    miner.window_done(&first);
    let second = miner.next_window(2301700, None).unwrap();
    assert_eq!(second.start, 2301561);
    let mut reader = TransactionReader::new(Mode::CommittedOnly, [watched(&orders())]);
    let mut continuations = Continuations::default();
    let mut requested = false;
    for row in rows {
        if let Some(row) = continuations.push(row).unwrap() {
            let items = reader.push(&mut miner, &second, row).unwrap();
            assert!(items.is_empty());
            if reader.remine_requested() {
                requested = true;
                break;
            }
        }
    }
    // The first transaction started at 2301560, before the window: mine [2301551, 2301570] again.
    assert!(requested);
    reader.finish_window(&mut miner);
    miner.remine(&second);
    let again = miner.next_window(2301700, None).unwrap();
    assert_eq!((again.start, again.end), (2301551, 2301570));
}

#[test]
fn interleaved_transactions_of_23ai_are_buffered_until_commit_and_dropped_on_rollback() {
    let rows = fixture("raw-23ai.csv");
    let mut miner = Miner::resume(ScnPosition::new(5100000), 100_000);
    let window = miner.next_window(5100020, None).unwrap();
    let mut reader = TransactionReader::new(Mode::Buffered, [watched(&orders())]);
    let events = mine(rows, Mode::Buffered, &mut miner, &window, &mut reader, 1000);
    // XID 0900... rolled back: its insert of 22 is gone. XID 0A00... is still open at the end.
    assert_eq!(
        describe(&events),
        ["rows APP.ORDERS IU", "commit scn:5100014;mine_from=5100001"]
    );
    let ChangeEvent::Rows { changes, .. } = &events[0] else {
        unreachable!()
    };
    let ids = column::<Int64Array>(changes, "ID");
    assert_eq!((ids.value(0), ids.value(1)), (21, 21));
    // The open transaction's first SCN is the restart point.
    assert_eq!(reader.oldest_open(), Some(5100015));
    assert_eq!(
        miner.position().to_string(),
        "scn:5100020;mine_from=5100015"
    );
}

#[test]
fn continuation_rows_must_belong_to_the_same_statement() {
    let mut rows = fixture("committed-19c.csv");
    let mut continuations = Continuations::default();
    assert!(continuations.push(rows.remove(0)).unwrap().is_some());
    let mut first_half = rows.remove(0);
    assert!(first_half.csf);
    let mut second_half = rows.remove(0);
    second_half.ssn = Some(99);
    assert!(continuations.push(first_half.clone()).unwrap().is_none());
    let error = continuations.push(second_half).unwrap_err();
    assert!(error.to_string().contains("continues (CSF=1)"), "{error}");
    // A statement left open at the end of the window is an error too.
    first_half.ssn = Some(1);
    let mut continuations = Continuations::default();
    assert!(continuations.push(first_half).unwrap().is_none());
    assert!(continuations
        .finish()
        .unwrap_err()
        .to_string()
        .contains("past the last row"));
}

#[test]
fn windows_are_capped_by_span_and_current_scn() {
    let mut miner = Miner::resume(ScnPosition::new(1000), 500);
    let open = OpenTransactions {
        scn_before: 1200,
        oldest_start: None,
    };
    // Far behind: a capped window, no open-transaction information kept.
    let w = miner.next_window(5000, Some(open)).unwrap();
    assert_eq!((w.start, w.end, w.open), (1001, 1500, None));
    miner.window_done(&w);
    assert_eq!(miner.position().to_string(), "scn:1500;mine_from=1001");
    let w = miner
        .next_window(
            1700,
            Some(OpenTransactions {
                scn_before: 1690,
                oldest_start: None,
            }),
        )
        .unwrap();
    assert_eq!((w.start, w.end), (1501, 1700));
    miner.window_done(&w);
    // Nothing open: the safe start is the SCN read before V$TRANSACTION.
    assert_eq!(miner.position().to_string(), "scn:1700;mine_from=1690");
    assert_eq!(miner.position().resume_scn(), 1690);
    assert!(miner.next_window(1700, None).is_none());
}

#[test]
fn a_broken_restart_point_is_a_definite_error_not_a_silent_gap() {
    let miner = Miner::resume(ScnPosition::new(1000), 500);
    let window = miner.next_window(1100, None).unwrap();
    let error = miner.verdict(&window, None, 1050).unwrap_err();
    assert!(error.to_string().contains("mine_from="), "{error}");
    assert_eq!(
        miner.verdict(&window, None, 999).unwrap(),
        migrate_source_oracle::logminer::Verdict::Skip
    );
    assert_eq!(
        miner.verdict(&window, Some(1001), 1050).unwrap(),
        migrate_source_oracle::logminer::Verdict::Deliver
    );
}

#[test]
fn log_files_cover_the_window_preferring_archived_copies() {
    use migrate_source_oracle::logminer::{select_log_files, LogFile};
    let file = |name: &str, sequence, first, next| LogFile {
        name: name.into(),
        thread: 1,
        sequence,
        first_change: first,
        next_change: next,
    };
    let archived = [
        file("/arch/1_40.arc", 40, 900, 1000),
        file("/arch/1_41.arc", 41, 1000, 1100),
        file("/arch/1_42.arc", 42, 1100, 1200),
    ];
    let online = [
        file("/redo/redo02.log", 42, 1100, 1200),
        file("/redo/redo03.log", 43, 1200, u64::MAX),
    ];
    assert_eq!(
        select_log_files(&archived, &online, 1050, 1250).unwrap(),
        ["/arch/1_41.arc", "/arch/1_42.arc", "/redo/redo03.log"]
    );
    // The redo of the start SCN was deleted.
    let error = select_log_files(&archived[2..], &online, 1050, 1250).unwrap_err();
    assert!(
        error.to_string().contains("no redo log holds SCN 1050"),
        "{error}"
    );
    // A missing sequence in the middle.
    let gap = [archived[0].clone(), archived[2].clone()];
    assert!(select_log_files(&gap, &online, 950, 1250).is_err());
}

#[test]
fn the_full_load_position_starts_mining_before_every_open_transaction() {
    let open = OpenTransactions {
        scn_before: 900,
        oldest_start: Some(850),
    };
    assert_eq!(
        open.full_load_position(910).to_string(),
        "scn:910;mine_from=850"
    );
    let idle = OpenTransactions {
        scn_before: 905,
        oldest_start: None,
    };
    assert_eq!(
        idle.full_load_position(910).to_string(),
        "scn:910;mine_from=905"
    );
}

/// One committed transaction of `rows` (already whole) through a fresh reader and builder.
fn run_one(rows: Vec<ContentRow>) -> Result<Vec<ChangeEvent>, migrate_source_oracle::OracleError> {
    let mut miner = Miner::resume(ScnPosition::new(99), 1000);
    let window = miner.next_window(1000, None).unwrap();
    let mut reader = TransactionReader::new(Mode::CommittedOnly, [watched(&orders())]);
    let mut builder = EventBuilder::new(&[orders()], 100)?;
    let mut events = Vec::new();
    let mut items = Vec::new();
    for row in rows {
        items.extend(reader.push(&mut miner, &window, row)?);
    }
    items.extend(reader.finish_window(&mut miner));
    for item in items {
        events.extend(builder.push(item, ScnPosition::new)?);
    }
    Ok(events)
}

fn row(scn: u64, op: i64, redo: &str) -> ContentRow {
    ContentRow {
        scn,
        start_scn: Some(100),
        commit_scn: Some(200),
        operation_code: op,
        seg_owner: (op != 7).then(|| "APP".to_string()),
        table_name: (op != 7).then(|| "ORDERS".to_string()),
        sql_redo: Some(redo.to_string()),
        xid: "0A000100AA000000".into(),
        ..ContentRow::default()
    }
}

#[test]
fn changes_that_cannot_be_replicated_stop_with_the_table_and_what_to_do() {
    let commit = row(200, 7, "commit");
    for (op, redo, expected) in [
        (
            5,
            r#"alter table app.orders add (extra number)"#,
            "DDL on a replicated table",
        ),
        (
            10,
            r#"DECLARE loc_c CLOB; buf_c VARCHAR2(6172); BEGIN ..."#,
            "LOB was written piecewise",
        ),
        (255, "Unsupported", "can't decode this change"),
        (
            1,
            r#"insert into "APP"."ORDERS"("ID") values ('1'"#,
            "cannot read the redo statement",
        ),
        (
            1,
            r#"insert into "APP"."OTHER"("ID") values ('1')"#,
            "the statement is about APP.OTHER",
        ),
        (
            2,
            r#"delete from "APP"."ORDERS" where ROWID = 'AAAR3sAAMAAAACFAAA'"#,
            "does not carry the old value of key column ID",
        ),
        (
            1,
            r#"insert into "APP"."ORDERS"("ID","AT") values ('1',TO_TIMESTAMP('2024-01-15 10:30:00.1234567', 'YYYY-MM-DD HH24:MI:SS.FF9'))"#,
            "below the microsecond",
        ),
        (
            1,
            r#"insert into "APP"."ORDERS"("ID","AMOUNT") values ('1',1.234)"#,
            "more fraction digits",
        ),
    ] {
        let error = run_one(vec![row(150, op, redo), commit.clone()]).unwrap_err();
        let text = error.to_string();
        assert!(text.contains(expected), "{redo}: {text}");
        assert!(text.contains("APP.ORDERS"), "{redo}: {text}");
        assert_eq!(
            migrate_core::ErrorClass::retry(&error),
            migrate_core::Retry::Definite
        );
    }
}

#[test]
fn truncate_and_harmless_ddl() {
    let events = run_one(vec![
        row(150, 5, "truncate table app.orders"),
        row(200, 7, "commit"),
    ])
    .unwrap();
    assert_eq!(describe(&events), ["truncate APP.ORDERS", "commit scn:200"]);
    let events = run_one(vec![
        row(150, 5, "comment on table app.orders is 'x'"),
        row(200, 7, "commit"),
    ])
    .unwrap();
    assert!(events.is_empty(), "{:?}", describe(&events));
}

#[test]
fn an_update_without_all_column_logging_marks_missing_columns_unchanged() {
    let redo = r#"update "APP"."ORDERS" set "NOTE" = 'n' where "ID" = '5' and ROWID = 'AAAR3sAAMAAAACFAAA'"#;
    let events = run_one(vec![row(150, 3, redo), row(200, 7, "commit")]).unwrap();
    let ChangeEvent::Rows { changes, .. } = &events[0] else {
        panic!("{:?}", describe(&events))
    };
    // ID (key, from the where clause) and NOTE (set) are known; AMOUNT, AT, DATA are not.
    assert_eq!(
        column::<StringArray>(changes, "__unchanged").value(0),
        "00111"
    );
    assert_eq!(column::<Int64Array>(changes, "ID").value(0), 5);
    assert!(column::<Decimal128Array>(changes, "AMOUNT").is_null(0));
}

#[test]
fn every_sql_undo_of_the_fixtures_is_the_inverse_statement() {
    use migrate_source_oracle::redo::{parse_redo, RedoKind};
    let mut continuations = Continuations::default();
    let mut checked = 0;
    for row in fixture("committed-19c.csv") {
        let Some(row) = continuations.push(row).unwrap() else {
            continue;
        };
        let (Some(redo), Some(undo)) = (&row.sql_redo, &row.sql_undo) else {
            continue;
        };
        let redo = parse_redo(redo).unwrap();
        let undo = parse_redo(undo).unwrap();
        let inverse = match redo.kind {
            RedoKind::Insert => RedoKind::Delete,
            RedoKind::Delete => RedoKind::Insert,
            RedoKind::Update => RedoKind::Update,
        };
        assert_eq!(undo.kind, inverse);
        assert_eq!(
            (undo.owner.as_str(), undo.table.as_str()),
            ("APP", "ORDERS")
        );
        if redo.kind == RedoKind::Update {
            // The undo sets back what the redo's before-image says.
            for (column, value) in &undo.values {
                assert_eq!(redo.before(column), Some(value), "{column}");
            }
        }
        checked += 1;
    }
    assert_eq!(checked, 3);
}

#[test]
fn buffered_transactions_are_delivered_in_commit_order_not_start_order() {
    let mut miner = Miner::resume(ScnPosition::new(99), 1000);
    let window = miner.next_window(1000, None).unwrap();
    let mut reader = TransactionReader::new(Mode::Buffered, [watched(&orders())]);
    let mut builder = EventBuilder::new(&[orders()], 100).unwrap();
    let insert = |scn, xid: &str, id: u32| ContentRow {
        xid: xid.into(),
        start_scn: None,
        commit_scn: None,
        ..row(
            scn,
            1,
            &format!(r#"insert into "APP"."ORDERS"("ID") values ('{id}')"#),
        )
    };
    let end = |scn, xid: &str, op| ContentRow {
        xid: xid.into(),
        start_scn: None,
        commit_scn: None,
        ..row(scn, op, if op == 7 { "commit" } else { "rollback" })
    };
    let rows = vec![
        insert(101, "T1", 1),
        insert(102, "T2", 2),
        insert(103, "T1", 3),
        insert(104, "T3", 4),
        end(105, "T2", 7),
        insert(106, "T2X", 5),
        end(107, "T3", 36),
        end(108, "T1", 7),
        // T4 and T5 commit at the same SCN: one commit.
        insert(109, "T4", 6),
        insert(110, "T5", 7),
        end(111, "T4", 7),
        ContentRow {
            commit_scn: Some(111),
            ..end(111, "T5", 7)
        },
    ];
    let mut events = Vec::new();
    for r in rows {
        for item in reader.push(&mut miner, &window, r).unwrap() {
            events.extend(builder.push(item, ScnPosition::new).unwrap());
        }
    }
    for item in reader.finish_window(&mut miner) {
        events.extend(builder.push(item, ScnPosition::new).unwrap());
    }
    assert_eq!(
        describe(&events),
        [
            "rows APP.ORDERS I",
            "commit scn:105",
            "rows APP.ORDERS II",
            "commit scn:108",
            "rows APP.ORDERS II",
            "commit scn:111"
        ]
    );
    let ids = |i: usize| {
        let ChangeEvent::Rows { changes, .. } = &events[i] else {
            unreachable!()
        };
        let a = column::<Int64Array>(changes, "ID");
        (0..a.len()).map(|j| a.value(j)).collect::<Vec<_>>()
    };
    assert_eq!((ids(0), ids(2), ids(4)), (vec![2], vec![1, 3], vec![6, 7]));
    // T2X is still open: the restart point is its first SCN.
    assert_eq!(reader.oldest_open(), Some(106));
    miner.window_done_buffered(&window, reader.oldest_open());
    assert_eq!(miner.position().to_string(), "scn:1000;mine_from=106");
}
