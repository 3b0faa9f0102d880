//! `migrate catalog`: moves a Hive metastore's databases, tables, views and partitions into the AWS
//! Glue Data Catalog, or to/from JSON-lines files for air-gapped moves.
//!
//! Flow: source (a [`Metastore`], or an export directory) -> filter (`--database`/`--table`) ->
//! convert to Glue inputs, rewriting locations ([`LocationMap`]) -> target (Glue, or an export
//! directory).
//!
//! Contracts:
//! - **Idempotent.** Every object is compared with what Glue already has, field by field: missing
//!   ones are created, different ones updated (`UpdateTable`, `BatchUpdatePartition`), equal ones
//!   left alone and counted as unchanged. A re-run after success changes nothing; a re-run after a
//!   partial failure finishes the job. Tables only in Glue are left alone (listed in the notes);
//!   partitions only in Glue are counted per table (the outcome is then never a match) and deleted
//!   only with [`Options::delete_extra_partitions`].
//! - **Stops whole.** A Glue call that fails transiently after all its retries, or an interrupt
//!   ([`Options::interrupt`]), stops the run: nothing more is sent, batches in flight are
//!   abandoned, and what was not done is counted as failed ([`Outcome::Stopped`]).
//! - **Batches.** Partitions are read in pages and written in batches of 100 (`BatchGetPartition`
//!   to compare, then `BatchCreatePartition` / `BatchUpdatePartition`), with up to
//!   [`Options::concurrency`] batches in flight; memory holds a few pages, never a whole table.
//! - **Honest report.** Every object selected ends up in exactly one count of [`Report`]: created,
//!   updated, unchanged, failed (with the reason), exported or skipped (with a note). A failure
//!   of one object does not stop the others. [`Report::outcome`] is never a success when
//!   something failed or when the filters selected nothing.
//! - **Fits Glue's limits.** Every object is checked against Glue's size limits (`limits.rs`)
//!   before anything is sent for it (dry runs and exports too): free text (descriptions, column
//!   comments) longer than Glue takes is cut, line breaks in a comment become spaces, with a
//!   warning finding; an object with a name, type, location, format, parameter or partition
//!   value that Glue would refuse is not sent and is failed like any other object, naming the
//!   field, its length and the limit.
//! - **Dry run.** Reads Glue, writes nothing; the report lists what would change, field by field.
//! - **Export/import.** JSON lines in `databases/`, `tables/`, `partitions/` (`part-00000.jsonl`),
//!   one object per line in Glue's input shape: `{"type":"table","database":"db","item":{...}}`, the
//!   layout AWS's Hive-to-Glue migration scripts use, and a `manifest.json` written last; an
//!   import checks the whole export against it before writing anything. Locations are rewritten
//!   when exporting (if a map is given) and again when importing (if one is given then).

mod convert;
mod diff;
mod filter;
mod jsonl;
mod limits;
mod report;

pub use convert::skewed_key;
pub use filter::{wildcard, Filter};
pub use report::{
    Action, Change, Counts, ExtraPartitions, Failure, FieldChange, LocationCounts, ObjectKind,
    Outcome, Report, MAX_LISTED,
};

use convert::Locations;
use futures::{StreamExt, TryStreamExt};
use migrate_core::{ErrorClass, Finding, LocationMap, Retry, Severity};
use migrate_glue::{
    DatabaseInput, GlueClient, GlueError, PartitionInput, TableInput, MAX_BATCH_CREATE,
    MAX_BATCH_DELETE,
};
use migrate_metastore::{Metastore, MetastoreError};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error(transparent)]
    Metastore(#[from] MetastoreError),
    /// Glue can't be used at all (unreachable, no permission, bad configuration): checked
    /// before anything is written.
    #[error("{0}")]
    Glue(#[from] GlueError),
    #[error("{path}: {message}")]
    Io { path: PathBuf, message: String },
    /// An export that can't be imported as a whole (no manifest, a file missing or changed).
    #[error("{path}: {message}")]
    BadExport { path: PathBuf, message: String },
    #[error("{path}, line {line}: {message}")]
    BadImport {
        path: PathBuf,
        line: u64,
        message: String,
    },
}

impl ErrorClass for CatalogError {
    fn retry(&self) -> Retry {
        match self {
            CatalogError::Metastore(e) => e.retry(),
            CatalogError::Glue(e) => e.retry(),
            _ => Retry::Definite,
        }
    }
}

/// Where objects come from.
pub enum Source<'a> {
    Metastore(&'a Metastore),
    /// A directory written by an export.
    Import(PathBuf),
}

/// Where objects go.
pub enum Target {
    Glue(GlueClient),
    /// A new (or empty) directory for JSON lines.
    Export(PathBuf),
}

#[derive(Debug, Clone)]
pub struct Options {
    pub filter: Filter,
    pub location_map: LocationMap,
    /// Compare with Glue and report, write nothing.
    pub dry_run: bool,
    /// Partition batches in flight at once.
    pub concurrency: usize,
    /// Partitions read from the metastore per page.
    pub page: usize,
    /// Delete the partitions that Glue has for a migrated table and the source does not. Off by
    /// default: crawlers and other writers add partitions to Glue that Hive never had.
    pub delete_extra_partitions: bool,
    /// Set to `true` to stop the run (SIGINT): nothing more is sent, what is in flight is
    /// abandoned, and the report says what was done and what was not.
    pub interrupt: Option<tokio::sync::watch::Receiver<bool>>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            filter: Filter::default(),
            location_map: LocationMap::default(),
            dry_run: false,
            concurrency: 8,
            page: migrate_metastore::DEFAULT_PAGE,
            delete_extra_partitions: false,
            interrupt: None,
        }
    }
}

