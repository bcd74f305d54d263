//! The verdict on one sampler against a reference sampler on the same
//! instance, and the theory's prediction beside it.
//!
//! Measurement (`decide`): up to three tests, each giving a two-sided p-value
//! under "the sampler samples the reference's distribution":
//! - energy: Welch's t on the difference of mean energies per spin, with the
//!   autocorrelation-aware errors of `compare` (batch means over chains for
//!   Markov chains, `chains - 1` degrees of freedom; plain standard errors for
//!   independent samples, `samples - 1`), Welch-Satterthwaite degrees of freedom;
//! - overlap: KS permutation test of the overlap-with-x* distributions;
//! - P(q): KS permutation test of the overlap distributions between samples.
//!
//! With `m` tests run, the sampler is `biased` when some p < `alpha / m`
//! (Bonferroni: the false-alarm rate of the verdict is at most `alpha`).
//! Otherwise the smallest energy bias the data could have detected is
//! `(t_crit + 1) se`, with `t_crit` the two-sided `alpha / m` critical value
//! (a true bias that large is flagged with probability about 84%): the
//! sampler is `consistent` when that is at most `tolerance`, `inconclusive`
//! when it is larger (too few samples to tell a bias of `tolerance` from none).
//!
//! Prediction (`predict`): for diffusion and flow samplers, whether state
//! evolution puts a first-order transition on the diffusion path (and where,
//! in t); for the autoregressive sampler, on the decimation path; for Markov
//! chains, whether T is above the dynamical temperature T_d (a chain started
//! at x*, on the Nishimori line an equilibrium sample, works at any T).

use serde::{Deserialize, Serialize};

use super::se_model::se_model_of;
use super::stats::{student_t_critical, student_t_p_value};
use super::two_sample::TwoSample;
use crate::models::{Disorder, Family};
use crate::theory::{self, Path};

/// What the measurement says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Consistent,
    Biased,
    Inconclusive,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Consistent => "consistent",
            Verdict::Biased => "biased",
            Verdict::Inconclusive => "inconclusive",
        }
    }
}

/// What the theory says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Prediction {
    Works,
    Fails,
}

impl Prediction {
    pub fn name(self) -> &'static str {
        match self {
            Prediction::Works => "works",
            Prediction::Fails => "fails",
        }
    }
}

/// The thresholds of the verdict.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// Family-wise false-alarm rate.
    pub alpha: f64,
    /// Largest energy bias per spin that counts as none.
    pub tolerance: f64,
}

/// A difference of means with its standard error and degrees of freedom.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Difference {
    pub value: f64,
    pub stderr: f64,
    pub dof: f64,
}

/// Welch's difference `a - b` of two means with errors `(mean, err, dof)`.
pub fn welch(a: (f64, f64, f64), b: (f64, f64, f64)) -> Difference {
    let (va, vb) = (a.1 * a.1, b.1 * b.1);
    let var = va + vb;
    let dof = var * var / (va * va / a.2 + vb * vb / b.2);
    Difference { value: a.0 - b.0, stderr: var.sqrt(), dof: if dof.is_finite() { dof } else { f64::INFINITY } }
}

/// The measured verdict and what decided it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub verdict: Verdict,
    /// The statistic that decided it, in words.
    pub decided_by: String,
    /// Smallest energy bias per spin the data could have detected.
    pub detectable_bias: Option<f64>,
    /// Tests run (Bonferroni divides `alpha` by it).
    pub tests: usize,
}

/// Applies the rule of the module doc to the energy difference and the
/// two-sample tests that could be made (named).
pub fn decide(energy: Option<Difference>, others: &[(&str, TwoSample)], th: Thresholds) -> Decision {
    let energy = energy.filter(|d| d.stderr.is_finite() && d.stderr > 0.0 && d.dof > 0.0);
    let mut tests: Vec<(String, f64)> = Vec::new();
    if let Some(d) = energy {
        let t = d.value / d.stderr;
        tests.push((
            format!("energy t = {t:+.2} (dof {:.0}), p = {:.2e}", d.dof, student_t_p_value(t, d.dof)),
            student_t_p_value(t, d.dof),
        ));
    }
    for (name, r) in others {
        tests.push((format!("{name} KS D = {:.3}, p = {:.2e}", r.statistic, r.p_value), r.p_value));
    }
    let m = tests.len();
    if m == 0 {
        return Decision {
            verdict: Verdict::Inconclusive,
            decided_by: "no test possible (too few samples)".into(),
            detectable_bias: None,
            tests: 0,
        };
    }
    let level = th.alpha / m as f64;
    let detectable_bias = energy.map(|d| (student_t_critical(level, d.dof) + 1.0) * d.stderr);
    let (smallest, p) = tests.iter().min_by(|a, b| a.1.total_cmp(&b.1)).cloned().unwrap_or_default();
    let (verdict, decided_by) = if p < level {
        (Verdict::Biased, format!("{smallest} < {level:.2e}"))
    } else {
        match detectable_bias {
            Some(b) if b <= th.tolerance => (Verdict::Consistent, format!("{smallest} >= {level:.2e}")),
            Some(b) => (Verdict::Inconclusive, format!("detectable bias {b:.4} > tolerance {}", th.tolerance)),
            None => (Verdict::Inconclusive, "no energy error: the detectable bias is unknown".into()),
        }
    };
    Decision { verdict, decided_by, detectable_bias, tests: m }
}

