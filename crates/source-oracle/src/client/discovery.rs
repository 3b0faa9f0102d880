//! Discovery and the preflight (feature `oracle`): runs the dictionary queries of
//! [`crate::sql`] with their binds and hands the rows to the pure mappings of
//! [`crate::discover`] and [`crate::preflight`].

use super::{blocking, db, number, open, rows, scn, text, OracleSource};
use crate::connect::parse_url;
use crate::discover::{
    add_objects, add_sizes, build_catalog, ColumnRow, ConstraintRow, DbLinkRow, IndexRow,
    ObjectRows, PartitionKeyRow, PartitionRow, SequenceRow, SizeRow, SourceRow, SynonymRow,
    TableRow, ViewRow,
};
use crate::preflight::{
    persistent, preflight_checks, LongestValue, PreflightFacts, RedoSettings, TableAccess,
};
use crate::sql::{self, Query};
use crate::OracleError;
use migrate_core::{may_exceed, Catalog, PreflightCheck, PreflightOptions, Table};
use oracle::sql_type::ToSql;
use oracle::{Connection, Row};

impl OracleSource {
    /// The tables of `owners` (every non-system schema when `None`): base, index-organized,
    /// global temporary and external tables (their [`migrate_core::TableKind`] says which),
    /// with canonical types, keys and checks, the optimizer's statistics (`NUM_ROWS`,
    /// `NUM_DISTINCT`, `NUM_NULLS`: estimates as of the last gathering, `None` before one) and
    /// the bytes of their segments from `DBA_SEGMENTS`, LOB segments apart. Without access to
    /// `DBA_SEGMENTS` sizes stay unknown and a finding says which grant shows them.
    ///
    /// Consistency: one statement per dictionary view, not one snapshot.
    pub async fn discover(&self, owners: Option<&[String]>) -> Result<Catalog, OracleError> {
        let conn = self.conn.clone();
        let owners: Option<Vec<String>> = owners.map(<[String]>::to_vec);
        blocking(move || discover_tables(&conn, owners.as_deref())).await
    }

    /// Adds to `catalog` (as [`OracleSource::discover`] returned it, for the same `owners`) the
    /// indexes no key owns, views, materialized views, sequences, synonyms, procedures,
    /// functions, packages and their bodies, triggers, types and their bodies (with their
    /// source text, from `ALL_SOURCE`), database links (as findings) and partitions.
    pub async fn discover_objects(
        &self,
        owners: Option<&[String]>,
        catalog: &mut Catalog,
    ) -> Result<(), OracleError> {
        let conn = self.conn.clone();
        let owners: Option<Vec<String>> = owners.map(<[String]>::to_vec);
        let mut taken = std::mem::take(catalog);
        *catalog = blocking(move || {
            let rows = object_rows(&conn, owners.as_deref())?;
            add_objects(&mut taken, rows);
            Ok(taken)
        })
        .await?;
        Ok(())
    }

    /// The replication preflight of `catalog` (as [`OracleSource::discover`] returned it):
    /// reads what [`crate::preflight::preflight_checks`] needs (redo settings, the session's
    /// privileges, a read of each table `AS OF` now that fetches nothing, and, when
    /// `options.max_value_bytes` is set, the longest values of the columns that may exceed it:
    /// a full scan of each such table) and returns its checks. Reads only.
    pub async fn preflight(
        &self,
        catalog: &Catalog,
        options: &PreflightOptions,
    ) -> Result<Vec<PreflightCheck>, OracleError> {
        let conn = self.conn.clone();
        // LogMiner's requirements are checked where it runs: the root container's common user
        // when `logminer_url` is set.
        let capture = match &self.options.logminer_url {
            Some(url) => {
                let params = parse_url(url, std::env::var("ORACLE_PASSWORD").ok())?;
                Some(blocking(move || open(&params)).await?)
            }
            None => None,
        };
        let tables: Vec<Table> = catalog
            .tables
            .iter()
            .filter(|t| persistent(t))
            .cloned()
            .collect();
        let facts_options = *options;
        let facts = blocking(move || {
            preflight_facts(
                &conn,
                capture.as_ref().unwrap_or(&conn),
                &tables,
                &facts_options,
            )
        })
        .await?;
        Ok(preflight_checks(catalog, &facts, options))
    }
}

