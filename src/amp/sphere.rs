//! The spherical denoiser at finite dimension: the posterior of `d` free
//! coordinates constrained to the sphere `|x|^2 = R^2` (with `R^2 = N -
//! |x_fixed|^2` once some coordinates are fixed) under a field `h`, the
//! von Mises-Fisher law `∝ exp(h.x)` on that sphere.
//!
//! With `kappa = R |h|`, `mu = h / |h|` and the Bessel ratio
//! `A_d(kappa) = I_{d/2}(kappa) / I_{d/2-1}(kappa)`:
//!
//! ```text
//! E x      = R A_d(kappa) mu                  = g h,   g = R^2 A_d / kappa
//! Cov x    = R^2 [A_d' mu mu^T + (A_d / kappa)(I - mu mu^T)],  A_d' = 1 - A_d^2 - (d-1) A_d / kappa
//! tr Cov   = R^2 - |E x|^2
//! ```
//!
//! so `v_i = Cov_ii` and the Onsager sum `sum_i v_i = R^2 - |x̂|^2` are exact. For
//! `d, kappa -> inf` the gain tends to PHYSICS.md's `g = 2 R^2 / (d + sqrt(d^2 +
//! 4 R^2 |h|^2))` (Amos' lower bound on `A_d`); the two differ at relative
//! order `1/d`, which matters at the end of a decimation, where few coordinates
//! are free. One coordinate's marginal is drawn exactly (Wood's rejection
//! sampler for the component along `mu`, a uniform direction orthogonal to it;
//! `d = 1`: `±R`), so a decimated configuration lies on the sphere by
//! construction.

use rand::Rng as _;
use rand_distr::{Beta, Distribution, StandardNormal};

use crate::rng::Rng;

/// Above this `kappa` (and `kappa > 100 (nu + 1)`) `A_d` is the midpoint of Amos' bounds.
const ASYMPTOTIC_KAPPA: f64 = 1e4;

/// `I_{nu+1}(kappa) / I_nu(kappa)` for `nu >= -1/2`, `kappa >= 0` (Gauss continued
/// fraction, modified Lentz; the midpoint of Amos' bounds for very large `kappa`).
pub fn bessel_ratio(nu: f64, kappa: f64) -> f64 {
    assert!(nu >= -0.5 && kappa >= 0.0, "bessel_ratio({nu}, {kappa})");
    if kappa == 0.0 {
        return 0.0;
    }
    if kappa > ASYMPTOTIC_KAPPA && kappa > 100.0 * (nu + 1.0) {
        // Midpoint of Amos' bounds: their errors cancel to O(nu^2 / kappa^3) (relative 1e-9 at kappa = 1e4).
        let lower = kappa / (nu + 0.5 + (kappa * kappa + (nu + 1.5) * (nu + 1.5)).sqrt());
        let upper = kappa / (nu + 0.5 + (kappa * kappa + (nu + 0.5) * (nu + 0.5)).sqrt());
        return 0.5 * (lower + upper);
    }
    const TINY: f64 = 1e-300;
    let (mut f, mut c, mut d) = (TINY, TINY, 0.0);
    for k in 1..1_000_000 {
        let b = 2.0 * (nu + k as f64) / kappa;
        d += b;
        if d == 0.0 {
            d = TINY;
        }
        c = b + 1.0 / c;
        if c == 0.0 {
            c = TINY;
        }
        d = 1.0 / d;
        let delta = c * d;
        f *= delta;
        if (delta - 1.0).abs() < 1e-16 {
            break;
        }
    }
    f
}

/// The von Mises-Fisher posterior of `free` coordinates on the sphere of
/// radius^2 `radius2` under a field of squared norm `h_norm2`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SphereChannel {
    /// `x̂ = gain h`; also the variance across `mu` (`R^2 A_d / kappa`).
    pub gain: f64,
    /// The variance along `mu` (`R^2 A_d'`).
    pub along: f64,
    /// `R |h|`.
    pub kappa: f64,
    /// `R^2`.
    pub radius2: f64,
    pub free: usize,
}

