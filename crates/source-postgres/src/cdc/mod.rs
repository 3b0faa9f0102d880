//! Change capture from PostgreSQL: logical replication with the built-in `pgoutput` plugin in
//! binary mode, through a replication slot and a publication named after the task.
//!
//! - [`migrate_source::ChangeSource::capture_snapshot`] creates the publication (`FOR ALL
//!   TABLES` when the role may, so tables created later are captured, with an event trigger
//!   that keeps such tables updatable on the source and announces them to the change stream;
//!   else `FOR TABLE` the selected ones, a plain table `ONLY`, without its inheritance
//!   children), after refusing a selected table that a publication can't carry without harm
//!   (`publishable`: unlogged, or no replica identity), and the slot with `SNAPSHOT 'export'`:
//!   the full load reads that snapshot, so the slot's changes start exactly where the loaded
//!   data ends. The replication session that created the slot stays idle while the snapshot is
//!   in use (the snapshot lives as long).
//! - [`migrate_source::ChangeSource::open_changes`] streams the slot from a position; the slot
//!   only moves forward when the caller acknowledges a position its target made durable.
//! - Values arrive in their binary `send` form and are decoded exactly as the full load's binary
//!   COPY (`crate::read::decode`; network addresses and bit strings are printed as the server's
//!   output functions print them, and arrays of the elements the warehouse loads as the JSON
//!   `to_json` gives: what the full load reads). Other types with a binary form (ranges,
//!   geometric types, money, composite and extension types, arrays of those) are converted on
//!   the source by the full load's expressions (`render`). A type without one is refused before
//!   the full load ([`migrate_source::ChangeSource::check_columns`]) and when a relation brings
//!   one, naming table and column, unless the task drops the column (then it is delivered as
//!   NULL, and dropped by the caller).
//! - The replication socket is read on a thread of its own, paced while changes flow (`paced`):
//!   a reader woken for every message costs the walsender and the reader more than the decoding.

mod paced;
mod pgoutput;
pub(crate) mod publishable;
mod render;
mod stream;

pub use stream::PostgresChanges;

use crate::read::decode::{Decoder, Wire};
use crate::sql::{own_rows, partitioned, quote_literal};
use crate::{PostgresSource, SharedSnapshot, SnapshotId, SourceError};
use migrate_core::{Column, Table};
use migrate_pgconn::{Roots, SslMode, TlsSettings};
use migrate_source::{key_columns, ChangeSource, Position, Selection, START_OVER};
use pgwire_replication::config::{SslMode as ReplicationSslMode, TlsConfig};
use pgwire_replication::{Lsn, ReplicationClient, ReplicationConfig};
use publishable::{
    check_publishable, refused_when_published, unlogged_sql, CHECKED_SQL, IDENTITY_SQL,
};
use render::Render;
use std::collections::HashMap;
use std::time::Duration;
use tokio_postgres::config::Host;
use tokio_postgres::types::Type;

/// How change capture reads values of a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TypeCapture {
    /// The wire format decoded here: built-in types directly, domains through their base type,
    /// enums as text; `None`: not decoded here.
    wire: Option<Wire>,
    /// How the source server can convert its values (see `render`), if it can.
    render: Option<Render>,
}

/// How change capture reads type `oid`. `known` keeps the answers.
async fn type_capture(
    client: &tokio_postgres::Client,
    oid: u32,
    known: &mut HashMap<u32, TypeCapture>,
) -> Result<TypeCapture, SourceError> {
    if let Some(capture) = known.get(&oid) {
        return Ok(*capture);
    }
    // A type is converted when it has a binary `send` form (pgoutput sends others as text)
    // and an array type (its values go back as an array); an array (variable length, with
    // an element type) when its elements are.
    let row = client
        .query_opt(
            "SELECT t.typtype::text, t.typbasetype, t.typsend <> 0 AND t.typarray <> 0, \
                    CASE WHEN t.typlen = -1 AND e.typsend <> 0 AND e.typarray = t.oid THEN t.typelem END \
               FROM pg_type t LEFT JOIN pg_type e ON e.oid = t.typelem WHERE t.oid = $1",
            &[&oid],
        )
        .await
        .map_err(SourceError::query("looking up a column type"))?;
    let Some(row) = row else {
        return Err(SourceError::Capture {
            message: format!(
                "a captured column has type oid {oid}, which the source's catalog lacks"
            ),
            action: format!("check whether the type was dropped on the source; then {START_OVER}"),
        });
    };
    let (kind, base, values, elements): (String, u32, bool, Option<u32>) =
        (row.get(0), row.get(1), row.get(2), row.get(3));
    let wire = match Type::from_oid(oid) {
        Some(ty) => crate::read::native(&ty),
        None if kind == "e" => Some(Wire::Text),
        None if kind == "d" => Box::pin(type_capture(client, base, known)).await?.wire,
        None => None,
    };
    let render = match (elements, values) {
        (Some(element), _) => Some(Render::Elements(element)),
        (None, true) => Some(Render::Values),
        (None, false) => None,
    };
    let capture = TypeCapture { wire, render };
    known.insert(oid, capture);
    Ok(capture)
}

/// How capture reads one column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ColumnCapture {
    /// Decoded here from its binary form.
    Decoded(Wire),
    /// Converted on the source server by the full load's expression for it (`render`).
    Rendered(Render),
    /// A column the task drops whose type is read neither way: delivered as NULL.
    Dropped,
}

