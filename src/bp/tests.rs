#![allow(clippy::needless_range_loop)] // vertex ids index several arrays at once

use rand::Rng as _;

use super::decimation::BpDecimation;
use super::*;
use crate::amp::Solve;
use crate::observe::Silent;
use crate::rng;
use crate::train::denoiser::observe;

/// Exact marginals and `ln Z` of `Π ψ_a(x) exp(Σ_free B_i x_i)` with clamps, by enumeration.
fn exact(graph: &Bicoloring, external: &[f64]) -> (Vec<f64>, f64) {
    let n = graph.n;
    assert!(n <= 20);
    let (mut z, mut first) = (0.0, vec![0.0; n]);
    'configs: for bits in 0u32..(1 << n) {
        let x: Vec<f64> = (0..n).map(|i| if bits >> i & 1 == 1 { 1.0 } else { -1.0 }).collect();
        let mut log_w = 0.0;
        for i in 0..n {
            if external[i].abs() >= CLAMP {
                if x[i] != external[i].signum() {
                    continue 'configs;
                }
            } else {
                log_w += external[i] * x[i];
            }
        }
        if (0..graph.m()).any(|a| graph.is_monochromatic(a, &x)) {
            continue;
        }
        let w = f64::exp(log_w);
        z += w;
        for i in 0..n {
            first[i] += w * x[i];
        }
    }
    (first.iter().map(|f| f / z).collect(), z.ln())
}

fn tree() -> Bicoloring {
    // A hypertree (k = 3): its factor graph has no cycle.
    let edges = [[0, 1, 2], [2, 3, 4], [4, 5, 6], [1, 7, 8], [3, 9, 10], [6, 11, 12], [12, 13, 14]];
    Bicoloring::from_edges(15, 3, 0.5, edges.iter().flatten().copied().collect(), None)
}

fn fields(n: usize, scale: f64, seed: u64) -> Vec<f64> {
    let mut rng = rng::stream(seed, "fields", 0);
    (0..n).map(|_| scale * (2.0 * rng.random::<f64>() - 1.0)).collect()
}

fn solve(graph: &Bicoloring, external: &[f64], damping: f64) -> (f64, BpState, Solve) {
    let bp = Bp::new(graph, BpParams { damping, tol: 1e-12, max_iterations: 2000 });
    let mut state = BpState::uninformed(graph);
    let fixed: Vec<Option<f64>> = external.iter().map(|&b| (b.abs() >= CLAMP).then_some(b.signum())).collect();
    let y: Vec<f64> = external.iter().map(|&b| if b.abs() >= CLAMP { 0.0 } else { b }).collect();
    let solve = bp.solve(&mut state, &Measure { y: &y, t: 0.3, fixed: &fixed, accuracy: 0.0 });
    (bp.bethe_free_entropy(&state), state, solve)
}

#[test]
fn bp_is_exact_on_a_hypertree() {
    let graph = tree();
    for (seed, damping) in [(1, 0.0), (2, 0.3), (3, 0.5)] {
        let external = fields(graph.n, 1.5, seed);
        let (phi, state, solve) = solve(&graph, &external, damping);
        assert!(solve.converged, "BP must converge on a tree: {solve:?}");
        let (marginals, ln_z) = exact(&graph, &external);
        for i in 0..graph.n {
            assert!((state.x_hat[i] - marginals[i]).abs() < 1e-9, "vertex {i}: {} vs {}", state.x_hat[i], marginals[i]);
        }
        assert!((phi - ln_z / graph.n as f64).abs() < 1e-9, "Bethe {phi} vs exact {}", ln_z / graph.n as f64);
    }
}