/// Runs `query` with its binds and maps each row as it is fetched.
fn read<T>(
    conn: &Connection,
    query: &Query,
    context: &str,
    mut map: impl FnMut(&Row) -> Result<T, OracleError>,
) -> Result<Vec<T>, OracleError> {
    let binds: Vec<(&str, &dyn ToSql)> = query
        .binds
        .iter()
        .map(|(name, value)| (name.as_str(), value as &dyn ToSql))
        .collect();
    let mut statement = conn
        .statement(&query.sql)
        .fetch_array_size(1000)
        .build()
        .map_err(db(context))?;
    let result = statement.query_named(&binds).map_err(db(context))?;
    result
        .map(|row| row.map_err(db(context)).and_then(|row| map(&row)))
        .collect()
}

/// ORA-00942 (no such table or view: not visible to the user) or ORA-01031 (insufficient
/// privileges).
fn not_allowed(error: &OracleError) -> bool {
    matches!(
        error,
        OracleError::Database {
            code: Some(942 | 1031),
            ..
        }
    )
}

fn required(row: &Row, i: usize, context: &str) -> Result<String, OracleError> {
    Ok(text(row, i, context)?.unwrap_or_default())
}

fn flag(row: &Row, i: usize, context: &str, yes: &str) -> Result<bool, OracleError> {
    Ok(text(row, i, context)?.as_deref() == Some(yes))
}

fn session_user(conn: &Connection) -> Result<String, OracleError> {
    let context = "reading the session's user";
    let row = conn
        .query_row(sql::SESSION_USER, &[])
        .map_err(db(context))?;
    required(&row, 0, context)
}

fn discover_tables(conn: &Connection, owners: Option<&[String]>) -> Result<Catalog, OracleError> {
    let context = "reading ALL_TABLES";
    let tables = read(conn, &sql::tables_query(owners), context, |row| {
        Ok(TableRow {
            owner: required(row, 0, context)?,
            name: required(row, 1, context)?,
            num_rows: scn(row, 2, context)?,
            temporary: flag(row, 3, context, "Y")?,
            index_organized: flag(row, 4, context, "IOT")?,
            external: flag(row, 5, context, "Y")?,
        })
    })?;
    let context = "reading ALL_TAB_COLS";
    let columns = read(conn, &sql::columns_query(owners), context, |row| {
        Ok(ColumnRow {
            owner: required(row, 0, context)?,
            table: required(row, 1, context)?,
            name: required(row, 2, context)?,
            data_type: required(row, 3, context)?,
            data_length: number(row, 4, context)?,
            data_precision: number(row, 5, context)?,
            data_scale: number(row, 6, context)?,
            char_length: number(row, 7, context)?,
            char_used: text(row, 8, context)?,
            nullable: !flag(row, 9, context, "N")?,
            default: text(row, 10, context)?,
            is_virtual: flag(row, 11, context, "YES")?,
            is_identity: flag(row, 12, context, "YES")?,
            num_distinct: scn(row, 13, context)?,
            num_nulls: scn(row, 14, context)?,
        })
    })?;
    let context = "reading ALL_CONSTRAINTS";
    let constraints = read(conn, &sql::constraints_query(owners), context, |row| {
        Ok(ConstraintRow {
            owner: required(row, 0, context)?,
            table: required(row, 1, context)?,
            name: required(row, 2, context)?,
            kind: required(row, 3, context)?,
            column: required(row, 4, context)?,
            r_owner: text(row, 5, context)?,
            r_table: text(row, 6, context)?,
            r_column: text(row, 7, context)?,
            delete_rule: text(row, 8, context)?,
            status: text(row, 9, context)?,
            validated: text(row, 10, context)?,
            rely: text(row, 11, context)?,
            search_condition: text(row, 12, context)?,
        })
    })?;
    let mut catalog = build_catalog(tables, columns, constraints);
    let context = "reading DBA_SEGMENTS";
    let sizes = match read(conn, &sql::sizes_query(owners), context, |row| {
        Ok(SizeRow {
            owner: required(row, 0, context)?,
            table: required(row, 1, context)?,
            bytes: scn(row, 2, context)?,
            lob_bytes: scn(row, 3, context)?,
        })
    }) {
        Ok(rows) => Some(rows),
        Err(error) if not_allowed(&error) => None,
        Err(error) => return Err(error),
    };
    add_sizes(&mut catalog, sizes, &session_user(conn)?);
    Ok(catalog)
}

