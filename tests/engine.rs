//! Engine contracts with a small synthetic catalog: caching, invalidation,
//! renaming, determinism across --jobs, corruption, concurrent runs, failure
//! and cancellation. The kinds here are not physics; they exercise the engine.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Mutex};

use quench::engine::scheduler::{run, CancelFlags, Outcome, RunOptions};
use quench::engine::{codec, Cache, Event, EventBody, Executor, Output, Plan, PlannedStage};
use quench::observe::Observer;
use quench::pipeline::schema::{Arity, Default, InputSlot, KindSpec, ParamKind, ParamSpec};
use quench::pipeline::{Pipeline, Source};
use rand::Rng;

const SIZE: ParamSpec = ParamSpec {
    name: "size",
    kind: ParamKind::Int { min: 1, max: 1 << 24 },
    default: Default::Int(8),
    unit: "",
    doc: "",
};
const WORK: ParamSpec = ParamSpec {
    name: "work_ms",
    kind: ParamKind::Int { min: 0, max: 60_000 },
    default: Default::Int(0),
    unit: "",
    doc: "",
};
const FAIL: ParamSpec =
    ParamSpec { name: "fail", kind: ParamKind::Bool, default: Default::Bool(false), unit: "", doc: "" };

static CATALOG: &[KindSpec] = &[
    KindSpec {
        name: "gen",
        version: 1,
        summary: "",
        output: "num",
        inputs: &[],
        params: &[SIZE, WORK, FAIL],
        exactly_one_of: &[],
        at_most_one_given: &[],
        check: KindSpec::no_check,
    },
    KindSpec {
        name: "sum",
        version: 1,
        summary: "",
        output: "num",
        inputs: &[InputSlot { accepts: &["num"], arity: Arity::AtLeastOne }],
        params: &[WORK],
        exactly_one_of: &[],
        at_most_one_given: &[],
        check: KindSpec::no_check,
    },
];

/// Counts computations per stage name.
#[derive(Default)]
struct Counting {
    computed: Mutex<HashMap<String, usize>>,
    started: AtomicBool,
}

impl Counting {
    fn count(&self, name: &str) -> usize {
        self.computed.lock().unwrap().get(name).copied().unwrap_or(0)
    }
    fn total(&self) -> usize {
        self.computed.lock().unwrap().values().sum()
    }
}

impl Executor for Counting {
    fn execute(&self, stage: &PlannedStage, inputs: Vec<Vec<u8>>, observer: &dyn Observer) -> anyhow::Result<Output> {
        self.started.store(true, Ordering::SeqCst);
        *self.computed.lock().unwrap().entry(stage.name.clone()).or_default() += 1;
        let work = stage.params.int("work_ms").unwrap_or(0);
        for step in 0..work {
            observer.checkpoint()?;
            observer.progress(step as u64, work as u64);
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        if stage.params.bool("fail") == Some(true) {
            anyhow::bail!("asked to fail");
        }
        let values: Vec<u64> = if stage.kind == "gen" {
            let mut rng = quench::rng::stream(stage.seed, "gen", 0);
            (0..stage.params.int("size").unwrap_or(8)).map(|_| rng.random()).collect()
        } else {
            let decoded: Vec<Vec<u64>> = inputs.iter().map(|b| codec::decode(b).unwrap()).collect();
            vec![decoded.iter().flatten().fold(0u64, |a, &b| a.wrapping_add(b))]
        };
        observer.trace("len", 0.0, values.len() as f64);
        observer.histogram("first", &[0.0, 1.0], &[values[0] % 7]);
        Ok(Output { payload: codec::encode(&values).into(), summary: serde_json::json!({"len": values.len()}) })
    }
}

fn plan(text: &str) -> Plan {
    let pipeline = Pipeline::from_source(&Source::new(Path::new("t.toml"), text.into()), CATALOG).unwrap();
    Plan::new(&pipeline)
}

struct Run {
    outcomes: Vec<Outcome>,
    events: Vec<Event>,
}

fn execute(plan: &Plan, cache: &Cache, exec: &Counting, jobs: usize, force: &[&str], cancel: &CancelFlags) -> Run {
    let (tx, rx) = mpsc::channel();
    let force = plan.stages.iter().map(|s| force.contains(&s.name.as_str())).collect();
    let options = RunOptions { jobs, force, selected: vec![true; plan.stages.len()], cancel };
    let outcomes = run(plan, cache, exec, &options, &tx);
    drop(tx);
    Run { outcomes, events: rx.into_iter().collect() }
}

fn go(plan: &Plan, cache: &Cache, exec: &Counting) -> Run {
    execute(plan, cache, exec, 2, &[], &CancelFlags::new(plan.stages.len()))
}

const CHAIN: &str = r#"
[pipeline]
seed = 11
[stage.a]
kind = "gen"
size = 100
[stage.b]
kind = "gen"
size = 50
[stage.s]
kind = "sum"
inputs = ["a", "b"]
[stage.t]
kind = "sum"
inputs = ["s"]
"#;

fn hashes(cache: &Cache, plan: &Plan) -> Vec<quench::engine::ArtifactHash> {
    plan.stages.iter().map(|s| cache.record(&s.key).unwrap().artifact_hash).collect()
}

#[test]
fn cached_rerun_computes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    let p = plan(CHAIN);
    let first = Counting::default();
    assert!(go(&p, &cache, &first).outcomes.iter().all(|o| *o == Outcome::Computed));
    assert_eq!(first.total(), 4);
    let second = Counting::default();
    let run = go(&p, &cache, &second);
    assert_eq!(second.total(), 0);
    assert!(run.outcomes.iter().all(|o| *o == Outcome::Cached));
    let cached = run.events.iter().filter(|e| matches!(e.body, EventBody::Finished { cached: true, .. })).count();
    assert_eq!(cached, 4);
}

