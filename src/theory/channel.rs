//! SE scalar functions of the Gaussian channel `B = lam x0 + sqrt(lam) z`, `A = lam`,
//! by direct quadrature: `ov = E[x0 f]`, `dov = ov' = E[f_v^2]`, `mmse = E0 - ov = E[f_v]`
//! (computed without cancellation) and `psi = E logZ` (PHYSICS.md section 3).

use super::prior::Prior;
use super::quadrature::{gauss_hermite, trapezoid, Rule};
use super::TheoryError;

/// The four SE scalar functions at one `lam`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChannelStats {
    /// `ov(lam) = E[x0 f]` (= `E[f^2]` by Nishimori)
    pub ov: f64,
    /// `ov'(lam) = E[f_v^2]`
    pub dov: f64,
    /// `E0 - ov(lam) = E[f_v]`
    pub mmse: f64,
    /// `psi(lam) = E logZ`; `psi' = ov / 2`
    pub psi: f64,
}

/// Closed forms for the Gaussian prior.
pub fn gaussian_stats(lam: f64) -> ChannelStats {
    let d = 1.0 + lam;
    ChannelStats { ov: lam / d, dov: 1.0 / (d * d), mmse: 1.0 / d, psi: 0.5 * lam - 0.5 * lam.ln_1p() }
}

/// SE scalar functions with an explicit rule for `E_z`.
pub fn stats_with_rule(prior: &Prior, lam: f64, rule: &Rule) -> ChannelStats {
    let lam = lam.max(0.0);
    match *prior {
        Prior::Gaussian => gaussian_stats(lam),
        Prior::Rademacher => class_sums(prior, lam, 1.0, rule),
        Prior::SparseRademacher { rho } => {
            let one = class_sums(prior, lam, 1.0, rule);
            let zero = class_sums(prior, lam, 0.0, rule);
            ChannelStats {
                ov: rho * one.ov,
                dov: rho * one.dov + (1.0 - rho) * zero.dov,
                mmse: rho * one.mmse + (1.0 - rho) * zero.mmse,
                psi: rho * one.psi + (1.0 - rho) * zero.psi,
            }
        }
    }
}

/// Sums over `z` for one planted value `x0` (by symmetry `+1` stands for `+-1`).
fn class_sums(prior: &Prior, lam: f64, x0: f64, rule: &Rule) -> ChannelStats {
    let s = lam.sqrt();
    let mut acc = [0.0_f64; 4];
    for (&z, &w) in rule.nodes.iter().zip(&rule.weights) {
        let post = prior.posterior(lam * x0 + s * z, lam);
        acc[0] += w * x0 * post.f;
        acc[1] += w * post.f_v * post.f_v;
        acc[2] += w * post.f_v;
        acc[3] += w * post.log_z;
    }
    ChannelStats { ov: acc[0], dov: acc[1], mmse: acc[2], psi: acc[3] }
}

/// SE scalar functions with probabilists' Gauss–Hermite of order `n` (>= 81). Accurate
/// to about 1e-8 for `lam <= 30` at n = 81; the transition layer of width `1/sqrt(lam)`
/// limits it at large `lam` (use [`stats_accurate`] there).
pub fn stats_gh(prior: &Prior, lam: f64, n: usize) -> Result<ChannelStats, TheoryError> {
    let rule = gauss_hermite(n)?;
    Ok(stats_with_rule(prior, lam, &rule))
}

/// Trapezoid step that resolves the transition layer of `prior`'s denoiser (strip
/// half-width about `pi/(2 sqrt(lam))`; step `0.2/sqrt(lam)` gives ~1e-15 absolute).
pub fn layer_step(prior: &Prior, lam: f64) -> f64 {
    let s = lam.max(0.0).sqrt();
    // The layers sit at z = -s (Rademacher) or z = +-s/2 (sparse); beyond s_cut their
    // Gaussian weight is below 1e-21 and the plain step suffices.
    let s_cut = match prior {
        Prior::Rademacher => 10.0,
        _ => 20.0,
    };
    if s >= s_cut {
        0.5
    } else {
        (0.2 / s).min(0.5)
    }
}

