//! Engine benchmarks: a no-op re-run of a fully cached 100-stage pipeline
//! (parse, validate, expand, key, verify every cached artifact, emit events),
//! and blake3 throughput on a 256 MiB artifact.
//!
//! Run: `cargo bench --bench engine`.

use std::path::Path;
use std::sync::mpsc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use quench::engine::scheduler::{run, CancelFlags, RunOptions};
use quench::engine::{codec, Cache, Plan};
use quench::pipeline::Pipeline;
use quench::stages::{CatalogExecutor, CATALOG};

const PIPELINE: &str = r#"
[pipeline]
name = "hundred"
[stage.inst]
kind = "disorder.sk"
n = 64
beta = 0.5
[sweep]
"inst.instance" = [INSTANCES]
"#;

fn run_all(path: &Path, cache: &Cache) -> usize {
    let pipeline = Pipeline::load(path, CATALOG).expect("valid pipeline");
    let plan = Plan::new(&pipeline);
    let cancel = CancelFlags::new(plan.stages.len());
    let n = plan.stages.len();
    let options = RunOptions { jobs: 2, force: vec![false; n], selected: vec![true; n], cancel: &cancel };
    let (tx, rx) = mpsc::channel();
    let outcomes = run(&plan, cache, &CatalogExecutor, &options, &tx);
    drop(tx);
    rx.into_iter().count() + outcomes.len()
}

fn noop_rerun(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let instances: Vec<String> = (0..100).map(|i| i.to_string()).collect();
    let path = dir.path().join("hundred.toml");
    std::fs::write(&path, PIPELINE.replace("INSTANCES", &instances.join(", "))).expect("write pipeline");
    let cache = Cache::open(&dir.path().join("cache")).expect("cache");
    run_all(&path, &cache);
    c.bench_function("noop_rerun_100_cached_stages", |b| b.iter(|| run_all(&path, &cache)));
}

fn hashing(c: &mut Criterion) {
    let payload: Vec<u8> = (0..256u64 << 20).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    let mut group = c.benchmark_group("blake3_256MiB");
    group.throughput(Throughput::Bytes(payload.len() as u64));
    group.sample_size(10);
    group.bench_function("artifact_hash_rayon", |b| b.iter(|| codec::hash_payload(&payload)));
    group.bench_function("single_thread", |b| b.iter(|| blake3::hash(&payload)));
    group.finish();
}

criterion_group!(benches, noop_rerun, hashing);
criterion_main!(benches);
