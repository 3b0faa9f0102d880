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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    Database,
    Table,
    Partition,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Update,
}

/// One field that differs between Glue and the metastore (`path` like
/// `StorageDescriptor.Location`); `None` is "absent".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    pub path: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// An object created or updated (or that would be, in a dry run).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub kind: ObjectKind,
    /// `db`, `db.table` or `db.table/k=v/...`.
    pub object: String,
    pub action: Action,
    /// For updates: what differs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldChange>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
    /// Things the user should know that are not failures (fields Glue can't hold, skipped objects,
    /// tables that exist only in Glue).
    pub notes: Vec<String>,
}

impl Report {
    pub fn outcome(&self) -> Outcome {
        let all = [self.databases, self.tables, self.partitions];
        let failed: u64 = all.iter().map(|c| c.failed).sum();
        let total: u64 = all.iter().map(|c| c.total()).sum();
        let written: u64 = all.iter().map(|c| c.created + c.updated).sum();
        let exported: u64 = all.iter().map(|c| c.exported).sum();
        if failed > 0 {
            Outcome::Failed
        } else if total == 0 {
            Outcome::NothingSelected
        } else if self.dry_run {
            Outcome::DryRun
        } else if exported > 0 {
            Outcome::Exported
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
        if self.changes.len() < MAX_LISTED {
            self.changes.push(change);
        } else {
            self.changes_not_listed += 1;
        }
    }

    pub(crate) fn fail(&mut self, kind: ObjectKind, object: String, message: String) {
        self.counts_mut(kind).failed += 1;
        if self.failures.len() < MAX_LISTED {
            self.failures.push(Failure {
                kind,
                object,
                message,
            });
        } else {
            self.failures_not_listed += 1;
        }
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
            if self.failures.len() < MAX_LISTED {
                self.failures.push(f);
            } else {
                self.failures_not_listed += 1;
            }
        }
        self.failures_not_listed += other.failures_not_listed;
        self.notes.extend(other.notes);
    }
}