/// Runs a migration and reports what happened. Errors are for what stops the whole run (the
/// metastore can't be read, Glue can't be reached, an export file can't be written); failures
/// of single objects are in the report.
pub async fn migrate(
    source: Source<'_>,
    target: &Target,
    options: &Options,
) -> Result<Report, CatalogError> {
    if let Source::Import(dir) = &source {
        // The whole export, before anything is written: a damaged line found halfway would
        // leave a table with part of its partitions.
        jsonl::validate(dir)?;
    }
    if let Target::Glue(glue) = target {
        // One cheap call first: a wrong endpoint, missing credentials or permissions stop here,
        // clearly, instead of failing every object.
        glue.get_database("migrate-preflight-check").await?;
    }
    let sink = Sink::new(target, options)?;
    let run = Run {
        sink,
        options,
        report: Mutex::new(Report {
            dry_run: options.dry_run,
            ..Report::default()
        }),
        locations: Mutex::new(Locations {
            map: Some(&options.location_map),
            ..Default::default()
        }),
        halt: tokio::sync::watch::channel(None).0,
        partitions_changed: Mutex::default(),
    };
    match source {
        Source::Metastore(m) => run.migrate_metastore(m).await?,
        Source::Import(dir) => run.migrate_import(&dir).await?,
    }
    let stopped = run.halted_because();
    if stopped.is_none() {
        // An export that stopped halfway gets no manifest: it can't be imported.
        run.sink.finish()?;
    }
    let partitions_changed = run
        .partitions_changed
        .into_inner()
        .unwrap_or_else(|e| e.into_inner());
    let mut report = run.report.into_inner().unwrap_or_else(|e| e.into_inner());
    for (table, (count, example)) in partitions_changed {
        report.findings.push(text_changed(
            table,
            format!("{count} partition(s), e.g. {example}"),
        ));
    }
    report.stopped = stopped;
    report.finish();
    let loc = run
        .locations
        .into_inner()
        .unwrap_or_else(|e| e.into_inner());
    report.locations = LocationCounts {
        rewritten: loc.rewritten,
        unmapped: loc.unmapped_count,
        unmapped_examples: loc.unmapped,
    };
    Ok(report)
}

struct Run<'a> {
    sink: Sink<'a>,
    options: &'a Options,
    report: Mutex<Report>,
    locations: Mutex<Locations<'a>>,
    /// Why nothing more is sent to Glue, once a call has failed after all its retries.
    halt: tokio::sync::watch::Sender<Option<String>>,
    /// Per table (`db.table`), its partitions whose free text was changed to fit Glue's limits:
    /// how many, and the first by name with what was changed (one finding per table, not one
    /// per partition).
    partitions_changed: Mutex<BTreeMap<String, (u64, String)>>,
}

enum Sink<'a> {
    Glue(&'a GlueClient),
    Export(Mutex<jsonl::Writer>),
}

