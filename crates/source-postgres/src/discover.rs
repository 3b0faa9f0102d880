//! Discovery: the live catalog (`pg_catalog`) as a [`Catalog`] of canonical types, keys and
//! statistics.

use crate::sql::ident;
use crate::{PostgresSource, SourceError};
use migrate_core::{
    Catalog, Column, ColumnDefault, ColumnStatistics, Constraint, ConstraintKind, ConstraintState,
    Deferral, Finding, ForeignKey, Identity, IndexOptions, LogicalType, QualifiedName, Severity,
    SourceDialect, Table, TableStatistics, UserType,
};
use migrate_dialect::{
    column_default, domain_checks_of_column, exclusion_constraint_finding, parse_type_text,
    DomainColumnType, TypeMaps, TypeRef,
};
use std::collections::HashMap;

const TABLES: &str = "
SELECT c.oid, n.nspname::text, c.relname::text, c.relkind = 'p' AS partitioned,
       CASE WHEN c.relkind = 'p' THEN
            (SELECT sum(greatest(l.reltuples, 0))::float8 FROM pg_partition_tree(c.oid) t
               JOIN pg_class l ON l.oid = t.relid WHERE t.isleaf)
            ELSE c.reltuples::float8 END AS reltuples,
       CASE WHEN c.relkind = 'p' THEN
            (SELECT sum(pg_total_relation_size(t.relid))::int8 FROM pg_partition_tree(c.oid) t)
            ELSE pg_total_relation_size(c.oid) END AS size,
       CASE WHEN c.relkind = 'p' THEN
            (SELECT coalesce(sum(pg_total_relation_size(l.reltoastrelid)), 0)::int8
               FROM pg_partition_tree(c.oid) t JOIN pg_class l ON l.oid = t.relid
              WHERE l.reltoastrelid <> 0)
            WHEN c.reltoastrelid <> 0 THEN pg_total_relation_size(c.reltoastrelid)
            ELSE 0 END AS lob_size
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'
   AND ($1::text[] IS NULL OR n.nspname = ANY($1::text[]))
 ORDER BY n.nspname, c.relname";

