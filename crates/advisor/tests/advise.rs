//! The advisor's rules, one scenario each, on hand-built catalogs.

use migrate_advisor::{advise, SkippedQuery, Statistics, Workload};
use migrate_core::{
    Bucketing, Catalog, Column, Constraint, ConstraintKind, ConstraintState, DistStyle, Encoding,
    Evidence, ForeignKey, Ident, LengthUnit, LogicalType, PartitionMethod, Partitioning,
    QualifiedName, SourceDialect, Table, TableLayout,
};

fn id(name: &str) -> Ident {
    Ident::new(name)
}

fn col(name: &str, data_type: LogicalType) -> Column {
    Column::new(id(name), data_type.to_string(), data_type)
}

fn varchar(length: u32) -> LogicalType {
    LogicalType::Varchar {
        length,
        unit: LengthUnit::Byte,
    }
}

fn char(length: u32) -> LogicalType {
    LogicalType::Char {
        length,
        unit: LengthUnit::Byte,
    }
}

fn decimal() -> LogicalType {
    LogicalType::Decimal {
        precision: 7,
        scale: 2,
    }
}

fn table(name: &str, columns: Vec<Column>) -> Table {
    let mut table = Table::new(QualifiedName::unqualified(id(name)));
    table.columns = columns;
    table
}

fn pk(table: &mut Table, columns: &[&str]) {
    table.constraints.push(Constraint {
        name: None,
        kind: ConstraintKind::PrimaryKey(columns.iter().map(|c| id(c)).collect()),
        state: ConstraintState::default(),
        index: Default::default(),
    });
}

fn fk(table: &mut Table, column: &str, referenced: &str) {
    table.constraints.push(Constraint {
        name: None,
        kind: ConstraintKind::ForeignKey(ForeignKey {
            columns: vec![id(column)],
            referenced_table: QualifiedName::unqualified(id(referenced)),
            referenced_columns: Vec::new(),
            on_delete: None,
            on_update: None,
            match_full: false,
        }),
        state: ConstraintState::default(),
        index: Default::default(),
    });
}

fn catalog(tables: Vec<Table>) -> Catalog {
    Catalog {
        tables,
        ..Catalog::default()
    }
}

fn evidence(choice: &str, reasons: &[&str]) -> Evidence {
    Evidence {
        choice: choice.to_string(),
        reasons: reasons.iter().map(|r| r.to_string()).collect(),
    }
}

fn no_workload() -> Workload {
    Workload::default()
}

/// TPC-DS at scale factor 100: store_sales with item, date_dim, customer and store.
fn tpcds() -> Catalog {
    use LogicalType::*;
    let mut store_sales = table(
        "store_sales",
        vec![
            col("ss_sold_date_sk", Integer),
            col("ss_item_sk", Integer),
            col("ss_customer_sk", Integer),
            col("ss_store_sk", Integer),
            col("ss_ticket_number", BigInt),
            col("ss_quantity", Integer),
            col("ss_sales_price", decimal()),
            col("ss_net_profit", decimal()),
        ],
    );
    pk(&mut store_sales, &["ss_item_sk", "ss_ticket_number"]);
    fk(&mut store_sales, "ss_sold_date_sk", "date_dim");
    fk(&mut store_sales, "ss_item_sk", "item");
    fk(&mut store_sales, "ss_customer_sk", "customer");
    fk(&mut store_sales, "ss_store_sk", "store");
    let mut date_dim = table(
        "date_dim",
        vec![
            col("d_date_sk", Integer),
            col("d_date", Date),
            col("d_year", Integer),
            col("d_moy", Integer),
        ],
    );
    pk(&mut date_dim, &["d_date_sk"]);
    let mut item = table(
        "item",
        vec![
            col("i_item_sk", Integer),
            col("i_item_id", char(16)),
            col("i_brand", varchar(50)),
            col("i_category", varchar(50)),
            col("i_current_price", decimal()),
        ],
    );
    pk(&mut item, &["i_item_sk"]);
    let mut customer = table(
        "customer",
        vec![
            col("c_customer_sk", Integer),
            col("c_customer_id", char(16)),
            col("c_first_name", char(20)),
            col("c_last_name", char(30)),
            col("c_birth_country", varchar(20)),
            col("c_email_address", varchar(50)),
            col("c_preferred_cust_flag", char(1)),
        ],
    );
    pk(&mut customer, &["c_customer_sk"]);
    let mut store = table(
        "store",
        vec![
            col("s_store_sk", Integer),
            col("s_store_name", varchar(50)),
            col("s_state", char(2)),
        ],
    );
    pk(&mut store, &["s_store_sk"]);
    catalog(vec![store_sales, date_dim, item, customer, store])
}

