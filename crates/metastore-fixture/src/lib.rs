//! Test and benchmark data for `migrate catalog`: the project's Hive metastore DDL (MariaDB and
//! PostgreSQL backends, `scenarios/catalog/hive4-*.sql`), turned into Hive 2.x/3.x layouts on
//! request, and a deterministic generator of databases, tables of every kind and partitions as SQL
//! `INSERT`s.
//!
//! Table kinds cycle with the table's number (see [`Kind`]); partitions are spread evenly over the
//! partitioned tables. Everything is a pure function of the [`Spec`], so tests can predict any
//! object (e.g. "table 5 is skewed on `c_key`").

use std::fmt::Write;

/// The backing database of the metastore.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Mysql,
    Postgres,
}

/// The metastore schema generation to create.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generation {
    Hive2,
    Hive3,
    Hive4,
}

const MYSQL_DDL: &str = include_str!("../../../scenarios/catalog/hive4-mysql.sql");
const POSTGRES_DDL: &str = include_str!("../../../scenarios/catalog/hive4-postgres.sql");

/// The metastore schema: Hive 4's, with the newer columns and tables dropped for older generations.
pub fn ddl(dialect: Dialect, generation: Generation) -> String {
    let mut sql = match dialect {
        Dialect::Mysql => MYSQL_DDL,
        Dialect::Postgres => POSTGRES_DDL,
    }
    .to_string();
    let q = |s: &str| quote_ident(dialect, s);
    if generation < Generation::Hive4 {
        for column in [
            "TYPE",
            "DB_MANAGED_LOCATION_URI",
            "DATACONNECTOR_NAME",
            "REMOTE_DBNAME",
        ] {
            let _ = writeln!(sql, "ALTER TABLE {} DROP COLUMN {};", q("DBS"), q(column));
        }
        let _ = writeln!(
            sql,
            "UPDATE {} SET {} = '3.1.0';",
            q("VERSION"),
            q("SCHEMA_VERSION")
        );
    }
    if generation < Generation::Hive3 {
        if dialect == Dialect::Mysql {
            // The unique key and the foreign key use CTLG_NAME: drop them first, then the column.
            let _ = writeln!(sql, "ALTER TABLE `DBS` DROP FOREIGN KEY `CTLG_FK1`;");
            let _ = writeln!(sql, "ALTER TABLE `DBS` DROP INDEX `UNIQUE_DATABASE`;");
        }
        let _ = writeln!(
            sql,
            "ALTER TABLE {} DROP COLUMN {};",
            q("DBS"),
            q("CTLG_NAME")
        );
        let _ = writeln!(sql, "DROP TABLE {};", q("CTLGS"));
        let _ = writeln!(
            sql,
            "UPDATE {} SET {} = '2.3.0';",
            q("VERSION"),
            q("SCHEMA_VERSION")
        );
    }
    sql
}

impl PartialOrd for Generation {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Generation {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let n = |g: &Generation| match g {
            Generation::Hive2 => 2,
            Generation::Hive3 => 3,
            Generation::Hive4 => 4,
        };
        n(self).cmp(&n(other))
    }
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct Spec {
    pub dialect: Dialect,
    pub generation: Generation,
    /// Prefix of every database name, so that runs and tests sharing one Glue catalog never meet.
    pub prefix: String,
    /// Databases holding tables (one more, empty, is always added).
    pub databases: usize,
    /// Tables and views in all, spread over the databases.
    pub tables: usize,
    /// Partitions in all, spread over the partitioned tables.
    pub partitions: usize,
    /// Where the warehouse lives (`hdfs://nn:8020/warehouse`).
    pub warehouse: String,
}

impl Spec {
    /// The default data of the end-to-end tests: 3 databases, 120 tables, 10,000 partitions.
    pub fn standard(dialect: Dialect, generation: Generation, prefix: &str) -> Spec {
        Spec {
            dialect,
            generation,
            prefix: prefix.to_string(),
            databases: 3,
            tables: 120,
            partitions: 10_000,
            warehouse: "hdfs://nn:8020/warehouse".into(),
        }
    }