#[test]
fn bp_is_exact_on_a_hypertree_with_clamped_vertices() {
    let graph = tree();
    let mut external = fields(graph.n, 0.8, 4);
    // Clamping 1 and 2 to + forces 0 to -; clamping 5 and 6 to - forces 4 to +.
    for (i, s) in [(1, 1.0), (2, 1.0), (5, -1.0), (6, -1.0), (9, 1.0)] {
        external[i] = s * CLAMP;
    }
    let (phi, state, solve) = solve(&graph, &external, 0.2);
    assert!(solve.converged);
    let (marginals, ln_z) = exact(&graph, &external);
    assert!((marginals[0] + 1.0).abs() < 1e-12 && (marginals[4] - 1.0).abs() < 1e-12);
    for i in 0..graph.n {
        assert!((state.x_hat[i] - marginals[i]).abs() < 1e-9, "vertex {i}: {} vs {}", state.x_hat[i], marginals[i]);
    }
    assert!((phi - ln_z / graph.n as f64).abs() < 1e-8, "Bethe {phi} vs exact {}", ln_z / graph.n as f64);
}

#[test]
fn bp_is_close_on_small_loopy_hypergraphs() {
    // Sparse random hypergraphs have long loops: BP is close, not exact.
    let mut worst: f64 = 0.0;
    let mut mean_error = 0.0;
    let mut count = 0.0;
    for seed in 0..6 {
        let graph = Bicoloring::generate(16, 4, 0.75, true, seed, &Silent).unwrap().unwrap();
        let external = fields(graph.n, 0.3, 10 + seed);
        let (phi, state, solve) = solve(&graph, &external, 0.3);
        assert!(solve.converged, "seed {seed}: {solve:?}");
        let (marginals, ln_z) = exact(&graph, &external);
        for i in 0..graph.n {
            let e = (state.x_hat[i] - marginals[i]).abs();
            worst = worst.max(e);
            mean_error += e;
            count += 1.0;
        }
        let bethe_error = (phi - ln_z / graph.n as f64).abs();
        eprintln!("seed {seed}: Bethe error per vertex {bethe_error:.4}");
        assert!(bethe_error < 0.05, "seed {seed}: Bethe {phi} vs {}", ln_z / graph.n as f64);
    }
    mean_error /= count;
    eprintln!("loopy marginals: worst error {worst:.4}, mean {mean_error:.4}");
    assert!(worst < 0.1 && mean_error < 0.02, "loopy BP marginal error: worst {worst}, mean {mean_error}");
}

#[test]
fn bp_is_deterministic_for_any_thread_count() {
    let graph = Bicoloring::generate(30_000, 5, 8.0, true, 2, &Silent).unwrap().unwrap();
    let y: Vec<f64> = fields(graph.n, 0.5, 5);
    let run = |threads| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            let bp = Bp::new(&graph, BpParams { max_iterations: 30, ..BpParams::default() });
            let mut state = bp.uninformed();
            bp.solve(&mut state, &Measure::tilted(&y, 0.5));
            let phi = bp.bethe_free_entropy(&state);
            (state.x_hat, phi)
        })
    };
    assert_eq!(run(1), run(2));
}

#[test]
fn planted_messages_are_a_fixed_point_far_above_alpha_d() {
    // k = 5, alpha = 12 > alpha_d: BP started at x* stays close to it; from zero it stays at zero.
    let graph = Bicoloring::generate(20_000, 5, 12.0, true, 1, &Silent).unwrap().unwrap();
    let planted = graph.planted_f64().unwrap();
    let bp = Bp::new(&graph, BpParams::default()).with_reference(planted.clone());
    let mut informed = BpState::informed(&bp.graph, &planted);
    let solve = bp.solve(&mut informed, &Measure::default());
    assert!(solve.overlap.unwrap() > 0.8, "{solve:?}");
    let mut uninformed = bp.uninformed();
    let solve = bp.solve(&mut uninformed, &Measure::default());
    assert!(solve.converged && solve.m_hat_sq < 1e-12, "{solve:?}");
}

