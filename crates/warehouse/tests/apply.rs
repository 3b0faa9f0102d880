//! Change batches applied to a real PostgreSQL (migrate-testkit): the target after each batch is
//! compared with an independent replay of the same changes over a map (see `apply_support`).

mod apply_support;

use apply_support::*;
use arrow::array::RecordBatch;
use futures::{stream, StreamExt};
use migrate_core::{ErrorClass, Retry, SourceDialect, Table};
use migrate_warehouse::{
    ApplyOutcome, PostgresWarehouse, PrepMode, SchemaChangePolicy, TableChanges, WarehouseError,
};

type Batches = stream::Iter<std::vec::IntoIter<Result<RecordBatch, StageError>>>;

fn changes(table: &Table, list: &[(i64, Change)], size: usize) -> TableChanges<Batches> {
    TableChanges {
        table: table.clone(),
        changes: stream::iter(
            batches(table, list, size)
                .into_iter()
                .map(Ok)
                .collect::<Vec<_>>(),
        ),
    }
}

/// Numbers the changes 1, 2, ... from `first`.
fn numbered(first: i64, list: Vec<Change>) -> Vec<(i64, Change)> {
    list.into_iter()
        .enumerate()
        .map(|(i, c)| (first + i as i64, c))
        .collect()
}

fn row(values: &[Option<&str>]) -> Row {
    values.iter().map(|v| v.map(str::to_string)).collect()
}

/// Creates `table` on `db` through `prepare`, fills it with `initial`, and returns the model.
async fn setup(
    wh: &PostgresWarehouse,
    db: &migrate_testkit::PgDatabase,
    table: &Table,
    target: &str,
    initial: &[Row],
) -> Model {
    wh.prepare(table, SourceDialect::Postgres, PrepMode::DropAndCreate)
        .await
        .unwrap();
    if !initial.is_empty() {
        db.sql(&insert_sql(target, initial)).unwrap();
    }
    Model::new(table, initial)
}

async fn apply(
    wh: &PostgresWarehouse,
    sequence: u64,
    tables: Vec<TableChanges<Batches>>,
) -> Result<ApplyOutcome, WarehouseError> {
    wh.apply_changes("task1", sequence, &format!("0/{sequence:X}"), None, tables)
        .await
}

/// [`apply`] over `wh` and `shards` (two-phase commit).
async fn apply_over(
    wh: &PostgresWarehouse,
    shards: &[PostgresWarehouse],
    sequence: u64,
    tables: Vec<TableChanges<Batches>>,
) -> Result<ApplyOutcome, WarehouseError> {
    let shards: Vec<&PostgresWarehouse> = shards.iter().collect();
    wh.apply_changes_over(
        &shards,
        "task1",
        sequence,
        &format!("0/{sequence:X}"),
        None,
        tables,
    )
    .await
}

/// The staging tables of parallel or pipelined applies left in `db`.
fn staging_tables(db: &migrate_testkit::PgDatabase) -> u32 {
    let count = db
        .sql(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'migrate' AND tablename LIKE 'cdc%'",
        )
        .unwrap();
    count.trim().parse().unwrap()
}

/// `count` more connections to `db`.
async fn connections(db: &migrate_testkit::PgDatabase, count: usize) -> Vec<PostgresWarehouse> {
    let mut all = Vec::new();
    for _ in 0..count {
        all.push(PostgresWarehouse::connect(db.url()).await.unwrap());
    }
    all
}

fn orders() -> Table {
    table(
        "app",
        "Orders",
        &[("id", "bigint"), ("name", "text"), ("note", "text")],
        &["id"],
    )
}
const ORDERS: &str = "app.orders";
const ORDER_COLUMNS: &[&str] = &["id", "name", "note"];

#[tokio::test(flavor = "current_thread")]
async fn chains_key_changes_swaps_and_reinserts_match_a_replay() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("apply_chains");
    let wh = PostgresWarehouse::connect(db.url()).await.unwrap();
    let t = orders();
    let initial: Vec<Row> = (1..=10)
        .map(|i| row(&[Some(&i.to_string()), Some(&format!("n{i}")), None]))
        .collect();
    let mut model = setup(&wh, &db, &t, ORDERS, &initial).await;
    wh.start_cdc("task1", "0/0").await.unwrap();

    let list = numbered(
        1,
        vec![
            // A plain insert and update and delete.
            ins(&[Some("11"), Some("new"), Some("x")]),
            upd(&["1"], vec![v("1"), v("one"), After::Null]),
            del(&["2"]),
            // insert -> update -> update (key change) -> delete of one row in one batch.
            ins(&[Some("100"), Some("a"), None]),
            upd(&["100"], vec![v("100"), v("b"), v("note")]),
            upd(&["100"], vec![v("101"), v("c"), v("note")]),
            del(&["101"]),
            // Key swap through a free key: 3 -> 4 while 4 -> 3.
            upd(&["3"], vec![v("-3"), v("was3"), After::Null]),
            upd(&["4"], vec![v("3"), v("was4"), After::Null]),
            upd(&["-3"], vec![v("4"), v("was3"), v("moved")]),
            // Delete then re-insert the same key, then update it.
            del(&["5"]),
            ins(&[Some("5"), Some("again"), None]),
            upd(&["5"], vec![v("5"), v("again2"), v("z")]),
            // A key change onto a key deleted earlier in the batch.
            del(&["6"]),
            upd(&["7"], vec![v("6"), v("was7"), After::Null]),
            // A key change, then a change back.
            upd(&["8"], vec![v("80"), v("eight"), After::Null]),
            upd(&["80"], vec![v("8"), v("eight again"), After::Null]),
            // Many updates of one row.
            upd(&["9"], vec![v("9"), v("u1"), After::Null]),
            upd(&["9"], vec![v("9"), v("u2"), After::Null]),
            upd(&["9"], vec![v("9"), v("u3"), v("last")]),
        ],
    );
    for (_, change) in &list {
        model.apply(change);
    }
    let outcome = apply(&wh, 1, vec![changes(&t, &list, 3)]).await.unwrap();
    assert_eq!(read_table(&db, ORDERS, ORDER_COLUMNS), model.render());
    assert_eq!(outcome.rows_in, list.len() as u64);
    assert!(!outcome.skipped_already_applied);
    // Keys touched: 1..9 (3 and 4 swap, 7 and 80 move), 11, 100, 101, 6, 80: the deletes are the
    // touched keys that existed before (1..9), the inserts the keys that exist after.
    assert_eq!(outcome.deleted, 9);
    assert_eq!(outcome.inserted, 8);
    let checkpoint = wh.cdc_checkpoint("task1").await.unwrap().unwrap();
    assert_eq!(
        (checkpoint.sequence, checkpoint.position.as_str()),
        (1, "0/1")
    );
}

