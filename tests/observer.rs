//! What the samplers report through the Observer: chain-averaged traces that
//! match the returned records, monotone progress, and cancellation.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use quench::models::{Disorder, Prior};
use quench::observe::Observer;
use quench::samplers::metropolis::{self, MetropolisParams};
use quench::samplers::{Init, Precision, Rule, SamplerError};

#[derive(Default)]
struct Recorder {
    traces: Mutex<Vec<(String, f64, f64)>>,
    progress: Mutex<Vec<(u64, u64)>>,
    cancel_after: Option<u64>,
    checks: AtomicU64,
}

impl Observer for Recorder {
    fn progress(&self, done: u64, total: u64) {
        self.progress.lock().unwrap().push((done, total));
    }
    fn trace(&self, series: &str, x: f64, y: f64) {
        self.traces.lock().unwrap().push((series.to_string(), x, y));
    }
    fn histogram(&self, _: &str, _: &[f64], _: &[u64]) {}
    fn log(&self, _: &str) {}
    fn cancelled(&self) -> bool {
        let k = self.checks.fetch_add(1, Ordering::Relaxed);
        self.cancel_after.is_some_and(|limit| k >= limit)
    }
}

fn params() -> MetropolisParams {
    MetropolisParams {
        chains: 3,
        sweeps: 3000,
        burn_in: 100,
        record_every: 50,
        init: Init::Random,
        rule: Rule::Metropolis,
        precision: Precision::F64,
    }
}

#[test]
fn traces_are_chain_averages_of_the_records() {
    let d = Disorder::spiked_matrix(100, Prior::Rademacher, 0.5, 1);
    let obs = Recorder::default();
    let run = metropolis::run(&d, &params(), 3, &obs).unwrap();
    let traces = obs.traces.lock().unwrap();
    let energy: Vec<&(String, f64, f64)> = traces.iter().filter(|t| t.0 == "energy").collect();
    let overlap = traces.iter().filter(|t| t.0 == "overlap_planted").count();
    assert_eq!(energy.len(), run.record_sweeps.len());
    assert_eq!(overlap, run.record_sweeps.len());
    for (r, t) in energy.iter().enumerate() {
        let mean = run.chains.iter().map(|c| c.energy[r]).sum::<f64>() / 3.0;
        assert_eq!(t.1, run.record_sweeps[r] as f64);
        assert!((t.2 - mean).abs() < 1e-12);
    }
    let progress = obs.progress.lock().unwrap();
    assert!(progress.windows(2).all(|w| w[0].0 <= w[1].0));
    assert_eq!(*progress.last().unwrap(), (3100, 3100));
    assert_eq!(run.record_sweeps[0], 150);
    assert_eq!(run.chains[0].samples.len(), 60);
}

#[test]
fn cancellation_stops_the_run() {
    let d = Disorder::sk(100, 1.0, 1);
    let obs = Recorder { cancel_after: Some(500), ..Recorder::default() };
    assert_eq!(metropolis::run(&d, &params(), 3, &obs), Err(SamplerError::Cancelled));
    assert!(obs.checks.load(Ordering::Relaxed) < 600 * 3);
}

#[test]
fn unsupported_inputs_are_errors_not_panics() {
    let sphere = Disorder::spiked_tensor(10, Prior::Spherical, 0.3, 1);
    let sk = Disorder::sk(10, 1.0, 1);
    let bad = |d: &Disorder, p: MetropolisParams| {
        matches!(metropolis::run(d, &p, 0, &obs_silent()), Err(SamplerError::Unsupported(_)))
    };
    assert!(bad(&sphere, params()));
    assert!(bad(&sk, MetropolisParams { init: Init::Planted, ..params() }));
    assert!(bad(&sk, MetropolisParams { record_every: 0, ..params() }));
    assert!(bad(&sk, MetropolisParams { chains: 0, ..params() }));
}

fn obs_silent() -> quench::observe::Silent {
    quench::observe::Silent
}
