//! Verdicts against a per-instance reference, end to end on small instances:
//! a Metropolis reference started at x* (init = planted) reproduces exact
//! enumeration, below T_d too (on the Nishimori line x* is an equilibrium
//! sample); `eval::compare` with that reference calls exact independent
//! samples `consistent` (or at most rarely `biased`) and samples drawn at a
//! wrong temperature `biased`; and the theory's predictions sit beside them.

mod common;

use quench::eval::compare::{compare, Settings};
use quench::eval::exact::enumerate;
use quench::eval::samples::{SampleChain, Samples};
use quench::eval::verdict::{Prediction, Thresholds, Verdict};
use quench::models::{delta_from_temperature, Disorder, Prior};
use quench::observe::Silent;
use quench::rng::stream;
use quench::samplers::metropolis::{self, MetropolisParams};
use quench::samplers::{Init, Precision, Rule, SpinRun};
use rand::Rng as _;

fn reference_params(chains: usize, sweeps: u64) -> MetropolisParams {
    MetropolisParams {
        chains,
        sweeps,
        burn_in: 100,
        record_every: 2,
        init: Init::Planted,
        rule: Rule::Metropolis,
        precision: Precision::F64,
    }
}

#[test]
fn planted_start_reference_reproduces_exact_enumeration() {
    // p = 3, n = 12 at T = 0.6, below T_d = 0.682: x* is an equilibrium start.
    let d = Disorder::spiked_tensor(12, Prior::Rademacher, delta_from_temperature(3, 0.6), 31);
    let exact = enumerate(&d).unwrap();
    let run = metropolis::run(&d, &reference_params(16, 40_000), 5, &Silent).unwrap();
    common::assert_agrees("planted start", &run, &exact, 4.5);
}

/// `k` independent exact draws from the Gibbs measure of `d` at temperature
/// `t` (the instance's own temperature for an exact sampler), by inversion
/// over the enumerated configurations.
fn exact_draws(d: &Disorder, t: f64, k: usize, seed: u64) -> Samples {
    let n = d.n;
    let configs: Vec<Vec<f64>> =
        (0..1u32 << n).map(|s| (0..n).map(|i| if s >> i & 1 == 1 { 1.0 } else { -1.0 }).collect()).collect();
    let energies: Vec<f64> = configs.iter().map(|x| d.energy_per_spin(x)).collect();
    let low = energies.iter().copied().fold(f64::INFINITY, f64::min);
    let weights: Vec<f64> = energies.iter().map(|e| (-(e - low) * n as f64 / t).exp()).collect();
    let total: f64 = weights.iter().sum();
    let mut rng = stream(seed, "exact-draws", 0);
    let chains = (0..k)
        .map(|_| {
            let mut u = rng.random::<f64>() * total;
            let pick = weights.iter().position(|w| {
                u -= w;
                u <= 0.0
            });
            let s = pick.unwrap_or(weights.len() - 1);
            SampleChain {
                configurations: configs[s].iter().map(|&v| v as f32).collect(),
                energy: vec![energies[s]],
                acceptance: None,
            }
        })
        .collect();
    Samples {
        sampler: "sample.diffusion".into(),
        n,
        markov: false,
        chains,
        record_at: Vec::new(),
        traces: Vec::new(),
        notes: Vec::new(),
    }
}

fn markov_samples(run: SpinRun) -> Samples {
    Samples::from_spin_run("sample.metropolis", run, vec![("init_planted".into(), 1.0)])
}

/// Over 12 instances (n = 12) at T = 0.9 (above every transition: everything
/// is predicted to work), 256 exact draws against 32 planted-start chains,
/// tolerance 0.08 (energies per spin fluctuate by ~0.3 at n = 12): exact
/// samples are `biased` at most twice (the
/// family-wise false-alarm rate is alpha = 0.05 per instance, so 12 instances
/// give 0.6 false alarms on average; P(>= 3) = 0.02); samples drawn at T = 1.3
/// are `biased` on every instance.
#[test]
fn exact_samples_are_consistent_and_wrong_temperature_samples_biased() {
    let t = 0.9;
    let th = Thresholds { alpha: 0.05, tolerance: 0.08 };
    let (mut false_alarms, mut consistent, mut detected) = (0, 0, 0);
    let instances = 12;
    for inst in 0..instances {
        let d = Disorder::spiked_tensor(12, Prior::Rademacher, delta_from_temperature(3, t), 100 + inst);
        let reference = markov_samples(metropolis::run(&d, &reference_params(32, 4000), inst, &Silent).unwrap());
        let good = exact_draws(&d, t, 256, inst);
        let bad = exact_draws(&d, 1.3, 256, inst);
        let settings = Settings { reference: Some(0), thresholds: th, permutations: 199, seed: inst };
        let c = compare(&d, &[("reference", &reference), ("good", &good), ("bad", &bad)], &settings, &Silent).unwrap();
        assert!(c.rows[0].vs_reference.is_none());
        assert_eq!(c.rows[0].predicted.prediction, Some(Prediction::Works));
        assert_eq!(c.rows[1].predicted.prediction, Some(Prediction::Works), "{:?}", c.rows[1].predicted);
        let good_v = c.rows[1].verdict().unwrap();
        let bad_v = c.rows[2].verdict().unwrap();
        let vs = c.rows[1].vs_reference.as_ref().unwrap();
        eprintln!(
            "instance {inst}: good {good_v:?} ({}), bad {bad_v:?} ({})",
            vs.decision.decided_by,
            c.rows[2].vs_reference.as_ref().unwrap().decision.decided_by
        );
        assert_eq!(vs.decision.tests, 3);
        false_alarms += usize::from(good_v == Verdict::Biased);
        consistent += usize::from(good_v == Verdict::Consistent);
        detected += usize::from(bad_v == Verdict::Biased);
        if good_v == Verdict::Consistent {
            assert_eq!(c.rows[1].agrees, Some(true));
        }
        if bad_v == Verdict::Biased {
            assert_eq!(c.rows[2].agrees, Some(false), "biased but predicted to work: they disagree");
        }
    }
    assert!(false_alarms <= 2, "{false_alarms} false alarms in {instances} instances");
    assert!(consistent >= instances as usize - 3, "only {consistent} consistent");
    assert_eq!(detected, instances as usize, "a wrong temperature was missed");
}