#[tokio::test(flavor = "current_thread")]
async fn random_batches_match_a_replay() {
    random_batches("apply_random", 0).await;
}

#[tokio::test(flavor = "current_thread")]
async fn random_batches_over_three_connections_match_a_replay() {
    random_batches("apply_random_shards", 2).await;
}

/// Twelve batches of random changes (inserts, deletes, updates that keep or change the key,
/// unchanged values, truncates), applied over one connection plus `shards`.
async fn random_batches(database: &str, shards: usize) {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database(database);
    let wh = PostgresWarehouse::connect(db.url()).await.unwrap();
    let shards = connections(&db, shards).await;
    let t = orders();
    let initial: Vec<Row> = (0..40)
        .map(|i| row(&[Some(&i.to_string()), Some("init"), Some(&"t".repeat(3000))]))
        .collect();
    let mut model = setup(&wh, &db, &t, ORDERS, &initial).await;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut next = |n: u64| rng.below(n);
    let mut seq = 0;
    for sequence in 1..=12u64 {
        let mut list = Vec::new();
        for _ in 0..(50 + next(150)) {
            seq += 1;
            let present: Vec<Vec<String>> = {
                let mut keys: Vec<_> = model.rows.keys().cloned().collect();
                keys.sort();
                keys
            };
            // Keys 0..80, so that keys come back often (the model never holds more than 60 rows).
            let free_key = |next: &mut dyn FnMut(u64) -> u64| loop {
                let k = next(80).to_string();
                if !model.rows.contains_key(&vec![k.clone()]) {
                    break k;
                }
            };
            let roll = next(100);
            let change = if present.is_empty() || (roll < 25 && present.len() < 60) {
                let key = free_key(&mut next);
                ins(&[
                    Some(&key),
                    Some(&format!("i{seq}")),
                    Some(&format!("big{seq}{}", "b".repeat(2500))),
                ])
            } else if roll == 99 && next(4) == 0 {
                Change::Truncate
            } else {
                let before = present[next(present.len() as u64) as usize].clone();
                if roll < 45 {
                    Change::Delete(before)
                } else {
                    let key = if roll < 60 {
                        free_key(&mut next)
                    } else {
                        before[0].clone()
                    };
                    let name = match next(3) {
                        0 => After::Null,
                        _ => After::Value(format!("u{seq}")),
                    };
                    let note = match next(3) {
                        0 => After::Unchanged,
                        1 => After::Null,
                        _ => After::Value(format!("n{seq}{}", "n".repeat(2500))),
                    };
                    Change::Update(before, vec![After::Value(key), name, note])
                }
            };
            model.apply(&change);
            list.push((seq, change));
        }
        apply_over(&wh, &shards, sequence, vec![changes(&t, &list, 37)])
            .await
            .unwrap_or_else(|e| panic!("batch {sequence}: {e}"));
        assert_eq!(
            read_table(&db, ORDERS, ORDER_COLUMNS),
            model.render(),
            "after batch {sequence}"
        );
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_batch_split_over_three_connections_matches_a_replay() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("apply_split");
    let wh = PostgresWarehouse::connect(db.url()).await.unwrap();
    let shards = connections(&db, 2).await;
    let t = orders();
    // Rows of ~300 bytes: the net changes span dozens of blocks, so every connection gets a
    // share.
    let pad = "p".repeat(300);
    let initial: Vec<Row> = (1..=3000)
        .map(|i| {
            row(&[
                Some(&i.to_string()),
                Some("old"),
                Some(&format!("{i}{pad}")),
            ])
        })
        .collect();
    let mut model = setup(&wh, &db, &t, ORDERS, &initial).await;
    wh.start_cdc("task1", "0/0").await.unwrap();
    // Every row updated once, every seventh moved to a new key, every eleventh deleted, new
    // rows inserted, and a key moved twice within the batch.
    let mut list = Vec::new();
    for i in 1..=3000i64 {
        let key = i.to_string();
        let change = if i % 11 == 0 {
            del(&[&key])
        } else {
            let new_key = if i % 7 == 0 {
                (i + 10_000).to_string()
            } else {
                key.clone()
            };
            upd(
                &[&key],
                vec![v(&new_key), v("new"), v(&format!("{i}{pad}x"))],
            )
        };
        list.push(change);
    }
    for i in 20_001..=20_500i64 {
        list.push(ins(&[Some(&i.to_string()), Some("ins"), Some(&pad)]));
    }
    list.push(upd(
        &["10007"],
        vec![v("30007"), v("twice"), After::Unchanged],
    ));
    let list = numbered(1, list);
    for (_, change) in &list {
        model.apply(change);
    }
    let outcome = apply_over(&wh, &shards, 1, vec![changes(&t, &list, 500)])
        .await
        .unwrap();
    assert_eq!(read_table(&db, ORDERS, ORDER_COLUMNS), model.render());
    assert_eq!(outcome.rows_in, list.len() as u64);
    assert_eq!(outcome.inserted as usize, model.rows.len());
    assert_eq!(outcome.tables.len(), 1);
    let checkpoint = wh.cdc_checkpoint("task1").await.unwrap().unwrap();
    assert_eq!(
        (checkpoint.sequence, checkpoint.position.as_str()),
        (1, "0/1")
    );

    // A truncate mid-batch: one connection writes the table.
    let list = numbered(
        list.len() as i64 + 1,
        vec![
            upd(&["1"], vec![v("1"), v("gone"), After::Null]),
            Change::Truncate,
            ins(&[Some("5"), Some("after"), None]),
            ins(&[Some("6"), Some("after"), Some(&pad)]),
        ],
    );
    for (_, change) in &list {
        model.apply(change);
    }
    let outcome = apply_over(&wh, &shards, 2, vec![changes(&t, &list, 500)])
        .await
        .unwrap();
    assert_eq!(read_table(&db, ORDERS, ORDER_COLUMNS), model.render());
    assert_eq!((outcome.truncated, outcome.inserted), (1, 2));
    // Applied again (a resumed stream): nothing happens.
    let again = apply_over(&wh, &shards, 2, vec![changes(&t, &list, 500)])
        .await
        .unwrap();
    assert!(again.skipped_already_applied);
    assert_eq!(read_table(&db, ORDERS, ORDER_COLUMNS), model.render());
    // The staging tables are gone.
    assert_eq!(staging_tables(&db), 0);
}

#[tokio::test(flavor = "current_thread")]
async fn a_table_with_another_unique_key_is_written_by_one_connection() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("apply_unique");
    let wh = PostgresWarehouse::connect(db.url()).await.unwrap();
    let shards = connections(&db, 1).await;
    let t = table(
        "app",
        "users",
        &[("id", "bigint"), ("email", "text"), ("note", "text")],
        &["id"],
    );
    let pad = "p".repeat(300);
    let initial: Vec<Row> = (1..=2000)
        .map(|i| row(&[Some(&i.to_string()), Some(&format!("e{i}")), Some(&pad)]))
        .collect();
    let mut model = setup(&wh, &db, &t, "app.users", &initial).await;
    db.sql("ALTER TABLE app.users ADD UNIQUE (email)").unwrap();
    // Rows 1 and 2000 (at both ends of the key range) swap their emails through a free value;
    // split between two connections, each one's INSERT would wait for the other's DELETE.
    let mut list: Vec<Change> = (2..2000)
        .map(|i: i64| {
            let key = i.to_string();
            upd(&[&key], vec![v(&key), v(&format!("e{i}")), v("new")])
        })
        .collect();
    list.push(upd(&["1"], vec![v("1"), v("swap"), v("new")]));
    list.push(upd(&["2000"], vec![v("2000"), v("e1"), v("new")]));
    list.push(upd(&["1"], vec![v("1"), v("e2000"), v("new")]));
    let list = numbered(1, list);
    for (_, change) in &list {
        model.apply(change);
    }
    let applied = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        apply_over(&wh, &shards, 1, vec![changes(&t, &list, 500)]),
    )
    .await
    .expect("the apply must not wait on itself");
    applied.unwrap();
    assert_eq!(
        read_table(&db, "app.users", &["id", "email", "note"]),
        model.render()
    );
}