#[test]
fn groups_are_vertex_disjoint_and_cover_every_hyperedge() {
    let graph = Bicoloring::generate(5000, 5, 9.0, true, 4, &Silent).unwrap().unwrap();
    let bp = Bp::new(&graph, BpParams::default());
    assert_eq!(*bp.groups.last().unwrap(), graph.m());
    let mut seen = vec![usize::MAX; graph.n];
    for g in 0..bp.groups.len() - 1 {
        for a in bp.groups[g]..bp.groups[g + 1] {
            for &v in bp.graph.edge(a) {
                assert_ne!(seen[v as usize], g, "vertex {v} twice in group {g}");
                seen[v as usize] = g;
            }
        }
    }
    let mut original: Vec<Vec<u32>> = (0..graph.m()).map(|a| graph.edge(a).to_vec()).collect();
    let mut renumbered: Vec<Vec<u32>> = (0..graph.m()).map(|a| bp.graph.edge(a).to_vec()).collect();
    original.sort();
    renumbered.sort();
    assert_eq!(original, renumbered);
}

#[test]
fn bp_converges_on_a_large_tilted_instance() {
    // Inside the paramagnetic phase (alpha = 8 < alpha_d) with a diffusion tilt,
    // the sweep must converge (a fully parallel sweep oscillates here).
    let graph = Bicoloring::generate(30_000, 5, 8.0, true, 2, &Silent).unwrap().unwrap();
    let x = graph.planted_f64().unwrap();
    let mut rng = rng::stream(3, "noise", 0);
    let t = 0.3;
    let y = observe(&x, t, &mut rng);
    let bp = Bp::new(&graph, BpParams::default()).with_reference(x);
    let mut state = bp.uninformed();
    let solve = bp.solve(&mut state, &Measure::tilted(&y, t));
    eprintln!("{solve:?}");
    assert!(solve.converged, "{solve:?}");
    assert!(solve.overlap.unwrap() > 0.1 && solve.overlap.unwrap() < 0.9, "{solve:?}");
}

/// Every proper coloring of `graph` (as ±1 bit patterns, bit i = vertex i).
fn proper_colorings(graph: &Bicoloring) -> Vec<u32> {
    (0u32..(1 << graph.n))
        .filter(|bits| {
            let x: Vec<f64> = (0..graph.n).map(|i| if bits >> i & 1 == 1 { 1.0 } else { -1.0 }).collect();
            graph.violated(&x) == 0
        })
        .collect()
}

/// Pearson's chi-square of `samples` against the uniform law on `support`;
/// a sample outside the support (an improper coloring) is infinitely unlikely.
fn chi_square_uniform(support: &[u32], samples: &[&[f64]]) -> f64 {
    let mut counts = std::collections::HashMap::new();
    for x in samples {
        let bits = x.iter().enumerate().fold(0u32, |acc, (i, &v)| acc | (u32::from(v > 0.0) << i));
        if !support.contains(&bits) {
            return f64::INFINITY;
        }
        *counts.entry(bits).or_insert(0usize) += 1;
    }
    let expected = samples.len() as f64 / support.len() as f64;
    support.iter().map(|b| (counts.get(b).copied().unwrap_or(0) as f64 - expected).powi(2) / expected).sum()
}

/// A small hypertree (k = 3, 9 vertices, 162 proper colorings): BP is exact on it.
fn small_tree() -> Bicoloring {
    let edges = [[0, 1, 2], [2, 3, 4], [4, 5, 6], [1, 7, 8]];
    Bicoloring::from_edges(9, 3, 0.5, edges.iter().flatten().copied().collect(), None)
}

/// Chi-square acceptance for `dof` degrees of freedom: mean + 5 standard deviations.
fn chi_square_bound(dof: usize) -> f64 {
    dof as f64 + 5.0 * (2.0 * dof as f64).sqrt()
}

