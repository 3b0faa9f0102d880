//! Target DDL from the model: Redshift (with the key advisor's layout) or PostgreSQL.
//!
//! Output order makes the script runnable top to bottom: schemas, tables (with primary and unique
//! keys), foreign keys as ALTER TABLE once every table exists, comments, then views and synonyms.
//! Everything that can't be carried over becomes a finding; nothing is dropped silently.

use crate::column_refs::hide_renamed_columns;
use crate::index_expr::{not_immutable_call, parenthesized, split_ordering};
use crate::literal_default::{literal_default, LiteralDefault};
use crate::mariadb_sequence::calls_sequence;
use crate::sequence_bounds::TargetSequence;
use crate::typemap::{CastTypeMap, TypeMaps};
use migrate_core::{
    Catalog, Column, ColumnDefault, Constraint, ConstraintKind, Deferral, DistStyle, Encoding,
    Finding, Ident, Identity, Index, IndexKind, IndexOptions, LogicalType, QualifiedName, Severity,
    SourceDialect, Table, TableIndex, TableKind, TableLayout, TargetDialect, ViewOptions,
};
use migrate_sqlrewrite::{
    free_target_ident, rewrite_expression_in, rewrite_query_in, target_ident, CastTypes,
    ColumnTypes, Context, Rewritten,
};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt::Write;
use std::sync::Arc;

/// Redshift's limit on columns per table.
const REDSHIFT_MAX_COLUMNS: usize = 1600;

/// PostgreSQL's largest B-tree index entry with its default 8 kB pages, in bytes: a longer one
/// fails the insert ("index row size N exceeds btree version 4 maximum 2704 for index ...").
pub const BTREE_MAX_ENTRY_BYTES: u64 = 2704;

/// The size of a B-tree entry whose `columns` key values hold `bytes` in all, before
/// PostgreSQL compresses it: the entry's 8-byte header and a length word (up to 4 bytes) per
/// value, padded to 8 bytes.
pub fn btree_entry_bytes(columns: usize, bytes: u64) -> u64 {
    (8 + 4 * columns as u64 + bytes).next_multiple_of(8)
}

/// The most bytes `columns` key values may hold in all for their B-tree entry to fit in
/// [`BTREE_MAX_ENTRY_BYTES`] ([`btree_entry_bytes`]; the limit is a multiple of 8).
pub fn btree_max_key_bytes(columns: usize) -> u64 {
    BTREE_MAX_ENTRY_BYTES.saturating_sub(8 + 4 * columns as u64)
}

/// The most bytes the key values of a B-tree entry may hold, as their columns' types declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyWidth {
    /// At most this many bytes in all (characters counted at 4 bytes, as UTF-8 may need).
    Bounded(u64),
    /// A column of unbounded length (TEXT, BLOB, JSON...).
    Unbounded,
}

impl std::fmt::Display for KeyWidth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyWidth::Bounded(bytes) => write!(f, "up to {bytes} bytes"),
            KeyWidth::Unbounded => f.write_str("of any length"),
        }
    }
}

/// How wide the values of `columns` of `table` may be in a PostgreSQL B-tree entry, when their
/// declared types let the entry pass [`BTREE_MAX_ENTRY_BYTES`]; `None` when every value fits.
/// A MySQL prefix key (`url(100)`) is read as a key on the whole column, as the target has it.
pub fn wide_key(table: &Table, columns: &[Ident]) -> Option<KeyWidth> {
    let mut bytes = 0u64;
    for name in columns {
        let column = table.column(name)?;
        match declared_bytes(&written_type(table, column)) {
            Some(width) => bytes += width,
            None => return Some(KeyWidth::Unbounded),
        }
    }
    (bytes > btree_max_key_bytes(columns.len())).then_some(KeyWidth::Bounded(bytes))
}

/// The most bytes a value of `data_type` takes in PostgreSQL, `None` when unbounded: characters
/// at up to 4 bytes each in UTF-8; other scalar types at most 16 (a `numeric` can be longer,
/// but not as a key anyone writes).
fn declared_bytes(data_type: &LogicalType) -> Option<u64> {
    use migrate_core::LengthUnit;
    match data_type {
        LogicalType::Char { length, unit } | LogicalType::Varchar { length, unit } => {
            Some(u64::from(*length) * if *unit == LengthUnit::Byte { 1 } else { 4 })
        }
        LogicalType::Binary { length } | LogicalType::Varbinary { length } => {
            Some(u64::from(*length))
        }
        LogicalType::Text
        | LogicalType::Blob
        | LogicalType::Json
        | LogicalType::Xml
        | LogicalType::Geometry
        | LogicalType::Geography
        | LogicalType::Array(_)
        | LogicalType::Map(..)
        | LogicalType::Struct(_)
        | LogicalType::Union(_) => None,
        _ => Some(16),
    }
}

/// The result of converting a catalog.
#[derive(Debug, Clone)]
pub struct Conversion {
    /// The target DDL script.
    pub ddl: String,
    /// Findings made while writing the target (the reader's own are in the catalog).
    pub findings: Vec<Finding>,
    /// Counts of what was written.
    pub summary: Summary,
    /// The CHECK constraints to add once the tables exist, under [`Checks::Separate`] and
    /// [`Checks::SeparateWithDefaults`] (none under [`Checks::Inline`]: they are in `ddl`).
    pub checks: Vec<SeparateStatement>,
    /// The column defaults to set once the tables exist, under [`Checks::SeparateWithDefaults`]
    /// (none otherwise: they are in `ddl`).
    pub defaults: Vec<SeparateStatement>,
}

/// Where [`emit_with`] writes the CHECK constraints of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Checks {
    /// In its `CREATE TABLE`, as `migrate convert` writes them.
    #[default]
    Inline,
    /// Not in the script: each in [`Conversion::checks`] as its own statement, for a caller
    /// that runs them one at a time (a CHECK the target refuses must not cost the table).
    Separate,
    /// As [`Checks::Separate`], and the column defaults apart too, in [`Conversion::defaults`]
    /// (all but identity columns and the few literals the converter writes itself: bit and byte
    /// strings), for a caller that creates tables in a database that may lack a function the
    /// source's defaults call (one of its own, an extension's): such a default must not cost the
    /// table either.
    SeparateWithDefaults,
}

/// A CHECK constraint or a column default written as a statement of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeparateStatement {
    /// The constraint or column, as findings name it (`s.t constraint k`, `s.t.c`).
    pub object: String,
    /// `ALTER TABLE ... ADD [CONSTRAINT ...] CHECK (...)` or `ALTER TABLE ... ALTER COLUMN ...
    /// SET DEFAULT ...`, without the final `;`.
    pub sql: String,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Summary {
    pub tables: usize,
    pub views: usize,
    pub foreign_keys: usize,
    pub comments: usize,
    pub indexes: usize,
    pub not_converted: usize,
}

struct Emitter<'a> {
    catalog: &'a Catalog,
    from: SourceDialect,
    to: TargetDialect,
    /// Where CHECK constraints (and defaults) go, and those written apart so far.
    placement: Checks,
    checks: Vec<SeparateStatement>,
    defaults: Vec<SeparateStatement>,
    maps: &'static TypeMaps,
    out: String,
    findings: Vec<Finding>,
    summary: Summary,
    /// Column types taken from the key a foreign key references, by (table, column) index.
    aligned: HashMap<(usize, usize), LogicalType>,
    /// Column types for type-dependent rewrites in views, defaults and checks.
    types: Arc<ColumnTypes>,
    /// The target types of user-defined types, for casts to them in views, defaults and checks.
    user_types: Arc<HashMap<String, String>>,
    /// The type maps, for the types that casts in views, defaults and checks name.
    cast_types: Arc<dyn CastTypes>,
    /// Finds the catalog's tables by name.
    index: TableIndex,
    /// Columns written under another name because their target name collides, by position.
    renamed_columns: HashMap<(usize, usize), String>,
    /// Tables written under another name (without the schema) because their target name
    /// collides, by position.
    renamed_tables: HashMap<usize, String>,
    /// (schema, name) of the tables, indexes and key constraints written, as written: in
    /// PostgreSQL a primary or unique key's name is its index's, which shares one namespace per
    /// schema with the tables and other indexes.
    relation_names: HashSet<(String, String)>,
    /// Constraint names written, as written, by table position (they are unique per table).
    constraint_names: HashSet<(usize, String)>,
    /// Long names already reported as truncated (each is written many times).
    truncations_reported: BTreeSet<String>,
    /// Canonical types already mapped to the target, with their result.
    mapped_types: HashMap<LogicalType, Result<crate::Mapped<String>, crate::MapError>>,
    /// Lower-case names of the tables, views and synonyms written without a schema (Oracle
    /// public synonyms among them): views read them through the search path, as written.
    unqualified_names: Arc<HashSet<String>>,
}

/// Writes the target DDL for `catalog`. `layouts` holds one layout per table (same order) for
/// Redshift; pass an empty slice to let Redshift choose (DISTSTYLE AUTO, no sort key).
pub fn emit(
    catalog: &Catalog,
    from: SourceDialect,
    to: TargetDialect,
    layouts: &[TableLayout],
) -> Conversion {
    emit_with(catalog, from, to, layouts, Checks::Inline)
}

/// [`emit`] with the CHECK constraints written where `checks` says.
pub fn emit_with(
    catalog: &Catalog,
    from: SourceDialect,
    to: TargetDialect,
    layouts: &[TableLayout],
    checks: Checks,
) -> Conversion {
    let mut emitter = Emitter {
        catalog,
        from,
        to,
        placement: checks,
        checks: Vec::new(),
        defaults: Vec::new(),
        maps: TypeMaps::builtin(),
        out: String::new(),
        // Procedural code is never converted: each object is reported first, with the target's
        // fix.
        findings: crate::ddl::routine_findings(catalog, from, to),
        // A statement that could not be read (a table, a view...) is not converted either: the
        // reader reports each with one `parse.*` or `input.*` finding.
        summary: Summary {
            not_converted: catalog
                .findings
                .iter()
                .filter(|f| f.code.starts_with("parse.") || f.code.starts_with("input."))
                .count(),
            ..Summary::default()
        },
        aligned: aligned_key_types(catalog, &TableIndex::new(&catalog.tables)),
        types: Arc::new(column_types(catalog)),
        user_types: Arc::new(user_type_targets(catalog, to)),
        cast_types: Arc::new(CastTypeMap {
            maps: TypeMaps::builtin(),
            from,
            to,
        }),
        index: TableIndex::new(&catalog.tables),
        mapped_types: HashMap::new(),
        truncations_reported: BTreeSet::new(),
        renamed_columns: HashMap::new(),
        renamed_tables: HashMap::new(),
        relation_names: HashSet::new(),
        constraint_names: HashSet::new(),
        unqualified_names: Arc::new(
            catalog
                .tables
                .iter()
                .map(|table| &table.name)
                .chain(catalog.views.iter().map(|view| &view.name))
                .chain(catalog.synonyms.iter().map(|synonym| &synonym.name))
                .filter(|name| name.schema.is_none())
                .map(|name| name.name.value.to_lowercase())
                .collect(),
        ),
    };
    emitter.run(layouts);
    Conversion {
        ddl: emitter.out,
        findings: emitter.findings,
        summary: emitter.summary,
        checks: emitter.checks,
        defaults: emitter.defaults,
    }
}

