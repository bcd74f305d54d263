//! Unit tests of exact enumeration against brute force on tiny instances.

use super::*;

/// Every configuration of `values^n` with its normalised Gibbs weight, by brute force.
fn brute_force(d: &Disorder, values: &[i8]) -> Vec<(Vec<f64>, f64)> {
    let base = values.len();
    let total = base.pow(d.n as u32);
    let configs: Vec<Vec<f64>> =
        (0..total).map(|idx| (0..d.n).map(|i| values[digit(idx, i, base)] as f64).collect()).collect();
    let rho = d.prior.rho();
    let log_w: Vec<f64> = configs
        .iter()
        .map(|x| {
            let prior: f64 = match d.prior {
                Prior::SparseRademacher { .. } => {
                    x.iter().map(|&v| if v == 0.0 { (1.0 - rho).ln() } else { (rho / 2.0).ln() }).sum()
                }
                _ => 0.0,
            };
            prior + d.log_weight(x)
        })
        .collect();
    let z: f64 = log_w.iter().map(|v| v.exp()).sum();
    configs.into_iter().zip(log_w).map(|(x, lw)| (x, lw.exp() / z)).collect()
}

fn check_against_brute_force(d: &Disorder, values: &[i8]) {
    let exact = enumerate(d).unwrap();
    let states = brute_force(d, values);
    let n = d.n as f64;
    let energy: f64 = states.iter().map(|(x, p)| p * d.energy_per_spin(x)).sum();
    assert!((exact.mean_energy - energy).abs() < 1e-12, "{} vs {}", exact.mean_energy, energy);
    for i in 0..d.n {
        let m: f64 = states.iter().map(|(x, p)| p * x[i]).sum();
        assert!((exact.marginals[i] - m).abs() < 1e-12);
        let m2: f64 = states.iter().map(|(x, p)| p * x[i] * x[i]).sum();
        assert!((exact.densities[i] - m2).abs() < 1e-12);
    }
    let mut law = vec![0.0; 2 * d.n + 1];
    for (x, p) in &states {
        for (y, r) in &states {
            let k: f64 = x.iter().zip(y).map(|(a, b)| a * b).sum();
            law[(k + n) as usize] += p * r;
        }
    }
    for (a, b) in exact.overlap.probabilities.iter().zip(&law) {
        assert!((a - b).abs() < 1e-12, "P(q): {a} vs {b}");
    }
    let total: f64 = exact.overlap.probabilities.iter().sum();
    assert!((total - 1.0).abs() < 1e-12);
}

#[test]
fn enumeration_matches_brute_force_on_tiny_instances() {
    check_against_brute_force(&Disorder::sk(6, 1.3, 1), &[-1, 1]);
    check_against_brute_force(&Disorder::spiked_matrix(6, Prior::Rademacher, 0.5, 2), &[-1, 1]);
    check_against_brute_force(&Disorder::spiked_tensor(6, Prior::Rademacher, 0.3, 3), &[-1, 1]);
    let sparse = Prior::SparseRademacher { rho: 0.3 };
    check_against_brute_force(&Disorder::spiked_matrix(5, sparse, 0.05, 4), &[-1, 0, 1]);
    check_against_brute_force(&Disorder::spiked_tensor(5, sparse, 0.1, 5), &[-1, 0, 1]);
}

#[test]
fn overlap_histogram_sums_bins() {
    let law = OverlapLaw { values: vec![-1.0, 0.0, 1.0], probabilities: vec![0.25, 0.5, 0.25] };
    assert_eq!(law.histogram(&[-1.0, -0.5, 0.5, 1.0]), vec![0.25, 0.5, 0.25]);
    assert_eq!(law.histogram(&[-1.0, 0.0, 1.0]), vec![0.25, 0.75]);
    assert_eq!(law.mean_abs(), 0.5);
}

#[test]
fn refuses_what_it_cannot_enumerate() {
    assert!(enumerate(&Disorder::sk(21, 1.0, 1)).is_err());
    assert!(enumerate(&Disorder::spiked_tensor(8, Prior::Spherical, 0.3, 1)).is_err());
}
