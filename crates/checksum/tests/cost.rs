//! What the checksum costs: the same rows in PostgreSQL and MariaDB, timed against a plain hash
//! of each row in the same engine. Ignored by default (it loads a million rows); run it with
//! `bench/checksum.sh`, which also says how to read its output.
//!
//! Environment: `CHECKSUM_BENCH_ROWS` (default 1,000,000), `RUNS` (default 3: the best run of
//! each query counts).

mod common;

use common::{my, pg, My, Pg};
use migrate_checksum::{ChecksumColumn, ChunkChecksum};
use migrate_core::LogicalType;
use mysql_async::prelude::Queryable;
use std::time::{Duration, Instant};

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(text) => text
            .parse()
            .unwrap_or_else(|e| panic!("{name}={text:?} is not a number: {e}")),
        Err(_) => default,
    }
}

/// The benchmark table's columns: (name, canonical type).
fn columns(quote: fn(&str) -> String) -> Vec<ChecksumColumn> {
    [
        ("id", LogicalType::Integer),
        ("a", LogicalType::Text),
        (
            "b",
            LogicalType::Decimal {
                precision: 10,
                scale: 2,
            },
        ),
        (
            "c",
            LogicalType::Timestamp {
                precision: 6,
                with_time_zone: true,
            },
        ),
        ("d", LogicalType::Double),
    ]
    .into_iter()
    .map(|(name, data_type)| ChecksumColumn::new(quote(name), data_type))
    .collect()
}

/// Row `i` (1..=rows), the same values in both engines: a text with 1% NULLs, a decimal, a
/// timestamp with milliseconds, and doubles as real tables hold them (mostly two-decimal
/// amounts and 16-17 digit measurements, 1% NULL, 0.2% outside 1e-4..1e15).
const PG_LOAD: &str = "CREATE TABLE t (id int PRIMARY KEY, a text, b decimal(10,2), c timestamptz(6), d float8);
    INSERT INTO t SELECT i,
      CASE WHEN i % 100 = 3 THEN NULL ELSE 'row ' || i || ' ' || md5(i::text) END,
      (i % 2000000 - 1000000)::numeric / 100,
      timestamptz '2020-01-01 00:00:00+00' + i * interval '37 seconds' + (i % 1000) * interval '1 millisecond',
      CASE WHEN i % 1000 = 7 THEN i::float8 * 1e18 WHEN i % 1000 = 8 THEN i::float8 * 1e-9
           WHEN i % 100 = 5 THEN NULL WHEN i % 2 = 0 THEN i::float8 / 100 ELSE sqrt(i::float8) END
    FROM generate_series(1, ROWS) AS i;";

const MY_LOAD: &str = "CREATE TABLE t (id int PRIMARY KEY, a text, b decimal(10,2), c timestamp(6) NULL, d double);
    INSERT INTO t SELECT i,
      IF(i % 100 = 3, NULL, CONCAT('row ', i, ' ', MD5(i))),
      (i % 2000000 - 1000000) / 100,
      TIMESTAMP('2020-01-01 00:00:00') + INTERVAL i * 37 SECOND + INTERVAL (i % 1000) * 1000 MICROSECOND,
      CASE WHEN i % 1000 = 7 THEN CAST(i AS DOUBLE) * 1e18 WHEN i % 1000 = 8 THEN CAST(i AS DOUBLE) * 1e-9
           WHEN i % 100 = 5 THEN NULL WHEN i % 2 = 0 THEN CAST(i AS DOUBLE) / 100 ELSE SQRT(CAST(i AS DOUBLE)) END
    FROM (SELECT DIGITS + 1 AS i FROM TABLES) AS s WHERE i <= ROWS;
    ANALYZE TABLE t;";

/// MariaDB has no `generate_series`: `i` comes from a cross join of digit tables.
fn my_load(rows: u64) -> String {
    let places = rows.max(1).to_string().len();
    let digits: Vec<String> = (0..places)
        .map(|p| format!("{} * d{p}.n", 10u64.pow(p as u32)))
        .collect();
    let tables: Vec<String> = (0..places).map(|p| format!("digits d{p}")).collect();
    format!(
        "CREATE TABLE digits (n int); INSERT INTO digits VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9); {}",
        MY_LOAD
            .replace("DIGITS", &digits.join(" + "))
            .replace("TABLES", &tables.join(", "))
            .replace("ROWS", &rows.to_string())
    )
}

/// CPU time (user + system) of one server thread or process so far, from `/proc/<id>/stat` in
/// clock ticks of 10 ms (Linux's USER_HZ); `None` when the server is not on this machine.
fn cpu_time(id: u64) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{id}/stat")).ok()?;
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// The best wall time and the best server CPU time of a query's runs.
#[derive(Default)]
struct Timing {
    wall: Option<Duration>,
    cpu: Option<Duration>,
}

/// Times one run of a query on the server thread or process `server` (when known).
struct Run {
    server: Option<u64>,
    cpu: Option<Duration>,
    wall: Instant,
}

impl Run {
    fn start(server: Option<u64>) -> Run {
        Run {
            server,
            cpu: server.and_then(cpu_time),
            wall: Instant::now(),
        }
    }

