//! Replication preflight of a PostgreSQL source: the checks `migrate assess` reports (DMS
//! premigration assessment, and more). `migrate replicate` does not run them: it stops on the
//! same conditions when it meets them.

use crate::cdc::publishable::{published, Identity};
use crate::sql::{own_rows_of, quote_ident};
use crate::{PostgresSource, SourceError};
use migrate_core::{
    catalog_checks, may_exceed, truncation_check, Catalog, PreflightCheck, PreflightOptions,
    ReplicationMode,
};

const SERVER: &str = "
SELECT current_setting('wal_level'), current_setting('max_replication_slots')::int,
       current_setting('max_wal_senders')::int,
       (SELECT count(*) FROM pg_replication_slots)::int,
       r.rolreplication, r.rolsuper, has_database_privilege(current_database(), 'CREATE'),
       current_user::text, current_database()::text,
       current_setting('max_slot_wal_keep_size', true)
  FROM pg_roles r WHERE r.rolname = current_user";

const TABLES: &str = "
SELECT n.nspname::text, c.relname::text, has_table_privilege(c.oid, 'SELECT'),
       pg_has_role(c.relowner, 'USAGE')
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
   AND n.nspname = $1 AND c.relname = ANY($2::text[])";

/// Every preflight check of `catalog` (as [`PostgresSource::discover`] returned it):
///
/// - always: SELECT on each table, a row identity per table, LOB columns without a key, values
///   longer than `options.max_value_bytes` (measured with `max(octet_length(...))`: a full scan
///   of each such column; tables with no such column are not read);
/// - for CDC: `wal_level = logical`, a free replication slot, a cap on the WAL a slot holds
///   (`max_slot_wal_keep_size`; a warning without one), WAL senders, the REPLICATION
///   attribute, the right to create a publication (CREATE on the database, table ownership),
///   each table's REPLICA IDENTITY as PostgreSQL applies it (a DEFERRABLE primary key is
///   none; a partitioned table's partitions are checked) and no UNLOGGED table (it can't be
///   published).
///
/// Passed checks are reported too (aggregated per code where there would be one per table).
/// Reads only; changes nothing on the server.
pub async fn preflight(
    source: &PostgresSource,
    catalog: &Catalog,
    options: &PreflightOptions,
) -> Result<Vec<PreflightCheck>, SourceError> {
    let client = source.client();
    let cdc = options.mode == ReplicationMode::FullLoadAndCdc;
    let mut checks = Vec::new();
    let row = client
        .query_one(SERVER, &[])
        .await
        .map_err(SourceError::query("reading replication settings"))?;
    let wal_level: String = row.get(0);
    let (max_slots, max_senders, used_slots): (i32, i32, i32) =
        (row.get(1), row.get(2), row.get(3));
    let (replication, superuser, create_db): (bool, bool, bool) =
        (row.get(4), row.get(5), row.get(6));
    let user: String = row.get(7);
    let database: String = row.get(8);
    // PostgreSQL 13 and later; NULL before (no limit exists there).
    let wal_limit: Option<String> = row.get(9);
    if cdc {
        checks.push(if wal_level == "logical" {
            PreflightCheck::passed("preflight.wal-level", "wal_level", "wal_level = logical")
        } else {
            PreflightCheck::blocker(
                "preflight.wal-level",
                "wal_level",
                format!("wal_level = {wal_level}: logical decoding needs logical"),
                "ALTER SYSTEM SET wal_level = logical, then restart PostgreSQL (on RDS: rds.logical_replication = 1 in the parameter group)",
            )
        });
        let free = max_slots - used_slots;
        checks.push(if free > 0 {
            PreflightCheck::passed(
                "preflight.replication-slots",
                "max_replication_slots",
                format!("{free} of {max_slots} replication slots free"),
            )
        } else {
            PreflightCheck::blocker(
                "preflight.replication-slots",
                "max_replication_slots",
                format!("{used_slots} of {max_slots} replication slots in use: none free for CDC"),
                "drop unused slots (SELECT pg_drop_replication_slot(name)) or raise max_replication_slots and restart",
            )
        });
        // A slot keeps the WAL its task has not acknowledged: while the task is stopped, that
        // grows with every change on the server.
        checks.push(match wal_limit.as_deref() {
            Some(limit) if limit != "-1" => PreflightCheck::passed(
                "preflight.slot-wal-limit",
                "max_slot_wal_keep_size",
                format!("max_slot_wal_keep_size = {limit}: a task stopped long enough for its slot to hold more WAL than that loses the slot and starts over with a full load (--restart)"),
            ),
            limit => PreflightCheck::warning(
                "preflight.slot-wal-limit",
                "max_slot_wal_keep_size",
                format!(
                    "{}: while a task is stopped, its replication slot holds back WAL without limit, which can fill the source's disk",
                    limit.map_or("PostgreSQL before 13 has no max_slot_wal_keep_size".to_string(), |l| format!("max_slot_wal_keep_size = {l}"))
                ),
                "watch pg_replication_slots (pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)) while a task is stopped, or cap it with ALTER SYSTEM SET max_slot_wal_keep_size = '<what the disk can spare>' and SELECT pg_reload_conf() (a task past the cap starts over with --restart)",
            ),
        });
        checks.push(if max_senders > 0 {
            PreflightCheck::passed(
                "preflight.wal-senders",
                "max_wal_senders",
                format!("max_wal_senders = {max_senders}"),
            )
        } else {
            PreflightCheck::blocker(
                "preflight.wal-senders",
                "max_wal_senders",
                "max_wal_senders = 0: no replication connection can be opened",
                "ALTER SYSTEM SET max_wal_senders = 10, then restart PostgreSQL",
            )
        });
        checks.push(if replication || superuser {
            PreflightCheck::passed(
                "preflight.replication-privilege",
                format!("user {user}"),
                if superuser { "superuser" } else { "REPLICATION attribute" },
            )
        } else {
            PreflightCheck::blocker(
                "preflight.replication-privilege",
                format!("user {user}"),
                "the user has neither the REPLICATION attribute nor superuser: it can't open a replication connection or create a slot",
                format!("ALTER ROLE {} REPLICATION (on RDS: GRANT rds_replication TO {})", quote_ident(&user), quote_ident(&user)),
            )
        });
        checks.push(if create_db || superuser {
            PreflightCheck::passed(
                "preflight.publication-privilege",
                format!("database {database}"),
                "the user may create a publication (CREATE on the database)",
            )
        } else {
            PreflightCheck::blocker(
                "preflight.publication-privilege",
                format!("database {database}"),
                "the user lacks CREATE on the database: it can't create the publication CDC reads through",
                format!("GRANT CREATE ON DATABASE {} TO {}, or create the publication as its owner beforehand", quote_ident(&database), quote_ident(&user)),
            )
        });
    }
    checks.extend(catalog_checks(&catalog.tables, options));

    // Per-table privileges, one query per schema.
    let mut by_schema: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for table in &catalog.tables {
        let schema = table.name.schema_value().to_string();
        by_schema
            .entry(schema)
            .or_default()
            .push(table.name.name.value.clone());
    }
    let (mut selectable, mut owned, mut identified) = (0, 0, 0);
    for (schema, names) in &by_schema {
        let rows = client
            .query(TABLES, &[schema, names])
            .await
            .map_err(SourceError::query(format!(
                "reading privileges on the tables of {schema}"
            )))?;
        for row in rows {
            let (schema, name): (&str, &str) = (row.get(0), row.get(1));
            let object = format!("{schema}.{name}");
            let sql_name = format!("{}.{}", quote_ident(schema), quote_ident(name));
            if row.get::<_, bool>(2) {
                selectable += 1;
            } else {
                checks.push(PreflightCheck::blocker(
                    "preflight.select-privilege",
                    object.clone(),
                    format!("user {user} has no SELECT on the table"),
                    format!("GRANT SELECT ON {sql_name} TO {}", quote_ident(&user)),
                ));
            }
            if !cdc {
                continue;
            }
            if row.get::<_, bool>(3) || superuser {
                owned += 1;
            } else {
                checks.push(PreflightCheck::blocker(
                    "preflight.publication-privilege",
                    object.clone(),
                    format!("user {user} does not own the table: it can't add it to a publication"),
                    "have the owner create the publication (CREATE PUBLICATION ... FOR TABLE ...) or grant the owning role to the user",
                ));
            }
        }
    }
    if cdc {
        for table in published(client, &catalog.tables).await? {
            let object = table.object();
            match (table.problem(), table.identity) {
                (None, Identity::Full) => checks.push(PreflightCheck::warning(
                    "preflight.replica-identity",
                    object,
                    "REPLICA IDENTITY FULL: every update and delete logs the whole old row",
                    "add a primary key and ALTER TABLE ... REPLICA IDENTITY DEFAULT to cut WAL volume",
                )),
                (None, _) => identified += 1,
                (Some((why, fix)), _) if table.unlogged => checks.push(PreflightCheck::blocker(
                    "preflight.unlogged",
                    object,
                    why,
                    format!("{fix}; or exclude the table from the task"),
                )),
                (Some((why, fix)), _) => checks.push(PreflightCheck::blocker(
                    "preflight.replica-identity",
                    object,
                    why,
                    format!("{fix}; or exclude the table from the task"),
                )),
            }
        }
    }
    if selectable > 0 {
        checks.push(PreflightCheck::passed(
            "preflight.select-privilege",
            format!("{selectable} table(s)"),
            format!("user {user} may SELECT"),
        ));
    }
    if cdc && owned > 0 {
        checks.push(PreflightCheck::passed(
            "preflight.publication-privilege",
            format!("{owned} table(s)"),
            "the user owns the tables (or is superuser): it may publish them",
        ));
    }
    if cdc && identified > 0 {
        checks.push(PreflightCheck::passed(
            "preflight.replica-identity",
            format!("{identified} table(s)"),
            "replica identity by primary key or unique index",
        ));
    }
    if let Some(limit) = options.max_value_bytes {
        checks.extend(longest_values(source, catalog, limit).await?);
    }
    Ok(checks)
}