/// A foreign key clause Redshift drops: its finding's code, and what to do instead.
struct DroppedClause {
    code: &'static str,
    fix: &'static str,
}

impl<'a> Emitter<'a> {
    fn finding(
        &mut self,
        severity: Severity,
        code: &str,
        object: impl Into<String>,
        message: impl Into<String>,
        action: impl Into<String>,
        location: Option<&migrate_core::SourceLocation>,
    ) {
        self.findings
            .push(Finding::new(severity, code, object, message, action).at(location.cloned()));
    }

    /// The table `name` refers to, with its position in the catalog.
    fn lookup(&self, name: &QualifiedName) -> Option<(usize, &'a Table)> {
        let catalog = self.catalog;
        self.index
            .find(&catalog.tables, name)
            .map(|position| (position, &catalog.tables[position]))
    }

    /// The target name of the table at `table_index`: its own, or the free name it was given
    /// because that collides.
    fn table_name(&mut self, table_index: usize) -> String {
        let Some(renamed) = self.renamed_tables.get(&table_index).cloned() else {
            return self.name(&self.catalog.tables[table_index].name);
        };
        match self.schema_name(table_index) {
            schema if schema.is_empty() => renamed,
            schema => format!("{schema}.{renamed}"),
        }
    }

    /// The target name of the schema of the table at `table_index`, `""` when unqualified.
    fn schema_name(&mut self, table_index: usize) -> String {
        let name = &self.catalog.tables[table_index].name;
        match &name.schema {
            Some(schema) => self.ident(schema, &name.to_string()),
            None => String::new(),
        }
    }

    /// The target name of constraint `name` of the table at `table_index`. Constraint names are
    /// unique per table, and in PostgreSQL a key's name (`creates_index`) is also unique among
    /// the schema's tables and indexes: a name taken there (two long names cut to the same
    /// bytes) is written with a free suffix, and reported.
    fn constraint_name(
        &mut self,
        table_index: usize,
        name: &Ident,
        creates_index: bool,
        object: &str,
    ) -> String {
        let wanted = self.ident(name, object);
        let schema = self.schema_name(table_index);
        let shares_relations = creates_index && self.to == TargetDialect::Postgres;
        let taken = |candidate: &str| {
            self.constraint_names
                .contains(&(table_index, candidate.to_string()))
                || shares_relations
                    && self
                        .relation_names
                        .contains(&(schema.clone(), candidate.to_string()))
        };
        let written = match taken(&wanted) {
            true => free_target_ident(&name.value, self.to, taken),
            false => wanted.clone(),
        };
        if written != wanted {
            let location = self.catalog.tables[table_index].location.as_ref();
            self.finding(
                Severity::Info,
                "constraint.renamed",
                object,
                format!("another constraint, table or index has the name {wanted} in the target: created as {written}"),
                "none",
                location,
            );
        }
        self.constraint_names.insert((table_index, written.clone()));
        if shares_relations {
            self.relation_names.insert((schema, written.clone()));
        }
        written
    }

    /// The target name of a column of the table at `table_index`, following a collision rename.
    fn column_name(&mut self, table_index: usize, column: &Ident, object: &str) -> String {
        let position = column_position(&self.catalog.tables[table_index], column);
        match position.and_then(|p| self.renamed_columns.get(&(table_index, p))) {
            Some(renamed) => renamed.clone(),
            None => self.ident(column, object),
        }
    }

    /// A comma-separated list of columns of the table at `table_index`.
    fn column_names(&mut self, table_index: usize, columns: &[Ident], object: &str) -> String {
        columns
            .iter()
            .map(|c| self.column_name(table_index, c, object))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn ident(&mut self, ident: &Ident, object: &str) -> String {
        let converted = target_ident(&ident.value, ident.quoted, self.to);
        if converted.truncated && self.truncations_reported.insert(ident.value.clone()) {
            let limit = match self.to {
                TargetDialect::Redshift => 127,
                TargetDialect::Postgres => 63,
            };
            self.finding(
                Severity::Warning,
                "identifier.truncated",
                object,
                format!(
                    "the name `{}` is longer than {limit} bytes and was truncated to {}",
                    ident.value, converted.sql
                ),
                "rename the object so that names stay unique and readable",
                self.location_of(object),
            );
        }
        converted.sql
    }

    /// Where the object a finding names (`s.t`, `s.t.c`, `s.t constraint k`...) is defined: the
    /// column's definition, else its table's, view's, index's or sequence's.
    fn location_of(&self, object: &str) -> Option<&'a migrate_core::SourceLocation> {
        let catalog: &'a Catalog = self.catalog;
        for table in &catalog.tables {
            let name = table.name.to_string();
            let Some(rest) = object.strip_prefix(name.as_str()) else {
                continue;
            };
            if rest.is_empty() || rest.starts_with(' ') {
                return table.location.as_ref();
            }
            if let Some(column) = rest.strip_prefix('.') {
                return table
                    .columns
                    .iter()
                    .find(|c| c.name.to_string() == column || c.name.value == column)
                    .and_then(|c| c.location.as_ref())
                    .or(table.location.as_ref());
            }
        }
        let named = |name: &QualifiedName| name.to_string() == object;
        catalog
            .views
            .iter()
            .find(|v| named(&v.name))
            .and_then(|v| v.location.as_ref())
            .or_else(|| {
                let index = catalog.indexes.iter().find(|i| named(&i.name))?;
                index.location.as_ref()
            })
            .or_else(|| {
                let sequence = catalog.sequences.iter().find(|s| named(&s.name))?;
                sequence.location.as_ref()
            })
    }

    fn name(&mut self, name: &QualifiedName) -> String {
        let object = name.to_string();
        let table = self.ident(&name.name, &object);
        match &name.schema {
            Some(schema) => format!("{}.{table}", self.ident(schema, &object)),
            None => table,
        }
    }

    fn run(&mut self, layouts: &[TableLayout]) {
        let _ = writeln!(
            self.out,
            "-- Generated by migrate convert: {} -> {}.\n-- Review the findings before running it.\n",
            self.from, self.to
        );
        self.schemas();
        let catalog = self.catalog;
        // Sequences first: PostgreSQL defaults may call them (`'INV-' || nextval('s')`).
        let sequences_used = self.sequences_used();
        self.sequences(&sequences_used);
        self.check_name_collisions();
        for (index, table) in catalog.tables.iter().enumerate() {
            self.table(index, table, layouts.get(index));
        }
        for (index, table) in catalog.tables.iter().enumerate() {
            self.foreign_keys(index, table);
        }
        for (index, table) in catalog.tables.iter().enumerate() {
            self.comments(index, table);
        }
        self.indexes();
        // Synonyms of tables before the views (which may read through them), synonyms of views
        // after them.
        self.synonyms(SynonymsOf::Tables);
        for view in &catalog.views {
            self.view(view);
        }
        self.synonyms(SynonymsOf::Views);
    }

    /// Names that differ in the source (`"a"` and `"A"`, or two long names cut to the same
    /// 63/127 bytes) but become one name in the target. The later table or column is written
    /// under a free name (`code_2`) so that the script runs, and the keys, indexes and comments
    /// that name it follow; the finding says so.
    fn check_name_collisions(&mut self) {
        let catalog = self.catalog;
        // By (schema, name) as written.
        let mut tables: HashMap<(String, String), &QualifiedName> = HashMap::new();
        for (table_index, table) in catalog.tables.iter().enumerate() {
            let object = table.name.to_string();
            let schema = self.schema_name(table_index);
            let qualified = |name: &str| match schema.is_empty() {
                true => name.to_string(),
                false => format!("{schema}.{name}"),
            };
            let name = self.ident(&table.name.name, &object);
            let written = match tables.get(&(schema.clone(), name.clone())).copied() {
                Some(other) => {
                    let free = free_target_ident(&table.name.name.value, self.to, |candidate| {
                        tables.contains_key(&(schema.clone(), candidate.to_string()))
                    });
                    let action = format!("it is written as {}: rename one of them in the source DDL, and load it (and run other scripts that name it) under the new name", qualified(&free));
                    let (other, folded) = (other.to_string(), qualified(&name));
                    self.collision(&object, &other, &folded, &action, table.location.as_ref());
                    self.renamed_tables.insert(table_index, free.clone());
                    free
                }
                None => name,
            };
            tables.insert((schema.clone(), written.clone()), &table.name);
            self.relation_names.insert((schema, written));
            let mut columns: HashMap<String, &Ident> = HashMap::new();
            for (column_index, column) in table.columns.iter().enumerate() {
                let object = format!("{}.{}", table.name, column.name);
                let folded = self.ident(&column.name, &object);
                let Some(other) = columns.get(&folded).copied() else {
                    columns.insert(folded, &column.name);
                    continue;
                };
                let free = free_target_ident(&column.name.value, self.to, |candidate| {
                    columns.contains_key(candidate)
                });
                let other = format!("{}.{other}", table.name);
                let action = format!("it is written as {free}: rename one of them in the source DDL, and map the column when loading data");
                self.collision(&object, &other, &folded, &action, column.location.as_ref());
                columns.insert(free.clone(), &column.name);
                self.renamed_columns
                    .insert((table_index, column_index), free);
            }
        }
    }

    fn collision(
        &mut self,
        object: &str,
        other: &str,
        folded: &str,
        action: &str,
        location: Option<&migrate_core::SourceLocation>,
    ) {
        self.finding(
            Severity::Action,
            "identifier.collision",
            object,
            format!("{object} and {other} both become {folded} in the target (names are folded to lower case and truncated)"),
            action,
            location,
        );
    }

    /// `CREATE SCHEMA IF NOT EXISTS` for every schema that objects are created in.
    fn schemas(&mut self) {
        let catalog = self.catalog;
        let mut seen = BTreeSet::new();
        let names = catalog
            .tables
            .iter()
            .map(|t| &t.name)
            .chain(catalog.views.iter().map(|v| &v.name))
            .chain(catalog.synonyms.iter().map(|s| &s.name));
        // Redshift has no sequences to create.
        let to_postgres = self.to == TargetDialect::Postgres;
        let sequences = catalog
            .sequences
            .iter()
            .filter(|_| to_postgres)
            .map(|s| &s.name);
        for name in names.chain(sequences) {
            if let Some(schema) = &name.schema {
                let sql = self.ident(schema, &name.to_string());
                if seen.insert(sql.clone()) {
                    let _ = writeln!(self.out, "CREATE SCHEMA IF NOT EXISTS {sql};");
                }
            }
        }
        if !seen.is_empty() {
            self.out.push('\n');
        }
    }

