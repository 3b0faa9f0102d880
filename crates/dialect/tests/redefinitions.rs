//! A script that drops or replaces an object it defined converts to the object's last
//! definition, as running the script leaves it.

use migrate_core::Catalog;
use migrate_dialect::{read_script, SourceDialect};

fn codes(catalog: &Catalog) -> Vec<&str> {
    catalog.findings.iter().map(|f| f.code.as_str()).collect()
}

fn tables(catalog: &Catalog) -> Vec<String> {
    catalog
        .tables
        .iter()
        .map(|t| format!("{}({})", t.name, t.columns[0].name.value))
        .collect()
}

fn views(catalog: &Catalog) -> Vec<(String, &str)> {
    catalog
        .views
        .iter()
        .map(|v| (v.name.to_string(), v.query.as_str()))
        .collect()
}

#[test]
fn a_dropped_table_goes_with_its_indexes_and_can_be_created_again() {
    let catalog = read_script(
        SourceDialect::Oracle,
        "t.sql",
        "CREATE TABLE t (a NUMBER(5));
         CREATE INDEX t_a ON t (a);
         CREATE TABLE u (b NUMBER(5));
         DROP TABLE t CASCADE CONSTRAINTS PURGE;
         CREATE TABLE t (c DATE);
         ALTER TABLE t ADD (d NUMBER);",
    );
    assert_eq!(tables(&catalog), ["u(b)", "t(c)"]);
    assert_eq!(catalog.tables[1].columns.len(), 2);
    assert!(catalog.indexes.is_empty());
    assert!(
        !codes(&catalog).contains(&"table.redefined"),
        "{:?}",
        catalog.findings
    );
}

#[test]
fn a_drop_of_an_object_the_scripts_do_not_define_is_skipped() {
    let catalog = read_script(
        SourceDialect::Postgres,
        "t.sql",
        "DROP TABLE IF EXISTS t, u CASCADE;
         DROP VIEW IF EXISTS v;
         DROP INDEX i;
         CREATE TABLE t (a int);",
    );
    assert_eq!(tables(&catalog), ["t(a)"]);
    let skipped: Vec<&str> = catalog
        .findings
        .iter()
        .filter(|f| f.code == "statement.skipped")
        .map(|f| f.message.as_str())
        .collect();
    assert_eq!(
        skipped,
        ["3 DROP/TRUNCATE statements skipped (first here): not part of the schema definition"]
    );
}

#[test]
fn the_last_definition_of_a_view_wins() {
    let catalog = read_script(
        SourceDialect::Postgres,
        "v.sql",
        "CREATE VIEW a AS SELECT 1 AS x;
         CREATE MATERIALIZED VIEW m AS SELECT 1 AS x;
         CREATE OR REPLACE VIEW a AS SELECT 2 AS x;
         DROP MATERIALIZED VIEW m;
         CREATE VIEW b AS SELECT 3 AS x;
         CREATE VIEW b AS SELECT 4 AS x;",
    );
    assert_eq!(
        views(&catalog),
        [
            ("a".to_string(), "SELECT 2 AS x"),
            ("b".to_string(), "SELECT 4 AS x")
        ]
    );
    // Only a second CREATE without OR REPLACE or a DROP between is worth a look.
    let redefined: Vec<&str> = catalog
        .findings
        .iter()
        .filter(|f| f.code == "view.redefined")
        .map(|f| f.object.as_str())
        .collect();
    assert_eq!(redefined, ["view b"]);
}

#[test]
fn views_come_after_the_views_they_read() {
    let catalog = read_script(
        SourceDialect::Mysql,
        "v.sql",
        "CREATE TABLE t (id int);
         CREATE VIEW top AS SELECT id FROM mid;
         CREATE VIEW mid AS SELECT b.id FROM `base` b JOIN other ON other.id = b.id;
         CREATE VIEW base AS SELECT id FROM t;
         CREATE VIEW other AS SELECT id FROM t;
         CREATE VIEW broken AS SELECT FROM WHERE;",
    );
    let order: Vec<String> = views(&catalog).into_iter().map(|(name, _)| name).collect();
    assert_eq!(order, ["base", "other", "mid", "top", "broken"]);
}

#[test]
fn drop_cascade_drops_what_depends_on_it_and_names_it() {
    let catalog = read_script(
        SourceDialect::Postgres,
        "t.sql",
        "CREATE TABLE public.t (a int PRIMARY KEY);
         CREATE TABLE public.c (a int CONSTRAINT c_fk REFERENCES public.t (a));
         CREATE VIEW public.v AS SELECT a FROM public.t;
         CREATE VIEW public.w AS SELECT a FROM public.v;
         CREATE VIEW public.x AS SELECT a FROM public.c;
         DROP TABLE public.t CASCADE;",
    );
    assert_eq!(tables(&catalog), ["public.c(a)"]);
    assert!(catalog.tables[0].constraints.is_empty());
    let views: Vec<String> = views(&catalog).into_iter().map(|(name, _)| name).collect();
    assert_eq!(views, ["public.x"]);
    let cascade = catalog
        .findings
        .iter()
        .find(|f| f.code == "drop.cascade")
        .expect("a drop.cascade finding");
    assert_eq!(cascade.object, "public.t");
    for named in [
        "foreign key c_fk of public.c",
        "view public.v",
        "view public.w",
    ] {
        assert!(cascade.message.contains(named), "{}", cascade.message);
    }
}

#[test]
fn create_or_replace_table_replaces_the_table_and_its_indexes() {
    let catalog = read_script(
        SourceDialect::Mysql,
        "t.sql",
        "CREATE TABLE t (a INT, KEY ka (a));
         CREATE OR REPLACE TABLE t (b INT, KEY kb (b));",
    );
    assert_eq!(tables(&catalog), ["t(b)"]);
    let indexes: Vec<&str> = catalog
        .indexes
        .iter()
        .map(|i| i.name.name.value.as_str())
        .collect();
    assert_eq!(indexes, ["kb"]);
    assert!(catalog.findings.is_empty(), "{:?}", catalog.findings);
}