    fn stop(self, timing: &mut Timing) {
        let wall = self.wall.elapsed();
        timing.wall = Some(timing.wall.map_or(wall, |w| w.min(wall)));
        if let (Some(before), Some(after)) = (self.cpu, self.server.and_then(cpu_time)) {
            let cpu = after.saturating_sub(before);
            timing.cpu = Some(timing.cpu.map_or(cpu, |c| c.min(cpu)));
        }
    }
}

fn seconds(d: Option<Duration>) -> String {
    d.map_or("n/a".to_string(), |d| format!("{:.2} s", d.as_secs_f64()))
}

fn ratio(a: Option<Duration>, b: Option<Duration>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if !b.is_zero() => format!("{:.2}", a.as_secs_f64() / b.as_secs_f64()),
        _ => "n/a".to_string(),
    }
}

fn report(engine: &str, checksum: &Timing, plain: &Timing) {
    println!(
        "| {engine} | {} | {} | {} | {} | {} | {} |",
        seconds(checksum.wall),
        seconds(checksum.cpu),
        seconds(plain.wall),
        seconds(plain.cpu),
        ratio(checksum.wall, plain.wall),
        ratio(checksum.cpu, plain.cpu),
    );
}

async fn pg_backend(pg: &Pg) -> u64 {
    let row =
        pg.0.query_one("SELECT pg_backend_pid()", &[])
            .await
            .unwrap();
    u64::try_from(row.get::<_, i32>(0)).unwrap()
}

/// The operating system thread of this MariaDB session (MariaDB's PROCESSLIST has `TID`).
async fn my_thread(my: &mut My) -> Option<u64> {
    my.0.query_first("SELECT TID FROM information_schema.PROCESSLIST WHERE ID = CONNECTION_ID()")
        .await
        .ok()
        .flatten()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "a benchmark: run bench/checksum.sh"]
async fn checksum_cost_against_a_plain_row_hash() {
    let (Some(maria), Some(postgres)) = (migrate_testkit::mariadb(), migrate_testkit::postgres())
    else {
        return;
    };
    let rows = env_number("CHECKSUM_BENCH_ROWS", 1_000_000);
    let runs = env_number("RUNS", 3);
    let my_db = maria.create_database("ck_cost");
    let pg_db = postgres.create_database("ck_cost");
    let pg = pg(pg_db.url()).await;
    let mut my = my(my_db.url()).await;
    let started = Instant::now();
    pg.execute(&PG_LOAD.replace("ROWS", &rows.to_string()))
        .await;
    pg.execute("VACUUM ANALYZE t").await;
    my.execute(&my_load(rows)).await;
    println!(
        "loaded {rows} rows in each engine in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let pg_columns = columns(common::pg_quote);
    let my_columns = columns(common::my_quote);
    // The plain hashes: the row as the engine prints it, hashed once per row. PostgreSQL: the
    // same two sums as the checksum; MariaDB: one sum (a second would hash every row again).
    let pg_plain = "SELECT count(*)::int8, \
          coalesce(sum(('x' || substr(h, 1, 15))::bit(60)::int8), 0)::text, \
          coalesce(sum(('x' || substr(h, 16, 15))::bit(60)::int8), 0)::text \
        FROM (SELECT md5(ROW(id, a, b, c, d)::text) AS h FROM t OFFSET 0) AS r";
    let my_plain = "SELECT COUNT(*), \
          CAST(SUM(CAST(CONV(SUBSTRING(MD5(CONCAT_WS(',', id, a, b, c, d)), 1, 15), 16, 10) AS DECIMAL(65,0))) AS CHAR) \
        FROM t";

    let pg_pid = Some(pg_backend(&pg).await);
    let my_tid = my_thread(&mut my).await;
    let (mut pg_checksum, mut pg_base) = (Timing::default(), Timing::default());
    let (mut my_checksum, mut my_base) = (Timing::default(), Timing::default());
    let (mut pg_sum, mut my_sum) = (ChunkChecksum::default(), ChunkChecksum::default());
    // Alternating, so that a burst of other work on the machine hits both alike.
    for _ in 0..runs {
        let run = Run::start(pg_pid);
        pg_sum = pg.checksum("t", &pg_columns, "").await;
        run.stop(&mut pg_checksum);
        let run = Run::start(pg_pid);
        pg.0.query_one(pg_plain, &[]).await.unwrap();
        run.stop(&mut pg_base);

        let run = Run::start(my_tid);
        my_sum = my.checksum("t", &my_columns, "").await;
        run.stop(&mut my_checksum);
        let run = Run::start(my_tid);
        let _: Option<(i64, String)> = my.0.query_first(my_plain).await.unwrap();
        run.stop(&mut my_base);
    }

    println!(
        "{rows} rows (id int, a text, b decimal(10,2), c timestamp(6) with time zone, d double), \
         best of {runs} runs; server CPU time from /proc"
    );
    println!("| engine | checksum wall | checksum CPU | plain hash wall | plain hash CPU | ratio wall | ratio CPU |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    report("PostgreSQL", &pg_checksum, &pg_base);
    report("MariaDB", &my_checksum, &my_base);
    println!("checksum (both engines): {pg_sum}");
    // The same values in both engines: the checksums must agree, at this scale too.
    assert_eq!(pg_sum, my_sum, "PostgreSQL and MariaDB checksums differ");
    assert_eq!(pg_sum.rows, rows);
}