impl<'a> Sink<'a> {
    fn new(target: &'a Target, options: &Options) -> Result<Sink<'a>, CatalogError> {
        Ok(match target {
            Target::Glue(g) => Sink::Glue(g),
            Target::Export(dir) => {
                if options.dry_run {
                    return Err(CatalogError::Io {
                        path: dir.clone(),
                        message: "a dry run compares with Glue; it can't export".into(),
                    });
                }
                Sink::Export(Mutex::new(jsonl::Writer::create(dir)?))
            }
        })
    }

    fn finish(&self) -> Result<(), CatalogError> {
        match self {
            Sink::Export(w) => w.lock().unwrap_or_else(|e| e.into_inner()).finish(),
            Sink::Glue(_) => Ok(()),
        }
    }
}

/// A partition's name for messages: `db.table/v1/v2`, with `%` and `/` in values escaped as
/// Hive escapes them in partition directories (`a/b` is `a%2Fb`), so that names are unambiguous.
fn partition_name(db: &str, table: &str, values: &[String]) -> String {
    let values: Vec<String> = values
        .iter()
        .map(|v| v.replace('%', "%25").replace('/', "%2F"))
        .collect();
    format!("{db}.{table}/{}", values.join("/"))
}

/// A partition's values as a small key: sets of these stand for a table's partitions in the
/// source while its Glue partitions are compared (16 bytes each, not the values). A collision
/// can only hide a Glue-only partition, never delete a partition the source has.
fn values_key(values: &[String]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    values.hash(&mut h);
    h.finish()
}

/// The warning for free text changed to fit Glue's limits ([`limits`]); `what`: the fields and
/// what was done to them.
fn text_changed(object: String, what: String) -> Finding {
    Finding::new(
        Severity::Warning,
        "catalog.text-changed",
        object,
        format!("free text the Glue Data Catalog refuses as it is was changed to fit: {what}"),
        "the whole text stays in the metastore (a table's comment also stays whole in its `comment` parameter in Glue); to choose how it reads in Glue, shorten it (or put it on one line) in Hive and re-run",
    )
}

/// The failure message for an object that breaks Glue's limits; `what_to_do` ends it.
fn refused(fit: &limits::Fit, what_to_do: &str) -> String {
    format!(
        "not sent: Glue would refuse it (ValidationException): {}. {what_to_do}",
        fit.refused.join("; ")
    )
}

/// Whether Glue had the table before this run (unknown counts as yes): only then can it have
/// partitions that the source does not.
fn glue_had(existing: Option<&HashMap<String, TableInput>>, table: &str) -> bool {
    existing.is_none_or(|e| e.contains_key(&table.to_lowercase()))
}

impl<'a> Run<'a> {
    fn report(&self) -> std::sync::MutexGuard<'_, Report> {
        self.report.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn locations(&self) -> std::sync::MutexGuard<'_, Locations<'a>> {
        self.locations.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Why the run sends nothing more: Glue stopped answering, or the user interrupted it.
    fn halted_because(&self) -> Option<String> {
        if let Some(reason) = self.halt.borrow().clone() {
            return Some(reason);
        }
        let interrupted = self.options.interrupt.as_ref().is_some_and(|i| *i.borrow());
        interrupted.then(|| "interrupted".to_string())
    }

    /// Resolves once the run is halted (never, if it isn't).
    async fn until_halted(&self) {
        let mut glue = self.halt.subscribe();
        let glue = async move {
            let _ = glue.wait_for(Option::is_some).await;
        };
        let interrupt = async {
            let stopped = match self.options.interrupt.clone() {
                Some(mut i) => i.wait_for(|stop| *stop).await.is_ok(),
                None => false,
            };
            if !stopped {
                // No interrupt, or its sender is gone: never.
                futures::future::pending::<()>().await;
            }
        };
        tokio::select! {
            _ = glue => {}
            _ = interrupt => {}
        }
    }

    /// Notes a failed Glue call: a transient error has already been retried to the limit, so
    /// Glue is taken as down and nothing more is sent (each batch would wait through its own
    /// retries otherwise).
    fn glue_failed(&self, e: &GlueError) {
        if e.retry() == Retry::Transient {
            self.halt.send_if_modified(|reason| {
                let first = reason.is_none();
                if first {
                    *reason = Some(format!("Glue stopped answering ({e})"));
                }
                first
            });
        }
    }

    /// A failure message for what was not sent because the run is halted.
    fn not_attempted(&self) -> Option<String> {
        self.halted_because()
            .map(|reason| format!("not attempted: the run stopped: {reason}"))
    }

    async fn migrate_metastore(&self, m: &Metastore) -> Result<(), CatalogError> {
        // Databases whose owner is not carried: Glue's databases have no owner.
        let mut owners = Vec::new();
        for db in m.databases().await? {
            if !self.options.filter.database(&db.name) {
                continue;
            }
            let tables: Vec<_> = m
                .tables(&db)
                .await?
                .into_iter()
                .filter(|t| self.options.filter.table(&db.name, &t.name))
                .collect();
            if tables.is_empty() && self.options.filter.selects_tables() {
                continue;
            }
            if db.kind.as_deref() == Some("REMOTE") {
                let mut r = self.report();
                r.databases.skipped += 1;
                r.notes.push(format!(
                    "database {}: a REMOTE (data connector) database; Glue has no equivalent, skipped",
                    db.name
                ));
                continue;
            }
            if let Some(managed) = &db.managed_location_uri {
                self.report().notes.push(format!(
                    "database {}: Hive 4 managed location {managed} has no Glue field; not carried (the database location is)",
                    db.name
                ));
            }
            if let Some(owner) = &db.owner_name {
                owners.push(match &db.owner_type {
                    Some(kind) => format!("{} ({owner}, {kind})", db.name),
                    None => format!("{} ({owner})", db.name),
                });
            }
            let input = convert::database(&db, &mut self.locations());
            let db_ok = self.database(input).await;
            let existing = if db_ok {
                self.existing_tables(&db.name).await
            } else {
                None
            };
            let mut seen = HashSet::new();
            for t in &tables {
                seen.insert(t.name.to_lowercase());
                let input = convert::table(t, &mut self.locations());
                let ok = if db_ok {
                    self.table(&db.name, input, existing.as_ref()).await
                } else {
                    self.report().fail(
                        ObjectKind::Table,
                        format!("{}.{}", db.name, t.name),
                        "not migrated: its database failed".into(),
                    );
                    false
                };
                if t.partition_keys.is_empty() {
                    continue;
                }
                if !ok {
                    let n = m.partition_count(t).await?;
                    self.report().fail_many(
                        ObjectKind::Partition,
                        n,
                        format!("{}.{} ({n} partitions)", db.name, t.name),
                        "not migrated: their table failed".into(),
                    );
                    continue;
                }
                // Only a table Glue had can have partitions there that the source does not:
                // the source's partitions are kept (hashed) for that comparison only.
                let compare = glue_had(existing.as_ref(), &t.name);
                let mut in_source = HashSet::new();
                let mut read = 0u64;
                let batches = m
                    .partition_pages(t, self.options.page)
                    .try_take_while(|_| futures::future::ready(Ok(self.halted_because().is_none())))
                    .map_ok(|page| {
                        read += page.len() as u64;
                        if compare {
                            in_source.extend(page.iter().map(|p| values_key(&p.values)));
                        }
                        let inputs: Vec<PartitionInput> = {
                            let mut loc = self.locations();
                            page.iter()
                                .map(|p| convert::partition(p, &mut loc))
                                .collect()
                        };
                        futures::stream::iter(
                            inputs
                                .chunks(MAX_BATCH_CREATE)
                                .map(|c| Ok::<_, MetastoreError>(c.to_vec()))
                                .collect::<Vec<_>>(),
                        )
                    })
                    .try_flatten();
                self.partition_batches(&db.name, &t.name, batches).await?;
                if let Some(reason) = self.halted_because() {
                    let rest = m.partition_count(t).await?.saturating_sub(read);
                    if rest > 0 {
                        self.report().fail_many(
                            ObjectKind::Partition,
                            rest,
                            format!("{}.{} ({rest} partitions)", db.name, t.name),
                            format!("not attempted: the run stopped: {reason}"),
                        );
                    }
                } else if compare {
                    self.extra_partitions(&db.name, &t.name, &in_source).await;
                }
            }
            self.note_only_in_glue(&db.name, existing.as_ref(), &seen);
        }
        if !owners.is_empty() {
            let shown = owners.len().min(10);
            self.report().notes.push(format!(
                "{} database owner(s) not carried: Glue databases have no owner; grant access with Lake Formation or IAM instead: {}{}",
                owners.len(),
                owners[..shown].join(", "),
                if owners.len() > shown { ", ..." } else { "" }
            ));
        }
        Ok(())
    }

    async fn migrate_import(&self, dir: &Path) -> Result<(), CatalogError> {
        // Databases and tables are few enough to go first, whole; partitions stream.
        let mut ok_databases = HashSet::new();
        // With --table patterns, only the databases of the tables they select.
        let mut with_selected_tables = HashSet::new();
        if self.options.filter.selects_tables() {
            for record in jsonl::read::<TableInput>(dir, "tables", "table")? {
                let record = record?;
                if let Some(database) = record.database {
                    if self.options.filter.table(&database, &record.item.name) {
                        with_selected_tables.insert(database.to_lowercase());
                    }
                }
            }
        }
        for record in jsonl::read::<DatabaseInput>(dir, "databases", "database")? {
            let mut db = record?.item;
            if !self.options.filter.database(&db.name)
                || (self.options.filter.selects_tables()
                    && !with_selected_tables.contains(&db.name.to_lowercase()))
            {
                continue;
            }
            self.locations().database(&mut db);
            let name = db.name.clone();
            if self.database(db).await {
                ok_databases.insert(name);
            }
        }
        let mut ok_tables = HashSet::new();
        let mut failed_tables = HashSet::new();
        // Partitioned tables that Glue had before: checked for partitions only Glue has.
        let mut to_check = Vec::new();
        let mut existing: Option<(String, Option<HashMap<String, TableInput>>)> = None;
        for record in jsonl::read::<TableInput>(dir, "tables", "table")? {
            let record = record?;
            let mut table = record.item;
            // A table line has its database: jsonl::read checks.
            let database = record.database.unwrap_or_default();
            if !self.options.filter.table(&database, &table.name) {
                continue;
            }
            let key = (database.to_lowercase(), table.name.to_lowercase());
            if !ok_databases.contains(&database) {
                self.report().fail(
                    ObjectKind::Table,
                    format!("{database}.{}", table.name),
                    "not migrated: its database failed or is not in the export".into(),
                );
                failed_tables.insert(key);
                continue;
            }
            if existing.as_ref().map(|(d, _)| d) != Some(&database) {
                existing = Some((database.clone(), self.existing_tables(&database).await));
            }
            self.locations().table(&mut table);
            let known = existing.as_ref().and_then(|(_, e)| e.as_ref());
            if !table.partition_keys.is_empty() && glue_had(known, &table.name) {
                to_check.push((key.clone(), database.clone(), table.name.clone()));
            }
            if self.table(&database, table, known).await {
                ok_tables.insert(key);
            } else {
                failed_tables.insert(key);
            }
        }
        // Consecutive lines of one table make its batches.
        let mut current: Option<(String, String)> = None;
        let mut batch: Vec<PartitionInput> = Vec::new();
        let mut batches: Vec<(String, String, Vec<PartitionInput>)> = Vec::new();
        // The partitions of the tables to check, hashed (see `values_key`); none of the others.
        let mut in_source: HashMap<(String, String), HashSet<u64>> = to_check
            .iter()
            .map(|(key, _, _)| (key.clone(), HashSet::new()))
            .collect();
        for record in jsonl::read::<PartitionInput>(dir, "partitions", "partition")? {
            let record = record?;
            // A partition line has both: jsonl::read checks.
            let (db, table) = (
                record.database.unwrap_or_default(),
                record.table.unwrap_or_default(),
            );
            let mut p = record.item;
            let key = (db.to_lowercase(), table.to_lowercase());
            if failed_tables.contains(&key) {
                let mut r = self.report();
                r.fail(
                    ObjectKind::Partition,
                    partition_name(&db, &table, &p.values),
                    "not migrated: its table failed".into(),
                );
                continue;
            }
            if !ok_tables.contains(&key) {
                // Filtered out, or a table the export doesn't have: the latter is an error.
                if self.options.filter.table(&db, &table) {
                    self.report().fail(
                        ObjectKind::Partition,
                        partition_name(&db, &table, &p.values),
                        "its table is not in the export".into(),
                    );
                }
                continue;
            }
            self.locations().partition(&mut p);
            if let Some(keys) = in_source.get_mut(&key) {
                keys.insert(values_key(&p.values));
            }
            if current.as_ref() != Some(&(db.clone(), table.clone()))
                || batch.len() == MAX_BATCH_CREATE
            {
                if let Some((d, t)) = current.take() {
                    batches.push((d, t, std::mem::take(&mut batch)));
                }
                current = Some((db, table));
            }
            batch.push(p);
            if batches.len() >= self.options.concurrency.max(1) {
                self.run_batches(std::mem::take(&mut batches)).await;
            }
        }
        if let Some((d, t)) = current {
            batches.push((d, t, batch));
        }
        self.run_batches(batches).await;
        for (key, db, table) in to_check {
            if ok_tables.contains(&key) && self.halted_because().is_none() {
                let keys = in_source.remove(&key).unwrap_or_default();
                self.extra_partitions(&db, &table, &keys).await;
            }
        }
        Ok(())
    }

    async fn run_batches(&self, batches: Vec<(String, String, Vec<PartitionInput>)>) {
        futures::stream::iter(batches)
            .map(|(d, t, b)| async move { self.partitions_until_halted(&d, &t, b).await })
            .buffer_unordered(self.options.concurrency.max(1))
            .for_each(|partial| async move { self.report().absorb(partial) })
            .await;
    }

    async fn partition_batches(
        &self,
        db: &str,
        table: &str,
        batches: impl futures::Stream<Item = Result<Vec<PartitionInput>, MetastoreError>>,
    ) -> Result<(), CatalogError> {
        batches
            .map_ok(|batch| async move { Ok(self.partitions_until_halted(db, table, batch).await) })
            .try_buffer_unordered(self.options.concurrency.max(1))
            .try_for_each(|partial| async move {
                self.report().absorb(partial);
                Ok(())
            })
            .await
            .map_err(CatalogError::from)
    }

    /// Counts the partitions Glue has for `db.table` that the source does not (`in_source`: their
    /// [`values_key`]s), and deletes them when asked to. Glue's partitions are walked a page at a
    /// time, after the table's own batches are done.
    async fn extra_partitions(&self, db: &str, table: &str, in_source: &HashSet<u64>) {
        let Sink::Glue(glue) = &self.sink else { return };
        let mut extra = ExtraPartitions {
            table: format!("{db}.{table}"),
            count: 0,
            deleted: 0,
            examples: Vec::new(),
        };
        let mut doomed = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let (page, next) = match glue
                .get_partitions_page(db, table, None, token.as_deref())
                .await
            {
                Ok(page) => page,
                // A dry run of a table that Glue doesn't have.
                Err(e) if e.code() == Some("EntityNotFoundException") => return,
                Err(e) => {
                    self.glue_failed(&e);
                    self.report().problem(
                        ObjectKind::Table,
                        extra.table,
                        format!("cannot list its partitions in Glue to find those the source does not have: {e}"),
                    );
                    return;
                }
            };
            for p in page {
                if in_source.contains(&values_key(&p.values)) {
                    continue;
                }
                extra.count += 1;
                if extra.examples.len() < 10 {
                    extra.examples.push(partition_name(db, table, &p.values));
                }
                if self.options.delete_extra_partitions {
                    doomed.push(p.values);
                }
            }
            token = next;
            if token.is_none() {
                break;
            }
        }
        if extra.count > 0 {
            extra.deleted = self.delete_partitions(glue, db, table, doomed).await;
            self.report().partitions_only_in_glue.push(extra);
        }
    }

