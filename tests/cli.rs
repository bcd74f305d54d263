//! The real binary: exit codes, validation messages, show/export/status/verify/gc,
//! and what a killed or interrupted run leaves behind.

mod binary;
use binary::{quench, text, write};

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SMALL: &str = r#"
[pipeline]
name = "small"
seed = 5

[stage.tensor]
kind = "disorder.spiked-tensor"
n = 24
temperature = 0.8

[stage.matrix]
kind = "disorder.spiked-matrix"
n = 40
prior = "sparse-rademacher"
rho = 0.3
delta = 0.05

[stage.sk]
kind = "disorder.sk"
n = 30
beta = 0.5

[sweep]
"tensor.instance" = [0, 1]
"#;

fn show_json(cache: &Path, pipeline: &Path, stage: &str) -> serde_json::Value {
    let out = quench(cache, &["show", pipeline.to_str().unwrap(), stage, "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn run_show_export_verify_status_gc() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let p = write(dir.path(), "small.toml", SMALL);
    let ps = p.to_str().unwrap();
    let out = quench(&cache, &["run", ps]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("4 computed"), "{}", text(&out));
    let again = quench(&cache, &["run", ps, "--headless"]);
    assert!(text(&again).contains("0 computed, 4 cached"), "{}", text(&again));

    let show = show_json(&cache, &p, "tensor[tensor.instance=1]");
    for field in ["stage", "kind", "key", "artifact_hash", "params", "inputs", "wall_ms", "summary"] {
        assert!(show.get(field).is_some(), "show --json lacks `{field}`: {show}");
    }
    for field in ["n", "model", "delta", "temperature", "planted_energy_per_spin"] {
        assert!(show["summary"].get(field).is_some(), "summary lacks `{field}`");
    }
    assert_eq!(show["summary"]["model"], "spiked-tensor");
    assert!((show["summary"]["delta"].as_f64().unwrap() - 2.0 * 0.64 / 3.0).abs() < 1e-12);
    let sk = show_json(&cache, &p, "sk");
    assert!(sk["summary"]["planted_energy_per_spin"].is_null());

    let out_dir = dir.path().join("export");
    for format in ["csv", "json", "npy"] {
        let out = quench(&cache, &["export", ps, "matrix", "--format", format, "--out", out_dir.to_str().unwrap()]);
        assert!(out.status.success(), "{}", text(&out));
    }
    let csv = std::fs::read_to_string(out_dir.join("couplings.csv")).unwrap();
    assert!(csv.starts_with("i,j,value\n0,1,"), "{}", &csv[..40]);
    assert_eq!(csv.lines().count(), 1 + 40 * 39 / 2);
    assert!(out_dir.join("planted.x.npy").exists() && out_dir.join("artifact.json").exists());

    let verify = quench(&cache, &["verify", ps]);
    assert!(verify.status.success(), "{}", text(&verify));
    assert!(text(&verify).contains("4 identical, 0 differ"), "{}", text(&verify));

    let changed = write(dir.path(), "changed.toml", &SMALL.replace("n = 40", "n = 41"));
    let status = quench(&cache, &["status", changed.to_str().unwrap()]);
    let status = text(&status);
    assert!(status.contains("stale") && status.contains("parameter `n` changed: 40 -> 41"), "{status}");
    assert_eq!(status.matches("cached ").count(), 3, "{status}");

    let dry = quench(&cache, &["gc", "--dry-run", ps]);
    assert!(text(&dry).contains("0 objects"), "{}", text(&dry));
    let gc = quench(&cache, &["gc", changed.to_str().unwrap()]);
    assert!(text(&gc).contains("removed") && text(&gc).contains("1 objects"), "{}", text(&gc));
}

#[test]
fn validation_errors_exit_2_with_file_line_column() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "bad.toml", "[stage.x]\nkind = \"disorder.sk\"\nn = 10\ntemprature = 1.0\n");
    let out = quench(&dir.path().join("c"), &["run", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml:4:1: stage `x`: unknown parameter `temprature`"), "{err}");
    assert!(err.contains("did you mean `temperature`?"), "{err}");
    assert!(
        !dir.path().join("c").join("objects").exists()
            || std::fs::read_dir(dir.path().join("c/objects")).unwrap().count() == 0
    );
    let out = quench(&dir.path().join("c"), &["show", p.to_str().unwrap(), "x"]);
    assert_eq!(out.status.code(), Some(2));
    let missing = quench(&dir.path().join("c"), &["run", "no-such-file.toml"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing).contains("no-such-file.toml"), "{}", text(&missing));
}

#[test]
fn jobs_one_and_two_give_identical_artifacts() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "small.toml", SMALL);
    let mut hashes = Vec::new();
    for jobs in ["1", "2"] {
        let cache = dir.path().join(format!("cache{jobs}"));
        let out = quench(&cache, &["run", p.to_str().unwrap(), "--jobs", jobs]);
        assert!(out.status.success());
        let h: Vec<String> = ["tensor[tensor.instance=0]", "tensor[tensor.instance=1]", "matrix", "sk"]
            .iter()
            .map(|s| show_json(&cache, &p, s)["artifact_hash"].as_str().unwrap().to_string())
            .collect();
        hashes.push(h);
    }
    assert_eq!(hashes[0], hashes[1]);
}