/// The theory's prediction for one sampler, with its reason and, for a
/// first-order transition on a path, where it sits (path variable t).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Predicted {
    pub prediction: Option<Prediction>,
    pub why: String,
    pub at: Option<f64>,
}

fn null(why: impl Into<String>) -> Predicted {
    Predicted { prediction: None, why: why.into(), at: None }
}

/// What the theory needs about an instance, computed once per comparison.
pub struct Theory {
    model: Option<theory::Model>,
    temperature: f64,
    /// `(T_d, continuous)` of the static transitions.
    dynamical: Option<(f64, bool)>,
    paths: [Option<Option<theory::Transition>>; 2],
}

impl Theory {
    pub fn of(d: &Disorder) -> Theory {
        let model = if d.family == Family::Sk { None } else { se_model_of(d) };
        let dynamical =
            model.and_then(|m| theory::static_transitions(m.p, &m.prior).ok()).map(|s| (s.temperature_d, s.continuous));
        let paths = [Path::Diffusion, Path::Decimation].map(|p| model.and_then(|m| theory::transition(&m, p).ok()));
        Theory { model, temperature: d.temperature, dynamical, paths }
    }

    fn path(&self, path: Path, name: &str) -> Predicted {
        let slot = if path == Path::Diffusion { 0 } else { 1 };
        match self.paths[slot] {
            None => null(format!("no SE solution on the {name} path")),
            Some(None) => Predicted {
                prediction: Some(Prediction::Works),
                why: format!("no first-order transition on the {name} path"),
                at: None,
            },
            Some(Some(tr)) => Predicted {
                prediction: Some(Prediction::Fails),
                why: format!(
                    "first-order transition on the {name} path at t = {:.4} (AMP's branch jumps at {:.4})",
                    tr.first_order_t, tr.spinodal_high_t
                ),
                at: Some(tr.first_order_t),
            },
        }
    }

    /// The prediction for samples of kind `sampler` (`init_planted`: a chain started at x*).
    pub fn predict(&self, sampler: &str, init_planted: Option<bool>) -> Predicted {
        if self.model.is_none() {
            return null("no planted signal: state evolution does not cover this instance");
        }
        match sampler {
            "sample.diffusion" | "sample.flow" => self.path(Path::Diffusion, "diffusion"),
            "sample.autoregressive" => self.path(Path::Decimation, "decimation"),
            "sample.metropolis" | "sample.langevin" | "sample.parallel-tempering" => {
                if init_planted == Some(true) {
                    return Predicted {
                        prediction: Some(Prediction::Works),
                        why: "started at x*, an equilibrium sample on the Nishimori line".into(),
                        at: None,
                    };
                }
                match self.dynamical {
                    None => null("no dynamical temperature from state evolution"),
                    Some((_, true)) => Predicted {
                        prediction: Some(Prediction::Works),
                        why: "continuous transition: no dynamical glass transition".into(),
                        at: None,
                    },
                    Some((td, false)) if self.temperature > td => Predicted {
                        prediction: Some(Prediction::Works),
                        why: format!("T = {} above T_d = {td:.4}", self.temperature),
                        at: None,
                    },
                    Some((_, false)) if sampler == "sample.parallel-tempering" => {
                        null("below T_d: parallel tempering's success depends on its ladder")
                    }
                    Some((td, false)) => Predicted {
                        prediction: Some(Prediction::Fails),
                        why: format!("T = {} below T_d = {td:.4}: a random start stays uninformed", self.temperature),
                        at: None,
                    },
                }
            }
            other => null(format!("`{other}`: no theory for this sampler (learned or unknown)")),
        }
    }
}