#[tokio::test(flavor = "current_thread")]
async fn prepared_transactions_left_by_a_crash_follow_the_checkpoint() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("apply_prepared");
    let wh = PostgresWarehouse::connect(db.url()).await.unwrap();
    let shards = connections(&db, 1).await;
    let t = orders();
    let initial: Vec<Row> = (1..=10)
        .map(|i| row(&[Some(&i.to_string()), Some("old"), None]))
        .collect();
    let mut model = setup(&wh, &db, &t, ORDERS, &initial).await;
    wh.start_cdc("task1", "0/0").await.unwrap();
    let first = numbered(1, vec![upd(&["1"], vec![v("1"), v("first"), After::Null])]);
    for (_, change) in &first {
        model.apply(change);
    }
    apply_over(&wh, &shards, 1, vec![changes(&t, &first, 10)])
        .await
        .unwrap();

    // A batch that fails after its changes were staged (a row the target refuses): nothing of
    // it is applied, its staging tables stay behind.
    db.sql(&format!(
        "ALTER TABLE {ORDERS} ADD CONSTRAINT not_bad CHECK (name <> 'bad')"
    ))
    .unwrap();
    let refused = numbered(
        2,
        vec![
            upd(&["3"], vec![v("3"), v("fine"), After::Null]),
            upd(&["4"], vec![v("4"), v("bad"), After::Null]),
        ],
    );
    let error = apply_over(&wh, &shards, 2, vec![changes(&t, &refused, 10)])
        .await
        .unwrap_err();
    assert!(error.to_string().contains("not_bad"), "{error}");
    assert_eq!(read_table(&db, ORDERS, ORDER_COLUMNS), model.render());
    assert_ne!(staging_tables(&db), 0);
    db.sql(&format!("ALTER TABLE {ORDERS} DROP CONSTRAINT not_bad"))
        .unwrap();

    // What a crash between the commits would leave: the second connection's share of batch 1
    // (whose checkpoint committed) and a share of batch 2 (not committed) still prepared, each
    // holding a lock on a staging table it read, as a writer does.
    let staged = db
        .sql("SELECT format('%I.%I', schemaname, tablename) FROM pg_tables WHERE schemaname = 'migrate' AND tablename LIKE 'cdc%' LIMIT 1")
        .unwrap();
    for (sequence, id, name) in [(1, "101", "kept"), (2, "102", "dropped")] {
        let gid = wh.prepared_transaction_id("task1", sequence, 1);
        db.sql(&format!(
            "BEGIN; SELECT count(*) FROM {}; INSERT INTO {ORDERS} VALUES ({id}, '{name}', NULL); PREPARE TRANSACTION '{gid}';",
            staged.trim()
        ))
        .unwrap();
    }
    model.apply(&ins(&[Some("101"), Some("kept"), None]));

    // The next batch commits the first, rolls the second back, drops the staging tables (in
    // that order: the prepared transactions' locks would block the drops forever), then applies.
    let second = numbered(4, vec![upd(&["2"], vec![v("2"), v("second"), After::Null])]);
    for (_, change) in &second {
        model.apply(change);
    }
    tokio::time::timeout(
        std::time::Duration::from_secs(30),
        apply_over(&wh, &shards, 2, vec![changes(&t, &second, 10)]),
    )
    .await
    .expect("settling the prepared transactions and the staging tables took over 30 s")
    .unwrap();
    assert_eq!(read_table(&db, ORDERS, ORDER_COLUMNS), model.render());
    assert_eq!(
        db.sql("SELECT count(*) FROM pg_prepared_xacts WHERE database = current_database()")
            .unwrap()
            .trim(),
        "0"
    );
    assert_eq!(staging_tables(&db), 0);
}