const TPCDS_STATS: &str = r#"{
  "tables": {
    "store_sales": {
      "rows": 287997024,
      "columns": {
        "ss_sold_date_sk": {"distinct": 1823, "null_fraction": 0.045},
        "ss_item_sk": {"distinct": 204000, "null_fraction": 0.0},
        "ss_customer_sk": {"distinct": 1999984, "null_fraction": 0.045, "most_common_fraction": 0.00001},
        "ss_store_sk": {"distinct": 201, "null_fraction": 0.045}
      }
    },
    "date_dim": {"rows": 73049},
    "ITEM": {"rows": 204000, "columns": {"i_category": {"distinct": 10}}},
    "customer": {"rows": 2000000, "columns": {"c_birth_country": {"distinct": 211}, "c_preferred_cust_flag": {"distinct": 2}}},
    "store": {"rows": 402, "columns": {"s_state": {"distinct": 9}}}
  }
}"#;

const TPCDS_WORKLOAD: &str = r#"
-- q1: brand sales in a month
select i_brand, sum(ss_sales_price) from store_sales, date_dim, item
where ss_sold_date_sk = d_date_sk and ss_item_sk = i_item_sk and d_year = 2000 and d_moy = 11
  and i_category = 'Books'
group by i_brand;
-- q2
select c.c_last_name, count(*) from store_sales ss
join customer c on ss.ss_customer_sk = c.c_customer_sk
join date_dim d on ss.ss_sold_date_sk = d.d_date_sk
where d.d_date between date '2000-01-01' and date '2000-03-31'
group by c.c_last_name;
-- q3
select s_store_name, sum(ss_net_profit) from store_sales, store, date_dim
where ss_store_sk = s_store_sk and ss_sold_date_sk = d_date_sk and d_date >= date '2001-01-01'
  and s_state = 'TN'
group by s_store_name;
-- q4
select c_customer_id from customer, store_sales where c_customer_sk = ss_customer_sk and ss_quantity > 50;
-- q5
select i_item_id, avg(ss_quantity) from store_sales join item on ss_item_sk = i_item_sk
where i_current_price between 10 and 20 group by i_item_id;
-- q6
select c_first_name, c_last_name, sum(ss_sales_price) from store_sales ss, customer c, date_dim d
where ss.ss_customer_sk = c.c_customer_sk and ss.ss_sold_date_sk = d.d_date_sk
  and d.d_date < date '2002-01-01' and c.c_birth_country = 'CHILE'