/// Columns with their statistics, default (or a generated column's expression), identity,
/// collation where it is not their type's (where pg_dump writes COLLATE),
/// and the sequence that numbers them (an identity's, or the one a default's `nextval` names):
/// its next value (as far as the role may read it; a cycling sequence past its last value
/// starts again from its first), increment, bounds and CYCLE. A column without a default
/// of its own takes its domain's (the nearest in a chain of domains that has one), as an insert
/// into it does: the target has no domain to take it from.
const COLUMNS: &str = "
SELECT a.attrelid, a.attname::text, a.attnotnull, a.atttypid, a.atttypmod,
       s.null_frac::float8, s.n_distinct::float8, format_type(a.atttypid, a.atttypmod),
       coalesce(pg_get_expr(d.adbin, d.adrelid),
                (WITH RECURSIVE domain(base, default_text, depth) AS (
                     SELECT t.typbasetype, t.typdefault, 1
                       FROM pg_type t WHERE t.oid = a.atttypid AND t.typtype = 'd'
                   UNION ALL
                     SELECT t.typbasetype, t.typdefault, domain.depth + 1
                       FROM domain JOIN pg_type t ON t.oid = domain.base
                      WHERE domain.default_text IS NULL AND t.typtype = 'd' AND domain.depth < 32)
                 SELECT default_text FROM domain WHERE default_text IS NOT NULL)),
       a.attidentity::text,
       CASE WHEN q.last_value IS NULL THEN q.start_value
            WHEN q.cycle AND q.last_value::numeric + q.increment_by > q.max_value THEN q.min_value
            WHEN q.cycle AND q.last_value::numeric + q.increment_by < q.min_value THEN q.max_value
            ELSE greatest(least(q.last_value::numeric + q.increment_by, q.max_value),
                          q.min_value)::int8 END,
       q.increment_by, a.attgenerated::text, q.min_value, q.max_value, q.cycle,
       (SELECT quote_ident(cn.nspname) || '.' || quote_ident(co.collname)
          FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace
          JOIN pg_type t ON t.oid = a.atttypid
         WHERE co.oid = a.attcollation AND a.attcollation <> t.typcollation)
  FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
  LEFT JOIN LATERAL (SELECT null_frac, n_distinct FROM pg_stats s
                      WHERE s.schemaname = n.nspname AND s.tablename = c.relname
                        AND s.attname = a.attname
                      ORDER BY s.inherited = (c.relkind = 'p') DESC LIMIT 1) s ON true
  LEFT JOIN LATERAL (SELECT q.* FROM (
                         SELECT k.refobjid FROM pg_depend k
                          WHERE k.classid = 'pg_attrdef'::regclass AND k.objid = d.oid
                            AND k.refclassid = 'pg_class'::regclass
                         UNION ALL
                         SELECT k.objid FROM pg_depend k
                          WHERE a.attidentity <> '' AND k.refclassid = 'pg_class'::regclass
                            AND k.refobjid = a.attrelid AND k.refobjsubid = a.attnum
                            AND k.classid = 'pg_class'::regclass AND k.deptype = 'i') o(seq)
                       -- What the pg_sequences view gives, for this sequence only (the view
                       -- reads every sequence's last value each time it is joined).
                       CROSS JOIN LATERAL (
                         SELECT q.seqstart, q.seqincrement, q.seqmin, q.seqmax, q.seqcycle,
                                CASE WHEN has_sequence_privilege(o.seq, 'SELECT,USAGE')
                                     THEN pg_sequence_last_value(o.seq) END
                           FROM pg_sequence q WHERE q.seqrelid = o.seq)
                         q(start_value, increment_by, min_value, max_value, cycle, last_value)
                      LIMIT 1) q ON true
 WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY a.attrelid, a.attnum";

/// Every type reachable from the columns' types through domains and arrays, with enum labels,
/// a domain's NOT NULL and its CHECK constraints (name, condition on `VALUE`, validated: a
/// domain's NOT VALID check is not), by name.
const TYPES: &str = "
WITH RECURSIVE reach(oid) AS (
    SELECT unnest($1::oid[])
  UNION
    SELECT x FROM reach r JOIN pg_type t ON t.oid = r.oid,
           LATERAL (VALUES (t.typbasetype), (t.typelem)) v(x)
     WHERE x <> 0
)
SELECT t.oid, t.typtype::text, t.typcategory::text, t.typbasetype, t.typtypmod, t.typelem,
       format_type(t.oid, NULL),
       ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid
              ORDER BY e.enumsortorder),
       n.nspname::text, t.typname::text,
       CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, nullif(t.typtypmod, -1)) END,
       coalesce(k.names, '{}'), coalesce(k.conditions, '{}'), coalesce(k.validated, '{}'),
       t.typnotnull
  FROM pg_type t JOIN reach r ON r.oid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
  CROSS JOIN LATERAL (
         SELECT array_agg(k.conname::text ORDER BY k.conname),
                array_agg(pg_get_expr(k.conbin, 0) ORDER BY k.conname),
                array_agg(k.convalidated ORDER BY k.conname)
           FROM pg_constraint k WHERE k.contypid = t.oid AND k.contype = 'c')
       k(names, conditions, validated)";