#[tokio::test(flavor = "current_thread")]
async fn prepared_transaction_ids_differ_per_database_and_task() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let (one, two) = (
        pg.create_database("apply_gid_a"),
        pg.create_database("apply_gid_b"),
    );
    let one = PostgresWarehouse::connect(one.url()).await.unwrap();
    let two = PostgresWarehouse::connect(two.url()).await.unwrap();
    let id = one.prepared_transaction_id("task1", 7, 1);
    assert!(
        id.starts_with("migrate-cdc-") && id.ends_with("-7-1"),
        "{id}"
    );
    assert_ne!(id, two.prepared_transaction_id("task1", 7, 1));
    assert_ne!(id, one.prepared_transaction_id("task2", 7, 1));
    assert_eq!(id, one.prepared_transaction_id("task1", 7, 1));
}

/// A small deterministic generator (PCG-style LCG), so failures replay.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

fn documents() -> Table {
    table(
        "app",
        "docs",
        &[
            ("id", "bigint"),
            ("title", "text"),
            ("body", "text"),
            ("extra", "text"),
        ],
        &["id"],
    )
}

#[tokio::test(flavor = "current_thread")]
async fn unchanged_values_come_from_the_target_or_an_earlier_change() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("apply_unchanged");
    let wh = PostgresWarehouse::connect(db.url()).await.unwrap();
    let t = documents();
    let big = |tag: &str| format!("{tag}:{}", "toast".repeat(4000));
    let initial: Vec<Row> = (1..=6)
        .map(|i| {
            vec![
                Some(i.to_string()),
                Some(format!("t{i}")),
                Some(big(&format!("body{i}"))),
                Some(big(&format!("extra{i}"))),
            ]
        })
        .collect();
    let mut model = setup(&wh, &db, &t, "app.docs", &initial).await;
    let u = After::Unchanged;
    let list = numbered(
        1,
        vec![
            // From the target.
            upd(&["1"], vec![v("1"), v("t1b"), u.clone(), u.clone()]),
            // NULL is not unchanged: body becomes NULL, extra keeps its value.
            upd(&["2"], vec![v("2"), v("t2b"), After::Null, u.clone()]),
            // From an earlier change in the batch (an insert, then updates that keep values).
            ins(&[Some("7"), Some("t7"), Some(&big("body7")), None]),
            upd(&["7"], vec![v("7"), v("t7b"), u.clone(), v("e7")]),
            upd(&["7"], vec![v("7"), v("t7c"), u.clone(), u.clone()]),
            // Through a key change: 3 -> 30 keeps body, then 30 updated again keeping it.
            upd(&["3"], vec![v("30"), v("t30"), u.clone(), v("e30")]),
            upd(&["30"], vec![v("30"), v("t30b"), u.clone(), u.clone()]),
            // Two key changes in a row, both keeping body: 4 -> 40 -> 41.
            upd(&["4"], vec![v("40"), v("t40"), u.clone(), u.clone()]),
            upd(&["40"], vec![v("41"), v("t41"), u.clone(), u.clone()]),
            // Delete then re-insert with a new value, then an update keeping it.
            del(&["5"]),
            ins(&[Some("5"), Some("t5"), Some(&big("body5 new")), Some("e5")]),
            upd(&["5"], vec![v("5"), v("t5b"), u.clone(), u.clone()]),
            // A key column unchanged (a TOASTed key): the key stays.
            upd(&["6"], vec![u.clone(), v("t6b"), u.clone(), v("e6")]),
        ],
    );
    for (_, change) in &list {
        model.apply(change);
    }
    apply(&wh, 1, vec![changes(&t, &list, 4)]).await.unwrap();
    assert_eq!(
        read_table(&db, "app.docs", &["id", "title", "body", "extra"]),
        model.render()
    );

    // An unchanged value of a row that exists nowhere: the target is out of step; the batch
    // fails whole, naming the table, the change and the column.
    let list = numbered(
        100,
        vec![
            upd(&["1"], vec![v("1"), v("fine"), u.clone(), u.clone()]),
            upd(&["999"], vec![v("999"), v("x"), u.clone(), v("e")]),
        ],
    );
    let error = apply(&wh, 2, vec![changes(&t, &list, 10)])
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("app.docs")
            && message.contains("101")
            && message.contains("body")
            && message.contains("999"),
        "{message}"
    );
    assert_eq!(error.retry(), Retry::Definite);
    assert_eq!(
        read_table(&db, "app.docs", &["id", "title", "body", "extra"]),
        model.render()
    );
    assert_eq!(
        wh.cdc_checkpoint("task1").await.unwrap().unwrap().sequence,
        1
    );
}