/// How capture reads `column` of `table` whose type is read as `capture`: decoded here when its
/// wire decodes into the column's canonical type, else dropped when the task drops it
/// (`selection`), else converted on the source; an error naming it for a kept column (key
/// columns always are) that can't be read either way.
fn column_capture(
    capture: TypeCapture,
    table: &Table,
    column: &Column,
    selection: &Selection,
) -> Result<ColumnCapture, SourceError> {
    let data_type = migrate_batch::data_type(&column.data_type);
    if let Some(wire) = capture
        .wire
        .filter(|&wire| Decoder::new(wire, &data_type).is_some())
    {
        return Ok(ColumnCapture::Decoded(wire));
    }
    let name = &column.name.value;
    // The selection plans the table's mapping: asked only when it matters.
    if !key_columns(table).contains(name) && !(selection.columns)(table, name) {
        return Ok(ColumnCapture::Dropped);
    }
    let why = match capture.render {
        // An array is put together as the JSON or the text the full load reads it as.
        Some(Render::Elements(_)) if Decoder::new(Wire::Text, &data_type).is_none() => format!(
            "an array is captured as the JSON or the text a full load reads it as, not as {}",
            column.data_type
        ),
        Some(render) => return Ok(ColumnCapture::Rendered(render)),
        None => "it has no binary send function or no array type".into(),
    };
    Err(SourceError::Capture {
        message: format!(
            "{}.{}: type {} is not captured by change data capture: {why}",
            table.name, column.name, column.source_type
        ),
        action: "remove the column with a remove-column rule, or exclude the table".into(),
    })
}

/// The slot and publication of a task reading `database`: `migrate_<database>_<task>`, lower
/// case, letters, digits and `_` (slot names allow nothing else; slots are per server, so the
/// database is part of the name), cut to fit PostgreSQL's 63 bytes with a hash of both so that
/// long names don't collide.
pub fn capture_name(database: &str, task: &str) -> String {
    let mut name: String = format!("{database}_{task}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if name.len() > 44 {
        name.truncate(44);
        name.push_str(&format!(
            "_{:08x}",
            crc32c::crc32c(format!("{database}\0{task}").as_bytes())
        ));
    }
    format!("migrate_{name}")
}

/// A replication session before streaming: the one that created the slot, kept idle so that
/// the snapshot it exported stays importable.
pub(crate) struct SlotSession {
    client: ReplicationClient,
}

impl SlotSession {
    pub(crate) async fn close(mut self) {
        // Ends the session without starting replication; the slot stays.
        self.client.abort();
    }
}

/// The publication option that publishes a partition's changes as its partitioned table's.
const VIA_ROOT: &str = "publish_via_partition_root = true";

/// The tables of the database whose UPDATE and DELETE a publication FOR ALL TABLES would make
/// PostgreSQL refuse ([`refused_when_published`]: partitions each by their own replica identity,
/// never their partitioned table). Unlogged tables are left out: such a publication leaves them
/// out.
fn keyless_tables_sql() -> String {
    format!(
        "SELECT format('%I.%I', n.nspname, c.relname)
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relpersistence = 'p'
            AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
            AND {}
          ORDER BY 1",
        refused_when_published()
    )
}

/// The commands after which the identity keeper looks for tables left without a replica
/// identity. A keeper without `DROP INDEX` (an earlier migrate's) is replaced.
const KEEPER_TAGS: &str =
    "'CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO', 'ALTER TABLE', 'DROP INDEX'";

/// Marks the identity keeper's function as this version's: an earlier migrate's (which took a
/// DEFERRABLE primary key for a replica identity, or did not announce the tables created or
/// those left UNLOGGED) lacks it and is replaced.
const KEEPER_VERSION: &str = "migrate identity keeper 4";

/// The prefix of the transactional logical message (`pg_logical_emit_message`) by which the
/// identity keeper announces a table created, its relation oid the message's content: a table
/// that takes a captured table's name is then told from that table also when the task was
/// stopped meanwhile (the catalog knows only the new one by then).
const TABLE_CREATED: &str = "migrate: table created";

/// The prefix of the transactional logical message by which the identity keeper announces each
/// table or partition that a DDL leaves UNLOGGED: a publication for all tables sends none of its
/// changes, and never describes it, so the stream has nothing else to tell by (and by the time
/// it reads on, the table may be logged again). The content, `bytea`, is fields separated by a
/// zero byte: the DDL's command tag, then the relation's oid, schema and name, then the same of
/// each of its partition ancestors up to the root (the table a captured partition's changes
/// arrive as).
const TABLE_UNLOGGED: &str = "migrate: table unlogged";

