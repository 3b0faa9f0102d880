//! Replication preflight of an Oracle source, without I/O: what the session and the database
//! answered ([`PreflightFacts`], read by `OracleSource::preflight`) into the checks `migrate
//! assess` reports, with the catalog-only checks shared by every source
//! ([`migrate_core::catalog_checks`]).

use crate::events::watched;
use crate::sql::{quote_ident, LengthUnit, WatchedTable};
use migrate_core::{
    catalog_checks, Catalog, PreflightCheck, PreflightOptions, QualifiedName, ReplicationMode,
    Table, TableKind,
};
use std::collections::HashSet;

/// `V$DATABASE`'s redo settings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RedoSettings {
    /// `ARCHIVELOG` or `NOARCHIVELOG`.
    pub log_mode: String,
    /// `SUPPLEMENTAL_LOG_DATA_MIN`: `YES`, `IMPLICIT` or `NO`.
    pub supplemental_min: String,
    /// `SUPPLEMENTAL_LOG_DATA_ALL`: `YES` or `NO`.
    pub supplemental_all: String,
}

/// What the full load's read of one table (`SELECT ... AS OF SCN`) answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableAccess {
    Readable,
    /// ORA-00942: no SELECT on the table.
    NoSelect,
    /// ORA-01031: SELECT, but no FLASHBACK (the full load reads `AS OF SCN`).
    NoFlashback,
}

/// The longest value of a column, as measured (`crate::sql::longest_values_query`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LongestValue {
    /// `OWNER.TABLE.COLUMN`.
    pub object: String,
    /// `None` when every value is NULL (or the table is empty).
    pub longest: Option<u64>,
    pub unit: LengthUnit,
}

/// What the preflight read from the server.
#[derive(Debug, Clone, Default)]
pub struct PreflightFacts {
    /// The source session's user (`USER`): the table checks name it.
    pub user: String,
    /// The user LogMiner runs as (`StreamOptions::logminer_url`'s session, else `user`): the
    /// redo and LogMiner checks name it.
    pub capture_user: String,
    /// `None` when the session can't read `V$DATABASE`.
    pub redo: Option<RedoSettings>,
    /// Tables with all-column supplemental logging of their own: (owner, table).
    pub logged_tables: HashSet<(String, String)>,
    /// `SESSION_PRIVS`: system privileges, direct or through enabled roles.
    pub privileges: HashSet<String>,
    /// Whether the session may execute `DBMS_LOGMNR`.
    pub logminer_package: bool,
    /// Views of [`crate::sql::CAPTURE_VIEWS`] the session can't read.
    pub unreadable_views: Vec<String>,
    /// The full load's read of each persistent table, by name.
    pub table_access: Vec<(QualifiedName, TableAccess)>,
    /// The longest values of the columns that may exceed the target's limit.
    pub longest: Vec<LongestValue>,
    /// Columns (`OWNER.TABLE.COLUMN`) that may exceed the target's limit but can't be measured
    /// (LONG, XMLTYPE...).
    pub unmeasured: Vec<String>,
}

/// The tables whose rows are migrated: not global temporary (rows belong to sessions) and not
/// external (rows are files outside the database).
pub fn persistent(table: &Table) -> bool {
    !matches!(
        table.kind,
        TableKind::GlobalTemporary | TableKind::Temporary | TableKind::External
    )
}