    /// Deletes partitions (in a dry run, only lists them); how many are gone.
    async fn delete_partitions(
        &self,
        glue: &GlueClient,
        db: &str,
        table: &str,
        doomed: Vec<Vec<String>>,
    ) -> u64 {
        let deleted = |values: &[String]| Change {
            kind: ObjectKind::Partition,
            object: partition_name(db, table, values),
            action: Action::Delete,
            fields: Vec::new(),
        };
        if self.options.dry_run {
            let mut r = self.report();
            for values in &doomed {
                r.change(deleted(values));
            }
            return doomed.len() as u64;
        }
        futures::stream::iter(doomed.chunks(MAX_BATCH_DELETE))
            .map(|chunk| async move {
                let result = match self.not_attempted() {
                    Some(m) => Err(m),
                    None => glue
                        .batch_delete_partition(db, table, chunk)
                        .await
                        .map_err(|e| {
                            self.glue_failed(&e);
                            e.to_string()
                        }),
                };
                (chunk, result)
            })
            .buffer_unordered(self.options.concurrency.max(1))
            .fold(0, |count, (chunk, result)| async move {
                let mut r = self.report();
                let refused: HashMap<&Vec<String>, String> = match &result {
                    // Already gone is as good as deleted.
                    Ok(errors) => errors
                        .iter()
                        .filter(|e| e.code != "EntityNotFoundException")
                        .map(|e| (&e.values, format!("not deleted: {}: {}", e.code, e.message)))
                        .collect(),
                    Err(e) => chunk
                        .iter()
                        .map(|v| (v, format!("not deleted: {e}")))
                        .collect(),
                };
                for values in chunk {
                    match refused.get(values) {
                        Some(m) => r.problem(
                            ObjectKind::Partition,
                            partition_name(db, table, values),
                            m.clone(),
                        ),
                        None => r.change(deleted(values)),
                    }
                }
                count + (chunk.len() - refused.len()) as u64
            })
            .await
    }