impl SphereChannel {
    pub fn new(h_norm2: f64, free: usize, radius2: f64) -> SphereChannel {
        let radius2 = radius2.max(0.0);
        let kappa = (radius2 * h_norm2).sqrt();
        if free == 0 || radius2 == 0.0 {
            return SphereChannel { gain: 0.0, along: 0.0, kappa, radius2, free };
        }
        let d = free as f64;
        if kappa == 0.0 {
            return SphereChannel { gain: radius2 / d, along: radius2 / d, kappa, radius2, free };
        }
        let a = bessel_ratio(d / 2.0 - 1.0, kappa);
        let along = radius2 * (1.0 - a * a - (d - 1.0) * a / kappa).max(0.0);
        SphereChannel { gain: radius2 * a / kappa, along, kappa, radius2, free }
    }

    /// `Cov_ii` for a coordinate with field `h_i` (`h_norm2` as given to `new`).
    pub fn variance(&self, h_i: f64, h_norm2: f64) -> f64 {
        if h_norm2 == 0.0 {
            return self.gain;
        }
        let mu2 = h_i * h_i / h_norm2;
        self.along * mu2 + self.gain * (1.0 - mu2)
    }

    /// One exact draw of coordinate `i` of the law (`h` holds the field of
    /// every coordinate; `free(j)` says which are free, `i` among them).
    pub fn draw_coordinate(&self, h: &[f64], free: impl Fn(usize) -> bool, i: usize, rng: &mut Rng) -> f64 {
        let radius = self.radius2.sqrt();
        if self.free == 0 || radius == 0.0 {
            return 0.0;
        }
        let h_norm = h.iter().enumerate().filter(|&(j, _)| free(j)).map(|(_, v)| v * v).sum::<f64>().sqrt();
        if self.free == 1 {
            // Two points `±R` with weights `exp(±R h_i)`.
            let p_plus = 0.5 * (1.0 + (radius * h[i]).tanh());
            return if rng.random::<f64>() < p_plus { radius } else { -radius };
        }
        let w = wood(self.free, self.kappa, rng);
        if h_norm == 0.0 {
            return radius * w;
        }
        // A uniform unit vector orthogonal to mu, coordinate i.
        let mu = |j: usize| h[j] / h_norm;
        let (mut g_i, mut along, mut norm2) = (0.0, 0.0, 0.0);
        for j in (0..h.len()).filter(|&j| free(j)) {
            let g: f64 = rng.sample(StandardNormal);
            if j == i {
                g_i = g;
            }
            along += g * mu(j);
            norm2 += g * g;
        }
        let perp_norm = (norm2 - along * along).max(f64::MIN_POSITIVE).sqrt();
        let u_i = (g_i - along * mu(i)) / perp_norm;
        radius * (w * mu(i) + (1.0 - w * w).max(0.0).sqrt() * u_i)
    }
}

