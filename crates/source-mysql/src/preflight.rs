//! Replication preflight of a MySQL or MariaDB source (Amazon RDS and Aurora included): the
//! checks `migrate assess` reports (DMS premigration assessment, and more). `migrate replicate`
//! does not run them: it stops on the same conditions when it meets them.

use crate::connect::{get, Flavor};
use crate::{quote_ident, MysqlSource, SourceError};
use migrate_core::{
    catalog_checks, may_exceed, truncation_check, Catalog, PreflightCheck, PreflightOptions,
    ReplicationMode, Table,
};
use migrate_source::MeasuredKey;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row};
use std::collections::HashMap;

const VARIABLES: &str = "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('log_bin', 'binlog_format',
  'binlog_row_image', 'binlog_row_metadata', 'log_bin_compress', 'binlog_transaction_compression',
  'gtid_mode', 'gtid_strict_mode', 'server_id', 'binlog_expire_logs_seconds', 'expire_logs_days')";

/// Global privileges of the current account (roles granted to it are not expanded).
const PRIVILEGES: &str = "SELECT PRIVILEGE_TYPE FROM information_schema.USER_PRIVILEGES
 WHERE GRANTEE = CONCAT('''', SUBSTRING_INDEX(CURRENT_USER(), '@', 1), '''@''',
                        SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''')";

/// Server error "SELECT command denied".
const ER_TABLEACCESS_DENIED: u16 = 1142;

/// Server error "Table doesn't exist".
const ER_NO_SUCH_TABLE: u16 = 1146;

/// Seconds in a day: binlogs kept for less make a stopped task likely to find its position
/// purged.
const DAY_SECONDS: f64 = 86_400.0;

/// Amazon RDS and Aurora keep binlogs for their own setting, not the server variables: the
/// value of `binlog retention hours` (NULL by default: purged within minutes). No such table
/// elsewhere.
const RDS_RETENTION: &str =
    "SELECT value FROM mysql.rds_configuration WHERE name = 'binlog retention hours'";

/// The object of `preflight.binlog-retention`.
const RETENTION_OBJECT: &str = "binlog retention";

/// Where the server's binlog retention is set.
#[derive(Debug, Clone, Copy)]
enum Retention<'a> {
    /// `binlog_expire_logs_seconds`, else `expire_logs_days`, as `SHOW GLOBAL VARIABLES`
    /// prints them.
    Variables {
        seconds: Option<&'a str>,
        days: Option<&'a str>,
    },
    /// Amazon RDS's `binlog retention hours` (`None`: NULL).
    Rds { hours: Option<&'a str> },
}

/// How long the server keeps binlogs, and what that means for a stopped task.
fn binlog_retention(retention: Retention<'_>) -> PreflightCheck {
    let number = |v: Option<&str>| v.and_then(|v| v.trim().parse::<f64>().ok()).unwrap_or(0.0);
    let (seconds, action) = match retention {
        Retention::Variables { seconds, days } => {
            let seconds = match number(seconds) {
                s if s > 0.0 => s,
                _ => number(days) * DAY_SECONDS,
            };
            if seconds <= 0.0 {
                return PreflightCheck::passed(
                    "preflight.binlog-retention",
                    RETENTION_OBJECT,
                    "binlogs are not purged by age (binlog_expire_logs_seconds and expire_logs_days are 0)",
                );
            }
            (seconds, "keep binlogs at least as long as a task may stay stopped: SET GLOBAL binlog_expire_logs_seconds = 86400 (or more), and in the server configuration")
        }
        Retention::Rds { hours: setting } => {
            const RDS_ACTION: &str = "keep binlogs at least as long as a task may stay stopped: CALL mysql.rds_set_configuration('binlog retention hours', 24) (or more)";
            let hours = number(setting);
            if hours <= 0.0 {
                return PreflightCheck::warning(
                    "preflight.binlog-retention",
                    RETENTION_OBJECT,
                    format!("Amazon RDS: binlog retention hours is {}, so binlogs are purged within minutes: a task stopped briefly, or falling behind, can't resume and must start over with a full load (--restart)", setting.unwrap_or("NULL")),
                    RDS_ACTION,
                );
            }
            (hours * 3_600.0, RDS_ACTION)
        }
    };
    let rds = if matches!(retention, Retention::Rds { .. }) {
        "Amazon RDS binlog retention hours: "
    } else {
        ""
    };
    let kept = if seconds % DAY_SECONDS == 0.0 {
        format!("{} day(s)", seconds / DAY_SECONDS)
    } else {
        format!("{:.1} hour(s)", seconds / 3_600.0)
    };
    if seconds < DAY_SECONDS {
        PreflightCheck::warning(
            "preflight.binlog-retention",
            RETENTION_OBJECT,
            format!("{rds}binlogs are purged after {kept}: a task stopped longer than that can't resume and must start over with a full load (--restart)"),
            action,
        )
    } else {
        PreflightCheck::passed(
            "preflight.binlog-retention",
            RETENTION_OBJECT,
            format!("{rds}binlogs are kept {kept}: a task stopped longer than that must start over with a full load (--restart)"),
        )
    }
}