/// The event trigger (and its function, both named `name`, the function in the role's current
/// schema) that goes with publication `name` FOR ALL TABLES: a table that a `CREATE TABLE`, an
/// `ALTER TABLE` or a `DROP INDEX` (of a `USING INDEX` identity) leaves without a replica
/// identity gets `REPLICA IDENTITY FULL` in the same transaction, and the session is warned (a
/// plain table or a partition: a partitioned table's own identity is never checked, see
/// [`refused_when_published`]). Without it, such a table created while the publication exists
/// would have its UPDATE and DELETE refused: the source's own application would fail. It also
/// announces each table created to the change streams ([`TABLE_CREATED`]), and each table or
/// partition a `CREATE TABLE` or an `ALTER TABLE` (`SET UNLOGGED`, `ATTACH PARTITION`) leaves
/// UNLOGGED ([`TABLE_UNLOGGED`]). The function runs with the rights of the role that ran the
/// DDL, which owns the table it changes; if it still can't, it warns and lets the DDL commit
/// (migrate must not make the source's DDL fail).
fn identity_keeper_sql(name: &str) -> String {
    let quoted = crate::quote_ident(name);
    let warning = quote_literal(&format!(
        "%: set to REPLICA IDENTITY FULL: it has no primary key PostgreSQL can use as replica \
         identity (none, or a DEFERRABLE one), and PostgreSQL would refuse its UPDATE and \
         DELETE while publication {name} (change capture by migrate) publishes every table"
    ));
    let failed = quote_literal(&format!(
        "%: could not be set to REPLICA IDENTITY FULL (%): PostgreSQL will refuse its UPDATE and \
         DELETE while publication {name} (change capture by migrate) publishes every table; give \
         it a primary key or REPLICA IDENTITY FULL"
    ));
    let unannounced = quote_literal(&format!(
        "the tables created could not be announced to change capture by migrate (publication \
         {name}) (%): a table that took the name of a captured table is captured without a \
         warning that its target table keeps the earlier table's rows"
    ));
    let unlogged_unannounced = quote_literal(&format!(
        "the UNLOGGED tables could not be announced to change capture by migrate (publication \
         {name}) (%): if the task captures one of them, the changes made to it while it is \
         UNLOGGED can go missing from its target table without an error"
    ));
    // The tables of the DDL and their partitions (an ATTACH PARTITION names the partitioned
    // table), found without taking a lock.
    let unlogged = unlogged_sql(
        "(SELECT d.objid FROM pg_event_trigger_ddl_commands() d
           WHERE d.classid = 'pg_class'::regclass
             AND d.command_tag IN ('CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO', 'ALTER TABLE'))",
    );
    format!(
        "CREATE OR REPLACE FUNCTION {quoted}() RETURNS event_trigger LANGUAGE plpgsql
         SET search_path = pg_catalog, pg_temp AS $keeper$
         -- {KEEPER_VERSION}
         DECLARE keyless regclass;
         BEGIN
           BEGIN
             PERFORM pg_logical_emit_message(true, {created}, c.oid::text)
                FROM pg_event_trigger_ddl_commands() d JOIN pg_class c ON c.oid = d.objid
               WHERE d.classid = 'pg_class'::regclass
                 AND d.command_tag IN ('CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO')
                 AND c.relkind IN ('r', 'p') AND c.relpersistence = 'p';
           EXCEPTION WHEN OTHERS THEN
             RAISE WARNING {unannounced}, SQLERRM;
           END;
           BEGIN
             -- pg_partition_ancestors lists a partition, then its ancestors up to the root
             -- (nothing for a plain table); it reads pg_inherits without locking them.
             PERFORM pg_logical_emit_message(true, {unlogged_prefix},
                       convert_to(TG_TAG, 'UTF8') || (
                       SELECT string_agg(sep || convert_to(a.oid::text, 'UTF8')
                                         || sep || convert_to(n.nspname, 'UTF8')
                                         || sep || convert_to(c.relname, 'UTF8'), ''::bytea
                                         ORDER BY a.n)
                         FROM unnest(u.relid || ARRAY(
                                SELECT p.relid::oid FROM pg_partition_ancestors(u.relid)
                                       WITH ORDINALITY p(relid, n)
                                 WHERE p.relid::oid <> u.relid ORDER BY p.n))
                              WITH ORDINALITY a(oid, n)
                         JOIN pg_class c ON c.oid = a.oid
                         JOIN pg_namespace n ON n.oid = c.relnamespace))
                FROM (SELECT DISTINCT relid FROM ({unlogged}) x) u, decode('00', 'hex') sep;
           EXCEPTION WHEN OTHERS THEN
             RAISE WARNING {unlogged_unannounced}, SQLERRM;
           END;
           FOR keyless IN
             SELECT c.oid::regclass FROM pg_event_trigger_ddl_commands() d
               JOIN pg_class c ON c.oid = d.objid
              WHERE d.classid = 'pg_class'::regclass AND c.relpersistence = 'p' AND {refused}
             UNION
             -- A DROP INDEX names no table: the tables whose replica identity index is gone.
             SELECT c.oid::regclass FROM pg_class c
              WHERE TG_TAG = 'DROP INDEX' AND {CHECKED_SQL} AND c.relpersistence = 'p'
                AND ({IDENTITY_SQL}) = 'index gone'
           LOOP
             BEGIN
               EXECUTE format('ALTER TABLE %s REPLICA IDENTITY FULL', keyless);
               RAISE WARNING {warning}, keyless;
             EXCEPTION WHEN OTHERS THEN
               RAISE WARNING {failed}, keyless, SQLERRM;
             END;
           END LOOP;
         END $keeper$;
         CREATE EVENT TRIGGER {quoted} ON ddl_command_end
           WHEN TAG IN ({KEEPER_TAGS})
           EXECUTE FUNCTION {quoted}();",
        created = quote_literal(TABLE_CREATED),
        unlogged_prefix = quote_literal(TABLE_UNLOGGED),
        refused = refused_when_published(),
    )
}

/// A publication's event trigger as the source has it.
struct IdentityKeeper {
    /// Its function, as `regprocedure` text (schema-qualified where the search path needs it).
    function: String,
    /// It watches every command of [`KEEPER_TAGS`] and is of [`KEEPER_VERSION`] (an earlier
    /// migrate's lacks `DROP INDEX`, or takes a deferrable key for a replica identity).
    current: bool,
}

impl IdentityKeeper {
    /// Drops the trigger (named `name`) and its function.
    fn drop_sql(&self, name: &str) -> String {
        format!(
            "DROP EVENT TRIGGER {}; DROP FUNCTION {};",
            crate::quote_ident(name),
            self.function
        )
    }
}

/// The replication connection settings for `source`'s database.
fn replication_config(source: &PostgresSource, slot: &str, start: Lsn) -> ReplicationConfig {
    let config = source.connector.config();
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(host)) => host.clone(),
        Some(Host::Unix(path)) => path.display().to_string(),
        None => "localhost".to_string(),
    };
    // With `hostaddr`, that address is reached and `host` is the name the certificate must have.
    let (address, tls_name) = match config.get_hostaddrs().first() {
        Some(address) => (address.to_string(), host),
        None => (host.clone(), host),
    };
    let user = config.get_user().unwrap_or("postgres").to_string();
    let password = config
        .get_password()
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .unwrap_or_default();
    let database = config.get_dbname().unwrap_or(&user).to_string();
    ReplicationConfig::new(address, user, password, database, slot, slot)
        .with_port(config.get_ports().first().copied().unwrap_or(5432))
        .with_binary(true)
        .with_start_lsn(start)
        .with_ack_lsn(start)
        .with_status_interval(Duration::from_secs(1))
        .with_wakeup_interval(Duration::from_secs(1))
        .with_application_name(format!("migrate {slot}"))
        .with_tls(replication_tls(source.connector.tls(), tls_name))
        .with_buffer_size(RECEIVED_EVENTS_AT_MOST)
}