#[test]
fn changing_one_parameter_recomputes_exactly_its_dependents() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    go(&plan(CHAIN), &cache, &Counting::default());
    let changed = plan(&CHAIN.replace("size = 50", "size = 51"));
    let exec = Counting::default();
    go(&changed, &cache, &exec);
    assert_eq!((exec.count("a"), exec.count("b"), exec.count("s"), exec.count("t")), (0, 1, 1, 1));
}

#[test]
fn renaming_a_stage_reuses_its_cache() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    go(&plan(CHAIN), &cache, &Counting::default());
    let renamed = CHAIN.replace("[stage.a]", "[stage.alpha]").replace("[\"a\", \"b\"]", "[\"alpha\", \"b\"]");
    let exec = Counting::default();
    let run = go(&plan(&renamed), &cache, &exec);
    assert_eq!(exec.total(), 0, "renamed stage and its dependents stay cached");
    assert!(run.outcomes.iter().all(|o| *o == Outcome::Cached));
}

#[test]
fn jobs_do_not_change_artifacts() {
    let wide: String =
        (0..12).map(|i| format!("[stage.g{i}]\nkind = \"gen\"\nsize = {}\n", 1000 + i)).collect::<String>()
            + "[stage.all]\nkind = \"sum\"\ninputs = ["
            + &(0..12).map(|i| format!("\"g{i}\"")).collect::<Vec<_>>().join(",")
            + "]\n";
    let p = plan(&wide);
    let mut results = Vec::new();
    for jobs in [1, 2, 4] {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        execute(&p, &cache, &Counting::default(), jobs, &[], &CancelFlags::new(p.stages.len()));
        results.push(hashes(&cache, &p));
    }
    assert_eq!(results[0], results[1]);
    assert_eq!(results[0], results[2]);
}

#[test]
fn corrupt_artifacts_are_detected_and_recomputed() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    let p = plan(CHAIN);
    go(&p, &cache, &Counting::default());
    let before = hashes(&cache, &p);
    let path = cache.artifact_path(&p.stages[p.stages.iter().position(|s| s.name == "b").unwrap()].key);
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 3;
    bytes[last] ^= 0x40;
    std::fs::write(&path, &bytes).unwrap();
    let exec = Counting::default();
    let run = go(&p, &cache, &exec);
    assert_eq!(exec.count("b"), 1, "the corrupt stage is recomputed");
    assert_eq!(exec.total(), 1, "its dependents stay cached: same key, same output");
    let warnings = run
        .events
        .iter()
        .filter(
            |e| matches!(&e.body, EventBody::Log { level, message } if level == "warn" && message.contains("corrupt")),
        )
        .count();
    assert_eq!(warnings, 1, "the corruption is reported once (it is checked before and after locking)");
    assert_eq!(hashes(&cache, &p), before);
    // A truncated artifact too.
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let exec = Counting::default();
    go(&p, &cache, &exec);
    assert_eq!(exec.count("b"), 1);
}

#[test]
fn concurrent_runs_compute_each_stage_once() {
    let dir = tempfile::tempdir().unwrap();
    let text: String =
        (0..6).map(|i| format!("[stage.g{i}]\nkind = \"gen\"\nsize = {}\nwork_ms = 150\n", i + 1)).collect();
    let p = plan(&text);
    let (x, y) = (Counting::default(), Counting::default());
    std::thread::scope(|s| {
        s.spawn(|| go(&p, &Cache::open(dir.path()).unwrap(), &x));
        s.spawn(|| go(&p, &Cache::open(dir.path()).unwrap(), &y));
    });
    assert_eq!(x.total() + y.total(), 6, "x computed {}, y computed {}", x.total(), y.total());
}

#[test]
fn a_failed_stage_cancels_its_dependents_only() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    let p = plan(&CHAIN.replace("size = 50", "size = 50\nfail = true"));
    let run = go(&p, &cache, &Counting::default());
    let by_name: HashMap<&str, &Outcome> = p.stages.iter().map(|s| s.name.as_str()).zip(&run.outcomes).collect();
    assert_eq!(*by_name["a"], Outcome::Computed);
    assert!(matches!(by_name["b"], Outcome::Failed(e) if e.contains("asked to fail")));
    assert!(matches!(by_name["s"], Outcome::Cancelled(r) if r.contains("input `b` failed")));
    assert!(matches!(by_name["t"], Outcome::Cancelled(_)));
    assert!(cache.record(&p.stages[1].key).is_none());
}

