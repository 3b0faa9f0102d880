//! Prints the metastore DDL or generated data as SQL, for bench/catalog.sh and manual runs:
//!
//! ```text
//! metastore-fixture ddl  mysql|postgres [2|3|4]
//! metastore-fixture data mysql|postgres [2|3|4] PREFIX TABLES PARTITIONS
//! ```

use migrate_metastore_fixture::{ddl, populate, Dialect, Generation, Spec};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = || {
        eprintln!("usage: metastore-fixture ddl mysql|postgres [2|3|4]\n       metastore-fixture data mysql|postgres [2|3|4] PREFIX TABLES PARTITIONS");
        ExitCode::from(2)
    };
    let dialect = match args.get(1).map(String::as_str) {
        Some("mysql") => Dialect::Mysql,
        Some("postgres") => Dialect::Postgres,
        _ => return usage(),
    };
    let generation = match args.get(2).map(String::as_str) {
        None | Some("4") => Generation::Hive4,
        Some("3") => Generation::Hive3,
        Some("2") => Generation::Hive2,
        _ => return usage(),
    };
    match args.first().map(String::as_str) {
        Some("ddl") => print!("{}", ddl(dialect, generation)),
        Some("data") => {
            let (Some(prefix), Some(Ok(tables)), Some(Ok(partitions))) = (
                args.get(3),
                args.get(4).map(|s| s.parse()),
                args.get(5).map(|s| s.parse()),
            ) else {
                return usage();
            };
            let spec = Spec {
                tables,
                partitions,
                ..Spec::standard(dialect, generation, prefix)
            };
            print!("{}", populate(&spec));
        }
        _ => return usage(),
    }
    ExitCode::SUCCESS
}
