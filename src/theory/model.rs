//! The planted model `Model { p, prior, delta }`, the two sampling paths, the
//! `Delta <-> T` conversions of PHYSICS.md section 1, and the SE map and free entropy
//! `Phi(m)` of section 4 on each path.

use super::prior::Prior;
use super::table::Channel;
use super::TheoryError;
use serde::{Deserialize, Serialize};

/// Which modified measure the sampler needs at each step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Path {
    /// Diffusion / stochastic localisation / flows: tilt with SNR `t = gamma^2 >= 0`.
    Diffusion,
    /// Autoregressive: a fraction `t = theta in [0, 1]` of the variables is fixed.
    Decimation,
}

impl Path {
    /// Name of the path variable: `"gamma2"` or `"theta"`.
    pub fn t_name(&self) -> &'static str {
        match self {
            Path::Diffusion => "gamma2",
            Path::Decimation => "theta",
        }
    }

    /// Checks that `t` is on the path (`gamma2 >= 0`, `0 <= theta <= 1`).
    pub fn validate_t(&self, t: f64) -> Result<(), TheoryError> {
        let ok = match self {
            Path::Diffusion => t.is_finite() && t >= 0.0,
            Path::Decimation => (0.0..=1.0).contains(&t),
        };
        if ok {
            Ok(())
        } else {
            Err(TheoryError::InvalidParameter(format!("{} = {t} is not on the {self:?} path", self.t_name())))
        }
    }
}

/// `x^n` with the small exponents of p = 2, 3, 4 inlined (`powi` is a libcall).
#[inline]
pub(crate) fn ipow(x: f64, n: i32) -> f64 {
    match n {
        0 => 1.0,
        1 => x,
        2 => x * x,
        3 => x * x * x,
        _ => x.powi(n),
    }
}

/// `Delta = 2 T^2 / p` (SK: `Delta = T^2`; sparse: `beta = 1/sqrt(Delta)`; p=3: `2T^2/3`).
pub fn delta_from_temperature(p: u32, temperature: f64) -> f64 {
    2.0 * temperature * temperature / f64::from(p)
}

/// `T = sqrt(p Delta / 2)`, the inverse of [`delta_from_temperature`].
pub fn temperature_from_delta(p: u32, delta: f64) -> f64 {
    (f64::from(p) * delta / 2.0).sqrt()
}

/// Planted p-spin model `Y = sqrt((p-1)!)/N^((p-1)/2) x*^{(x)p} + sqrt(Delta) W`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// interaction order (2 = matrix, 3 = tensor, ...)
    pub p: u32,
    pub prior: Prior,
    /// noise variance `Delta`
    pub delta: f64,
}

impl Model {
    /// Validated constructor (`2 <= p <= 16`, `Delta > 0`, valid prior).
    pub fn new(p: u32, prior: Prior, delta: f64) -> Result<Model, TheoryError> {
        let m = Model { p, prior, delta };
        m.validate()?;
        Ok(m)
    }

    /// Model at temperature `T` (`Delta = 2 T^2 / p`).
    pub fn from_temperature(p: u32, prior: Prior, temperature: f64) -> Result<Model, TheoryError> {
        Model::new(p, prior, delta_from_temperature(p, temperature))
    }

    /// Checks the parameters.
    pub fn validate(&self) -> Result<(), TheoryError> {
        if !(2..=16).contains(&self.p) {
            return Err(TheoryError::InvalidParameter(format!("p = {} outside [2, 16]", self.p)));
        }
        if !(self.delta.is_finite() && self.delta > 0.0) {
            return Err(TheoryError::InvalidParameter(format!("Delta = {} must be finite and > 0", self.delta)));
        }
        self.prior.validate()
    }

    /// Temperature `T = sqrt(p Delta / 2)` (inverse temperature `beta = 1/T`).
    pub fn temperature(&self) -> f64 {
        temperature_from_delta(self.p, self.delta)
    }

    /// `E0 = E[x0^2]`.
    pub fn e0(&self) -> f64 {
        self.prior.e0()
    }