group by c_first_name, c_last_name;
-- q7
select d_year, count(*) from store_sales, date_dim where ss_sold_date_sk = d_date_sk group by d_year;
-- q8: the join goes through a CTE, so only the GROUP BY inside it counts
with top as (select ss_customer_sk, sum(ss_net_profit) p from store_sales group by ss_customer_sk)
select c_email_address from customer join top on top.ss_customer_sk = c_customer_sk where top.p > 1000;
-- q9
select i_brand, s_state, sum(ss_sales_price) from store_sales
join item on ss_item_sk = i_item_sk join store on ss_store_sk = s_store_sk
where i_category in ('Music', 'Books') group by i_brand, s_state;
-- q10
select count(*) from store_sales where ss_sold_date_sk between 2451180 and 2451269;
-- q11: broken, skipped and counted
select sum(ss_net_profit from store_sales;
-- q12
select c.c_customer_id, d.d_date from customer c
join store_sales s on s.ss_customer_sk = c.c_customer_sk
join date_dim d on d.d_date_sk = s.ss_sold_date_sk
where d.d_date between date '2000-06-01' and date '2000-06-30' and c.c_preferred_cust_flag = 'Y';
-- q13
select * from item where i_item_sk = 17;
"#;

#[test]
fn tpcds_star_with_workload() {
    let catalog = tpcds();
    let stats = Statistics::from_json(TPCDS_STATS).unwrap();
    let workload = Workload::parse(TPCDS_WORKLOAD, SourceDialect::Postgres).unwrap();
    assert_eq!(workload.queries, 12);
    assert_eq!(
        workload.skipped,
        vec![SkippedQuery {
            line: 40,
            reason: "sql parser error: Expected: ), found: from at Line: 40, Column: 26"
                .to_string(),
        }]
    );
    let layouts = advise(&catalog, &stats, &workload);
    let summary: Vec<(DistStyle, Vec<Ident>)> = layouts
        .iter()
        .map(|l| (l.diststyle.clone(), l.sortkey.clone()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                DistStyle::Key(id("ss_customer_sk")),
                vec![
                    id("ss_sold_date_sk"),
                    id("ss_customer_sk"),
                    id("ss_item_sk"),
                    id("ss_store_sk")
                ]
            ),
            (DistStyle::All, vec![id("d_date"), id("d_date_sk")]),
            (DistStyle::All, vec![id("i_item_sk")]),
            (
                DistStyle::Key(id("c_customer_sk")),
                vec![id("c_customer_sk")]
            ),
            (DistStyle::All, vec![id("s_store_sk")]),
        ]
    );
    let store_sales = &layouts[0];
    assert_eq!(
        store_sales.evidence[..2],
        [
            evidence(
                "distkey(ss_customer_sk)",
                &[
                    "joins customer.c_customer_sk in 4 of 12 queries",
                    "largest table (287,997,024 rows)",
                    "customer has 2,000,000 rows, above the 1,000,000-row threshold for ALL: the join is local only when both sides are distributed on it",
                    "ss_customer_sk: 1,999,984 distinct values, 4.5% NULL, most common value in <0.1% of rows",
                    "joins to date_dim, item, store need no co-location: distributed ALL",
                ]
            ),
            evidence(
                "sortkey(ss_sold_date_sk, ss_customer_sk, ss_item_sk, ss_store_sk)",
                &[
                    "ss_sold_date_sk: range filters on date_dim.d_date reach it through joins in 4 of 12 queries",
                    "ss_customer_sk: joined in 4, grouped by in 1 of 12 queries",
                    "ss_item_sk: joined in 3 of 12 queries",
                    "ss_store_sk: joined in 2 of 12 queries",
                    "kept the first 4 of 5 candidate columns: a later column helps only queries that filter on every earlier one",
                ]
            ),
        ]
    );
    assert_eq!(
        store_sales.encodings,
        vec![
            (id("ss_sold_date_sk"), Encoding::Raw),
            (id("ss_item_sk"), Encoding::Az64),
            (id("ss_customer_sk"), Encoding::Az64),
            (id("ss_store_sk"), Encoding::Az64),
            (id("ss_ticket_number"), Encoding::Az64),
            (id("ss_quantity"), Encoding::Az64),
            (id("ss_sales_price"), Encoding::Az64),
            (id("ss_net_profit"), Encoding::Az64),
        ]
    );
    assert_eq!(
        layouts[1].evidence[..2],
        [
            evidence(
                "diststyle all",
                &[
                    "73,049 rows, at most the 1,000,000-row threshold for ALL: a copy on every node makes joins to it local",
                    "joined in 6 of 12 queries",
                    "referenced by foreign keys from store_sales",
                ]
            ),
            evidence(
                "sortkey(d_date, d_date_sk)",
                &[
                    "d_date: range-filtered in 4 of 12 queries",
                    "d_date_sk: joined in 6 of 12 queries",
                    "stopped after d_date_sk: it is unique, so later sort key columns would never be consulted",
                ]
            ),
        ]
    );
    assert_eq!(
        layouts[3].evidence[..2],
        [
            evidence(
                "distkey(c_customer_sk)",
                &[
                    "co-located with store_sales.ss_customer_sk (287,997,024 rows): joined in 4 of 12 queries",
                    "2,000,000 rows, above the 1,000,000-row threshold for ALL",
                    "c_customer_sk: unique key",
                ]
            ),
            evidence(
                "sortkey(c_customer_sk)",
                &[
                    "c_customer_sk: joined in 4 of 12 queries",
                    "stopped after c_customer_sk: it is unique, so later sort key columns would never be consulted",
                ]
            ),
        ]
    );
    assert_eq!(
        layouts[3].encodings,
        vec![
            (id("c_customer_sk"), Encoding::Raw),
            (id("c_customer_id"), Encoding::Zstd),
            (id("c_first_name"), Encoding::Zstd),
            (id("c_last_name"), Encoding::Zstd),
            (id("c_birth_country"), Encoding::Bytedict),
            (id("c_email_address"), Encoding::Zstd),
            (id("c_preferred_cust_flag"), Encoding::Bytedict),
        ]
    );
    assert_eq!(
        layouts[3].evidence[6],
        evidence(
            "encode c_birth_country bytedict",
            &["varchar with 211 distinct values (fewer than 256): BYTEDICT replaces each value with a one-byte dictionary index"]
        )
    );
    // Same input, same output.
    assert_eq!(advise(&catalog, &stats, &workload), layouts);
}

