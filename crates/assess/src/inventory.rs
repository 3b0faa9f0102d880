//! Catalog (from scripts or a live source) + the converter's findings -> an [`Assessment`].
//!
//! Every object of the catalog becomes one inventory row; every finding of the reader and of a
//! dry run of the converter becomes an action item, attached to the object it names. Procedural
//! code gets a rewrite item sized by its lines plus one item per kind of construct it uses.

use crate::effort::EffortModel;
use crate::model::*;
use migrate_core::{
    Catalog, CheckStatus, ConstraintKind, DistStyle, Finding, PreflightCheck, RoutineKind,
    Severity, SourceDialect, TableKind, TableLayout, TargetDialect,
};
use std::collections::{BTreeMap, HashMap};

/// A finding code with a role in the assessment.
struct Code {
    code: &'static str,
}

/// Finding codes that stand for "this procedural object is not converted": their hours come
/// from the rewrite formula of the effort model instead of the per-code table.
const REWRITE_CODES: [Code; 4] = [
    Code {
        code: "plsql.not-converted",
    },
    Code {
        code: "routine.not-converted",
    },
    Code {
        code: "routine.trigger",
    },
    Code {
        code: "object.type",
    },
];

/// Objects that only a finding records (the catalog has no list of them): the finding's object
/// is `<prefix><name>`.
struct FindingObject {
    code: &'static str,
    kind: ObjectKind,
    prefix: &'static str,
}

const FINDING_OBJECTS: [FindingObject; 3] = [
    FindingObject {
        code: "object.database-link",
        kind: ObjectKind::DatabaseLink,
        prefix: "database link ",
    },
    FindingObject {
        code: "object.unsupported",
        kind: ObjectKind::Other,
        prefix: "",
    },
    FindingObject {
        code: "object.dimension",
        kind: ObjectKind::Other,
        prefix: "",
    },
];

/// What to assess and how to describe it.
pub struct Input<'a> {
    pub catalog: &'a Catalog,
    pub from: SourceDialect,
    pub to: TargetDialect,
    pub source: SourceInfo,
    pub preflight: Vec<PreflightCheck>,
    pub model: &'a EffortModel,
}

/// Assesses a catalog: runs the converter as a dry run (its DDL is discarded), attributes every
/// finding to an object, applies the effort model and totals per schema.
pub fn assess(input: Input<'_>) -> Assessment {
    // The key advisor runs as `convert` runs it, on the statistics the catalog carries (row
    // counts, distinct counts and null fractions of a live source), so the dry run is the
    // conversion `convert` would make and each table shows its advised layout.
    let layouts = match input.to {
        TargetDialect::Redshift => migrate_advisor::advise(
            input.catalog,
            &migrate_advisor::Statistics::from_catalog(input.catalog),
            &migrate_advisor::Workload::default(),
        ),
        TargetDialect::Postgres => Vec::new(),
    };
    let conversion = migrate_dialect::emit(input.catalog, input.from, input.to, &layouts);
    let mut builder = Builder {
        model: input.model,
        objects: Vec::new(),
        items: Vec::new(),
        keys: HashMap::new(),
        by_location: HashMap::new(),
        unsupported: Vec::new(),
        rewritten: Vec::new(),
    };
    builder.inventory(input.catalog, input.from, &layouts);
    for finding in input.catalog.findings.iter().chain(&conversion.findings) {
        builder.finding(finding);
    }
    builder.finish(input)
}

struct Builder<'a> {
    model: &'a EffortModel,
    objects: Vec<AssessedObject>,
    items: Vec<ActionItem>,
    /// Lower-cased names findings use for objects (`hr.employees`, `view hr.v`,
    /// `hr.employees.salary`, `procedure hr.p`) -> object id.
    keys: HashMap<String, usize>,
    /// (file, line) of each object's statement -> object id, for statement-level findings.
    by_location: HashMap<(String, u64), usize>,
    /// Objects marked unsupported by a finding code.
    unsupported: Vec<bool>,
    /// Procedural objects whose rewrite item came from a finding.
    rewritten: Vec<bool>,
}