#[test]
fn bp_decimation_one_vertex_at_a_time_samples_the_uniform_proper_coloring_on_a_tree() {
    // With exact marginals (BP on a tree) and block = 1, decimation is the chain
    // rule: every proper coloring equally likely, no improper one ever. Both
    // `BpDecimation` (what the stage runs) and the generic decimation sampler
    // driving BP through `PosteriorMean`.
    use crate::samplers::autoregressive::{Decimation, Order};
    let graph = small_tree();
    let support = proper_colorings(&graph);
    assert_eq!(support.len(), 162); // 2^9 (3/4)^4
    let bp = Bp::new(&graph, BpParams { damping: 0.0, tol: 1e-12, max_iterations: 500 });
    let trajectories = 100 * support.len();
    let local = BpDecimation { order: Order::Random, block: 1, trajectories, records: 9, seed: 11 };
    let generic = Decimation { order: Order::Random, block: 1, trajectories, batch: 1, seed: 11 };
    for (name, run) in [("local", local.run(&bp, &Silent).unwrap()), ("generic", generic.run(&bp, &Silent).unwrap())] {
        assert!(run.trajectories.iter().all(|t| t.path.iter().all(|p| p.converged)), "{name}");
        assert_eq!(run.trajectories[0].path.len(), 10, "{name}");
        let chi2 = chi_square_uniform(&support, &run.samples());
        eprintln!("{name} decimation, block = 1: chi2 = {chi2:.1} on {} dof", support.len() - 1);
        assert!(chi2 < chi_square_bound(support.len() - 1), "{name}: chi2 = {chi2}");
    }
}

#[test]
fn bp_decimation_matches_the_generic_decimation_on_bp() {
    // Re-convergence with residual scheduling reaches the fixed point a
    // generic decimated solve reaches: on a tree with damping, the samples and
    // the marginals recorded at each theta agree.
    use crate::samplers::autoregressive::{Decimation, Order};
    let graph = tree();
    let bp = Bp::new(&graph, BpParams { damping: 0.4, tol: 1e-13, max_iterations: 2000 });
    let local = BpDecimation { order: Order::Random, block: 2, trajectories: 3, records: 100, seed: 5 };
    let generic = Decimation { order: Order::Random, block: 2, trajectories: 3, batch: 1, seed: 5 };
    let (a, b) = (local.run(&bp, &Silent).unwrap(), generic.run(&bp, &Silent).unwrap());
    for (ta, tb) in a.trajectories.iter().zip(&b.trajectories) {
        assert_eq!(ta.sample, tb.sample, "same order, same draws from the same marginals");
        for (pa, pb) in ta.path.iter().zip(&tb.path) {
            assert_eq!(pa.param, pb.param);
            assert!((pa.m_hat_sq - pb.m_hat_sq).abs() < 1e-9, "{pa:?} vs {pb:?}");
        }
    }
}

#[test]
fn bp_decimation_in_one_block_is_not_exact_and_the_test_sees_it() {
    // The same check on decimation fixing all 9 vertices at once from the
    // uninformed marginals (independent fair coins): improper colorings appear.
    use crate::samplers::autoregressive::Order;
    let graph = small_tree();
    let support = proper_colorings(&graph);
    let bp = Bp::new(&graph, BpParams { damping: 0.0, tol: 1e-12, max_iterations: 500 });
    let sampler = BpDecimation { order: Order::Random, block: 9, trajectories: 2000, records: 1, seed: 11 };
    let run = sampler.run(&bp, &Silent).unwrap();
    assert_eq!(chi_square_uniform(&support, &run.samples()), f64::INFINITY);
}