    /// Name of database `i` (`i == databases` is the empty one).
    pub fn database_name(&self, i: usize) -> String {
        if i == self.databases {
            format!("{}_empty", self.prefix)
        } else {
            format!("{}_db{i}", self.prefix)
        }
    }

    /// Database and name of table `t`.
    pub fn table_name(&self, t: usize) -> (String, String) {
        let kind = Kind::of(t);
        (
            self.database_name(t % self.databases.max(1)),
            format!("{}_{t:03}", kind.stem()),
        )
    }

    /// The partitioned tables, and how many partitions each gets.
    pub fn partition_counts(&self) -> Vec<(usize, usize)> {
        let partitioned: Vec<usize> = (0..self.tables)
            .filter(|t| Kind::of(*t) == Kind::Partitioned)
            .collect();
        if partitioned.is_empty() {
            return Vec::new();
        }
        let n = partitioned.len();
        partitioned
            .iter()
            .enumerate()
            .map(|(i, t)| {
                (
                    *t,
                    self.partitions / n + usize::from(i < self.partitions % n),
                )
            })
            .collect()
    }
}

/// The kinds of table generated, by `table number % 10`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Managed text table, `ROW FORMAT DELIMITED` with tab/backslash delimiters, comments.
    ManagedText,
    /// External Parquet table.
    ExternalParquet,
    /// `VIRTUAL_VIEW` with original and expanded text.
    View,
    /// External ORC table partitioned by `(dt string, hr int)`.
    Partitioned,
    /// Managed ORC, `CLUSTERED BY (id) SORTED BY (ts DESC, id ASC) INTO 8 BUCKETS`.
    Bucketed,
    /// `SKEWED BY (c_key, c_val) ON (...) STORED AS DIRECTORIES`.
    Skewed,
    /// Avro with the schema in a SerDe parameter.
    Avro,
    /// External JSON SerDe, compressed, storage-descriptor parameters.
    Json,
    /// `MATERIALIZED_VIEW`.
    MaterializedView,
    /// OpenCSVSerde with complex-typed columns... in its columns' types (arrays, maps, structs).
    CsvComplex,
}

impl Kind {
    pub fn of(table: usize) -> Kind {
        match table % 10 {
            0 => Kind::ManagedText,
            1 => Kind::ExternalParquet,
            2 => Kind::View,
            3 => Kind::Partitioned,
            4 => Kind::Bucketed,
            5 => Kind::Skewed,
            6 => Kind::Avro,
            7 => Kind::Json,
            8 => Kind::MaterializedView,
            _ => Kind::CsvComplex,
        }
    }

    fn stem(self) -> &'static str {
        match self {
            Kind::ManagedText => "text",
            Kind::ExternalParquet => "parquet",
            Kind::View => "view",
            Kind::Partitioned => "events",
            Kind::Bucketed => "bucketed",
            Kind::Skewed => "skewed",
            Kind::Avro => "avro",
            Kind::Json => "json",
            Kind::MaterializedView => "mv",
            Kind::CsvComplex => "csv",
        }
    }
}

const TEXT_IN: &str = "org.apache.hadoop.mapred.TextInputFormat";
const TEXT_OUT: &str = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat";
const LAZY: &str = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe";
const ORC_IN: &str = "org.apache.hadoop.hive.ql.io.orc.OrcInputFormat";
const ORC_OUT: &str = "org.apache.hadoop.hive.ql.io.orc.OrcOutputFormat";
const ORC_SERDE: &str = "org.apache.hadoop.hive.ql.io.orc.OrcSerde";

