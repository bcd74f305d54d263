//! Throughput of the sparse side (plain timings, not criterion: these runs are
//! long): BP hyperedge updates per second at n = 1e5 and 1e6 (alpha = 9,
//! k = 5) on one and two threads; one BP-guided diffusion trajectory at
//! n = 1e5, alpha = 8 and 9 (the pipeline's adaptive settings; without `quick` also
//! the earlier fixed grid), one BP-guided decimation trajectory (block = 1) at
//! n = 1e5, alpha = 8.8; population-dynamics updates per second on one and two threads,
//! against the C peer `benches/peers/popdyn.c` (compiled with -O3 if `cc`
//! is on the PATH).
//!
//! cargo bench --bench bicoloring [-- quick] [popdyn] [bp] [diffusion] [decimation]

use std::process::Command;
use std::time::Instant;

use quench::amp::Measure;
use quench::bp::decimation::BpDecimation;
use quench::bp::{Bp, BpParams};
use quench::models::bicoloring::Bicoloring;
use quench::observe::Silent;
use quench::samplers::autoregressive::Order;
use quench::samplers::diffusion::{Schedule, StochasticLocalization};
use quench::theory::popdyn::{Observation, Population, Recursion};

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("thread pool")
}

fn bp_rate(n: usize, threads: usize) {
    let g = Bicoloring::generate(n, 5, 9.0, true, 1, &Silent).unwrap().unwrap();
    let bp = Bp::new(&g, BpParams { damping: 0.0, tol: 0.0, max_iterations: 0 });
    let y: Vec<f64> = g.planted_f64().unwrap().iter().map(|s| 0.2 * s).collect();
    pool(threads).install(|| {
        let mut state = bp.uninformed();
        bp.solve(&mut state, &Measure::tilted(&y, 0.2));
        let sweeps = if n >= 1_000_000 { 3 } else { 10 };
        let start = Instant::now();
        for _ in 0..sweeps {
            bp.step(&mut state);
        }
        bp.iterate(&mut state, 0.0);
        let secs = start.elapsed().as_secs_f64();
        println!(
            "bp n={n} threads={threads}: {:.3e} hyperedge updates/s ({:.1} ms per sweep)",
            (g.m() * sweeps) as f64 / secs,
            1e3 * secs / sweeps as f64
        );
    });
}

/// One BP-guided diffusion trajectory: `adaptive` = the settings of
/// `pipelines/bicoloring.toml` (adaptive steps, step_error = 1e-4, first step
/// and recorded grid 0.05 to t = 1, BP stopped at each step's error budget or
/// as soon as it cannot reach it within 100 sweeps); otherwise the earlier
/// fixed grid (dt = 0.05 to t = 1, BP to max |Δx̂| < 1e-3 or 20 sweeps).
fn diffusion_trajectory(n: usize, alpha: f64, adaptive: bool) {
    let g = Bicoloring::generate(n, 5, alpha, true, 1, &Silent).unwrap().unwrap();
    let cap = if adaptive { 100 } else { 20 };
    let bp = Bp::new(&g, BpParams { damping: 0.2, tol: 1e-3, max_iterations: cap });
    let step_error = if adaptive { Some(1e-4) } else { None };
    let schedule = Schedule { dt_fine: 0.05, t_fine: 1.0, t_max: 20.0, geometric_steps: 10, step_error };
    let sl = StochasticLocalization { schedule, trajectories: 1, batch: 1, seed: 3 };
    let (start, cpu) = (Instant::now(), cpu_seconds());
    let run = sl.run(&bp, &Silent).unwrap();
    let x = &run.trajectories[0].sample;
    let path = &run.trajectories[0].path;
    let sweeps: usize = path.iter().map(|p| p.amp_iterations).sum();
    let steps: usize = path.iter().map(|p| p.steps).sum();
    println!(
        "diffusion n={n} alpha={alpha} {}: {:.1} s wall, {:.1} s CPU, {steps} steps, {sweeps} BP sweeps, {} of {} recorded points with an unconverged solve, violated {} of {}",
        if adaptive { "adaptive (pipeline settings)" } else { "fixed dt = 0.05, cap 20" },
        start.elapsed().as_secs_f64(),
        cpu_seconds() - cpu,
        path.iter().filter(|p| !p.converged).count(),
        path.len(),
        g.violated(x),
        g.m()
    );
}