/// Primary, unique and foreign keys and CHECK constraints (with their condition as
/// `pg_get_expr` prints it, as pg_dump writes it), and exclusion constraints, to be reported
/// (with their definition, `EXCLUDE USING ...`, as pg_dump writes it). The copies PostgreSQL
/// makes of a foreign key for each partition of the table it references (`conparentid` set) are
/// its own bookkeeping: the key is read once, as declared.
const CONSTRAINTS: &str = "
SELECT c.conrelid, c.conname::text, c.contype::text, c.convalidated,
       ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
               JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i),
       fn.nspname::text, fc.relname::text,
       ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
               JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i),
       c.confdeltype::text, c.confupdtype::text, c.confmatchtype::text, c.condeferrable,
       c.condeferred, {include}, {nulls_not_distinct},
       ARRAY(SELECT a.attname::text
               FROM jsonb_array_elements_text(
                      CASE WHEN jsonb_typeof(to_jsonb(c) -> 'confdelsetcols') = 'array'
                           THEN to_jsonb(c) -> 'confdelsetcols' ELSE '[]' END) WITH ORDINALITY k(n, i)
               JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n::int2
              ORDER BY k.i),
       CASE WHEN c.contype = 'c' THEN pg_get_expr(c.conbin, c.conrelid) END,
       CASE WHEN c.contype = 'x' THEN pg_get_constraintdef(c.oid) END
  FROM pg_constraint c
  LEFT JOIN pg_class fc ON fc.oid = c.confrelid
  LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
  LEFT JOIN pg_index i ON i.indexrelid = c.conindid AND c.contype IN ('p', 'u')
 WHERE c.conrelid = ANY($1::oid[]) AND c.contype IN ('p', 'u', 'f', 'c', 'x')
   AND c.conparentid = 0
 ORDER BY c.conrelid, c.contype, c.conname";

struct PgType {
    typtype: String,
    category: String,
    base: u32,
    base_typmod: i32,
    elem: u32,
    name: String,
    labels: Vec<String>,
    /// Schema and name, for a domain or enum (the casts to it in defaults).
    qualified: QualifiedName,
    /// A domain's base type, as `format_type` prints it.
    base_name: Option<String>,
    /// A domain's own CHECK constraints, on `VALUE`.
    checks: Vec<Constraint>,
    /// A domain's own NOT NULL.
    not_null: bool,
}