/// SE scalar functions to about 1e-15 (absolute), by the layer-adapted trapezoid rule.
pub fn stats_accurate(prior: &Prior, lam: f64) -> Result<ChannelStats, TheoryError> {
    if !lam.is_finite() || lam < 0.0 {
        return Err(TheoryError::InvalidParameter(format!("channel SNR lam = {lam} must be finite and >= 0")));
    }
    if *prior == Prior::Gaussian {
        return Ok(gaussian_stats(lam));
    }
    let rule = trapezoid(layer_step(prior, lam))?;
    Ok(stats_with_rule(prior, lam, &rule))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRIORS: [Prior; 3] =
        [Prior::Rademacher, Prior::SparseRademacher { rho: 0.08 }, Prior::SparseRademacher { rho: 0.5 }];

    fn acc(prior: &Prior, lam: f64) -> ChannelStats {
        stats_accurate(prior, lam).unwrap()
    }

    #[test]
    fn gh_and_layer_trapezoid_agree() {
        for prior in PRIORS {
            for lam in [0.01, 0.3, 1.0, 3.0, 8.0] {
                let a = acc(&prior, lam);
                let g = stats_gh(&prior, lam, 201).unwrap();
                assert!((a.ov - g.ov).abs() < 1e-9, "{prior:?} lam={lam}");
                assert!((a.psi - g.psi).abs() < 1e-9, "{prior:?} lam={lam}");
            }
        }
    }

    #[test]
    fn trapezoid_converged_against_half_step() {
        for prior in PRIORS {
            for lam in [0.05, 2.0, 13.0, 40.0, 150.0] {
                let a = acc(&prior, lam);
                let fine = stats_with_rule(&prior, lam, &trapezoid(layer_step(&prior, lam) / 2.0).unwrap());
                for (x, y) in [(a.ov, fine.ov), (a.dov, fine.dov), (a.mmse, fine.mmse)] {
                    assert!((x - y).abs() < 2e-15, "{prior:?} lam={lam}: {x} vs {y}");
                }
                assert!((a.psi - fine.psi).abs() < 1e-13 * (1.0 + a.psi.abs()));
            }
        }
    }

    #[test]
    fn i_mmse_and_derivative_identities() {
        // psi'(lam) = ov/2 and ov'(lam) = E[f_v^2], by central differences.
        for prior in PRIORS {
            for lam in [0.2, 1.0, 2.5, 7.0] {
                let h = 1e-4;
                let (lo, mid, hi) = (acc(&prior, lam - h), acc(&prior, lam), acc(&prior, lam + h));
                let dpsi = (hi.psi - lo.psi) / (2.0 * h);
                let dov = (hi.ov - lo.ov) / (2.0 * h);
                assert!((dpsi - mid.ov / 2.0).abs() < 1e-8, "{prior:?} lam={lam}");
                assert!((dov - mid.dov).abs() < 1e-8, "{prior:?} lam={lam}");
                assert!((mid.ov + mid.mmse - prior.e0()).abs() < 1e-14);
            }
        }
    }

    #[test]
    fn nishimori_ov_equals_e_f_squared_and_small_lam_slope() {
        let rule = trapezoid(layer_step(&Prior::Rademacher, 3.0)).unwrap();
        let s = 3.0_f64.sqrt();
        let ef2 = rule.expect(|z| (3.0 + s * z).tanh().powi(2));
        assert!((acc(&Prior::Rademacher, 3.0).ov - ef2).abs() < 1e-14);
        // ov'(0) = E0^2
        let sp = Prior::SparseRademacher { rho: 0.08 };
        assert!((acc(&sp, 0.0).dov - 0.0064).abs() < 1e-15);
    }

    #[test]
    fn gaussian_closed_forms_satisfy_identities() {
        let lam = 0.7;
        let g = gaussian_stats(lam);
        let h = 1e-5;
        let d = (gaussian_stats(lam + h).psi - gaussian_stats(lam - h).psi) / (2.0 * h);
        assert!((d - g.ov / 2.0).abs() < 1e-10);
        let d = (gaussian_stats(lam + h).ov - gaussian_stats(lam - h).ov) / (2.0 * h);
        assert!((d - g.dov).abs() < 1e-10);
        assert!(stats_accurate(&Prior::Gaussian, -1.0).is_err());
    }
}