impl Builder<'_> {
    fn add(&mut self, object: AssessedObject, keys: &[String]) -> usize {
        let id = self.objects.len();
        for key in keys {
            self.keys.entry(key.to_lowercase()).or_insert(id);
        }
        if let Some(location) = &object.location {
            // Columns and constraints share their table's statement: the table keeps it.
            self.by_location
                .entry((location.file.to_string(), location.line))
                .or_insert(id);
        }
        self.objects.push(AssessedObject { id, ..object });
        self.unsupported.push(false);
        self.rewritten.push(false);
        id
    }

    fn inventory(&mut self, catalog: &Catalog, from: SourceDialect, layouts: &[TableLayout]) {
        for (position, table) in catalog.tables.iter().enumerate() {
            let schema = table.name.schema_value().to_string();
            let qualified = table.name.to_string();
            let stats = table.statistics.clone().unwrap_or_default();
            let detail = match table.kind {
                TableKind::Regular => None,
                TableKind::External => Some("external".to_string()),
                TableKind::Temporary => Some("temporary".to_string()),
                TableKind::GlobalTemporary => Some("global temporary".to_string()),
                TableKind::IndexOrganized => Some("index-organized".to_string()),
            };
            self.add(
                AssessedObject {
                    rows: stats.row_count,
                    size_bytes: stats.size_bytes,
                    lob_bytes: stats.lob_bytes,
                    key_advice: layouts.get(position).map(layout_sql),
                    detail,
                    location: table.location.clone(),
                    ..object(ObjectKind::Table, &schema, &table.name.name.value)
                },
                std::slice::from_ref(&qualified),
            );
            for column in &table.columns {
                let stats = column.statistics.clone().unwrap_or_default();
                self.add(
                    AssessedObject {
                        parent: Some(qualified.clone()),
                        detail: Some(column.source_type.clone()),
                        distinct_count: stats.distinct_count,
                        null_fraction: stats.null_fraction,
                        location: column.location.clone(),
                        ..object(
                            ObjectKind::Column,
                            &schema,
                            &format!("{}.{}", table.name.name.value, column.name.value),
                        )
                    },
                    // Findings name a column as `t."Mixed"` (quoted as in the source) or `t.Mixed`.
                    &[
                        format!("{qualified}.{}", column.name),
                        format!("{qualified}.{}", column.name.value),
                    ],
                );
            }
            for constraint in &table.constraints {
                let label = constraint
                    .name
                    .as_ref()
                    .map_or("(unnamed)".to_string(), |n| n.value.clone());
                let kind = match &constraint.kind {
                    ConstraintKind::PrimaryKey(_) => "primary key",
                    ConstraintKind::Unique(_) => "unique",
                    ConstraintKind::ForeignKey(_) => "foreign key",
                    ConstraintKind::Check(_) => "check",
                };
                let key = format!("{qualified} constraint {label}");
                let unnamed_check = constraint.name.is_none()
                    && matches!(constraint.kind, ConstraintKind::Check(_));
                let id = self.add(
                    AssessedObject {
                        parent: Some(qualified.clone()),
                        detail: Some(kind.to_string()),
                        ..object(
                            ObjectKind::Constraint,
                            &schema,
                            &format!("{} constraint {label}", table.name.name.value),
                        )
                    },
                    std::slice::from_ref(&key),
                );
                // Findings can't tell unnamed constraints apart (`t constraint (unnamed)`):
                // those about one are about its CHECK (dropped, not trusted).
                if unnamed_check {
                    self.keys.insert(key.to_lowercase(), id);
                }
            }
            if let Some(partitioning) = &table.partitioning {
                for (n, partition) in partitioning.partitions.iter().enumerate() {
                    let name = partition
                        .name
                        .clone()
                        .unwrap_or_else(|| format!("#{}", n + 1));
                    self.add(
                        AssessedObject {
                            parent: Some(qualified.clone()),
                            detail: Some(format!("{:?}", partitioning.method).to_lowercase()),
                            ..object(
                                ObjectKind::Partition,
                                &schema,
                                &format!("{} partition {name}", table.name.name.value),
                            )
                        },
                        &[],
                    );
                }
            }
        }
        for index in &catalog.indexes {
            let schema = schema_of(&index.name)
                .or(schema_of(&index.table))
                .unwrap_or_default();
            let mut detail = format!("on {} ({})", index.table, index.columns.join(", "));
            if index.unique {
                detail.insert_str(0, "unique ");
            }
            self.add(
                AssessedObject {
                    parent: Some(index.table.to_string()),
                    detail: Some(detail),
                    location: index.location.clone(),
                    ..object(ObjectKind::Index, &schema, &index.name.name.value)
                },
                &[format!("index {}", index.name)],
            );
        }
        for view in &catalog.views {
            let (kind, word) = if view.materialized {
                (ObjectKind::MaterializedView, "materialized view")
            } else {
                (ObjectKind::View, "view")
            };
            self.add(
                AssessedObject {
                    location: view.location.clone(),
                    lines: Some(line_count(&view.query)),
                    ..object(
                        kind,
                        &schema_of(&view.name).unwrap_or_default(),
                        &view.name.name.value,
                    )
                },
                &[
                    format!("{word} {}", view.name),
                    format!("view {}", view.name),
                ],
            );
        }
        for sequence in &catalog.sequences {
            self.add(
                AssessedObject {
                    location: sequence.location.clone(),
                    ..object(
                        ObjectKind::Sequence,
                        &schema_of(&sequence.name).unwrap_or_default(),
                        &sequence.name.name.value,
                    )
                },
                &[format!("sequence {}", sequence.name)],
            );
        }
        for synonym in &catalog.synonyms {
            self.add(
                AssessedObject {
                    detail: Some(format!(
                        "{}for {}",
                        if synonym.public { "public, " } else { "" },
                        synonym.target
                    )),
                    location: synonym.location.clone(),
                    ..object(
                        ObjectKind::Synonym,
                        &schema_of(&synonym.name).unwrap_or_default(),
                        &synonym.name.name.value,
                    )
                },
                &[format!("synonym {}", synonym.name)],
            );
        }
        for routine in &catalog.routines {
            let kind = routine_kind(routine.kind);
            let constructs = migrate_dialect::procedural_constructs(&routine.text, from);
            let (schema, name) = match &routine.name {
                Some(name) => (schema_of(name).unwrap_or_default(), name.name.value.clone()),
                None => (
                    String::new(),
                    format!(
                        "at {}",
                        routine
                            .location
                            .as_ref()
                            .map_or("?".to_string(), |l| l.to_string())
                    ),
                ),
            };
            let mut keys = Vec::new();
            if let Some(name) = &routine.name {
                keys.push(format!("{} {name}", routine.kind.as_str()));
            }
            self.add(
                AssessedObject {
                    lines: Some(constructs.lines),
                    location: routine.location.clone(),
                    constructs: Some(constructs),
                    ..object(kind, &schema, &name)
                },
                &keys,
            );
        }
    }

    /// Attaches a finding to its object as an action item, creating the object first for kinds
    /// that only findings record (database links, other unsupported objects). Info findings are
    /// items too, as in `convert`'s list (a statement skipped, an index not created): with the
    /// model's hours for them (0 by default) they leave their object's status alone.
    fn finding(&mut self, finding: &Finding) {
        let rewrite = REWRITE_CODES.iter().any(|c| c.code == finding.code);
        let mut id = self.object_of(finding);
        if id.is_none() {
            id = self.object_from_finding(finding);
        }
        if rewrite {
            id = id.map(|id| self.namesake_to_rewrite(id));
        }
        let (mut hours, unsupported) = self.model.finding_hours(&finding.code, finding.severity);
        if let Some(id) = id {
            if unsupported {
                self.unsupported[id] = true;
            }
            let object = &self.objects[id];
            if rewrite && !self.rewritten[id] {
                if let (Some(kind), Some(lines)) = (routine_kind_of(object.kind), object.lines) {
                    hours = self.model.rewrite_hours(kind, lines);
                    self.rewritten[id] = true;
                }
                if let Some(constructs) = object.constructs.clone() {
                    self.construct_items(id, &constructs);
                }
            }
        }
        self.items.push(ActionItem {
            code: finding.code.clone(),
            severity: finding.severity,
            object_id: id,
            object: finding.object.clone(),
            message: finding.message.clone(),
            fix: finding.action.clone(),
            hours,
            status: if unsupported {
                Status::Unsupported
            } else {
                self.model.band(hours)
            },
            location: finding.location.clone(),
        });
    }

    /// Overloaded routines share their name, so the finding of each names the first: it goes to
    /// the first of them (from `id` on) not rewritten yet.
    fn namesake_to_rewrite(&self, id: usize) -> usize {
        let object = &self.objects[id];
        (id..self.objects.len())
            .find(|&other| {
                let namesake = &self.objects[other];
                !self.rewritten[other]
                    && namesake.kind == object.kind
                    && namesake.schema == object.schema
                    && namesake.name == object.name
            })
            .unwrap_or(id)
    }

    fn construct_items(&mut self, id: usize, constructs: &migrate_dialect::Constructs) {
        let object = &self.objects[id];
        let label = format!("{} {}", object.kind.label(), object.qualified());
        let location = object.location.clone();
        for item in self.model.construct_items(constructs) {
            let hours = item.hours_each * f64::from(item.count);
            self.items.push(ActionItem {
                code: item.code.to_string(),
                severity: Severity::Action,
                object_id: Some(id),
                object: label.clone(),
                message: format!("uses {} {}{}", item.count, item.what, item.detail),
                fix: item.fix.to_string(),
                hours,
                status: self.model.band(hours),
                location: location.clone(),
            });
        }
    }

    /// The object a finding names: by its name, by the name's table part, or by the statement
    /// it was found in.
    fn object_of(&self, finding: &Finding) -> Option<usize> {
        let object = finding.object.to_lowercase();
        if let Some(id) = self.keys.get(&object) {
            return Some(*id);
        }
        if let Some((table, _)) = object.split_once(" constraint ") {
            if let Some(id) = self.keys.get(table) {
                return Some(*id);
            }
        }
        // `hr.employees.salary (default)`, `hr.t and hr.u ...`: the first word, then its prefixes.
        let mut head = object.split_whitespace().next().unwrap_or("");
        loop {
            if let Some(id) = self.keys.get(head) {
                return Some(*id);
            }
            match head.rsplit_once('.') {
                Some((prefix, _)) => head = prefix,
                None => break,
            }
        }
        let location = finding.location.as_ref()?;
        self.by_location
            .get(&(location.file.to_string(), location.line))
            .copied()
    }

    fn object_from_finding(&mut self, finding: &Finding) -> Option<usize> {
        let known = FINDING_OBJECTS.iter().find(|o| o.code == finding.code)?;
        let kind = known.kind;
        let name = finding.object.trim_start_matches(known.prefix).to_string();
        let (schema, name) = if kind == ObjectKind::DatabaseLink {
            // Link names hold dots of their own (`remote.example.com`): kept whole.
            (String::new(), name)
        } else {
            // `library hr.x`: the schema from the name after the kind's words (kept in detail).
            split_schema(name.rsplit(' ').next().unwrap_or(&name))
        };
        let detail = (kind == ObjectKind::Other).then(|| finding.object.clone());
        let key = finding.object.clone();
        Some(self.add(
            AssessedObject {
                detail,
                location: finding.location.clone(),
                ..object(kind, &schema, &name)
            },
            &[key],
        ))
    }

    fn finish(mut self, input: Input<'_>) -> Assessment {
        let model = self.model;
        // Object hours and status: review time plus its items; the worst band of the total.
        let mut item_hours = vec![0.0; self.objects.len()];
        let mut has_items = vec![false; self.objects.len()];
        for item in &self.items {
            if let Some(id) = item.object_id {
                item_hours[id] += item.hours;
                has_items[id] |= item.severity >= Severity::Warning || item.hours > 0.0;
            }
        }
        for object in &mut self.objects {
            let id = object.id;
            object.hours = model.review_hours(object.kind) + item_hours[id];
            object.status = if self.unsupported[id] {
                Status::Unsupported
            } else if object.kind.is_procedural() {
                // Procedural code is never converted: at least its rewrite is work.
                model.band(item_hours[id].max(f64::MIN_POSITIVE))
            } else if has_items[id] {
                model.band(item_hours[id])
            } else {
                Status::Automatic
            };
        }
        // Parents carry their children's effort in their own totals only through the children:
        // each object is counted once.
        let mut schemas: BTreeMap<String, Totals> = BTreeMap::new();
        let mut summary = Totals::default();
        for object in &self.objects {
            for totals in [
                &mut summary,
                schemas
                    .entry(object.schema.clone())
                    .or_insert_with(|| Totals {
                        schema: object.schema.clone(),
                        ..Totals::default()
                    }),
            ] {
                add_object(totals, object);
            }
        }
        // Items about the script itself count in the summary only.
        for item in &self.items {
            summary.action_items += 1;
            match item.object_id {
                Some(id) => {
                    if let Some(totals) = schemas.get_mut(&self.objects[id].schema) {
                        totals.action_items += 1;
                    }
                }
                None => {
                    summary.hours += item.hours;
                    *summary
                        .hours_by_status
                        .entry(item.status.key())
                        .or_default() += item.hours;
                }
            }
        }
        let mut schemas: Vec<Totals> = schemas.into_values().collect();
        for totals in schemas.iter_mut().chain(std::iter::once(&mut summary)) {
            levels(totals, model);
        }
        let mut preflight_totals = PreflightTotals::default();
        for check in &input.preflight {
            *match check.status {
                CheckStatus::Passed => &mut preflight_totals.passed,
                CheckStatus::Warning => &mut preflight_totals.warning,
                CheckStatus::Blocker => &mut preflight_totals.blocker,
            } += 1;
        }
        // Most work first; ties in inventory order.
        self.items.sort_by(|a, b| {
            b.status
                .cmp(&a.status)
                .then(b.hours.total_cmp(&a.hours))
                .then(a.object_id.cmp(&b.object_id))
        });
        Assessment {
            schema_version: SCHEMA_VERSION,
            generator: format!("migrate {}", env!("CARGO_PKG_VERSION")),
            source: input.source,
            target: input.to.name(),
            effort_model: model.clone(),
            summary,
            schemas,
            objects: self.objects,
            action_items: self.items,
            preflight: input.preflight,
            preflight_totals,
        }
    }
}

