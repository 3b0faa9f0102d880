//! The domain model of `migrate`, with no I/O.
//!
//! Everything the other crates exchange is defined here: qualified names, the canonical type system
//! ([`LogicalType`]), the catalog of database objects parsed from DDL or read from a live source, and
//! [`Finding`]s, the honest record of every conversion gap.

mod calendar;
mod catalog;
mod dialect;
mod error;
mod finding;
mod hash;
mod hex;
mod layout;
mod location;
mod name;
mod preflight;
mod types;

pub use calendar::{civil_from_days, days_from_civil};
pub use catalog::{
    Bucketing, Catalog, CheckOption, Column, ColumnDefault, ColumnStatistics, Constraint,
    ConstraintKind, ConstraintState, Deferral, ExternalStorage, ForeignKey, Identity, Index,
    IndexKind, IndexOptions, Partition, PartitionMethod, Partitioning, Routine, RoutineKind,
    Sequence, Synonym, Table, TableIndex, TableKind, TableStatistics, UserType, View, ViewOptions,
};
pub use dialect::{SourceDialect, TargetDialect};
pub use error::{caused_by, error_chain, ErrorClass, Retry};
pub use finding::{Finding, Severity, SourceLocation};
pub use hash::fnv1a;
pub use hex::{hex, unhex};
pub use layout::{DistStyle, Encoding, Evidence, TableLayout};
pub use location::{LocationMap, LocationMapError, LocationRule};
pub use name::{
    apply_staging_prefix, Ident, QualifiedName, BOOKKEEPING_SCHEMA, BOOKKEEPING_TABLES,
};
pub use preflight::{
    catalog_checks, may_exceed, truncation_check, CheckStatus, PreflightCheck, PreflightOptions,
    ReplicationMode,
};
pub use types::{LengthUnit, LogicalType, StructField, TypeParseError};