fn object_rows(conn: &Connection, owners: Option<&[String]>) -> Result<ObjectRows, OracleError> {
    let context = "reading ALL_INDEXES";
    let indexes = read(conn, &sql::indexes_query(owners), context, |row| {
        Ok(IndexRow {
            owner: required(row, 0, context)?,
            name: required(row, 1, context)?,
            table_owner: required(row, 2, context)?,
            table: required(row, 3, context)?,
            unique: flag(row, 4, context, "UNIQUE")?,
            index_type: required(row, 5, context)?,
            indextype: text(row, 6, context)?,
            column: required(row, 7, context)?,
            expression: text(row, 8, context)?,
        })
    })?;
    let mut views = Vec::new();
    for (query, context, materialized) in [
        (sql::views_query(owners), "reading ALL_VIEWS", false),
        (sql::mviews_query(owners), "reading ALL_MVIEWS", true),
    ] {
        views.extend(read(conn, &query, context, |row| {
            Ok(ViewRow {
                owner: required(row, 0, context)?,
                name: required(row, 1, context)?,
                text: required(row, 2, context)?,
                materialized,
            })
        })?);
    }
    let context = "reading ALL_SEQUENCES";
    let sequences = read(conn, &sql::sequences_query(owners), context, |row| {
        Ok(SequenceRow {
            owner: required(row, 0, context)?,
            name: required(row, 1, context)?,
            min_value: text(row, 2, context)?,
            max_value: text(row, 3, context)?,
            increment: text(row, 4, context)?,
            cycle: flag(row, 5, context, "Y")?,
            last_number: text(row, 6, context)?,
        })
    })?;
    let context = "reading ALL_SYNONYMS";
    let synonyms = read(conn, &sql::synonyms_query(owners), context, |row| {
        Ok(SynonymRow {
            owner: required(row, 0, context)?,
            name: required(row, 1, context)?,
            table_owner: text(row, 2, context)?,
            table: required(row, 3, context)?,
        })
    })?;
    let context = "reading ALL_SOURCE";
    let sources = read(conn, &sql::source_query(owners), context, |row| {
        Ok(SourceRow {
            owner: required(row, 0, context)?,
            name: required(row, 1, context)?,
            kind: required(row, 2, context)?,
            text: required(row, 4, context)?,
        })
    })?;
    let context = "reading ALL_DB_LINKS";
    let db_links = read(conn, &sql::db_links_query(owners), context, |row| {
        Ok(DbLinkRow {
            owner: required(row, 0, context)?,
            name: required(row, 1, context)?,
            host: text(row, 2, context)?,
        })
    })?;
    let context = "reading ALL_TAB_PARTITIONS";
    let partitions = read(conn, &sql::partitions_query(owners), context, |row| {
        Ok(PartitionRow {
            owner: required(row, 0, context)?,
            table: required(row, 1, context)?,
            name: required(row, 2, context)?,
            high_value: text(row, 3, context)?,
            method: required(row, 4, context)?,
            interval: text(row, 5, context)?,
        })
    })?;
    let context = "reading ALL_PART_KEY_COLUMNS";
    let partition_keys = read(conn, &sql::partition_keys_query(owners), context, |row| {
        Ok(PartitionKeyRow {
            owner: required(row, 0, context)?,
            table: required(row, 1, context)?,
            column: required(row, 2, context)?,
        })
    })?;
    Ok(ObjectRows {
        indexes,
        views,
        sequences,
        synonyms,
        sources,
        db_links,
        partitions,
        partition_keys,
    })
}

/// Reads `statement`'s single column from every row.
fn strings(conn: &Connection, statement: &str, context: &str) -> Result<Vec<String>, OracleError> {
    rows(conn, statement, context)?
        .iter()
        .map(|row| required(row, 0, context))
        .collect()
}