/// Every check, from the facts and the catalog (as `OracleSource::discover` returned it):
///
/// - always: SELECT and FLASHBACK on each table (the full load reads `AS OF SCN`), a row
///   identity per table, LOB columns without a key, values longer than
///   `options.max_value_bytes`;
/// - for CDC: ARCHIVELOG mode, minimal and all-column supplemental logging (database level or
///   per table), and what LogMiner needs: the LOGMINING and SELECT ANY TRANSACTION privileges,
///   EXECUTE on DBMS_LOGMNR, and the `V$` views of the redo logs and transactions.
///
/// Passed checks are reported too, aggregated where there would be one per table.
pub fn preflight_checks(
    catalog: &Catalog,
    facts: &PreflightFacts,
    options: &PreflightOptions,
) -> Vec<PreflightCheck> {
    let cdc = options.mode == ReplicationMode::FullLoadAndCdc;
    let user = &facts.user;
    let tables: Vec<&Table> = catalog.tables.iter().filter(|t| persistent(t)).collect();
    let mut checks = Vec::new();
    if cdc {
        checks.extend(redo_checks(&tables, facts));
        checks.push(logminer_check(facts));
    }
    let mut readable = 0;
    for (name, access) in &facts.table_access {
        let object = name.to_string();
        match access {
            TableAccess::Readable => readable += 1,
            TableAccess::NoSelect => checks.push(PreflightCheck::blocker(
                "preflight.select-privilege",
                object,
                format!("user {user} has no SELECT on the table"),
                format!("GRANT SELECT ON {} TO {user}", name.quoted_with(quote_ident)),
            )),
            TableAccess::NoFlashback => checks.push(PreflightCheck::blocker(
                "preflight.flashback-privilege",
                object,
                format!("user {user} may SELECT but not FLASHBACK the table: the full load reads every table AS OF one SCN"),
                format!("GRANT FLASHBACK ON {} TO {user} (or GRANT FLASHBACK ANY TABLE TO {user})", name.quoted_with(quote_ident)),
            )),
        }
    }
    if !cdc && facts.unreadable_views.iter().any(|v| v == "V$DATABASE") {
        checks.push(PreflightCheck::blocker(
            "preflight.select-privilege",
            "V$DATABASE",
            format!("user {user} can't read V$DATABASE: the full load reads its SCN (CURRENT_SCN) there"),
            format!("GRANT SELECT ON V_$DATABASE TO {user}"),
        ));
    }
    if readable > 0 {
        checks.push(PreflightCheck::passed(
            "preflight.select-privilege",
            format!("{readable} table(s)"),
            format!("user {user} may SELECT ... AS OF SCN (SELECT and FLASHBACK)"),
        ));
    }
    checks.extend(catalog_checks(tables.iter().copied(), options));
    if let Some(limit) = options.max_value_bytes {
        for value in &facts.longest {
            let Some(longest) = value.longest else {
                continue;
            };
            checks.push(match value.unit {
                LengthUnit::Bytes => {
                    migrate_core::truncation_check(value.object.clone(), longest, limit)
                }
                LengthUnit::Characters => characters_check(value.object.clone(), longest, limit),
            });
        }
        for object in &facts.unmeasured {
            checks.push(PreflightCheck::warning(
                "preflight.value-truncated",
                object.clone(),
                format!("the column's values can't be measured in the source (LONG or object type): some may be longer than the {limit} bytes the target holds"),
                "measure the longest value by hand, or move such values to S3 and keep a reference",
            ));
        }
    }
    checks
}

/// A CLOB's longest value in characters: UTF-8 needs 1 to 4 bytes each.
fn characters_check(object: String, characters: u64, limit: u64) -> PreflightCheck {
    if characters > limit {
        PreflightCheck::blocker(
            "preflight.value-truncated",
            object,
            format!("the longest value has {characters} characters, so at least {characters} bytes; the target holds at most {limit}"),
            "shorten or split those values, move them to S3 and keep a reference, or exclude the column",
        )
    } else if characters.saturating_mul(4) > limit {
        PreflightCheck::warning(
            "preflight.value-truncated",
            object,
            format!("the longest value has {characters} characters: {characters} to {} bytes in UTF-8, and the target holds at most {limit}", characters * 4),
            "check the longest values' byte length (LENGTHB(TO_CHAR(...)) on rows with DBMS_LOB.GETLENGTH near the limit), or move long values to S3",
        )
    } else {
        PreflightCheck::passed(
            "preflight.value-truncated",
            object,
            format!(
                "the longest value has {characters} characters, at most {} bytes (limit {limit})",
                characters * 4
            ),
        )
    }
}

