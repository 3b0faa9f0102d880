//! DDL text -> core model -> target DDL.
//!
//! Front ends read real-world scripts of each source dialect into a [`migrate_core::Catalog`];
//! [`typemap`] maps types through the data files of `dialect-maps/`; emitters write target DDL.

mod column_refs;
mod constructs;
mod cursor;
pub mod ddl;
mod emit;
mod expr;
mod index_expr;
mod literal_default;
mod mariadb_sequence;
mod script;
mod sequence_bounds;
mod target_checks;
mod type_syntax;
pub mod typemap;

pub use column_refs::{domain_checks_of_column, DomainColumnType};
pub use constructs::{procedural_constructs, Constructs};
pub use cursor::ParseError;
pub use ddl::{
    column_default, exclusion_constraint_finding, read_script, without_bom, DdlReader, InputError,
};
pub use emit::{
    btree_entry_bytes, btree_max_key_bytes, emit, emit_with, wide_key, Checks, Conversion,
    KeyWidth, SeparateStatement, Summary, BTREE_MAX_ENTRY_BYTES,
};
pub use migrate_core::{SourceDialect, TargetDialect};
pub use target_checks::target_type_checks;
pub use type_syntax::parse_type_text;
pub use typemap::{MapError, Mapped, RuleNote, TypeMap, TypeMaps, TypeRef};