#[test]
fn bp_diffusion_samples_the_uniform_proper_coloring_on_a_tree() {
    // Stochastic localisation with exact posterior means and a fine grid: the
    // law of the final draw is uniform over proper colorings up to the
    // discretisation error, which a fine dt keeps below the chi-square's reach.
    use crate::samplers::diffusion::{Schedule, StochasticLocalization};
    let graph = small_tree();
    let support = proper_colorings(&graph);
    let bp = Bp::new(&graph, BpParams { damping: 0.0, tol: 1e-10, max_iterations: 500 });
    let schedule = Schedule { dt_fine: 0.01, t_fine: 2.0, t_max: 400.0, geometric_steps: 30, step_error: None };
    let sampler = StochasticLocalization { schedule, trajectories: 60 * support.len(), batch: 1, seed: 12 };
    let run = sampler.run(&bp, &Silent).unwrap();
    let chi2 = chi_square_uniform(&support, &run.samples());
    eprintln!("diffusion: chi2 = {chi2:.1} on {} dof", support.len() - 1);
    assert!(chi2 < chi_square_bound(support.len() - 1), "chi2 = {chi2}");
}

#[test]
fn bp_diffusion_with_adaptive_steps_and_the_accuracy_rule_samples_the_uniform_proper_coloring_on_a_tree() {
    // The diffusion as the pipeline runs it: adaptive Euler steps, BP stopped by
    // the step's error budget (the accuracy rule; `tol` is loose and damping
    // slows BP down, so the rule is what stops most solves), not by `max |Δx̂| < tol`.
    use crate::samplers::diffusion::{Schedule, StochasticLocalization};
    let graph = small_tree();
    let support = proper_colorings(&graph);
    let bp = Bp::new(&graph, BpParams { damping: 0.3, tol: 1e-3, max_iterations: 200 });
    let schedule = Schedule { dt_fine: 0.01, t_fine: 2.0, t_max: 400.0, geometric_steps: 30, step_error: Some(1e-5) };
    let sampler = StochasticLocalization { schedule, trajectories: 60 * support.len(), batch: 1, seed: 13 };
    let run = sampler.run(&bp, &Silent).unwrap();
    let chi2 = chi_square_uniform(&support, &run.samples());
    eprintln!("adaptive diffusion: chi2 = {chi2:.1} on {} dof", support.len() - 1);
    assert!(chi2 < chi_square_bound(support.len() - 1), "chi2 = {chi2}");
}

#[test]
fn the_accuracy_rule_stops_within_its_accuracy_of_the_fixed_point() {
    // Near the end point (alpha = 8, t = 0.3) BP relaxes slowly; a solve stopped
    // by the accuracy rule must be within about `accuracy` (RMS over vertices)
    // of the fixed point the same BP reaches at tol = 1e-9, and must stop
    // earlier than that.
    let graph = Bicoloring::generate(5000, 5, 8.0, true, 4, &Silent).unwrap().unwrap();
    let x = graph.planted_f64().unwrap();
    let mut rng = rng::stream(8, "noise", 0);
    let t = 0.3;
    let y = observe(&x, t, &mut rng);
    for accuracy in [3e-2, 1e-2, 3e-3] {
        let bp = Bp::new(&graph, BpParams { damping: 0.3, tol: 1e-9, max_iterations: 2000 });
        let mut state = bp.uninformed();
        let early = bp.solve(&mut state, &Measure::tilted(&y, t).with_accuracy(accuracy));
        let stopped = state.x_hat.clone();
        let full = bp.solve(&mut state, &Measure::tilted(&y, t));
        assert!(early.converged && full.converged, "{early:?} {full:?}");
        let rms = (stopped.iter().zip(&state.x_hat).map(|(a, b)| (a - b).powi(2)).sum::<f64>() / x.len() as f64).sqrt();
        eprintln!(
            "accuracy {accuracy:.0e}: stopped after {} sweeps at RMS {rms:.2e} from the fixed point",
            early.iterations
        );
        assert!(rms < 1.5 * accuracy, "accuracy {accuracy}: RMS distance {rms}");
        assert!(full.iterations > 0, "the early stop left work to do");
    }
}

