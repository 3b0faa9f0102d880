//! What a checksum must notice, in both engines: one changed value, NULL for '', two columns'
//! values swapped, a value moved across a separator, a duplicated row in place of another.

mod common;

use common::{my, pg, Db};
use migrate_checksum::ChecksumColumn;
use migrate_core::{LengthUnit, LogicalType};

fn columns(db: &Db) -> Vec<ChecksumColumn> {
    let text = LogicalType::Varchar {
        length: 20,
        unit: LengthUnit::Char,
    };
    [
        ("id", LogicalType::Integer),
        ("a", text.clone()),
        ("b", text),
        ("n", LogicalType::BigInt),
    ]
    .into_iter()
    .map(|(name, data_type)| ChecksumColumn::new(db.quote(name), data_type))
    .collect()
}

const BASE: &str =
    "DELETE FROM t; INSERT INTO t VALUES (1, 'x', 'y', 10), (2, '', NULL, 20), (3, 'p,', 'q', 30)";

/// The checksum of `t` after `change` (applied to the base rows), over all rows and over the
/// rows with `id` 1 to 2.
async fn after(
    db: &mut Db,
    change: &str,
) -> (
    migrate_checksum::ChunkChecksum,
    migrate_checksum::ChunkChecksum,
) {
    db.execute(BASE).await;
    if !change.is_empty() {
        db.execute(change).await;
    }
    let columns = columns(db);
    (
        db.checksum("t", &columns, "").await,
        db.checksum("t", &columns, "id <= 2").await,
    )
}

async fn check(mut db: Db) {
    db.execute("CREATE TABLE t (id int, a varchar(20), b varchar(20), n bigint)")
        .await;
    let (base, base_part) = after(&mut db, "").await;
    assert_eq!(base.rows, 3);
    assert_eq!(base_part.rows, 2);
    assert_eq!(
        after(&mut db, "").await,
        (base, base_part),
        "{}: repeatable",
        db.name()
    );
    let changes = [
        ("one changed value", "UPDATE t SET n = 11 WHERE id = 1"),
        ("'' becomes NULL", "UPDATE t SET a = NULL WHERE id = 2"),
        ("NULL becomes ''", "UPDATE t SET b = '' WHERE id = 2"),
        ("NULL becomes 'N'", "UPDATE t SET b = 'N' WHERE id = 2"),
        (
            "two columns swapped",
            "UPDATE t SET a = 'y', b = 'x' WHERE id = 1",
        ),
        (
            "a separator moved between columns",
            "UPDATE t SET a = 'p', b = ',q' WHERE id = 3",
        ),
        (
            "a quote moved between columns",
            "UPDATE t SET a = 'x\"', b = 'y' WHERE id = 1",
        ),
        (
            "trailing blanks in varchar",
            "UPDATE t SET a = 'x ' WHERE id = 1",
        ),
        (
            "a row duplicated in place of another",
            "DELETE FROM t WHERE id = 3; INSERT INTO t VALUES (1, 'x', 'y', 10)",
        ),
    ];
    for (what, change) in changes {
        let (all, _) = after(&mut db, change).await;
        assert_eq!(all.rows, 3, "{}: {what}", db.name());
        assert_ne!(all, base, "{}: {what} went unnoticed", db.name());
    }
    // A row outside the chunk changes the table's checksum, not the chunk's.
    let (all, part) = after(&mut db, "UPDATE t SET n = 31 WHERE id = 3").await;
    assert_ne!(all, base);
    assert_eq!(part, base_part, "{}", db.name());
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_checksums_notice_every_kind_of_change() {
    let Some(server) = migrate_testkit::postgres() else {
        return;
    };
    let db = server.create_database("ck_sensitive");
    check(Db::Pg(pg(db.url()).await)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn mariadb_checksums_notice_every_kind_of_change() {
    let Some(server) = migrate_testkit::mariadb() else {
        return;
    };
    let db = server.create_database("ck_sensitive");
    check(Db::My(my(db.url()).await)).await;
}
