use migrate_dialect::{DdlReader, SourceDialect};
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dialect = SourceDialect::parse(&args[1]).unwrap();
    let mut reader = DdlReader::new(dialect);
    for f in &args[2..] {
        let bytes = std::fs::read(f).unwrap();
        if let Err(e) = reader.read_bytes(f, &bytes) {
            println!("ERR {e}");
        }
    }
    let c = reader.finish();
    println!(
        "tables {} views {} idx {} seq {} syn {} routines {}",
        c.tables.len(),
        c.views.len(),
        c.indexes.len(),
        c.sequences.len(),
        c.synonyms.len(),
        c.routines.len()
    );
    for f in &c.findings {
        if f.code != "type.unknown" || true {
            println!("{f}");
        }
    }
}
