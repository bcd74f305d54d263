//! The sparse side end to end through the binary: a quick version of
//! `pipelines/bicoloring.toml` (small n) runs; planted instances are proper;
//! Glauber from the planted start stays proper; the BP samplers produce
//! colorings whose violated fraction is far below a random coloring's;
//! population dynamics reports its branches; bad input is refused clearly.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn quench(cache: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_quench"))
        .arg("--cache")
        .arg(cache)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("binary runs")
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn write(dir: &Path, body: &str) -> PathBuf {
    let path = dir.join("p.toml");
    std::fs::write(&path, body).unwrap();
    path
}

fn show(cache: &Path, pipeline: &Path, stage: &str) -> serde_json::Value {
    let out = quench(cache, &["show", pipeline.to_str().unwrap(), stage, "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["summary"].clone()
}

const QUICK: &str = r#"
[pipeline]
name = "bicoloring-quick"
seed = 5

[stage.graph]
kind = "disorder.bicoloring"
n = 3000
k = 5
alpha = 8.0

[stage.glauber]
kind = "sample.metropolis"
inputs = ["graph"]
init = "planted"
chains = 2
burn_in = 0
sweeps = 40
record_every = 10

[stage.diffusion]
kind = "sample.diffusion"
inputs = ["graph"]
denoiser = "bp"
samples = 2
dt = 0.05
t_fine = 1.0
t_max = 20.0
geometric_steps = 10
tol = 1e-4
max_iterations = 100

[stage.decimation]
kind = "sample.autoregressive"
inputs = ["graph"]
samples = 2
block = 100
tol = 1e-4
max_iterations = 100

[stage.compare]
kind = "eval.compare"
inputs = ["graph", "glauber", "diffusion", "decimation"]

[stage.theory]
kind = "theory.bicoloring-path"
alpha = 8.0
t_max = 0.3
t_points = 4
population = 2000
iterations = 30
bethe_samples = 2000
"#;

#[test]
fn quick_bicoloring_pipeline_runs_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let p = write(dir.path(), QUICK);
    let out = quench(&cache, &["run", "--headless", p.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));

    let graph = show(&cache, &p, "graph");
    assert_eq!(graph["model"], "bicoloring");
    assert_eq!(graph["hyperedges"], 24_000);
    assert_eq!(graph["planted_violated"], 0);

    let cmp = show(&cache, &p, "compare");
    let rows = &cmp["samplers"];
    // Glauber restricted to proper colorings from x*: always proper.
    assert_eq!(rows["glauber"]["proper_fraction"], 1.0, "{cmp}");
    assert_eq!(rows["glauber"]["violated_mean"], 0.0);
    assert!(rows["glauber"]["tau"].as_f64().is_some(), "{cmp}");
    // A uniformly random coloring violates 2^(1-k) = 1/16 of the hyperedges;
    // the BP samplers at alpha = 8 (below both end points) do far better.
    for s in ["diffusion", "decimation"] {
        let v = rows[s]["violated_mean"].as_f64().unwrap();
        assert!(v < 0.01, "{s}: violated fraction {v} ({cmp})");
    }

    let theory = show(&cache, &p, "theory");
    assert_eq!(theory["path"], "diffusion");
    assert_eq!(theory["m_uninf"].as_array().unwrap().len(), 4);
    assert!(theory["spinodal_low_t"].is_null(), "no window at alpha = 8: {theory}");

    // Re-running is a cache hit with the same artifacts.
    let again = quench(&cache, &["verify", p.to_str().unwrap(), "graph"]);
    assert!(again.status.success(), "{}", text(&again));
}

#[test]
fn bad_bicoloring_input_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    for (body, expect) in [
        ("[stage.g]\nkind = \"disorder.bicoloring\"\nn = 100\nk = 9\nalpha = 2.0\n", "k"),
        ("[stage.g]\nkind = \"disorder.bicoloring\"\nn = 100\nk = 5\nalpha = 40.0\n", "alpha"),
    ] {
        let p = write(dir.path(), body);
        let out = quench(&cache, &["status", p.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(text(&out).contains(expect), "{}", text(&out));
    }
    // A bicoloring disorder given to a sampler that cannot use it fails the stage, naming it.
    let body = "[stage.g]\nkind = \"disorder.bicoloring\"\nn = 100\nk = 4\nalpha = 1.0\n\
                [stage.l]\nkind = \"sample.langevin\"\ninputs = [\"g\"]\nchains = 1\nsteps = 10\n";
    let p = write(dir.path(), body);
    let out = quench(&cache, &["run", "--headless", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("`l`") || text(&out).contains(" l"), "{}", text(&out));
    // BP on a dense disorder is refused.
    let body = "[stage.t]\nkind = \"disorder.spiked-tensor\"\nn = 8\ntemperature = 0.8\n\
                [stage.d]\nkind = \"sample.diffusion\"\ninputs = [\"t\"]\ndenoiser = \"bp\"\nsamples = 1\n";
    let p = write(dir.path(), body);
    let out = quench(&cache, &["run", "--headless", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("bicoloring"), "{}", text(&out));
}

#[test]
fn more_bad_bicoloring_input_is_refused_or_reported() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    // Parameter errors, caught before anything runs (exit 2), naming the parameter.
    for (body, expect) in [
        ("[stage.g]\nkind = \"disorder.bicoloring\"\nn = 100\nk = 2\nalpha = 1.0\n", "k"),
        ("[stage.g]\nkind = \"disorder.bicoloring\"\nn = 100\nk = 5\nalpha = 0.0\n", "alpha"),
        ("[stage.g]\nkind = \"disorder.bicoloring\"\nn = 6\nk = 4\nalpha = 1.0\n", "n = 6"),
        ("[stage.p]\nkind = \"theory.bicoloring-path\"\nk = 3\nalpha = 9.0\n", "alpha"),
        ("[stage.p]\nkind = \"theory.bicoloring-diagram\"\nalpha_min = 9.0\nalpha_max = 8.0\n", "alpha_max"),
    ] {
        let p = write(dir.path(), body);
        let out = quench(&cache, &["status", p.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{body}: {}", text(&out));
        assert!(text(&out).contains(expect), "{body}: {}", text(&out));
    }
    // Stages that cannot use a hypergraph fail, naming the stage and the reason.
    let graph = "[stage.g]\nkind = \"disorder.bicoloring\"\nn = 200\nk = 4\nalpha = 1.0\n";
    for (stage, expect) in [
        (
            "[stage.pt]\nkind = \"sample.parallel-tempering\"\ninputs = [\"g\"]\nchains = 1\nreplicas = 2\nsweeps = 10\n",
            "does not handle a hypergraph",
        ),
        ("[stage.d]\nkind = \"sample.diffusion\"\ninputs = [\"g\"]\ndenoiser = \"learned\"\nsamples = 1\n", "learned"),
    ] {
        let p = write(dir.path(), &format!("{graph}{stage}"));
        let out = quench(&cache, &["run", "--headless", p.to_str().unwrap()]);
        assert_ne!(out.status.code(), Some(0), "{stage}: {}", text(&out));
        assert!(text(&out).contains(expect), "{stage}: {}", text(&out));
    }
    // BP that does not converge is reported by the stage that ran it, not hidden.
    let stage = "[stage.d]\nkind = \"sample.diffusion\"\ninputs = [\"g\"]\nsamples = 1\nmax_iterations = 1\n\
                 tol = 1e-12\ndt = 0.1\nt_fine = 0.5\nt_max = 1.0\ngeometric_steps = 2\n";
    let p = write(dir.path(), &format!("{graph}{stage}"));
    let out = quench(&cache, &["run", "--headless", p.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let log = text(&out);
    // Headless lines read `<time>  <stage>  info  <message>`.
    let named = |l: &str| l.contains("BP did not converge") && l.split_whitespace().nth(1) == Some("d");
    assert!(log.lines().any(named), "{log}");
    let summary = show(&cache, &p, "d");
    assert!(summary.to_string().contains("bp_unconverged_fraction"), "{summary}");
}
