//! Every long stage kind resumes bit-identically, through the real binary: a
//! run with a tiny `checkpoint_every` is SIGKILLed at a random moment after
//! its first checkpoint, then re-run; the artifact hash equals the one of an
//! uninterrupted run (computed on one thread, the killed runs use two). One
//! stage is killed three times in a row, and `gc` is checked on a sampler's
//! checkpoint. Training has its own test (tests/train_resume.rs).

mod binary;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use binary::{command, quench_env, text, write};

/// Instances shared by the pipelines below (small n: the test stays short).
const INSTANCES: &str = r#"
[pipeline]
name = "resume"
seed = 11

[stage.sk]
kind = "disorder.sk"
n = 120
temperature = 0.5

[stage.tensor]
kind = "disorder.spiked-tensor"
n = 40
temperature = 0.7

[stage.sphere]
kind = "disorder.spiked-tensor"
n = 40
prior = "spherical"
temperature = 0.7

[stage.graph]
kind = "disorder.bicoloring"
n = 2000
k = 4
alpha = 2.0
planted = true
"#;

/// The pipeline: the instances, then `stage` (a TOML body without its header).
fn pipeline(stage: &str, every: f64) -> String {
    format!("{INSTANCES}\n[stage.long]\n{stage}checkpoint_every = {every:?}\n")
}

fn env(threads: &str) -> [(&'static str, &str); 1] {
    [("RAYON_NUM_THREADS", threads)]
}

/// The artifact hash of stage `long` (the pipeline must have run).
fn hash(cache: &Path, p: &Path) -> String {
    let out = quench_env(cache, &["show", p.to_str().unwrap(), "long", "--json"], &env("2"));
    assert!(out.status.success(), "{}", text(&out));
    let record: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    record["artifact_hash"].as_str().unwrap().to_string()
}

/// Runs the pipeline to the end; returns what it printed.
fn run(cache: &Path, p: &Path, threads: &str) -> String {
    let out = quench_env(cache, &["run", p.to_str().unwrap(), "--headless"], &env(threads));
    assert!(out.status.success(), "{}", text(&out));
    text(&out)
}

/// The one checkpoint file under `cache/partial`, if there is one.
fn checkpoint(cache: &Path) -> Option<PathBuf> {
    let dir = std::fs::read_dir(cache.join("partial")).ok()?.next()?.ok()?;
    Some(dir.path().join("state.ckpt")).filter(|f| f.exists())
}

/// A pseudo-random delay in `[0, max)` (printed, so a failure can be retraced).
fn random_delay(max: Duration) -> Duration {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos() as u64;
    let mixed = nanos.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 11;
    Duration::from_micros(mixed % max.as_micros() as u64)
}

/// Starts the pipeline, waits for a checkpoint of `long`, lets it run a random
/// while longer, and SIGKILLs it. Panics if the run ends before that.
fn start_and_kill(cache: &Path, p: &Path) {
    let mut child = command(cache, &["run", p.to_str().unwrap(), "--headless"])
        .env("RAYON_NUM_THREADS", "2")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let before = checkpoint(cache).and_then(|f| std::fs::metadata(f).ok()?.modified().ok());
    loop {
        let now = checkpoint(cache).and_then(|f| std::fs::metadata(f).ok()?.modified().ok());
        if now.is_some() && now != before {
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the stage finished ({status}) before it saved a checkpoint: make it longer");
        }
        assert!(start.elapsed() < Duration::from_secs(120), "no checkpoint after 120 s");
        std::thread::sleep(Duration::from_millis(5));
    }
    let delay = random_delay(Duration::from_millis(300));
    eprintln!("killing {} ms after a checkpoint", delay.as_millis());
    std::thread::sleep(delay);
    assert!(child.try_wait().unwrap().is_none(), "the stage finished before it was killed: make it longer");
    child.kill().unwrap();
    child.wait().unwrap();
}

/// Kills `stage` `kills` times in a row, resumes it, and checks the artifact
/// against an uninterrupted run.
fn killed_runs_resume_to_the_same_bits(stage: &str, kills: usize) {
    let dir = tempfile::tempdir().unwrap();
    let straight = write(dir.path(), "straight.toml", &pipeline(stage, 1000.0));
    let ref_cache = dir.path().join("ref");
    run(&ref_cache, &straight, "1");
    let reference = hash(&ref_cache, &straight);

    let p = write(dir.path(), "killed.toml", &pipeline(stage, 0.05));
    let cache = dir.path().join("killed");
    for _ in 0..kills {
        start_and_kill(&cache, &p);
    }
    let log = run(&cache, &p, "2");
    assert!(log.contains("resuming from the checkpoint"), "no resume in the output: {log}");
    assert_eq!(hash(&cache, &p), reference, "the resumed artifact differs from the uninterrupted one");
    assert!(checkpoint(&cache).is_none(), "checkpoint left behind after the stage was stored");
}

#[test]
fn metropolis_killed_three_times_resumes_and_gc_removes_orphans() {
    let stage = "kind = \"sample.metropolis\"\ninputs = [\"sk\"]\nchains = 4\nsweeps = 250000\nburn_in = 100\nrecord_every = 500\n";
    killed_runs_resume_to_the_same_bits(stage, 3);

    // gc keeps the checkpoint of a stage a listed pipeline uses, removes it otherwise.
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "p.toml", &pipeline(stage, 0.05));
    let cache = dir.path().join("c");
    start_and_kill(&cache, &p);
    let saved = checkpoint(&cache).expect("a checkpoint after the kill");
    let out = quench_env(&cache, &["gc", p.to_str().unwrap()], &env("2"));
    assert!(out.status.success() && saved.exists(), "{}", text(&out));
    let other = write(dir.path(), "other.toml", INSTANCES);
    let out = quench_env(&cache, &["gc", other.to_str().unwrap()], &env("2"));
    assert!(out.status.success() && !saved.parent().unwrap().exists(), "{}", text(&out));
}

