//! Table mappings evaluated against the catalog of `common/mod.rs`, one test per rule kind and
//! wildcard semantic. The JSON follows the shapes of the AWS DMS guide's examples.

mod common;

use common::{catalog, ident, render, table};
use migrate_core::{ConstraintKind, LogicalType, SourceDialect};
use migrate_task::{Plan, TableMappings, TaskError};

fn plan(json: &str) -> Plan {
    TableMappings::parse(json)
        .expect("valid mapping")
        .plan(&catalog())
        .expect("plan")
}

fn plan_error(json: &str) -> String {
    match TableMappings::parse(json) {
        Err(e) => e.to_string(),
        Ok(m) => m.plan(&catalog()).expect_err("plan error").to_string(),
    }
}

fn parse_error(json: &str) -> TaskError {
    TableMappings::parse(json).expect_err("invalid mapping")
}

/// `source -> target` per table, in plan order.
fn tables(plan: &Plan) -> Vec<String> {
    plan.tables
        .iter()
        .map(|t| format!("{} -> {}", t.source, t.target.name))
        .collect()
}

fn columns(plan: &Plan, table: usize) -> Vec<String> {
    plan.tables[table]
        .columns
        .iter()
        .map(|c| match &c.source {
            Some(s) if s.value != c.target.value => format!("{}->{}", s.value, c.target.value),
            Some(_) => c.target.value.clone(),
            None => format!("+{}", c.target.value),
        })
        .collect()
}

fn codes(plan: &Plan) -> Vec<(String, String)> {
    plan.findings
        .iter()
        .map(|f| (f.code.clone(), f.object.clone()))
        .collect()
}

fn selection(id: u32, action: &str, schema: &str, table: &str) -> String {
    format!(
        r#"{{"rule-type": "selection", "rule-id": "{id}", "rule-name": "{id}",
            "object-locator": {{"schema-name": "{schema}", "table-name": "{table}"}},
            "rule-action": "{action}"}}"#
    )
}