#[test]
fn no_statistics_means_auto() {
    let mut t = table("orders", vec![col("o_id", LogicalType::BigInt)]);
    pk(&mut t, &["o_id"]);
    let layouts = advise(&catalog(vec![t]), &Statistics::default(), &no_workload());
    assert_eq!(
        layouts,
        vec![TableLayout {
            diststyle: DistStyle::Auto,
            sortkey: vec![id("o_id")],
            encodings: vec![(id("o_id"), Encoding::Raw)],
            evidence: vec![
                evidence(
                    "diststyle auto",
                    &["no statistics: Redshift chooses (no row count for orders)"]
                ),
                evidence("sortkey(o_id)", &["o_id: primary key column"]),
                evidence(
                    "encode o_id raw",
                    &["leading sort key column: RAW, as Redshift recommends, so range-restricted scans read the fewest rows per block"]
                ),
            ],
        }]
    );
}

#[test]
fn small_referenced_dimension_is_all_and_fact_without_key_is_even() {
    let mut dim = table("region", vec![col("r_id", LogicalType::Integer)]);
    pk(&mut dim, &["r_id"]);
    let mut fact = table(
        "events",
        vec![
            col("e_region", LogicalType::Integer),
            col("e_flag", LogicalType::Boolean),
        ],
    );
    fk(&mut fact, "e_region", "region");
    let stats = Statistics::from_json(
        r#"{"tables": {"region": {"rows": 5}, "events": {"rows": 5000000}}}"#,
    )
    .unwrap();
    let layouts = advise(&catalog(vec![dim, fact]), &stats, &no_workload());
    assert_eq!(layouts[0].diststyle, DistStyle::All);
    assert_eq!(
        layouts[0].evidence[0],
        evidence(
            "diststyle all",
            &[
                "5 rows, at most the 1,000,000-row threshold for ALL: a copy on every node makes joins to it local",
                "referenced by foreign keys from events",
            ]
        )
    );
    assert_eq!(layouts[1].diststyle, DistStyle::Even);
    assert_eq!(
        layouts[1].evidence[0],
        evidence(
            "diststyle even",
            &[
                "largest table (5,000,000 rows)",
                "no join, bucketing, hash partitioning, foreign key or single-column primary key suggests a distribution key",
            ]
        )
    );
    assert_eq!(
        layouts[1].encodings,
        vec![
            (id("e_region"), Encoding::Az64),
            (id("e_flag"), Encoding::Zstd)
        ]
    );
}

