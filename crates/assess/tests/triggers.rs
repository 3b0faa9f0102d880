//! Triggers named without a schema are counted under their table's schema.

use migrate_assess::{assess, EffortModel, Input, ObjectKind, SourceInfo};
use migrate_core::{SourceDialect, TargetDialect};
use migrate_dialect::DdlReader;

fn trigger_schemas(dialect: SourceDialect, script: &str) -> Vec<(String, String)> {
    let mut reader = DdlReader::new(dialect);
    reader
        .read_bytes("triggers.sql", script.as_bytes())
        .unwrap();
    let catalog = reader.finish();
    let assessment = assess(Input {
        catalog: &catalog,
        from: dialect,
        to: TargetDialect::Redshift,
        source: SourceInfo {
            kind: "files",
            dialect: dialect.name(),
            inputs: vec!["triggers.sql".into()],
        },
        preflight: Vec::new(),
        model: &EffortModel::builtin(),
    });
    assessment
        .objects
        .iter()
        .filter(|o| o.kind == ObjectKind::Trigger)
        .map(|o| (o.schema.clone(), o.name.clone()))
        .collect()
}

#[test]
fn a_trigger_belongs_to_its_tables_schema() {
    let postgres = "CREATE TABLE sales.orders (id int);
        CREATE FUNCTION sales.stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
        CREATE TRIGGER stamp_orders BEFORE UPDATE OF id ON sales.orders FOR EACH ROW EXECUTE FUNCTION sales.stamp();
        CREATE TRIGGER audit.qualified AFTER INSERT ON sales.orders FOR EACH ROW EXECUTE FUNCTION sales.stamp();";
    assert_eq!(
        trigger_schemas(SourceDialect::Postgres, postgres),
        [
            ("sales".to_string(), "stamp_orders".to_string()),
            ("audit".to_string(), "qualified".to_string())
        ]
    );
    let mysql = "CREATE TABLE shop.orders (id int);
        CREATE TRIGGER bump BEFORE INSERT ON shop.orders FOR EACH ROW SET NEW.id = NEW.id + 1;
        CREATE TRIGGER plain BEFORE INSERT ON orders FOR EACH ROW SET NEW.id = 1;";
    assert_eq!(
        trigger_schemas(SourceDialect::Mysql, mysql),
        [
            ("shop".to_string(), "bump".to_string()),
            (String::new(), "plain".to_string())
        ]
    );
}