fn rules(rules: &[String]) -> String {
    format!(r#"{{"rules": [{}]}}"#, rules.join(","))
}

#[test]
fn include_a_schema_minus_an_excluded_prefix() {
    // The guide's "all tables except those starting with DMS"; the exclude rule comes first to
    // show that order does not matter.
    let p = plan(&rules(&[
        selection(2, "exclude", "test", "DMS%"),
        selection(1, "include", "test", "%"),
    ]));
    assert_eq!(
        tables(&p),
        [
            r#"test."Actor" -> test."Actor""#,
            "test.employee -> test.employee",
            "test.loadfirst -> test.loadfirst",
            "test.loadsecond -> test.loadsecond",
        ]
    );
    assert!(p.findings.is_empty(), "{:?}", p.findings);
}

#[test]
fn wildcards_underscore_sets_and_escapes() {
    let p = plan(&rules(&[selection(1, "include", "%", "order[_]%")]));
    assert_eq!(tables(&p), ["sales.order_items -> sales.order_items"]);
    let p = plan(&rules(&[selection(1, "include", "sale_", "order_")]));
    assert_eq!(tables(&p), ["sales.orders -> sales.orders"]);
    let p = plan(&rules(&[selection(1, "include", "test", "load[a-f]%")]));
    assert_eq!(tables(&p), ["test.loadfirst -> test.loadfirst"]);
}

#[test]
fn names_are_case_sensitive_and_typos_are_reported() {
    let p = plan(&rules(&[
        selection(1, "include", "test", "employee"),
        selection(2, "include", "test", "actor"),
        selection(3, "include", "nosuch", "%"),
    ]));
    assert_eq!(tables(&p), ["test.employee -> test.employee"]);
    assert_eq!(
        codes(&p),
        [
            ("mapping.rule-unmatched".into(), "rule-id 2".into()),
            ("mapping.rule-unmatched".into(), "rule-id 3".into()),
        ]
    );
    assert_eq!(
        p.findings[0].to_string(),
        r#"warning [mapping.rule-unmatched] rule-id 2: selection rule matches no source table (test.actor) -> names are case-sensitive: did you mean test."Actor"?"#
    );
}

#[test]
fn migrates_own_state_tables_are_never_selected() {
    // A source that was a migration target: schema `migrate` holds migrate's state tables, and
    // may hold the user's own tables too.
    let mut source = catalog();
    source.tables.push(table(
        "migrate",
        "migrate_checkpoint",
        &[("task", "text"), ("chunk", "bigint")],
    ));
    source
        .tables
        .push(table("migrate", "releases", &[("id", "integer")]));
    let mappings = TableMappings::parse(&rules(&[selection(1, "include", "%", "%")])).unwrap();
    let p = mappings.plan(&source).unwrap();
    let loaded = tables(&p);
    assert!(loaded.contains(&"migrate.releases -> migrate.releases".to_string()));
    assert!(
        !loaded.iter().any(|t| t.contains("migrate_checkpoint")),
        "{loaded:?}"
    );
    assert!(codes(&p).contains(&(
        "mapping.bookkeeping-skipped".into(),
        "migrate.migrate_checkpoint".into()
    )));
    // Nor captured when it appears during change capture.
    assert!(!mappings.selects(&common::qn("migrate", "migrate_cdc_checkpoint")));
    assert!(mappings.selects(&common::qn("migrate", "releases")));
}

#[test]
fn explicit_selects_one_exact_table_even_when_excluded() {
    let p = plan(&rules(&[selection(1, "explicit", "NewCust", "Customer")]));
    assert_eq!(
        tables(&p),
        [r#""NewCust"."Customer" -> "NewCust"."Customer""#]
    );

    // `_` is literal in an explicit rule.
    let p = plan(&rules(&[selection(1, "explicit", "sales", "order_items")]));
    assert_eq!(tables(&p), ["sales.order_items -> sales.order_items"]);

    let p = plan(&rules(&[
        selection(1, "exclude", "sales", "%"),
        selection(2, "explicit", "sales", "orders"),
    ]));
    assert_eq!(tables(&p), ["sales.orders -> sales.orders"]);
    assert_eq!(
        codes(&p),
        [(
            "mapping.explicit-overrides-exclude".into(),
            "sales.orders".into()
        )]
    );

    let e = parse_error(&rules(&[selection(1, "explicit", "sales", "order%")]));
    assert_eq!(
        e.to_string(),
        "table mappings: rule-id 1: an explicit rule names one table exactly and takes no wildcards; use `\"rule-action\": \"include\"` for wildcards"
    );
}

#[test]
fn higher_load_order_loads_first() {
    let json = r#"{"rules": [
        {"rule-type": "selection", "rule-id": "1", "rule-name": "1",
         "object-locator": {"schema-name": "test", "table-name": "loadsecond"},
         "rule-action": "include", "load-order": "1"},
        {"rule-type": "selection", "rule-id": "2", "rule-name": "2",
         "object-locator": {"schema-name": "test", "table-name": "loadfirst"},
         "rule-action": "include", "load-order": 2},
        {"rule-type": "selection", "rule-id": "3", "rule-name": "3",
         "object-locator": {"schema-name": "sales", "table-name": "%"},
         "rule-action": "include"}]}"#;
    let p = plan(json);
    assert_eq!(
        tables(&p),
        [
            "test.loadfirst -> test.loadfirst",
            "test.loadsecond -> test.loadsecond",
            "sales.order_items -> sales.order_items",
            "sales.orders -> sales.orders",
        ]
    );
    assert_eq!(
        p.tables.iter().map(|t| t.load_order).collect::<Vec<_>>(),
        [2, 1, 0, 0]
    );
}

#[test]
fn filters_and_between_filters_or_within() {
    let json = r#"{"rules": [{"rule-type": "selection", "rule-id": "1", "rule-name": "1",
        "object-locator": {"schema-name": "test", "table-name": "employee"},
        "rule-action": "include",
        "filters": [
          {"filter-type": "source", "column-name": "empid", "filter-conditions": [
             {"filter-operator": "ste", "value": "10"},
             {"filter-operator": "between", "start-value": "50", "end-value": "75"},
             {"filter-operator": "gte", "value": "100"}]},
          {"filter-type": "source", "column-name": "dept", "filter-conditions": [
             {"filter-operator": "eq", "value": "tech"}]},
          {"filter-type": "source", "column-name": "empstartdate", "filter-conditions": [
             {"filter-operator": "notnull"}]}]}]}"#;
    let p = plan(json);
    let filter = p.tables[0].filter.as_ref().expect("filter");
    assert_eq!(
        filter.to_sql(SourceDialect::Postgres, |i| format!("\"{}\"", i.value)),
        r#"("empid" <= 10 OR "empid" BETWEEN 50 AND 75 OR "empid" >= 100) AND "dept" = 'tech' AND "empstartdate" IS NOT NULL"#
    );
    assert_eq!(
        filter.to_sql(SourceDialect::Mysql, |i| format!("`{}`", i.value)),
        "(`empid` <= 10 OR `empid` BETWEEN 50 AND 75 OR `empid` >= 100) AND `dept` = 'tech' AND `empstartdate` IS NOT NULL"
    );
}