#[test]
fn skewed_candidate_is_rejected_with_its_reason() {
    let mut big_dim = table("account", vec![col("a_id", LogicalType::BigInt)]);
    pk(&mut big_dim, &["a_id"]);
    let mut other_dim = table("device", vec![col("d_id", LogicalType::BigInt)]);
    pk(&mut other_dim, &["d_id"]);
    let mut fact = table(
        "clicks",
        vec![
            col("c_account", LogicalType::BigInt),
            col("c_device", LogicalType::BigInt),
        ],
    );
    fk(&mut fact, "c_account", "account");
    fk(&mut fact, "c_device", "device");
    let stats = Statistics::from_json(
        r#"{"tables": {
            "clicks": {"rows": 90000000, "columns": {
                "c_account": {"distinct": 4000000, "most_common_fraction": 0.4},
                "c_device": {"distinct": 150000, "null_fraction": 0.01}}},
            "account": {"rows": 5000000},
            "device": {"rows": 2000000}}}"#,
    )
    .unwrap();
    let layouts = advise(
        &catalog(vec![big_dim, other_dim, fact]),
        &stats,
        &no_workload(),
    );
    assert_eq!(
        layouts[2].evidence[0],
        evidence(
            "distkey(c_device)",
            &[
                "foreign key c_device references device.d_id, the largest table it references that is too large for ALL (2,000,000 rows)",
                "largest table (90,000,000 rows)",
                "c_device: 150,000 distinct values, 1.0% NULL",
                "rejected c_account: its most common value holds 40.0% of rows, above 10.0%: one slice would hold them all",
            ]
        )
    );
    assert_eq!(layouts[1].diststyle, DistStyle::Key(id("d_id")));
    assert_eq!(
        layouts[0].evidence[0],
        evidence(
            "distkey(a_id)",
            &[
                "primary key a_id of a table with no foreign keys: unique values spread rows evenly, and tables joining on it can be co-located",
                "5,000,000 rows, above the 1,000,000-row threshold for ALL",
            ]
        )
    );
}

#[test]
fn low_cardinality_join_column_is_rejected_in_favour_of_the_next_join() {
    let sales = table(
        "sales",
        vec![
            col("s_region", LogicalType::Integer),
            col("s_user", LogicalType::Integer),
        ],
    );
    let region = table("regions", vec![col("r_id", LogicalType::Integer)]);
    let users = table("users", vec![col("u_id", LogicalType::Integer)]);
    let stats = Statistics::from_json(
        r#"{"tables": {
            "sales": {"rows": 50000000, "columns": {"s_region": {"distinct": 12}, "s_user": {"distinct": 3000000}}},
            "regions": {"rows": 9000000}, "users": {"rows": 3000000}}}"#,
    )
    .unwrap();
    let workload = Workload::parse(
        "select 1 from sales join regions on s_region = r_id; select 1 from sales join regions on s_region = r_id; select 1 from sales join users on s_user = u_id",
        SourceDialect::Mysql,
    )
    .unwrap();
    let layouts = advise(&catalog(vec![sales, region, users]), &stats, &workload);
    assert_eq!(
        layouts[0].evidence[0],
        evidence(
            "distkey(s_user)",
            &[
                "joins users.u_id in 1 of 3 queries",
                "largest table (50,000,000 rows)",
                "users has 3,000,000 rows, above the 1,000,000-row threshold for ALL: the join is local only when both sides are distributed on it",
                "s_user: 3,000,000 distinct values",
                "rejected s_region: joins regions.r_id in 2 of 3 queries, but 12 distinct values, below the 1,000 needed to spread rows over the slices",
            ]
        )
    );
    assert_eq!(layouts[2].diststyle, DistStyle::Key(id("u_id")));
    // regions: no acceptable key of its own, no joins left to co-locate, no PK.
    assert_eq!(layouts[1].diststyle, DistStyle::Even);
}

