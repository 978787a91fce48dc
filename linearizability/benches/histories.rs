//! Time to check every shared history (70 Jepsen etcd logs, 6 key/value histories) and, one
//! by one, the three hardest (c50-ok, etcd_002, etcd_007): the figures compared with porcupine
//! in the README.
//!
//! `cargo bench -p linearizability`

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{Criterion, criterion_group, criterion_main};
use linearizability::models::KvMap;
use linearizability::parse::{AnyHistory, EtcdRegister, parse_any};
use linearizability::{Verdict, check};

/// Every history file of the test data with its text.
fn files() -> Vec<(PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let mut files = Vec::new();
    for folder in ["etcd", "kv"] {
        let dir = std::fs::read_dir(root.join(folder)).expect("test data folder");
        let mut paths: Vec<PathBuf> = dir
            .map(|entry| entry.expect("directory entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "log" || e == "txt"))
            .collect();
        paths.sort();
        for path in paths {
            let text = std::fs::read_to_string(&path).expect("readable history");
            files.push((path, text));
        }
    }
    files
}

fn verdict(history: &AnyHistory) -> Verdict {
    let report = match history {
        AnyHistory::Etcd(h) => check(&EtcdRegister::new(None), h),
        AnyHistory::Kv(h) => check(&KvMap, h),
    };
    report.expect("well-formed history").verdict
}

fn bench(c: &mut Criterion) {
    let files = files();
    assert_eq!(files.len(), 76, "70 etcd logs and 6 kv histories");
    let parsed: Vec<AnyHistory> = files
        .iter()
        .map(|(path, text)| parse_any(text).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .collect();
    let etcd: Vec<&AnyHistory> = parsed
        .iter()
        .filter(|h| matches!(h, AnyHistory::Etcd(_)))
        .collect();
    let kv: Vec<&AnyHistory> = parsed
        .iter()
        .filter(|h| matches!(h, AnyHistory::Kv(_)))
        .collect();

    let mut group = c.benchmark_group("shared histories");
    group.sample_size(10);
    group.bench_function("parse and check all 76", |b| {
        b.iter(|| {
            for (_, text) in &files {
                let history = parse_any(black_box(text)).expect("parses");
                black_box(verdict(&history));
            }
        })
    });
    group.bench_function("check 70 etcd", |b| {
        b.iter(|| {
            etcd.iter()
                .filter(|h| verdict(black_box(h)) == Verdict::Violation)
                .count()
        })
    });
    group.bench_function("check 6 kv", |b| {
        b.iter(|| {
            kv.iter()
                .filter(|h| verdict(black_box(h)) == Verdict::Violation)
                .count()
        })
    });
    group.finish();

    // The hardest histories, parsed beforehand: the check alone.
    let mut group = c.benchmark_group("hardest histories");
    group.sample_size(10);
    for name in ["c50-ok.txt", "etcd_002.log", "etcd_007.log"] {
        let index = files
            .iter()
            .position(|(path, _)| path.file_name().is_some_and(|f| f == name))
            .unwrap_or_else(|| panic!("{name} is in the test data"));
        let history = &parsed[index];
        group.bench_function(format!("check {name}"), |b| {
            b.iter(|| verdict(black_box(history)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
