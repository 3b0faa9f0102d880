//! Running the checksum queries on real servers: one session per engine, the documented
//! session settings first.

#![allow(dead_code)] // each test binary uses a part

use migrate_checksum::{
    checksum_sql, client_row_hash, mysql_row_texts_sql, postgres_functions, row_hashes_sql,
    session_settings, ChecksumColumn, ChunkChecksum, Engine,
};
use migrate_core::{Catalog, SourceDialect, Table, TargetDialect};
use mysql_async::prelude::Queryable;

pub struct Pg(pub tokio_postgres::Client);
pub struct My(pub mysql_async::Conn);

pub async fn pg(url: &str) -> Pg {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
        .batch_execute(session_settings(Engine::Postgres))
        .await
        .unwrap();
    Pg(client)
}

pub async fn my(url: &str) -> My {
    let mut conn = mysql_async::Conn::from_url(url).await.unwrap();
    conn.query_drop(session_settings(Engine::Mysql))
        .await
        .unwrap();
    My(conn)
}

/// One row of `row_hashes_sql`.
pub type Hashed = (String, String);

impl Pg {
    pub async fn checksum(
        &self,
        from: &str,
        columns: &[ChecksumColumn],
        predicate: &str,
    ) -> ChunkChecksum {
        self.define_functions(columns).await;
        let sql = checksum_sql(Engine::Postgres, from, columns, predicate);
        let row = self
            .0
            .query_one(&sql, &[])
            .await
            .unwrap_or_else(|e| panic!("{e:?}\n{}", shorten(&sql)));
        ChunkChecksum::from_sql_text(row.get(0), row.get(1), row.get(2)).unwrap()
    }

    pub async fn hashes(
        &self,
        from: &str,
        key: &[ChecksumColumn],
        columns: &[ChecksumColumn],
        predicate: &str,
    ) -> Vec<Hashed> {
        self.define_functions(key).await;
        self.define_functions(columns).await;
        let sql = row_hashes_sql(Engine::Postgres, from, key, columns, predicate);
        self.0
            .query(&sql, &[])
            .await
            .unwrap_or_else(|e| panic!("{e:?}\n{}", shorten(&sql)))
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect()
    }

    /// What the queries over `columns` call, as the crate asks (twice does no harm).
    async fn define_functions(&self, columns: &[ChecksumColumn]) {
        if let Some(functions) = postgres_functions(columns) {
            self.execute(functions).await;
        }
    }

    pub async fn execute(&self, sql: &str) {
        self.0
            .batch_execute(sql)
            .await
            .unwrap_or_else(|e| panic!("{e:?}\n{}", shorten(sql)));
    }
}

impl My {
    pub async fn checksum(
        &mut self,
        from: &str,
        columns: &[ChecksumColumn],
        predicate: &str,
    ) -> ChunkChecksum {
        let sql = checksum_sql(Engine::Mysql, from, columns, predicate);
        let (rows, a, b): (i64, String, String) = self
            .0
            .query_first(&sql)
            .await
            .unwrap_or_else(|e| panic!("{e:?}\n{}", shorten(&sql)))
            .unwrap();
        ChunkChecksum::from_sql_text(rows, &a, &b).unwrap()
    }

    pub async fn hashes(
        &mut self,
        from: &str,
        key: &[ChecksumColumn],
        columns: &[ChecksumColumn],
        predicate: &str,
    ) -> Vec<Hashed> {
        let sql = row_hashes_sql(Engine::Mysql, from, key, columns, predicate);
        self.0
            .query(&sql)
            .await
            .unwrap_or_else(|e| panic!("{e:?}\n{}", shorten(&sql)))
    }

    /// The row hashes as the client computes them from the row texts, as a source does for
    /// normalized JSON (`hashed_on_client`).
    pub async fn client_hashes(
        &mut self,
        from: &str,
        key: &[ChecksumColumn],
        columns: &[ChecksumColumn],
        predicate: &str,
    ) -> Vec<Hashed> {
        let sql = mysql_row_texts_sql(from, key, columns, predicate);
        let texts: Vec<(String, Option<String>)> = self
            .0
            .query(&sql)
            .await
            .unwrap_or_else(|e| panic!("{e:?}\n{}", shorten(&sql)));
        texts
            .into_iter()
            .map(|(k, text)| (k, client_row_hash(text.as_deref(), columns)))
            .collect()
    }

    pub async fn execute(&mut self, sql: &str) {
        self.0
            .query_drop(sql)
            .await
            .unwrap_or_else(|e| panic!("{e:?}\n{}", shorten(sql)));
    }
}

/// The tables of `ddl` as the converter reads them, and the PostgreSQL DDL it writes for them.
pub fn convert(from: SourceDialect, ddl: &str) -> (Catalog, String) {
    let catalog = migrate_dialect::read_script(from, "test.sql", ddl);
    let conversion = migrate_dialect::emit(&catalog, from, TargetDialect::Postgres, &[]);
    (catalog, conversion.ddl)
}

/// A checksum column per column of `table`, referenced by `quote(name)`.
pub fn columns(table: &Table, quote: fn(&str) -> String) -> Vec<ChecksumColumn> {
    table
        .columns
        .iter()
        .map(|c| ChecksumColumn::new(quote(&c.name.value), c.data_type.clone()))
        .collect()
}

pub fn pg_quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

pub fn my_quote(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// The start and end of a long statement, for failure messages.
pub fn shorten(sql: &str) -> String {
    let chars: Vec<char> = sql.chars().collect();
    if chars.len() <= 2000 {
        return sql.to_string();
    }
    let head: String = chars[..1000].iter().collect();
    let tail: String = chars[chars.len() - 1000..].iter().collect();
    format!("{head} ... {tail}")
}

/// Either engine, for tests that run the same steps on both.
pub enum Db {
    Pg(Pg),
    My(My),
}

impl Db {
    pub fn quote(&self, name: &str) -> String {
        match self {
            Db::Pg(_) => pg_quote(name),
            Db::My(_) => my_quote(name),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Db::Pg(_) => "PostgreSQL",
            Db::My(_) => "MariaDB",
        }
    }

    pub async fn execute(&mut self, sql: &str) {
        match self {
            Db::Pg(db) => db.execute(sql).await,
            Db::My(db) => db.execute(sql).await,
        }
    }

    pub async fn checksum(
        &mut self,
        from: &str,
        columns: &[ChecksumColumn],
        predicate: &str,
    ) -> ChunkChecksum {
        match self {
            Db::Pg(db) => db.checksum(from, columns, predicate).await,
            Db::My(db) => db.checksum(from, columns, predicate).await,
        }
    }

    pub async fn hashes(
        &mut self,
        from: &str,
        key: &[ChecksumColumn],
        columns: &[ChecksumColumn],
        predicate: &str,
    ) -> Vec<Hashed> {
        match self {
            Db::Pg(db) => db.hashes(from, key, columns, predicate).await,
            Db::My(db) => db.hashes(from, key, columns, predicate).await,
        }
    }
}
