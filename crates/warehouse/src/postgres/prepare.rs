//! Creating or emptying the target table before a full load, through the converter's emitter.

use super::{checkpoint, target_column, target_name, PostgresWarehouse};
use crate::WarehouseError;
use migrate_core::{
    Catalog, ConstraintKind, Finding, Severity, SourceDialect, Table, TargetDialect,
};
use migrate_dialect::{Checks, Conversion, SeparateStatement};

/// What [`PostgresWarehouse::prepare`] does to the target table (AWS DMS's `TargetTablePrepMode`).
/// In every mode a missing table is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrepMode {
    /// Drop the table if it exists and create it from the source definition.
    DropAndCreate,
    /// Keep the table's definition, remove its rows.
    TruncateBeforeLoad,
    /// Keep the table and its rows (loading into a table that already holds data).
    DoNothing,
}

/// The table without its foreign keys: they are not created by the warehouse (see
/// [`PostgresWarehouse::prepare`]).
fn without_foreign_keys(source: &Table) -> Table {
    let mut table = source.clone();
    table
        .constraints
        .retain(|c| !matches!(c.kind, ConstraintKind::ForeignKey(_)));
    table
}

/// The converter's DDL of `source` (`CREATE SCHEMA IF NOT EXISTS ...; CREATE TABLE ...`), with
/// what `apart` writes as statements of their own, and its findings.
fn convert(source: &Table, from: SourceDialect, apart: Checks) -> Conversion {
    let catalog = Catalog {
        tables: vec![without_foreign_keys(source)],
        ..Catalog::default()
    };
    migrate_dialect::emit_with(&catalog, from, TargetDialect::Postgres, &[], apart)
}

/// `CREATE SCHEMA IF NOT EXISTS ...; CREATE TABLE ...` for `source`, written by the converter
/// with its column defaults (a column added during change capture needs its default at once:
/// the rows captured before the addition are filled from it), without its CHECK constraints,
/// and the converter's findings.
pub(crate) fn create_sql(source: &Table, from: SourceDialect) -> (String, Vec<Finding>) {
    let conversion = convert(source, from, Checks::Separate);
    (conversion.ddl, conversion.findings)
}

/// What [`add_apart`] adds to a table after its `CREATE TABLE`.
#[derive(Clone, Copy)]
enum Apart {
    Check,
    Default,
}

impl Apart {
    /// The warning that the target refused `statement` (for `reason`), about `object` of table
    /// `name`.
    fn refused(self, name: &str, object: &str, reason: &str, statement: &str) -> Finding {
        match self {
            Apart::Check => Finding::new(
                Severity::Warning,
                "constraint.check-refused",
                object,
                format!("CHECK not created: the target refused it ({reason}), so table {name} is created and loaded without it"),
                format!("make the target able to run it (create the function it calls, or correct the condition), check that the rows satisfy it, then run: {statement};"),
            ),
            Apart::Default => Finding::new(
                Severity::Warning,
                "default.refused",
                object,
                format!("DEFAULT not set: the target refused it ({reason}), so table {name} is created and loaded without it (its rows keep the source's values; a row inserted in the target without a value for the column gets none from it)"),
                format!("make the target able to run it (create the function it calls, or the extension that has it, or correct the expression), then run: {statement};"),
            ),
        }
    }
}

/// The server's refusal of a statement's expression: a syntax or name error (class 42), a value
/// it can't take (22), a feature it lacks (0A), rows that break it (23). Anything else (a lost
/// connection, a cancelled query, a deadlock, out of memory) fails the table, which a later run
/// prepares again with them: left out, one never comes back.
fn refusal(error: &tokio_postgres::Error) -> Option<&tokio_postgres::error::DbError> {
    error
        .as_db_error()
        .filter(|server| ["42", "22", "0A", "23"].contains(&&server.code().code()[..2]))
}