fn add_object(totals: &mut Totals, object: &AssessedObject) {
    totals.objects.add(object.status);
    totals
        .by_kind
        .entry(object.kind.key())
        .or_default()
        .add(object.status);
    totals.hours += object.hours;
    *totals
        .hours_by_status
        .entry(object.status.key())
        .or_default() += object.hours;
    if object.kind.is_procedural() {
        totals.code_lines += u64::from(object.lines.unwrap_or(0));
    }
    if object.kind == ObjectKind::Table {
        totals.rows += object.rows.unwrap_or(0);
        totals.size_bytes += object.size_bytes.unwrap_or(0);
        if let Some(lob) = object.lob_bytes {
            *totals.lob_bytes.get_or_insert(0) += lob;
        }
    }
}

/// ora2pg's levels from the totals: migration level by days of manual work, technical level by
/// what kind of code there is and whether anything needs rewriting.
fn levels(totals: &mut Totals, model: &EffortModel) {
    totals.days = totals.hours / model.levels.hours_per_day;
    let count = |kinds: &[ObjectKind]| -> usize {
        kinds
            .iter()
            .filter_map(|k| totals.by_kind.get(k.key()))
            .map(|c| c.total)
            .sum()
    };
    let triggers = count(&[ObjectKind::Trigger]) > 0;
    let code = count(&[
        ObjectKind::Procedure,
        ObjectKind::Function,
        ObjectKind::Package,
        ObjectKind::PackageBody,
        ObjectKind::Type,
        ObjectKind::TypeBody,
        ObjectKind::AnonymousBlock,
        ObjectKind::Event,
    ]) > 0;
    let manual = totals.objects.total > totals.objects.automatic;
    totals.technical_level = match (code, triggers, manual) {
        (false, false, false) => 1,
        (false, true, false) => 2,
        (true, _, false) => 3,
        (false, _, true) => 4,
        (true, _, true) => 5,
    };
    let manual_hours: f64 = totals
        .hours_by_status
        .iter()
        .filter(|(status, _)| **status != Status::Automatic.key())
        .map(|(_, hours)| hours)
        .sum();
    totals.migration_level = Some(if manual_hours == 0.0 {
        MigrationLevel::A
    } else if manual_hours / model.levels.hours_per_day <= model.levels.b_max_days {
        MigrationLevel::B
    } else {
        MigrationLevel::C
    });
}