#[test]
fn two_rules_selecting_a_table_union_their_rows() {
    let filtered = |id: u32, value: &str| {
        format!(
            r#"{{"rule-type": "selection", "rule-id": "{id}", "rule-name": "{id}",
            "object-locator": {{"schema-name": "sales", "table-name": "orders"}},
            "rule-action": "include", "load-order": "{id}",
            "filters": [{{"filter-type": "source", "column-name": "created_at",
              "filter-conditions": [{{"filter-operator": "gte", "value": "{value}"}}]}}]}}"#
        )
    };
    let p = plan(&rules(&[
        filtered(1, "2024-01-01"),
        filtered(5, "2023-06-30 12:00:00"),
    ]));
    assert_eq!(p.tables.len(), 1);
    assert_eq!(p.tables[0].load_order, 5);
    assert_eq!(
        p.tables[0].filter.as_ref().unwrap().to_string(),
        "created_at >= TIMESTAMP '2024-01-01 00:00:00' OR created_at >= TIMESTAMP '2023-06-30 12:00:00'"
    );
    // A rule without filters selects every row.
    let p = plan(&rules(&[
        filtered(1, "2024-01-01"),
        selection(2, "include", "sales", "orders"),
    ]));
    assert_eq!(p.tables[0].filter, None);
}

#[test]
fn filter_errors_name_the_rule_and_the_column() {
    let json = |column: &str, value: &str| {
        format!(
            r#"{{"rules": [{{"rule-type": "selection", "rule-id": "7", "rule-name": "emp",
            "object-locator": {{"schema-name": "test", "table-name": "employee"}},
            "rule-action": "include",
            "filters": [{{"filter-type": "source", "column-name": "{column}",
              "filter-conditions": [{{"filter-operator": "eq", "value": "{value}"}}]}}]}}]}}"#
        )
    };
    assert_eq!(
        plan_error(&json("EmpId", "1")),
        "test.employee: rule-id 7 (\"emp\"): filter column `EmpId` does not exist in test.employee (names are case-sensitive); its columns are: empid, name, dept, empstartdate, salary; use the column's name exactly as the source stores it"
    );
    assert_eq!(
        plan_error(&json("empid", "1 OR 1=1")),
        "test.employee: rule-id 7 (\"emp\"): filter value `1 OR 1=1` on `empid` is not an integer (the column is integer); write an integer"
    );
}

#[test]
fn rename_schema_table_and_column() {
    let json = r#"{"rules": [
        {"rule-type": "selection", "rule-id": "1", "rule-name": "1",
         "object-locator": {"schema-name": "test", "table-name": "%"}, "rule-action": "include"},
        {"rule-type": "selection", "rule-id": "2", "rule-name": "2",
         "object-locator": {"schema-name": "test", "table-name": "DMS%"}, "rule-action": "exclude"},
        {"rule-type": "transformation", "rule-id": "3", "rule-name": "3", "rule-action": "rename",
         "rule-target": "schema", "object-locator": {"schema-name": "test"}, "value": "Test1"},
        {"rule-type": "transformation", "rule-id": "4", "rule-name": "4", "rule-action": "rename",
         "rule-target": "table", "object-locator": {"schema-name": "test", "table-name": "Actor"},
         "value": "Actor1", "old-value": null},
        {"rule-type": "transformation", "rule-id": "5", "rule-name": "5", "rule-action": "rename",
         "rule-target": "column",
         "object-locator": {"schema-name": "test", "table-name": "Actor", "column-name": "first_name"},
         "value": "fname"}]}"#;
    let p = plan(json);
    assert_eq!(
        tables(&p),
        [
            r#"test."Actor" -> test1.actor1"#,
            "test.employee -> test1.employee",
            "test.loadfirst -> test1.loadfirst",
            "test.loadsecond -> test1.loadsecond",
        ]
    );
    // The targets' names are lower case: the rules' mixed-case values are folded, and reported.
    assert_eq!(
        codes(&p),
        [
            ("mapping.name-folded".to_string(), "rule-id 3".to_string()),
            ("mapping.name-folded".to_string(), "rule-id 4".to_string()),
        ]
    );
    assert_eq!(
        columns(&p, 0),
        ["first_name->fname", "last_name", "col1", "col2", "Pre_code"]
    );
    // The foreign key follows the renamed schema.
    let fk = p.tables[3]
        .target
        .foreign_keys()
        .next()
        .expect("foreign key kept");
    assert_eq!(fk.referenced_table.to_string(), "test1.loadfirst");
}