#[test]
fn bicoloring_glauber_resumes() {
    killed_runs_resume_to_the_same_bits(
        "kind = \"sample.metropolis\"\ninputs = [\"graph\"]\ninit = \"planted\"\nchains = 2\nsweeps = 6000\nburn_in = 0\nrecord_every = 100\n",
        1,
    );
}

#[test]
fn tempering_resumes() {
    killed_runs_resume_to_the_same_bits(
        "kind = \"sample.parallel-tempering\"\ninputs = [\"sk\"]\nchains = 2\nreplicas = 4\nsweeps = 60000\nburn_in = 100\nrecord_every = 250\n",
        1,
    );
}

#[test]
fn langevin_resumes() {
    killed_runs_resume_to_the_same_bits(
        "kind = \"sample.langevin\"\ninputs = [\"sphere\"]\nchains = 2\nsteps = 50000\nburn_in = 0\nrecord_every = 100\ndt = 0.01\n",
        1,
    );
}

#[test]
fn diffusion_resumes() {
    killed_runs_resume_to_the_same_bits(
        "kind = \"sample.diffusion\"\ninputs = [\"tensor\"]\nsamples = 8\nbatch = 1\ndt = 0.01\nt_fine = 2\nt_max = 50\ngeometric_steps = 10\n",
        1,
    );
}

#[test]
fn flow_resumes() {
    killed_runs_resume_to_the_same_bits(
        "kind = \"sample.flow\"\ninputs = [\"tensor\"]\nsamples = 16\nbatch = 1\nds = 0.005\nnoise = 0.5\ngeometric_steps = 10\n",
        1,
    );
}

#[test]
fn autoregressive_resumes() {
    killed_runs_resume_to_the_same_bits(
        "kind = \"sample.autoregressive\"\ninputs = [\"tensor\"]\nsamples = 48\nbatch = 2\n",
        1,
    );
}

#[test]
fn phase_diagram_resumes() {
    killed_runs_resume_to_the_same_bits(
        "kind = \"theory.phase-diagram\"\nmodel = \"spiked-tensor\"\ntemperature_min = 0.55\ntemperature_max = 0.8\nprior = \"sparse-rademacher\"\nrho = 0.5\ndelta_points = 5000\nt_max = 2.0\nt_points = 200\n",
        1,
    );
}

#[test]
fn bicoloring_diagram_resumes() {
    killed_runs_resume_to_the_same_bits(
        "kind = \"theory.bicoloring-diagram\"\nalpha_points = 6\nt_points = 4\npopulation = 300\niterations = 20\nbisections = 0\n",
        1,
    );
}

#[test]
fn bicoloring_path_resumes() {
    killed_runs_resume_to_the_same_bits(
        "kind = \"theory.bicoloring-path\"\nalpha = 9.2\nt_max = 0.4\nt_points = 8\npopulation = 2000\niterations = 60\nbethe_samples = 2000\n",
        2,
    );
}