/// How many received events the replication client holds for the change stream (the client's
/// default is 8,192). When the stream falls this far behind, the client stops reading the
/// socket for a moment: the walsender's messages pile up and are then read, and sent, in large
/// chunks, where a client that always keeps up reads a few per `recv` and the walsender sends a
/// few per `send`. Measured with `decode_rate` (docs/benchmarks.md): decoder and walsender CPU
/// down by about 20% at 100 changes per transaction and by 20-50% with one-row transactions;
/// 4,096 behaved like 8,192, and 1,024 saved as much CPU but took longer.
const RECEIVED_EVENTS_AT_MOST: usize = 2048;

/// The URL's TLS settings in the replication client's terms (`Roots::System` is its default:
/// the Mozilla roots); `name` is the host name (or IP address) the certificate must be for.
fn replication_tls(settings: &TlsSettings, name: String) -> TlsConfig {
    let ca = match &settings.roots {
        Some(Roots::File(path)) => Some(path.clone()),
        Some(Roots::System) | None => None,
    };
    let tls = TlsConfig {
        mode: match settings.mode {
            SslMode::Disable => ReplicationSslMode::Disable,
            SslMode::Prefer => ReplicationSslMode::Prefer,
            SslMode::Require => ReplicationSslMode::Require,
            SslMode::VerifyCa => ReplicationSslMode::VerifyCa,
            SslMode::VerifyFull => ReplicationSslMode::VerifyFull,
        },
        ca_pem_path: ca,
        // Named explicitly: the client refuses verify-full for an IP address unless it is
        // given as the name to check (a certificate may well be for an IP address).
        sni_hostname: Some(name),
        ..TlsConfig::default()
    };
    match &settings.client_certificate {
        Some((cert, key)) => tls.with_client_cert(cert.clone(), key.clone()),
        None => tls,
    }
}

pub(crate) fn parse_lsn(position: &Position) -> Result<Lsn, SourceError> {
    Lsn::parse(position.0.trim()).map_err(|_| SourceError::Capture {
        message: format!("`{position}` is not a PostgreSQL position (an LSN such as 16/B374D848)"),
        action: "give --from a position printed by migrate or by pg_current_wal_lsn()".into(),
    })
}

impl PostgresSource {
    /// Drops replication slot `name` (not in use) and, with `publication`, the publication of
    /// that name.
    async fn drop_capture_objects(&self, name: &str, publication: bool) -> Result<(), SourceError> {
        self.client
            .execute(
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1",
                &[&name],
            )
            .await
            .map_err(SourceError::query(format!(
                "dropping replication slot {name}"
            )))?;
        if publication {
            // The publication's event trigger goes with it, and its function with the trigger.
            let quoted = crate::quote_ident(name);
            let drop_keeper = self
                .identity_keeper(name)
                .await?
                .map(|keeper| keeper.drop_sql(name))
                .unwrap_or_default();
            self.client
                .batch_execute(&format!(
                    "{drop_keeper} DROP PUBLICATION IF EXISTS {quoted}"
                ))
                .await
                .map_err(SourceError::query(format!("dropping publication {name}")))?;
        }
        Ok(())
    }

    fn capture_name(&self, task: &str) -> String {
        capture_name(
            self.connector.config().get_dbname().unwrap_or_default(),
            task,
        )
    }

