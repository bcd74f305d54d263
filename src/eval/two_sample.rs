//! Two-sample tests between a sampler and a reference on the same instance:
//! the Kolmogorov-Smirnov distance between two empirical distributions, and
//! permutation p-values for any statistic of a labelled pool of items (exact
//! under exchangeability, ties and all, for any sample sizes). The P(q) test
//! permutes configurations, not overlaps: overlaps within a group are
//! recomputed from the pooled Gram matrix for every relabelling, so the
//! dependence between the pairs of one group is respected. Deterministic: the
//! relabellings come from the seeded stream handed in.

use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::rng::Rng;

/// The result of a two-sample permutation test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TwoSample {
    /// The statistic on the observed labelling.
    pub statistic: f64,
    /// `(1 + #{relabellings at least as extreme}) / (1 + permutations)`.
    pub p_value: f64,
}

/// Largest gap between the empirical CDFs of `a` and `b` (NaNs must be absent).
pub fn ks_distance(a: &[f64], b: &[f64]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let mut a = a.to_vec();
    let mut b = b.to_vec();
    a.sort_by(f64::total_cmp);
    b.sort_by(f64::total_cmp);
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j, mut d) = (0usize, 0usize, 0.0f64);
    while i < a.len() && j < b.len() {
        let x = a[i].min(b[j]);
        while i < a.len() && a[i] <= x {
            i += 1;
        }
        while j < b.len() && b[j] <= x {
            j += 1;
        }
        d = d.max((i as f64 / na - j as f64 / nb).abs());
    }
    d
}

/// Permutation test of `statistic(group_a, group_b)` (indices into a pool of
/// `n_a + n_b` items, the first `n_a` being group a): larger means more
/// different. `permutations` random relabellings drawn from `rng`.
pub fn permutation_test(
    n_a: usize,
    n_b: usize,
    permutations: usize,
    rng: &mut Rng,
    mut statistic: impl FnMut(&[usize], &[usize]) -> f64,
) -> TwoSample {
    let mut labels: Vec<usize> = (0..n_a + n_b).collect();
    let observed = statistic(&labels[..n_a], &labels[n_a..]);
    // Relative slack so that relabellings equal to the observed value up to
    // rounding count as "at least as extreme".
    let threshold = observed - 1e-12 * observed.abs().max(1.0);
    let mut extreme = 0usize;
    for _ in 0..permutations {
        labels.shuffle(rng);
        if statistic(&labels[..n_a], &labels[n_a..]) >= threshold {
            extreme += 1;
        }
    }
    TwoSample { statistic: observed, p_value: (1 + extreme) as f64 / (1 + permutations) as f64 }
}

/// KS permutation test between the values `a` and `b`.
pub fn ks_test(a: &[f64], b: &[f64], permutations: usize, rng: &mut Rng) -> TwoSample {
    let pool: Vec<f64> = a.iter().chain(b).copied().collect();
    let pick = |idx: &[usize]| idx.iter().map(|&i| pool[i]).collect::<Vec<f64>>();
    permutation_test(a.len(), b.len(), permutations, rng, |x, y| ks_distance(&pick(x), &pick(y)))
}

/// `q_ab` (or `|q_ab|`) for every pair `a < b` of `members`, read from `gram`.
fn within(gram: &[f64], size: usize, members: &[usize], absolute: bool) -> Vec<f64> {
    let mut q = Vec::with_capacity(members.len() * members.len().saturating_sub(1) / 2);
    for (k, &a) in members.iter().enumerate() {
        for &b in &members[k + 1..] {
            let v = gram[a * size + b];
            q.push(if absolute { v.abs() } else { v });
        }
    }
    q
}

/// Overlap matrix `x_a.x_b / N` of configurations.
pub fn gram<T: AsRef<[f32]>>(configurations: &[T]) -> Vec<f64> {
    let m = configurations.len();
    let mut g = vec![0.0; m * m];
    for a in 0..m {
        for b in a..m {
            let v = super::overlaps::overlap(configurations[a].as_ref(), configurations[b].as_ref());
            g[a * m + b] = v;
            g[b * m + a] = v;
        }
    }
    g
}