#[test]
fn remove_columns_by_pattern_and_case_conversions() {
    let json = r#"{"rules": [
        {"rule-type": "selection", "rule-id": "1", "rule-name": "1",
         "object-locator": {"schema-name": "test", "table-name": "Actor"}, "rule-action": "include"},
        {"rule-type": "transformation", "rule-id": "2", "rule-name": "2",
         "rule-action": "remove-column", "rule-target": "column",
         "object-locator": {"schema-name": "test", "table-name": "Actor", "column-name": "col%"}},
        {"rule-type": "transformation", "rule-id": "3", "rule-name": "3",
         "rule-action": "convert-lowercase", "rule-target": "table",
         "object-locator": {"schema-name": "test", "table-name": "Actor"}},
        {"rule-type": "transformation", "rule-id": "4", "rule-name": "4",
         "rule-action": "convert-uppercase", "rule-target": "column",
         "object-locator": {"schema-name": "%", "table-name": "%", "column-name": "%"}}]}"#;
    let p = plan(json);
    assert_eq!(tables(&p), [r#"test."Actor" -> test.actor"#]);
    // convert-uppercase is undone by the lower-case target, and says so.
    assert_eq!(
        columns(&p, 0),
        ["first_name", "last_name", "Pre_code->pre_code"]
    );
    assert!(!p.tables[0].target.columns[2].name.quoted);
    assert!(!p.tables[0].target.name.name.quoted);
    assert_eq!(
        render(&p).lines().last().unwrap(),
        "warning [mapping.name-folded] rule-id 4: rule-id 4 (convert-uppercase) has no effect: the target gets the names in lower case, like every name migrate creates (FIRST_NAME -> first_name, LAST_NAME -> last_name, PRE_CODE -> pre_code) -> remove the rule"
    );
}

#[test]
fn prefixes_and_suffixes() {
    let t = |action: &str, target: &str, locator: &str, extra: &str| {
        plan(&format!(
            r#"{{"rules": [{},
            {{"rule-type": "transformation", "rule-id": "2", "rule-name": "2",
              "rule-action": "{action}", "rule-target": "{target}",
              "object-locator": {locator} {extra}}}]}}"#,
            selection(1, "include", "test", "%")
        ))
    };
    let p = t(
        "add-prefix",
        "table",
        r#"{"schema-name": "test", "table-name": "%"}"#,
        r#", "value": "DMS_""#,
    );
    assert_eq!(
        p.tables
            .iter()
            .map(|t| t.target.name.name.value.clone())
            .collect::<Vec<_>>(),
        [
            "dms_actor",
            "dms_dms_audit",
            "dms_employee",
            "dms_loadfirst",
            "dms_loadsecond"
        ]
    );
    let p = t(
        "remove-prefix",
        "table",
        r#"{"schema-name": "test", "table-name": "%"}"#,
        r#", "value": "DMS_""#,
    );
    assert_eq!(p.tables[1].target.name.name.value, "audit");
    let p = t(
        "replace-prefix",
        "column",
        r#"{"schema-name": "%", "table-name": "%", "column-name": "%"}"#,
        r#", "value": "NewPre_", "old-value": "Pre_""#,
    );
    assert_eq!(columns(&p, 0)[4], "Pre_code->newpre_code");
    let p = t(
        "add-suffix",
        "schema",
        r#"{"schema-name": "test"}"#,
        r#", "value": "_stage""#,
    );
    assert_eq!(p.tables[0].target.name.to_string(), r#"test_stage."Actor""#);
    let p = t(
        "replace-suffix",
        "column",
        r#"{"schema-name": "test", "table-name": "Actor", "column-name": "%_name"}"#,
        r#", "value": "_nm", "old-value": "_name""#,
    );
    assert_eq!(
        columns(&p, 0),
        [
            "first_name->first_nm",
            "last_name->last_nm",
            "col1",
            "col2",
            "Pre_code"
        ]
    );
    let p = t(
        "remove-suffix",
        "column",
        r#"{"schema-name": "test", "table-name": "Actor", "column-name": "%"}"#,
        r#", "value": "_name""#,
    );
    assert_eq!(
        columns(&p, 0)[..2],
        ["first_name->first", "last_name->last"]
    );
}