    /// The positions of the sequences that column defaults take values from, as
    /// [`Self::identity_from_sequence`] finds them (`shop.s`, not `other.s` too).
    fn sequences_used(&self) -> BTreeSet<usize> {
        let sequences = &self.catalog.sequences;
        self.catalog
            .tables
            .iter()
            .flat_map(|t| &t.columns)
            .filter_map(|c| match &c.default {
                Some(ColumnDefault::Sequence(name)) => {
                    sequences.iter().position(|s| s.name.matches(name))
                }
                _ => None,
            })
            .collect()
    }

    fn table(&mut self, table_index: usize, table: &Table, layout: Option<&TableLayout>) {
        let object = table.name.to_string();
        let location = table.location.as_ref();
        match table.kind {
            TableKind::GlobalTemporary | TableKind::Temporary => self.finding(
                Severity::Warning,
                "table.temporary",
                &object,
                "temporary table: created as a regular table (the target's temporary tables exist only in the session that creates them)",
                "create it as a TEMP table in the sessions that use it, or keep it regular and clean it up",
                location,
            ),
            TableKind::External => self.finding(
                Severity::Info,
                "table.external",
                &object,
                "external table: created as a regular table that `migrate replicate` loads",
                "to query the files in place instead, register them with `migrate catalog` and use Redshift Spectrum",
                location,
            ),
            TableKind::IndexOrganized if self.to == TargetDialect::Redshift => self.finding(
                Severity::Info,
                "table.index-organized",
                &object,
                "index-organized table: rows are kept in primary key order by the sort key instead",
                "none",
                location,
            ),
            _ => {}
        }
        if let (Some(partitioning), TargetDialect::Postgres) = (&table.partitioning, self.to) {
            self.finding(
                Severity::Info,
                "table.partitioning",
                &object,
                format!("{:?} partitioning of the source is not created", partitioning.method),
                "partition the table by hand if the target needs it (PostgreSQL declarative partitioning)",
                location,
            );
        }
        if self.to == TargetDialect::Redshift && table.columns.len() > REDSHIFT_MAX_COLUMNS {
            self.finding(
                Severity::Action,
                "table.too-many-columns",
                &object,
                format!(
                    "{} columns: Redshift allows {REDSHIFT_MAX_COLUMNS}",
                    table.columns.len()
                ),
                "split the table vertically",
                location,
            );
        }
        let name = self.table_name(table_index);
        if let Some(layout) = layout.filter(|_| self.to == TargetDialect::Redshift) {
            // Distribution and sort key evidence; per-column encoding reasons are in the JSON report.
            for evidence in layout
                .evidence
                .iter()
                .filter(|e| !e.choice.starts_with("encode"))
            {
                let _ = writeln!(
                    self.out,
                    "-- {}: {}",
                    evidence.choice,
                    evidence.reasons.join("; ")
                );
            }
        }
        let _ = writeln!(self.out, "CREATE TABLE {name} (");
        let mut lines = Vec::new();
        for (column_index, column) in table.columns.iter().enumerate() {
            let aligned = self.aligned.get(&(table_index, column_index)).cloned();
            let renamed = self
                .renamed_columns
                .get(&(table_index, column_index))
                .cloned();
            // The advisor lists encodings in column order; search only if it didn't.
            let encoding = layout
                .filter(|_| self.to == TargetDialect::Redshift)
                .and_then(|layout| {
                    layout
                        .encodings
                        .get(column_index)
                        .filter(|(name, _)| name.matches(&column.name))
                        .or_else(|| {
                            layout
                                .encodings
                                .iter()
                                .find(|(name, _)| name.matches(&column.name))
                        })
                        .map(|(_, encoding)| *encoding)
                });
            lines.push(self.column(&name, table, column, aligned, renamed, encoding));
        }
        for constraint in &table.constraints {
            if let Some(line) = self.inline_constraint(table_index, table, constraint) {
                lines.push(line);
            }
        }
        let _ = write!(self.out, "    {}\n)", lines.join(",\n    "));
        if let Some(layout) = layout.filter(|_| self.to == TargetDialect::Redshift) {
            self.layout_clauses(table_index, table, layout);
        }
        self.out.push_str(";\n\n");
        self.summary.tables += 1;
    }

    /// The definition of `column` of `table` (written as `table_name`) in its `CREATE TABLE`.
    fn column(
        &mut self,
        table_name: &str,
        table: &Table,
        column: &Column,
        aligned: Option<LogicalType>,
        renamed: Option<String>,
        encoding: Option<Encoding>,
    ) -> String {
        let object = format!("{}.{}", table.name, column.name);
        let location = column.location.as_ref();
        let name = match renamed {
            Some(name) => name,
            None => self.ident(&column.name, &object),
        };
        let identity = match nullable_sequence_default(table, column) {
            Some(sequence) => {
                self.finding(
                    Severity::Warning,
                    "identity.nullable",
                    &object,
                    format!("the default takes values from sequence {sequence}, but the column allows NULL, which an identity column does not: created without a default, so rows inserted without a value get NULL"),
                    "make the column NOT NULL in the source if it holds no NULLs (it then becomes an identity), or number new rows in the loading process",
                    location,
                );
                None
            }
            None => column
                .identity
                .or_else(|| self.identity_from_sequence(column, &object)),
        };
        // PostgreSQL's `"char"` into PostgreSQL: the type as it is, which holds every value.
        let kept = match (&identity, &aligned) {
            (None, None) => self
                .maps
                .kept_column_type(self.from, self.to, &column.source_type),
            _ => None,
        };
        let data_type = match (&identity, aligned) {
            (Some(_), _) => self.identity_type(&column.data_type, &object, location),
            (None, Some(key_type)) => {
                self.finding(
                    Severity::Info,
                    "type.aligned-with-key",
                    &object,
                    format!("{} becomes {key_type}, the type of the key it references (a valid foreign key's values fit it; equal types join and co-locate)", column.data_type),
                    "none",
                    location,
                );
                key_type
            }
            (None, None) => column.data_type.clone(),
        };
        let mapped = match (kept, self.mapped_types.get(&data_type)) {
            (Some(kept), _) => Ok(kept),
            (None, Some(cached)) => cached.clone(),
            (None, None) => {
                let mapped = self.maps.target(self.to).map_target(&data_type);
                self.mapped_types.insert(data_type.clone(), mapped.clone());
                mapped
            }
        };
        let type_sql = match mapped {
            Ok(mapped) => {
                for note in mapped.notes {
                    self.finding(
                        note.severity,
                        &note.code,
                        &object,
                        note.message,
                        note.action,
                        location,
                    );
                }
                mapped.value
            }
            Err(error) => {
                self.finding(
                    Severity::Action,
                    "type.no-target",
                    &object,
                    format!("{error}: emitted as VARCHAR(65535)"),
                    "choose the target type by hand",
                    location,
                );
                "VARCHAR(65535)".into()
            }
        };
        let super_default = match (&column.default, self.to, type_sql.as_str()) {
            (Some(ColumnDefault::Expression(expression)), TargetDialect::Redshift, "SUPER")
                if !expression.trim().eq_ignore_ascii_case("NULL") =>
            {
                Some(expression)
            }
            _ => None,
        };
        let mut sql = format!("{name} {type_sql}");
        if let Some(identity) = identity {
            // Bounds are judged against the source's integer type (Redshift widens SMALLINT).
            let integer = identity_integer(&column.data_type).unwrap_or(LogicalType::BigInt);
            let mut target = TargetSequence::new(&identity, &integer);
            match self.to {
                TargetDialect::Redshift => {
                    if let Some(loss) = target.redshift_loss() {
                        self.finding(
                            Severity::Warning,
                            "identity.options",
                            &object,
                            loss,
                            "if anything relies on the numbers staying within the bounds (or on the wrap-around), enforce it in the loading process or the application",
                            location,
                        );
                    }
                    let _ = write!(
                        sql,
                        " GENERATED BY DEFAULT AS IDENTITY({}, {})",
                        identity.start, identity.increment
                    );
                }
                TargetDialect::Postgres => {
                    if let Some(bound) = target.fit_start() {
                        self.sequence_exhausted(&object, identity.start, bound, location);
                    }
                    let _ = write!(
                        sql,
                        " GENERATED BY DEFAULT AS IDENTITY ({})",
                        target.options_sql()
                    );
                }
            }
        } else if let Some(expression) = super_default {
            // A PostgreSQL array or JSON default (`'{}'::text[]`) has no SUPER form.
            self.finding(
                Severity::Warning,
                "default.super",
                &object,
                format!("the default `{}` is not written: the column becomes SUPER, whose values the default's type and syntax can't give", expression.trim()),
                "set the value in the loading process (for example JSON_PARSE('[]')), or leave the column NULL",
                location,
            );
        } else if let Some(ColumnDefault::Expression(expression)) = &column.default {
            match literal_default(&data_type, expression, self.from) {
                Some(LiteralDefault::Value(value)) => {
                    let _ = write!(sql, " DEFAULT {value}");
                }
                Some(LiteralDefault::Bytes(bytes)) => {
                    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
                    let _ = match self.to {
                        TargetDialect::Postgres => write!(sql, " DEFAULT '\\x{hex}'::BYTEA"),
                        TargetDialect::Redshift => write!(sql, " DEFAULT FROM_HEX('{hex}')"),
                    };
                }
                Some(LiteralDefault::ZeroDate) => {
                    self.zero_date_default(column, expression, &object);
                }
                Some(LiteralDefault::TimeOutOfRange) => self.finding(
                    Severity::Warning,
                    "default.time-range",
                    &object,
                    format!(
                        "the default {} is no time of day (a MySQL TIME is a duration), which the target's TIME (00:00:00 to 24:00:00) can't hold: the column has no default, and {}",
                        expression.trim(),
                        without_default(column, "a time")
                    ),
                    "give the column a default within a day in the source, or, if it holds durations, make it an INTERVAL and set the default by hand",
                    location,
                ),
                Some(LiteralDefault::NoSuchDate) => self.finding(
                    Severity::Warning,
                    "default.invalid-date",
                    &object,
                    format!(
                        "the default {} is a date that does not exist (MySQL keeps it as written under sql_mode ALLOW_INVALID_DATES), which no target date can hold: the column has no default, and {}",
                        expression.trim(),
                        without_default(column, "a date")
                    ),
                    "give the column a real date as its default in the source (the month's last day, say), or set the default by hand in the target",
                    location,
                ),
                None if self.from == SourceDialect::Mysql && calls_sequence(expression) => {
                    // Only a whole `nextval(s)` becomes an identity; the targets read the
                    // sequence's name in `nextval(s) * 10` as a column.
                    self.finding(
                        Severity::Warning,
                        "expression.not-converted",
                        &object,
                        format!("the default `{}` could not be translated (it takes a value from a MariaDB sequence within an expression; only a default that is just `nextval(s)` becomes an identity column) and was dropped", expression.trim()),
                        "write the default by hand in the target",
                        location,
                    );
                }
                None => {
                    let default = self.default_expression(table, expression, &object, location);
                    match default {
                        Some(default) if self.placement == Checks::SeparateWithDefaults => {
                            self.defaults.push(SeparateStatement {
                                object: object.clone(),
                                sql: format!("ALTER TABLE {table_name} ALTER COLUMN {name} SET DEFAULT {default}"),
                            });
                        }
                        Some(default) => {
                            let _ = write!(sql, " DEFAULT {default}");
                        }
                        None => {}
                    }
                }
            }
        }
        if !column.nullable {
            sql.push_str(" NOT NULL");
        }
        if let Some(expression) = &column.generated {
            self.finding(
                Severity::Warning,
                "column.generated",
                &object,
                format!("generated column `{expression}` becomes a stored column: the target does not compute it"),
                "`migrate replicate` copies the computed values; compute new values in the loading process",
                location,
            );
        }
        if let Some(on_update) = &column.on_update {
            self.finding(
                Severity::Warning,
                "column.on-update",
                &object,
                format!("ON UPDATE {on_update} is not supported by the target"),
                "set the column in the statements or process that update rows",
                location,
            );
        }
        if let Some(encoding) = encoding {
            let _ = write!(sql, " ENCODE {}", encoding.as_sql());
        }
        sql
    }

