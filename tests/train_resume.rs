//! Training through the real binary: a run killed mid-way (SIGKILL) resumes
//! from its checkpoint and ends with the same artifact bits as an uninterrupted
//! run; `checkpoint_every` is not part of the key; the hash does not depend on
//! `--jobs` or the thread count; bad input fails with the stage named.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn command(cache: &Path, args: &[&str], threads: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_quench"));
    cmd.arg("--cache").arg(cache).args(args).env("RAYON_NUM_THREADS", threads).stdin(Stdio::null());
    cmd
}

fn quench(cache: &Path, args: &[&str], threads: &str) -> Output {
    command(cache, args, threads).output().expect("binary runs")
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn write(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    path
}

fn pipeline(every: f64, steps: usize) -> String {
    format!(
        r#"
[pipeline]
name = "resume"
seed = 3

[stage.inst]
kind = "disorder.sk"
n = 40
temperature = 0.8

[stage.van]
kind = "train.autoregressive"
inputs = ["inst"]
steps = {steps}
batch = 64
lr = 0.003
beta_anneal = 100
checkpoint_every = {every:?}
"#
    )
}

fn show(cache: &Path, p: &Path, stage: &str) -> serde_json::Value {
    let out = quench(cache, &["show", p.to_str().unwrap(), stage, "--json"], "2");
    assert!(out.status.success(), "{}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Runs the pipeline; the artifact hash of `van` and what the run printed.
fn run_logged(cache: &Path, p: &Path, extra: &[&str], threads: &str) -> (String, String) {
    let mut args = vec!["run", p.to_str().unwrap(), "--headless"];
    args.extend(extra);
    let out = quench(cache, &args, threads);
    assert!(out.status.success(), "{}", text(&out));
    (show(cache, p, "van")["artifact_hash"].as_str().unwrap().to_string(), text(&out))
}

fn run(cache: &Path, p: &Path, extra: &[&str], threads: &str) -> String {
    run_logged(cache, p, extra, threads).0
}

#[test]
fn killed_training_resumes_to_the_same_bits() {
    let dir = tempfile::tempdir().unwrap();
    let steps = 1500;
    let p = write(dir.path(), "a.toml", &pipeline(0.2, steps));
    // Uninterrupted, with another checkpoint pace (not part of the key).
    let straight = write(dir.path(), "b.toml", &pipeline(1000.0, steps));
    let reference = run(&dir.path().join("ref"), &straight, &[], "2");

    let cache = dir.path().join("killed");
    let mut child = command(&cache, &["run", p.to_str().unwrap(), "--headless"], "2")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let partial = cache.join("partial");
    let start = Instant::now();
    let saved = loop {
        let found = std::fs::read_dir(&partial)
            .ok()
            .and_then(|mut d| d.next())
            .and_then(|e| e.ok())
            .map(|e| e.path().join("state.ckpt"))
            .filter(|f| f.exists());
        if let Some(f) = found {
            break f;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("training finished ({status}) before a checkpoint was written: make it longer");
        }
        assert!(start.elapsed() < Duration::from_secs(120), "no checkpoint after 120 s");
        std::thread::sleep(Duration::from_millis(20));
    };
    // Let it save at least once more, then kill it hard.
    std::thread::sleep(Duration::from_millis(500));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(saved.exists());
    let out = quench(&cache, &["status", p.to_str().unwrap()], "2");
    assert!(!text(&out).contains("van  cached"), "{}", text(&out));

    // gc keeps the checkpoint of a stage a listed pipeline uses, and removes it otherwise.
    let ckpt_dir = saved.parent().unwrap().to_path_buf();
    let kept = std::fs::read(&saved).unwrap();
    let out = quench(&cache, &["gc", p.to_str().unwrap()], "2");
    assert!(out.status.success() && saved.exists(), "{}", text(&out));
    let other = write(
        dir.path(),
        "other.toml",
        "[pipeline]\nname = \"other\"\n[stage.inst]\nkind = \"disorder.sk\"\nn = 8\ntemperature = 1.0\n",
    );
    let out = quench(&cache, &["gc", other.to_str().unwrap()], "2");
    assert!(out.status.success() && !ckpt_dir.exists(), "{}", text(&out));
    assert!(text(&out).contains("checkpoint"), "{}", text(&out));
    std::fs::create_dir_all(&ckpt_dir).unwrap();
    std::fs::write(&saved, kept).unwrap();

    let (resumed, log) = run_logged(&cache, &p, &[], "2");
    let record = show(&cache, &p, "van");
    assert!(log.contains("resuming from the checkpoint at step"), "no resume in the output: {log}");
    assert_eq!(resumed, reference, "the resumed artifact differs from the uninterrupted one");
    assert!(!cache.join("partial").join(record["key"].as_str().unwrap()).exists(), "checkpoint left behind");
    assert_eq!(record["summary"]["steps"], steps);
}

#[test]
fn same_bits_across_jobs_and_threads() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "a.toml", &pipeline(60.0, 60));
    let one = run(&dir.path().join("c1"), &p, &["--jobs", "1"], "1");
    let two = run(&dir.path().join("c2"), &p, &["--jobs", "2"], "2");
    assert_eq!(one, two);
}

#[test]
fn spherical_prior_is_refused_with_the_stage_named() {
    let dir = tempfile::tempdir().unwrap();
    let body = r#"
[pipeline]
name = "bad"

[stage.inst]
kind = "disorder.spiked-tensor"
n = 20
prior = "spherical"
temperature = 0.7

[stage.van]
kind = "train.autoregressive"
inputs = ["inst"]
steps = 5
"#;
    let p = write(dir.path(), "bad.toml", body);
    let out = quench(&dir.path().join("c"), &["run", p.to_str().unwrap(), "--headless"], "2");
    // Refused at validation (exit 2), before anything runs.
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("train.autoregressive") && t.contains("spherical"), "{t}");
    assert!(!t.contains("panicked"), "{t}");
}