/// Whether measurement and prediction agree: None when either is missing or
/// the measurement is inconclusive.
pub fn agrees(verdict: Option<Verdict>, predicted: Option<Prediction>) -> Option<bool> {
    match (verdict?, predicted?) {
        (Verdict::Inconclusive, _) => None,
        (v, p) => Some((v == Verdict::Consistent) == (p == Prediction::Works)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::stream;
    use rand_distr::{Distribution, StandardNormal};

    /// Means with plain standard errors of `k` Gaussian samples of width `sigma`.
    fn sample(rng: &mut crate::rng::Rng, k: usize, shift: f64, sigma: f64) -> (f64, f64, f64) {
        let x: Vec<f64> = (0..k)
            .map(|_| {
                let z: f64 = StandardNormal.sample(rng);
                shift + sigma * z
            })
            .collect();
        let m = super::super::stats::mean(&x);
        (m, super::super::stats::standard_error(&x), (k - 1) as f64)
    }

    const TH: Thresholds = Thresholds { alpha: 0.01, tolerance: 0.02 };

    /// Unbiased samplers (16 samples against 64, width 0.01): `biased` at
    /// most at the rate alpha (binomial error over 2000 seeds: 0.0022),
    /// `consistent` otherwise, `inconclusive` only when the estimated error is
    /// unusually large (the detectable bias, ~(3.3 + 1) x 0.0028 = 0.012, is
    /// under the tolerance 0.02 except in the far tail).
    #[test]
    fn no_bias_is_called_consistent_at_the_documented_rate() {
        let seeds = 2000;
        let (mut biased, mut consistent) = (0, 0);
        for seed in 0..seeds {
            let mut rng = stream(seed, "verdict", 0);
            let reference = sample(&mut rng, 64, -0.5, 0.01);
            let tested = sample(&mut rng, 16, -0.5, 0.01);
            let d = decide(Some(welch(tested, reference)), &[], TH);
            biased += usize::from(d.verdict == Verdict::Biased);
            consistent += usize::from(d.verdict == Verdict::Consistent);
        }
        let rate = biased as f64 / seeds as f64;
        assert!(rate < 0.01 + 3.0 * 0.0022, "false-alarm rate {rate}");
        assert!(rate > 0.002, "false-alarm rate {rate}: the test is far below its level");
        assert!(biased + consistent >= seeds as usize - 20, "{} inconclusive", seeds as usize - biased - consistent);
    }

    /// A bias of twice the detectable size is called `biased` essentially
    /// always; one of exactly the detectable size at least ~84% of the time.
    #[test]
    fn a_known_bias_is_called_biased() {
        let seeds = 1000;
        let (mut at_twice, mut at_once) = (0, 0);
        for seed in 0..seeds {
            let mut rng = stream(seed, "verdict", 1);
            let reference = sample(&mut rng, 64, -0.5, 0.015);
            let probe = decide(Some(welch(sample(&mut rng, 16, -0.5, 0.015), reference)), &[], TH);
            let b = probe.detectable_bias.unwrap();
            let mut rng = stream(seed, "verdict", 2);
            let once = decide(Some(welch(sample(&mut rng, 16, -0.5 + b, 0.015), reference)), &[], TH);
            let twice = decide(Some(welch(sample(&mut rng, 16, -0.5 + 2.0 * b, 0.015), reference)), &[], TH);
            at_once += usize::from(once.verdict == Verdict::Biased);
            at_twice += usize::from(twice.verdict == Verdict::Biased);
            assert!(twice.verdict != Verdict::Consistent || twice.detectable_bias.unwrap() < 2.0 * b);
        }
        let (once, twice) = (at_once as f64 / seeds as f64, at_twice as f64 / seeds as f64);
        assert!(once > 0.75, "power at the detectable bias {once}");
        assert!(twice > 0.99, "power at twice the detectable bias {twice}");
    }

    #[test]
    fn too_few_samples_are_inconclusive_and_bonferroni_divides_alpha() {
        let wide = Difference { value: 0.0, stderr: 0.05, dof: 15.0 };
        let d = decide(Some(wide), &[], TH);
        assert_eq!(d.verdict, Verdict::Inconclusive);
        assert!(d.decided_by.contains("detectable bias"));
        // p = 0.004 is below alpha = 0.01 alone but not below 0.01 / 3.
        let ks = TwoSample { statistic: 0.4, p_value: 0.004 };
        let narrow = Difference { value: 0.0, stderr: 0.001, dof: 100.0 };
        assert_eq!(decide(Some(narrow), &[("overlap", ks)], TH).verdict, Verdict::Biased);
        assert_eq!(decide(Some(narrow), &[("overlap", ks), ("P(q)", ks)], TH).verdict, Verdict::Consistent);
        assert_eq!(decide(None, &[], TH).verdict, Verdict::Inconclusive);
        assert_eq!(agrees(Some(Verdict::Biased), Some(Prediction::Fails)), Some(true));
        assert_eq!(agrees(Some(Verdict::Consistent), Some(Prediction::Fails)), Some(false));
        assert_eq!(agrees(Some(Verdict::Inconclusive), Some(Prediction::Works)), None);
    }
}
