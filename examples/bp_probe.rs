//! BP along a BP-guided diffusion path on a planted bicoloring instance, solve by solve:
//! sweeps, capped solves, wall time (README, "Performance" of the sparse side).
//! `cargo run --release --example bp_probe -- N ALPHA DAMPING STEP_ERROR CAP [v]`
//! (`v`: per-sweep statistics, gathered serially).
use std::sync::Mutex;
use std::time::Instant;

use quench::amp::oracle::PosteriorMean;
use quench::amp::{Measure, Solve};
use quench::bp::decimation::BpDecimation;
use quench::bp::{Bp, BpParams, BpState};
use quench::models::bicoloring::Bicoloring;
use quench::models::Prior;
use quench::observe::Silent;
use quench::rng::Rng;
use quench::samplers::autoregressive::Order;
use quench::samplers::diffusion::{Schedule, StochasticLocalization};

struct Probe {
    bp: Bp,
    log: Mutex<Vec<String>>,
    verbose: bool,
}

impl PosteriorMean for Probe {
    type State = BpState;
    fn n(&self) -> usize {
        self.bp.graph.n
    }
    fn prior(&self) -> Prior {
        Prior::Rademacher
    }
    fn start(&self) -> BpState {
        self.bp.uninformed()
    }
    fn solve(&self, state: &mut BpState, measure: &Measure) -> Solve {
        if !self.verbose {
            let s = self.bp.solve(state, measure);
            self.log.lock().unwrap().push(format!(
                "t={:.4} acc={:.2e}: iters {} conv {} q {:.4}",
                measure.t, measure.accuracy, s.iterations, s.converged, s.m_hat_sq
            ));
            return s;
        }
        self.bp.set_fields(state, measure);
        let n = self.bp.graph.n;
        let mut line = format!("t={:.4} acc={:.2e}:", measure.t, measure.accuracy);
        let mut it = 0;
        let mut conv = false;
        let mut prev = vec![0.0; n];
        let long_t: f64 = std::env::var("LONG_T").ok().map(|v| v.parse().unwrap()).unwrap_or(f64::INFINITY);
        let cap = if measure.t >= long_t - 1e-9 { 400 } else { self.bp.params.max_iterations };
        while it < cap {
            let du = self.bp.step(state);
            it += 1;
            let (mut mx, mut ss, mut above, mut argmax) = (0.0f64, 0.0, 0, 0);
            let (mut cross, mut prev_ss) = (0.0, 0.0);
            let mut delta = vec![0.0; n];
            for i in 0..n {
                let new = state.field(i).tanh();
                delta[i] = new - state.x_hat[i];
                cross += delta[i] * prev[i];
                prev_ss += prev[i] * prev[i];
                let d = (new - state.x_hat[i]).abs();
                if d > mx {
                    mx = d;
                    argmax = i;
                }
                ss += d * d;
                if d > self.bp.params.tol {
                    above += 1;
                }
                state.x_hat[i] = new;
            }
            let corr = cross / (ss * prev_ss).sqrt().max(1e-300);
            prev = delta;
            if self.verbose {
                line += &format!(
                    " [{it}: corr {corr:.2} max {mx:.1e} rms {:.1e} >tol {above} du {du:.1e} v{argmax} deg {}]",
                    (ss / n as f64).sqrt(),
                    self.bp.graph.degree(argmax)
                );
            }
            if mx < self.bp.params.tol {
                conv = true;
                break;
            }
        }
        line += &format!(" iters {it} conv {conv}");
        self.log.lock().unwrap().push(line);
        Solve { iterations: it, converged: conv, m_hat_sq: state.m_hat_sq(), overlap: None }
    }
    fn estimate<'s>(&self, state: &'s BpState) -> &'s [f64] {
        &state.x_hat
    }
    fn draw_site(&self, state: &BpState, i: usize, rng: &mut Rng) -> f64 {
        use rand::Rng as _;
        if rng.random::<f64>() < 0.5 * (1.0 + state.x_hat[i]) {
            1.0
        } else {
            -1.0
        }
    }
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    if a.len() < 6 {
        eprintln!(
            "usage: bp_probe N ALPHA DAMPING STEP_ERROR CAP [v]  (env: TOL, TEACHER=t, T_FINE, DT, DECIMATE=block)"
        );
        std::process::exit(2);
    }
    let n: usize = a[1].parse().unwrap();
    let alpha: f64 = a[2].parse().unwrap();
    let damping: f64 = a[3].parse().unwrap();
    let eps: f64 = a[4].parse().unwrap();
    let cap: usize = a[5].parse().unwrap();
    let verbose = a.len() > 6;
    let g = Bicoloring::generate(n, 5, alpha, true, 1, &Silent).unwrap().unwrap();
    let cpu0 = cpu();
    let tol: f64 = std::env::var("TOL").ok().map(|v| v.parse().unwrap()).unwrap_or(1e-3);
    let bp = Bp::new(&g, BpParams { damping, tol, max_iterations: cap });
    println!("groups {}", bp.groups.len() - 1);
    let probe = Probe { bp, log: Mutex::new(vec![]), verbose };
    if let Ok(t) = std::env::var("TEACHER") {
        let t: f64 = t.parse().unwrap();
        let mut rng = quench::rng::stream(5, "teacher", 0);
        let xs = g.planted_f64().unwrap();
        let y = quench::train::denoiser::observe(&xs, t, &mut rng);
        let mut state = probe.bp.uninformed();
        std::env::set_var("LONG_T", "0");
        probe.solve(&mut state, &Measure::tilted(&y, t));
        let ov = state.x_hat.iter().zip(&xs).map(|(a, b)| a * b).sum::<f64>() / n as f64;
        let line = probe.log.lock().unwrap()[0].clone();
        for part in line.split(" [").step_by(10) {
            println!("{}", &part[..part.len().min(120)]);
        }
        println!("{}", &line[line.len().saturating_sub(300)..]);
        println!("overlap {ov:.4} q {:.4}", state.m_hat_sq());
        return;
    }
    if let Ok(block) = std::env::var("DECIMATE") {
        // BP-guided decimation in blocks of `block` (the probe's cap and tol).
        let block: usize = block.parse().unwrap();
        let sampler = BpDecimation { order: Order::Random, block, trajectories: 1, records: 20, seed: 3 };
        let start = Instant::now();
        let run = sampler.run(&probe.bp, &Silent).unwrap();
        let path = &run.trajectories[0].path;
        for p in path {
            println!("theta {:.3} sweeps {} converged {} q {:.4}", p.param, p.amp_iterations, p.converged, p.m_hat_sq);
        }
        let x = &run.trajectories[0].sample;
        println!("decimation block {block}: wall {:.1} s cpu {:.1} s", start.elapsed().as_secs_f64(), cpu() - cpu0);
        println!("violated {} of {}", g.violated(x), g.m());
        return;
    }
    let step_error = if eps > 0.0 { Some(eps) } else { None };
    let t_fine: f64 = std::env::var("T_FINE").ok().map(|v| v.parse().unwrap()).unwrap_or(1.0);
    let t_max = if t_fine < 1.0 { t_fine } else { 20.0 };
    let dt_fine: f64 = std::env::var("DT").ok().map(|v| v.parse().unwrap()).unwrap_or(0.05);
    let schedule = Schedule { dt_fine, t_fine, t_max, geometric_steps: 10, step_error };
    let sl = StochasticLocalization { schedule, trajectories: 1, batch: 1, seed: 3 };
    let start = Instant::now();
    let run = sl.run(&probe, &Silent).unwrap();
    let secs = start.elapsed().as_secs_f64();
    let log = probe.log.lock().unwrap();
    for l in log.iter() {
        println!("{l}");
    }
    let x = &run.trajectories[0].sample;
    println!("wall {secs:.1} s cpu {:.1} s,", cpu() - cpu0);
    println!("{secs:.1} s, {} solves, violated {} of {}", log.len(), g.violated(x), g.m());
}

fn cpu() -> f64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap();
    let f: Vec<&str> = s.rsplit(')').next().unwrap().split_whitespace().collect();
    (f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap()) / 100.0
}