    fn note_only_in_glue(
        &self,
        db: &str,
        existing: Option<&HashMap<String, TableInput>>,
        seen: &HashSet<String>,
    ) {
        let Some(existing) = existing else { return };
        let mut extra: Vec<&str> = existing
            .keys()
            .filter(|k| !seen.contains(*k) && self.options.filter.table(db, k))
            .map(String::as_str)
            .collect();
        if extra.is_empty() {
            return;
        }
        extra.sort_unstable();
        let shown: Vec<&str> = extra.iter().take(10).copied().collect();
        self.report().notes.push(format!(
            "database {db}: {} table(s) exist only in Glue and were left alone: {}{}",
            extra.len(),
            shown.join(", "),
            if extra.len() > shown.len() {
                ", ..."
            } else {
                ""
            }
        ));
    }

    /// Fits a database or table to Glue's limits ([`limits`]): the changed free text is reported;
    /// false (and the object failed) when it can't be sent at all.
    fn fits(&self, kind: ObjectKind, object: &str, fit: limits::Fit) -> bool {
        let mut r = self.report();
        if !fit.changed.is_empty() {
            r.findings
                .push(text_changed(object.to_string(), fit.changed.join(", ")));
        }
        if fit.refused.is_empty() {
            return true;
        }
        let what_to_do = match kind {
            ObjectKind::Database => "Shorten it in the metastore, or leave the database out with --database; its tables are not migrated either, the other databases are",
            _ => "Shorten it in the metastore, or leave the table out with --table; its partitions are not migrated either, the other tables are",
        };
        r.fail(kind, object.to_string(), refused(&fit, what_to_do));
        false
    }

