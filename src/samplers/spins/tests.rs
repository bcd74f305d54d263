//! Unit tests of the spin state: incremental fields and log-weight against
//! recomputation, batched vs site-by-site sweeps, f32 vs f64 couplings.

use super::*;
use crate::rng;

fn random_state<S: Coupling>(model: &SpinModel<S>, disorder: &Disorder, seed: u64) -> SpinState {
    let x = disorder.prior.sample(disorder.n, &mut rng::stream(seed, "init", 0));
    SpinState::new(model, x.iter().map(|&v| v as i8).collect())
}

fn cases() -> Vec<Disorder> {
    vec![
        Disorder::sk(70, 1.2, 1),
        Disorder::spiked_matrix(60, Prior::Rademacher, 0.5, 2),
        Disorder::spiked_matrix(50, Prior::SparseRademacher { rho: 0.3 }, 0.06, 3),
        Disorder::spiked_tensor(24, Prior::Rademacher, 0.4, 4),
        Disorder::spiked_tensor(20, Prior::SparseRademacher { rho: 0.5 }, 0.3, 5),
    ]
}

#[test]
fn incremental_fields_and_weight_match_recomputation() {
    for d in cases() {
        let model = SpinModel::<f64>::new(&d);
        for rule in [Rule::Metropolis, Rule::HeatBath] {
            let mut state = random_state(&model, &d, 7);
            let mut rng = rng::stream(9, "chain", 0);
            for _ in 0..200 {
                state.sweep(&model, rule, 0.8, &mut rng);
            }
            let fresh = SpinState::new(&model, state.spins().to_vec());
            let x: Vec<f64> = state.spins().iter().map(|&v| v as f64).collect();
            assert!((state.log_weight() - d.log_weight(&x)).abs() < 1e-9 * (1.0 + d.log_weight(&x).abs()));
            assert!((state.log_weight() - fresh.log_weight()).abs() < 1e-9);
            for i in 0..d.n {
                assert!((state.field(i) - fresh.field(i)).abs() < 1e-9, "{:?} site {i}", d.family);
            }
        }
    }
}

#[test]
fn batched_sweep_is_bit_identical_to_site_by_site() {
    let d = Disorder::sk(150, 0.9, 11);
    let model = SpinModel::<f32>::new(&d);
    for rule in [Rule::Metropolis, Rule::HeatBath] {
        let mut a = random_state(&model, &d, 1);
        let mut b = a.clone();
        let (mut ra, mut rb) = (rng::stream(2, "chain", 0), rng::stream(2, "chain", 0));
        for _ in 0..50 {
            assert_eq!(a.sweep(&model, rule, 1.0, &mut ra), b.sweep_general(&model, rule, 1.0, &mut rb));
        }
        assert_eq!(a.spins(), b.spins());
        assert_eq!(a.log_weight().to_bits(), b.log_weight().to_bits());
        assert!((0..d.n).all(|i| a.field(i).to_bits() == b.field(i).to_bits()));
    }
}

#[test]
fn f32_couplings_track_f64_closely() {
    let d = Disorder::sk(100, 1.0, 5);
    let (m64, m32) = (SpinModel::<f64>::new(&d), SpinModel::<f32>::new(&d));
    let s64 = random_state(&m64, &d, 3);
    let s32 = random_state(&m32, &d, 3);
    assert!((s64.log_weight() - s32.log_weight()).abs() < 1e-5);
}