    /// Creates the task's publication unless it exists: for all tables when the role may (new
    /// tables are then captured too), else for `tables`. Partitioned tables publish their
    /// changes as the partitioned table (the one the full load reads and the task maps), not
    /// as the partition a row is in; a publication made before that is changed to. An existing
    /// publication of selected tables lets go of inheritance children the task does not select
    /// (an earlier migrate published parents without `ONLY`); for one for all tables, a warning
    /// names the tables whose UPDATE and DELETE the source refuses because of it. Partitioned
    /// tables get a warning first ([`Self::warn_partition_truncates`]).
    async fn ensure_publication(&self, name: &str, tables: &[Table]) -> Result<(), SourceError> {
        self.warn_partition_truncates(tables).await?;
        let existing = self
            .client
            .query_opt(
                "SELECT pubviaroot, puballtables FROM pg_publication WHERE pubname = $1",
                &[&name],
            )
            .await
            .map_err(SourceError::query("looking up the publication"))?;
        let quoted = crate::quote_ident(name);
        if let Some(row) = existing {
            if !row.get::<_, bool>(0) {
                self.client
                    .batch_execute(&format!("ALTER PUBLICATION {quoted} SET ({VIA_ROOT})"))
                    .await
                    .map_err(SourceError::query(format!(
                        "setting publish_via_partition_root on publication {name}"
                    )))?;
            }
            if row.get::<_, bool>(1) {
                self.ensure_identity_keeper(name).await?;
                let keyless = self.keyless_tables().await?;
                if !keyless.is_empty() {
                    // Made by hand or by an earlier migrate (which took a DEFERRABLE primary
                    // key for a replica identity): the source refuses these tables' UPDATE and
                    // DELETE now, whether this run goes on or not.
                    tracing::warn!(
                        "{}: publication {name} is for all tables, and {} table(s) have no replica identity ({}): the source refuses their UPDATE and DELETE; give each a primary key that is not DEFERRABLE or ALTER TABLE ... REPLICA IDENTITY FULL (or drop the task with --restart: a new publication leaves them out)",
                        self.endpoint(),
                        keyless.len(),
                        keyless.join(", ")
                    );
                }
            } else {
                self.unpublish_unselected_children(name, &quoted, tables)
                    .await?;
            }
            return Ok(());
        }
        // A publication FOR ALL TABLES makes PostgreSQL refuse UPDATE and DELETE on every
        // table of the database that has no replica identity, captured or not: with such a
        // table, only the selected tables are published. Tables created later are looked
        // after by the publication's event trigger (`identity_keeper_sql`).
        let keyless = self.keyless_tables().await?;
        let all_tables = if keyless.is_empty() {
            // One implicit transaction: no publication for all tables without its trigger.
            self.client
                .batch_execute(&format!(
                    "CREATE PUBLICATION {quoted} FOR ALL TABLES WITH ({VIA_ROOT}); {}",
                    identity_keeper_sql(name)
                ))
                .await
        } else {
            tracing::warn!(
                "{}: {} table(s) have no primary key or replica identity ({}{}); a publication FOR ALL TABLES would make the source refuse their UPDATE and DELETE, so only the {} selected tables are published: tables created later are not captured (give those tables a primary key, or REPLICA IDENTITY FULL, to have new tables picked up)",
                self.endpoint(),
                keyless.len(),
                keyless.iter().take(5).cloned().collect::<Vec<_>>().join(", "),
                if keyless.len() > 5 { ", ..." } else { "" },
                tables.len()
            );
            return self.publish_selected(name, &quoted, tables).await;
        };
        match all_tables {
            Ok(()) => {
                tracing::info!(
                    "{}: publication {name} is for all tables, so tables created later are captured; its event trigger {name} gives a table created or altered without a primary key REPLICA IDENTITY FULL, so that the source keeps accepting its UPDATE and DELETE",
                    self.endpoint()
                );
                Ok(())
            }
            Err(e) if e.code().map(|c| c.code()) == Some("42501") => {
                tracing::warn!(
                    "{}: no privilege for a publication FOR ALL TABLES and its event trigger (superuser only); publishing the {} selected tables only: tables created later are not captured",
                    self.endpoint(),
                    tables.len()
                );
                self.publish_selected(name, &quoted, tables).await
            }
            Err(e) => Err(SourceError::query(format!("creating publication {name}"))(
                e,
            )),
        }
    }

    /// Says, for each of `tables` that is partitioned, that a TRUNCATE of one of its partitions
    /// alone never reaches the target: pgoutput leaves it out of a publication that publishes
    /// partitions as their partitioned table (`publish_via_partition_root`, which the task's
    /// does; PostgreSQL's own subscribers miss it too), and a TRUNCATE fires no event trigger
    /// that could announce it. (A TRUNCATE of the partitioned table itself is captured.)
    async fn warn_partition_truncates(&self, tables: &[Table]) -> Result<(), SourceError> {
        let listed: Vec<&Table> = tables.iter().collect();
        let flags = partitioned(&self.client, &listed).await?;
        for (table, _) in tables.iter().zip(flags).filter(|(_, p)| *p) {
            let name = &table.name;
            tracing::warn!(
                "{}: {name} is partitioned: a TRUNCATE of one of its partitions alone is not captured (PostgreSQL does not publish it through a publication that publishes partitions as their partitioned table, as the task's does), so the target would keep that partition's rows; empty a partition with DELETE, or truncate the whole table (TRUNCATE {name}), or after such a TRUNCATE load the table again (--restart; `migrate validate` finds the rows)",
                self.endpoint()
            );
        }
        Ok(())
    }

    /// The tables a publication FOR ALL TABLES makes the source refuse UPDATE and DELETE of
    /// ([`keyless_tables_sql`]).
    async fn keyless_tables(&self) -> Result<Vec<String>, SourceError> {
        Ok(self
            .client
            .query(&keyless_tables_sql(), &[])
            .await
            .map_err(SourceError::query(
                "looking for tables without a replica identity",
            ))?
            .iter()
            .map(|row| row.get(0))
            .collect())
    }