/// `max(octet_length(col))` of every column whose values may exceed `limit`, one query per table.
async fn longest_values(
    source: &PostgresSource,
    catalog: &Catalog,
    limit: u64,
) -> Result<Vec<PreflightCheck>, SourceError> {
    let mut checks = Vec::new();
    for table in &catalog.tables {
        let columns: Vec<&str> = table
            .columns
            .iter()
            .filter(|c| may_exceed(&c.data_type, limit))
            .map(|c| c.name.value.as_str())
            .collect();
        if columns.is_empty() {
            continue;
        }
        let select: Vec<String> = columns
            .iter()
            // json and xml have no octet_length: their text form is what is loaded.
            .map(|c| format!("max(octet_length({}::text))::int8", quote_ident(c)))
            .collect();
        let sql = format!(
            "SELECT {} FROM {}",
            select.join(", "),
            own_rows_of(source.client(), table).await?
        );
        let row = source
            .client()
            .query_one(&sql, &[])
            .await
            .map_err(SourceError::query(format!(
                "measuring the longest values of {}",
                table.name
            )))?;
        for (i, column) in columns.iter().enumerate() {
            if let Some(longest) = row.get::<_, Option<i64>>(i) {
                let object = format!("{}.{column}", table.name);
                checks.push(truncation_check(object, longest.unsigned_abs(), limit));
            }
        }
    }
    Ok(checks)
}