impl PostgresSource {
    /// Reads the base tables of `schemas` (every non-system schema when `None`): columns in
    /// ordinal order with canonical types, NOT NULL, primary, unique and foreign keys, CHECK
    /// constraints (an exclusion constraint is a `constraint.exclusion` finding, as in a
    /// script), and the planner's statistics, and its size (`pg_total_relation_size`:
    /// indexes and TOAST included) with the TOAST part (the TOAST table and its index:
    /// out-of-line values) apart. Views are left out; a partitioned table is reported once, as
    /// its parent, with the rows and sizes of all its partitions. A column collation other than
    /// its type's is a `column.collation` finding, as a COLLATE clause is for `migrate convert`.
    ///
    /// Consistency: catalog reads in one statement each, not one snapshot; statistics are
    /// estimates (`reltuples`, `pg_stats`) as of the last ANALYZE, `None` when never analyzed.
    /// Types resolve through domains to their base type and enums to their labels; types the
    /// type map flags (or doesn't know: read as their text form) become findings.
    pub async fn discover(&self, schemas: Option<&[String]>) -> Result<Catalog, SourceError> {
        let client = &self.client;
        let schemas: Option<Vec<String>> = schemas.map(<[String]>::to_vec);
        let rows = client
            .query(TABLES, &[&schemas])
            .await
            .map_err(SourceError::query("listing tables"))?;
        let mut catalog = Catalog::default();
        let mut oids = Vec::new();
        let mut position = HashMap::new();
        for row in rows {
            let oid: u32 = row.get(0);
            let schema: String = row.get(1);
            let name: String = row.get(2);
            let reltuples: Option<f64> = row.get(4);
            let size: Option<i64> = row.get(5);
            let lob_size: Option<i64> = row.get(6);
            let mut table = Table::new(QualifiedName::new(Some(ident(&schema)), ident(&name)));
            table.statistics = Some(TableStatistics {
                // -1: never vacuumed or analyzed (PostgreSQL 14+).
                row_count: reltuples.filter(|r| *r >= 0.0).map(|r| r.round() as u64),
                size_bytes: size.and_then(|s| u64::try_from(s).ok()),
                // The TOAST table and its index (out-of-line values), part of `size`.
                lob_bytes: lob_size.and_then(|s| u64::try_from(s).ok()),
            });
            position.insert(oid, catalog.tables.len());
            oids.push(oid);
            catalog.tables.push(table);
        }

        let columns = client
            .query(COLUMNS, &[&oids])
            .await
            .map_err(SourceError::query("reading columns"))?;
        let type_oids: Vec<u32> = columns.iter().map(|r| r.get::<_, u32>(3)).collect();
        let types = self.types(&type_oids).await?;
        let resolved: Vec<Resolved> = columns
            .iter()
            .map(|r| resolve(&types, r.get(3), r.get(4)))
            .collect();
        let names = self.format_types(&resolved).await?;
        let maps = TypeMaps::builtin().source(SourceDialect::Postgres);
        let cast_types = cast_replacements(&types);
        for ((row, resolved), plain_name) in columns.into_iter().zip(resolved).zip(names) {
            let Some(&index) = position.get(&row.get::<_, u32>(0)) else {
                continue;
            };
            let name: String = row.get(1);
            // Named as the converter names columns, so the assessment attaches findings to it.
            let object = format!("{}.{}", catalog.tables[index].name, ident(&name));
            let display: String = row.get(7);
            let ty = type_ref(resolved, &plain_name);
            let data_type = maps.column_type(ty.as_ref(), &display, &object, &mut catalog.findings);
            // A domain or enum is not created in the target: recorded so that the converter
            // makes casts to it in views casts to the type its columns get. (Defaults are
            // rewritten here, by `without_user_type_casts`: the warehouse that creates a
            // table sees the table only.)
            if let Some(user_type) = types
                .get(&row.get::<_, u32>(3))
                .filter(|t| t.typtype == "d" || t.typtype == "e")
            {
                if catalog
                    .user_types
                    .iter()
                    .all(|u| u.name != user_type.qualified)
                {
                    catalog.user_types.push(UserType {
                        name: user_type.qualified.clone(),
                        data_type: data_type.clone(),
                    });
                }
            }
            let collation: Option<String> = row.get(16);
            if let Some(collation) = &collation {
                // As the converter reports a COLLATE clause of a script: the target column
                // does not get it.
                catalog.findings.push(Finding::new(
                    Severity::Warning,
                    "column.collation",
                    &object,
                    format!("COLLATE {collation} is not kept: the target column has the database's default collation, so its values may sort and compare differently"),
                    "add the collation to the target column by hand where sorting or comparison depends on it",
                ));
            }
            let table = &mut catalog.tables[index];
            let column_name = ident(&name);
            // As the converter gives a column of a domain in a script the domain's CHECKs and
            // NOT NULL (`attnotnull` is the column's own only; an array's elements' NOT NULL is
            // a CHECK).
            let domains = column_domains(&types, row.get(3));
            for domain in &domains {
                let (checks, findings) = domain_checks_of_column(
                    &table.name,
                    &column_name,
                    &domain.name.to_string(),
                    &domain.checks,
                    domain.not_null,
                    DomainColumnType::of(ty.as_ref(), domain.array, &data_type),
                );
                table.constraints.extend(checks);
                catalog.findings.extend(findings);
            }
            let domain_not_null = domains.iter().any(|d| d.not_null && !d.array);
            let mut column = Column::new(column_name, display, data_type);
            column.collation = collation;
            column.nullable = !row.get::<_, bool>(2) && !domain_not_null;
            let expression: Option<String> = row.get(8);
            if row.get::<_, String>(12).is_empty() {
                column.default = expression.map(|text| {
                    column_default(
                        without_user_type_casts(&text, &cast_types),
                        SourceDialect::Postgres,
                    )
                });
            } else {
                column.generated = expression;
            }
            let sequence = match (row.get(10), row.get(11)) {
                (Some(start), Some(increment)) => Some(Identity {
                    start,
                    increment,
                    always: false,
                    min_value: row.get::<_, Option<i64>>(13).map(i128::from),
                    max_value: row.get::<_, Option<i64>>(14).map(i128::from),
                    cycle: row.get::<_, Option<bool>>(15).unwrap_or(false),
                }),
                _ => None,
            };
            column.identity = identity(&row.get::<_, String>(9), sequence, column.default.as_ref());
            let null_frac: Option<f64> = row.get(5);
            let n_distinct: Option<f64> = row.get(6);
            if null_frac.is_some() || n_distinct.is_some() {
                let rows = table.statistics.as_ref().and_then(|s| s.row_count);
                column.statistics = Some(ColumnStatistics {
                    distinct_count: n_distinct.and_then(|n| distinct_count(n, rows)),
                    null_fraction: null_frac,
                });
            }
            table.columns.push(column);
        }

        let constraints = client
            .query(&crate::objects::with_index_options(CONSTRAINTS), &[&oids])
            .await
            .map_err(SourceError::query("reading constraints"))?;
        for row in constraints {
            let Some(&index) = position.get(&row.get::<_, u32>(0)) else {
                continue;
            };
            let name: String = row.get(1);
            if let Some(definition) = row.get::<_, Option<String>>(17) {
                // Never created in a target: reported as a script's is.
                catalog.findings.push(exclusion_constraint_finding(
                    &catalog.tables[index].name,
                    &ident(&name).to_string(),
                    &definition,
                ));
                continue;
            }
            let columns: Vec<String> = row.get(4);
            let columns = columns.iter().map(|c| ident(c)).collect();
            let kind = match row.get::<_, String>(2).as_str() {
                "p" => ConstraintKind::PrimaryKey(columns),
                "u" => ConstraintKind::Unique(columns),
                "c" => ConstraintKind::Check(row.get::<_, Option<String>>(16).unwrap_or_default()),
                _ => {
                    let schema: Option<String> = row.get(5);
                    let table: Option<String> = row.get(6);
                    let referenced: Vec<String> = row.get(7);
                    ConstraintKind::ForeignKey(ForeignKey {
                        columns,
                        referenced_table: QualifiedName::new(
                            schema.as_deref().map(ident),
                            ident(table.as_deref().unwrap_or_default()),
                        ),
                        referenced_columns: referenced.iter().map(|c| ident(c)).collect(),
                        on_delete: referential_action(&row.get::<_, String>(8))
                            .map(|action| with_set_columns(action, &row.get::<_, Vec<String>>(15))),
                        on_update: referential_action(&row.get::<_, String>(9)),
                        match_full: row.get::<_, String>(10) == "f",
                    })
                }
            };
            catalog.tables[index].constraints.push(Constraint {
                name: Some(ident(&name)),
                kind,
                state: ConstraintState {
                    enabled: true,
                    validated: row.get(3),
                    rely: false,
                    deferral: match (row.get::<_, bool>(11), row.get::<_, bool>(12)) {
                        (false, _) => Deferral::NotDeferrable,
                        (true, false) => Deferral::Immediate,
                        (true, true) => Deferral::Deferred,
                    },
                },
                index: crate::objects::index_options(&row, 13),
            });
        }
        Ok(catalog)
    }

