//! What a run did, per object type, and every failure, change and location left unmapped.

use serde::Serialize;

/// Most changes and failures kept in a report; the rest are only counted.
pub const MAX_LISTED: usize = 1000;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub failed: u64,
    /// Written to a JSON-lines export (not to Glue).
    pub exported: u64,
    /// Skipped on purpose (see the notes), e.g. a Hive 4 REMOTE database.
    pub skipped: u64,
}

impl Counts {
    pub fn total(&self) -> u64 {
        self.created + self.updated + self.unchanged + self.failed + self.exported
    }

    fn add(&mut self, o: &Counts) {
        self.created += o.created;
        self.updated += o.updated;
        self.unchanged += o.unchanged;
        self.failed += o.failed;
        self.exported += o.exported;
        self.skipped += o.skipped;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    Database,
    Table,
    Partition,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Update,
    /// A partition that only Glue had, deleted (`--delete-extra-partitions`).
    Delete,
}

/// One field that differs between Glue and the metastore (`path` like
/// `StorageDescriptor.Location`); `None` is "absent".
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct FieldChange {
    pub path: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// An object created, updated or deleted (or that would be, in a dry run).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Change {
    pub kind: ObjectKind,
    /// `db`, `db.table` or `db.table/v1/v2` (a partition's values, `/` and `%` in them escaped
    /// as `%2F` and `%25`, as in Hive's partition directories).
    pub object: String,
    pub action: Action,
    /// For updates: what differs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldChange>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Failure {
    pub kind: ObjectKind,
    pub object: String,
    pub message: String,
}

/// Locations seen, when a location map was given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LocationCounts {
    pub rewritten: u64,
    /// Locations that no `--location-map` rule matched: they still point at the old storage.
    pub unmapped: u64,
    /// Up to 10 of them.
    pub unmapped_examples: Vec<String>,
}

/// The partitions Glue has for one table that the source does not (dropped in Hive after an
/// earlier run, or added to Glue by a crawler or another writer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExtraPartitions {
    /// `db.table`
    pub table: String,
    pub count: u64,
    /// Deleted from Glue (`--delete-extra-partitions`; in a dry run, those that would be).
    pub deleted: u64,
    /// Up to 10 of them, named as in [`Change::object`].
    pub examples: Vec<String>,
}

/// How a run ended, for the summary line and the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Objects were created or updated, none failed.
    Migrated,
    /// Every selected object already matched: nothing to do, nothing failed.
    InSync,
    /// A dry run: nothing was written.
    DryRun,
    /// Everything selected was written to the export directory.
    Exported,
    /// Everything selected was written or already matched, but Glue has partitions that the
    /// source does not (see [`Report::partitions_only_in_glue`]): left alone, so Glue does not
    /// match.
    ExtraInGlue,
    /// The run stopped before the end (Glue stopped answering, or it was interrupted): what was
    /// not done is counted as failed.
    Stopped,
    /// The source had nothing that the filters selected: nothing moved.
    NothingSelected,
    /// At least one object failed.
    Failed,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub dry_run: bool,
    pub databases: Counts,
    pub tables: Counts,
    pub partitions: Counts,
    pub locations: LocationCounts,
    /// Created/updated objects (or would-be, in a dry run), up to [`MAX_LISTED`].
    pub changes: Vec<Change>,
    pub changes_not_listed: u64,
    pub failures: Vec<Failure>,
    pub failures_not_listed: u64,
    /// Per table, the partitions that exist only in Glue (tables checked: those that Glue had
    /// before the run).
    pub partitions_only_in_glue: Vec<ExtraPartitions>,
    /// Why the run stopped before the end, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    /// What the user must review about objects that were migrated (documented in
    /// docs/findings.md), e.g. Hive ACID tables that Glue's readers can't read.
    pub findings: Vec<migrate_core::Finding>,
    /// Things the user should know that are not failures (fields Glue can't hold, skipped objects,
    /// tables that exist only in Glue).
    pub notes: Vec<String>,
}

