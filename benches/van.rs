//! Throughput of the variational autoregressive network, in the JAX peer's
//! terms (`../shared/bench/van_jax.py`): training steps per second (one step =
//! ancestral sampling of a batch, the energies, one forward/backward of log q
//! and an AdamW update) and ancestral samples per second, SK at beta = 1,
//! batch 256, hidden 2n, depth 1, f32.
//!
//! cargo bench --bench van [-- N...]     (default: 100 200)

use std::time::Instant;

use candle_core::DType;
use quench::models::Disorder;
use quench::observe::Silent;
use quench::samplers::neural::AncestralSampler;
use quench::train::made::{Made, MadeShape};
use quench::train::van::{self, VanConfig};

fn main() {
    quench::train::pin_candle_threads();
    let sizes: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() { vec![100, 200] } else { sizes };
    for n in sizes {
        let disorder = Disorder::sk(n, 1.0, 0);
        let steps = 200;
        let config = VanConfig { steps, batch: 256, lr: 1e-3, dtype: DType::F32, ..VanConfig::for_n(n) };
        // Warm-up (allocations, thread pool), then the timed run.
        van::train(&disorder, &VanConfig { steps: 5, ..config }, 1, &Silent).expect("training");
        let clock = Instant::now();
        let run = van::train(&disorder, &config, 1, &Silent).expect("training");
        let t_train = clock.elapsed().as_secs_f64();
        let net = Made::new(MadeShape { n, hidden: 2 * n, depth: 1 }, DType::F32, 1).expect("network");
        let sampler = AncestralSampler::new(&net.weights().expect("weights"));
        let reps = 20;
        let clock = Instant::now();
        for r in 0..reps {
            std::hint::black_box(sampler.draw_many(2, "bench", (r * 256) as u64, 256));
        }
        let t_sample = clock.elapsed().as_secs_f64();
        println!(
            "n={n} batch=256 hidden={} depth=1 train_steps_per_s={:.2} samples_per_s={:.0} free_energy_per_spin={:.4}",
            2 * n,
            steps as f64 / t_train,
            (reps * 256) as f64 / t_sample,
            run.curve.last().map_or(f64::NAN, |p| p.free_energy)
        );
    }
}