    /// A zero-date default is left out: no date has that value in the target. Rows holding the
    /// zero date stop the load too (see source-mysql.md), which matters most for NOT NULL columns.
    fn zero_date_default(&mut self, column: &Column, expression: &str, object: &str) {
        let (consequence, action) = if column.nullable {
            (
                "rows inserted without a value get NULL",
                "load zero dates as NULL (NULLIF(col, '0000-00-00')) or replace them in the source",
            )
        } else {
            (
                "the column stays NOT NULL, so inserts must give a date, and its zero dates can't be loaded as NULL either",
                "replace the zero dates in the source (and the default) by a real date, or make the column nullable and load them as NULL",
            )
        };
        self.finding(
            Severity::Warning,
            "default.zero-date",
            object,
            format!("the default {} is a zero date, which no target date can hold: the column has no default, and {consequence}", expression.trim()),
            action,
            column.location.as_ref(),
        );
    }

    /// A column whose default is a sequence's next value becomes an identity column seeded
    /// from the sequence (see [`nullable_sequence_default`] for the exception).
    fn identity_from_sequence(&mut self, column: &Column, object: &str) -> Option<Identity> {
        let Some(ColumnDefault::Sequence(name)) = &column.default else {
            return None;
        };
        match self.catalog.sequence(name) {
            Some(sequence) => Some(sequence.identity()),
            None => {
                self.finding(
                    Severity::Warning,
                    "identity.sequence-unknown",
                    object,
                    format!("the default takes values from sequence {name}, which is not defined in the converted scripts: IDENTITY(1, 1) is used"),
                    "convert the script that creates the sequence in the same run, or adjust the seed",
                    column.location.as_ref(),
                );
                Some(Identity::default())
            }
        }
    }

    /// Identity columns must be integers in both targets.
    fn identity_type(
        &mut self,
        data_type: &LogicalType,
        object: &str,
        location: Option<&migrate_core::SourceLocation>,
    ) -> LogicalType {
        match identity_integer(data_type) {
            // Redshift's IDENTITY columns are INTEGER or BIGINT only.
            Some(LogicalType::SmallInt) if self.to == TargetDialect::Redshift => {
                self.finding(
                    Severity::Info,
                    "identity.widened",
                    object,
                    "SMALLINT identity column becomes INTEGER: Redshift's identity columns are INTEGER or BIGINT",
                    "none",
                    location,
                );
                LogicalType::Integer
            }
            Some(integer) => integer,
            None => {
                let other = data_type;
                self.finding(
                    Severity::Warning,
                    "identity.type",
                    object,
                    format!("identity column of type {other}: identity columns are BIGINT in the target"),
                    "check that the generated values fit in 64-bit integers",
                    location,
                );
                LogicalType::BigInt
            }
        }
    }

    /// What the rewriter knows of the catalog, for an expression of `table`.
    fn rewrite_context(&self, table: &Table) -> Context {
        Context {
            types: Some(self.types.clone()),
            table: Some(table.name.name.value.clone()),
            user_types: self.user_types.clone(),
            cast_types: Some(self.cast_types.clone()),
            ..Context::default()
        }
    }

    /// Rewrites an expression of `table` (a default, a check, an index key) into the target
    /// dialect; references to its columns written under another name follow the new name.
    fn rewrite_in_table(
        &self,
        table: &Table,
        expression: &str,
        context: &Context,
    ) -> Result<Rewritten, migrate_sqlrewrite::RewriteError> {
        let hidden = self
            .index
            .find(&self.catalog.tables, &table.name)
            .filter(|&position| std::ptr::eq(&self.catalog.tables[position], table))
            .and_then(|position| {
                hide_renamed_columns(expression, self.from, |column| {
                    let index = column_position(table, column)?;
                    self.renamed_columns.get(&(position, index)).cloned()
                })
            });
        match hidden {
            Some(hidden) => {
                let mut rewritten =
                    rewrite_expression_in(&hidden.text, self.from, self.to, context)?;
                rewritten.sql = hidden.restore(&rewritten.sql);
                Ok(rewritten)
            }
            None => rewrite_expression_in(expression, self.from, self.to, context),
        }
    }

    /// Rewrites a condition of `table` (a CHECK's, a partial index's) into the target dialect,
    /// or reports why not.
    fn expression(
        &mut self,
        table: &Table,
        expression: &str,
        object: &str,
        what: &str,
        location: Option<&migrate_core::SourceLocation>,
    ) -> Option<String> {
        // MySQL takes a number, text or a date as a condition (`CHECK (qty)`).
        let context = Context {
            condition: true,
            ..self.rewrite_context(table)
        };
        match self.rewrite_in_table(table, expression, &context) {
            Ok(rewritten) => self.accept_rewrite(rewritten, object, location),
            Err(error) => {
                self.not_converted(object, what, expression, &error.to_string(), location);
                None
            }
        }
    }

    /// A column's default expression in the target. MySQL and Oracle take no stored function in
    /// a default, so a call the function map doesn't know is a built-in the target lacks, which
    /// would fail the table's CREATE: the default is left out instead.
    fn default_expression(
        &mut self,
        table: &Table,
        expression: &str,
        object: &str,
        location: Option<&migrate_core::SourceLocation>,
    ) -> Option<String> {
        let context = self.rewrite_context(table);
        let rewritten = match self.rewrite_in_table(table, expression, &context) {
            Ok(rewritten) => rewritten,
            Err(error) => {
                self.not_converted(object, "default", expression, &error.to_string(), location);
                return None;
            }
        };
        let unknown: Vec<&str> = rewritten
            .unverified_calls()
            .map(|note| note.message.as_str())
            .collect();
        if unknown.is_empty() || !matches!(self.from, SourceDialect::Mysql | SourceDialect::Oracle)
        {
            return self.accept_rewrite(rewritten, object, location);
        }
        let reason = format!(
            "{}; {} takes no stored function in a default, so the target lacks this built-in",
            unknown.join("; "),
            self.from
        );
        self.not_converted(object, "default", expression, &reason, location);
        None
    }

    /// `expression.not-converted`: the `what` (a default, a CHECK condition) is left out.
    fn not_converted(
        &mut self,
        object: &str,
        what: &str,
        expression: &str,
        reason: &str,
        location: Option<&migrate_core::SourceLocation>,
    ) {
        self.finding(
            Severity::Warning,
            "expression.not-converted",
            object,
            format!("the {what} `{expression}` could not be translated ({reason}) and was dropped"),
            format!("write the {what} by hand in the target"),
            location,
        );
    }

    /// Keeps a rewrite unless one of its notes says it needs manual action.
    fn accept_rewrite(
        &mut self,
        rewritten: Rewritten,
        object: &str,
        location: Option<&migrate_core::SourceLocation>,
    ) -> Option<String> {
        let blocked = rewritten
            .notes
            .iter()
            .any(|n| n.severity == Severity::Action);
        for note in rewritten.notes {
            self.finding(
                note.severity,
                &note.code,
                object,
                note.message,
                note.action,
                location,
            );
        }
        (!blocked).then_some(rewritten.sql)
    }

    fn inline_constraint(
        &mut self,
        table_index: usize,
        table: &Table,
        constraint: &Constraint,
    ) -> Option<String> {
        let object = constraint_object(table, constraint);
        let location = table.location.as_ref();
        let mut check = None;
        let body = match &constraint.kind {
            ConstraintKind::PrimaryKey(columns) => {
                let columns = self.column_names(table_index, columns, &object);
                let (_, include) =
                    self.index_options(table_index, &constraint.index, &columns, &object, location);
                format!("PRIMARY KEY ({columns}){include}")
            }
            ConstraintKind::Unique(columns) => {
                let columns = self.column_names(table_index, columns, &object);
                let (nulls, include) =
                    self.index_options(table_index, &constraint.index, &columns, &object, location);
                format!("UNIQUE{nulls} ({columns}){include}")
            }
            ConstraintKind::ForeignKey(_) => return None,
            ConstraintKind::Check(condition) => {
                if self.to == TargetDialect::Redshift {
                    self.finding(
                        Severity::Warning,
                        "constraint.check-dropped",
                        &object,
                        format!("CHECK ({condition}) dropped: Redshift does not support CHECK constraints"),
                        "validate these values in the loading process or with a periodic query",
                        location,
                    );
                    return None;
                }
                let rewritten =
                    self.expression(table, condition, &object, "CHECK condition", location)?;
                let body = format!("CHECK ({rewritten})");
                check = Some((condition, rewritten));
                body
            }
        };
        if !self.keep_constraint(constraint, &object, location) {
            return None;
        }
        if let ConstraintKind::PrimaryKey(columns) | ConstraintKind::Unique(columns) =
            &constraint.kind
        {
            self.wide_key(table, columns, &object, location);
        }
        let deferral = self.deferral(constraint, &object, location);
        let creates_index = matches!(
            constraint.kind,
            ConstraintKind::PrimaryKey(_) | ConstraintKind::Unique(_)
        );
        let clause = match &constraint.name {
            Some(name) => {
                let name = self.constraint_name(table_index, name, creates_index, &object);
                format!("CONSTRAINT {name} {body}{deferral}")
            }
            None => format!("{body}{deferral}"),
        };
        match check {
            Some((condition, rewritten)) => {
                self.place_check(table_index, table, condition, &rewritten, clause, &object)
            }
            None => Some(clause),
        }
    }