    /// Creates or updates a database; false when it failed.
    async fn database(&self, mut input: DatabaseInput) -> bool {
        let name = input.name.clone();
        if !self.fits(ObjectKind::Database, &name, limits::database(&mut input)) {
            return false;
        }
        let glue = match &self.sink {
            Sink::Export(w) => {
                return self.export(ObjectKind::Database, &name, |w| w.database(&input), w);
            }
            Sink::Glue(g) => *g,
        };
        if let Some(m) = self.not_attempted() {
            self.report().fail(ObjectKind::Database, name, m);
            return false;
        }
        let existing = match glue.get_database(&name).await {
            Ok(e) => e,
            Err(e) => {
                self.glue_failed(&e);
                self.report()
                    .fail(ObjectKind::Database, name, e.to_string());
                return false;
            }
        };
        let (action, fields) = match &existing {
            None => (Action::Create, Vec::new()),
            // Glue lower-cases names; compare the rest.
            Some(e)
                if *e
                    == DatabaseInput {
                        name: e.name.clone(),
                        ..input.clone()
                    } =>
            {
                self.report().databases.unchanged += 1;
                return true;
            }
            Some(e) => (
                Action::Update,
                diff::fields(
                    e,
                    &DatabaseInput {
                        name: e.name.clone(),
                        ..input.clone()
                    },
                ),
            ),
        };
        if !self.options.dry_run {
            let result = match action {
                Action::Create => glue.create_database(&input).await,
                _ => glue.update_database(&input).await,
            };
            if let Err(e) = result {
                self.glue_failed(&e);
                self.report()
                    .fail(ObjectKind::Database, name, e.to_string());
                return false;
            }
        }
        self.record(ObjectKind::Database, name, action, fields);
        true
    }

    /// Tables Glue has in `db`, by lower-case name; `None` (and a failure noted) if it can't say.
    async fn existing_tables(&self, db: &str) -> Option<HashMap<String, TableInput>> {
        let Sink::Glue(glue) = &self.sink else {
            return Some(HashMap::new());
        };
        if self.halted_because().is_some() {
            return None;
        }
        if self.options.dry_run && glue.get_database(db).await.ok().flatten().is_none() {
            // A dry run did not create the database: Glue has no tables for it.
            return Some(HashMap::new());
        }
        match glue.get_tables(db).await {
            Ok(tables) => Some(
                tables
                    .into_iter()
                    .map(|t| (t.name.to_lowercase(), t))
                    .collect(),
            ),
            Err(e) => {
                self.glue_failed(&e);
                self.report().notes.push(format!(
                    "database {db}: cannot list its tables in Glue ({e}); each table is looked up on its own"
                ));
                None
            }
        }
    }

    /// Warnings for a table that Glue holds but that its readers can't read as it is: a Hive ACID
    /// table, an Iceberg table (its metadata files name the old locations), a table read through
    /// a Hive storage handler (its data is not in files).
    fn check_readable(&self, db: &str, input: &TableInput) {
        let param = |key: &str| input.parameters.get(key).map(String::as_str);
        let object = format!("{db}.{}", input.name);
        let mut findings = Vec::new();
        if param("transactional").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
            findings.push(Finding::new(
                Severity::Warning,
                "catalog.acid-table",
                object.clone(),
                "a Hive ACID table (transactional=true): its data is in base_/delta_ directories that only Hive's ACID reader merges. Athena and the other Glue Data Catalog readers without Hive ACID support (Spark, Glue jobs, Trino) can't read it correctly: queries fail, or return rows that were updated or deleted in Hive",
                "before the move, compact it in Hive (ALTER TABLE ... COMPACT 'major') and rewrite it as a plain table (CREATE TABLE ... STORED AS PARQUET AS SELECT * FROM it) or as Iceberg; migrate that table instead",
            ));
        }
        if param("table_type").is_some_and(|v| v.eq_ignore_ascii_case("ICEBERG")) {
            findings.push(Finding::new(
                Severity::Warning,
                "catalog.iceberg-table",
                object,
                "an Iceberg table: Glue gets its metadata_location (rewritten by --location-map like any location), but the metadata file it names, the manifest lists and the manifests hold the absolute path of every metadata and data file: once its files are copied elsewhere, readers still look for them at the old location (or find the metadata file missing)",
                "copy the table's files, then rewrite the paths inside them (Iceberg's rewrite_table_path procedure, Iceberg 1.8+) and point metadata_location at the rewritten metadata file; or re-create the table on S3 (CREATE TABLE ... USING iceberg AS SELECT ...) and migrate that one. A table whose files stay where they are needs nothing",
            ));
        } else if let Some(handler) = param("storage_handler") {
            findings.push(Finding::new(
                Severity::Warning,
                "catalog.storage-handler",
                object,
                format!("a table read through the Hive storage handler {handler}: its rows are not in files at its location but in another system (HBase, Kafka, a JDBC database, Druid...), which only Hive reaches through that class. Glue holds its definition, but Athena, Spark and Glue jobs can't read it through the Data Catalog"),
                "keep querying it from Hive, or reach that system another way (an Athena federated query connector, or a copy of its rows as a Parquet table migrated instead); leave it out with --table if it should not be in Glue",
            ));
        }
        self.report().findings.extend(findings);
    }

