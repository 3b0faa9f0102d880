//! The assessment of a live database and of the DDL that created it agree: the same schema is
//! created in the real PostgreSQL and MariaDB servers, discovered live and read from its text,
//! and both give the same finding codes per object.

use migrate_assess::{assess, Assessment, EffortModel, Input, SourceInfo};
use migrate_core::{Catalog, Severity, SourceDialect, TargetDialect};
use migrate_dialect::DdlReader;
use std::collections::BTreeMap;

fn assessed(catalog: &Catalog, from: SourceDialect, to: TargetDialect) -> Assessment {
    assess(Input {
        catalog,
        from,
        to,
        source: SourceInfo {
            kind: "files",
            dialect: from.name(),
            inputs: Vec::new(),
        },
        preflight: Vec::new(),
        model: &EffortModel::builtin(),
    })
}

fn from_script(script: &str, from: SourceDialect) -> Catalog {
    let mut reader = DdlReader::new(from);
    reader.read_bytes("schema.sql", script.as_bytes()).unwrap();
    reader.finish()
}

/// Per object (`kind schema.name`, or the finding's object when it names none of the
/// inventory, like a domain) that has a warning or an action: their codes and hours, and the
/// object's status and hours. Info findings are left out: some have no live counterpart, as
/// they describe the script itself (a statement skipped, a partition written as a table of its
/// own, an `ENGINE=` clause dropped, MariaDB's JSON written as a checked LONGTEXT); they cost
/// no hours, so the objects' hours still agree.
fn codes(assessment: &Assessment) -> Codes {
    let mut codes = Codes::new();
    for item in &assessment.action_items {
        if item.severity < Severity::Warning {
            continue;
        }
        let entry = match item.object_id {
            Some(id) => {
                let object = &assessment.objects[id];
                codes
                    .entry(format!("{} {}", object.kind.key(), object.qualified()))
                    .or_insert_with(|| {
                        (
                            Vec::new(),
                            format!("{} {:.2}", object.status.key(), object.hours),
                        )
                    })
            }
            None => codes.entry(item.object.clone()).or_default(),
        };
        entry
            .0
            .push((item.code.clone(), format!("{:.2}", item.hours)));
    }
    for (list, _) in codes.values_mut() {
        list.sort();
    }
    codes
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

type Codes = BTreeMap<String, (Vec<(String, String)>, String)>;

/// The live assessment's codes for Redshift and PostgreSQL, checked against the script's.
fn same_codes(live: &Catalog, script: &Catalog, from: SourceDialect) -> [Codes; 2] {
    [TargetDialect::Redshift, TargetDialect::Postgres].map(|to| {
        let live = codes(&assessed(live, from, to));
        let script = codes(&assessed(script, from, to));
        assert_eq!(live, script, "live (left) and script (right) -> {to:?}");
        live
    })
}

fn has(codes: &Codes, object: &str, code: &str) -> bool {
    codes
        .get(object)
        .is_some_and(|(items, _)| items.iter().any(|(c, _)| c == code))
}

#[test]
fn postgres_live_and_script_give_the_same_findings() {
    let Some(server) = migrate_testkit::postgres() else {
        return;
    };
    let db = server.create_database("assess_live_script");
    let script = r#"
CREATE SCHEMA shop;
CREATE DOMAIN shop.posint AS integer CONSTRAINT posint_check CHECK ((VALUE > 0));
CREATE TABLE shop.t (
    id integer NOT NULL,
    qty integer,
    n shop.posint,
    s text COLLATE "C",
    CONSTRAINT t_pkey PRIMARY KEY (id),
    CONSTRAINT u UNIQUE (qty),
    CONSTRAINT t_qty_check CHECK ((qty > 0))
);
CREATE RULE r AS ON INSERT TO shop.t DO ALSO NOTHING;
ALTER TABLE shop.t ENABLE ROW LEVEL SECURITY;
CREATE POLICY p ON shop.t USING ((qty > 0));
CREATE TABLE shop.parent (
    id integer NOT NULL,
    region text NOT NULL,
    CONSTRAINT parent_pkey PRIMARY KEY (id, region)
) PARTITION BY LIST (region);
CREATE TABLE shop.parent_eu PARTITION OF shop.parent FOR VALUES IN ('eu');
CREATE TABLE shop.parent_us PARTITION OF shop.parent FOR VALUES IN ('us');
CREATE TABLE shop.child (
    pid integer,
    region text,
    CONSTRAINT child_fk FOREIGN KEY (pid, region) REFERENCES shop.parent(id, region)
);
"#;
    db.sql(script).unwrap();
    let live = runtime().block_on(async {
        let source = migrate_source_postgres::PostgresSource::connect(db.url())
            .await
            .unwrap();
        let schemas = ["shop".to_string()];
        let mut catalog = source.discover(Some(&schemas)).await.unwrap();
        source
            .discover_objects(Some(&schemas), &mut catalog)
            .await
            .unwrap();
        catalog
    });
    let [redshift, postgres] = same_codes(
        &live,
        &from_script(script, SourceDialect::Postgres),
        SourceDialect::Postgres,
    );
    let check = "constraint shop.t constraint t_qty_check";
    assert!(
        has(&redshift, check, "constraint.check-dropped"),
        "{redshift:?}"
    );
    assert!(!postgres.contains_key(check), "{postgres:?}");
    assert!(
        has(&redshift, "column shop.t.s", "column.collation"),
        "{redshift:?}"
    );
    assert!(
        has(&redshift, "other r", "object.unsupported"),
        "{redshift:?}"
    );
    assert!(
        has(&redshift, "other p", "object.unsupported"),
        "{redshift:?}"
    );
    // One foreign key, as declared: not PostgreSQL's copies for each referenced partition.
    let foreign_keys: Vec<_> = live
        .tables
        .iter()
        .flat_map(|t| &t.constraints)
        .filter(|c| matches!(c.kind, migrate_core::ConstraintKind::ForeignKey(_)))
        .map(|c| c.name.as_ref().map(|n| n.value.clone()))
        .collect();
    assert_eq!(foreign_keys, [Some("child_fk".to_string())]);
}

#[test]
fn mariadb_live_and_script_give_the_same_findings() {
    let Some(server) = migrate_testkit::mariadb() else {
        return;
    };
    let db = server.create_database("assess_live_script");
    let name = db.name();
    let script = format!(
        "CREATE TABLE `{name}`.`acct` (
  `id` int(11) NOT NULL,
  `bal` decimal(10,2) DEFAULT NULL,
  `qty` int(11) DEFAULT NULL CHECK (`qty` > 0),
  `doc` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL CHECK (json_valid(`doc`)),
  PRIMARY KEY (`id`),
  CONSTRAINT `chk_bal` CHECK (`bal` >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
"
    );
    db.sql(&script).unwrap();
    let live = mysql_live_catalog(db.url());
    let [redshift, postgres] = same_codes(
        &live,
        &from_script(&script, SourceDialect::Mysql),
        SourceDialect::Mysql,
    );
    for check in ["chk_bal", "(unnamed)"] {
        let check = format!("constraint {name}.acct constraint {check}");
        assert!(
            has(&redshift, &check, "constraint.check-dropped"),
            "{redshift:?}"
        );
        assert!(!postgres.contains_key(&check), "{postgres:?}");
    }
}

/// The index items (info included) of a PostgreSQL target, per index: `index schema.name`
/// -> its codes.
fn index_codes(catalog: &Catalog) -> BTreeMap<String, Vec<String>> {
    let mut codes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let assessment = assessed(catalog, SourceDialect::Mysql, TargetDialect::Postgres);
    for item in assessment
        .action_items
        .iter()
        .filter(|i| i.object.starts_with("index "))
    {
        codes
            .entry(item.object.clone())
            .or_default()
            .push(item.code.clone());
    }
    codes
}

/// MariaDB gives a SPATIAL key a `SUB_PART` of 32 in its catalog: it is not a prefix index, and
/// the live database is reported as its script is, a spatial index not created (as FULLTEXT).
#[test]
fn mariadb_spatial_and_fulltext_keys_are_reported_as_such_live() {
    let Some(server) = migrate_testkit::mariadb() else {
        return;
    };
    let db = server.create_database("assess_live_spatial");
    let name = db.name();
    let script = format!(
        "CREATE TABLE `{name}`.`place` (
  `id` int(11) NOT NULL,
  `note` text DEFAULT NULL,
  `location` geometry NOT NULL,
  PRIMARY KEY (`id`),
  SPATIAL KEY `idx_location` (`location`),
  FULLTEXT KEY `idx_note` (`note`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
"
    );
    db.sql(&script).unwrap();
    let live = mysql_live_catalog(db.url());
    let live = index_codes(&live);
    assert_eq!(
        live,
        index_codes(&from_script(&script, SourceDialect::Mysql)),
        "live (left) and script (right)"
    );
    for index in ["idx_location", "idx_note"] {
        assert_eq!(
            live.get(&format!("index {name}.{index}")),
            Some(&vec!["index.not-created".to_string()]),
            "{live:?}"
        );
    }
}

/// The catalog `assess --source` reads from the MariaDB database at `url`.
fn mysql_live_catalog(url: &str) -> Catalog {
    runtime().block_on(async {
        let source = migrate_source_mysql::MysqlSource::connect(url)
            .await
            .unwrap();
        let mut catalog = source.discover(None).await.unwrap();
        source.discover_objects(None, &mut catalog).await.unwrap();
        catalog
    })
}