/// A pipeline with one stage that takes a few seconds.
const SLOW: &str = "[stage.big]\nkind = \"disorder.sk\"\nn = 14000\nbeta = 0.5\n";

fn wait_for(path: &Path, needle: &str, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if std::fs::read_to_string(path).is_ok_and(|t| t.contains(needle)) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

fn latest_log(cache: &Path) -> PathBuf {
    let start = Instant::now();
    loop {
        if let Ok(id) = std::fs::read_to_string(cache.join("runs/latest")) {
            return cache.join("runs").join(id.trim()).join("events.jsonl");
        }
        assert!(start.elapsed() < Duration::from_secs(20), "no run log appeared");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn spawn_run(cache: &Path, pipeline: &Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_quench"))
        .arg("--cache")
        .arg(cache)
        .args(["run", "--headless", pipeline.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn a_killed_run_leaves_nothing_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let p = write(dir.path(), "slow.toml", SLOW);
    let mut child = spawn_run(&cache, &p);
    let log = latest_log(&cache);
    assert!(wait_for(&log, "\"started\"", Duration::from_secs(20)));
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();
    let log_text = std::fs::read_to_string(&log).unwrap();
    assert!(!log_text.contains("\"finished\""), "the stage finished before the kill; make it slower");
    let out = quench(&cache, &["status", p.to_str().unwrap()]);
    assert!(text(&out).starts_with("missing"), "{}", text(&out));
    let out = quench(&cache, &["run", p.to_str().unwrap()]);
    assert!(out.status.success() && text(&out).contains("1 computed"), "{}", text(&out));
}

#[test]
fn interrupt_cancels_and_exits_130() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let p = write(
        dir.path(),
        "slow.toml",
        &format!("{SLOW}[stage.small]\nkind = \"disorder.spiked-tensor\"\nn = 10\ntemperature = 1.0\n"),
    );
    let mut child = spawn_run(&cache, &p);
    let log = latest_log(&cache);
    assert!(wait_for(&log, "\"started\"", Duration::from_secs(20)));
    std::thread::sleep(Duration::from_millis(200));
    let sent = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(sent.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let log_text = std::fs::read_to_string(&log).unwrap();
    let last: Vec<&str> = log_text.lines().rev().take(2).collect();
    assert!(last[0].contains("\"run_finished\"") && last[0].contains("cancelled"), "{log_text}");
    assert!(log_text.contains("\"stage\":\"big\",\"event\":\"cancelled\""), "{log_text}");
    let out = quench(&cache, &["status", p.to_str().unwrap()]);
    assert!(text(&out).contains("missing  big"), "{}", text(&out));
}

#[test]
fn two_processes_on_one_cache_compute_each_stage_once() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let body: String = (0..3)
        .map(|i| format!("[stage.s{i}]\nkind = \"disorder.sk\"\nn = 5000\nbeta = 0.5\ninstance = {i}\n"))
        .collect();
    let p = write(dir.path(), "three.toml", &body);
    let a = spawn_run(&cache, &p);
    let b = spawn_run(&cache, &p);
    for mut child in [a, b] {
        assert!(child.wait().unwrap().success());
    }
    let mut computed = 0;
    for run in std::fs::read_dir(cache.join("runs")).unwrap().flatten().filter(|e| e.path().is_dir()) {
        let log = std::fs::read_to_string(run.path().join("events.jsonl")).unwrap();
        computed += log.matches("\"cached\":false").count();
    }
    assert_eq!(computed, 3);
    let verify = quench(&cache, &["verify", p.to_str().unwrap()]);
    assert!(text(&verify).contains("3 identical"), "{}", text(&verify));
}

#[test]
fn theory_stages_show_export_and_plot() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let p = write(
        dir.path(),
        "theory.toml",
        r#"
[stage.diagram]
kind = "theory.phase-diagram"
model = "spiked-tensor"
prior = "rademacher"
path = "diffusion"
temperature_min = 0.62
temperature_max = 0.80
delta_points = 40
t_max = 0.3
t_points = 40

[stage.path]
kind = "theory.se-path"
model = "spiked-tensor"
prior = "spherical"
delta = 0.2646
t_max = 0.2
t_points = 81

[stage.landscape]
kind = "theory.landscape"
model = "spiked-matrix"
prior = "sparse-rademacher"
rho = 0.08
delta = 0.0067
"#,
    );
    let ps = p.to_str().unwrap();
    let out = quench(&cache, &["run", ps]);
    assert!(out.status.success(), "{}", text(&out));
    let d = show_json(&cache, &p, "diagram")["summary"].clone();
    // PHYSICS.md section 6, Ising p = 3 diffusion end point and static thresholds.
    assert!((d["end_point"]["temperature"].as_f64().unwrap() - 0.74100).abs() < 5e-5, "{d}");
    assert!((d["end_point"]["t"].as_f64().unwrap() - 0.16704).abs() < 5e-5, "{d}");
    assert!((d["temperature_d"].as_f64().unwrap() - 0.68160).abs() < 5e-5, "{d}");
    assert!((d["delta_k"].as_f64().unwrap() - 0.282868).abs() < 5e-6, "{d}");
    let s = show_json(&cache, &p, "path")["summary"].clone();
    // Spherical diffusion at Delta = 0.2646: (sp1, IT, sp2) = (0.05194, 0.07740, 0.09919).
    for (field, want) in [("spinodal_low_t", 0.05194), ("first_order_t", 0.07740), ("spinodal_high_t", 0.09919)] {
        assert!((s[field].as_f64().unwrap() - want).abs() < 1e-5, "{field}: {s}");
    }
    let csv_dir = dir.path().join("csv");
    for stage in ["diagram", "path", "landscape"] {
        let out = quench(&cache, &["export", ps, stage, "--format", "csv", "--out", csv_dir.to_str().unwrap()]);
        assert!(out.status.success(), "{}", text(&out));
    }
    let header = |f: &str| std::fs::read_to_string(csv_dir.join(f)).unwrap().lines().next().unwrap().to_string();
    assert_eq!(header("se_path.csv"), "t,m_uninf,m_inf,phi_uninf,phi_inf");
    assert_eq!(header("lines.csv"), "line,delta,temperature,t");
    assert_eq!(header("grid.csv"), "delta,t,delta_m");
    assert!(std::fs::read_to_string(csv_dir.join("lines.csv")).unwrap().contains("end_point,"));
    for file in ["d.svg", "d.png"] {
        let target = dir.path().join(file);
        let out = quench(&cache, &["plot", ps, "diagram", "--out", target.to_str().unwrap()]);
        assert!(out.status.success(), "{}", text(&out));
        assert!(std::fs::metadata(&target).unwrap().len() > 10_000);
    }
    let svg = std::fs::read_to_string(dir.path().join("d.svg")).unwrap();
    assert!(svg.contains("first-order line") && svg.contains("end point"));
    let bad = quench(&cache, &["plot", ps, "path", "--out", dir.path().join("x.gif").to_str().unwrap()]);
    assert!(!bad.status.success() && text(&bad).contains(".svg or .png"));
}

#[test]
fn compare_and_aggregate_planted_sk_against_state_evolution() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let p = write(
        dir.path(),
        "control.toml",
        r#"
[pipeline]
seed = 3
[stage.inst]
kind = "disorder.spiked-matrix"
n = 600
temperature = 0.6
[stage.mcmc]
kind = "sample.metropolis"
inputs = ["inst"]
chains = 4
sweeps = 200
burn_in = 100
record_every = 4
[stage.pt]
kind = "sample.parallel-tempering"
inputs = ["inst"]
chains = 2
sweeps = 100
burn_in = 50
replicas = 3
[stage.cmp]
kind = "eval.compare"
inputs = ["inst", "mcmc", "pt"]
[stage.all]
kind = "eval.aggregate"
inputs = ["cmp"]
gather = ["inst.instance"]
[sweep]
"inst.instance" = [0, 1, 2]
"#,
    );
    let out = quench(&cache, &["run", p.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("== all =="), "the aggregate table is printed: {}", text(&out));
    let s = show_json(&cache, &p, "cmp[inst.instance=1]")["summary"].clone();
    for field in ["equilibrium_energy", "bayes_overlap", "samplers"] {
        assert!(s.get(field).is_some(), "{field}: {s}");
    }
    let bayes = s["bayes_overlap"].as_f64().unwrap();
    for row in s["samplers"].as_array().unwrap() {
        for field in [
            "stage",
            "energy_mean",
            "energy_stderr",
            "overlap_planted_mean",
            "overlap_planted_stderr",
            "q_mean",
            "q_abs_mean",
            "r_hat",
        ] {
            assert!(row.get(field).is_some(), "{field}: {row}");
        }
        // Planted SK at T = 0.6 is informed: samplers reach the Bayes-optimal overlap (finite-N tolerance).
        let m = row["overlap_planted_mean"].as_f64().unwrap();
        assert!((m - bayes).abs() < 0.06, "{}: overlap {m} vs SE {bayes}", row["stage"]);
        let excess = row["energy_excess"].as_f64().unwrap();
        assert!(excess.abs() < 0.05, "{}: energy excess {excess}", row["stage"]);
    }
    let agg = show_json(&cache, &p, "all")["summary"].clone();
    assert_eq!(agg["instances"], 3);
    assert_eq!(agg["rows"].as_array().unwrap().len(), 2);
}