    /// The canonical type of a column of type `oid` with modifier `typmod` (domains, enums and
    /// arrays resolved like [`PostgresSource::discover`] does), or `None` when the converter has
    /// no canonical equivalent.
    pub(crate) async fn canonical_type(
        &self,
        oid: u32,
        typmod: i32,
    ) -> Result<Option<LogicalType>, SourceError> {
        let types = self.types(&[oid]).await?;
        let resolved = resolve(&types, oid, typmod);
        let names = self.format_types(std::slice::from_ref(&resolved)).await?;
        let plain_name = names.into_iter().next().unwrap_or_default();
        let maps = TypeMaps::builtin().source(SourceDialect::Postgres);
        Ok(type_ref(resolved, &plain_name)
            .and_then(|ty| maps.map_source(&ty).ok())
            .map(|mapped| mapped.value))
    }

    /// `format_type` of the plain types (one round trip); enums get an empty name.
    async fn format_types(&self, resolved: &[Resolved]) -> Result<Vec<String>, SourceError> {
        let (oids, typmods): (Vec<u32>, Vec<i32>) = resolved
            .iter()
            .map(|r| match r {
                Resolved::Plain { oid, typmod, .. } => (*oid, *typmod),
                Resolved::Enum { .. } => (0, -1),
            })
            .unzip();
        let rows = self
            .client
            .query(
                "SELECT coalesce(format_type(o, nullif(m, -1)), '') \
                   FROM unnest($1::oid[], $2::int4[]) WITH ORDINALITY x(o, m, i) ORDER BY i",
                &[&oids, &typmods],
            )
            .await
            .map_err(SourceError::query("naming column types"))?;
        Ok(rows.into_iter().map(|r| r.get(0)).collect())
    }

