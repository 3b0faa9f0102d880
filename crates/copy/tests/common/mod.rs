//! Helpers shared by the copy crate's integration tests.

use migrate_copy::{copy, CopyOptions, CopySummary, Quiet};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

pub const MIB: usize = 1 << 20;

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Deterministic, incompressible-enough bytes.
pub fn bytes(seed: u32, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// Every file under `root`, relative path -> bytes.
pub fn read_tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    tree_bytes(root)
        .into_iter()
        .map(|(rel, bytes)| (String::from_utf8(rel).expect("a UTF-8 name"), bytes))
        .collect()
}

/// Every file under `root` by the bytes of its relative path (names need not be UTF-8).
pub fn tree_bytes(root: &Path) -> BTreeMap<Vec<u8>, Vec<u8>> {
    use std::os::unix::ffi::OsStrExt;
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(root).unwrap().as_os_str().as_bytes();
                out.insert(rel.to_vec(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// A copy with 5 MiB parts, 4 in flight, its state under `state`, plain HTTP allowed.
pub fn options(src: &str, dst: &str, state: &Path) -> CopyOptions {
    let mut o = CopyOptions::new(src, dst);
    o.part_size = 5 * MIB as u64;
    o.parallel = 4;
    o.state_dir = state.to_path_buf();
    o.allow_http = true;
    o
}

pub fn run(o: CopyOptions) -> CopySummary {
    runtime().block_on(copy(o, Arc::new(Quiet))).unwrap()
}