#[test]
fn local_sweeps_give_the_same_result_as_full_scans() {
    // Decimation in small blocks (local re-convergence on the worklist) and a
    // tilted solve, with the worklist never used, always used once known, and
    // at its default threshold: bit-identical states.
    use crate::samplers::autoregressive::Order;
    let graph = Bicoloring::generate(3000, 5, 8.0, true, 3, &Silent).unwrap().unwrap();
    let y: Vec<f64> = fields(graph.n, 0.4, 9);
    let run = |local_below: usize| {
        let mut bp = Bp::new(&graph, BpParams { damping: 0.2, tol: 1e-4, max_iterations: 60 });
        bp.local_below = local_below;
        let sampler = BpDecimation { order: Order::Random, block: 7, trajectories: 1, records: 10, seed: 2 };
        let decimated = sampler.run(&bp, &Silent).unwrap();
        let mut state = bp.uninformed();
        let solve = bp.solve(&mut state, &Measure::tilted(&y, 0.4));
        let again = bp.solve(&mut state, &Measure::tilted(&y, 0.4).with_accuracy(1e-6));
        (decimated.trajectories, state.x_hat, state.u, solve, again)
    };
    let default = Bp::new(&graph, BpParams::default()).local_below;
    let full = run(0);
    assert_eq!(full, run(usize::MAX));
    assert_eq!(full, run(default));
}

#[test]
fn a_solve_that_cannot_reach_its_accuracy_stops_early_unconverged() {
    // BP at alpha = 8, t = 0.3 contracts slowly; an accuracy far beyond what
    // the cap allows ends the solve early, reported unconverged, while the
    // same solve with an attainable accuracy and cap runs to it.
    let graph = Bicoloring::generate(5000, 5, 8.0, true, 4, &Silent).unwrap().unwrap();
    let x = graph.planted_f64().unwrap();
    let mut rng = rng::stream(8, "noise", 0);
    let t = 0.3;
    let y = observe(&x, t, &mut rng);
    let bp = Bp::new(&graph, BpParams { damping: 0.3, tol: 1e-12, max_iterations: 60 });
    let hopeless = bp.solve(&mut bp.uninformed(), &Measure::tilted(&y, t).with_accuracy(1e-11));
    eprintln!("hopeless: {hopeless:?}");
    assert!(!hopeless.converged && hopeless.iterations < 30, "{hopeless:?}");
    let bp = Bp::new(&graph, BpParams { damping: 0.3, tol: 1e-12, max_iterations: 2000 });
    let reachable = bp.solve(&mut bp.uninformed(), &Measure::tilted(&y, t).with_accuracy(1e-2));
    eprintln!("reachable: {reachable:?}");
    assert!(reachable.converged, "{reachable:?}");
}

#[test]
fn convergence_stops_on_a_rate_at_or_above_one_and_not_on_a_fast_one() {
    // The rule itself on synthetic RMS sequences (cap 100, accuracy 1e-3).
    let verdicts = |rate: f64| {
        let mut test = Convergence::new(0.0, 1e-3, 100);
        (0..100).map(|s| test.after_sweep(1.0, 0.1 * rate.powi(s))).position(|v| v != Verdict::Running).map(|s| {
            let mut test = Convergence::new(0.0, 1e-3, 100);
            (s, (0..=s).map(|s| test.after_sweep(1.0, 0.1 * rate.powi(s as i32))).last().unwrap())
        })
    };
    assert_eq!(verdicts(1.02).unwrap().1, Verdict::Hopeless);
    assert!(verdicts(1.02).unwrap().0 < 10);
    // 0.99 per sweep needs ~680 sweeps to 1e-3 from 0.1 / (1 - 0.99): beyond the cap.
    assert_eq!(verdicts(0.99).unwrap().1, Verdict::Hopeless);
    // 0.8 per sweep gets there in ~20.
    let (sweeps, verdict) = verdicts(0.8).unwrap();
    assert_eq!(verdict, Verdict::Converged);
    assert!(sweeps < 30, "{sweeps}");
}