#[test]
fn hive_bucketed_table_is_keyed_on_its_bucket_column() {
    let mut events = table(
        "events",
        vec![
            col("user_id", LogicalType::BigInt),
            col(
                "event_time",
                LogicalType::Timestamp {
                    precision: 3,
                    with_time_zone: false,
                },
            ),
            col(
                "payload",
                LogicalType::Map(Box::new(LogicalType::Text), Box::new(LogicalType::Text)),
            ),
            col("dt", LogicalType::Date),
        ],
    );
    events.bucketing = Some(Bucketing {
        columns: vec![id("user_id")],
        sorted_by: vec![id("event_time")],
        buckets: 32,
    });
    events.partitioning = Some(Partitioning {
        method: PartitionMethod::Value,
        columns: vec![id("dt")],
        partitions: Vec::new(),
        interval: None,
        subpartitioning: None,
    });
    let layouts = advise(
        &catalog(vec![events]),
        &Statistics::default(),
        &no_workload(),
    );
    assert_eq!(
        layouts,
        vec![TableLayout {
            diststyle: DistStyle::Key(id("user_id")),
            sortkey: vec![id("dt"), id("event_time")],
            encodings: vec![
                (id("user_id"), Encoding::Az64),
                (id("event_time"), Encoding::Az64),
                (id("payload"), Encoding::Zstd),
                (id("dt"), Encoding::Raw),
            ],
            evidence: vec![
                evidence(
                    "distkey(user_id)",
                    &[
                        "Hive CLUSTERED BY (user_id) INTO 32 BUCKETS: the source already hashes rows on it",
                        "row count unknown",
                        "user_id: no column statistics, so cardinality and skew are unchecked",
                    ]
                ),
                evidence(
                    "sortkey(dt, event_time)",
                    &["dt: Hive partition column", "event_time: Hive SORTED BY column"]
                ),
                evidence(
                    "encode user_id az64",
                    &["bigint: AZ64, Redshift's encoding for numbers, dates and timestamps"]
                ),
                evidence(
                    "encode event_time az64",
                    &["timestamp: AZ64, Redshift's encoding for numbers, dates and timestamps"]
                ),
                evidence("encode payload zstd", &["map: stored as SUPER, ZSTD"]),
                evidence(
                    "encode dt raw",
                    &["leading sort key column: RAW, as Redshift recommends, so range-restricted scans read the fewest rows per block"]
                ),
            ],
        }]
    );
}

