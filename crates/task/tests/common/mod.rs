//! The source catalog the mapping tests and the documentation examples run against:
//!
//! | schema | table | columns |
//! |---|---|---|
//! | `test` | `employee` | `empid` integer (primary key), `name` varchar(40), `dept` varchar(20), `empstartdate` date, `salary` decimal(10,2) |
//! | `test` | `Actor` | `first_name` varchar(45), `last_name` varchar(45), `col1` integer, `col2` text, `Pre_code` char(3) |
//! | `test` | `DMS_audit` | `id` bigint |
//! | `test` | `loadfirst` | `id` integer (primary key) |
//! | `test` | `loadsecond` | `id` integer, `first_id` integer (foreign key to `loadfirst`) |
//! | `NewCust` | `Customer` | `id` integer, `email` varchar(100) |
//! | `inventory` | `ITEM` | `ITEM-NAME` varchar(30), `BOM-MODEL-NUM` varchar(10), `BOM-PART-NUM` varchar(10), `qty` integer |
//! | `sales` | `orders` | `order_id` bigint (primary key), `customer_id` integer, `total` decimal(12,2), `created_at` timestamp(6) |
//! | `sales` | `order_items` | `order_id` bigint (foreign key to `orders`), `line` integer, `sku` varchar(20), unique (`order_id`, `line`) |

use migrate_core::{
    Catalog, Column, Constraint, ConstraintKind, ConstraintState, ForeignKey, Ident, LogicalType,
    QualifiedName, Table,
};

/// Mixed-case names are quoted, as a discovered catalog stores them.
pub fn ident(name: &str) -> Ident {
    if name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        Ident::new(name)
    } else {
        Ident::quoted(name)
    }
}

pub fn qn(schema: &str, table: &str) -> QualifiedName {
    QualifiedName::new(Some(ident(schema)), ident(table))
}

pub fn table(schema: &str, name: &str, columns: &[(&str, &str)]) -> Table {
    let mut t = Table::new(qn(schema, name));
    for (column, ty) in columns {
        t.columns.push(Column::new(
            ident(column),
            *ty,
            LogicalType::parse(ty).expect("canonical type"),
        ));
    }
    t
}

fn constraint(name: &str, kind: ConstraintKind) -> Constraint {
    Constraint {
        name: Some(ident(name)),
        kind,
        state: ConstraintState::default(),
        index: Default::default(),
    }
}

fn pk(name: &str, columns: &[&str]) -> Constraint {
    constraint(
        name,
        ConstraintKind::PrimaryKey(columns.iter().map(|c| ident(c)).collect()),
    )
}

fn fk(name: &str, columns: &[&str], schema: &str, table: &str, referenced: &[&str]) -> Constraint {
    constraint(
        name,
        ConstraintKind::ForeignKey(ForeignKey {
            columns: columns.iter().map(|c| ident(c)).collect(),
            referenced_table: qn(schema, table),
            referenced_columns: referenced.iter().map(|c| ident(c)).collect(),
            on_delete: None,
            on_update: None,
            match_full: false,
        }),
    )
}

pub fn catalog() -> Catalog {
    let mut employee = table(
        "test",
        "employee",
        &[
            ("empid", "integer"),
            ("name", "varchar(40 char)"),
            ("dept", "varchar(20 char)"),
            ("empstartdate", "date"),
            ("salary", "decimal(10,2)"),
        ],
    );
    employee.constraints.push(pk("employee_pkey", &["empid"]));
    let actor = table(
        "test",
        "Actor",
        &[
            ("first_name", "varchar(45 char)"),
            ("last_name", "varchar(45 char)"),
            ("col1", "integer"),
            ("col2", "text"),
            ("Pre_code", "char(3 char)"),
        ],
    );
    let audit = table("test", "DMS_audit", &[("id", "bigint")]);
    let mut loadfirst = table("test", "loadfirst", &[("id", "integer")]);
    loadfirst.constraints.push(pk("loadfirst_pkey", &["id"]));
    let mut loadsecond = table(
        "test",
        "loadsecond",
        &[("id", "integer"), ("first_id", "integer")],
    );
    loadsecond.constraints.push(fk(
        "loadsecond_first_fk",
        &["first_id"],
        "test",
        "loadfirst",
        &["id"],
    ));
    let customer = table(
        "NewCust",
        "Customer",
        &[("id", "integer"), ("email", "varchar(100 char)")],
    );
    let item = table(
        "inventory",
        "ITEM",
        &[
            ("ITEM-NAME", "varchar(30 char)"),
            ("BOM-MODEL-NUM", "varchar(10 char)"),
            ("BOM-PART-NUM", "varchar(10 char)"),
            ("qty", "integer"),
        ],
    );
    let mut orders = table(
        "sales",
        "orders",
        &[
            ("order_id", "bigint"),
            ("customer_id", "integer"),
            ("total", "decimal(12,2)"),
            ("created_at", "timestamp(6)"),
        ],
    );
    orders.constraints.push(pk("orders_pkey", &["order_id"]));
    let mut items = table(
        "sales",
        "order_items",
        &[
            ("order_id", "bigint"),
            ("line", "integer"),
            ("sku", "varchar(20 char)"),
        ],
    );
    items.constraints.push(fk(
        "order_items_order_fk",
        &["order_id"],
        "sales",
        "orders",
        &["order_id"],
    ));
    items.constraints.push(constraint(
        "order_items_line_key",
        ConstraintKind::Unique(vec![ident("order_id"), ident("line")]),
    ));
    Catalog {
        tables: vec![
            employee, actor, audit, loadfirst, loadsecond, customer, item, orders, items,
        ],
        ..Catalog::default()
    }
}

/// A plan as the documentation shows it: each table, then each finding.
pub fn render(plan: &migrate_task::Plan) -> String {
    let mut parts: Vec<String> = plan.tables.iter().map(|t| t.to_string()).collect();
    parts.extend(plan.findings.iter().map(|f| f.to_string()));
    parts.join("\n")
}
