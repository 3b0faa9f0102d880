//! A chunk of one million rows (about 100 MB as Arrow arrays) through both formats, locally and on
//! the S3 server, with the heap measured: the writer must stream, never hold the whole chunk.
//! Prints write/read throughput (run with `--release --nocapture` for meaningful numbers).
//!
//! One test function on purpose: the allocator counter is process-wide, so nothing else may run
//! beside it.

mod common;

use common::*;
use migrate_stage::{Format, Stage, StageOptions};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size > layout.size() {
                let grow = new_size - layout.size();
                let live = LIVE.fetch_add(grow, Ordering::Relaxed) + grow;
                PEAK.fetch_max(live, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const ROWS: usize = 1_000_000;
const MIB: f64 = 1024.0 * 1024.0;

/// Heap growth allowed over the baseline while writing or reading a chunk with the options below:
/// one 8 MiB row group being encoded, parts of 5 MiB (4 in flight on S3), one batch, buffers.
const HEAP_BOUND: usize = 80 << 20;

fn options() -> StageOptions {
    StageOptions {
        row_group_bytes: 8 << 20,
        part_bytes: 5 << 20,
        ..StageOptions::default()
    }
}

fn measure(stage: &Stage, rt: &tokio::runtime::Runtime, backend: &str) {
    // How much the chunk weighs as Arrow arrays, counted batch by batch (never all at once), and
    // how long making the batches takes (included in the write times below).
    let t = std::time::Instant::now();
    let arrow_bytes: usize = rt.block_on(async {
        use futures::StreamExt;
        generated(ROWS, 8192)
            .map(|b| b.expect("batch").get_array_memory_size())
            .fold(0, |a, b| async move { a + b })
            .await
    });
    println!(
        "{backend:>5} generating the {ROWS} rows alone: {:.2} s",
        t.elapsed().as_secs_f64()
    );
    for format in [Format::Parquet, Format::CsvGzip] {
        let baseline = LIVE.load(Ordering::Relaxed);
        PEAK.store(baseline, Ordering::Relaxed);
        let (write, read, bytes) = rt.block_on(timed_million(
            stage,
            &format!("million_{format:?}"),
            ROWS,
            format,
        ));
        let growth = PEAK.load(Ordering::Relaxed).saturating_sub(baseline);
        println!(
            "{backend:>5} {format:<9}: {ROWS} rows, {:.0} MiB as Arrow, object {:.1} MiB; \
             write {write:.2} s ({:.0} krows/s, {:.0} MiB/s Arrow), read+verify {read:.2} s \
             ({:.0} krows/s); peak heap growth {:.1} MiB",
            arrow_bytes as f64 / MIB,
            bytes as f64 / MIB,
            ROWS as f64 / write / 1e3,
            arrow_bytes as f64 / MIB / write,
            ROWS as f64 / read / 1e3,
            growth as f64 / MIB,
        );
        assert!(
            growth < HEAP_BOUND && growth < arrow_bytes / 2,
            "{backend} {format}: heap grew by {growth} bytes for a chunk of {arrow_bytes} Arrow bytes"
        );
    }
}

#[test]
fn million_rows_stream_in_bounded_memory() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let local = Stage::from_url(dir.path().to_str().expect("utf-8"), options()).expect("local");
    measure(&local, &rt, "local");
    if let Some(server) = migrate_testkit::s3() {
        let s3 = Stage::from_url(&server.unique_url("million"), options()).expect("s3");
        measure(&s3, &rt, "s3");
    }
}