#[test]
fn oracle_hash_subpartitioning_gives_the_key_and_range_partitioning_the_sort_key() {
    let mut orders = table(
        "orders",
        vec![
            col("order_date", LogicalType::Date),
            col("cust_id", LogicalType::Numeric),
        ],
    );
    orders.partitioning = Some(Partitioning {
        method: PartitionMethod::Range,
        columns: vec![id("order_date")],
        partitions: Vec::new(),
        interval: None,
        subpartitioning: Some(Box::new(Partitioning {
            method: PartitionMethod::Hash,
            columns: vec![id("cust_id")],
            partitions: Vec::new(),
            interval: None,
            subpartitioning: None,
        })),
    });
    let stats = Statistics::from_json(r#"{"tables": {"orders": {"rows": 40000000}}}"#).unwrap();
    let layouts = advise(&catalog(vec![orders]), &stats, &no_workload());
    assert_eq!(layouts[0].diststyle, DistStyle::Key(id("cust_id")));
    assert_eq!(
        layouts[0].evidence[..2],
        [
            evidence(
                "distkey(cust_id)",
                &[
                    "hash-subpartitioned on (cust_id) in the source",
                    "largest table (40,000,000 rows)",
                    "cust_id: no column statistics, so cardinality and skew are unchecked",
                ]
            ),
            evidence(
                "sortkey(order_date)",
                &["order_date: range partition key in the source"]
            ),
        ]
    );
}

#[test]
fn encodings_follow_redshift_compatibility() {
    use LogicalType::*;
    let t = table(
        "t",
        vec![
            col("flag", Boolean),
            col("ratio", Double),
            col(
                "at",
                Time {
                    precision: 0,
                    with_time_zone: false,
                },
            ),
            col("bytes", Varbinary { length: 16 }),
            col("note", Text),
            col("amount", Numeric),
        ],
    );
    let stats =
        Statistics::from_json(r#"{"tables": {"t": {"columns": {"note": {"distinct": 3}}}}}"#)
            .unwrap();
    let layouts = advise(&catalog(vec![t]), &stats, &no_workload());
    assert_eq!(layouts[0].sortkey, Vec::<Ident>::new());
    let reasons: Vec<(String, String)> = layouts[0].evidence[2..]
        .iter()
        .map(|e| (e.choice.clone(), e.reasons.join("; ")))
        .collect();
    let expected = [
        ("encode flag zstd", "boolean: ZSTD (RAW, RUNLENGTH and ZSTD are allowed): RUNLENGTH grows the column when values alternate, ZSTD rarely increases size"),
        ("encode ratio zstd", "double: ZSTD, since AZ64 does not support REAL or DOUBLE PRECISION"),
        ("encode at raw", "time: stored as TIME, for which Redshift's published compression table lists only RAW"),
        ("encode bytes raw", "varbinary: stored as VARBYTE, for which Redshift's published compression table lists only RAW"),
        ("encode note zstd", "text: ZSTD; only 3 distinct values, but BYTEDICT is kept to columns of at most 64 bytes, as Redshift warns it can bloat long VARCHAR columns"),
        ("encode amount zstd", "numeric of unbounded precision: its Redshift type depends on the type mapping (DECIMAL, DOUBLE PRECISION or VARCHAR) and ZSTD is valid for each"),
    ];
    assert_eq!(
        reasons,
        expected
            .iter()
            .map(|(c, r)| (c.to_string(), r.to_string()))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        layouts[0].evidence[1],
        evidence(
            "no sortkey",
            &["no range or equality filter, join, range/interval/Hive partitioning, SORTED BY or primary key to sort by"]
        )
    );
}

#[test]
fn super_and_spatial_columns_are_left_out_of_the_sort_key() {
    // Filtered in the workload: JSON (SUPER), geometry, then a plain column.
    let mut events = table(
        "ev",
        vec![
            col("id", LogicalType::BigInt),
            col("doc", LogicalType::Json),
            col("pt", LogicalType::Geometry),
            col("kind", varchar(10)),
        ],
    );
    let workload = Workload::parse(
        "SELECT count(*) FROM ev WHERE doc = '{}' AND pt = 'x' AND kind = 'a'",
        SourceDialect::Postgres,
    )
    .expect("workload");
    let layouts = advise(
        &catalog(vec![events.clone()]),
        &Statistics::default(),
        &workload,
    );
    assert_eq!(layouts[0].sortkey, vec![id("kind")]);
    assert_eq!(
        layouts[0].evidence[1],
        evidence(
            "sortkey(kind)",
            &[
                "kind: equality-filtered in 1 of 1 queries",
                "left out doc: json values can't be a sort or distribution key",
                "left out pt: geometry values can't be a sort or distribution key",
            ]
        )
    );
    // Without a workload: a Hive SORTED BY array column.
    events
        .columns
        .push(col("tags", LogicalType::Array(Box::new(LogicalType::Text))));
    events.bucketing = Some(Bucketing {
        columns: vec![id("id")],
        sorted_by: vec![id("tags"), id("kind")],
        buckets: 8,
    });
    let layouts = advise(
        &catalog(vec![events]),
        &Statistics::default(),
        &no_workload(),
    );
    assert_eq!(layouts[0].sortkey, vec![id("kind")]);
    assert_eq!(
        layouts[0].evidence[1].reasons.last().map(String::as_str),
        Some("left out tags: array values can't be a sort or distribution key")
    );
}