    /// Drops from publication `name` (`quoted`), of selected tables, the inheritance children
    /// that `tables` don't select: an earlier migrate published a plain table without `ONLY`,
    /// which brought in its children, and the source refuses the UPDATE and DELETE of such a
    /// child without a replica identity. (The task does not capture them.)
    async fn unpublish_unselected_children(
        &self,
        name: &str,
        quoted: &str,
        tables: &[Table],
    ) -> Result<(), SourceError> {
        let selected: Vec<String> = tables.iter().map(crate::table_sql_name).collect();
        let children: Vec<String> = self
            .client
            .query(
                "SELECT format('ONLY %I.%I', n.nspname, c.relname)
                   FROM pg_publication p JOIN pg_publication_rel r ON r.prpubid = p.oid
                   JOIN pg_class c ON c.oid = r.prrelid
                   JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE p.pubname = $1 AND NOT c.relispartition
                    AND EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid)
                    AND c.oid <> ALL ($2::text[]::regclass[])
                  ORDER BY 1",
                &[&name, &selected],
            )
            .await
            .map_err(SourceError::query(format!(
                "looking for inheritance children in publication {name}"
            )))?
            .iter()
            .map(|row| row.get(0))
            .collect();
        if children.is_empty() {
            return Ok(());
        }
        tracing::info!(
            "{}: dropping the inheritance children the task does not select from publication {name}, so that the source keeps accepting their UPDATE and DELETE: {}",
            self.endpoint(),
            children.join(", ")
        );
        self.client
            .batch_execute(&format!(
                "ALTER PUBLICATION {quoted} DROP TABLE {}",
                children.join(", ")
            ))
            .await
            .map_err(SourceError::query(format!(
                "dropping inheritance children from publication {name} (the role must own the publication)"
            )))
    }

    /// Gives publication `name`, which is for all tables, its event trigger if it has none (a
    /// publication made by hand, or by an earlier migrate) or one that misses commands it now
    /// watches (an earlier migrate's); without the privilege, says what that leaves the source
    /// open to.
    async fn ensure_identity_keeper(&self, name: &str) -> Result<(), SourceError> {
        let sql = match self.identity_keeper(name).await? {
            Some(keeper) if keeper.current => return Ok(()),
            // In one transaction (a multi-statement query): the keeper is never missing.
            Some(keeper) => format!("{} {}", keeper.drop_sql(name), identity_keeper_sql(name)),
            None => identity_keeper_sql(name),
        };
        match self.client.batch_execute(&sql).await {
            Ok(()) => Ok(()),
            Err(e) if e.code().map(|c| c.code()) == Some("42501") => {
                tracing::warn!(
                    "{}: publication {name} is for all tables, and the role may not create its event trigger (superuser only): a table created later without a primary key will have its UPDATE and DELETE refused by the source; give such tables a primary key or REPLICA IDENTITY FULL",
                    self.endpoint()
                );
                Ok(())
            }
            Err(e) => Err(SourceError::query(format!(
                "creating event trigger {name} for publication {name}"
            ))(e)),
        }
    }

    /// Publication `name`'s event trigger (see [`identity_keeper_sql`]), if it has one.
    async fn identity_keeper(&self, name: &str) -> Result<Option<IdentityKeeper>, SourceError> {
        Ok(self
            .client
            .query_opt(
                &format!(
                    "SELECT e.evtfoid::regprocedure::text,
                            coalesce(e.evttags @> ARRAY[{KEEPER_TAGS}], false)
                              AND position($2 in p.prosrc) > 0
                       FROM pg_event_trigger e JOIN pg_proc p ON p.oid = e.evtfoid
                      WHERE e.evtname = $1"
                ),
                &[&name, &KEEPER_VERSION],
            )
            .await
            .map_err(SourceError::query(
                "looking up the publication's event trigger",
            ))?
            .map(|row| IdentityKeeper {
                function: row.get(0),
                current: row.get(1),
            }))
    }

    /// Creates publication `name` for `tables` only.
    async fn publish_selected(
        &self,
        name: &str,
        quoted: &str,
        tables: &[Table],
    ) -> Result<(), SourceError> {
        if tables.is_empty() {
            return Err(SourceError::Capture {
                message: "no table to capture: the task selects none".into(),
                action: "check the table mapping's selection rules".into(),
            });
        }
        let tables: Vec<&Table> = tables.iter().collect();
        let list = own_rows(&self.client, &tables).await?;
        self.client
            .batch_execute(&format!(
                "CREATE PUBLICATION {quoted} FOR TABLE {} WITH ({VIA_ROOT})",
                list.join(", ")
            ))
            .await
            .map_err(SourceError::query(format!(
                "creating publication {name} (the role must own the tables)"
            )))
    }

    /// Ends the session that still holds `slot`, if any, and waits until the slot is free. The
    /// caller runs the task alone (it holds the task's lock in the target), so a holder is a
    /// walsender left over from a run that was killed and has not noticed yet.
    async fn release_slot(&self, slot: &str) -> Result<(), SourceError> {
        for _ in 0..50 {
            let row = self
                .client
                .query_opt(
                    "SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1 AND active",
                    &[&slot],
                )
                .await
                .map_err(SourceError::query("looking up the replication slot"))?;
            let Some(row) = row else { return Ok(()) };
            let pid: Option<i32> = row.get(0);
            tracing::info!(%slot, ?pid, "the slot is held by an earlier session; ending it");
            self.client
                .execute("SELECT pg_terminate_backend($1)", &[&pid])
                .await
                .map_err(SourceError::query(format!(
                    "ending the session that holds slot {slot} (the role needs pg_signal_backend or the same role)"
                )))?;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Err(SourceError::Capture {
            message: format!("replication slot {slot} stays in use by another session"),
            action: "check pg_replication_slots.active_pid and end that session".into(),
        })
    }

    /// Whether `slot` exists, refusing one the server has invalidated (its WAL is gone:
    /// `max_slot_wal_keep_size`, or a conflict on a standby), which can't deliver the changes
    /// since `from` any more. Warns of a slot about to lose WAL (`unreserved`).
    async fn usable_slot(
        &self,
        slot: &str,
        task: &str,
        from: &Position,
    ) -> Result<bool, SourceError> {
        // Through to_jsonb: columns newer than the server (wal_status: 13, conflicting: 16,
        // invalidation_reason: 17) read as NULL instead of failing the query.
        let row = self
            .client
            .query_opt(
                "SELECT j->>'wal_status', j->>'conflicting', j->>'invalidation_reason', \
                        current_setting('max_slot_wal_keep_size', true) \
                   FROM pg_replication_slots s, to_jsonb(s) j WHERE s.slot_name = $1",
                &[&slot],
            )
            .await
            .map_err(SourceError::query("looking up the replication slot"))?;
        let Some(row) = row else { return Ok(false) };
        let wal_status: Option<String> = row.get(0);
        let conflicting = row.get::<_, Option<String>>(1).as_deref() == Some("true");
        let reason: Option<String> = row.get(2);
        let limit: Option<String> = row.get(3);
        let limit = limit.unwrap_or_else(|| "unknown".into());
        if wal_status.as_deref() == Some("lost") || conflicting {
            // PostgreSQL 17 names the reason; 16 only flags standby conflicts.
            let why = match (reason.as_deref(), conflicting) {
                (Some("rows_removed" | "wal_level_insufficient"), _) | (None, true) => {
                    "by a conflict with recovery on the standby it is read from".to_string()
                }
                (Some("idle_timeout"), _) => {
                    "because it stayed idle longer than the source's idle_replication_slot_timeout"
                        .to_string()
                }
                // The limit may have changed since: it is reported as it is now.
                (Some("wal_removed") | None, _) => format!(
                    "because the source removed WAL it held back (max_slot_wal_keep_size, now {limit})"
                ),
                (Some(other), _) => format!("({other})"),
            };
            return Err(SourceError::Capture {
                message: format!(
                    "replication slot {slot} of task {task} was invalidated {why}: the changes since {from} can't be read any more"
                ),
                action: format!("{START_OVER}; to keep a stopped task's slot, raise max_slot_wal_keep_size on the source (or -1: no limit, while watching its disk) or keep the task running"),
            });
        }
        if wal_status.as_deref() == Some("unreserved") {
            tracing::warn!(
                %slot,
                max_slot_wal_keep_size = %limit,
                "the slot holds more WAL than max_slot_wal_keep_size: the source will remove WAL it needs at its next checkpoint unless the task catches up first"
            );
        }
        Ok(true)
    }

    async fn slot_exists(&self, slot: &str) -> Result<bool, SourceError> {
        Ok(self
            .client
            .query_opt(
                "SELECT 1 FROM pg_replication_slots WHERE slot_name = $1",
                &[&slot],
            )
            .await
            .map_err(SourceError::query("looking up the replication slot"))?
            .is_some())
    }

    /// Refuses a table change capture can't apply: without a primary key, updates and deletes
    /// can't be matched to target rows.
    fn check_capturable(tables: &[Table]) -> Result<(), SourceError> {
        if let Some(table) = tables.iter().find(|t| t.primary_key().is_none()) {
            return Err(SourceError::Capture {
                message: format!(
                    "{} has no primary key: its updates and deletes can't be applied to the target",
                    table.name
                ),
                action: "add a primary key to the source table, or exclude it from the task's table mapping".into(),
            });
        }
        Ok(())
    }
}