/// `DISTSTYLE KEY (c) SORTKEY (a, b)`, as the Redshift DDL would say it.
fn layout_sql(layout: &TableLayout) -> String {
    let mut sql = match &layout.diststyle {
        DistStyle::Auto => "DISTSTYLE AUTO".to_string(),
        DistStyle::Even => "DISTSTYLE EVEN".to_string(),
        DistStyle::All => "DISTSTYLE ALL".to_string(),
        DistStyle::Key(column) => format!("DISTSTYLE KEY DISTKEY ({})", column.value),
    };
    if !layout.sortkey.is_empty() {
        let columns: Vec<&str> = layout.sortkey.iter().map(|c| c.value.as_str()).collect();
        sql.push_str(&format!(" SORTKEY ({})", columns.join(", ")));
    }
    sql
}

fn object(kind: ObjectKind, schema: &str, name: &str) -> AssessedObject {
    AssessedObject {
        id: 0,
        kind,
        schema: schema.to_string(),
        name: name.to_string(),
        parent: None,
        detail: None,
        status: Status::Automatic,
        hours: 0.0,
        lines: None,
        constructs: None,
        rows: None,
        size_bytes: None,
        lob_bytes: None,
        key_advice: None,
        distinct_count: None,
        null_fraction: None,
        location: None,
    }
}