    async fn types(&self, oids: &[u32]) -> Result<HashMap<u32, PgType>, SourceError> {
        let rows = self
            .client
            .query(TYPES, &[&oids])
            .await
            .map_err(SourceError::query("reading column types"))?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let ty = PgType {
                    typtype: row.get(1),
                    category: row.get(2),
                    base: row.get(3),
                    base_typmod: row.get(4),
                    elem: row.get(5),
                    name: row.get(6),
                    labels: row.get(7),
                    qualified: QualifiedName::new(
                        Some(ident(&row.get::<_, String>(8))),
                        ident(&row.get::<_, String>(9)),
                    ),
                    base_name: row.get(10),
                    checks: domain_checks(row.get(11), row.get(12), row.get::<_, Vec<bool>>(13)),
                    not_null: row.get(14),
                };
                (row.get::<_, u32>(0), ty)
            })
            .collect())
    }
}

/// A domain's CHECK constraints from the parallel arrays of [`TYPES`]; a NOT VALID one (rows
/// from before it was added may break it) is carried as not validated, which the converter
/// reports rather than creates.
fn domain_checks(
    names: Vec<String>,
    conditions: Vec<String>,
    validated: Vec<bool>,
) -> Vec<Constraint> {
    names
        .into_iter()
        .zip(conditions)
        .zip(validated)
        .map(|((name, condition), validated)| Constraint {
            name: Some(ident(&name)),
            kind: ConstraintKind::Check(condition),
            state: ConstraintState {
                validated,
                ..ConstraintState::default()
            },
            index: IndexOptions::default(),
        })
        .collect()
}

/// The domain a column's type is, or is an array of, with what its columns get from it.
struct ColumnDomain<'t> {
    name: &'t QualifiedName,
    /// Its CHECKs and those of the domains it is over, the farthest first.
    checks: Vec<Constraint>,
    /// Whether it, or a domain it is over, is NOT NULL.
    not_null: bool,
    /// The column is an array of it: its rules apply to each element.
    array: bool,
}

/// The domains of a column of type `oid`, found as `resolve` finds its type: the domain it is
/// (if any), then the one its elements are, for an array (or a domain over an array).
fn column_domains(types: &HashMap<u32, PgType>, oid: u32) -> Vec<ColumnDomain<'_>> {
    let mut domains = Vec::new();
    let mut current: Option<ColumnDomain> = None;
    let mut array = false;
    let mut next = types.get(&oid);
    // Bounded as `resolve` is.
    for _ in 0..32 {
        let Some(ty) = next else { break };
        match ty.typtype.as_str() {
            "d" => {
                let domain = current.get_or_insert_with(|| ColumnDomain {
                    name: &ty.qualified,
                    checks: Vec::new(),
                    not_null: false,
                    array,
                });
                domain.checks.splice(0..0, ty.checks.iter().cloned());
                domain.not_null |= ty.not_null;
                next = types.get(&ty.base);
            }
            _ if ty.category == "A" && ty.elem != 0 => {
                domains.extend(current.take());
                array = true;
                next = types.get(&ty.elem);
            }
            _ => break,
        }
    }
    domains.extend(current);
    domains
}

/// For each domain and enum among `types`, and array of one, the name casts to it have in
/// `pg_get_expr`'s text (`format_type`: `mood`, `other.size`, `mood[]`) and the type to cast
/// to instead: an enum's values are text, a domain's its base type's. Neither is created in
/// the target, where their columns have the base type.
fn cast_replacements(types: &HashMap<u32, PgType>) -> Vec<(String, String)> {
    let base_of = |ty: &PgType| -> Option<String> {
        let mut ty = ty;
        // Through domains over domains, bounded as `resolve` is.
        for _ in 0..32 {
            match ty.typtype.as_str() {
                "e" => return Some("text".into()),
                "d" => match types.get(&ty.base) {
                    Some(base) if base.typtype == "d" || base.typtype == "e" => ty = base,
                    _ => return ty.base_name.clone(),
                },
                _ => return None,
            }
        }
        None
    };
    let mut replacements: Vec<(String, String)> = types
        .values()
        .filter_map(|ty| match types.get(&ty.elem) {
            Some(element) if ty.category == "A" => {
                Some((ty.name.clone(), format!("{}[]", base_of(element)?)))
            }
            _ => Some((ty.name.clone(), base_of(ty)?)),
        })
        .collect();
    // Longest first: `mood[]` before `mood`.
    replacements.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
    replacements
}