impl ChangeSource for PostgresSource {
    type Changes = PostgresChanges;

    fn check_position(&self, from: &Position) -> Result<(), SourceError> {
        parse_lsn(from).map(drop)
    }

    async fn check_columns(
        &self,
        tables: &[Table],
        selection: &Selection,
    ) -> Result<(), SourceError> {
        // Every table's column types in one round trip; `n` numbers the tables from 1.
        let names: Vec<String> = tables.iter().map(crate::table_sql_name).collect();
        let types = self
            .client
            .query(
                "SELECT t.n::int8, a.attname::text, a.atttypid, a.attgenerated <> '' \
                   FROM unnest($1::text[]) WITH ORDINALITY AS t(name, n) \
                   JOIN pg_attribute a ON a.attrelid = t.name::regclass \
                  WHERE a.attnum > 0 AND NOT a.attisdropped",
                &[&names],
            )
            .await
            .map_err(SourceError::query(
                "reading the column types of the captured tables",
            ))?;
        let mut known = HashMap::new();
        for row in types {
            let (n, name, oid): (i64, String, u32) = (row.get(0), row.get(1), row.get(2));
            let Some(table) = usize::try_from(n - 1).ok().and_then(|i| tables.get(i)) else {
                continue;
            };
            let Some(column) = table.columns.iter().find(|c| c.name.value == name) else {
                continue;
            };
            if row.get::<_, bool>(3) && (selection.columns)(table, &name) {
                return Err(SourceError::Capture {
                    message: format!(
                        "{}.{} is a generated column: logical replication does not send its values, so its changes can't be applied (the full load would copy them, and the first change would lose them)",
                        table.name, column.name
                    ),
                    action: "drop it from the task with a remove-column rule (and compute it in the target: ALTER TABLE ... ADD COLUMN ... GENERATED ALWAYS AS (...) STORED), or exclude the table".into(),
                });
            }
            let capture = type_capture(&self.client, oid, &mut known).await?;
            column_capture(capture, table, column, selection)?;
        }
        Ok(())
    }

    async fn capture_snapshot(
        &self,
        task: &str,
        tables: &[Table],
        readers: usize,
    ) -> Result<(SharedSnapshot, Position), SourceError> {
        Self::check_capturable(tables)?;
        check_publishable(&self.client, tables).await?;
        let name = self.capture_name(task);
        self.ensure_publication(&name, tables).await?;
        if self.slot_exists(&name).await? {
            return Err(SourceError::Capture {
                message: format!(
                    "replication slot {name} exists already, but the target has no record of a finished full load for task {task}"
                ),
                action: format!(
                    "run with --restart to drop the slot and load again, or drop it yourself: SELECT pg_drop_replication_slot({})",
                    quote_literal(&name)
                ),
            });
        }
        let context = format!("creating replication slot {name} on {}", self.endpoint());
        let mut client =
            ReplicationClient::connect_gated(replication_config(self, &name, Lsn::from_u64(0)))
                .await
                .map_err(SourceError::replication(context.clone()))?;
        let rows = client
            .simple_query(&format!(
                "CREATE_REPLICATION_SLOT {} LOGICAL pgoutput (SNAPSHOT 'export')",
                crate::quote_ident(&name)
            ))
            .await
            .map_err(SourceError::replication(context.clone()))?;
        let text = |row: &[Option<bytes::Bytes>], i: usize| {
            row.get(i)
                .and_then(|v| v.as_ref())
                .map(|v| String::from_utf8_lossy(v).into_owned())
        };
        let (Some(consistent_point), Some(snapshot)) = (
            rows.first().and_then(|r| text(r, 1)),
            rows.first().and_then(|r| text(r, 2)),
        ) else {
            return Err(SourceError::Capture {
                message: format!("{context}: the server returned no snapshot"),
                action: "report this as a bug in migrate, with the server version".into(),
            });
        };
        tracing::info!(slot = %name, %consistent_point, %snapshot, "replication slot created");
        let shared =
            SharedSnapshot::of_slot(self, SnapshotId(snapshot), SlotSession { client }, readers)
                .await?;
        Ok((shared, Position(consistent_point)))
    }