#[test]
fn cancellation_stops_running_stages_and_caches_nothing_partial() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    let p = plan("[stage.slow]\nkind = \"gen\"\nwork_ms = 20000\n[stage.after]\nkind = \"sum\"\ninputs = [\"slow\"]\n");
    let cancel = CancelFlags::new(p.stages.len());
    let exec = Counting::default();
    let run = std::thread::scope(|s| {
        let handle = s.spawn(|| execute(&p, &cache, &exec, 2, &[], &cancel));
        while !exec.started.load(Ordering::SeqCst) {
            std::thread::yield_now();
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
        cancel.all.store(true, Ordering::SeqCst);
        handle.join().unwrap()
    });
    assert!(run.outcomes.iter().all(|o| matches!(o, Outcome::Cancelled(_))), "{:?}", run.outcomes);
    assert!(p.stages.iter().all(|s| cache.record(&s.key).is_none()));
    let cancelled: Vec<&str> =
        run.events.iter().filter(|e| matches!(e.body, EventBody::Cancelled { .. })).map(|e| e.stage.as_str()).collect();
    assert_eq!(cancelled.len(), 2);
}

#[test]
fn forcing_recomputes_and_keeps_dependents_cached() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    let p = plan(CHAIN);
    go(&p, &cache, &Counting::default());
    let exec = Counting::default();
    let run = execute(&p, &cache, &exec, 2, &["b"], &CancelFlags::new(p.stages.len()));
    assert_eq!(exec.total(), 1);
    assert!(!run
        .events
        .iter()
        .any(|e| matches!(&e.body, EventBody::Log { message, .. } if message.contains("not deterministic"))));
}

#[test]
fn forcing_a_nondeterministic_stage_warns_with_both_hashes_and_survives_a_malformed_old_record() {
    /// Returns a different payload on every call.
    struct Drifts(std::sync::atomic::AtomicU64);
    impl Executor for Drifts {
        fn execute(&self, _: &PlannedStage, _: Vec<Vec<u8>>, _: &dyn Observer) -> anyhow::Result<Output> {
            let n = self.0.fetch_add(1, Ordering::SeqCst);
            Ok(Output { payload: codec::encode(&vec![n]).into(), summary: serde_json::json!({}) })
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    let p = plan("[stage.a]\nkind = \"gen\"\n");
    let drifts = Drifts(std::sync::atomic::AtomicU64::new(0));
    let cancel = CancelFlags::new(1);
    let force = |cache: &Cache| {
        let (tx, rx) = mpsc::channel();
        let options = RunOptions { jobs: 1, force: vec![true], selected: vec![true], cancel: &cancel };
        let outcomes = run(&p, cache, &drifts, &options, &tx);
        drop(tx);
        assert_eq!(outcomes, vec![Outcome::Computed]);
        rx.into_iter()
            .filter_map(|e| match e.body {
                EventBody::Log { level, message } if level == "warn" => Some(message),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    assert!(force(&cache).is_empty());
    let first = cache.record(&p.stages[0].key).unwrap().artifact_hash;
    let warnings = force(&cache);
    let second = cache.record(&p.stages[0].key).unwrap().artifact_hash;
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains(&second.short()) && warnings[0].contains(&first.short()), "{warnings:?}");
    // An old record whose hash is malformed is no record to compare with: no panic, no warning.
    let record = cache.record_path(&p.stages[0].key);
    let text = std::fs::read_to_string(&record).unwrap();
    std::fs::write(&record, text.replace(&second.hex(), "abc")).unwrap();
    assert!(cache.record(&p.stages[0].key).is_none());
    assert!(force(&cache).is_empty());
}

#[test]
fn a_panicking_stage_fails_cleanly() {
    struct Panics;
    impl Executor for Panics {
        fn execute(&self, _: &PlannedStage, _: Vec<Vec<u8>>, _: &dyn Observer) -> anyhow::Result<Output> {
            panic!("boom")
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    let p = plan(CHAIN);
    let (tx, _rx) = mpsc::channel();
    let cancel = CancelFlags::new(p.stages.len());
    let options = RunOptions { jobs: 2, force: vec![false; 4], selected: vec![true; 4], cancel: &cancel };
    let outcomes = run(&p, &cache, &Panics, &options, &tx);
    assert!(matches!(&outcomes[0], Outcome::Failed(e) if e.contains("panicked: boom")), "{outcomes:?}");
}

#[test]
fn cached_stages_replay_their_traces_and_histograms() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    let p = plan(CHAIN);
    let data = |run: &Run| -> Vec<(String, EventBody)> {
        run.events
            .iter()
            .filter(|e| matches!(e.body, EventBody::Trace { .. } | EventBody::Histogram { .. }))
            .map(|e| (e.stage.clone(), e.body.clone()))
            .collect()
    };
    let mut first = data(&go(&p, &cache, &Counting::default()));
    let mut second = data(&go(&p, &cache, &Counting::default()));
    assert_eq!(first.len(), 8);
    first.sort_by(|a, b| a.0.cmp(&b.0));
    second.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(first, second);
}