#[test]
fn add_column_include_column_and_change_data_type() {
    let json = r#"{"rules": [
        {"rule-type": "selection", "rule-id": "1", "rule-name": "1",
         "object-locator": {"schema-name": "test", "table-name": "Actor"}, "rule-action": "include"},
        {"rule-type": "transformation", "rule-id": "2", "rule-name": "2",
         "rule-action": "include-column", "rule-target": "column",
         "object-locator": {"schema-name": "test", "table-name": "Actor", "column-name": "%_name"}},
        {"rule-type": "transformation", "rule-id": "3", "rule-name": "3",
         "rule-action": "add-column", "rule-target": "column",
         "object-locator": {"schema-name": "test", "table-name": "Actor"},
         "value": "full_name", "expression": "$first_name||' '||$last_name",
         "data-type": {"type": "string", "length": 91}},
        {"rule-type": "transformation", "rule-id": "4", "rule-name": "4",
         "rule-action": "add-column", "rule-target": "column",
         "object-locator": {"schema-name": "test", "table-name": "Actor"},
         "value": "last_updated", "data-type": {"type": "datetime", "precision": 6}},
        {"rule-type": "transformation", "rule-id": "5", "rule-name": "5",
         "rule-action": "change-data-type", "rule-target": "column",
         "object-locator": {"schema-name": "test", "table-name": "Actor", "column-name": "last_name"},
         "data-type": {"type": "string", "length": "4092", "scale": ""}}]}"#;
    let p = plan(json);
    assert_eq!(
        columns(&p, 0),
        ["first_name", "last_name", "+full_name", "+last_updated"]
    );
    let target = &p.tables[0].target;
    let types: Vec<String> = target
        .columns
        .iter()
        .map(|c| c.data_type.to_string())
        .collect();
    assert_eq!(
        types,
        [
            "varchar(45 char)",
            "varchar(4092 char)",
            "varchar(91 char)",
            "timestamp(6)"
        ]
    );
    assert_eq!(
        p.tables[0].columns[2].expression.as_deref(),
        Some("$first_name||' '||$last_name")
    );
    assert_eq!(p.tables[0].columns[3].expression, None);
    assert_eq!(
        p.tables[0].to_string(),
        "test.\"Actor\" -> test.\"Actor\" (load-order 0)\n  first_name varchar(45 char)\n  last_name varchar(4092 char)\n  full_name varchar(91 char) = $first_name||' '||$last_name\n  last_updated timestamp(6) = NULL"
    );
}

#[test]
fn add_column_expression_must_refer_to_source_columns() {
    let json = r#"{"rules": [
        {"rule-type": "selection", "rule-id": "1", "rule-name": "1",
         "object-locator": {"schema-name": "test", "table-name": "Actor"}, "rule-action": "include"},
        {"rule-type": "transformation", "rule-id": "2", "rule-name": "2",
         "rule-action": "add-column", "rule-target": "column",
         "object-locator": {"schema-name": "test", "table-name": "Actor"},
         "value": "x", "expression": "$firstname || '$not_a_column' || $AR_H_TIMESTAMP",
         "data-type": {"type": "string", "length": 50}}]}"#;
    assert_eq!(
        plan_error(json),
        "test.\"Actor\": rule-id 2 (add-column): the expression refers to `$firstname`, which is not a column of test.\"Actor\" (names are case-sensitive); refer to source columns as `$column`; DMS header values start with `$AR_`"
    );
}

#[test]
fn change_data_type_by_locator_data_type() {
    let json = r#"{"rules": [
        {"rule-type": "selection", "rule-id": "1", "rule-name": "1",
         "object-locator": {"schema-name": "sales", "table-name": "%"}, "rule-action": "include"},
        {"rule-type": "transformation", "rule-id": "2", "rule-name": "2",
         "rule-action": "change-data-type", "rule-target": "column",
         "object-locator": {"schema-name": "sales", "table-name": "%", "column-name": "%",
                            "data-type": "int8"},
         "data-type": {"type": "numeric", "precision": 20}}]}"#;
    let p = plan(json);
    let orders = &p.tables[1].target;
    assert_eq!(orders.name.to_string(), "sales.orders");
    assert_eq!(
        orders.columns[0].data_type,
        LogicalType::Decimal {
            precision: 20,
            scale: 0
        }
    );
    assert_eq!(orders.columns[1].data_type, LogicalType::Integer);
}