/// A pipelined capture stages the next batch while the one before it is written (on other
/// connections): unchanged values still come from the target as the batch before left it.
#[tokio::test(flavor = "current_thread")]
async fn a_batch_staged_before_the_previous_is_written_takes_its_values() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("apply_pipelined");
    let wh = PostgresWarehouse::connect(db.url()).await.unwrap();
    let stager = PostgresWarehouse::connect(db.url()).await.unwrap();
    let shards = connections(&db, 1).await;
    let shards: Vec<&PostgresWarehouse> = shards.iter().collect();
    let t = documents();
    let initial: Vec<Row> = (1..=4)
        .map(|i| {
            row(&[
                Some(&i.to_string()),
                Some("t"),
                Some("body0"),
                Some("extra0"),
            ])
        })
        .collect();
    let mut model = setup(&wh, &db, &t, "app.docs", &initial).await;
    wh.start_cdc("task1", "0/0").await.unwrap();
    wh.settle_apply("task1").await.unwrap();
    let u = After::Unchanged;
    let first = numbered(
        1,
        vec![
            upd(&["1"], vec![v("1"), v("t1"), v("body1"), v("extra1")]),
            del(&["2"]),
            ins(&[Some("5"), Some("t5"), Some("body5"), None]),
        ],
    );
    let second = numbered(
        4,
        vec![
            // Values batch 1 wrote, not the ones the target had when this was staged.
            upd(&["1"], vec![v("1"), v("t1b"), u.clone(), u.clone()]),
            upd(&["5"], vec![v("50"), v("t50"), u.clone(), v("e50")]),
            upd(&["3"], vec![v("3"), v("t3"), u.clone(), After::Null]),
        ],
    );
    for (_, change) in first.iter().chain(&second) {
        model.apply(change);
    }
    let one = stager
        .stage_changes("task1", 1, vec![changes(&t, &first, 2)])
        .await
        .unwrap();
    let two = stager
        .stage_changes("task1", 2, vec![changes(&t, &second, 2)])
        .await
        .unwrap();
    wh.write_changes(&shards, one, "0/1", None).await.unwrap();
    let outcome = wh.write_changes(&shards, two, "0/2", None).await.unwrap();
    assert_eq!((outcome.rows_in, outcome.inserted), (3, 3));
    assert_eq!(
        read_table(&db, "app.docs", &["id", "title", "body", "extra"]),
        model.render()
    );
    assert_eq!(
        wh.cdc_checkpoint("task1").await.unwrap().unwrap().position,
        "0/2"
    );
    assert_eq!(staging_tables(&db), 0);

    // Staged again after it was written (a resumed stream): skipped, and its staging dropped.
    let again = stager
        .stage_changes("task1", 2, vec![changes(&t, &second, 2)])
        .await
        .unwrap();
    let outcome = wh.write_changes(&[], again, "0/2", None).await.unwrap();
    assert!(outcome.skipped_already_applied);
    assert_eq!(
        read_table(&db, "app.docs", &["id", "title", "body", "extra"]),
        model.render()
    );
    assert_eq!(staging_tables(&db), 0);
}

#[tokio::test(flavor = "current_thread")]
async fn a_truncate_removes_everything_before_it() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("apply_truncate");
    let wh = PostgresWarehouse::connect(db.url()).await.unwrap();
    let t = orders();
    let initial: Vec<Row> = (1..=5)
        .map(|i| row(&[Some(&i.to_string()), Some("old"), None]))
        .collect();
    let mut model = setup(&wh, &db, &t, ORDERS, &initial).await;
    let list = numbered(
        1,
        vec![
            ins(&[Some("6"), Some("before truncate"), None]),
            upd(&["1"], vec![v("1"), v("before truncate"), After::Null]),
            Change::Truncate,
            ins(&[Some("1"), Some("after"), None]),
            ins(&[Some("2"), Some("after"), Some("x")]),
            upd(&["2"], vec![v("20"), v("after, moved"), After::Unchanged]),
            ins(&[Some("7"), Some("after"), None]),
            del(&["7"]),
        ],
    );
    for (_, change) in &list {
        model.apply(change);
    }
    let outcome = apply(&wh, 1, vec![changes(&t, &list, 2)]).await.unwrap();
    assert_eq!(read_table(&db, ORDERS, ORDER_COLUMNS), model.render());
    assert_eq!(outcome.truncated, 1);
    assert_eq!(outcome.inserted, 2);
}