/// Adds the CHECK constraints or the column defaults (`what`) of table `name`, created in
/// `tx`: all in one round trip when the target takes them all, otherwise each under a savepoint
/// of its own, so that one the target refuses (a function it calls is missing there, an
/// expression the converter translated into something the server rejects) is left out with a
/// warning that names the server's error and the statement to run later, and the table is
/// loaded without it.
async fn add_apart(
    tx: &mut tokio_postgres::Transaction<'_>,
    name: &str,
    what: Apart,
    statements: &[SeparateStatement],
    doing: &impl Fn(&str) -> String,
) -> Result<Vec<Finding>, WarehouseError> {
    if statements.len() > 1 {
        let all: Vec<&str> = statements.iter().map(|s| s.sql.as_str()).collect();
        let all = all.join(";\n");
        let savepoint = tx
            .savepoint("migrate_apart")
            .await
            .map_err(WarehouseError::database(doing("SAVEPOINT")))?;
        match savepoint.batch_execute(&all).await {
            Ok(()) => {
                savepoint
                    .commit()
                    .await
                    .map_err(WarehouseError::database(doing("RELEASE SAVEPOINT")))?;
                return Ok(Vec::new());
            }
            Err(error) if refusal(&error).is_some() => savepoint
                .rollback()
                .await
                .map_err(WarehouseError::database(doing("ROLLBACK TO SAVEPOINT")))?,
            Err(error) => return Err(WarehouseError::database(doing(&all))(error)),
        }
    }
    let mut refused = Vec::new();
    for statement in statements {
        let savepoint = tx
            .savepoint("migrate_apart")
            .await
            .map_err(WarehouseError::database(doing("SAVEPOINT")))?;
        let error = match savepoint.batch_execute(&statement.sql).await {
            Ok(()) => {
                savepoint
                    .commit()
                    .await
                    .map_err(WarehouseError::database(doing("RELEASE SAVEPOINT")))?;
                continue;
            }
            Err(error) => error,
        };
        let Some(server) = refusal(&error) else {
            return Err(WarehouseError::database(doing(&statement.sql))(error));
        };
        let reason = format!("{} (SQLSTATE {})", server.message(), server.code().code());
        savepoint
            .rollback()
            .await
            .map_err(WarehouseError::database(doing(&format!(
                "ROLLBACK TO SAVEPOINT after the target refused {} ({reason})",
                statement.sql
            ))))?;
        refused.push(what.refused(name, &statement.object, &reason, &statement.sql));
    }
    Ok(refused)
}

/// A statement reading every column of `source` (by its converted name) from the existing
/// target table `name`, as a load writes them (its columns' types are the target's), and that
/// list of columns as SQL. A missing table or column is a schema error that says what to do.
pub(crate) async fn target_columns(
    tx: &tokio_postgres::Transaction<'_>,
    name: &str,
    source: &Table,
    doing: &impl Fn(&str) -> String,
) -> Result<(tokio_postgres::Statement, String), WarehouseError> {
    let columns: Vec<String> = source
        .columns
        .iter()
        .map(|c| target_column(&c.name))
        .collect();
    let column_list = columns.join(", ");
    let statement = tx
        .prepare(&format!("SELECT {column_list} FROM {name} LIMIT 0"))
        .await
        .map_err(WarehouseError::missing_table_or_column(
            name,
            &column_list,
            "an existing target table must have every column the task loads: add the missing ones (ALTER TABLE ... ADD COLUMN), or let migrate create the table again (--prep-mode DROP_AND_CREATE)",
            doing("reading the target columns"),
        ))?;
    Ok((statement, column_list))
}

/// What a user can do about a failed `DROP TABLE` of a `DROP_AND_CREATE` target, for the causes
/// that have a remedy; the server's own message says the rest.
fn drop_hint(error: &tokio_postgres::Error) -> &'static str {
    use tokio_postgres::error::SqlState;
    match error.code() {
        Some(code) if *code == SqlState::DEPENDENT_OBJECTS_STILL_EXIST => {
            " (views or foreign keys that depend on it must be dropped first)"
        }
        Some(code) if *code == SqlState::INSUFFICIENT_PRIVILEGE => {
            " (only its owner can drop it: make the target user its owner with ALTER TABLE ... \
             OWNER TO, or use --prep-mode TRUNCATE_BEFORE_LOAD, which needs the TRUNCATE privilege)"
        }
        _ => "",
    }
}

/// `create` without its `CREATE SCHEMA IF NOT EXISTS` of a schema that exists: PostgreSQL checks
/// CREATE on the database before it looks for the schema, so a user who may create tables in
/// an existing schema, but not schemas, would be refused the whole table.
async fn without_existing_schemas(
    tx: &tokio_postgres::Transaction<'_>,
    create: &str,
    doing: &impl Fn(&str) -> String,
) -> Result<String, WarehouseError> {
    let mut kept = String::with_capacity(create.len());
    for line in create.split_inclusive('\n') {
        let schema = line
            .trim_end()
            .strip_prefix("CREATE SCHEMA IF NOT EXISTS ")
            .and_then(|rest| rest.strip_suffix(';'));
        if let Some(schema) = schema {
            let exists = tx
                .query_one("SELECT to_regnamespace($1) IS NOT NULL", &[&schema])
                .await
                .map_err(WarehouseError::database(doing("looking the schema up")))?
                .get::<_, bool>(0);
            if exists {
                continue;
            }
        }
        kept.push_str(line);
    }
    Ok(kept)
}

