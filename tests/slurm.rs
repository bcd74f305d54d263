//! `quench run --executor slurm` against a real Slurm (`.ci/slurm-up` starts a
//! one-node cluster): artifacts bit-identical to a local run; a stage that
//! exits non-zero, one killed by `scancel` and one over its time limit each
//! reported with its reason and nothing of them cached; a second run attaches
//! to the first one's jobs; a re-run computes only what is missing; bad input
//! (Slurm absent, an unknown partition, sbatch refusing a job, a node that
//! cannot use the cache) gives one clear error and leaves no job behind.
//! Skips, saying so, when `sinfo` cannot reach a cluster.

mod binary;
use binary::{command, quench, quench_env, text, wait_output, write};

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use quench::engine::{Event, EventBody};

/// Whether a Slurm cluster answers here; prints why the test is skipped if not.
fn slurm_up(test: &str) -> bool {
    let ok = Command::new("sinfo").arg("-h").output().is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("{test}: skipped: Slurm is not reachable (`sinfo` failed); start one with .ci/slurm-up (as root)");
    }
    ok
}

/// The events of each run log in a cache, oldest run first.
fn runs(cache: &Path) -> Vec<Vec<Event>> {
    let mut out = Vec::new();
    for run in std::fs::read_dir(cache.join("runs")).unwrap().flatten() {
        let Ok(text) = std::fs::read_to_string(run.path().join("events.jsonl")) else { continue };
        out.push(text.lines().filter_map(|l| serde_json::from_str::<Event>(l).ok()).collect::<Vec<Event>>());
    }
    out.sort_by(|a, b| a[0].time.total_cmp(&b[0].time));
    out
}

/// Stage -> (artifact hash, cached) of the `finished` events.
fn finished(events: &[Event]) -> HashMap<String, (String, bool)> {
    events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::Finished { cached, artifact_hash, .. } => {
                Some((e.stage.clone(), (artifact_hash.hex(), *cached)))
            }
            _ => None,
        })
        .collect()
}

/// Stage -> error of the `failed` events.
fn failed(events: &[Event]) -> HashMap<String, String> {
    events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::Failed { error } => Some((e.stage.clone(), error.clone())),
            _ => None,
        })
        .collect()
}

/// Stages this run submitted a job for.
fn submitted(events: &[Event]) -> Vec<String> {
    let mut out: Vec<String> = events
        .iter()
        .filter(|e| matches!(&e.body, EventBody::Log { message, .. } if message.starts_with("slurm job") && message.contains(" queued")))
        .map(|e| e.stage.clone())
        .collect();
    out.sort();
    out
}

/// Ids and states of the jobs Slurm knows under a job name.
fn jobs_named(name: &str) -> Vec<(String, String)> {
    let out = Command::new("squeue").args(["-h", "-t", "all", "-n", name, "-o", "%i %T"]).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once(' ').map(|(a, b)| (a.to_string(), b.to_string())))
        .collect()
}