fn redo_checks(tables: &[&Table], facts: &PreflightFacts) -> Vec<PreflightCheck> {
    let Some(redo) = &facts.redo else {
        let fix = format!("GRANT SELECT ON V_$DATABASE TO {} (or SELECT_CATALOG_ROLE), then run the preflight again", facts.capture_user);
        return vec![
            PreflightCheck::blocker(
                "preflight.archivelog",
                "V$DATABASE",
                "the log mode can't be read: V$DATABASE is not readable by this user",
                fix.clone(),
            ),
            PreflightCheck::blocker(
                "preflight.supplemental-logging",
                "V$DATABASE",
                "supplemental logging can't be read: V$DATABASE is not readable by this user",
                fix,
            ),
        ];
    };
    let mut checks = vec![if redo.log_mode == "ARCHIVELOG" {
        PreflightCheck::passed("preflight.archivelog", "database", "LOG_MODE = ARCHIVELOG")
    } else {
        PreflightCheck::blocker(
            "preflight.archivelog",
            "database",
            format!("LOG_MODE = {}: redo is overwritten before LogMiner can read it", redo.log_mode),
            "As SYSDBA: SHUTDOWN IMMEDIATE; STARTUP MOUNT; ALTER DATABASE ARCHIVELOG; ALTER DATABASE OPEN;",
        )
    }];
    if redo.supplemental_min == "NO" {
        checks.push(PreflightCheck::blocker(
            "preflight.supplemental-logging",
            "database",
            "SUPPLEMENTAL_LOG_DATA_MIN = NO: LogMiner can't rebuild row changes",
            "ALTER DATABASE ADD SUPPLEMENTAL LOG DATA;",
        ));
    }
    if redo.supplemental_all == "YES" {
        checks.push(PreflightCheck::passed(
            "preflight.supplemental-logging",
            "database",
            "SUPPLEMENTAL_LOG_DATA_ALL = YES: every table's changes carry all columns",
        ));
        return checks;
    }
    let mut logged = 0;
    for table in tables {
        let WatchedTable { owner, table: name } = watched(table);
        if facts.logged_tables.contains(&(owner.clone(), name.clone())) {
            logged += 1;
            continue;
        }
        checks.push(PreflightCheck::blocker(
            "preflight.supplemental-logging",
            format!("{owner}.{name}"),
            "the table's updates and deletes are not logged with all columns (no database-level or table-level (ALL) COLUMNS logging): before-images and unchanged columns would be missing",
            format!(
                "ALTER TABLE {}.{} ADD SUPPLEMENTAL LOG DATA (ALL) COLUMNS; (or ALTER DATABASE ADD SUPPLEMENTAL LOG DATA (ALL) COLUMNS;)",
                quote_ident(&owner),
                quote_ident(&name)
            ),
        ));
    }
    if logged > 0 {
        checks.push(PreflightCheck::passed(
            "preflight.supplemental-logging",
            format!("{logged} table(s)"),
            "all-column supplemental logging at table level",
        ));
    }
    checks
}