#[test]
fn define_primary_key_and_unique_index() {
    let rule = |origin: &str| {
        format!(
            r#"{{"rules": [{},
            {{"rule-type": "transformation", "rule-id": "2", "rule-name": "2",
              "rule-action": "define-primary-key", "rule-target": "table",
              "object-locator": {{"schema-name": "inventory", "table-name": "ITEM"}},
              "primary-key-def": {{"name": "ITEM-primary-key", {origin}
                "columns": ["ITEM-NAME", "BOM-MODEL-NUM", "BOM-PART-NUM"]}}}}]}}"#,
            selection(1, "include", "inventory", "%")
        )
    };
    let p = plan(&rule(""));
    let c = &p.tables[0].target.constraints;
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].name.as_ref().unwrap().value, "ITEM-primary-key");
    assert_eq!(
        c[0].kind,
        ConstraintKind::PrimaryKey(vec![
            ident("ITEM-NAME"),
            ident("BOM-MODEL-NUM"),
            ident("BOM-PART-NUM")
        ])
    );
    // The rule is kept for messages about the key (change capture refuses some keys).
    assert_eq!(
        p.tables[0].key_rule.as_deref(),
        Some("rule-id 2 (define-primary-key)")
    );
    let p = plan(&rule(r#""origin": "unique-index","#));
    assert!(matches!(
        p.tables[0].target.constraints[0].kind,
        ConstraintKind::Unique(_)
    ));
    assert_eq!(
        p.tables[0].key_rule.as_deref(),
        Some("rule-id 2 (define-primary-key)")
    );
    let e = parse_error(&rule("").replace(r#""table-name": "ITEM""#, r#""table-name": "IT%""#));
    assert!(
        e.to_string().contains("exact schema and table names"),
        "{e}"
    );
}

#[test]
fn lowest_rule_id_wins_per_object_and_the_loser_is_reported() {
    let json = r#"{"rules": [
        {"rule-type": "selection", "rule-id": "1", "rule-name": "1",
         "object-locator": {"schema-name": "test", "table-name": "Actor"}, "rule-action": "include"},
        {"rule-type": "transformation", "rule-id": "2", "rule-name": "2",
         "rule-action": "add-prefix", "rule-target": "column",
         "object-locator": {"schema-name": "%", "table-name": "%", "column-name": "%"}, "value": "src_"},
        {"rule-type": "transformation", "rule-id": "3", "rule-name": "3", "rule-action": "rename",
         "rule-target": "column",
         "object-locator": {"schema-name": "test", "table-name": "Actor", "column-name": "first_name"},
         "value": "fname"},
        {"rule-type": "transformation", "rule-id": "4", "rule-name": "4",
         "rule-action": "change-data-type", "rule-target": "column",
         "object-locator": {"schema-name": "test", "table-name": "Actor", "column-name": "first_name"},
         "data-type": {"type": "string", "length": 100}}]}"#;
    let p = plan(json);
    assert_eq!(columns(&p, 0)[0], "first_name->src_first_name");
    // A change of type is another kind of change: it applies.
    assert_eq!(
        p.tables[0].target.columns[0].data_type.to_string(),
        "varchar(100 char)"
    );
    assert_eq!(
        render(&p).lines().last().unwrap(),
        "warning [mapping.rule-shadowed] rule-id 3: rule-id 3 (rename) is not applied to test.\"Actor\".first_name: rule-id 2 (add-prefix) also matches and DMS applies the lowest rule-id -> narrow one of the object-locators, or merge the two rules"
    );
}

#[test]
fn constraints_follow_renames_or_are_dropped_with_a_finding() {
    let json = r#"{"rules": [
        {"rule-type": "selection", "rule-id": "1", "rule-name": "1",
         "object-locator": {"schema-name": "sales", "table-name": "order_items"}, "rule-action": "include"},
        {"rule-type": "selection", "rule-id": "2", "rule-name": "2",
         "object-locator": {"schema-name": "test", "table-name": "employee"}, "rule-action": "include"},
        {"rule-type": "transformation", "rule-id": "3", "rule-name": "3", "rule-action": "rename",
         "rule-target": "column",
         "object-locator": {"schema-name": "sales", "table-name": "order_items", "column-name": "line"},
         "value": "line_no"},
        {"rule-type": "transformation", "rule-id": "4", "rule-name": "4",
         "rule-action": "remove-column", "rule-target": "column",
         "object-locator": {"schema-name": "test", "table-name": "employee", "column-name": "empid"}}]}"#;
    let p = plan(json);
    assert_eq!(
        tables(&p),
        [
            "sales.order_items -> sales.order_items",
            "test.employee -> test.employee"
        ]
    );
    let items = &p.tables[0].target;
    assert_eq!(items.constraints.len(), 1);
    assert_eq!(
        items.constraints[0].kind,
        ConstraintKind::Unique(vec![ident("order_id"), ident("line_no")])
    );
    assert!(p.tables[1].target.constraints.is_empty());
    assert_eq!(
        p.findings.iter().map(|f| f.to_string()).collect::<Vec<_>>(),
        [
            "warning [mapping.constraint-dropped] test.employee: constraint employee_pkey is not created on the target: one of its columns is not loaded -> recreate it on the target by hand if it is still wanted",
            "warning [mapping.constraint-dropped] sales.order_items: constraint order_items_order_fk is not created on the target: the table it references is not loaded -> recreate it on the target by hand if it is still wanted",
        ]
    );
}