#[tokio::test(flavor = "current_thread")]
async fn composite_text_and_uuid_keys() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("apply_composite");
    let wh = PostgresWarehouse::connect(db.url()).await.unwrap();
    let t = table(
        "inv",
        "Stock",
        &[
            ("region", "varchar(20 char)"),
            ("item", "uuid"),
            ("qty", "integer"),
            ("label", "text"),
        ],
        &["region", "item"],
    );
    let a = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11";
    let b = "b1eebc99-9c0b-4ef8-bb6d-6bb9bd380a22";
    let c = "c2eebc99-9c0b-4ef8-bb6d-6bb9bd380a33";
    let initial = vec![
        row(&[Some("eu"), Some(a), Some("1"), Some("eu a")]),
        row(&[Some("eu"), Some(b), Some("2"), Some("eu b")]),
        row(&[Some("us"), Some(a), Some("3"), Some("us a")]),
        row(&[Some("É'quote"), Some(c), Some("4"), None]),
    ];
    let mut model = setup(&wh, &db, &t, "inv.stock", &initial).await;
    let list = numbered(
        1,
        vec![
            // Only one part of the key changes.
            upd(&["eu", a], vec![v("eu"), v(c), v("10"), v("eu c")]),
            // Same item, other region: must not touch ("eu", a)'s neighbours.
            upd(&["us", a], vec![v("us"), v(a), v("30"), v("us a2")]),
            del(&["eu", b]),
            ins(&[Some("eu"), Some(b), Some("20"), Some("eu b again")]),
            ins(&[Some("ap"), Some(a), Some("5"), None]),
            upd(
                &["É'quote", c],
                vec![v("É'quote"), v(c), v("40"), After::Unchanged],
            ),
        ],
    );
    for (_, change) in &list {
        model.apply(change);
    }
    apply(&wh, 1, vec![changes(&t, &list, 100)]).await.unwrap();
    assert_eq!(
        read_table(&db, "inv.stock", &["region", "item", "qty", "label"]),
        model.render()
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_batch_of_several_tables_is_atomic_and_applied_once() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("apply_atomic");
    let wh = PostgresWarehouse::connect(db.url()).await.unwrap();
    let t = orders();
    let d = documents();
    let mut orders_model = setup(&wh, &db, &t, ORDERS, &[row(&[Some("1"), Some("a"), None])]).await;
    let mut docs_model = setup(&wh, &db, &d, "app.docs", &[]).await;
    wh.start_cdc("task1", "0/0").await.unwrap();
    assert_eq!(
        wh.start_cdc("task1", "0/99").await.unwrap().position,
        "0/0",
        "start_cdc keeps an existing checkpoint"
    );

    // Batch 1: both tables, interleaved sequence numbers.
    let order_changes = vec![(1, ins(&[Some("2"), Some("b"), None])), (3, del(&["1"]))];
    let doc_changes = vec![(2, ins(&[Some("1"), Some("d"), None, None]))];
    for (_, c) in &order_changes {
        orders_model.apply(c);
    }
    for (_, c) in &doc_changes {
        docs_model.apply(c);
    }
    let outcome = apply(
        &wh,
        1,
        vec![
            changes(&t, &order_changes, 10),
            changes(&d, &doc_changes, 10),
        ],
    )
    .await
    .unwrap();
    assert_eq!(outcome.tables.len(), 2);
    assert_eq!(outcome.rows_in, 3);

    // The same batch again (a retry after a lost acknowledgement): skipped, nothing read.
    let again = apply(
        &wh,
        1,
        vec![changes(
            &t,
            &[(1, ins(&[Some("3"), Some("dup"), None]))],
            10,
        )],
    )
    .await
    .unwrap();
    assert!(again.skipped_already_applied);
    assert_eq!(again.rows_in, 0);
    // Same position under another sequence number: also already applied.
    let same_position = wh
        .apply_changes(
            "task1",
            7,
            "0/1",
            None,
            vec![changes(
                &t,
                &[(1, ins(&[Some("3"), Some("dup"), None]))],
                10,
            )],
        )
        .await
        .unwrap();
    assert!(same_position.skipped_already_applied);
    assert_eq!(
        read_table(&db, ORDERS, ORDER_COLUMNS),
        orders_model.render()
    );

    // Batch 2: the first table's changes are fine, the second's stream fails midway: nothing
    // of either is applied, the checkpoint stays at batch 1.
    let good = changes(&t, &[(10, ins(&[Some("9"), Some("lost"), None]))], 10);
    let failing = TableChanges {
        table: d.clone(),
        changes: stream::iter(vec![
            Ok(batch(&d, &[(11, ins(&[Some("9"), Some("x"), None, None]))])),
            Err(StageError("staging unavailable")),
        ]),
    };
    let error = apply(&wh, 2, vec![good, failing]).await.unwrap_err();
    assert!(
        matches!(&error, WarehouseError::ChangeStream { rows: 1, .. }),
        "{error}"
    );
    assert_eq!(error.retry(), Retry::Transient);
    // A bad value in the second table (text with a NUL character): the same.
    let good = changes(&t, &[(10, ins(&[Some("9"), Some("lost"), None]))], 10);
    let bad = changes(
        &d,
        &[(11, ins(&[Some("9"), Some("nul\0"), None, None]))],
        10,
    );
    let error = apply(&wh, 2, vec![good, bad]).await.unwrap_err();
    assert_eq!(error.retry(), Retry::Definite, "{error}");
    assert!(error.to_string().contains("title"), "{error}");
    assert_eq!(
        read_table(&db, ORDERS, ORDER_COLUMNS),
        orders_model.render()
    );
    assert_eq!(
        read_table(&db, "app.docs", &["id", "title", "body", "extra"]),
        docs_model.render()
    );
    let checkpoint = wh.cdc_checkpoint("task1").await.unwrap().unwrap();
    assert_eq!(
        (checkpoint.sequence, checkpoint.position.as_str()),
        (1, "0/1")
    );

    // A table without a primary key can't be applied to.
    let mut keyless = orders();
    keyless.constraints.clear();
    let error = apply(
        &wh,
        2,
        vec![changes(
            &keyless,
            &[(20, ins(&[Some("5"), None, None]))],
            10,
        )],
    )
    .await
    .unwrap_err();
    assert!(error.to_string().contains("primary key"), "{error}");
    assert_eq!(error.retry(), Retry::Definite);
}

