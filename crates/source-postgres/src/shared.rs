//! PostgreSQL behind the seam of `migrate replicate`: [`migrate_source::Source`] for
//! [`PostgresSource`] and [`migrate_source::Snapshot`] for [`SharedSnapshot`].

use crate::pool::{Lease, Pool};
use crate::read::{begin_sql, predicate, read_stream, values, Connection};
use crate::sql::table_sql_name;
use crate::{PostgresSource, Snapshot, SourceError};
use arrow_array::RecordBatch;
use futures::stream::BoxStream;
use futures::StreamExt;
use migrate_core::{Catalog, SourceDialect, Table};
use migrate_source::{Chunk, ChunkChecksum, KeyedHash, ReadSpec};
use tokio_postgres::Client;

/// An exported snapshot and a pool of reader connections that import it: every chunk read,
/// checksum and row hash through it sees the database as of [`migrate_source::Source::snapshot`].
///
/// Contract:
/// - up to `readers` reads (and checksums) run at once, each on its own connection; more wait
///   for a free one. A read holds its connection until its stream ends or is dropped;
/// - the exporting transaction stays open until [`migrate_source::Snapshot::close`] (or drop):
///   that holds back VACUUM on the server, so keep the snapshot for the load only.
pub struct SharedSnapshot {
    exported: Snapshot,
    pool: Pool,
}

impl std::fmt::Debug for SharedSnapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedSnapshot")
            .field("id", self.exported.id())
            .field("readers", &self.pool.sources().len())
            .finish()
    }
}

impl migrate_source::Source for PostgresSource {
    type Error = SourceError;
    type Snapshot = SharedSnapshot;

    async fn connect(url: &str) -> Result<Self, SourceError> {
        PostgresSource::connect(url).await
    }

    fn dialect(&self) -> SourceDialect {
        SourceDialect::Postgres
    }

    fn endpoint(&self) -> &str {
        PostgresSource::endpoint(self)
    }

    async fn discover(&self, schemas: Option<&[String]>) -> Result<Catalog, SourceError> {
        PostgresSource::discover(self, schemas).await
    }

    async fn plan_chunks(
        &self,
        table: &Table,
        target_rows: u64,
    ) -> Result<Vec<Chunk>, SourceError> {
        PostgresSource::plan_chunks(self, table, target_rows).await
    }

    fn quote_ident(&self, name: &str) -> String {
        crate::quote_ident(name)
    }

    async fn snapshot(&self, readers: usize) -> Result<SharedSnapshot, SourceError> {
        let exported = Snapshot::export(self).await?;
        let sources =
            futures::future::try_join_all((0..readers.max(1)).map(|_| self.another())).await?;
        Ok(SharedSnapshot {
            exported,
            pool: Pool::new(sources),
        })
    }
}

impl SharedSnapshot {
    /// Leases a connection and begins a transaction on it that imports the snapshot; end it with
    /// [`commit`].
    async fn begin(&self, context: &str) -> Result<Lease<'_>, SourceError> {
        let lease = self.pool.lease().await?;
        lease
            .source()
            .client
            .batch_execute(&begin_sql(Some(self.exported.id())))
            .await
            .map_err(SourceError::query(context))?;
        Ok(lease)
    }
}

async fn commit(client: &Client, context: &str) -> Result<(), SourceError> {
    client
        .batch_execute("COMMIT")
        .await
        .map_err(SourceError::query(context))
}

impl migrate_source::Snapshot for SharedSnapshot {
    type Error = SourceError;

    fn read_chunk<'a>(
        &'a self,
        read: &'a ReadSpec,
        chunk: &'a Chunk,
        batch_rows: usize,
    ) -> BoxStream<'a, Result<RecordBatch, SourceError>> {
        read_stream(
            Connection::Pool(&self.pool),
            Some(self.exported.id().clone()),
            read,
            chunk,
            batch_rows,
        )
    }

    async fn checksum<'a>(
        &'a self,
        read: &'a ReadSpec,
        chunk: &'a Chunk,
    ) -> Result<ChunkChecksum, SourceError> {
        let context = format!(
            "computing the checksum of chunk {} of {}",
            chunk.index, read.table.name
        );
        let predicate = predicate(read, chunk);
        let columns: Vec<String> = values(read)?.into_iter().map(|v| v.sql).collect();
        let from = table_sql_name(&read.table);
        let lease = self.begin(&context).await?;
        let client = &lease.source().client;
        let sum = crate::chunk_checksum(client, &from, &columns, &predicate).await?;
        commit(client, &context).await?;
        let (a, b) = sum.checksum.split_once('-').unwrap_or((&sum.checksum, ""));
        ChunkChecksum::from_sql_text(sum.rows as i64, a, b).map_err(|message| {
            SourceError::Protocol {
                context: context.clone(),
                message,
            }
        })
    }

    fn row_hashes<'a>(
        &'a self,
        read: &'a ReadSpec,
        chunk: &'a Chunk,
    ) -> BoxStream<'a, Result<KeyedHash, SourceError>> {
        let hashes = async move {
            let context = format!(
                "hashing the rows of chunk {} of {}",
                chunk.index, read.table.name
            );
            let key = read.table.primary_key().unwrap_or_default();
            if key.is_empty() {
                return Err(SourceError::Unsupported {
                    table: read.table.name.to_string(),
                    column: String::new(),
                    message: "row hashes need a primary key".into(),
                });
            }
            let key_text = key
                .iter()
                .map(|k| format!("({})::text", crate::quote_ident(&k.value)))
                .collect::<Vec<_>>()
                .join(" || ',' || ");
            let columns: Vec<String> = values(read)?
                .into_iter()
                .map(|v| format!("({})::text", v.sql))
                .collect();
            let query = format!(
                "SELECT {key_text}, md5(ROW({})::text) FROM {} WHERE {} ORDER BY convert_to({key_text}, 'UTF8')",
                columns.join(", "),
                table_sql_name(&read.table),
                predicate(read, chunk)
            );
            let lease = self.begin(&context).await?;
            let client = &lease.source().client;
            let rows = client
                .query(&query, &[])
                .await
                .map_err(SourceError::query(context.clone()))?;
            commit(client, &context).await?;
            Ok(rows
                .into_iter()
                .map(|row| KeyedHash {
                    key: row.get(0),
                    hash: row.get(1),
                })
                .collect::<Vec<_>>())
        };
        futures::stream::once(hashes)
            .map(|result| match result {
                Ok(rows) => futures::stream::iter(rows.into_iter().map(Ok)).boxed(),
                Err(e) => futures::stream::once(async move { Err(e) }).boxed(),
            })
            .flatten()
            .boxed()
    }

    async fn close(self) -> Result<(), SourceError> {
        self.pool.close();
        self.exported.close().await
    }
}
