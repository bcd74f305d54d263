//! Reproducibility guard: rand / rand_pcg / rand_distr value streams, blake3
//! keys and the artifact bytes of a small seeded stage are pinned here. If an
//! upgrade or a change makes this fail, every cached artifact changes: bump the
//! affected kind versions (or the key format) deliberately, then update these.

use std::path::Path;

use quench::engine::{Executor, Plan};
use quench::observe::Silent;
use quench::pipeline::{Pipeline, Source};
use quench::stages::{CatalogExecutor, CATALOG};
use rand::Rng;
use rand_distr::StandardNormal;

#[test]
fn seeded_streams_are_pinned() {
    let mut rng = quench::rng::stream(42, "golden", 3);
    let ints: Vec<u64> = (0..3).map(|_| rng.random()).collect();
    let normal: f64 = rng.sample(StandardNormal);
    let uniform: f64 = rng.random();
    println!("{ints:?} {normal:?} {uniform:?}");
    assert_eq!(ints, GOLDEN_INTS);
    assert_eq!(normal.to_bits(), GOLDEN_NORMAL.to_bits());
    assert_eq!(uniform.to_bits(), GOLDEN_UNIFORM.to_bits());
}

#[test]
fn a_small_seeded_stage_is_pinned() {
    let text = "[pipeline]\nseed = 7\n[stage.t]\nkind = \"disorder.spiked-tensor\"\nn = 12\ntemperature = 0.8\n";
    let pipeline = Pipeline::from_source(&Source::new(Path::new("golden.toml"), text.into()), CATALOG).unwrap();
    let plan = Plan::new(&pipeline);
    let stage = &plan.stages[0];
    let out = CatalogExecutor.execute(stage, vec![], &Silent).unwrap();
    let hash = out.payload.hash().unwrap().0.to_hex().to_string();
    println!("key {} seed {} hash {hash}", stage.key, stage.seed);
    assert_eq!(stage.key.hex(), GOLDEN_KEY);
    assert_eq!(stage.seed, GOLDEN_SEED);
    assert_eq!(hash, GOLDEN_HASH);
}

const GOLDEN_INTS: [u64; 3] = [881336642214838687, 16274367189715608334, 996029137761955766];
const GOLDEN_NORMAL: f64 = 1.0155261685539854;
const GOLDEN_UNIFORM: f64 = 0.36374237265514886;
const GOLDEN_KEY: &str = "13568139598052f8aad8af564de3b2cc7aa1d51aabb83eb17ab3c1d9a8532866";
const GOLDEN_SEED: u64 = 16723004377359390800;
const GOLDEN_HASH: &str = "dc4f3c269afc462784ef30e3e802203be6a166aefce8b2606d46f04f4ba8174f";