#[tokio::test(flavor = "current_thread")]
async fn malformed_changes_fail_the_batch_with_a_definite_error() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("apply_malformed");
    let wh = PostgresWarehouse::connect(db.url()).await.unwrap();
    let t = orders();
    setup(&wh, &db, &t, ORDERS, &[]).await;
    // __seq going backwards.
    let list = vec![
        (5, ins(&[Some("1"), None, None])),
        (4, ins(&[Some("2"), None, None])),
    ];
    let error = apply(&wh, 1, vec![changes(&t, &list, 10)])
        .await
        .unwrap_err();
    assert!(error.to_string().contains("__seq"), "{error}");
    // An update without its before key.
    let mut broken = batch(
        &t,
        &[(1, upd(&["1"], vec![v("1"), After::Null, After::Null]))],
    );
    let mut columns = broken.columns().to_vec();
    columns[3] = std::sync::Arc::new(arrow::array::Int64Array::from(vec![None::<i64>]));
    broken = RecordBatch::try_new(broken.schema(), columns).unwrap();
    let error = wh
        .apply_changes(
            "task1",
            1,
            "0/1",
            None,
            vec![TableChanges {
                table: t.clone(),
                changes: stream::iter(vec![Ok::<_, StageError>(broken)]),
            }],
        )
        .await
        .unwrap_err();
    assert!(error.to_string().contains("__before_id"), "{error}");
    assert_eq!(error.retry(), Retry::Definite);
    assert!(wh.cdc_checkpoint("task1").await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_killed_mid_apply_leaves_nothing_applied() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("apply_crash");
    let wh = PostgresWarehouse::connect(db.url()).await.unwrap();
    let t = orders();
    let initial: Vec<Row> = (1..=100)
        .map(|i| row(&[Some(&i.to_string()), Some("old"), None]))
        .collect();
    let mut model = setup(&wh, &db, &t, ORDERS, &initial).await;
    wh.start_cdc("task1", "0/0").await.unwrap();
    let list: Vec<(i64, Change)> = (1..=100)
        .map(|i| {
            (
                i,
                upd(
                    &[&i.to_string()],
                    vec![v(&i.to_string()), v("new"), After::Null],
                ),
            )
        })
        .collect();
    let all = batches(&t, &list, 10);
    // The stream terminates the applying session (from another session) after its 5th batch.
    let name = db.name().to_string();
    let url = pg.url().to_string();
    let psql = pg.psql_path().to_path_buf();
    let killing = stream::iter(all.clone().into_iter().enumerate()).then(move |(i, batch)| {
        let name = name.clone();
        let url = url.clone();
        let psql = psql.clone();
        async move {
            if i == 5 {
                tokio::task::spawn_blocking(move || {
                    let out = std::process::Command::new(psql)
                        .args([&url, "-X", "-A", "-t", "-c"])
                        .arg(format!(
                            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                              WHERE datname = '{name}' AND pid <> pg_backend_pid() AND query LIKE 'COPY%'"
                        ))
                        .output()
                        .unwrap();
                    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "1", "{out:?}");
                })
                .await
                .unwrap();
                // Give the server a moment to end the session.
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
            Ok::<_, StageError>(batch)
        }
    });
    let error = wh
        .apply_changes(
            "task1",
            1,
            "0/1",
            None,
            vec![TableChanges {
                table: t.clone(),
                changes: Box::pin(killing),
            }],
        )
        .await
        .unwrap_err();
    assert_eq!(error.retry(), Retry::Transient, "{error}");
    assert!(wh.is_closed().await);
    drop(wh);
    assert_eq!(read_table(&db, ORDERS, ORDER_COLUMNS), model.render());

    // A new connection sees the old checkpoint and applies the batch.
    let wh = PostgresWarehouse::connect(db.url()).await.unwrap();
    assert_eq!(
        wh.cdc_checkpoint("task1").await.unwrap().unwrap().position,
        "0/0"
    );
    for (_, change) in &list {
        model.apply(change);
    }
    apply(&wh, 1, vec![changes(&t, &list, 10)]).await.unwrap();
    assert_eq!(read_table(&db, ORDERS, ORDER_COLUMNS), model.render());
}

#[tokio::test(flavor = "current_thread")]
async fn schema_changes_follow_the_policy() {
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("apply_evolve");
    let wh = PostgresWarehouse::connect(db.url()).await.unwrap();
    let old = orders();
    setup(
        &wh,
        &db,
        &old,
        ORDERS,
        &[row(&[Some("1"), Some("a"), Some("n")])],
    )
    .await;
    let new = table(
        "app",
        "Orders",
        &[
            ("id", "bigint"),
            ("name", "text"),
            ("Score", "numeric"),
            ("tags", "array<text>"),
        ],
        &["id"],
    );
    let columns = || {
        db.sql("SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'app.orders'::regclass AND attnum > 0 AND NOT attisdropped")
            .unwrap()
    };
    let before = columns();

    // Stop: nothing changes, the error names the table, the columns and what to do.
    let error = wh
        .evolve_table(
            &old,
            &new,
            &[],
            SourceDialect::Postgres,
            SchemaChangePolicy::Stop,
        )
        .await
        .unwrap_err();
    let message = error.to_string();
    for part in ["app.orders", "Score", "tags", "note", "policy"] {
        assert!(message.contains(part), "{part} in {message}");
    }
    assert_eq!(error.retry(), Retry::Definite);
    assert_eq!(columns(), before);

    // Apply: columns typed by the converter, existing rows keep theirs; again is harmless.
    for _ in 0..2 {
        let findings = wh
            .evolve_table(
                &old,
                &new,
                &[],
                SourceDialect::Postgres,
                SchemaChangePolicy::Apply,
            )
            .await
            .unwrap();
        let codes: Vec<&str> = findings.iter().map(|f| f.code.as_str()).collect();
        assert_eq!(
            codes,
            ["cdc.column-added", "cdc.column-added", "cdc.column-dropped"]
        );
        assert_eq!(
            columns().trim(),
            "id bigint, name text, score numeric, tags text[]"
        );
    }
    // Changes under the new definition apply.
    let mut model = Model::new(&new, &[row(&[Some("1"), Some("a"), None, None])]);
    let list = numbered(
        1,
        vec![
            ins(&[Some("2"), Some("b"), Some("1.50"), Some("[\"x\",\"y\"]")]),
            upd(&["1"], vec![v("1"), v("a2"), v("2.00"), After::Null]),
        ],
    );
    for (_, change) in &list {
        model.apply(change);
    }
    apply(&wh, 1, vec![changes(&new, &list, 10)]).await.unwrap();
    let mut expected = model.render();
    for line in &mut expected {
        *line = line.replace("'[\"x\",\"y\"]'", "'{x,y}'");
    }
    assert_eq!(
        read_table(&db, ORDERS, &["id", "name", "score", "tags"]),
        expected
    );

    // A changed type stops under either policy, naming the ALTER TABLE that gives the target
    // column the converted type; once the target has it, the change is carried on.
    let mut retyped = new.clone();
    retyped.columns[2].data_type = migrate_core::LogicalType::BigInt;
    let evolve = || {
        wh.evolve_table(
            &new,
            &retyped,
            &[],
            SourceDialect::Postgres,
            SchemaChangePolicy::Apply,
        )
    };
    let error = evolve().await.unwrap_err();
    let alter = "ALTER TABLE app.orders ALTER COLUMN score TYPE bigint";
    assert!(
        error.to_string().contains("changed type") && error.to_string().contains(alter),
        "{error}"
    );
    assert_eq!(error.retry(), Retry::Definite);
    db.sql(alter).unwrap();
    assert_eq!(evolve().await.unwrap(), Vec::new());
}