/// Rows to insert, per table, written as multi-row `INSERT`s.
struct Inserts {
    dialect: Dialect,
    /// (table, columns, rows of already-quoted values)
    pending: Vec<(&'static str, Vec<String>, Vec<String>)>,
    queued: usize,
    out: String,
}

impl Inserts {
    fn add(&mut self, table: &'static str, columns: &[&str], values: &[Value]) {
        let row = format!(
            "({})",
            values
                .iter()
                .map(|v| v.sql(self.dialect))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let slot = match self.pending.iter().position(|(t, _, _)| *t == table) {
            Some(i) => i,
            None => {
                let columns = columns.iter().map(|c| c.to_string()).collect();
                self.pending.push((table, columns, Vec::new()));
                self.pending.len() - 1
            }
        };
        self.pending[slot].2.push(row);
        self.queued += 1;
        if self.queued >= 5000 {
            self.flush();
        }
    }

    /// Writes everything queued, parents before children (the DDL has foreign keys, and every
    /// parent row was queued before its children).
    fn flush(&mut self) {
        for table in TABLE_ORDER {
            let Some((_, columns, rows)) = self.pending.iter_mut().find(|(t, _, _)| t == table)
            else {
                continue;
            };
            for chunk in rows.chunks(500) {
                let cols = columns
                    .iter()
                    .map(|c| quote_ident(self.dialect, c))
                    .collect::<Vec<_>>()
                    .join(", ");
                let _ = writeln!(
                    self.out,
                    "INSERT INTO {} ({cols}) VALUES\n{};",
                    quote_ident(self.dialect, table),
                    chunk.join(",\n")
                );
            }
            rows.clear();
        }
        self.queued = 0;
    }

    fn finish(mut self) -> String {
        self.flush();
        self.out
    }
}

/// Parents before children.
const TABLE_ORDER: &[&str] = &[
    "CTLGS",
    "DBS",
    "DATABASE_PARAMS",
    "SERDES",
    "SERDE_PARAMS",
    "CDS",
    "COLUMNS_V2",
    "SDS",
    "SD_PARAMS",
    "TBLS",
    "TABLE_PARAMS",
    "PARTITION_KEYS",
    "PARTITIONS",
    "PARTITION_KEY_VALS",
    "PARTITION_PARAMS",
    "BUCKETING_COLS",
    "SORT_COLS",
    "SKEWED_STRING_LIST",
    "SKEWED_STRING_LIST_VALUES",
    "SKEWED_COL_NAMES",
    "SKEWED_VALUES",
    "SKEWED_COL_VALUE_LOC_MAP",
];

enum Value {
    Int(i64),
    Text(String),
    Bool(bool),
    Null,
}

impl Value {
    fn sql(&self, dialect: Dialect) -> String {
        match self {
            Value::Int(i) => i.to_string(),
            Value::Null => "NULL".into(),
            Value::Bool(b) => match dialect {
                Dialect::Mysql => if *b { "b'1'" } else { "b'0'" }.into(),
                Dialect::Postgres => if *b { "true" } else { "false" }.into(),
            },
            Value::Text(s) => {
                let s = s.replace('\'', "''");
                match dialect {
                    // MySQL's default sql_mode treats backslash as an escape character.
                    Dialect::Mysql => format!("'{}'", s.replace('\\', "\\\\")),
                    Dialect::Postgres => format!("'{s}'"),
                }
            }
        }
    }
}

fn t(s: impl Into<String>) -> Value {
    Value::Text(s.into())
}

fn quote_ident(dialect: Dialect, name: &str) -> String {
    match dialect {
        Dialect::Mysql => format!("`{name}`"),
        Dialect::Postgres => format!("\"{name}\""),
    }
}

/// Allocates row ids.
#[derive(Default)]
struct Ids {
    next: i64,
}

impl Ids {
    fn next(&mut self) -> i64 {
        self.next += 1;
        self.next
    }
}

/// A storage descriptor to insert.
struct Sd<'a> {
    cd: i64,
    location: Option<String>,
    input: Option<&'a str>,
    output: Option<&'a str>,
    compressed: bool,
    buckets: i64,
    serde_lib: Option<&'a str>,
    serde_params: Vec<(&'a str, String)>,
    params: Vec<(&'a str, String)>,
    sub_dirs: bool,
}

impl<'a> Sd<'a> {
    fn new(cd: i64, location: Option<String>, formats: (&'a str, &'a str, &'a str)) -> Sd<'a> {
        Sd {
            cd,
            location,
            input: Some(formats.0),
            output: Some(formats.1),
            compressed: false,
            buckets: -1,
            serde_lib: Some(formats.2),
            serde_params: vec![("serialization.format", "1".into())],
            params: Vec::new(),
            sub_dirs: false,
        }
    }
}

const SDS_COLS: &[&str] = &[
    "SD_ID",
    "CD_ID",
    "INPUT_FORMAT",
    "IS_COMPRESSED",
    "IS_STOREDASSUBDIRECTORIES",
    "LOCATION",
    "NUM_BUCKETS",
    "OUTPUT_FORMAT",
    "SERDE_ID",
];
const PARAM_COLS: [&[&str]; 5] = [
    &["DB_ID", "PARAM_KEY", "PARAM_VALUE"],
    &["TBL_ID", "PARAM_KEY", "PARAM_VALUE"],
    &["SD_ID", "PARAM_KEY", "PARAM_VALUE"],
    &["SERDE_ID", "PARAM_KEY", "PARAM_VALUE"],
    &["PART_ID", "PARAM_KEY", "PARAM_VALUE"],
];

fn insert_sd(ins: &mut Inserts, ids: &mut Ids, sd: &Sd<'_>) -> i64 {
    let serde = ids.next();
    ins.add(
        "SERDES",
        &["SERDE_ID", "NAME", "SLIB"],
        &[
            Value::Int(serde),
            Value::Null,
            sd.serde_lib.map(t).unwrap_or(Value::Null),
        ],
    );
    for (k, v) in &sd.serde_params {
        ins.add(
            "SERDE_PARAMS",
            PARAM_COLS[3],
            &[Value::Int(serde), t(*k), t(v.clone())],
        );
    }
    let id = ids.next();
    ins.add(
        "SDS",
        SDS_COLS,
        &[
            Value::Int(id),
            Value::Int(sd.cd),
            sd.input.map(t).unwrap_or(Value::Null),
            Value::Bool(sd.compressed),
            Value::Bool(sd.sub_dirs),
            sd.location.clone().map(t).unwrap_or(Value::Null),
            Value::Int(sd.buckets),
            sd.output.map(t).unwrap_or(Value::Null),
            Value::Int(serde),
        ],
    );
    for (k, v) in &sd.params {
        ins.add(
            "SD_PARAMS",
            PARAM_COLS[2],
            &[Value::Int(id), t(*k), t(v.clone())],
        );
    }
    id
}

fn insert_columns(ins: &mut Inserts, ids: &mut Ids, columns: &[(&str, &str, Option<&str>)]) -> i64 {
    let cd = ids.next();
    ins.add("CDS", &["CD_ID"], &[Value::Int(cd)]);
    for (i, (name, ty, comment)) in columns.iter().enumerate() {
        ins.add(
            "COLUMNS_V2",
            &[
                "CD_ID",
                "COMMENT",
                "COLUMN_NAME",
                "TYPE_NAME",
                "INTEGER_IDX",
            ],
            &[
                Value::Int(cd),
                comment.map(t).unwrap_or(Value::Null),
                t(*name),
                t(*ty),
                Value::Int(i as i64),
            ],
        );
    }
    cd
}

/// `INSERT`s that fill an empty metastore (made by [`ddl`]) according to `spec`.
pub fn populate(spec: &Spec) -> String {
    let mut ins = Inserts {
        dialect: spec.dialect,
        pending: Vec::new(),
        queued: 0,
        out: String::new(),
    };
    let mut ids = Ids { next: 1000 };
    let catalogs = spec.generation >= Generation::Hive3;
    let hive4 = spec.generation >= Generation::Hive4;
    let mut db_cols: Vec<&str> = vec![
        "DB_ID",
        "DESC",
        "DB_LOCATION_URI",
        "NAME",
        "OWNER_NAME",
        "OWNER_TYPE",
    ];
    if catalogs {
        db_cols.push("CTLG_NAME");
    }
    if hive4 {
        db_cols.push("DB_MANAGED_LOCATION_URI");
    }
    let mut db_ids = Vec::new();
    for i in 0..=spec.databases {
        let id = ids.next();
        db_ids.push(id);
        let name = spec.database_name(i);
        let mut row = vec![
            Value::Int(id),
            t(format!("Database {i} of the fixture: it's for tests")),
            t(format!("{}/{name}.db", spec.warehouse)),
            t(name),
            t("hive"),
            t("USER"),
        ];
        if catalogs {
            row.push(t("hive"));
        }
        if hive4 {
            row.push(t(format!("{}/managed/db{i}.db", spec.warehouse)));
        }
        ins.add("DBS", &db_cols, &row);
        ins.add(
            "DATABASE_PARAMS",
            PARAM_COLS[0],
            &[Value::Int(id), t("owner.team"), t(format!("team-{i}"))],
        );
        ins.add(
            "DATABASE_PARAMS",
            PARAM_COLS[0],
            &[Value::Int(id), t("created.by"), t("metastore-fixture")],
        );
    }
    if catalogs {
        // A database of another catalog, which a reader of catalog `hive` must not see.
        ins.add(
            "CTLGS",
            &["CTLG_ID", "NAME", "DESC", "LOCATION_URI", "CREATE_TIME"],
            &[
                Value::Int(2),
                t("spark"),
                t("Spark's catalog"),
                t("hdfs://nn:8020/spark"),
                Value::Null,
            ],
        );
        let mut row = vec![
            Value::Int(ids.next()),
            Value::Null,
            t("hdfs://nn:8020/spark/other.db"),
            t(format!("{}_spark_only", spec.prefix)),
            t("spark"),
            t("USER"),
            t("spark"),
        ];
        if hive4 {
            row.push(Value::Null);
        }
        ins.add("DBS", &db_cols, &row);
    }
    let partitions: std::collections::HashMap<usize, usize> =
        spec.partition_counts().into_iter().collect();
    for n in 0..spec.tables {
        let (db, name) = spec.table_name(n);
        let db_id = db_ids[n % spec.databases.max(1)];
        let location = format!("{}/{db}.db/{name}", spec.warehouse);
        table(
            &mut ins,
            &mut ids,
            n,
            db_id,
            &db,
            &name,
            &location,
            partitions.get(&n).copied().unwrap_or(0),
        );
    }
    ins.finish()
}

const TBLS_COLS: &[&str] = &[
    "TBL_ID",
    "CREATE_TIME",
    "DB_ID",
    "LAST_ACCESS_TIME",
    "OWNER",
    "OWNER_TYPE",
    "RETENTION",
    "SD_ID",
    "TBL_NAME",
    "TBL_TYPE",
    "VIEW_EXPANDED_TEXT",
    "VIEW_ORIGINAL_TEXT",
];

#[allow(clippy::too_many_arguments)]
fn table(
    ins: &mut Inserts,
    ids: &mut Ids,
    n: usize,
    db_id: i64,
    db: &str,
    name: &str,
    location: &str,
    partitions: usize,
) {
    let kind = Kind::of(n);
    let created = 1_700_000_000 + n as i64;
    let base_cols: Vec<(&str, &str, Option<&str>)> = match kind {
        Kind::CsvComplex => vec![
            ("id", "bigint", Some("row id")),
            ("tags", "array<string>", None),
            ("attrs", "map<string,int>", Some("attributes: key -> count")),
            ("point", "struct<x:double,y:double,label:varchar(20)>", None),
            ("amount", "decimal(12,2)", Some("it's money")),
        ],
        Kind::Skewed => vec![
            ("c_key", "string", None),
            ("c_val", "string", None),
            ("n", "int", None),
        ],
        Kind::Bucketed => vec![
            ("id", "bigint", None),
            ("ts", "timestamp", Some("event time (UTC)")),
            ("payload", "binary", None),
        ],
        _ => vec![
            ("id", "bigint", Some("primary id")),
            ("name", "string", Some("café name, with a comma")),
            ("score", "double", None),
            ("day", "date", None),
        ],
    };
    let cd = insert_columns(ins, ids, &base_cols);
    let mut table_type = if matches!(
        kind,
        Kind::ManagedText | Kind::Bucketed | Kind::Skewed | Kind::Avro
    ) {
        "MANAGED_TABLE"
    } else {
        "EXTERNAL_TABLE"
    };
    let mut sd = match kind {
        Kind::ManagedText => {
            let mut sd = Sd::new(cd, Some(location.into()), (TEXT_IN, TEXT_OUT, LAZY));
            sd.serde_params = vec![
                ("field.delim", "\t".into()),
                ("escape.delim", "\\".into()),
                ("line.delim", "\n".into()),
                ("serialization.format", "\t".into()),
            ];
            sd
        }
        Kind::ExternalParquet => Sd::new(
            cd,
            Some(location.into()),
            (
                "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
                "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
            ),
        ),
        Kind::View | Kind::MaterializedView => {
            let mut sd = Sd::new(cd, None, (TEXT_IN, TEXT_OUT, LAZY));
            if kind == Kind::View {
                table_type = "VIRTUAL_VIEW";
                sd.input = None;
                sd.output = None;
                sd.serde_lib = None;
                sd.serde_params.clear();
            } else {
                table_type = "MATERIALIZED_VIEW";
                sd = Sd::new(cd, Some(location.into()), (ORC_IN, ORC_OUT, ORC_SERDE));
            }
            sd
        }
        Kind::Partitioned | Kind::Bucketed => {
            Sd::new(cd, Some(location.into()), (ORC_IN, ORC_OUT, ORC_SERDE))
        }
        Kind::Skewed => {
            let mut sd = Sd::new(cd, Some(location.into()), (TEXT_IN, TEXT_OUT, LAZY));
            sd.sub_dirs = true;
            sd
        }
        Kind::Avro => {
            let mut sd = Sd::new(
                cd,
                Some(location.into()),
                (
                    "org.apache.hadoop.hive.ql.io.avro.AvroContainerInputFormat",
                    "org.apache.hadoop.hive.ql.io.avro.AvroContainerOutputFormat",
                    "org.apache.hadoop.hive.serde2.avro.AvroSerDe",
                ),
            );
            sd.serde_params.push((
                "avro.schema.literal",
                format!(r#"{{"type":"record","name":"{name}","fields":[{{"name":"id","type":"long"}},{{"name":"name","type":["null","string"]}}]}}"#),
            ));
            sd
        }
        Kind::Json => {
            let mut sd = Sd::new(
                cd,
                Some(location.into()),
                (TEXT_IN, TEXT_OUT, "org.apache.hive.hcatalog.data.JsonSerDe"),
            );
            sd.compressed = true;
            sd.params = vec![("compression.codec", "gzip".into())];
            sd.serde_params = vec![
                ("ignore.malformed.json", "true".into()),
                ("case.insensitive", "false".into()),
            ];
            sd
        }
        Kind::CsvComplex => {
            let mut sd = Sd::new(
                cd,
                Some(location.into()),
                (
                    TEXT_IN,
                    TEXT_OUT,
                    "org.apache.hadoop.hive.serde2.OpenCSVSerde",
                ),
            );
            sd.serde_params = vec![
                ("separatorChar", ",".into()),
                ("quoteChar", "\"".into()),
                ("escapeChar", "\\".into()),
            ];
            sd
        }
    };
    if kind == Kind::Bucketed {
        sd.buckets = 8;
    }
    let sd_id = insert_sd(ins, ids, &sd);
    let tbl = ids.next();
    let (expanded, original) = match kind {
        Kind::View => (
            Some(format!("SELECT `t`.`id`, `t`.`name`, `t`.`score`, `t`.`day` FROM `{db}`.`text_000` `t` WHERE `t`.`score` > 0.5")),
            Some("SELECT id, name, score, day FROM text_000 t WHERE t.score > 0.5".to_string()),
        ),
        Kind::MaterializedView => (
            Some(format!("SELECT `id`, count(*) AS `n` FROM `{db}`.`parquet_001` GROUP BY `id`")),
            Some("SELECT id, count(*) AS n FROM parquet_001 GROUP BY id".to_string()),
        ),
        _ => (None, None),
    };
    ins.add(
        "TBLS",
        TBLS_COLS,
        &[
            Value::Int(tbl),
            Value::Int(created),
            Value::Int(db_id),
            Value::Int(0),
            t(if n % 2 == 0 { "hive" } else { "etl_user" }),
            t("USER"),
            Value::Int(0),
            Value::Int(sd_id),
            t(name),
            t(table_type),
            expanded.map(t).unwrap_or(Value::Null),
            original.map(t).unwrap_or(Value::Null),
        ],
    );
    let mut params = vec![
        ("transient_lastDdlTime", created.to_string()),
        (
            "comment",
            format!("table {n} ({}): \"quoted\", it's fine", kind.stem()),
        ),
    ];
    match kind {
        Kind::ExternalParquet | Kind::Partitioned | Kind::Json | Kind::CsvComplex => {
            params.push(("EXTERNAL", "TRUE".into()))
        }
        Kind::Bucketed => params.push(("orc.compress", "ZLIB".into())),
        Kind::Avro => params.push(("avro.schema.url", format!("{location}/_schema.avsc"))),
        Kind::MaterializedView => params.push(("rewriting.time.window", "0min".into())),
        _ => {}
    }
    for (k, v) in &params {
        ins.add(
            "TABLE_PARAMS",
            PARAM_COLS[1],
            &[Value::Int(tbl), t(*k), t(v.clone())],
        );
    }
    match kind {
        Kind::Bucketed => {
            ins.add(
                "BUCKETING_COLS",
                &["SD_ID", "BUCKET_COL_NAME", "INTEGER_IDX"],
                &[Value::Int(sd_id), t("id"), Value::Int(0)],
            );
            for (i, (c, order)) in [("ts", 0), ("id", 1)].iter().enumerate() {
                ins.add(
                    "SORT_COLS",
                    &["SD_ID", "COLUMN_NAME", "ORDER", "INTEGER_IDX"],
                    &[
                        Value::Int(sd_id),
                        t(*c),
                        Value::Int(*order),
                        Value::Int(i as i64),
                    ],
                );
            }
        }
        Kind::Skewed => skew(ins, ids, sd_id, location),
        Kind::Partitioned => {
            for (i, (k, ty, comment)) in [
                ("dt", "string", Some("day, yyyy-mm-dd")),
                ("hr", "int", None),
            ]
            .iter()
            .enumerate()
            {
                ins.add(
                    "PARTITION_KEYS",
                    &[
                        "TBL_ID",
                        "PKEY_COMMENT",
                        "PKEY_NAME",
                        "PKEY_TYPE",
                        "INTEGER_IDX",
                    ],
                    &[
                        Value::Int(tbl),
                        comment.map(t).unwrap_or(Value::Null),
                        t(*k),
                        t(*ty),
                        Value::Int(i as i64),
                    ],
                );
            }
            for p in 0..partitions {
                let day = format!(
                    "2024-{:02}-{:02}",
                    1 + (p / 24 / 28) % 12,
                    1 + (p / 24) % 28
                );
                let hr = (p % 24).to_string();
                let part_name = format!("dt={day}/hr={hr}");
                let mut psd = Sd::new(
                    cd,
                    Some(format!("{location}/{part_name}")),
                    (ORC_IN, ORC_OUT, ORC_SERDE),
                );
                // A few partitions live outside the table's directory, as happens after
                // `ALTER TABLE ... PARTITION ... SET LOCATION`.
                if p % 97 == 0 {
                    psd.location = Some(format!("hdfs://nn:8020/archive/{db}/{name}/{part_name}"));
                }
                let psd_id = insert_sd(ins, ids, &psd);
                let part = ids.next();
                ins.add(
                    "PARTITIONS",
                    &[
                        "PART_ID",
                        "CREATE_TIME",
                        "LAST_ACCESS_TIME",
                        "PART_NAME",
                        "SD_ID",
                        "TBL_ID",
                    ],
                    &[
                        Value::Int(part),
                        Value::Int(created + p as i64),
                        Value::Int(0),
                        t(part_name),
                        Value::Int(psd_id),
                        Value::Int(tbl),
                    ],
                );
                for (i, v) in [day, hr].into_iter().enumerate() {
                    ins.add(
                        "PARTITION_KEY_VALS",
                        &["PART_ID", "PART_KEY_VAL", "INTEGER_IDX"],
                        &[Value::Int(part), t(v), Value::Int(i as i64)],
                    );
                }
                for (k, v) in [
                    ("numFiles", (1 + p % 5).to_string()),
                    ("totalSize", (1024 * (p + 1)).to_string()),
                ] {
                    ins.add(
                        "PARTITION_PARAMS",
                        PARAM_COLS[4],
                        &[Value::Int(part), t(k), t(v)],
                    );
                }
            }
        }
        _ => {}
    }
}

/// `SKEWED BY (c_key, c_val) ON (('a','1'), ('b','2')) STORED AS DIRECTORIES`, with the location
/// of the first value tuple.
fn skew(ins: &mut Inserts, ids: &mut Ids, sd_id: i64, location: &str) {
    for (i, c) in ["c_key", "c_val"].iter().enumerate() {
        ins.add(
            "SKEWED_COL_NAMES",
            &["SD_ID", "SKEWED_COL_NAME", "INTEGER_IDX"],
            &[Value::Int(sd_id), t(*c), Value::Int(i as i64)],
        );
    }
    for (i, tuple) in [["a", "1"], ["b", "2"]].iter().enumerate() {
        let list = ids.next();
        ins.add(
            "SKEWED_STRING_LIST",
            &["STRING_LIST_ID"],
            &[Value::Int(list)],
        );
        for (j, v) in tuple.iter().enumerate() {
            ins.add(
                "SKEWED_STRING_LIST_VALUES",
                &["STRING_LIST_ID", "STRING_LIST_VALUE", "INTEGER_IDX"],
                &[Value::Int(list), t(*v), Value::Int(j as i64)],
            );
        }
        ins.add(
            "SKEWED_VALUES",
            &["SD_ID_OID", "STRING_LIST_ID_EID", "INTEGER_IDX"],
            &[Value::Int(sd_id), Value::Int(list), Value::Int(i as i64)],
        );
        if i == 0 {
            // Hive maps the value tuple to its directory through a separate string list.
            let key = ids.next();
            ins.add(
                "SKEWED_STRING_LIST",
                &["STRING_LIST_ID"],
                &[Value::Int(key)],
            );
            for (j, v) in tuple.iter().enumerate() {
                ins.add(
                    "SKEWED_STRING_LIST_VALUES",
                    &["STRING_LIST_ID", "STRING_LIST_VALUE", "INTEGER_IDX"],
                    &[Value::Int(key), t(*v), Value::Int(j as i64)],
                );
            }
            ins.add(
                "SKEWED_COL_VALUE_LOC_MAP",
                &["SD_ID", "STRING_LIST_ID_KID", "LOCATION"],
                &[
                    Value::Int(sd_id),
                    Value::Int(key),
                    t(format!("{location}/c_key=a/c_val=1")),
                ],
            );
        }
    }
}
