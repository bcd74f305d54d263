//! Throughput of the sparse side (plain timings, not criterion: these runs are
//! long): BP hyperedge updates per second at n = 1e5 and 1e6 (alpha = 9,
//! k = 5) on one and two threads; one BP-driven diffusion trajectory at
//! n = 1e5; population-dynamics updates per second on one and two threads,
//! against the C peer `benches/peers/popdyn.c` (compiled with -O3 if `cc`
//! is on the PATH).
//!
//! cargo bench --bench bicoloring [-- quick]

use std::process::Command;
use std::time::Instant;

use quench::amp::Measure;
use quench::bp::{Bp, BpParams};
use quench::models::bicoloring::Bicoloring;
use quench::observe::Silent;
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
        bp.iterate(&mut state);
        let secs = start.elapsed().as_secs_f64();
        println!(
            "bp n={n} threads={threads}: {:.3e} hyperedge updates/s ({:.1} ms per sweep)",
            (g.m() * sweeps) as f64 / secs,
            1e3 * secs / sweeps as f64
        );
    });
}

fn diffusion_trajectory(n: usize) {
    let g = Bicoloring::generate(n, 5, 8.8, true, 1, &Silent).unwrap().unwrap();
    let bp = Bp::new(&g, BpParams { damping: 0.2, tol: 1e-4, max_iterations: 100 });
    let schedule = Schedule { dt_fine: 0.02, t_fine: 1.0, t_max: 20.0, geometric_steps: 15, step_error: None };
    let sl = StochasticLocalization { schedule, trajectories: 1, batch: 1, seed: 3 };
    let start = Instant::now();
    let run = sl.run(&bp, &Silent).unwrap();
    let x = &run.trajectories[0].sample;
    let iterations: usize = run.trajectories[0].path.iter().map(|p| p.amp_iterations).sum();
    println!(
        "diffusion n={n} alpha=8.8: {:.1} s, {} path points, {} BP sweeps, violated {} of {}",
        start.elapsed().as_secs_f64(),
        run.trajectories[0].path.len(),
        iterations,
        g.violated(x),
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
    let quick = std::env::args().any(|a| a == "quick");
    let (population, iterations) = if quick { (20_000, 5) } else { (100_000, 20) };
    popdyn_rate(1, population, iterations);
    popdyn_rate(2, population, iterations);
    c_peer(population, iterations);
    for n in if quick { vec![100_000] } else { vec![100_000, 1_000_000] } {
        bp_rate(n, 1);
        bp_rate(n, 2);
    }
    diffusion_trajectory(100_000);
}