fn schema_of(name: &migrate_core::QualifiedName) -> Option<String> {
    name.schema.as_ref().map(|s| s.value.clone())
}

fn split_schema(qualified: &str) -> (String, String) {
    match qualified.rsplit_once('.') {
        Some((schema, name)) => (schema.to_string(), name.to_string()),
        None => (String::new(), qualified.to_string()),
    }
}

fn line_count(text: &str) -> u32 {
    u32::try_from(text.lines().count()).unwrap_or(u32::MAX)
}

fn routine_kind(kind: RoutineKind) -> ObjectKind {
    match kind {
        RoutineKind::Procedure => ObjectKind::Procedure,
        RoutineKind::Function => ObjectKind::Function,
        RoutineKind::Package => ObjectKind::Package,
        RoutineKind::PackageBody => ObjectKind::PackageBody,
        RoutineKind::Trigger => ObjectKind::Trigger,
        RoutineKind::Type => ObjectKind::Type,
        RoutineKind::TypeBody => ObjectKind::TypeBody,
        RoutineKind::AnonymousBlock => ObjectKind::AnonymousBlock,
        RoutineKind::Event => ObjectKind::Event,
    }
}

fn routine_kind_of(kind: ObjectKind) -> Option<RoutineKind> {
    Some(match kind {
        ObjectKind::Procedure => RoutineKind::Procedure,
        ObjectKind::Function => RoutineKind::Function,
        ObjectKind::Package => RoutineKind::Package,
        ObjectKind::PackageBody => RoutineKind::PackageBody,
        ObjectKind::Trigger => RoutineKind::Trigger,
        ObjectKind::Type => RoutineKind::Type,
        ObjectKind::TypeBody => RoutineKind::TypeBody,
        ObjectKind::AnonymousBlock => RoutineKind::AnonymousBlock,
        ObjectKind::Event => RoutineKind::Event,
        _ => return None,
    })
}