impl Report {
    pub fn outcome(&self) -> Outcome {
        let all = [self.databases, self.tables, self.partitions];
        // Failures that are no selected object's (a deletion, a listing) count too.
        let failed: u64 = all.iter().map(|c| c.failed).sum::<u64>()
            + self.failures.len() as u64
            + self.failures_not_listed;
        let extra = &self.partitions_only_in_glue;
        let deleted: u64 = extra.iter().map(|e| e.deleted).sum();
        let left_in_glue = extra.iter().map(|e| e.count).sum::<u64>() - deleted;
        let total: u64 = all.iter().map(|c| c.total()).sum();
        let written: u64 = all.iter().map(|c| c.created + c.updated).sum::<u64>() + deleted;
        let exported: u64 = all.iter().map(|c| c.exported).sum();
        if self.stopped.is_some() {
            Outcome::Stopped
        } else if failed > 0 {
            Outcome::Failed
        } else if total == 0 {
            Outcome::NothingSelected
        } else if self.dry_run {
            Outcome::DryRun
        } else if exported > 0 {
            Outcome::Exported
        } else if left_in_glue > 0 {
            Outcome::ExtraInGlue
        } else if written > 0 {
            Outcome::Migrated
        } else {
            Outcome::InSync
        }
    }

    pub(crate) fn counts_mut(&mut self, kind: ObjectKind) -> &mut Counts {
        match kind {
            ObjectKind::Database => &mut self.databases,
            ObjectKind::Table => &mut self.tables,
            ObjectKind::Partition => &mut self.partitions,
        }
    }

    pub(crate) fn change(&mut self, change: Change) {
        keep(&mut self.changes, &mut self.changes_not_listed, change);
    }

    pub(crate) fn fail(&mut self, kind: ObjectKind, object: String, message: String) {
        self.fail_many(kind, 1, object, message);
    }

    /// `count` objects that failed for one reason, listed as one failure (a table's partitions
    /// that were not sent, say): every failed count has its reason under `failures`.
    pub(crate) fn fail_many(
        &mut self,
        kind: ObjectKind,
        count: u64,
        object: String,
        message: String,
    ) {
        self.counts_mut(kind).failed += count;
        self.problem(kind, object, message);
    }

    /// A failure that is no selected object's own (deleting or listing what only Glue has).
    pub(crate) fn problem(&mut self, kind: ObjectKind, object: String, message: String) {
        let failure = Failure {
            kind,
            object,
            message,
        };
        keep(&mut self.failures, &mut self.failures_not_listed, failure);
    }

    /// Sorts the lists and keeps the first [`MAX_LISTED`] of each: the same report whatever
    /// order the batches finished in.
    pub(crate) fn finish(&mut self) {
        first_sorted(&mut self.changes, &mut self.changes_not_listed);
        first_sorted(&mut self.failures, &mut self.failures_not_listed);
        self.partitions_only_in_glue
            .sort_by(|a, b| a.table.cmp(&b.table));
    }

    /// Adds a partial report (one batch of partitions) to this one.
    pub(crate) fn absorb(&mut self, other: Report) {
        self.databases.add(&other.databases);
        self.tables.add(&other.tables);
        self.partitions.add(&other.partitions);
        for c in other.changes {
            self.change(c);
        }
        self.changes_not_listed += other.changes_not_listed;
        for f in other.failures {
            keep(&mut self.failures, &mut self.failures_not_listed, f);
        }
        self.failures_not_listed += other.failures_not_listed;
        self.partitions_only_in_glue
            .extend(other.partitions_only_in_glue);
        self.notes.extend(other.notes);
    }
}

/// Adds `item`, trimming the list back to its first [`MAX_LISTED`] (sorted) once it holds twice
/// as many: bounded memory, and the kept items don't depend on the order they came in.
fn keep<T: Ord>(items: &mut Vec<T>, not_listed: &mut u64, item: T) {
    items.push(item);
    if items.len() >= 2 * MAX_LISTED {
        first_sorted(items, not_listed);
    }
}

fn first_sorted<T: Ord>(items: &mut Vec<T>, not_listed: &mut u64) {
    items.sort();
    if items.len() > MAX_LISTED {
        *not_listed += (items.len() - MAX_LISTED) as u64;
        items.truncate(MAX_LISTED);
    }
}
