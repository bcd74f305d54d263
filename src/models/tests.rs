use super::*;

fn mean_and_stderr(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

#[test]
fn planted_energy_matches_nishimori_on_average() {
    // E e(x*) over instances is the Nishimori value exactly (finite-N factor included).
    let cases = [
        (Family::SpikedMatrix, Prior::Rademacher, 0.49),
        (Family::SpikedMatrix, Prior::SparseRademacher { rho: 0.3 }, 0.05),
        (Family::SpikedTensor, Prior::Rademacher, 0.34),
        (Family::SpikedTensor, Prior::Spherical, 0.30),
    ];
    for (family, prior, delta) in cases {
        let energies: Vec<f64> = (0..40)
            .map(|seed| {
                let d = match family {
                    Family::SpikedMatrix => Disorder::spiked_matrix(60, prior, delta, seed),
                    _ => Disorder::spiked_tensor(30, prior, delta, seed),
                };
                d.energy_per_spin(&d.planted_f64().unwrap())
            })
            .collect();
        let (mean, stderr) = mean_and_stderr(&energies);
        let d = Disorder::spiked_matrix(60, prior, delta, 0);
        let d = if family == Family::SpikedMatrix { d } else { Disorder::spiked_tensor(30, prior, delta, 0) };
        let expected = d.equilibrium_energy_per_spin().unwrap();
        assert!(
            (mean - expected).abs() < 4.0 * stderr,
            "{family:?} {prior:?}: mean {mean} +- {stderr}, Nishimori {expected}"
        );
    }
}

#[test]
fn nishimori_factor_matches_physics_md() {
    let d = Disorder::spiked_tensor(200, Prior::Spherical, delta_from_temperature(3, 0.8), 1);
    let c_n = d.equilibrium_energy_per_spin().unwrap() / (-d.beta() / 2.0);
    assert!((c_n - 0.956).abs() < 1e-3, "c_N = {c_n}");
    let d = Disorder::spiked_tensor(50, Prior::Rademacher, 0.3, 1);
    let c_n = d.equilibrium_energy_per_spin().unwrap() / (-d.beta() / 2.0);
    assert!((c_n - 49.0 * 48.0 / 2500.0).abs() < 1e-12, "c_N = {c_n}");
}

#[test]
fn noise_has_the_stated_variance() {
    let d = Disorder::sk(400, 1.0, 3);
    let var = d.couplings.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / d.couplings.len() as f64;
    assert!((var * 400.0 - 1.0).abs() < 0.02, "N var(J) = {}", var * 400.0);
}

#[test]
fn generation_is_reproducible_and_seed_dependent() {
    let a = Disorder::spiked_tensor(20, Prior::Rademacher, 0.3, 5);
    let b = Disorder::spiked_tensor(20, Prior::Rademacher, 0.3, 5);
    let c = Disorder::spiked_tensor(20, Prior::Rademacher, 0.3, 6);
    assert_eq!(a, b);
    assert_ne!(a.couplings, c.couplings);
}

#[test]
fn spherical_planted_is_on_the_sphere() {
    let d = Disorder::spiked_tensor(50, Prior::Spherical, 0.3, 2);
    let x = d.planted_f64().unwrap();
    let norm2: f64 = x.iter().map(|v| v * v).sum();
    assert!((norm2 - 50.0).abs() < 1e-4);
}

#[test]
fn temperature_conversions_follow_physics_md() {
    assert!((delta_from_temperature(2, 0.7) - 0.49).abs() < 1e-12);
    assert!((delta_from_temperature(3, 0.63) - 0.2646).abs() < 1e-12);
    assert!((temperature_from_delta(3, 0.25) - 0.612372).abs() < 1e-6);
}