#[test]
fn predictions_follow_the_transitions_of_the_ising_3_spin_model() {
    // T = 0.71: between T_d = 0.682 and the end points (0.741 / 0.759).
    let d = Disorder::spiked_tensor(12, Prior::Rademacher, delta_from_temperature(3, 0.71), 1);
    let theory = quench::eval::verdict::Theory::of(&d);
    let diffusion = theory.predict("sample.diffusion", None);
    assert_eq!(diffusion.prediction, Some(Prediction::Fails), "{diffusion:?}");
    assert!(diffusion.at.is_some_and(|t| t > 0.0));
    assert_eq!(theory.predict("sample.autoregressive", None).prediction, Some(Prediction::Fails));
    assert_eq!(theory.predict("sample.metropolis", Some(false)).prediction, Some(Prediction::Works));
    // T = 0.66 < T_d: a random start fails, a planted one works.
    let d = Disorder::spiked_tensor(12, Prior::Rademacher, delta_from_temperature(3, 0.66), 1);
    let theory = quench::eval::verdict::Theory::of(&d);
    assert_eq!(theory.predict("sample.metropolis", Some(false)).prediction, Some(Prediction::Fails));
    assert_eq!(theory.predict("sample.metropolis", Some(true)).prediction, Some(Prediction::Works));
    // T = 0.8: above both end points.
    let d = Disorder::spiked_tensor(12, Prior::Rademacher, delta_from_temperature(3, 0.8), 1);
    let theory = quench::eval::verdict::Theory::of(&d);
    assert_eq!(theory.predict("sample.diffusion", None).prediction, Some(Prediction::Works));
    assert_eq!(theory.predict("sample.autoregressive", None).prediction, Some(Prediction::Works));
    // Planted SK: continuous transition, everything works.
    let d = Disorder::spiked_matrix(12, Prior::Rademacher, delta_from_temperature(2, 0.7), 1);
    let theory = quench::eval::verdict::Theory::of(&d);
    for s in ["sample.diffusion", "sample.flow", "sample.autoregressive", "sample.metropolis"] {
        assert_eq!(theory.predict(s, Some(false)).prediction, Some(Prediction::Works), "{s}");
    }
    assert_eq!(theory.predict("sample.autoregressive-net", None).prediction, None);
}

#[test]
fn a_reference_that_is_not_an_input_is_refused_at_validation() {
    use quench::pipeline::{Pipeline, Source};
    let text = |reference: &str| {
        format!(
            "[stage.inst]\nkind = \"disorder.spiked-tensor\"\nn = 8\ntemperature = 0.8\n\
             [stage.mcmc]\nkind = \"sample.metropolis\"\ninputs = [\"inst\"]\nchains = 2\nsweeps = 8\nburn_in = 2\nrecord_every = 2\n\
             [stage.cmp]\nkind = \"eval.compare\"\ninputs = [\"inst\", \"mcmc\"]\nreference = {reference}\n"
        )
    };
    let load =
        |r: &str| Pipeline::from_source(&Source::new(std::path::Path::new("p.toml"), text(r)), quench::stages::CATALOG);
    let refused = |r: &str| match load(r) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("reference = {r} was accepted"),
    };
    let e = refused("\"mcmcc\"");
    assert!(e.contains("stage `cmp`") && e.contains("\"mcmcc\" is not an input of this stage"), "{e}");
    assert!(e.contains("\"inst\", \"mcmc\""), "{e}");
    let e = refused("3");
    assert!(e.contains("parameter `reference`"), "{e}");
    assert!(load("\"mcmc\"").is_ok());
}