/// The facts of the preflight: redo settings and LogMiner's privileges from `capture` (where
/// LogMiner runs), table access and value lengths from `conn`.
fn preflight_facts(
    conn: &Connection,
    capture: &Connection,
    tables: &[Table],
    options: &PreflightOptions,
) -> Result<PreflightFacts, OracleError> {
    let mut facts = PreflightFacts {
        user: session_user(conn)?,
        capture_user: session_user(capture)?,
        ..PreflightFacts::default()
    };
    let context = "reading V$DATABASE";
    facts.redo = match capture
        .query_row(sql::REDO_SETTINGS, &[])
        .map_err(db(context))
    {
        Ok(row) => Some(RedoSettings {
            log_mode: required(&row, 0, context)?,
            supplemental_min: required(&row, 1, context)?,
            supplemental_all: required(&row, 2, context)?,
        }),
        Err(error) if not_allowed(&error) => None,
        Err(error) => return Err(error),
    };
    let owners: Vec<String> = tables
        .iter()
        .filter_map(|t| t.name.schema.as_ref().map(|s| s.value.clone()))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if facts
        .redo
        .as_ref()
        .is_some_and(|r| r.supplemental_all != "YES")
        && !owners.is_empty()
    {
        let context = "reading ALL_LOG_GROUPS";
        facts.logged_tables = read(
            capture,
            &sql::table_log_groups_query(Some(&owners)),
            context,
            |row| Ok((required(row, 0, context)?, required(row, 1, context)?)),
        )?
        .into_iter()
        .collect();
    }
    facts.privileges = strings(capture, sql::SESSION_PRIVILEGES, "reading SESSION_PRIVS")?
        .into_iter()
        .collect();
    let context = "reading ALL_PROCEDURES";
    let row = capture
        .query_row(sql::LOGMINER_PACKAGE, &[])
        .map_err(db(context))?;
    facts.logminer_package = number(&row, 0, context)?.unwrap_or(0) > 0;
    for view in sql::CAPTURE_VIEWS {
        match capture.query(&sql::probe_view(view), &[]).map_err(db(view)) {
            Ok(_) => {}
            Err(error) if not_allowed(&error) => facts.unreadable_views.push(view.to_string()),
            Err(error) => return Err(error),
        }
    }
    for table in tables {
        let object = table.name.to_string();
        let access = match conn
            .query(&sql::probe_table(table), &[])
            .map_err(db(&object))
        {
            Ok(_) => TableAccess::Readable,
            Err(OracleError::Database {
                code: Some(942), ..
            }) => TableAccess::NoSelect,
            Err(OracleError::Database {
                code: Some(1031), ..
            }) => TableAccess::NoFlashback,
            Err(error) => {
                // Another answer (ORA-01466 right after DDL, ...) says nothing about privileges.
                tracing::warn!(table = %object, %error, "flashback probe failed; privileges assumed present");
                TableAccess::Readable
            }
        };
        facts.table_access.push((table.name.clone(), access));
    }
    let Some(limit) = options.max_value_bytes else {
        return Ok(facts);
    };
    for (table, (_, access)) in tables.iter().zip(&facts.table_access) {
        if *access != TableAccess::Readable {
            continue;
        }
        let candidates: Vec<(&str, &str)> = table
            .columns
            .iter()
            .filter(|c| may_exceed(&c.data_type, limit))
            .map(|c| (c.name.value.as_str(), c.source_type.as_str()))
            .collect();
        let Some((statement, measured)) = sql::longest_values_query(table, &candidates) else {
            facts.unmeasured.extend(
                candidates
                    .iter()
                    .map(|(c, _)| format!("{}.{c}", table.name)),
            );
            continue;
        };
        facts.unmeasured.extend(
            candidates
                .iter()
                .filter(|(c, _)| !measured.iter().any(|(m, _)| m == c))
                .map(|(c, _)| format!("{}.{c}", table.name)),
        );
        let context = format!("measuring the longest values of {}", table.name);
        let row = conn.query_row(&statement, &[]).map_err(db(&context))?;
        for (i, (column, unit)) in measured.into_iter().enumerate() {
            facts.longest.push(LongestValue {
                object: format!("{}.{column}", table.name),
                longest: scn(&row, i, &context)?,
                unit,
            });
        }
    }
    Ok(facts)
}