/// Wood (1994): the component `w = x.mu / R` of a von Mises-Fisher draw in
/// `d >= 2` dimensions, density `∝ (1 - w^2)^((d-3)/2) exp(kappa w)`.
fn wood(d: usize, kappa: f64, rng: &mut Rng) -> f64 {
    let m = (d - 1) as f64;
    let b = m / (2.0 * kappa + (4.0 * kappa * kappa + m * m).sqrt());
    let x0 = (1.0 - b) / (1.0 + b);
    let c = kappa * x0 + m * (1.0 - x0 * x0).ln();
    let beta = Beta::new(m / 2.0, m / 2.0).expect("beta parameters are positive");
    loop {
        let z: f64 = beta.sample(rng);
        let w = (1.0 - (1.0 + b) * z) / (1.0 - (1.0 - b) * z);
        let u: f64 = rng.random();
        if kappa * w + m * (1.0 - x0 * w).ln() - c >= u.ln() {
            return w;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `E w` and `E w^2` of the density `(1 - w^2)^((d-3)/2) exp(kappa w)` on
    /// `(-1, 1)` by numerical integration (substitution `w = cos(phi)`, which
    /// removes the endpoint singularity: weight `sin(phi)^(d-2)`), midpoint rule.
    fn integrate(d: usize, kappa: f64) -> (f64, f64) {
        let steps = 200_000;
        let (mut z, mut m1, mut m2) = (0.0, 0.0, 0.0);
        for k in 0..steps {
            let phi = std::f64::consts::PI * (k as f64 + 0.5) / steps as f64;
            let w = phi.cos();
            let weight = phi.sin().powi(d as i32 - 2) * (kappa * (w - 1.0)).exp();
            z += weight;
            m1 += weight * w;
            m2 += weight * w * w;
        }
        (m1 / z, m2 / z)
    }

    #[test]
    fn bessel_ratio_matches_closed_forms() {
        for kappa in [0.01, 0.5, 3.0, 40.0, 700.0] {
            // nu = -1/2: tanh; nu = 1/2: the Langevin function coth - 1/kappa.
            assert!((bessel_ratio(-0.5, kappa) - kappa.tanh()).abs() < 1e-13, "{kappa}");
            let langevin = 1.0 / kappa.tanh() - 1.0 / kappa;
            assert!((bessel_ratio(0.5, kappa) - langevin).abs() < 1e-12, "{kappa}");
        }
        // The asymptotic branch joins the continued fraction.
        let (nu, kappa) = (49.0, 1e4);
        let cf = bessel_ratio(nu, kappa * (1.0 - 1e-12));
        let asym = bessel_ratio(nu, kappa * (1.0 + 1e-12));
        assert!((cf - asym).abs() < 1e-8, "{cf} vs {asym}");
    }

    /// Mean and variance along `mu` against numerical integration over the sphere, d = 2..8.
    #[test]
    fn channel_matches_numerical_integration() {
        for d in [2, 3, 5, 8] {
            for (h_norm2, radius2) in [(0.3, 2.0), (4.0, 5.5), (0.02, 1.0), (9.0, 30.0)] {
                let ch = SphereChannel::new(h_norm2, d, radius2);
                let (m1, m2) = integrate(d, ch.kappa);
                let r = radius2.sqrt();
                let mean_along = ch.gain * h_norm2.sqrt();
                assert!((mean_along - r * m1).abs() < 1e-7 * r, "d {d}: mean {mean_along} vs {}", r * m1);
                assert!((ch.along - radius2 * (m2 - m1 * m1)).abs() < 1e-7 * radius2, "d {d}: along");
                // Trace identity: the variances across fill up the rest of R^2.
                let across = (radius2 * (1.0 - m2)) / (d - 1) as f64;
                assert!((ch.gain - across).abs() < 1e-7 * radius2, "d {d}: across {} vs {across}", ch.gain);
            }
        }
    }

    #[test]
    fn large_dimension_gain_is_physics_md_formula() {
        let (d, r2, h2) = (400, 350.0, 900.0);
        let large_n = 2.0 * r2 / (d as f64 + ((d * d) as f64 + 4.0 * r2 * h2).sqrt());
        let g = SphereChannel::new(h2, d, r2).gain;
        assert!((g / large_n - 1.0).abs() < 2.0 / d as f64, "{g} vs {large_n}");
    }

    /// Draws of one coordinate: mean and variance against the channel, d = 1, 2, 3, 6.
    #[test]
    fn coordinate_draws_follow_the_channel() {
        let mut rng = crate::rng::stream(5, "test-sphere", 0);
        let h_all = [0.7, -0.2, 99.0, 0.4, 1.1, -0.6, 0.3];
        for (free_count, radius2) in [(1, 2.5), (2, 3.0), (3, 1.5), (6, 6.0)] {
            // Coordinate 2 is fixed (its huge field must be ignored); the first `free_count` others are free.
            let free_set: Vec<usize> = [0, 1, 3, 4, 5, 6].into_iter().take(free_count).collect();
            let free = |j: usize| free_set.contains(&j);
            let h_norm2: f64 = free_set.iter().map(|&j| h_all[j] * h_all[j]).sum();
            let ch = SphereChannel::new(h_norm2, free_count, radius2);
            let count = 40_000;
            let draws: Vec<f64> = (0..count).map(|_| ch.draw_coordinate(&h_all, free, 0, &mut rng)).collect();
            let mean = draws.iter().sum::<f64>() / count as f64;
            let var = draws.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / count as f64;
            let (want_mean, want_var) = (ch.gain * h_all[0], ch.variance(h_all[0], h_norm2));
            let se = (want_var / count as f64).sqrt();
            assert!((mean - want_mean).abs() < 5.0 * se, "d {free_count}: mean {mean} vs {want_mean}");
            assert!((var / want_var - 1.0).abs() < 0.05, "d {free_count}: variance {var} vs {want_var}");
            assert!(draws.iter().all(|x| x * x <= radius2 * (1.0 + 1e-12)));
        }
    }
}