    /// A CHECK `clause` (of source `condition`, `rewritten` for the target) where
    /// [`Emitter::placement`] puts it: in the table, or apart. One that compares text from MySQL
    /// is not written (see [`migrate_sqlrewrite::collated_comparisons`]): PostgreSQL, the only
    /// target with CHECKs, would refuse rows the source accepted.
    fn place_check(
        &mut self,
        table_index: usize,
        table: &Table,
        condition: &str,
        rewritten: &str,
        clause: String,
        object: &str,
    ) -> Option<String> {
        let table_name = self.table_name(table_index);
        let statement = format!("ALTER TABLE {table_name} ADD {clause}");
        let context = self.rewrite_context(table);
        let compared =
            match migrate_sqlrewrite::collated_comparisons(condition, self.from, &context) {
                Ok(compared) if compared.is_empty() => None,
                Ok(compared) => Some(format!("it compares text ({})", compared.join(", "))),
                Err(error) => Some(format!(
                    "it could not be read to see whether it compares text ({error})"
                )),
            };
        if let Some(why) = compared {
            self.finding(
                Severity::Warning,
                "constraint.check-collation",
                object,
                format!("CHECK ({condition}) is not created: {why}, which MySQL does under the column's collation (the default ones ignore case and trailing spaces: 'OPEN ' = 'open'; _bin and _cs ones, but for NO PAD ones, trailing spaces) and PostgreSQL does exactly, so the target would refuse rows the source accepted"),
                format!("find the rows PostgreSQL would refuse once the data is loaded (SELECT * FROM {table_name} WHERE NOT ({rewritten})), correct them, then add it: {statement}; or add a condition that ignores case and trailing spaces as the source does (with lower() and rtrim())"),
                table.location.as_ref(),
            );
            return None;
        }
        match self.placement {
            Checks::Inline => Some(clause),
            Checks::Separate | Checks::SeparateWithDefaults => {
                self.checks.push(SeparateStatement {
                    object: object.to_string(),
                    sql: statement,
                });
                None
            }
        }
    }

    /// A key's or index's `NULLS NOT DISTINCT` and `INCLUDE (...)` clauses as the target has
    /// them: PostgreSQL keeps both (`NULLS NOT DISTINCT` needs PostgreSQL 15). Redshift has no
    /// indexes, so `INCLUDE` has no meaning there; a dropped `NULLS NOT DISTINCT` changes which
    /// rows the key accepts, so it gets a warning (`key_columns` names the key in it).
    fn index_options(
        &mut self,
        table_index: usize,
        options: &IndexOptions,
        key_columns: &str,
        object: &str,
        location: Option<&migrate_core::SourceLocation>,
    ) -> (&'static str, String) {
        if self.to == TargetDialect::Redshift {
            if options.nulls_not_distinct {
                self.finding(
                    Severity::Warning,
                    "constraint.nulls-not-distinct",
                    object,
                    format!("NULLS NOT DISTINCT of the unique key ({key_columns}) is dropped: the target accepts several rows with the same key where some of its columns are NULL, which the source refuses"),
                    "keep the rule in the application that writes the table",
                    location,
                );
            }
            return ("", String::new());
        }
        let nulls = if options.nulls_not_distinct {
            " NULLS NOT DISTINCT"
        } else {
            ""
        };
        let include = if options.include.is_empty() {
            String::new()
        } else {
            format!(
                " INCLUDE ({})",
                self.column_names(table_index, &options.include, object)
            )
        };
        (nulls, include)
    }

    /// A foreign key's `MATCH FULL`, `ON DELETE` or `ON UPDATE` clause as the target has it:
    /// PostgreSQL keeps it; Redshift, whose foreign keys are informational and never act, drops
    /// it with an info finding.
    fn referential_clause(
        &mut self,
        clause: Option<String>,
        dropped: DroppedClause,
        object: &str,
        location: Option<&migrate_core::SourceLocation>,
    ) -> String {
        match clause {
            Some(clause) if self.to == TargetDialect::Postgres => format!(" {clause}"),
            Some(clause) => {
                self.finding(
                    Severity::Info,
                    dropped.code,
                    object,
                    format!(
                        "{clause} dropped: Redshift foreign keys are informational and never act"
                    ),
                    dropped.fix,
                    location,
                );
                String::new()
            }
            None => String::new(),
        }
    }