#[test]
fn two_tables_into_one_target_is_an_error() {
    let json = r#"{"rules": [
        {"rule-type": "selection", "rule-id": "1", "rule-name": "1",
         "object-locator": {"schema-name": "test", "table-name": "load%"}, "rule-action": "include"},
        {"rule-type": "transformation", "rule-id": "2", "rule-name": "2",
         "rule-action": "rename", "rule-target": "table",
         "object-locator": {"schema-name": "test", "table-name": "load%"}, "value": "loads"}]}"#;
    assert_eq!(
        plan_error(json),
        "test.loadsecond: test.loadfirst and test.loadsecond would both load into test.loads; change the transformation rules so that each source table has its own target table (DMS does not merge tables either)"
    );
}

#[test]
fn unmatched_transformation_rules_are_reported() {
    let json = r#"{"rules": [
        {"rule-type": "selection", "rule-id": "1", "rule-name": "1",
         "object-locator": {"schema-name": "sales", "table-name": "%"}, "rule-action": "include"},
        {"rule-type": "transformation", "rule-id": "2", "rule-name": "2",
         "rule-action": "remove-column", "rule-target": "column",
         "object-locator": {"schema-name": "sales", "table-name": "orders", "column-name": "Total"}}]}"#;
    let p = plan(json);
    assert_eq!(
        codes(&p),
        [("mapping.rule-unmatched".into(), "rule-id 2".into())]
    );
}