/// CPU time of this process (user + system), from /proc (0 where unavailable).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// One BP-guided decimation trajectory, one vertex at a time (local re-convergence).
fn decimation_trajectory(n: usize, alpha: f64) {
    let g = Bicoloring::generate(n, 5, alpha, true, 1, &Silent).unwrap().unwrap();
    let bp = Bp::new(&g, BpParams { damping: 0.3, tol: 1e-3, max_iterations: 50 });
    let sampler = BpDecimation { order: Order::Random, block: 1, trajectories: 1, records: 100, seed: 3 };
    let start = Instant::now();
    let run = sampler.run(&bp, &Silent).unwrap();
    let path = &run.trajectories[0].path;
    let sweeps: usize = path.iter().map(|p| p.amp_iterations).sum();
    println!(
        "decimation block=1 n={n} alpha={alpha}: {:.1} s, about {sweeps} sweeps' worth of hyperedge updates, violated {} of {}",
        start.elapsed().as_secs_f64(),
        g.violated(&run.trajectories[0].sample),
        g.m()
    );
}

fn popdyn_rate(threads: usize, population: usize, iterations: usize) -> f64 {
    let rec = Recursion::new(5, 9.0, Observation::Diffusion { gamma2: 0.2 });
    pool(threads).install(|| {
        let mut pop = Population::uninformed(population);
        rec.run(&mut pop, 1, 0, 2);
        let start = Instant::now();
        rec.run(&mut pop, 1, 2, iterations);
        let rate = (population * iterations) as f64 / start.elapsed().as_secs_f64();
        println!(
            "popdyn k=5 alpha=9 gamma2=0.2 threads={threads}: {rate:.3e} updates/s (overlap {:.4})",
            pop.moments().overlap
        );
        rate
    })
}

fn c_peer(population: usize, iterations: usize) {
    let dir = std::env::temp_dir().join("quench-popdyn-peer");
    let _ = std::fs::create_dir_all(&dir);
    let exe = dir.join("popdyn");
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/peers/popdyn.c");
    let built = Command::new("cc").args(["-O3", "-march=native", "-o"]).arg(&exe).arg(src).arg("-lm").status();
    if !matches!(built, Ok(s) if s.success()) {
        println!("C peer: `cc` not available, skipped");
        return;
    }
    let out = Command::new(&exe)
        .args(["5", "9.0", "0.2", &population.to_string(), &iterations.to_string()])
        .output()
        .expect("run the C peer");
    print!("C peer (one thread, -O3): {}", String::from_utf8_lossy(&out.stdout));
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "quick");
    // Parts to run (all when none is named): popdyn, bp, diffusion, decimation.
    let parts = ["popdyn", "bp", "diffusion", "decimation"];
    let named: Vec<&str> = parts.iter().copied().filter(|p| args.iter().any(|a| a == p)).collect();
    let run = |part: &str| named.is_empty() || named.contains(&part);
    let (population, iterations) = if quick { (20_000, 5) } else { (100_000, 20) };
    if run("popdyn") {
        popdyn_rate(1, population, iterations);
        popdyn_rate(2, population, iterations);
        c_peer(population, iterations);
    }
    if run("bp") {
        for n in if quick { vec![100_000] } else { vec![100_000, 1_000_000] } {
            bp_rate(n, 1);
            bp_rate(n, 2);
        }
    }
    if run("diffusion") {
        diffusion_trajectory(100_000, 8.0, true);
        diffusion_trajectory(100_000, 9.0, true);
        if !quick {
            diffusion_trajectory(100_000, 9.0, false);
        }
    }
    if run("decimation") {
        decimation_trajectory(100_000, 8.8);
    }
}