/// Waits until `f` holds (at most `limit`).
fn wait_for(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

const GOOD: &str = r#"
[stage.inst]
kind = "disorder.spiked-tensor"
n = 24
prior = "rademacher"
temperature = 0.8

[stage.mcmc]
kind = "sample.metropolis"
inputs = ["inst"]
chains = 2
sweeps = 40
burn_in = 10

[stage.cmp]
kind = "eval.compare"
inputs = ["inst", "mcmc"]

[stage.sk]
kind = "disorder.sk"
n = 2000
temperature = 0.5
"#;

/// A stage that fails when computed (valid to the validator): samples of n = 24 against an instance of n = 30.
const BAD: &str = r#"
[stage.inst2]
kind = "disorder.spiked-tensor"
n = 30
prior = "rademacher"
temperature = 0.8

[stage.bad]
kind = "eval.compare"
inputs = ["inst2", "mcmc"]
"#;

/// Long Metropolis runs on the big SK instance (minutes each).
const LONG: &str = r#"
[stage.slow]
kind = "sample.metropolis"
inputs = ["sk"]
chains = 1
sweeps = 200000
record_every = 100000

[stage.overtime]
kind = "sample.metropolis"
inputs = ["sk"]
chains = 1
sweeps = 2000000
record_every = 1000000

[slurm.stage.overtime]
time = "1"
"#;

fn pipeline(dir: &Path, name: &str, parts: &[&str]) -> String {
    let body =
        format!("[pipeline]\nname = \"slurm-test\"\nseed = 5\n\n[slurm]\npoll_seconds = 0.2\n{}", parts.concat());
    write(dir, name, &body).display().to_string()
}

#[test]
fn a_pipeline_on_slurm_matches_the_local_run_reports_failures_and_resumes() {
    if !slurm_up("slurm") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let local_cache = dir.path().join("local");
    let cache = dir.path().join("shared");
    let good = pipeline(dir.path(), "good.toml", &[GOOD]);
    let all = pipeline(dir.path(), "all.toml", &[GOOD, BAD, LONG]);

    let out = quench(&local_cache, &["run", &good, "--headless"]);
    assert!(out.status.success(), "{}", text(&out));
    let local = finished(&runs(&local_cache)[0]);
    assert_eq!(local.len(), 4, "{local:?}");

    // The whole pipeline on Slurm, in the background.
    let first = command(&cache, &["run", &all, "--executor", "slurm", "--headless"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for("the job of `slow` to run", Duration::from_secs(120), || {
        jobs_named("quench:slow").iter().any(|(_, state)| state == "RUNNING")
    });
    // A second run of the same pipeline attaches to the jobs in flight.
    let second = command(&cache, &["run", &all, "--executor", "slurm", "--headless"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let (slow_job, _) = jobs_named("quench:slow").into_iter().find(|(_, state)| state == "RUNNING").unwrap();
    let scancel = Command::new("scancel").arg(&slow_job).status().unwrap();
    assert!(scancel.success());
    let out = wait_output(first, "the slurm run");
    let second = wait_output(second, "the second slurm run");
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");

    let logs = runs(&cache);
    let run = &logs[0];
    let done = finished(run);
    for (stage, (hash, _)) in &local {
        assert_eq!(
            done.get(stage).map(|d| &d.0),
            Some(hash),
            "stage {stage}: slurm and local artifacts differ\n{said}"
        );
    }
    let errors = failed(run);
    assert!(errors["bad"].contains("FAILED: exit code 1"), "{}", errors["bad"]);
    assert!(errors["bad"].contains("samples of `mcmc` have n = 24, the instance has n = 30"), "{}", errors["bad"]);
    assert!(errors["slow"].contains("CANCELLED"), "{}", errors["slow"]);
    assert!(errors["overtime"].contains("TIMEOUT"), "{}", errors["overtime"]);
    for stage in ["bad", "slow", "overtime"] {
        assert!(errors[stage].contains("nothing was cached"), "{}", errors[stage]);
    }
    let status = text(&quench(&cache, &["status", &all]));
    for stage in ["bad", "slow", "overtime"] {
        let line = status.lines().find(|l| l.split_whitespace().nth(1) == Some(stage)).unwrap();
        assert!(line.starts_with("missing") || line.starts_with("stale"), "{status}");
    }
    assert!(status.contains("TIMEOUT"), "status shows the job's end: {status}");

    // The second run followed the first one's jobs instead of submitting its own.
    let attached = logs[1].iter().filter(
        |e| matches!(&e.body, EventBody::Log { message, .. } if message.contains("already computes this stage")),
    );
    assert!(attached.count() >= 2, "the second run attached to `slow` and `overtime`: {}", text(&second));
    let again = submitted(&logs[1]);
    assert!(!again.contains(&"slow".into()) && !again.contains(&"overtime".into()), "{}", text(&second));
    let mut both: Vec<String> = submitted(&logs[0]).into_iter().chain(again).filter(|s| s != "bad").collect();
    let count = both.len();
    both.sort();
    both.dedup();
    assert_eq!(both.len(), count, "a stage was submitted by both runs: {both:?}");

    // A re-run computes only what is missing: `bad` again and a new stage.
    let more = r#"
[stage.mcmc2]
kind = "sample.metropolis"
inputs = ["inst"]
chains = 2
sweeps = 20
"#;
    let rerun = pipeline(dir.path(), "rerun.toml", &[GOOD, BAD, more]);
    let out = quench(&cache, &["run", &rerun, "--executor", "slurm", "--headless"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let run = runs(&cache).pop().unwrap();
    assert_eq!(submitted(&run), ["bad", "mcmc2"], "{}", text(&out));
    let done = finished(&run);
    for stage in ["inst", "mcmc", "cmp", "sk"] {
        assert_eq!(done[stage], (local[stage].0.clone(), true), "{stage}");
    }
    assert!(done["inst2"].1, "inst2 is cached");
    assert!(!done["mcmc2"].1, "mcmc2 was computed");
}

#[test]
fn slurm_missing_gives_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = pipeline(dir.path(), "p.toml", &[GOOD]);
    let out = quench_env(&dir.path().join("c"), &["run", &p, "--executor", "slurm"], &[("PATH", "/nonexistent")]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("Slurm: `sinfo` not found"), "{said}");
    // Slurm flags without the Slurm executor are refused as invalid input.
    let out = quench(&dir.path().join("c"), &["run", &p, "--partition", "x"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

#[test]
fn bad_slurm_input_stops_the_run_and_leaves_no_job_behind() {
    if !slurm_up("slurm") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c");
    let p = pipeline(dir.path(), "p.toml", &[GOOD]);

    // An unknown partition: refused before anything is submitted.
    let out = quench(&cache, &["run", &p, "--executor", "slurm", "--partition", "nosuch"]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("partition `nosuch` does not exist"), "{said}");

    // sbatch refusing a job: the run stops, the job it had already submitted is cancelled.
    let refused = r#"
[stage.first]
kind = "sample.metropolis"
inputs = ["sk"]
chains = 1
sweeps = 200002
record_every = 100000

[stage.second]
kind = "sample.metropolis"
inputs = ["sk"]
chains = 1
sweeps = 200003
record_every = 100000

[slurm.stage.second]
mem = "900000000M"
"#;
    let p = pipeline(dir.path(), "refused.toml", &[GOOD, refused]);
    let out = quench(&cache, &["run", &p, "--executor", "slurm", "--headless"]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("stage `second`: sbatch refused the job"), "{said}");
    assert!(said.contains("cancelled its jobs"), "{said}");
    wait_for("the first job to be cancelled", Duration::from_secs(30), || {
        jobs_named("quench:first").iter().all(|(_, state)| state == "CANCELLED")
    });

    // A node that cannot use the cache (a binary that says so, as run-stage does): one error, exit 1.
    let fake =
        write(dir.path(), "fake-quench", "#!/bin/sh\necho 'error: this node cannot use the cache' >&2\nexit 3\n");
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let body =
        format!("{}\nbinary = \"{}\"\n{GOOD}", "[pipeline]\nname = \"x\"\n[slurm]\npoll_seconds = 0.2", fake.display());
    let p = write(dir.path(), "fake.toml", &body);
    let out = quench(&dir.path().join("c2"), &["run", p.to_str().unwrap(), "--executor", "slurm", "--headless"]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("could not use the cache"), "{said}");
    assert!(said.contains("a filesystem the compute nodes share"), "{said}");
}

#[test]
fn run_stage_without_a_spec_says_the_cache_is_not_shared() {
    let dir = tempfile::tempdir().unwrap();
    let out = quench(&dir.path().join("c"), &["run-stage", &"ab".repeat(32)]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(3), "{said}");
    assert!(said.contains("cannot use the cache") && said.contains("shared"), "{said}");
}

#[test]
fn ctrl_c_cancels_the_runs_jobs() {
    if !slurm_up("slurm") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c");
    let held = r#"
[stage.held]
kind = "sample.metropolis"
inputs = ["sk"]
chains = 1
sweeps = 2000004
record_every = 1000000
"#;
    let p = pipeline(dir.path(), "p.toml", &[GOOD, held]);
    let child = command(&cache, &["run", &p, "--executor", "slurm", "--headless"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let job = std::cell::RefCell::new(String::new());
    wait_for("the job of `held` to run", Duration::from_secs(120), || {
        let running = jobs_named("quench:held").into_iter().find(|(_, state)| state == "RUNNING");
        running.map(|(id, _)| *job.borrow_mut() = id).is_some()
    });
    // SAFETY: a signal to our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = wait_output(child, "the interrupted run");
    assert_eq!(out.status.code(), Some(130), "{}", text(&out));
    let job = job.into_inner();
    let state = jobs_named("quench:held").into_iter().find(|(id, _)| *id == job).map(|(_, s)| s);
    assert_eq!(state.as_deref(), Some("CANCELLED"), "job {job}");
    let run = runs(&cache).pop().unwrap();
    let cancelled = run.iter().any(|e| {
        e.stage == "held" && matches!(&e.body, EventBody::Cancelled { reason } if reason.contains("nothing was cached"))
    });
    assert!(cancelled, "{}", text(&out));
}