#[test]
fn invalid_mappings_name_the_rule_and_the_fix() {
    let cases: &[(&str, &str)] = &[
        (
            r#"{"rules": [{"rule-type": "selection", "rule-id": "1", "rule-name": "1",
                "object-locator": {"schema-name": "test", "table-name": "%"}, "rule-action": "include"},
               {"rule-type": "transformation", "rule-id": "2", "rule-name": "2",
                "rule-action": "explode", "rule-target": "table",
                "object-locator": {"schema-name": "test", "table-name": "%"}}]}"#,
            "table mappings: rule-id 2: unknown or unsupported transformation rule-action `explode`; use one of: rename, convert-lowercase, convert-uppercase, add-prefix, remove-prefix, replace-prefix, add-suffix, remove-suffix, replace-suffix, remove-column, include-column, add-column, change-data-type, define-primary-key",
        ),
        (
            r#"{"rules": [{"rule-type": "selection", "rule-name": "orders",
                "object-locator": {"schema-name": "sales", "table-name": "orders"}, "rule-action": "include"}]}"#,
            "table mappings: rules[0] (\"orders\"): the rule has no rule-id; add a unique numeric `\"rule-id\": \"1\"`",
        ),
        (
            r#"{"rules": [{"rule-type": "selection", "rule-id": "9", "rule-name": "9",
                "object-locator": {"schema-name": "sales", "table-name": "orders"}, "rule-action": "include",
                "filters": [{"filter-type": "source", "column-name": "total",
                  "filter-conditions": [{"filter-operator": "gt", "value": "10"}]}]}]}"#,
            "table mappings: rule-id 9: unknown filter-operator `gt`; use one of eq, noteq, lte (or ste), gte, between, notbetween, null, notnull; for a list of values write one `eq` condition per value in the same filter (conditions are ORed)",
        ),
        (
            r#"{"rules": [{"rule-type": "selection", "rule-id": "1", "rule-name": "1",
                "object-locator": {"schema-name": "sales", "table-name": "orders", "tabel-type": "table"},
                "rule-action": "include"}]}"#,
            "table mappings: rule-id 1: unknown field `tabel-type`, expected one of `schema-name`, `table-name`, `table-type`; remove the field or fix its spelling (field names are the ones AWS DMS documents); migrate rejects fields it would otherwise ignore",
        ),
        (
            r#"{"rules": [{"rule-type": "table-settings", "rule-id": "3", "rule-name": "3",
                "object-locator": {"schema-name": "sales", "table-name": "orders"},
                "parallel-load": {"type": "partitions-auto"}}]}"#,
            "table mappings: rule-id 3: table-settings rules are not supported; remove the rule; set `parallel_tables` and `chunk_rows` in task.toml instead",
        ),
        (
            r#"{"rules": [
               {"rule-type": "selection", "rule-id": "1", "object-locator": {"schema-name": "a", "table-name": "b"}, "rule-action": "include"},
               {"rule-type": "selection", "rule-id": 1, "object-locator": {"schema-name": "a", "table-name": "c"}, "rule-action": "include"}]}"#,
            "table mappings: rule-id 1: the rule-id is used twice; give every rule a unique rule-id",
        ),
        (
            r#"{"rules": [{"rule-type": "transformation", "rule-id": "1", "rule-action": "convert-lowercase",
                "rule-target": "schema", "object-locator": {"schema-name": "%"}}]}"#,
            "table mappings: document: the table mapping has no selection rule, so it selects no table; write {\"rules\": [...]} as AWS DMS documents it",
        ),
        (
            r#"{"rules": [{"rule-type": "selection", "rule-id": "1", "object-locator": {"schema-name": "a", "table-name": "b"}, "rule-action": "include"},
               {"rule-type": "transformation", "rule-id": "2", "rule-action": "convert-lowercase",
                "rule-target": "table", "object-locator": {"schema-name": "%", "table-name": "%"}, "value": "x"}]}"#,
            "table mappings: rule-id 2: `value` is not used by `convert-lowercase`; remove `value`",
        ),
        (
            r#"{"rules": [{"rule-type": "selection", "rule-id": "1", "object-locator": {"schema-name": "a", "table-name": "b"}, "rule-action": "include"},
               {"rule-type": "transformation", "rule-id": "2", "rule-action": "rename",
                "rule-target": "column", "object-locator": {"schema-name": "%", "table-name": "%"}, "value": "x"}]}"#,
            "table mappings: rule-id 2: rule-target column needs object-locator `column-name`; add `\"column-name\"` (\"%\" for all)",
        ),
        (
            r#"{"rules": [{"rule-type": "selection", "rule-id": "1", "object-locator": {"schema-name": "a", "table-name": "b"}, "rule-action": "include"},
               {"rule-type": "transformation", "rule-id": "2", "rule-action": "rename",
                "rule-target": "table-tablespace", "object-locator": {"schema-name": "a", "table-name": "b", "table-tablespace-name": "T"}, "value": "x"}]}"#,
            "table mappings: rule-id 2: rule-target `table-tablespace` applies only to Oracle targets; remove the rule: PostgreSQL and Redshift targets have no Oracle tablespaces",
        ),
        (
            r#"{"rules": [{"rule-type": "selection", "rule-id": "1", "object-locator": {"schema-name": "a", "table-name": "b"},
                "rule-action": "exclude", "filters": [{"filter-type": "source", "column-name": "x",
                "filter-conditions": [{"filter-operator": "eq", "value": "1"}]}]}]}"#,
            "table mappings: rule-id 1: filters apply only to include and explicit rules (DMS ignores them on exclude rules); remove the filters, or make the rule an include rule",
        ),
        (
            r#"{"rules": [], "version": 2}"#,
            "table mappings: document: unknown top-level field `version` (only `rules` is allowed); write {\"rules\": [...]} as AWS DMS documents it",
        ),
    ];
    for (json, expected) in cases {
        assert_eq!(parse_error(json).to_string(), *expected);
    }
}

#[test]
fn bad_json_reports_line_and_column() {
    let json = "{\"rules\": [\n  {\"rule-type\": \"selection\",\n   \"rule-id\": \"1\" \"rule-name\": \"x\"}\n]}";
    match parse_error(json) {
        TaskError::MappingJson { line, column, .. } => assert_eq!((line, column), (3, 19)),
        other => panic!("{other}"),
    }
    assert!(parse_error(json)
        .to_string()
        .starts_with("table mappings:3:19: invalid JSON: expected `,` or `}`"));
}