    async fn open_changes(
        &self,
        task: &str,
        tables: &[Table],
        selection: Selection,
        from: &Position,
    ) -> Result<PostgresChanges, SourceError> {
        Self::check_capturable(tables)?;
        let name = self.capture_name(task);
        let start = parse_lsn(from)?;
        if !self.usable_slot(&name, task, from).await? {
            return Err(SourceError::Capture {
                message: format!(
                    "replication slot {name} of task {task} is gone: the changes since {from} can't be read any more"
                ),
                action: START_OVER.into(),
            });
        }
        // The event trigger of an earlier migrate does not announce the tables created.
        let all_tables = self
            .client
            .query_opt(
                "SELECT puballtables FROM pg_publication WHERE pubname = $1",
                &[&name],
            )
            .await
            .map_err(SourceError::query("looking up the publication"))?
            .is_some_and(|row| row.get(0));
        if all_tables {
            self.ensure_identity_keeper(&name).await?;
        }
        self.release_slot(&name).await?;
        let client = paced::connect(replication_config(self, &name, start))
            .await
            .map_err(SourceError::replication(format!(
                "starting replication from slot {name} on {}",
                self.endpoint()
            )))?;
        PostgresChanges::new(
            self.another().await?,
            client,
            tables,
            selection,
            all_tables,
            start,
        )
        .await
    }

    async fn start_capture(
        &self,
        task: &str,
        tables: &[Table],
        from: &Position,
    ) -> Result<(), SourceError> {
        Self::check_capturable(tables)?;
        check_publishable(&self.client, tables).await?;
        let name = self.capture_name(task);
        let from_lsn = parse_lsn(from)?;
        // A position the server has not written yet (a mistyped LSN) would move the slot past
        // every change made until then: they would be skipped without a word. The insert
        // position is the newest on a primary (`pg_current_wal_insert_lsn()` may be ahead of
        // the write position); a standby is behind its primary by the replication lag, so the
        // newer of what it received and replayed.
        let current: Option<String> = self
            .client
            .query_one(
                "SELECT (CASE WHEN pg_is_in_recovery() \
                              THEN greatest(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()) \
                              ELSE pg_current_wal_insert_lsn() END)::text",
                &[],
            )
            .await
            .map_err(SourceError::query("reading the server's WAL position"))?
            .get(0);
        if let Some(current) =
            current.filter(|c| parse_lsn(&Position(c.clone())).is_ok_and(|c| from_lsn > c))
        {
            return Err(SourceError::Capture {
                message: format!(
                    "position {from} is after the server's current WAL position {current}: nothing was written there yet, and the changes until then would be skipped"
                ),
                action: format!(
                    "give --from a position printed by migrate or by pg_current_wal_lsn() (now {current}), or run a full load (--cdc)"
                ),
            });
        }
        let publication_exists = self
            .client
            .query_opt("SELECT 1 FROM pg_publication WHERE pubname = $1", &[&name])
            .await
            .map_err(SourceError::query("looking up the publication"))?
            .is_some();
        let slot_exists = self.usable_slot(&name, task, from).await?;
        if slot_exists && !publication_exists {
            // pgoutput reads the publication as of each change: changes made before it existed
            // can't be decoded at all.
            return Err(SourceError::Capture {
                message: format!(
                    "replication slot {name} exists but publication {name} does not: the slot's changes can't be decoded"
                ),
                action: format!(
                    "create the publication before the slot: DROP the slot, then CREATE PUBLICATION {} FOR ALL TABLES and create the slot again",
                    crate::quote_ident(&name)
                ),
            });
        }
        self.ensure_publication(&name, tables).await?;
        if !slot_exists {
            self.client
                .execute(
                    "SELECT pg_create_logical_replication_slot($1, 'pgoutput')",
                    &[&name],
                )
                .await
                .map_err(SourceError::query(format!(
                    "creating replication slot {name} (wal_level must be logical; the role needs REPLICATION)"
                )))?;
        }
        let row = self
            .client
            .query_one(
                "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1",
                &[&name],
            )
            .await
            .map_err(SourceError::query("reading the replication slot"))?;
        let oldest: Option<String> = row.get(0);
        if let Some(oldest) = oldest {
            if parse_lsn(&Position(oldest.clone()))? > from_lsn {
                // Made just now for nothing: a slot left behind would hold WAL on the source.
                // (Failing to drop it must not hide why the start was refused.)
                if !slot_exists {
                    if let Err(e) = self.drop_capture_objects(&name, !publication_exists).await {
                        tracing::warn!("{e}; drop replication slot {name} by hand");
                    }
                }
                return Err(SourceError::Capture {
                    message: format!(
                        "replication slot {name} holds changes from {oldest} on; changes from {from} can't be read"
                    ),
                    action: format!("start from --from {oldest} or later, or run a full load (--cdc)"),
                });
            }
        }
        Ok(())
    }

    async fn drop_capture(&self, task: &str) -> Result<(), SourceError> {
        let name = self.capture_name(task);
        self.release_slot(&name).await?;
        self.drop_capture_objects(&name, true).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_names_are_valid_slot_names() {
        assert_eq!(
            capture_name("shop", "Orders-2024"),
            "migrate_shop_orders_2024"
        );
        let long = capture_name("shop", &"x".repeat(200));
        assert!(long.len() <= 63, "{long}");
        assert_ne!(long, capture_name("shop", &"x".repeat(199)));
        assert_ne!(long, capture_name("shop2", &"x".repeat(200)));
        assert!(long
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'));
    }

    #[test]
    fn positions_must_be_lsns() {
        assert_eq!(
            parse_lsn(&Position("16/B374D848".into())).unwrap(),
            Lsn::parse("16/B374D848").unwrap()
        );
        assert!(parse_lsn(&Position("binlog.000001:4".into())).is_err());
    }
}