/// `expression` with each cast `::name` to a type of `replacements` made a cast to its
/// replacement; string literals and quoted names are left alone.
fn without_user_type_casts(expression: &str, replacements: &[(String, String)]) -> String {
    if replacements.is_empty() {
        return expression.to_string();
    }
    let mut out = String::with_capacity(expression.len());
    let mut rest = expression;
    while let Some(c) = rest.chars().next() {
        if c == '\'' || c == '"' {
            let end = quoted_len(rest, c);
            out.push_str(&rest[..end]);
            rest = &rest[end..];
        } else if let Some(after) = rest.strip_prefix("::") {
            out.push_str("::");
            rest = after;
            let named = replacements.iter().find(|(name, _)| {
                after.starts_with(name.as_str())
                    && !after[name.len()..].starts_with(|c: char| {
                        c.is_alphanumeric() || matches!(c, '_' | '$' | '.' | '[' | '"')
                    })
            });
            if let Some((name, replacement)) = named {
                out.push_str(replacement);
                rest = &after[name.len()..];
            }
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// The length of the quoted literal or name `text` starts with (`quote`, doubled inside it);
/// all of `text` when it is not closed.
fn quoted_len(text: &str, quote: char) -> usize {
    let mut at = 1;
    while let Some(found) = text[at..].find(quote) {
        at += found + 1;
        if !text[at..].starts_with(quote) {
            return at;
        }
        at += 1;
    }
    text.len()
}

/// The identity a column gets in the target: a PostgreSQL identity column (`attidentity` `a`:
/// always, `d`: by default), or a column whose default is a sequence's next value (serial;
/// the converter writes a nullable one as a plain column). It starts at the sequence's next
/// value, so that rows inserted after a migration don't collide with the rows it copied, and
/// keeps its bounds and CYCLE. `sequence`: the sequence's, starting at its next value.
fn identity(
    attidentity: &str,
    sequence: Option<Identity>,
    default: Option<&ColumnDefault>,
) -> Option<Identity> {
    let numbered = !attidentity.is_empty() || matches!(default, Some(ColumnDefault::Sequence(_)));
    sequence.filter(|_| numbered).map(|sequence| Identity {
        always: attidentity == "a",
        ..sequence
    })
}

/// `pg_stats.n_distinct`: a count when positive, minus a fraction of the rows when negative,
/// 0 when unknown.
fn distinct_count(n_distinct: f64, rows: Option<u64>) -> Option<u64> {
    if n_distinct > 0.0 {
        Some(n_distinct.round() as u64)
    } else if n_distinct < 0.0 {
        rows.map(|rows| (-n_distinct * rows as f64).round() as u64)
    } else {
        None
    }
}

/// A foreign key's `confdeltype` or `confupdtype` as the converter writes it.
fn referential_action(code: &str) -> Option<String> {
    match code {
        "r" => Some("RESTRICT"),
        "c" => Some("CASCADE"),
        "n" => Some("SET NULL"),
        "d" => Some("SET DEFAULT"),
        _ => None, // 'a': NO ACTION, the default
    }
    .map(str::to_string)
}

/// `ON DELETE SET NULL (a, b)`: PostgreSQL 15 sets only the listed columns of the key (its
/// `confdelsetcols`, read through `to_jsonb` so that the query runs on older servers too).
fn with_set_columns(action: String, columns: &[String]) -> String {
    if columns.is_empty() {
        return action;
    }
    let columns: Vec<String> = columns.iter().map(|c| ident(c).to_string()).collect();
    format!("{action} ({})", columns.join(", "))
}

/// The converter's view of a resolved column type (`plain_name`: its `format_type`).
fn type_ref(resolved: Resolved, plain_name: &str) -> Option<TypeRef> {
    match resolved {
        Resolved::Plain { dims, .. } => parse_type_text(SourceDialect::Postgres, plain_name)
            .ok()
            .map(|mut ty| {
                ty.array_dims += dims;
                ty
            }),
        Resolved::Enum { name, labels, dims } => {
            let mut ty = TypeRef::named("ENUM");
            ty.labels = labels;
            ty.text = name;
            ty.array_dims = dims;
            Some(ty)
        }
    }
}

/// A column's type with domains replaced by their base type (and the domain's typmod) and
/// arrays by their element plus a dimension.
#[derive(Debug, Clone, PartialEq)]
enum Resolved {
    /// A built-in or extension type, named by `format_type(oid, typmod)`.
    Plain { oid: u32, typmod: i32, dims: u32 },
    Enum {
        name: String,
        labels: Vec<String>,
        dims: u32,
    },
}

fn resolve(types: &HashMap<u32, PgType>, oid: u32, typmod: i32) -> Resolved {
    let mut oid = oid;
    let mut typmod = typmod;
    let mut dims = 0;
    // Bounded: a domain over an array of a domain ... is finite, but a broken catalog must not
    // loop forever.
    for _ in 0..32 {
        let Some(ty) = types.get(&oid) else { break };
        match ty.typtype.as_str() {
            "d" => {
                if ty.base_typmod >= 0 {
                    typmod = ty.base_typmod;
                }
                oid = ty.base;
            }
            "e" => {
                return Resolved::Enum {
                    name: ty.name.clone(),
                    labels: ty.labels.clone(),
                    dims,
                }
            }
            _ if ty.category == "A" && ty.elem != 0 => {
                dims += 1;
                oid = ty.elem;
            }
            _ => break,
        }
    }
    Resolved::Plain { oid, typmod, dims }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn casts_to_domains_and_enums_become_casts_to_their_base_type() {
        let replacements = vec![
            ("mood[]".to_string(), "text[]".to_string()),
            ("other.size".to_string(), "text".to_string()),
            ("short".to_string(), "character varying(5)".to_string()),
            ("mood".to_string(), "text".to_string()),
        ];
        let cases = [
            ("'ok'::mood", "'ok'::text"),
            ("'{ok,sad}'::mood[]", "'{ok,sad}'::text[]"),
            ("'m'::other.size", "'m'::text"),
            (
                "('ab'::character varying)::short",
                "('ab'::character varying)::character varying(5)",
            ),
            // Not a cast to one of them: a longer name, a literal, a quoted name.
            ("'x'::moody", "'x'::moody"),
            ("'it''s ::mood'::text", "'it''s ::mood'::text"),
            ("'a''''b'::mood", "'a''''b'::text"),
            ("\"f::mood\"('x'::mood)", "\"f::mood\"('x'::text)"),
            ("now()", "now()"),
            ("'unclosed::mood", "'unclosed::mood"),
        ];
        for (expression, expected) in cases {
            assert_eq!(
                without_user_type_casts(expression, &replacements),
                expected,
                "{expression}"
            );
        }
    }

    #[test]
    fn serial_and_identity_columns_start_at_the_sequences_next_value() {
        let sequence = |start, increment| Identity {
            start,
            increment,
            min_value: Some(1),
            max_value: Some(100),
            cycle: true,
            ..Identity::default()
        };
        let serial = ColumnDefault::Sequence(QualifiedName::new(None, ident("t_id_seq")));
        assert_eq!(
            identity("", Some(sequence(42, 1)), Some(&serial)),
            Some(sequence(42, 1))
        );
        assert_eq!(
            identity("a", Some(sequence(60, 5)), None),
            Some(Identity {
                always: true,
                ..sequence(60, 5)
            })
        );
        let plain = ColumnDefault::Expression("0".into());
        assert_eq!(identity("", Some(sequence(7, 1)), Some(&plain)), None);
        assert_eq!(identity("", None, None), None);
    }
}