    /// Leaves out of `input` the table parameters that hold a password in plain text
    /// ([`is_password_parameter`]), with a warning: every principal allowed to read the table's
    /// definition in the Data Catalog would read them. Returns their names.
    fn withhold_passwords(&self, db: &str, input: &mut TableInput) -> Vec<String> {
        let withheld: Vec<String> = input
            .parameters
            .keys()
            .filter(|key| is_password_parameter(key))
            .cloned()
            .collect();
        if withheld.is_empty() {
            return withheld;
        }
        for key in &withheld {
            input.parameters.remove(key);
        }
        self.report().findings.push(Finding::new(
            Severity::Warning,
            "catalog.password-withheld",
            format!("{db}.{}", input.name),
            format!(
                "table parameter {} holds a password in plain text: it is not copied into the Glue Data Catalog, where every principal allowed to read the table's definition would read it",
                withheld.join(", ")
            ),
            "give the reader the secret another way (a Hadoop credential provider through hive.sql.dbcp.password.keystore, or AWS Secrets Manager for an Athena connector); add it to the Glue table by hand only if that exposure is accepted (later runs keep it)",
        ));
        withheld
    }

    /// Creates or updates a table; false when it failed.
    async fn table(
        &self,
        db: &str,
        mut input: TableInput,
        existing: Option<&HashMap<String, TableInput>>,
    ) -> bool {
        let object = format!("{db}.{}", input.name);
        let withheld = self.withhold_passwords(db, &mut input);
        if !self.fits(ObjectKind::Table, &object, limits::table(&mut input)) {
            return false;
        }
        self.check_readable(db, &input);
        let glue = match &self.sink {
            Sink::Export(w) => {
                return self.export(ObjectKind::Table, &object, |w| w.table(db, &input), w);
            }
            Sink::Glue(g) => *g,
        };
        if let Some(m) = self.not_attempted() {
            self.report().fail(ObjectKind::Table, object, m);
            return false;
        }
        let current = match existing {
            Some(map) => map.get(&input.name.to_lowercase()).cloned(),
            None => match glue.get_table(db, &input.name).await {
                Ok(t) => t,
                Err(e) => {
                    self.glue_failed(&e);
                    self.report().fail(ObjectKind::Table, object, e.to_string());
                    return false;
                }
            },
        };
        // A withheld password that someone put in Glue by hand stays there.
        if let Some(c) = &current {
            for key in &withheld {
                if let Some(value) = c.parameters.get(key) {
                    input.parameters.insert(key.clone(), value.clone());
                }
            }
        }
        let (action, fields) = match &current {
            None => (Action::Create, Vec::new()),
            Some(c) => {
                let wanted = TableInput {
                    name: c.name.clone(),
                    ..input.clone()
                };
                if *c == wanted {
                    self.report().tables.unchanged += 1;
                    return true;
                }
                (Action::Update, diff::fields(c, &wanted))
            }
        };
        if !self.options.dry_run {
            let result = match action {
                Action::Create => glue.create_table(db, &input).await,
                _ => glue.update_table(db, &input).await,
            };
            if let Err(e) = result {
                self.glue_failed(&e);
                self.report().fail(ObjectKind::Table, object, e.to_string());
                return false;
            }
        }
        self.record(ObjectKind::Table, object, action, fields);
        true
    }

    /// [`Self::partitions`], abandoned when the run halts meanwhile: its partitions are failed
    /// as not confirmed (a re-run compares them again).
    async fn partitions_until_halted(
        &self,
        db: &str,
        table: &str,
        batch: Vec<PartitionInput>,
    ) -> Report {
        let names: Vec<String> = batch
            .iter()
            .map(|p| partition_name(db, table, &p.values))
            .collect();
        tokio::select! {
            biased;
            done = self.partitions(db, table, batch) => done,
            _ = self.until_halted() => {
                let reason = self.halted_because().unwrap_or_default();
                let mut out = Report::default();
                for name in names {
                    out.fail(
                        ObjectKind::Partition,
                        name,
                        format!("not confirmed: the run stopped while it was being written: {reason}"),
                    );
                }
                out
            }
        }
    }

    /// The partitions of `batch` that fit Glue's limits ([`limits`]), their free text fitted; the
    /// others are failed in `out`, alone (in a batch call, one would fail the whole batch).
    fn fitting_partitions(
        &self,
        db: &str,
        table: &str,
        batch: Vec<PartitionInput>,
        out: &mut Report,
    ) -> Vec<PartitionInput> {
        let mut fitting = Vec::with_capacity(batch.len());
        for mut p in batch {
            let fit = limits::partition(&mut p);
            let name = partition_name(db, table, &p.values);
            if fit.refused.is_empty() {
                if !fit.changed.is_empty() {
                    // The first by name as the example: the same whatever order batches run in.
                    let example = format!("{name}: {}", fit.changed.join(", "));
                    let mut cut = self
                        .partitions_changed
                        .lock()
                        .unwrap_or_else(|e| e.into_inner());
                    let (count, first) = cut
                        .entry(format!("{db}.{table}"))
                        .or_insert_with(|| (0, example.clone()));
                    *count += 1;
                    if example < *first {
                        *first = example;
                    }
                }
                fitting.push(p);
            } else {
                out.fail(
                    ObjectKind::Partition,
                    name,
                    refused(
                        &fit,
                        "Change it in the metastore; the table's other partitions are migrated",
                    ),
                );
            }
        }
        fitting
    }