/// KS permutation test between the P(q) of configurations `a` and of `b`
/// (overlaps between distinct members of the same group; `absolute` for
/// Z2-symmetric measures). Needs at least two configurations per group.
pub fn pq_test<T: AsRef<[f32]>>(a: &[T], b: &[T], absolute: bool, permutations: usize, rng: &mut Rng) -> TwoSample {
    let pool: Vec<&[f32]> = a.iter().chain(b).map(|c| c.as_ref()).collect();
    let size = pool.len();
    let g = gram(&pool);
    permutation_test(a.len(), b.len(), permutations, rng, |x, y| {
        ks_distance(&within(&g, size, x, absolute), &within(&g, size, y, absolute))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::stream;
    use rand::Rng as _;

    #[test]
    fn ks_distance_of_known_samples() {
        assert_eq!(ks_distance(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0]), 0.0);
        assert_eq!(ks_distance(&[0.0, 1.0], &[2.0, 3.0]), 1.0);
        // a = {1, 2, 3, 4}, b = {3, 4, 5, 6}: the CDFs differ most at 2 (0.5 vs 0).
        assert!((ks_distance(&[1.0, 2.0, 3.0, 4.0], &[3.0, 4.0, 5.0, 6.0]) - 0.5).abs() < 1e-15);
        // Ties across the samples are stepped over together.
        assert!((ks_distance(&[1.0, 1.0], &[1.0, 2.0]) - 0.5).abs() < 1e-15);
    }

    /// False-alarm rates of both tests on identical distributions stay at the
    /// nominal level: over 400 seeds, the fraction of p < 0.05 is 0.05 within
    /// about three binomial standard deviations (0.011), and p is roughly uniform.
    #[test]
    fn false_alarm_rates_on_identical_distributions_are_nominal() {
        let seeds = 400;
        let (mut ks_alarms, mut pq_alarms, mut ks_low_half) = (0, 0, 0);
        for seed in 0..seeds {
            let mut rng = stream(seed, "data", 0);
            let a: Vec<f64> = (0..30).map(|_| rng.random::<f64>()).collect();
            let b: Vec<f64> = (0..20).map(|_| rng.random::<f64>()).collect();
            let spins = |rng: &mut Rng, k: usize| -> Vec<Vec<f32>> {
                (0..k).map(|_| (0..40).map(|_| if rng.random::<f64>() < 0.7 { 1.0 } else { -1.0 }).collect()).collect()
            };
            let (ca, cb) = (spins(&mut rng, 10), spins(&mut rng, 12));
            let mut test_rng = stream(seed, "test", 0);
            let ks = ks_test(&a, &b, 199, &mut test_rng);
            let pq = pq_test(&ca, &cb, false, 199, &mut test_rng);
            ks_alarms += usize::from(ks.p_value < 0.05);
            pq_alarms += usize::from(pq.p_value < 0.05);
            ks_low_half += usize::from(ks.p_value <= 0.5);
        }
        let rate = |k: usize| k as f64 / seeds as f64;
        assert!((rate(ks_alarms) - 0.05).abs() < 0.035, "KS false alarms {}", rate(ks_alarms));
        assert!((rate(pq_alarms) - 0.05).abs() < 0.035, "P(q) false alarms {}", rate(pq_alarms));
        assert!((rate(ks_low_half) - 0.5).abs() < 0.1, "P(p <= 0.5) = {}", rate(ks_low_half));
    }

    #[test]
    fn shifted_distributions_are_detected_and_runs_are_deterministic() {
        let mut rng = stream(3, "data", 0);
        let a: Vec<f64> = (0..40).map(|_| rng.random::<f64>()).collect();
        let b: Vec<f64> = (0..40).map(|_| rng.random::<f64>() + 0.5).collect();
        let t1 = ks_test(&a, &b, 499, &mut stream(9, "test", 0));
        let t2 = ks_test(&a, &b, 499, &mut stream(9, "test", 0));
        assert_eq!(t1, t2);
        assert!(t1.p_value < 0.01, "p = {}", t1.p_value);
        // Aligned (q ~ 1) against independent (q ~ 0) configurations.
        let aligned: Vec<Vec<f32>> = (0..8).map(|_| vec![1.0; 50]).collect();
        let random: Vec<Vec<f32>> =
            (0..8).map(|_| (0..50).map(|_| if rng.random::<bool>() { 1.0 } else { -1.0 }).collect()).collect();
        let pq = pq_test(&aligned, &random, true, 499, &mut stream(9, "test", 1));
        assert!(pq.p_value < 0.01 && pq.statistic > 0.9, "{pq:?}");
    }
}
