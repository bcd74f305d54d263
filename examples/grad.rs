//! Langevin cost on the spherical 3-tensor: time of one gradient (one pass over
//! the packed i<j<k couplings) and of one full Langevin step, best of 10 blocks.
//!
//! cargo run --release --example grad -- [N]

use quench::models::{delta_from_temperature, Disorder, Prior};
use quench::rng;
use quench::samplers::langevin;
use std::time::Instant;

fn best_of<F: FnMut()>(reps: usize, mut f: F) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..10 {
        let t = Instant::now();
        for _ in 0..reps {
            f();
        }
        best = best.min(t.elapsed().as_secs_f64() / reps as f64);
    }
    best
}

fn main() {
    let n: usize = std::env::args().nth(1).map_or(200, |a| a.parse().unwrap());
    let d = Disorder::spiked_tensor(n, Prior::Spherical, delta_from_temperature(3, 0.8), 1);
    let mut x = d.planted_f64().unwrap();
    let mut g = vec![0.0; n];
    let mut rng = rng::stream(0, "chain", 0);
    let grad = best_of(100, || {
        std::hint::black_box(langevin::gradient(&d, &x, &mut g));
    });
    let step = best_of(100, || {
        langevin::gradient(&d, &x, &mut g);
        langevin::step(&mut x, &g, 0.002, &mut rng);
    });
    println!(
        "N={n}: gradient {:.1} us ({:.2} ns per stored triple), Langevin step {:.1} us = {:.0} steps/s = {:.3} x gradient",
        grad * 1e6,
        grad * 1e9 / quench::models::packed::len(n, 3) as f64,
        step * 1e6,
        1.0 / step,
        step / grad
    );
}
