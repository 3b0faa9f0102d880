#![no_main]

use libfuzzer_sys::fuzz_target;
use migrate_core::SourceDialect;

fuzz_target!(|data: &[u8]| migrate_fuzz::pipeline(SourceDialect::Hive, data));
