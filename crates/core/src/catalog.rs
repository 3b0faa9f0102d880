//! Database objects as read from DDL scripts or a live catalog, independent of any dialect.

use crate::{Finding, Ident, LogicalType, QualifiedName, SourceLocation};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Every object read from one or more sources, plus the findings made while reading them.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Catalog {
    pub tables: Vec<Table>,
    pub views: Vec<View>,
    pub indexes: Vec<Index>,
    pub sequences: Vec<Sequence>,
    pub synonyms: Vec<Synonym>,
    /// Types that columns are declared with (PostgreSQL domains and enums).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub user_types: Vec<UserType>,
    /// Procedural objects (PL/SQL, triggers, types...): recorded so that they are counted and
    /// reported, never silently dropped.
    pub routines: Vec<Routine>,
    pub findings: Vec<Finding>,
}

impl Catalog {
    pub fn table(&self, name: &QualifiedName) -> Option<&Table> {
        self.tables.iter().find(|t| t.name.matches(name))
    }

    pub fn table_mut(&mut self, name: &QualifiedName) -> Option<&mut Table> {
        self.tables.iter_mut().find(|t| t.name.matches(name))
    }

    pub fn sequence(&self, name: &QualifiedName) -> Option<&Sequence> {
        self.sequences.iter().find(|s| s.name.matches(name))
    }

    /// Appends another catalog's objects (e.g. the next input file).
    pub fn extend(&mut self, other: Catalog) {
        self.tables.extend(other.tables);
        self.views.extend(other.views);
        self.indexes.extend(other.indexes);
        self.sequences.extend(other.sequences);
        self.synonyms.extend(other.synonyms);
        self.user_types.extend(other.user_types);
        self.routines.extend(other.routines);
        self.findings.extend(other.findings);
    }
}

/// Finds tables by name without comparing every table: [`Catalog::table`] scans, which is
/// quadratic when each table looks another up (foreign keys, comments, statistics).
#[derive(Debug, Clone, Default)]
pub struct TableIndex {
    /// Positions in the table list, by lower-cased unqualified name; `QualifiedName::matches`
    /// then decides among the candidates.
    by_name: HashMap<String, Vec<usize>>,
}

impl TableIndex {
    pub fn new(tables: &[Table]) -> TableIndex {
        let mut index = TableIndex::default();
        for (position, table) in tables.iter().enumerate() {
            index.insert(&table.name, position);
        }
        index
    }

    /// Records that the table at `position` has `name`.
    pub fn insert(&mut self, name: &QualifiedName, position: usize) {
        self.by_name
            .entry(name.name.value.to_lowercase())
            .or_default()
            .push(position);
    }