/// The Redshift apply script is golden-tested in `tests/redshift.rs`; here its logic runs on
/// PostgreSQL (which accepts the same statements, with `GETDATE()` defined and the manifest COPY
/// replaced by INSERTs of the same changes) and must give the replay's result.
#[tokio::test(flavor = "current_thread")]
async fn the_redshift_apply_script_gives_the_replay_result_when_run_on_postgresql() {
    use migrate_warehouse::redshift::{
        apply_changes_sql, begin_apply_sql, RedshiftAuth, StagedChanges,
    };
    let Some(pg) = migrate_testkit::postgres() else {
        return;
    };
    let db = pg.create_database("apply_redshift_sql");
    let wh = PostgresWarehouse::connect(db.url()).await.unwrap();
    let t = documents();
    let initial: Vec<Row> = (1..=6)
        .map(|i| {
            row(&[
                Some(&i.to_string()),
                Some("t"),
                Some(&format!("body{i}")),
                Some("x"),
            ])
        })
        .collect();
    let mut model = setup(&wh, &db, &t, "app.docs", &initial).await;
    let u = After::Unchanged;
    let list = numbered(
        1,
        vec![
            upd(&["1"], vec![v("1"), v("t1b"), u.clone(), u.clone()]),
            upd(&["2"], vec![v("2"), v("t2b"), After::Null, u.clone()]),
            ins(&[Some("7"), Some("t7"), Some("body7"), None]),
            upd(&["7"], vec![v("7"), v("t7b"), u.clone(), v("e7")]),
            upd(&["3"], vec![v("30"), v("t30"), u.clone(), v("e30")]),
            upd(&["30"], vec![v("31"), v("t31"), u.clone(), u.clone()]),
            upd(&["4"], vec![v("-4"), v("was4"), After::Null, u.clone()]),
            upd(&["5"], vec![v("4"), v("was5"), u.clone(), u.clone()]),
            upd(&["-4"], vec![v("5"), v("was4 again"), u.clone(), u.clone()]),
            del(&["6"]),
            ins(&[Some("6"), Some("t6 new"), Some("b6"), None]),
            ins(&[Some("8"), Some("t8"), None, None]),
            del(&["8"]),
        ],
    );
    for (_, change) in &list {
        model.apply(change);
    }
    let literal = |value: Option<&str>| {
        value.map_or("NULL".to_string(), |v| {
            format!("'{}'", v.replace('\'', "''"))
        })
    };
    let rows: Vec<String> = list
        .iter()
        .map(|(seq, change)| {
            let Parts {
                op,
                unchanged: unch,
                before,
                after,
            } = parts(change, 4);
            let mut values = vec![seq.to_string(), literal(Some(op)), literal(unch.as_deref())];
            values.push(literal(before.map(|b| b[0].as_str())));
            values.extend(after.iter().map(|v| literal(v.as_deref())));
            format!("({})", values.join(", "))
        })
        .collect();
    let staged = [StagedChanges {
        table: &t,
        manifest_url: "s3://bucket/changes.manifest".into(),
    }];
    let script = apply_changes_sql(
        "task1",
        1,
        "0/1",
        None,
        &staged,
        &RedshiftAuth::IamRole("arn:aws:iam::1:role/r".into()),
    );
    // The manifest COPY becomes INSERTs of the same rows.
    let staged_by_insert = |script: &str, rows: &str| {
        let start = script.find("COPY migrate_cdc_0").unwrap();
        let end = start
            + script[start..].find("FORMAT AS PARQUET;").unwrap()
            + "FORMAT AS PARQUET;".len();
        format!(
            "{}INSERT INTO migrate_cdc_0 VALUES {rows};{}",
            &script[..start],
            &script[end..]
        )
    };
    let script = staged_by_insert(script.expose(), &rows.join(", "));
    db.sql(&format!(
        "CREATE FUNCTION getdate() RETURNS timestamp LANGUAGE sql AS 'SELECT localtimestamp';\n{}\n{script}",
        begin_apply_sql("task1")
    ))
    .unwrap();
    assert_eq!(
        read_table(&db, "app.docs", &["id", "title", "body", "extra"]),
        model.render()
    );
    assert_eq!(
        wh.cdc_checkpoint("task1").await.unwrap().unwrap().position,
        "0/1"
    );

    // An unchanged value found nowhere aborts the whole script: nothing applied.
    let script = apply_changes_sql(
        "task1",
        2,
        "0/2",
        None,
        &staged,
        &RedshiftAuth::IamRole("arn:aws:iam::1:role/r".into()),
    );
    let script = staged_by_insert(
        script.expose(),
        "(100, 'I', NULL, NULL, 50, 'x', 'y', 'z'), (101, 'U', '0010', 999, 999, 'x', NULL, 'z')",
    );
    let error = db
        .sql(&format!("{}\n{script}", begin_apply_sql("task1")))
        .unwrap_err();
    assert!(
        error.to_string().contains("unresolved unchanged value"),
        "{error}"
    );
    assert_eq!(
        read_table(&db, "app.docs", &["id", "title", "body", "extra"]),
        model.render()
    );
    assert_eq!(
        wh.cdc_checkpoint("task1").await.unwrap().unwrap().position,
        "0/1"
    );
}
