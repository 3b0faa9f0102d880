//! DDL text -> core model -> target DDL.
//!
//! Front ends read real-world scripts of each source dialect into a [`migrate_core::Catalog`];
//! [`typemap`] maps types through the data files of `dialect-maps/`; emitters write target DDL.

mod expr;
pub mod typemap;

pub use migrate_core::{SourceDialect, TargetDialect};
pub use typemap::{MapError, Mapped, RuleNote, TypeMap, TypeMaps, TypeRef};