    /// One batch (at most 100) of one table's partitions; the outcome as a partial report.
    async fn partitions(&self, db: &str, table: &str, batch: Vec<PartitionInput>) -> Report {
        let mut out = Report::default();
        let batch = self.fitting_partitions(db, table, batch, &mut out);
        if batch.is_empty() {
            return out;
        }
        let glue = match &self.sink {
            Sink::Export(w) => {
                let mut w = w.lock().unwrap_or_else(|e| e.into_inner());
                for p in &batch {
                    match w.partition(db, table, p) {
                        Ok(()) => out.partitions.exported += 1,
                        Err(e) => out.fail(
                            ObjectKind::Partition,
                            partition_name(db, table, &p.values),
                            e.to_string(),
                        ),
                    }
                }
                return out;
            }
            Sink::Glue(g) => *g,
        };
        let fail_all = |out: &mut Report, batch: &[PartitionInput], message: String| {
            for p in batch {
                out.fail(
                    ObjectKind::Partition,
                    partition_name(db, table, &p.values),
                    message.clone(),
                );
            }
        };
        if let Some(m) = self.not_attempted() {
            fail_all(&mut out, &batch, m);
            return out;
        }
        let keys: Vec<Vec<String>> = batch.iter().map(|p| p.values.clone()).collect();
        let existing: BTreeMap<Vec<String>, PartitionInput> =
            match glue.batch_get_partition(db, table, &keys).await {
                Ok(found) => found.into_iter().map(|p| (p.values.clone(), p)).collect(),
                // A dry run of a table that doesn't exist yet: every partition is new.
                Err(e) if self.options.dry_run && e.code() == Some("EntityNotFoundException") => {
                    BTreeMap::new()
                }
                Err(e) => {
                    self.glue_failed(&e);
                    fail_all(&mut out, &batch, e.to_string());
                    return out;
                }
            };
        let mut create = Vec::new();
        let mut update = Vec::new();
        for p in batch {
            match existing.get(&p.values) {
                None => create.push(p),
                Some(e) if *e == p => out.partitions.unchanged += 1,
                Some(e) => {
                    let fields = diff::fields(e, &p);
                    update.push((p, fields));
                }
            }
        }
        let record = |out: &mut Report, p: &PartitionInput, action, fields| {
            let counts = &mut out.partitions;
            match action {
                Action::Create => counts.created += 1,
                Action::Update => counts.updated += 1,
                Action::Delete => {}
            }
            out.change(Change {
                kind: ObjectKind::Partition,
                object: partition_name(db, table, &p.values),
                action,
                fields,
            });
        };
        if self.options.dry_run {
            for p in &create {
                record(&mut out, p, Action::Create, Vec::new());
            }
            for (p, f) in update {
                record(&mut out, &p, Action::Update, f);
            }
            return out;
        }
        if !create.is_empty() {
            match glue.batch_create_partition(db, table, &create).await {
                Ok(errors) => {
                    let refused: HashMap<&Vec<String>, String> = errors
                        .iter()
                        .map(|e| (&e.values, format!("{}: {}", e.code, e.message)))
                        .collect();
                    for p in &create {
                        match refused.get(&p.values) {
                            Some(m) => out.fail(
                                ObjectKind::Partition,
                                partition_name(db, table, &p.values),
                                m.clone(),
                            ),
                            None => record(&mut out, p, Action::Create, Vec::new()),
                        }
                    }
                }
                Err(e) => {
                    self.glue_failed(&e);
                    fail_all(&mut out, &create, e.to_string());
                }
            }
        }
        if !update.is_empty() {
            let inputs: Vec<PartitionInput> = update.iter().map(|(p, _)| p.clone()).collect();
            match glue.batch_update_partition(db, table, &inputs).await {
                Ok(errors) => {
                    let refused: HashMap<&Vec<String>, String> = errors
                        .iter()
                        .map(|e| (&e.values, format!("{}: {}", e.code, e.message)))
                        .collect();
                    for (p, f) in update {
                        match refused.get(&p.values) {
                            Some(m) => out.fail(
                                ObjectKind::Partition,
                                partition_name(db, table, &p.values),
                                m.clone(),
                            ),
                            None => record(&mut out, &p, Action::Update, f),
                        }
                    }
                }
                Err(e) => {
                    self.glue_failed(&e);
                    fail_all(&mut out, &inputs, e.to_string());
                }
            }
        }
        out
    }

    fn record(&self, kind: ObjectKind, object: String, action: Action, fields: Vec<FieldChange>) {
        let mut r = self.report();
        let counts = r.counts_mut(kind);
        match action {
            Action::Create => counts.created += 1,
            Action::Update => counts.updated += 1,
            Action::Delete => {}
        }
        r.change(Change {
            kind,
            object,
            action,
            fields,
        });
    }

    fn export(
        &self,
        kind: ObjectKind,
        object: &str,
        write: impl FnOnce(&mut jsonl::Writer) -> Result<(), CatalogError>,
        writer: &Mutex<jsonl::Writer>,
    ) -> bool {
        let result = write(&mut writer.lock().unwrap_or_else(|e| e.into_inner()));
        match result {
            Ok(()) => {
                self.report().counts_mut(kind).exported += 1;
                true
            }
            Err(e) => {
                self.report().fail(kind, object.to_string(), e.to_string());
                false
            }
        }
    }
}
/// A parameter whose last dotted part names a password (`hive.sql.dbcp.password`, the JDBC
/// storage handler's): its value is a secret in plain text.
fn is_password_parameter(key: &str) -> bool {
    key.rsplit('.')
        .next()
        .is_some_and(|last| last.to_ascii_lowercase().contains("password"))
}