    /// `lam(m) = m^(p-1) / Delta`.
    #[inline]
    pub fn lam(&self, m: f64) -> f64 {
        ipow(m, self.p as i32 - 1) / self.delta
    }

    /// `-(p-1)/(2 p Delta) m^p`, the overlap part of `Phi`.
    #[inline]
    pub fn phi_overlap(&self, m: f64) -> f64 {
        let p = f64::from(self.p);
        -(p - 1.0) / (2.0 * p * self.delta) * m.powi(self.p as i32)
    }
}

/// SE map `F(m)` on `path` at path value `t` (its fixed points are the SE solutions).
pub fn se_map(model: &Model, ch: &Channel, path: Path, t: f64, m: f64) -> f64 {
    let lam = model.lam(m);
    match path {
        Path::Diffusion => ch.ov(lam + t),
        Path::Decimation => t * model.e0() + (1.0 - t) * ch.ov(lam),
    }
}

/// Free entropy `Phi(m)` on `path` at `t` (PHYSICS.md section 4); `dPhi/dm = 0` exactly
/// at the fixed points of [`se_map`]. Constants: `c0 = E log P0` (0 for Gaussian).
pub fn free_entropy(model: &Model, ch: &Channel, path: Path, t: f64, m: f64) -> f64 {
    let lam = model.lam(m);
    match path {
        Path::Diffusion => model.phi_overlap(m) + ch.psi(lam + t),
        Path::Decimation => {
            model.phi_overlap(m) + (1.0 - t) * ch.psi(lam) + t * (0.5 * lam * model.e0() + model.prior.c0())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temperature_conversions_match_physics_table() {
        // SK: Delta = T^2; p=3: Delta = 2T^2/3 (T_d = sqrt(3/8) <-> Delta_d = 1/4).
        assert!((delta_from_temperature(2, 0.7) - 0.49).abs() < 1e-15);
        assert!((delta_from_temperature(3, (3.0_f64 / 8.0).sqrt()) - 0.25).abs() < 1e-15);
        let m = Model::new(3, Prior::Gaussian, 8.0 / 27.0).unwrap();
        assert!((m.temperature() - 2.0 / 3.0).abs() < 1e-15);
        let m = Model::from_temperature(3, Prior::Rademacher, 0.71).unwrap();
        assert!((m.temperature() - 0.71).abs() < 1e-15);
        assert!(Model::new(1, Prior::Gaussian, 1.0).is_err());
        assert!(Model::new(3, Prior::Gaussian, -1.0).is_err());
        assert!(Path::Decimation.validate_t(1.5).is_err());
        assert!(Path::Diffusion.validate_t(1.5).is_ok());
    }

    #[test]
    fn free_entropy_is_stationary_at_fixed_points_of_the_map() {
        // dPhi/dm = (p-1) m^(p-2) / (2 Delta) (F(m) - m) for any m, on both paths.
        let models = [
            Model::new(3, Prior::Rademacher, 0.33).unwrap(),
            Model::new(2, Prior::SparseRademacher { rho: 0.08 }, 1.05 * 0.0064).unwrap(),
            Model::new(3, Prior::Gaussian, 0.27).unwrap(),
        ];
        for model in models {
            let ch = Channel::new(&model.prior).unwrap();
            for path in [Path::Diffusion, Path::Decimation] {
                for &m in &[0.2 * model.e0(), 0.55 * model.e0(), 0.9 * model.e0()] {
                    let (t, h) = (0.07, 1e-5 * model.e0());
                    let d = (free_entropy(&model, &ch, path, t, m + h) - free_entropy(&model, &ch, path, t, m - h))
                        / (2.0 * h);
                    let p = f64::from(model.p);
                    let pred = (p - 1.0) * m.powi(model.p as i32 - 2) / (2.0 * model.delta)
                        * (se_map(&model, &ch, path, t, m) - m);
                    assert!((d - pred).abs() < 1e-6 * (1.0 + pred.abs()), "{model:?} {path:?}");
                }
            }
        }
    }
}