    /// Every table that `name` refers to (an unqualified name matches each schema), in order.
    pub fn find_all<'a>(
        &'a self,
        tables: &'a [Table],
        name: &'a QualifiedName,
    ) -> impl Iterator<Item = usize> + 'a {
        self.by_name
            .get(&name.name.value.to_lowercase())
            .into_iter()
            .flatten()
            .copied()
            .filter(move |&position| tables[position].name.matches(name))
    }

    /// The first table that `name` refers to.
    pub fn find(&self, tables: &[Table], name: &QualifiedName) -> Option<usize> {
        self.find_all(tables, name).next()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TableKind {
    Regular,
    /// Data lives outside the database (Hive EXTERNAL, Oracle ORGANIZATION EXTERNAL).
    External,
    /// Session-scoped table (Hive TEMPORARY, MySQL TEMPORARY).
    Temporary,
    /// Oracle GLOBAL TEMPORARY: shared definition, session-private rows.
    GlobalTemporary,
    /// Oracle ORGANIZATION INDEX: rows stored in primary key order.
    IndexOrganized,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    pub name: QualifiedName,
    pub kind: TableKind,
    pub columns: Vec<Column>,
    pub constraints: Vec<Constraint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partitioning: Option<Partitioning>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bucketing: Option<Bucketing>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage: Option<ExternalStorage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statistics: Option<TableStatistics>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<SourceLocation>,
}

impl Table {
    pub fn new(name: QualifiedName) -> Self {
        Table {
            name,
            kind: TableKind::Regular,
            columns: Vec::new(),
            constraints: Vec::new(),
            partitioning: None,
            bucketing: None,
            storage: None,
            comment: None,
            statistics: None,
            location: None,
        }
    }

    pub fn column(&self, name: &Ident) -> Option<&Column> {
        self.columns.iter().find(|c| c.name.matches(name))
    }

    pub fn column_mut(&mut self, name: &Ident) -> Option<&mut Column> {
        self.columns.iter_mut().find(|c| c.name.matches(name))
    }

    pub fn primary_key(&self) -> Option<&[Ident]> {
        self.constraints.iter().find_map(|c| match &c.kind {
            ConstraintKind::PrimaryKey(columns) => Some(columns.as_slice()),
            _ => None,
        })
    }

    pub fn foreign_keys(&self) -> impl Iterator<Item = &ForeignKey> {
        self.constraints.iter().filter_map(|c| match &c.kind {
            ConstraintKind::ForeignKey(fk) => Some(fk),
            _ => None,
        })
    }

    /// A primary key, or else a unique key over NOT NULL columns: what CDC needs to identify rows.
    pub fn row_identity(&self) -> Option<&[Ident]> {
        self.primary_key().or_else(|| {
            self.constraints.iter().find_map(|c| match &c.kind {
                ConstraintKind::Unique(columns)
                    if columns
                        .iter()
                        .all(|name| self.column(name).is_some_and(|col| !col.nullable)) =>
                {
                    Some(columns.as_slice())
                }
                _ => None,
            })
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    pub name: Ident,
    /// The type exactly as written in the source, e.g. `VARCHAR2(50 CHAR)`.
    pub source_type: String,
    pub data_type: LogicalType,
    pub nullable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<ColumnDefault>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<Identity>,
    /// Expression of a virtual / generated column, in the source dialect.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generated: Option<String>,
    /// MySQL `ON UPDATE CURRENT_TIMESTAMP` and the like, in the source dialect.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_update: Option<String>,
    /// The collation the source compares and sorts the column's text under, as the source names
    /// it (MySQL `utf8mb4_bin`, PostgreSQL `pg_catalog."C"`); `None` where the source gives the
    /// column its default without naming it. The target column gets its own default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statistics: Option<ColumnStatistics>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<SourceLocation>,
}

impl Column {
    pub fn new(name: Ident, source_type: impl Into<String>, data_type: LogicalType) -> Self {
        Column {
            name,
            source_type: source_type.into(),
            data_type,
            nullable: true,
            default: None,
            identity: None,
            generated: None,
            on_update: None,
            collation: None,
            comment: None,
            statistics: None,
            location: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnDefault {
    /// An expression in the source dialect (`SYSDATE`, `'N'`, `0`, `now()`).
    Expression(String),
    /// The next value of a sequence (`seq.NEXTVAL`, `nextval('seq')`): becomes IDENTITY.
    Sequence(QualifiedName),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub start: i64,
    pub increment: i64,
    /// `GENERATED ALWAYS`: the source rejects explicit values.
    pub always: bool,
    /// The sequence's bounds as the source gives them (Oracle's may exceed 64 bits); `None`:
    /// the source's default for the direction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_value: Option<i128>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_value: Option<i128>,
    /// `CYCLE`: past its last value the sequence starts again from its other bound.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cycle: bool,
}

impl Default for Identity {
    fn default() -> Self {
        Identity {
            start: 1,
            increment: 1,
            always: false,
            min_value: None,
            max_value: None,
            cycle: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Constraint {
    pub name: Option<Ident>,
    pub kind: ConstraintKind,
    pub state: ConstraintState,
    /// How a primary or unique key's index is built beyond its key columns (PostgreSQL).
    #[serde(default, skip_serializing_if = "IndexOptions::is_plain")]
    pub index: IndexOptions,
}

/// PostgreSQL's options of a unique key or index that change what it stores or accepts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexOptions {
    /// Columns stored in the index without being part of its key (`INCLUDE (...)`): they let
    /// queries that read them be answered from the index alone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<Ident>,
    /// `NULLS NOT DISTINCT` (PostgreSQL 15): NULLs count as equal, so at most one row holds a
    /// given key with NULLs in it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub nulls_not_distinct: bool,
}

impl IndexOptions {
    pub fn is_plain(&self) -> bool {
        self == &IndexOptions::default()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConstraintKind {
    PrimaryKey(Vec<Ident>),
    Unique(Vec<Ident>),
    ForeignKey(ForeignKey),
    /// The condition in the source dialect.
    Check(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignKey {
    pub columns: Vec<Ident>,
    pub referenced_table: QualifiedName,
    /// Empty when the source relies on the referenced table's primary key.
    pub referenced_columns: Vec<Ident>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_delete: Option<String>,
    /// What an update of the referenced key does to the referencing rows (`CASCADE`, `SET
    /// NULL`, ...); `None` for `NO ACTION`, the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_update: Option<String>,
    /// `MATCH FULL`: a multi-column key with some columns NULL and others not is refused (the
    /// default, `MATCH SIMPLE`, lets such a row through unchecked).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub match_full: bool,
}

/// Oracle's constraint states (ENABLE/DISABLE, VALIDATE/NOVALIDATE, RELY); Hive's
/// `DISABLE NOVALIDATE` and other engines' enforced constraints map onto the same three flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConstraintState {
    pub enabled: bool,
    pub validated: bool,
    pub rely: bool,
    #[serde(default)]
    pub deferral: Deferral,
}

impl Default for ConstraintState {
    fn default() -> Self {
        ConstraintState {
            enabled: true,
            validated: true,
            rely: false,
            deferral: Deferral::NotDeferrable,
        }
    }
}

/// When a constraint is checked: at each statement, or (`DEFERRABLE`) possibly at commit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Deferral {
    #[default]
    NotDeferrable,
    /// `DEFERRABLE [INITIALLY IMMEDIATE]`: deferred only when a transaction asks for it.
    Immediate,
    /// `DEFERRABLE INITIALLY DEFERRED`: checked at commit.
    Deferred,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartitionMethod {
    Range,
    List,
    Hash,
    /// Oracle INTERVAL partitioning: range partitions created automatically.
    Interval,
    /// Oracle REFERENCE partitioning: follows the parent of a foreign key.
    Reference,
    /// MySQL KEY partitioning.
    Key,
    /// Hive-style: one directory per value of the partition columns.
    Value,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partitioning {
    pub method: PartitionMethod,
    /// Partition key columns (for REFERENCE partitioning: the foreign key constraint's name).
    pub columns: Vec<Ident>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub partitions: Vec<Partition>,
    /// Interval expression of INTERVAL partitioning.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subpartitioning: Option<Box<Partitioning>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partition {
    pub name: Option<String>,
    /// The bound as written (`VALUES LESS THAN (...)`, `VALUES (...)`), empty for HASH.
    pub bound: String,
}

/// Hive `CLUSTERED BY (...) [SORTED BY (...)] INTO n BUCKETS`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bucketing {
    pub columns: Vec<Ident>,
    pub sorted_by: Vec<Ident>,
    pub buckets: u32,
}

/// Where and how the data of an external (Hive) table is stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalStorage {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// `STORED AS` format name (PARQUET, ORC, TEXTFILE...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serde: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub serde_properties: Vec<(String, String)>,
    /// `ROW FORMAT DELIMITED` settings: `FIELDS TERMINATED BY` -> ("field.delim", ...).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub delimiters: Vec<(String, String)>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub table_properties: Vec<(String, String)>,
    /// `SKEWED BY` columns.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub skewed_by: Vec<Ident>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TableStatistics {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row_count: Option<u64>,
    /// Bytes on disk: the table, its indexes and its out-of-line LOB storage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
    /// The part of `size_bytes` that is out-of-line large-object storage: PostgreSQL's TOAST
    /// table and its index, Oracle's LOB segments and LOB indexes. `None` when the engine does
    /// not report it separately (MySQL/MariaDB: InnoDB's off-page columns live in the table's
    /// own tablespace and `information_schema` has no figure for them), never a guessed 0.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub lob_bytes: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ColumnStatistics {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distinct_count: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub null_fraction: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IndexKind {
    BTree,
    Bitmap,
    FullText,
    Spatial,
    Hash,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    pub name: QualifiedName,
    pub table: QualifiedName,
    /// Column names or, for function-based indexes, expressions as written, each with its
    /// ordering and PostgreSQL collation or operator class (`name DESC NULLS LAST`) if any.
    pub columns: Vec<String>,
    pub unique: bool,
    pub kind: IndexKind,
    /// Access method other than B-tree or hash (PostgreSQL `USING gin`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The WHERE of a partial index, in the source dialect.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub predicate: Option<String>,
    #[serde(flatten)]
    pub options: IndexOptions,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<SourceLocation>,
}

impl Index {
    /// Stands for a key whose expression live discovery could not read (a MySQL 8 functional key
    /// part): an index with it is reported, never created.
    pub const UNREAD_EXPRESSION: &'static str = "(expression not read)";
}

/// A user-defined type (a PostgreSQL domain or enum). The target has no such type: columns of it
/// get `data_type`, and so do casts to it (pg_dump writes enum defaults as `'ok'::public.mood`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserType {
    pub name: QualifiedName,
    pub data_type: LogicalType,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sequence {
    pub name: QualifiedName,
    pub start: i64,
    pub increment: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_value: Option<i128>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_value: Option<i128>,
    pub cycle: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<SourceLocation>,
}

impl Sequence {
    /// The identity of a column numbered by this sequence.
    pub fn identity(&self) -> Identity {
        Identity {
            start: self.start,
            increment: self.increment,
            always: false,
            min_value: self.min_value,
            max_value: self.max_value,
            cycle: self.cycle,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct View {
    pub name: QualifiedName,
    /// Explicit column list, if any.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub columns: Vec<Ident>,
    /// The defining query in the source dialect.
    pub query: String,
    pub materialized: bool,
    /// What the view declares besides its query.
    #[serde(skip_serializing_if = "ViewOptions::is_empty", default)]
    pub options: ViewOptions,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<SourceLocation>,
}

/// A view's options: PostgreSQL's `WITH (security_barrier, security_invoker, check_option)`,
/// `WITH [CASCADED | LOCAL] CHECK OPTION`, Oracle's `WITH READ ONLY`.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewOptions {
    /// Rows written through the view must satisfy its query.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub check: Option<CheckOption>,
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub security_barrier: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub security_invoker: bool,
    /// Nothing can be written through the view.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub read_only: bool,
}

impl ViewOptions {
    pub fn is_empty(&self) -> bool {
        *self == ViewOptions::default()
    }

    /// Sets one of PostgreSQL's view parameters, as `WITH (name = value)` writes it and
    /// `pg_class.reloptions` stores it (`name=value`); other names are not view options.
    pub fn set_parameter(&mut self, name: &str, value: &str) {
        let on = matches!(
            value.to_ascii_lowercase().as_str(),
            "true" | "on" | "yes" | "1"
        );
        match name.to_ascii_lowercase().as_str() {
            "check_option" => self.check = Some(CheckOption::from_word(value)),
            "security_barrier" => self.security_barrier = on,
            "security_invoker" => self.security_invoker = on,
            _ => {}
        }
    }
}

/// How far a view's check option reaches: views it reads from too (`CASCADED`, the default), or
/// its own query only (`LOCAL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckOption {
    Cascaded,
    Local,
}

impl CheckOption {
    /// A `check_option` value or the word before `CHECK OPTION`: `LOCAL`, else `CASCADED`.
    pub fn from_word(word: &str) -> CheckOption {
        if word.eq_ignore_ascii_case("local") {
            CheckOption::Local
        } else {
            CheckOption::Cascaded
        }
    }

    pub fn as_sql(self) -> &'static str {
        match self {
            CheckOption::Cascaded => "CASCADED",
            CheckOption::Local => "LOCAL",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Synonym {
    pub name: QualifiedName,
    pub target: QualifiedName,
    pub public: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<SourceLocation>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoutineKind {
    Procedure,
    Function,
    Package,
    PackageBody,
    Trigger,
    Type,
    TypeBody,
    /// A PL/SQL block (`BEGIN ... END;` / `DECLARE ...`) run by the script itself.
    AnonymousBlock,
    /// MySQL scheduled event.
    Event,
}

impl RoutineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RoutineKind::Procedure => "procedure",
            RoutineKind::Function => "function",
            RoutineKind::Package => "package",
            RoutineKind::PackageBody => "package body",
            RoutineKind::Trigger => "trigger",
            RoutineKind::Type => "type",
            RoutineKind::TypeBody => "type body",
            RoutineKind::AnonymousBlock => "anonymous block",
            RoutineKind::Event => "event",
        }
    }
}

/// Procedural code, kept whole so that `assess` can size and classify it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Routine {
    pub name: Option<QualifiedName>,
    pub kind: RoutineKind,
    /// The full source text of the definition.
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<SourceLocation>,
}