    /// A DEFERRABLE clause, written where the target honours it: PostgreSQL keys and foreign
    /// keys (a CHECK is always checked at once there; it tests only its own row, so deferring it
    /// matters little). Redshift doesn't enforce constraints, so when they would be checked has
    /// no meaning there.
    fn deferral(
        &mut self,
        constraint: &Constraint,
        object: &str,
        location: Option<&migrate_core::SourceLocation>,
    ) -> &'static str {
        let clause = match constraint.state.deferral {
            Deferral::NotDeferrable => return "",
            Deferral::Immediate => " DEFERRABLE",
            Deferral::Deferred => " DEFERRABLE INITIALLY DEFERRED",
        };
        let keeps = self.to == TargetDialect::Postgres
            && !matches!(constraint.kind, ConstraintKind::Check(_));
        if keeps {
            return clause;
        }
        let why = match self.to {
            TargetDialect::Postgres => "PostgreSQL can't defer a CHECK constraint",
            TargetDialect::Redshift => "Redshift doesn't enforce constraints",
        };
        self.finding(
            Severity::Info,
            "constraint.deferrable",
            object,
            format!("{} dropped: {why}", clause.trim_start()),
            "none",
            location,
        );
        ""
    }

    /// Whether a source constraint is written. PostgreSQL enforces constraints, so disabled ones
    /// are left out, and so are foreign keys and CHECKs the source did not validate: PostgreSQL
    /// checks every row loaded after them, even `NOT VALID` ones. Redshift's planner trusts its
    /// (unenforced) keys, so only constraints the source validated, or marked RELY, are written
    /// there.
    fn keep_constraint(
        &mut self,
        constraint: &Constraint,
        object: &str,
        location: Option<&migrate_core::SourceLocation>,
    ) -> bool {
        let state = constraint.state;
        match self.to {
            TargetDialect::Postgres if !state.enabled => {
                self.finding(
                    Severity::Info,
                    "constraint.disabled",
                    object,
                    "disabled in the source, so not created: PostgreSQL would enforce it",
                    "create it after checking that the data satisfies it",
                    location,
                );
                false
            }
            TargetDialect::Postgres if !state.validated => {
                let action = match constraint.kind {
                    ConstraintKind::ForeignKey(_) | ConstraintKind::Check(_) => {
                        "after loading the data, add it with ALTER TABLE ... ADD CONSTRAINT ... NOT VALID (new rows are checked, existing rows are not)"
                    }
                    // PostgreSQL has no NOT VALID key: duplicates must go first.
                    _ => "after loading the data, look for duplicates (GROUP BY the key's columns HAVING COUNT(*) > 1), remove them, then add the key",
                };
                self.finding(
                    Severity::Warning,
                    "constraint.not-validated",
                    object,
                    "not validated in the source (NOVALIDATE), so existing rows may break it; not created, since PostgreSQL checks every row loaded after it",
                    action,
                    location,
                );
                false
            }
            TargetDialect::Redshift if !(state.rely || state.enabled && state.validated) => {
                self.finding(
                    Severity::Warning,
                    "constraint.not-trusted",
                    object,
                    "not validated in the source (and not RELY), so not created: Redshift's planner assumes declared keys hold, and wrong results follow if the data breaks one",
                    "create it after checking that the data satisfies it",
                    location,
                );
                false
            }
            _ => true,
        }
    }

    fn columns(&mut self, columns: &[Ident], object: &str) -> String {
        columns
            .iter()
            .map(|c| self.ident(c, object))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn layout_clauses(&mut self, table_index: usize, table: &Table, layout: &TableLayout) {
        let object = table.name.to_string();
        match &layout.diststyle {
            DistStyle::Auto => self.out.push_str("\nDISTSTYLE AUTO"),
            DistStyle::Even => self.out.push_str("\nDISTSTYLE EVEN"),
            DistStyle::All => self.out.push_str("\nDISTSTYLE ALL"),
            DistStyle::Key(column) => {
                let column = self.column_name(table_index, column, &object);
                let _ = write!(self.out, "\nDISTSTYLE KEY\nDISTKEY ({column})");
            }
        }
        if !layout.sortkey.is_empty() {
            let columns = self.column_names(table_index, &layout.sortkey, &object);
            let _ = write!(self.out, "\nCOMPOUND SORTKEY ({columns})");
        }
    }

    fn foreign_keys(&mut self, table_index: usize, table: &Table) {
        for constraint in &table.constraints {
            let ConstraintKind::ForeignKey(fk) = &constraint.kind else {
                continue;
            };
            let object = constraint_object(table, constraint);
            let Some((referenced_index, referenced)) = self.lookup(&fk.referenced_table) else {
                self.finding(
                    Severity::Warning,
                    "constraint.foreign-key-target",
                    &object,
                    format!(
                        "references {}, which is not defined in the converted scripts: not created",
                        fk.referenced_table
                    ),
                    "convert the referenced table in the same run, or add the key by hand",
                    table.location.as_ref(),
                );
                continue;
            };
            if !self.keep_constraint(constraint, &object, table.location.as_ref()) {
                continue;
            }
            if self.to == TargetDialect::Postgres
                && !has_created_key(referenced, &fk.referenced_columns)
            {
                self.finding(
                    Severity::Warning,
                    "constraint.foreign-key-unkeyed",
                    &object,
                    format!("{} has no enabled and validated primary or unique key on the referenced columns, which PostgreSQL requires: not created", referenced.name),
                    "enable (and validate) the referenced key in the source, or add both keys by hand once the data satisfies them",
                    table.location.as_ref(),
                );
                continue;
            }
            let table_name = self.table_name(table_index);
            let referenced_name = self.table_name(referenced_index);
            let columns = self.column_names(table_index, &fk.columns, &object);
            let referenced_columns = if fk.referenced_columns.is_empty() {
                String::new()
            } else {
                let names = self.column_names(referenced_index, &fk.referenced_columns, &object);
                format!(" ({names})")
            };
            let constraint_name = match &constraint.name {
                Some(name) => {
                    let name = self.constraint_name(table_index, name, false, &object);
                    format!("CONSTRAINT {name} ")
                }
                None => String::new(),
            };
            let location = table.location.as_ref();
            let clauses = [
                (
                    fk.match_full.then(|| "MATCH FULL".to_string()),
                    DroppedClause {
                        code: "constraint.match-full",
                        fix: "check in the loading process that no key has some columns NULL \
                              and others not, if the source relied on it",
                    },
                ),
                (
                    fk.on_delete.as_ref().map(|action| format!("ON DELETE {action}")),
                    DroppedClause {
                        code: "constraint.on-delete",
                        fix: "delete dependent rows in the loading process if the source relied on it",
                    },
                ),
                (
                    fk.on_update.as_ref().map(|action| format!("ON UPDATE {action}")),
                    DroppedClause {
                        code: "constraint.on-update",
                        fix: "update dependent rows in the loading process if the source relied on it",
                    },
                ),
            ];
            let mut referential = String::new();
            for (clause, dropped) in clauses {
                referential += &self.referential_clause(clause, dropped, &object, location);
            }
            let deferral = self.deferral(constraint, &object, table.location.as_ref());
            let _ = writeln!(
                self.out,
                "ALTER TABLE {table_name} ADD {constraint_name}FOREIGN KEY ({columns}) REFERENCES {referenced_name}{referenced_columns}{referential}{deferral};"
            );
            self.summary.foreign_keys += 1;
        }
    }

    fn comments(&mut self, table_index: usize, table: &Table) {
        let object = table.name.to_string();
        let name = self.table_name(table_index);
        if let Some(comment) = &table.comment {
            let _ = writeln!(
                self.out,
                "COMMENT ON TABLE {name} IS {};",
                quote_literal(comment)
            );
            self.summary.comments += 1;
        }
        for column in &table.columns {
            if let Some(comment) = &column.comment {
                let column_name = self.column_name(table_index, &column.name, &object);
                let _ = writeln!(
                    self.out,
                    "COMMENT ON COLUMN {name}.{column_name} IS {};",
                    quote_literal(comment)
                );
                self.summary.comments += 1;
            }
        }
    }

    /// Redshift has no indexes: one finding per table names them (the sort key replaces them).
    /// PostgreSQL gets the plain-column indexes that no key constraint already provides.
    fn indexes(&mut self) {
        let catalog = self.catalog;
        if self.to == TargetDialect::Redshift {
            // One finding per table, in the order the tables were first indexed.
            let mut by_table: Vec<(String, Vec<&str>)> = Vec::new();
            let mut position: HashMap<String, usize> = HashMap::new();
            for index in &catalog.indexes {
                let table = index.table.to_string();
                let slot = *position.entry(table.clone()).or_insert_with(|| {
                    by_table.push((table, Vec::new()));
                    by_table.len() - 1
                });
                by_table[slot].1.push(&index.name.name.value);
            }
            for (table, names) in by_table {
                self.finding(
                    Severity::Info,
                    "index.not-created",
                    table,
                    format!("Redshift has no indexes; not created: {}", names.join(", ")),
                    "none: the sort key and zone maps serve range and equality filters",
                    None,
                );
            }
            return;
        }
        let mut created = false;
        for index in &catalog.indexes {
            let object = format!("index {}", index.name);
            let Some((table_index, table)) = self.lookup(&index.table) else {
                self.finding(
                    Severity::Warning,
                    "index.table-unknown",
                    &object,
                    format!(
                        "is on {}, which is not a table of the converted scripts (a partition is not one: its rows belong to its parent in the target): not created",
                        index.table
                    ),
                    "convert its table in the same run; for a partition, create the index on the parent if queries need it",
                    index.location.as_ref(),
                );
                continue;
            };
            let columns: Option<Vec<(Ident, &str)>> = index
                .columns
                .iter()
                .map(|c| {
                    index_key(table, c, self.from).map(|(col, order)| (col.name.clone(), order))
                })
                .collect();
            let keys = match columns {
                Some(columns) => {
                    if let Some(key) = redundant_with(table, index, &columns) {
                        let key = constraint_object(table, key);
                        self.finding(
                            Severity::Info,
                            "index.redundant",
                            &object,
                            format!(
                                "has the columns of {key}, whose own index the target creates: not created"
                            ),
                            "none",
                            index.location.as_ref(),
                        );
                        continue;
                    }
                    columns
                        .into_iter()
                        .map(|(column, order)| IndexKey::Column(column, order))
                        .collect()
                }
                None => {
                    let prefix = (self.from == SourceDialect::Mysql)
                        .then(|| index.columns.iter().find_map(|c| mysql_prefix(table, c)))
                        .flatten();
                    let keys = match prefix {
                        Some((column, length)) => {
                            Err(format!("a MySQL prefix of {length} characters of {column}"))
                        }
                        None => self.expression_keys(table, index, &object),
                    };
                    match keys {
                        Ok(keys) => keys,
                        Err(why) => {
                            self.index_not_created(index, prefix, &why, &object);
                            continue;
                        }
                    }
                }
            };
            if matches!(index.kind, IndexKind::FullText | IndexKind::Spatial) {
                self.finding(
                    Severity::Info,
                    "index.not-created",
                    &object,
                    "full-text and spatial indexes are not created",
                    "create a PostgreSQL full-text (GIN on tsvector) or PostGIS index by hand if queries need it",
                    index.location.as_ref(),
                );
                continue;
            }
            // Access methods and their operator classes are PostgreSQL's own.
            let method = match (&index.method, self.from) {
                (Some(method), SourceDialect::Postgres) => format!(" USING {method}"),
                (Some(method), _) => {
                    self.finding(
                        Severity::Info,
                        "index.not-created",
                        &object,
                        format!("index using `{method}` not created"),
                        "create an equivalent index by hand if queries need it",
                        index.location.as_ref(),
                    );
                    continue;
                }
                (None, _) => String::new(),
            };
            // A partial index keeps its WHERE: without it a unique index would forbid more.
            let predicate = match &index.predicate {
                Some(predicate) => match self.expression(
                    table,
                    predicate,
                    &object,
                    "partial index condition",
                    index.location.as_ref(),
                ) {
                    Some(rewritten) => format!(" WHERE {rewritten}"),
                    None => continue,
                },
                None => String::new(),
            };
            let table_name = self.table_name(table_index);
            let mut index_name = self.ident(&index.name.name, &object);
            // Index names are per table in MySQL but share one namespace per schema with the
            // tables in PostgreSQL: a taken name becomes `<table>_<index>`, and if that is taken
            // too (long names cut to the same bytes), gets a free suffix.
            let schema = self.schema_name(table_index);
            let taken = |relations: &HashSet<(String, String)>, candidate: &str| {
                relations.contains(&(schema.clone(), candidate.to_string()))
            };
            if taken(&self.relation_names, &index_name) {
                let renamed = format!("{}_{}", table.name.name.value, index.name.name.value);
                index_name = self.ident(&Ident::new(renamed.as_str()), &object);
                if taken(&self.relation_names, &index_name) {
                    index_name = free_target_ident(&renamed, self.to, |candidate| {
                        taken(&self.relation_names, candidate)
                    });
                }
                self.finding(
                    Severity::Info,
                    "index.renamed",
                    &object,
                    format!("another index or table of the schema has this name: created as {index_name}"),
                    "none",
                    index.location.as_ref(),
                );
            }
            self.relation_names.insert((schema, index_name.clone()));
            let column_list = keys
                .iter()
                .map(|key| match key {
                    IndexKey::Column(column, order) => {
                        let name = self.column_name(table_index, column, &object);
                        if order.is_empty() {
                            name
                        } else {
                            format!("{name} {order}")
                        }
                    }
                    IndexKey::Expression(sql) => sql.clone(),
                })
                .collect::<Vec<_>>()
                .join(", ");
            let (nulls, include) = self.index_options(
                table_index,
                &index.options,
                &column_list,
                &object,
                index.location.as_ref(),
            );
            let columns: Option<Vec<Ident>> = keys
                .iter()
                .map(|key| match key {
                    IndexKey::Column(column, _) => Some(column.clone()),
                    IndexKey::Expression(_) => None,
                })
                .collect();
            if let (Some(columns), None, IndexKind::BTree) = (columns, &index.method, index.kind) {
                self.wide_key(table, &columns, &object, index.location.as_ref());
            }
            let unique = if index.unique { "UNIQUE " } else { "" };
            let _ = writeln!(
                self.out,
                "CREATE {unique}INDEX {index_name} ON {table_name}{method} ({column_list}){include}{nulls}{predicate};"
            );
            self.summary.indexes += 1;
            created = true;
        }
        if created {
            self.out.push('\n');
        }
    }

    /// The keys of an index with expressions among them, each expression rewritten into the
    /// target dialect with its ordering (and a PostgreSQL source's operator class) kept; or why
    /// the index can't be created (then none of the rewrites' findings is reported: the caller
    /// reports the index).
    fn expression_keys<'k>(
        &mut self,
        table: &Table,
        index: &'k Index,
        object: &str,
    ) -> Result<Vec<IndexKey<'k>>, String> {
        let context = self.rewrite_context(table);
        let mut keys = Vec::with_capacity(index.columns.len());
        let mut rewrites = Vec::new();
        for text in &index.columns {
            if let Some((column, order)) = index_key(table, text, self.from) {
                keys.push(IndexKey::Column(column.name.clone(), order));
                continue;
            }
            if text == Index::UNREAD_EXPRESSION {
                return Err("a key whose expression discovery could not read".into());
            }
            let (expression, ordering) = split_ordering(text);
            let translate = |sql: &str| self.rewrite_in_table(table, sql, &context);
            // A PostgreSQL key may end with an operator class: `lower(name) text_pattern_ops`.
            let with_opclass = || {
                let (head, opclass) = expression.rsplit_once(char::is_whitespace)?;
                translate(head).ok().map(|rewritten| (rewritten, opclass))
            };
            let (rewritten, opclass) = match translate(expression) {
                Ok(rewritten) => (rewritten, ""),
                Err(error) => {
                    match (self.from == SourceDialect::Postgres)
                        .then(with_opclass)
                        .flatten()
                    {
                        Some(found) => found,
                        None => {
                            return Err(format!("`{expression}` could not be translated ({error})"))
                        }
                    }
                }
            };
            if let Some(function) = not_immutable_call(&rewritten.sql) {
                return Err(format!(
                    "`{}` uses {function}, which PostgreSQL does not allow in an index (it is not IMMUTABLE)",
                    rewritten.sql
                ));
            }
            rewrites.push((keys.len(), rewritten, [opclass, ordering]));
            keys.push(IndexKey::Expression(String::new()));
        }
        let location = index.location.as_ref();
        for (position, rewritten, suffixes) in rewrites {
            let written = rewritten.sql.clone();
            let Some(sql) = self.accept_rewrite(rewritten, object, location) else {
                return Err(format!("`{written}` needs a rewrite by hand"));
            };
            let mut key = parenthesized(sql);
            for suffix in suffixes.iter().filter(|s| !s.is_empty()) {
                key.push(' ');
                key.push_str(suffix);
            }
            keys[position] = IndexKey::Expression(key);
        }
        Ok(keys)
    }

    /// Reports an index that a PostgreSQL target does not get: a key is an expression that can't
    /// be created (`why`), or a MySQL `prefix` (column, length).
    fn index_not_created(
        &mut self,
        index: &Index,
        prefix: Option<(&str, u32)>,
        why: &str,
        object: &str,
    ) {
        let location = index.location.as_ref();
        if index.unique {
            // Not an index for speed only: the source refuses rows this one would.
            self.finding(
                Severity::Warning,
                "index.unique-not-created",
                object,
                format!(
                    "unique index on ({}) not created ({why}): the target accepts the duplicates the source refuses",
                    index.columns.join(", ")
                ),
                "enforce the rule by hand (on PostgreSQL, a unique index on an equivalent expression) or in the application that writes the table",
                location,
            );
        } else if let Some((column, length)) = prefix {
            self.finding(
                Severity::Info,
                "index.prefix",
                object,
                format!("indexes the first {length} characters of {column} (a MySQL prefix index), which PostgreSQL can't: not created"),
                "create an index on the whole column, or on left(column, n) for queries that filter on that expression, if queries need it",
                location,
            );
        } else {
            self.finding(
                Severity::Info,
                "index.expression",
                object,
                format!("index on ({}) not created: {why}", index.columns.join(", ")),
                "create an equivalent index by hand if queries need it",
                location,
            );
        }
    }

    /// Reports a key or index on `columns` of `table` (`object`) whose values may make a
    /// B-tree entry longer than a PostgreSQL target takes ([`wide_key`]). Not for a PostgreSQL
    /// source: its own B-tree index already refused such values. Not for Redshift: no indexes.
    fn wide_key(
        &mut self,
        table: &Table,
        columns: &[Ident],
        object: &str,
        location: Option<&migrate_core::SourceLocation>,
    ) {
        if self.to != TargetDialect::Postgres || self.from == SourceDialect::Postgres {
            return;
        }
        let Some(width) = wide_key(table, columns) else {
            return;
        };
        let names: Vec<&str> = columns.iter().map(|c| c.value.as_str()).collect();
        self.finding(
            Severity::Warning,
            "index.key-too-wide",
            object,
            format!(
                "the B-tree index on ({}) takes values {width}, but PostgreSQL refuses an index entry over {BTREE_MAX_ENTRY_BYTES} bytes: a longer value fails the load of its table (and any later insert of it)",
                names.join(", ")
            ),
            "if values can be that long, shorten the key (a narrower type, or other columns), or drop it from the B-tree: enforce uniqueness with a unique index on md5(column) (or on a generated column holding it) and serve lookups with a hash index (USING hash); `migrate replicate` measures the longest value before it loads the table",
            location,
        );
    }

    /// Sequences that no column uses: PostgreSQL keeps them, Redshift has none.
    fn sequences(&mut self, used: &BTreeSet<usize>) {
        let catalog = self.catalog;
        for (_, sequence) in catalog
            .sequences
            .iter()
            .enumerate()
            .filter(|(index, _)| !used.contains(index))
        {
            let object = format!("sequence {}", sequence.name);
            match self.to {
                TargetDialect::Redshift => self.finding(
                    Severity::Warning,
                    "sequence.unsupported",
                    &object,
                    "Redshift has no sequences, and no column default uses this one",
                    "use an IDENTITY column, or generate keys in the loading process (triggers that fill keys from it are reported separately)",
                    sequence.location.as_ref(),
                ),
                TargetDialect::Postgres => {
                    // Written without `AS`: a BIGINT sequence.
                    let mut target =
                        TargetSequence::new(&sequence.identity(), &LogicalType::BigInt);
                    if let Some(bound) = target.fit_start() {
                        let location = sequence.location.as_ref();
                        self.sequence_exhausted(&object, sequence.start, bound, location);
                    }
                    let name = self.name(&sequence.name);
                    let _ = writeln!(
                        self.out,
                        "CREATE SEQUENCE {name} {};",
                        target.options_sql()
                    );
                }
            }
        }
    }

    /// A sequence (or identity) whose next value, `start`, is past `bound`, its MAXVALUE or
    /// MINVALUE, and which does not cycle: the source's gives no more values. The target can't
    /// start past a bound, so it has none there.
    fn sequence_exhausted(
        &mut self,
        object: &str,
        start: i64,
        bound: i64,
        location: Option<&migrate_core::SourceLocation>,
    ) {
        let option = if start > bound {
            "MAXVALUE"
        } else {
            "MINVALUE"
        };
        self.finding(
            Severity::Warning,
            "sequence.exhausted",
            object,
            format!("the source's sequence has given its last value: its next value, {start}, is past its {option} {bound} and it does not cycle, so the source stops with an error there. A target sequence can't start past its bound: it is created without {option} and continues from {start}"),
            "none if the target may go on numbering; otherwise raise the bound in the source (which can number no more rows) and convert again",
            location,
        );
    }

    fn view(&mut self, view: &migrate_core::View) {
        let object = format!("view {}", view.name);
        let location = view.location.as_ref();
        let catalog = self.catalog;
        let context = Context {
            types: Some(self.types.clone()),
            table: None,
            user_types: self.user_types.clone(),
            cast_types: Some(self.cast_types.clone()),
            renamed_tables: self
                .renamed_tables
                .iter()
                .map(|(&table, name)| (catalog.tables[table].name.clone(), name.clone()))
                .collect(),
            // Oracle reads a view's unqualified names in the view's schema, not the target's
            // search path.
            view_schema: match self.from {
                SourceDialect::Oracle => view.name.schema.clone(),
                _ => None,
            },
            unqualified_names: self.unqualified_names.clone(),
            condition: false,
        };
        let rewritten = match rewrite_query_in(&view.query, self.from, self.to, &context) {
            Ok(rewritten) => self.accept_rewrite(rewritten, &object, location),
            Err(error) => {
                let message = format!("the query could not be translated: {error}");
                let action = "rewrite the view by hand; its source is in the output as a comment";
                match &error {
                    // Constructs the parser can't read but recognises carry their own code.
                    migrate_sqlrewrite::RewriteError::Unsupported { code, .. } => {
                        self.finding(Severity::Action, code, &object, message, action, location)
                    }
                    _ => self.finding(
                        Severity::Action,
                        "view.not-converted",
                        &object,
                        message,
                        action,
                        location,
                    ),
                }
                None
            }
        };
        let name = self.name(&view.name);
        let Some(query) = rewritten else {
            let _ = writeln!(
                self.out,
                "-- NOT CONVERTED: view {name} (see findings). Source:"
            );
            for line in view.query.lines() {
                let _ = writeln!(self.out, "--   {line}");
            }
            self.out.push('\n');
            self.summary.not_converted += 1;
            return;
        };
        let columns = if view.columns.is_empty() {
            String::new()
        } else {
            format!(" ({})", self.columns(&view.columns, &object))
        };
        let kind = if view.materialized {
            "MATERIALIZED VIEW"
        } else {
            "VIEW"
        };
        let (parameters, check) = self.view_options(&view.options, &object, location);
        let (columns, query) = match (self.to, view.materialized, columns.is_empty()) {
            // Redshift's CREATE MATERIALIZED VIEW takes no column list: the names go on the
            // query's result instead.
            (TargetDialect::Redshift, true, false) => {
                let alias = self.ident(&view.name.name, &object);
                (
                    String::new(),
                    format!("SELECT * FROM (\n{query}\n) AS {alias}{columns}"),
                )
            }
            _ => (columns, query),
        };
        let _ = writeln!(
            self.out,
            "CREATE {kind} {name}{columns}{parameters} AS\n{query}{check};\n"
        );
        self.summary.views += 1;
    }

    /// The SQL of a view's options for the target, before `AS` and after the query: PostgreSQL
    /// keeps a PostgreSQL view's own. A check option of another source is not kept (PostgreSQL
    /// refuses it on a view it can't update, which a view of MySQL or Oracle may be); Redshift
    /// has none of them (and its views are read-only).
    fn view_options(
        &mut self,
        options: &ViewOptions,
        object: &str,
        location: Option<&migrate_core::SourceLocation>,
    ) -> (String, String) {
        let security: Vec<&str> = [
            (options.security_barrier, "security_barrier"),
            (options.security_invoker, "security_invoker"),
        ]
        .into_iter()
        .filter_map(|(set, name)| set.then_some(name))
        .collect();
        if self.to == TargetDialect::Postgres && self.from == SourceDialect::Postgres {
            let parameters = match security.is_empty() {
                true => String::new(),
                false => format!(
                    " WITH ({})",
                    security
                        .iter()
                        .map(|name| format!("{name} = true"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            let check = options
                .check
                .map(|scope| format!("\nWITH {} CHECK OPTION", scope.as_sql()))
                .unwrap_or_default();
            return (parameters, check);
        }
        if let Some(scope) = options.check {
            let (severity, why) = match self.to {
                TargetDialect::Redshift => (Severity::Info, "Redshift views are read-only, so there is nothing to check"),
                TargetDialect::Postgres => (Severity::Warning, "PostgreSQL accepts it only on a view it can update by itself, which the converted view may not be: rows written through the view are no longer checked against its query"),
            };
            self.finding(
                severity,
                "view.check-option",
                object,
                format!("WITH {} CHECK OPTION is not written: {why}", scope.as_sql()),
                match self.to {
                    TargetDialect::Redshift => "none",
                    TargetDialect::Postgres => "add WITH CHECK OPTION by hand if the view is updatable in PostgreSQL, or check the rows in the process that writes through the view",
                },
                location,
            );
        }
        if !security.is_empty() {
            self.finding(
                Severity::Warning,
                "view.security-option",
                object,
                format!("{} not written: Redshift views have no such option", security.join(" and ")),
                "check who may read the view and the tables under it: security_barrier kept functions from seeing rows the view filters out; security_invoker checked the reader's privileges on those tables, where Redshift checks the view owner's",
                location,
            );
        }
        if options.read_only && self.to == TargetDialect::Postgres {
            self.finding(
                Severity::Info,
                "view.read-only",
                object,
                "WITH READ ONLY is not written: PostgreSQL lets INSERT, UPDATE and DELETE through a simple view",
                "grant only SELECT on the view if it must stay read-only",
                location,
            );
        }
        (String::new(), String::new())
    }

    /// Synonyms of tables and views become views; others are reported.
    fn synonyms(&mut self, of: SynonymsOf) {
        let catalog = self.catalog;
        for synonym in &catalog.synonyms {
            let object = format!("synonym {}", synonym.name);
            let table = self.lookup(&synonym.target);
            let of_table = table.is_some();
            let of_view = catalog
                .views
                .iter()
                .any(|v| v.name.matches(&synonym.target));
            let this_pass = match of {
                SynonymsOf::Tables => of_table,
                SynonymsOf::Views => !of_table,
            };
            if !this_pass {
                continue;
            }
            if !(of_table || of_view) || synonym.name.matches(&synonym.target) {
                self.finding(
                    Severity::Warning,
                    "synonym.not-converted",
                    &object,
                    format!(
                        "synonym for {}, which is not a table or view of the converted scripts",
                        synonym.target
                    ),
                    "refer to the object by its own name in the target",
                    synonym.location.as_ref(),
                );
                continue;
            }
            let name = self.name(&synonym.name);
            let target = match table {
                Some((table_index, _)) => self.table_name(table_index),
                None => self.name(&synonym.target),
            };
            let _ = writeln!(self.out, "CREATE VIEW {name} AS SELECT * FROM {target};");
            self.finding(
                Severity::Info,
                "synonym.as-view",
                &object,
                format!("synonym created as a view over {target}"),
                "none",
                synonym.location.as_ref(),
            );
            self.summary.views += 1;
        }
    }
}

/// Which synonyms a pass writes: table synonyms go before the views, the rest after them.
#[derive(Clone, Copy)]
enum SynonymsOf {
    Tables,
    Views,
}

/// The type and collation of every column of the catalog, for the rewrites.
fn column_types(catalog: &Catalog) -> ColumnTypes {
    let mut types = ColumnTypes::new();
    for table in &catalog.tables {
        for column in &table.columns {
            types.insert_column(&table.name.name.value, column);
        }
    }
    types
}

/// User-defined types by lower-case name, with the target type their columns get. Mapping notes
/// are reported on each column of the type, not here.
fn user_type_targets(catalog: &Catalog, to: TargetDialect) -> HashMap<String, String> {
    let map = TypeMaps::builtin().target(to);
    catalog
        .user_types
        .iter()
        .filter_map(|user_type| {
            let mapped = map.map_target(&user_type.data_type).ok()?;
            Some((user_type.name.name.value.to_lowercase(), mapped.value))
        })
        .collect()
}

/// What becomes of inserts that give no value once a column's default of `kind` (`"a date"`) is
/// left out.
fn without_default(column: &Column, kind: &str) -> String {
    if column.nullable {
        "rows inserted without a value get NULL".to_string()
    } else {
        format!("it stays NOT NULL, so inserts must give {kind}")
    }
}

/// The integer type an identity column of `data_type` gets, if it holds without loss.
fn identity_integer(data_type: &LogicalType) -> Option<LogicalType> {
    match data_type {
        LogicalType::SmallInt | LogicalType::Integer | LogicalType::BigInt => {
            Some(data_type.clone())
        }
        LogicalType::Decimal {
            precision,
            scale: 0,
        } if *precision <= 18 => Some(LogicalType::BigInt),
        _ => None,
    }
}

/// Whether `column` may hold NULLs: it is nullable and not in `table`'s primary key (a key
/// declared apart from the column, `PRIMARY KEY (id)`, makes it NOT NULL too), unless that key
/// is disabled or not validated (Oracle `ENABLE NOVALIDATE`: the rows before it were never
/// checked, and the target does not create it).
fn may_hold_nulls(table: &Table, column: &Column) -> bool {
    column.nullable
        && !table.constraints.iter().any(|c| {
            matches!(c.kind, ConstraintKind::PrimaryKey(_))
                && created_key(c).is_some_and(|key| key.iter().any(|k| k.matches(&column.name)))
        })
}

/// The sequence that numbers `column` through its default when the column may hold NULLs: it
/// gets no identity (identities are NOT NULL in both targets, and its NULLs would not load),
/// whether discovery saw it as a `serial` or a script gives the default. (A MySQL
/// AUTO_INCREMENT is no such default: MySQL numbers the NULLs inserted into it.)
fn nullable_sequence_default<'c>(table: &Table, column: &'c Column) -> Option<&'c QualifiedName> {
    match &column.default {
        Some(ColumnDefault::Sequence(name)) if may_hold_nulls(table, column) => Some(name),
        _ => None,
    }
}

/// The type a column of `table` is written with, before alignment: identity columns become
/// integers.
fn written_type(table: &Table, column: &Column) -> LogicalType {
    let is_identity = nullable_sequence_default(table, column).is_none()
        && (column.identity.is_some()
            || matches!(column.default, Some(ColumnDefault::Sequence(_))));
    match is_identity {
        true => identity_integer(&column.data_type).unwrap_or(LogicalType::BigInt),
        false => column.data_type.clone(),
    }
}

/// Oracle accepts a foreign key of `NUMBER` referencing a key of `NUMBER(6)`; PostgreSQL refuses
/// different types and Redshift only co-locates equal ones. The values of an enabled foreign key
/// exist in the referenced key, so they fit its type: numeric foreign key columns take it. (Rows
/// an unvalidated key let through that don't fit fail to load: loudly, never truncated.)
fn aligned_key_types(
    catalog: &Catalog,
    index: &TableIndex,
) -> HashMap<(usize, usize), LogicalType> {
    let mut aligned = HashMap::new();
    for (table_index, table) in catalog.tables.iter().enumerate() {
        for constraint in &table.constraints {
            let ConstraintKind::ForeignKey(fk) = &constraint.kind else {
                continue;
            };
            if !constraint.state.enabled {
                continue;
            }
            let Some(referenced) = index
                .find(&catalog.tables, &fk.referenced_table)
                .map(|p| &catalog.tables[p])
            else {
                continue;
            };
            let referenced_columns =
                match (fk.referenced_columns.is_empty(), referenced.primary_key()) {
                    (false, _) => fk.referenced_columns.as_slice(),
                    (true, Some(key)) => key,
                    (true, None) => continue,
                };
            for (name, referenced_name) in fk.columns.iter().zip(referenced_columns) {
                let column = table.columns.iter().position(|c| c.name.matches(name));
                let key = referenced
                    .column(referenced_name)
                    .map(|c| written_type(referenced, c));
                if let (Some(column_index), Some(key_type)) = (column, key) {
                    let own = written_type(table, &table.columns[column_index]);
                    if own != key_type && own.is_numeric() && key_type.is_numeric() {
                        aligned.insert((table_index, column_index), key_type);
                    }
                }
            }
        }
    }
    aligned
}

/// Whether `table` has a primary or unique key on exactly `columns` (the primary key when
/// `columns` is empty) that is created in a PostgreSQL target ([`created_key`]), as a foreign
/// key needs there.
fn has_created_key(table: &Table, columns: &[Ident]) -> bool {
    table
        .constraints
        .iter()
        .any(|c| match (created_key(c), &c.kind) {
            (Some(key), ConstraintKind::PrimaryKey(_)) if columns.is_empty() => !key.is_empty(),
            (Some(key), _) => {
                key.len() == columns.len()
                    && columns.iter().all(|c| key.iter().any(|k| k.matches(c)))
            }
            (None, _) => false,
        })
}

/// The columns of `constraint` when it is a primary or unique key that a PostgreSQL target
/// creates, with its index: enabled and validated (see `keep_constraint`).
fn created_key(constraint: &Constraint) -> Option<&[Ident]> {
    match &constraint.kind {
        ConstraintKind::PrimaryKey(key) | ConstraintKind::Unique(key)
            if constraint.state.enabled && constraint.state.validated =>
        {
            Some(key)
        }
        _ => None,
    }
}

/// An index key as written, `name [COLLATE c] [opclass] [ASC | DESC] [NULLS FIRST | LAST]`: the
/// table's column it names and the rest (ordering, and PostgreSQL's collation and operator
/// class, which only a PostgreSQL source has), or `None` for an expression or anything else.
fn index_key<'t, 'k>(
    table: &'t Table,
    text: &'k str,
    from: SourceDialect,
) -> Option<(&'t Column, &'k str)> {
    let text = text.trim();
    let name_end = match text.chars().next() {
        Some(quote @ ('"' | '`')) => text[1..].find(quote)? + 2,
        _ => text.find(char::is_whitespace).unwrap_or(text.len()),
    };
    let column = index_column(table, &text[..name_end])?;
    let rest = text[name_end..].trim();
    let words: Vec<String> = rest
        .split_whitespace()
        .map(str::to_ascii_uppercase)
        .collect();
    let mut words: &[String] = &words;
    if from == SourceDialect::Postgres {
        // COLLATE name, then an operator class: PostgreSQL's own, kept for PostgreSQL.
        if words.first().is_some_and(|w| w == "COLLATE") && words.len() > 1 {
            words = &words[2..];
        }
        if words
            .first()
            .is_some_and(|w| !matches!(w.as_str(), "ASC" | "DESC" | "NULLS"))
        {
            words = &words[1..];
        }
    }
    if words.first().is_some_and(|w| w == "ASC" || w == "DESC") {
        words = &words[1..];
    }
    if words.len() == 2 && words[0] == "NULLS" && (words[1] == "FIRST" || words[1] == "LAST") {
        words = &[];
    }
    words.is_empty().then_some((column, rest))
}

/// A MySQL prefix key, `name(n) [ASC | DESC]`: the column's name and n, when `name` is a column
/// of `table`.
fn mysql_prefix<'k>(table: &Table, key: &'k str) -> Option<(&'k str, u32)> {
    let (name, rest) = key.split_once('(')?;
    let (length, order) = rest.split_once(')')?;
    if !matches!(
        order.trim().to_ascii_uppercase().as_str(),
        "" | "ASC" | "DESC"
    ) {
        return None;
    }
    let length = length.trim().parse().ok()?;
    let name = name.trim();
    index_column(table, name).map(|_| (name, length))
}