/// The statements of `ddl` on one line, without its comments: an error's text reads on to the
/// server's reason after it.
fn one_line(ddl: &str) -> String {
    ddl.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with("--"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The line of `ddl` where the server says it failed (its position counts characters from 1).
fn refused_line<'d>(error: &tokio_postgres::Error, ddl: &'d str) -> Option<&'d str> {
    let Some(tokio_postgres::error::ErrorPosition::Original(position)) =
        error.as_db_error()?.position()
    else {
        return None;
    };
    let offset = ddl
        .char_indices()
        .nth(usize::try_from(*position).ok()?.checked_sub(1)?)?
        .0;
    let start = ddl[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = ddl[offset..].find('\n').map_or(ddl.len(), |i| offset + i);
    Some(ddl[start..end].trim())
}

/// Runs `create` (the converted DDL of table `name`) in `tx`. A constraint or index name that
/// another relation of the schema has already (PostgreSQL names a key's index after its
/// constraint, and relation names are unique per schema) is a schema error naming the table
/// that holds it and what to do: typically the target table of a source table renamed since,
/// whose constraints kept their names in the source (`ALTER TABLE k RENAME TO k2` leaves
/// `k_pkey`), so the new table's key has the old table's key's name.
async fn create_table(
    tx: &mut tokio_postgres::Transaction<'_>,
    name: &str,
    create: &str,
    doing: &impl Fn(&str) -> String,
) -> Result<(), WarehouseError> {
    let creating = |error: &tokio_postgres::Error| {
        doing(&format!(
            "creating the table with its converted DDL `{}`{}",
            one_line(create),
            refused_line(error, create)
                .map(|line| format!(" (refused at `{line}`)"))
                .unwrap_or_default()
        ))
    };
    // A savepoint: the holder is looked up in the same transaction after the failure.
    let savepoint = tx
        .savepoint("migrate_create")
        .await
        .map_err(WarehouseError::database(doing("SAVEPOINT")))?;
    let error = match savepoint.batch_execute(create).await {
        Ok(()) => {
            return savepoint
                .commit()
                .await
                .map_err(WarehouseError::database(doing("RELEASE SAVEPOINT")))
        }
        Err(error) => error,
    };
    if error.code() != Some(&tokio_postgres::error::SqlState::DUPLICATE_TABLE) {
        return Err(WarehouseError::database(creating(&error))(error));
    }
    savepoint
        .rollback()
        .await
        .map_err(WarehouseError::database(doing("ROLLBACK TO SAVEPOINT")))?;
    // The name the server refused: `relation "k_pkey" already exists`.
    let taken = error
        .as_db_error()
        .and_then(|db| db.message().split('"').nth(1))
        .unwrap_or_default()
        .to_string();
    let holder = tx
        .query_opt(
            "SELECT quote_ident(tn.nspname) || '.' || quote_ident(t.relname), c.relkind IN ('i', 'I') \
               FROM pg_class c \
               LEFT JOIN pg_index i ON i.indexrelid = c.oid \
               JOIN pg_class t ON t.oid = coalesce(i.indrelid, c.oid) \
               JOIN pg_namespace tn ON tn.oid = t.relnamespace \
              WHERE c.relname = $1 \
                AND c.relnamespace = (SELECT n.oid FROM pg_namespace n, parse_ident($2) p \
                     WHERE n.nspname = CASE WHEN cardinality(p) > 1 THEN p[cardinality(p) - 1] \
                                            ELSE current_schema() END)",
            &[&taken, &name],
        )
        .await
        .map_err(WarehouseError::database(doing(&format!(
            "looking up the relation named {taken}"
        ))))?;
    match holder {
        Some(row) if row.get::<_, bool>(1) && !taken.is_empty() => {
            let holder: String = row.get(0);
            Err(WarehouseError::Schema {
                table: name.to_string(),
                message: format!(
                    "its constraint or index {taken} can't be created: table {holder} of the target has an index of that name (PostgreSQL names a key's index after its constraint, and relation names are unique per schema); when {holder} is the target table of a source table renamed to this one (the source kept the constraint's name), drop it (DROP TABLE {holder}) if you no longer need it, or rename its constraint (ALTER TABLE {holder} RENAME CONSTRAINT {taken} TO <another name>), then run again; or rename the constraint in the source"
                ),
            })
        }
        _ => Err(WarehouseError::database(creating(&error))(error)),
    }
}

impl PostgresWarehouse {
    /// Whether the target table of `source` exists.
    pub async fn table_exists(&self, source: &Table) -> Result<bool, WarehouseError> {
        let name = target_name(source);
        let client = self.client.lock().await;
        Ok(client
            .query_one("SELECT to_regclass($1) IS NOT NULL", &[&name])
            .await
            .map_err(WarehouseError::database(format!("looking table {name} up")))?
            .get::<_, bool>(0))
    }

    /// Makes the target table of `source` ready for a full load, in one transaction: it creates
    /// the schema and the table (types, primary and unique keys, defaults, comments: exactly what
    /// `migrate convert` writes) when the table is missing; otherwise it drops and re-creates it
    /// or truncates it as `mode` says. The table's column defaults, then its CHECK constraints,
    /// are added after it (see [`add_apart`]): one the target refuses is left out with a
    /// `default.refused` or `constraint.check-refused` warning, and the table is loaded without
    /// it. Returns the converter's findings about the table, and those warnings.
    ///
    /// **Checkpoints**: when rows are removed (`DropAndCreate`, `TruncateBeforeLoad` of an existing
    /// table), the table's chunk checkpoints are deleted in the same transaction, for every task:
    /// a checkpoint must never vouch for rows that are gone. So call `prepare` with one of those
    /// modes only when starting a load from scratch; a resumed load uses `DoNothing`.
    ///
    /// **Foreign keys are never created here**: chunks of different tables load in any order and in
    /// parallel, so a foreign key would reject child rows whose parents are not loaded yet, and
    /// checking it row by row slows the load. Create them once every table is loaded, from the
    /// `ALTER TABLE ... ADD FOREIGN KEY` statements of `migrate convert` (on Redshift they are
    /// informational only).
    pub async fn prepare(
        &self,
        source: &Table,
        from: SourceDialect,
        mode: PrepMode,
    ) -> Result<Vec<Finding>, WarehouseError> {
        let name = target_name(source);
        let Conversion {
            ddl: create,
            checks,
            defaults,
            mut findings,
            ..
        } = convert(source, from, Checks::SeparateWithDefaults);
        let source_table = checkpoint::source_table_key(source);
        let doing = |what: &str| format!("preparing table {name} ({mode:?}): {what}");
        let mut client = self.client.lock().await;
        let mut tx = client
            .transaction()
            .await
            .map_err(WarehouseError::database(doing("BEGIN")))?;
        // Tables of one schema are prepared in parallel, and concurrent `CREATE SCHEMA IF NOT
        // EXISTS` race on the catalog's unique index: one transaction per schema at a time.
        let schema = source
            .name
            .schema
            .as_ref()
            .map_or(String::new(), |s| s.value.to_lowercase());
        tx.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended('migrate.schema:' || $1, 0))",
            &[&schema],
        )
        .await
        .map_err(WarehouseError::database(doing("locking the schema")))?;
        let create = without_existing_schemas(&tx, &create, &doing).await?;
        let exists = tx
            .query_one("SELECT to_regclass($1) IS NOT NULL", &[&name])
            .await
            .map_err(WarehouseError::database(doing("looking the table up")))?
            .get::<_, bool>(0);
        match (exists, mode) {
            (false, _) => {
                create_table(&mut tx, &name, &create, &doing).await?;
                findings
                    .extend(add_apart(&mut tx, &name, Apart::Default, &defaults, &doing).await?);
                findings.extend(add_apart(&mut tx, &name, Apart::Check, &checks, &doing).await?);
                checkpoint::forget_table(&tx, &source_table).await?;
            }
            (true, PrepMode::DropAndCreate) => {
                let drop = format!("DROP TABLE {name}");
                tx.batch_execute(&drop).await.map_err(|source| {
                    let hint = drop_hint(&source);
                    WarehouseError::database(doing(&format!("dropping it{hint}")))(source)
                })?;
                create_table(&mut tx, &name, &create, &doing).await?;
                findings
                    .extend(add_apart(&mut tx, &name, Apart::Default, &defaults, &doing).await?);
                findings.extend(add_apart(&mut tx, &name, Apart::Check, &checks, &doing).await?);
                checkpoint::forget_table(&tx, &source_table).await?;
            }
            (true, PrepMode::TruncateBeforeLoad) => {
                // Before its rows are gone: a load that can't go in would leave it empty.
                target_columns(&tx, &name, source, &doing).await?;
                tx.batch_execute(&format!("TRUNCATE {name}"))
                    .await
                    .map_err(WarehouseError::database(doing("truncating it")))?;
                checkpoint::forget_table(&tx, &source_table).await?;
            }
            (true, PrepMode::DoNothing) => {
                target_columns(&tx, &name, source, &doing).await?;
            }
        }
        tx.commit()
            .await
            .map_err(WarehouseError::database(doing("COMMIT")))?;
        Ok(findings)
    }
}