fn logminer_check(facts: &PreflightFacts) -> PreflightCheck {
    let user = &facts.capture_user;
    let mut missing: Vec<String> = ["LOGMINING", "SELECT ANY TRANSACTION"]
        .into_iter()
        .filter(|p| !facts.privileges.contains(*p))
        .map(str::to_string)
        .collect();
    if !facts.logminer_package {
        missing.push("EXECUTE ON DBMS_LOGMNR".into());
    }
    let views: Vec<String> = facts
        .unreadable_views
        .iter()
        .map(|v| format!("SELECT ON {}", v.replacen("V$", "V_$", 1)))
        .collect();
    missing.extend(views);
    if missing.is_empty() {
        return PreflightCheck::passed(
            "preflight.logminer-privilege",
            format!("user {user}"),
            "LOGMINING, SELECT ANY TRANSACTION, EXECUTE on DBMS_LOGMNR and the V$ views of redo and transactions",
        );
    }
    let grants: Vec<String> = missing
        .iter()
        .map(|m| format!("GRANT {m} TO {user};"))
        .collect();
    PreflightCheck::blocker(
        "preflight.logminer-privilege",
        format!("user {user}"),
        format!("missing for LogMiner: {}", missing.join(", ")),
        format!(
            "{} (as SYSDBA; in a multitenant database LogMiner runs as a common user in the root container: see docs/source-oracle.md)",
            grants.join(" ")
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use migrate_core::{
        CheckStatus, Column, Constraint, ConstraintKind, Ident, LogicalType, QualifiedName,
    };

    fn app(name: Ident) -> QualifiedName {
        QualifiedName::new(Some(Ident::new("APP")), name)
    }

    fn table(name: &str, keyed: bool, kind: TableKind) -> Table {
        let mut t = Table::new(app(Ident::new(name)));
        t.kind = kind;
        let mut id = Column::new(Ident::new("ID"), "NUMBER(10,0)", LogicalType::BigInt);
        id.nullable = false;
        t.columns.push(id);
        t.columns
            .push(Column::new(Ident::new("DOC"), "CLOB", LogicalType::Text));
        if keyed {
            t.constraints.push(Constraint {
                name: None,
                kind: ConstraintKind::PrimaryKey(vec![Ident::new("ID")]),
                state: Default::default(),
                index: Default::default(),
            });
        }
        t
    }

    fn catalog() -> Catalog {
        Catalog {
            tables: vec![
                table("ORDERS", true, TableKind::Regular),
                table("LOOSE", false, TableKind::Regular),
                table("SCRATCH", false, TableKind::GlobalTemporary),
            ],
            ..Catalog::default()
        }
    }

    fn ready() -> PreflightFacts {
        PreflightFacts {
            user: "MIGRATE".into(),
            capture_user: "MIGRATE".into(),
            redo: Some(RedoSettings {
                log_mode: "ARCHIVELOG".into(),
                supplemental_min: "YES".into(),
                supplemental_all: "YES".into(),
            }),
            privileges: ["LOGMINING", "SELECT ANY TRANSACTION", "CREATE SESSION"]
                .into_iter()
                .map(String::from)
                .collect(),
            logminer_package: true,
            table_access: vec![
                (app(Ident::new("ORDERS")), TableAccess::Readable),
                (app(Ident::new("LOOSE")), TableAccess::Readable),
            ],
            ..PreflightFacts::default()
        }
    }

    fn options(mode: ReplicationMode) -> PreflightOptions {
        PreflightOptions {
            mode,
            max_value_bytes: Some(65_535),
        }
    }

    fn status(checks: &[PreflightCheck], code: &str, object: &str) -> Vec<CheckStatus> {
        checks
            .iter()
            .filter(|c| c.code == code && c.object == object)
            .map(|c| c.status)
            .collect()
    }

    #[test]
    fn a_ready_database_passes_and_keys_and_lobs_come_from_the_catalog() {
        let checks = preflight_checks(
            &catalog(),
            &ready(),
            &options(ReplicationMode::FullLoadAndCdc),
        );
        for (code, object) in [
            ("preflight.archivelog", "database"),
            ("preflight.supplemental-logging", "database"),
            ("preflight.logminer-privilege", "user MIGRATE"),
            ("preflight.select-privilege", "2 table(s)"),
        ] {
            assert_eq!(
                status(&checks, code, object),
                [CheckStatus::Passed],
                "{code}: {checks:#?}"
            );
        }
        // The table without a key blocks CDC, and so do its LOBs; the temporary table is not
        // replicated, so it is not checked.
        assert_eq!(
            status(&checks, "preflight.no-key", "APP.LOOSE"),
            [CheckStatus::Blocker]
        );
        assert_eq!(
            status(&checks, "preflight.lob-without-key", "APP.LOOSE"),
            [CheckStatus::Blocker]
        );
        assert!(
            checks.iter().all(|c| !c.object.contains("SCRATCH")),
            "{checks:#?}"
        );
        // A full load only: no redo checks, and a missing key is a warning.
        let checks = preflight_checks(&catalog(), &ready(), &options(ReplicationMode::FullLoad));
        assert!(checks.iter().all(|c| c.code != "preflight.archivelog"));
        assert_eq!(
            status(&checks, "preflight.no-key", "APP.LOOSE"),
            [CheckStatus::Warning]
        );
        // ... but it reads its SCN from V$DATABASE.
        let mut facts = ready();
        facts.unreadable_views = vec!["V$DATABASE".into()];
        let checks = preflight_checks(&catalog(), &facts, &options(ReplicationMode::FullLoad));
        assert_eq!(
            status(&checks, "preflight.select-privilege", "V$DATABASE"),
            [CheckStatus::Blocker]
        );
    }

    #[test]
    fn redo_settings_and_privileges_name_what_to_run() {
        let mut facts = ready();
        facts.redo = Some(RedoSettings {
            log_mode: "NOARCHIVELOG".into(),
            supplemental_min: "NO".into(),
            supplemental_all: "NO".into(),
        });
        facts.logged_tables.insert(("APP".into(), "ORDERS".into()));
        facts.privileges.remove("LOGMINING");
        facts.logminer_package = false;
        facts.unreadable_views = vec!["V$ARCHIVED_LOG".into()];
        facts.table_access[1].1 = TableAccess::NoFlashback;
        let checks = preflight_checks(
            &catalog(),
            &facts,
            &options(ReplicationMode::FullLoadAndCdc),
        );
        let archivelog = checks
            .iter()
            .find(|c| c.code == "preflight.archivelog")
            .unwrap();
        assert_eq!(archivelog.status, CheckStatus::Blocker);
        assert!(archivelog.fix.contains("ALTER DATABASE ARCHIVELOG"));
        assert_eq!(
            status(&checks, "preflight.supplemental-logging", "database"),
            [CheckStatus::Blocker]
        );
        assert_eq!(
            status(&checks, "preflight.supplemental-logging", "1 table(s)"),
            [CheckStatus::Passed]
        );
        let loose: Vec<&PreflightCheck> = checks
            .iter()
            .filter(|c| c.code == "preflight.supplemental-logging" && c.object == "APP.LOOSE")
            .collect();
        assert_eq!(loose.len(), 1);
        assert!(loose[0]
            .fix
            .starts_with("ALTER TABLE \"APP\".\"LOOSE\" ADD SUPPLEMENTAL LOG DATA (ALL) COLUMNS"));
        let logminer = checks
            .iter()
            .find(|c| c.code == "preflight.logminer-privilege")
            .unwrap();
        assert_eq!(logminer.status, CheckStatus::Blocker);
        assert_eq!(
            logminer.message,
            "missing for LogMiner: LOGMINING, EXECUTE ON DBMS_LOGMNR, SELECT ON V_$ARCHIVED_LOG"
        );
        assert!(logminer.fix.contains("GRANT LOGMINING TO MIGRATE;"));
        let flashback = checks
            .iter()
            .find(|c| c.code == "preflight.flashback-privilege")
            .unwrap();
        assert_eq!(
            (flashback.object.as_str(), flashback.status),
            ("APP.LOOSE", CheckStatus::Blocker)
        );
        assert!(flashback
            .fix
            .starts_with("GRANT FLASHBACK ON \"APP\".\"LOOSE\" TO MIGRATE"));
        // Without V$DATABASE nothing about redo can be said: blockers, not passes.
        facts.redo = None;
        let checks = preflight_checks(
            &catalog(),
            &facts,
            &options(ReplicationMode::FullLoadAndCdc),
        );
        assert_eq!(
            status(&checks, "preflight.archivelog", "V$DATABASE"),
            [CheckStatus::Blocker]
        );
    }

    #[test]
    fn grants_quote_each_part_of_the_name_as_stored() {
        let mut facts = ready();
        facts.table_access = vec![(app(Ident::quoted("Mixed.Case")), TableAccess::NoSelect)];
        let checks = preflight_checks(&catalog(), &facts, &options(ReplicationMode::FullLoad));
        let select = checks
            .iter()
            .find(|c| c.code == "preflight.select-privilege")
            .unwrap();
        assert_eq!(select.object, "APP.\"Mixed.Case\"");
        assert_eq!(
            select.fix,
            "GRANT SELECT ON \"APP\".\"Mixed.Case\" TO MIGRATE"
        );
    }

    #[test]
    fn capture_checks_name_the_capture_user_and_table_checks_the_source_user() {
        let mut facts = ready();
        facts.capture_user = "C##CAPTURE".into();
        facts.privileges.clear();
        facts.redo = None;
        facts.table_access[1].1 = TableAccess::NoFlashback;
        let checks = preflight_checks(
            &catalog(),
            &facts,
            &options(ReplicationMode::FullLoadAndCdc),
        );
        let fix = |code: &str| {
            checks
                .iter()
                .find(|c| c.code == code && c.status == CheckStatus::Blocker)
                .map(|c| c.fix.clone())
                .unwrap_or_else(|| panic!("{code}: {checks:#?}"))
        };
        assert!(fix("preflight.logminer-privilege").contains("GRANT LOGMINING TO C##CAPTURE;"));
        assert!(fix("preflight.archivelog").contains("TO C##CAPTURE"));
        assert!(fix("preflight.flashback-privilege").contains("TO MIGRATE"));
    }

    #[test]
    fn long_values_are_measured_in_bytes_or_bounded_from_characters() {
        let mut facts = ready();
        let value = |object: &str, longest, unit| LongestValue {
            object: object.into(),
            longest: Some(longest),
            unit,
        };
        facts.longest = vec![
            value("APP.ORDERS.NAME", 70_000, LengthUnit::Bytes),
            value("APP.ORDERS.DOC", 70_000, LengthUnit::Characters),
            value("APP.ORDERS.NOTE", 20_000, LengthUnit::Characters),
            value("APP.ORDERS.MEMO", 1_000, LengthUnit::Characters),
            LongestValue {
                object: "APP.ORDERS.EMPTY".into(),
                longest: None,
                unit: LengthUnit::Bytes,
            },
        ];
        facts.unmeasured = vec!["APP.ORDERS.OLD".into()];
        let checks = preflight_checks(&catalog(), &facts, &options(ReplicationMode::FullLoad));
        let truncation = |object: &str| status(&checks, "preflight.value-truncated", object);
        assert_eq!(truncation("APP.ORDERS.NAME"), [CheckStatus::Blocker]);
        assert_eq!(truncation("APP.ORDERS.DOC"), [CheckStatus::Blocker]);
        assert_eq!(truncation("APP.ORDERS.NOTE"), [CheckStatus::Warning]);
        assert_eq!(truncation("APP.ORDERS.MEMO"), [CheckStatus::Passed]);
        assert_eq!(truncation("APP.ORDERS.EMPTY"), []);
        assert_eq!(truncation("APP.ORDERS.OLD"), [CheckStatus::Warning]);
        // Without a limit (PostgreSQL target) nothing is measured against one.
        let no_limit = PreflightOptions {
            max_value_bytes: None,
            ..options(ReplicationMode::FullLoad)
        };
        let checks = preflight_checks(&catalog(), &facts, &no_limit);
        assert!(checks.iter().all(|c| c.code != "preflight.value-truncated"));
    }
}