/// An index key: a column of the table with its ordering as written, or an expression already
/// in the target's dialect (with its ordering).
enum IndexKey<'k> {
    Column(Ident, &'k str),
    Expression(String),
}

/// The primary or unique key that makes `index` (of plain columns, `keys`) redundant: one that
/// the target creates ([`created_key`]), with the same columns in the same order, where the index adds nothing (no condition, ordering, collation, operator
/// class, access method, INCLUDE or NULLS NOT DISTINCT of its own).
fn redundant_with<'t>(
    table: &'t Table,
    index: &Index,
    keys: &[(Ident, &str)],
) -> Option<&'t Constraint> {
    let plain = index.predicate.is_none()
        && index.method.is_none()
        && index.kind == IndexKind::BTree
        && index.options.is_plain()
        && keys
            .iter()
            .all(|(_, order)| order.is_empty() || order.eq_ignore_ascii_case("ASC"));
    if !plain {
        return None;
    }
    table.constraints.iter().find(|c| {
        created_key(c).is_some_and(|columns| {
            columns.len() == keys.len() && columns.iter().zip(keys).all(|(a, (b, _))| a.matches(b))
        })
    })
}

/// The column an index column as written (`code`, `"Code"`, `` `code` ``) names, if it is a
/// plain column. A quoted name is matched exactly first, so that `"A"` doesn't find `"a"`.
fn index_column<'t>(table: &'t Table, text: &str) -> Option<&'t Column> {
    let unquoted = ['"', '`'].iter().find_map(|quote| {
        text.strip_prefix(*quote)
            .and_then(|rest| rest.strip_suffix(*quote))
    });
    match unquoted {
        Some(name) => table
            .column(&Ident::quoted(name))
            .or_else(|| table.column(&Ident::new(name))),
        None => table.column(&Ident::new(text)),
    }
}

/// The position of `column` among the table's columns: an exact match first, since `"A"` must
/// not find `"a"`.
fn column_position(table: &Table, column: &Ident) -> Option<usize> {
    let columns = &table.columns;
    columns
        .iter()
        .position(|c| c.name == *column)
        .or_else(|| columns.iter().position(|c| c.name.matches(column)))
}

/// How findings name a constraint: `hr.emp constraint emp_pk`.
fn constraint_object(table: &Table, constraint: &Constraint) -> String {
    let name = constraint
        .name
        .as_ref()
        .map(|n| n.value.as_str())
        .unwrap_or("(unnamed)");
    format!("{} constraint {name}", table.name)
}

/// A SQL string literal.
fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}