/// Every preflight check of `catalog` (as [`MysqlSource::discover`] returned it):
///
/// - always: SELECT on each table (probed with `SELECT ... LIMIT 0`), a row identity per table,
///   LOB columns without a key, values longer than `options.max_value_bytes` (measured with
///   `max(octet_length(...))`: a full scan of each such column);
/// - for CDC: `log_bin`, `binlog_format = ROW`, `binlog_row_image = FULL`,
///   `binlog_row_metadata = FULL`, no binlog compression (`log_bin_compress`,
///   `binlog_transaction_compression`: compressed events can't be decoded and rows would be
///   lost), GTID mode, how long binlogs are kept (a task stopped longer can't resume), and the
///   REPLICATION SLAVE and REPLICATION CLIENT (MariaDB: BINLOG MONITOR) privileges.
///
/// Passed checks are reported too (aggregated per code where there would be one per table).
/// Reads only; changes nothing on the server.
pub async fn preflight(
    source: &MysqlSource,
    catalog: &Catalog,
    options: &PreflightOptions,
) -> Result<Vec<PreflightCheck>, SourceError> {
    let cdc = options.mode == ReplicationMode::FullLoadAndCdc;
    let mut checks = Vec::new();
    let mut conn = source.conn.lock().await;
    let context = "reading replication settings";
    let user: String = crate::connect::first(&mut conn, "SELECT CURRENT_USER()", context)
        .await?
        .unwrap_or_default();
    if cdc {
        let rows: Vec<Row> = conn
            .query(VARIABLES)
            .await
            .map_err(SourceError::query(context))?;
        let mut vars = HashMap::new();
        for mut row in rows {
            let name: String = get(&mut row, 0, context)?.unwrap_or_default();
            let value: String = get(&mut row, 1, context)?.unwrap_or_default();
            vars.insert(name, value.to_ascii_uppercase());
        }
        let var = |name: &str| vars.get(name).map(String::as_str);
        let required_setting = |code: &str, name: &str, wanted: &str, fix: &str| match var(name) {
            Some(value) if value == wanted => {
                PreflightCheck::passed(code, name, format!("{name} = {value}"))
            }
            Some(value) => PreflightCheck::blocker(
                code,
                name,
                format!("{name} = {value}: CDC needs {wanted}"),
                fix,
            ),
            None => PreflightCheck::blocker(
                code,
                name,
                format!("{name} is not set on this server"),
                fix,
            ),
        };
        checks.push(required_setting(
            "preflight.log-bin",
            "log_bin",
            "ON",
            "start the server with --log-bin (and a server-id), then restart",
        ));
        checks.push(required_setting(
            "preflight.binlog-format",
            "binlog_format",
            "ROW",
            "SET GLOBAL binlog_format = 'ROW' and put binlog_format=ROW in the server configuration",
        ));
        checks.push(required_setting(
            "preflight.binlog-row-image",
            "binlog_row_image",
            "FULL",
            "SET GLOBAL binlog_row_image = 'FULL' and put it in the server configuration: other images leave columns out of updates",
        ));
        checks.push(match var("binlog_row_metadata") {
            Some("FULL") => PreflightCheck::passed("preflight.binlog-row-metadata", "binlog_row_metadata", "binlog_row_metadata = FULL"),
            Some(value) => PreflightCheck::warning(
                "preflight.binlog-row-metadata",
                "binlog_row_metadata",
                format!("binlog_row_metadata = {value}: row events carry no column names, so columns are matched by position with the catalog"),
                "SET GLOBAL binlog_row_metadata = 'FULL' so that schema changes during CDC are detected",
            ),
            None => PreflightCheck::warning(
                "preflight.binlog-row-metadata",
                "binlog_row_metadata",
                "the server has no binlog_row_metadata (MySQL before 8.0, MariaDB before 10.5): columns are matched by position",
                "upgrade the server, or avoid schema changes while CDC runs",
            ),
        });
        let compressed: Vec<&str> = ["log_bin_compress", "binlog_transaction_compression"]
            .into_iter()
            .filter(|name| var(name) == Some("ON"))
            .collect();
        checks.push(if compressed.is_empty() {
            PreflightCheck::passed("preflight.binlog-compression", "binlog compression", "binlog events are not compressed")
        } else {
            PreflightCheck::blocker(
                "preflight.binlog-compression",
                compressed.join(", "),
                format!("{} = ON: compressed binlog events can't be decoded, so their rows would be lost", compressed.join(", ")),
                format!("SET GLOBAL {} = OFF (events already written compressed are still unreadable: start CDC after the switch)", compressed[0]),
            )
        });
        checks.push(match (source.flavor(), var("gtid_mode")) {
            (Flavor::MariaDb(..), _) => PreflightCheck::passed(
                "preflight.gtid-mode",
                "gtid",
                format!("MariaDB GTIDs are always on (gtid_strict_mode = {})", var("gtid_strict_mode").unwrap_or("?")),
            ),
            (_, Some("ON")) => PreflightCheck::passed("preflight.gtid-mode", "gtid_mode", "gtid_mode = ON"),
            (_, value) => PreflightCheck::warning(
                "preflight.gtid-mode",
                "gtid_mode",
                format!("gtid_mode = {}: CDC resumes by binlog file and position only, which a failover to a replica loses", value.unwrap_or("unset")),
                "enable GTIDs (gtid_mode = ON, enforce_gtid_consistency = ON) to resume across failovers",
            ),
        });
        // Elsewhere the table does not exist: the variables decide.
        let variables = Retention::Variables {
            seconds: var("binlog_expire_logs_seconds"),
            days: var("expire_logs_days"),
        };
        checks.push(match conn.query_first::<Row, _>(RDS_RETENTION).await {
            Ok(Some(mut row)) => {
                let hours = get::<String>(&mut row, 0, "reading binlog retention hours")?;
                binlog_retention(Retention::Rds {
                    hours: hours.as_deref(),
                })
            }
            Ok(None) => binlog_retention(Retention::Rds { hours: None }),
            Err(mysql_async::Error::Server(e)) if e.code == ER_NO_SUCH_TABLE => {
                binlog_retention(variables)
            }
            Err(mysql_async::Error::Server(e)) if e.code == ER_TABLEACCESS_DENIED => {
                PreflightCheck::warning(
                    "preflight.binlog-retention",
                    RETENTION_OBJECT,
                    "mysql.rds_configuration exists but this user can't read it: on Amazon RDS its binlog retention hours decides how long binlogs are kept (NULL by default: minutes), not the server variables",
                    "check it as the master user (CALL mysql.rds_show_configuration) and set it with CALL mysql.rds_set_configuration('binlog retention hours', 24) (or more)",
                )
            }
            Err(e) => return Err(SourceError::query("reading mysql.rds_configuration")(e)),
        });
        let rows: Vec<Row> = conn
            .query(PRIVILEGES)
            .await
            .map_err(SourceError::query("reading the user's privileges"))?;
        let mut privileges = Vec::new();
        for mut row in rows {
            privileges.push(
                get::<String>(&mut row, 0, "reading the user's privileges")?.unwrap_or_default(),
            );
        }
        let has = |p: &str| privileges.iter().any(|x| x == p || x == "SUPER");
        let mut missing = Vec::new();
        if !has("REPLICATION SLAVE") && !has("REPLICATION REPLICA") {
            missing.push("REPLICATION SLAVE");
        }
        if !has("REPLICATION CLIENT") && !has("BINLOG MONITOR") {
            missing.push(match source.flavor() {
                Flavor::MariaDb(..) => "BINLOG MONITOR",
                _ => "REPLICATION CLIENT",
            });
        }
        checks.push(if missing.is_empty() {
            PreflightCheck::passed(
                "preflight.replication-privilege",
                format!("user {user}"),
                "may read the binlog and its position",
            )
        } else {
            PreflightCheck::blocker(
                "preflight.replication-privilege",
                format!("user {user}"),
                format!(
                    "missing global privilege(s) {}: the binlog can't be read",
                    missing.join(" and ")
                ),
                format!("GRANT {} ON *.* TO {user}", missing.join(", ")),
            )
        });
    }
    checks.extend(catalog_checks(&catalog.tables, options));

    let mut selectable = 0;
    for table in &catalog.tables {
        let sql = format!("SELECT 1 FROM {} LIMIT 0", crate::table_sql_name(table));
        match conn.query_drop(&sql).await {
            Ok(()) => selectable += 1,
            Err(mysql_async::Error::Server(e)) if e.code == ER_TABLEACCESS_DENIED => {
                checks.push(PreflightCheck::blocker(
                    "preflight.select-privilege",
                    table.name.to_string(),
                    format!("user {user} has no SELECT on the table"),
                    format!("GRANT SELECT ON {} TO {user}", crate::table_sql_name(table)),
                ));
            }
            Err(e) => {
                return Err(SourceError::query(format!(
                    "checking SELECT on {}",
                    table.name
                ))(e))
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
    if let Some(limit) = options.max_value_bytes {
        for table in &catalog.tables {
            let columns: Vec<&str> = table
                .columns
                .iter()
                .filter(|c| may_exceed(&c.data_type, limit))
                .map(|c| c.name.value.as_str())
                .collect();
            if columns.is_empty()
                || checks.iter().any(|c| {
                    c.code == "preflight.select-privilege" && c.object == table.name.to_string()
                })
            {
                continue;
            }
            let lengths: Vec<String> = columns
                .iter()
                .map(|c| format!("OCTET_LENGTH({})", quote_ident(c)))
                .collect();
            let context = format!("measuring the longest values of {}", table.name);
            let longest = max_of(&mut conn, table, &lengths, &context).await?;
            for (column, longest) in columns.iter().zip(longest) {
                if let Some(longest) = longest {
                    checks.push(truncation_check(
                        format!("{}.{column}", table.name),
                        longest,
                        limit,
                    ));
                }
            }
        }
    }
    Ok(checks)
}

/// The widest value of each of `keys` (column names) of `table`, in bytes as the target stores
/// text (UTF-8, whatever the column's character set): the most, over the rows, of the sum of
/// the key's values' lengths (NULL counting 0). One full scan of the table for all keys. MySQL's
/// own indexes hold keys up to 3,072 bytes and a prefix key (`url(100)`) indexes only the start
/// of a longer value, so the source does not bound them as PostgreSQL's B-tree does.
pub(crate) async fn widest_keys(
    source: &MysqlSource,
    table: &Table,
    keys: &[Vec<String>],
) -> Result<Vec<MeasuredKey>, SourceError> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let expressions: Vec<String> = keys
        .iter()
        .map(|columns| {
            let lengths: Vec<String> = columns
                .iter()
                .map(|name| {
                    let character = table
                        .columns
                        .iter()
                        .find(|c| c.name.value == *name)
                        .is_some_and(|c| c.data_type.is_character());
                    match character {
                        true => format!(
                            "COALESCE(OCTET_LENGTH(CONVERT({} USING utf8mb4)), 0)",
                            quote_ident(name)
                        ),
                        false => format!("COALESCE(OCTET_LENGTH({}), 0)", quote_ident(name)),
                    }
                })
                .collect();
            lengths.join(" + ")
        })
        .collect();
    let context = format!("measuring the widest key values of {}", table.name);
    let mut conn = source.conn.lock().await;
    let widest = max_of(&mut conn, table, &expressions, &context).await?;
    Ok(expressions
        .into_iter()
        .zip(widest)
        .map(|(expression, widest)| MeasuredKey { widest, expression })
        .collect())
}

/// The most of each of `expressions` (integers) over the rows of `table`, in one scan; `None`
/// where there are no rows (or only NULLs).
async fn max_of(
    conn: &mut Conn,
    table: &Table,
    expressions: &[String],
    context: &str,
) -> Result<Vec<Option<u64>>, SourceError> {
    let select: Vec<String> = expressions.iter().map(|e| format!("MAX({e})")).collect();
    let sql = format!(
        "SELECT {} FROM {}",
        select.join(", "),
        crate::table_sql_name(table)
    );
    // An aggregate without GROUP BY gives one row, of NULLs for an empty table.
    let mut row: Row = conn
        .query_first(sql)
        .await
        .map_err(SourceError::query(context))?
        .ok_or_else(|| SourceError::Catalog {
            context: context.to_string(),
            message: "an aggregate without GROUP BY returned no row".into(),
        })?;
    (0..expressions.len())
        .map(|i| get::<u64>(&mut row, i, context))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use migrate_core::CheckStatus;

    #[test]
    fn binlog_retention_reads_either_setting() {
        let variables = |seconds, days| binlog_retention(Retention::Variables { seconds, days });
        // MySQL 8 (seconds; expire_logs_days deprecated at 0), MariaDB (both, in step), 5.7.
        let mysql8 = variables(Some("2592000"), Some("0"));
        assert_eq!(mysql8.status, CheckStatus::Passed);
        assert!(mysql8.message.contains("kept 30 day(s)"), "{mysql8:?}");
        let mariadb = variables(Some("604800"), Some("7.000000"));
        assert!(mariadb.message.contains("kept 7 day(s)"), "{mariadb:?}");
        let old = variables(None, Some("3"));
        assert!(old.message.contains("kept 3 day(s)"), "{old:?}");
        // Less than a day: a stopped task is likely to lose its position.
        let short = variables(Some("0"), Some("0.250000"));
        assert_eq!(short.status, CheckStatus::Warning);
        assert!(
            short.message.contains("purged after 6.0 hour(s)"),
            "{short:?}"
        );
        // Not purged by age.
        let never = variables(Some("0"), Some("0"));
        assert_eq!(never.status, CheckStatus::Passed);
        assert!(never.message.contains("not purged by age"), "{never:?}");
    }

    #[test]
    fn binlog_retention_on_rds_is_its_hours_setting() {
        let rds = |hours| binlog_retention(Retention::Rds { hours });
        let unset = rds(None);
        assert_eq!(unset.status, CheckStatus::Warning);
        assert!(unset.message.contains("NULL"), "{unset:?}");
        assert!(
            unset
                .fix
                .contains("rds_set_configuration('binlog retention hours', 24)"),
            "{unset:?}"
        );
        let short = rds(Some("12"));
        assert_eq!(short.status, CheckStatus::Warning);
        assert!(
            short.message.contains("purged after 12.0 hour(s)"),
            "{short:?}"
        );
        let week = rds(Some("168"));
        assert_eq!(week.status, CheckStatus::Passed);
        assert!(
            week.message
                .contains("RDS binlog retention hours: binlogs are kept 7 day(s)"),
            "{week:?}"
        );
    }
}
