//! The parametric SE curve of PHYSICS.md section 5 for one `(model, path)`: the path
//! value `P(u)` at which the point `u` is a fixed point, sampled on a merged log/linear
//! grid, with its running max/min and the spinodals (`sp2` = first interior local max,
//! `sp1` = last interior local min), including the noise floor and the masked
//! decimation tail of section 11.
//!
//! Parameter `u`: `lam` (total SNR) on the diffusion path, where
//! `P(lam) = lam - ov(lam)^(p-1)/Delta` and `m = ov(lam)`; `m` itself on the decimation
//! path, where `P(m) = 1 - (E0 - m)/mmse(lam(m))`. In both cases `F(m) > m` iff
//! `P(u) < t`, so the SE iteration at path value `t` moves up where the curve is
//! above-right of `t`.

use super::model::{ipow, Model, Path};
use super::roots::{brent, golden_max};
use super::table::Channel;
use super::TheoryError;

/// Uninformed start of the SE iteration (PHYSICS.md section 4).
pub const M_EPS: f64 = 1e-6;
/// Relative noise floor on differences of `P` when looking for extrema.
const FLOOR: f64 = 1e-13;
/// Absolute accuracy assumed for the tabulated `ov` / `mmse`.
const TABLE_NOISE: f64 = 3e-14;
/// Decimation points with `mmse < MASK * E0` are dropped (P unreliable there).
const MASK: f64 = 1e-10;
/// Points of each of the two merged grids (log-spaced and linear).
const NGRID: usize = 512;

/// Local extrema of `P` delimiting the hysteresis window (unclipped values).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Spinodals {
    /// local max of P: where the uninformed branch ends
    pub sp2: f64,
    pub u_max: f64,
    pub j_max: usize,
    /// local min of P: where the informed branch starts (may be < 0)
    pub sp1: f64,
    pub u_min: f64,
    pub j_min: usize,
}

/// Sampled curve with its running extrema.
#[derive(Debug, Clone)]
pub(crate) struct Curve {
    pub model: Model,
    pub path: Path,
    pub ch: Channel,
    pub e0: f64,
    pub u: Vec<f64>,
    pub pv: Vec<f64>,
    noise: Vec<f64>,
    /// residual scale: the residual at grid point k is `scale[k] * (pv[k] - t)`
    /// (1 on the diffusion path, `mmse` on the decimation path)
    pub scale: Vec<f64>,
    /// `runmax[k] = max(pv[..=k])`
    pub runmax: Vec<f64>,
    /// `runmin[k] = min(pv[k..])`
    pub runmin: Vec<f64>,
    /// decimation: points below E0 were masked, the last interval is unresolved
    masked_tail: bool,
    pub t_max: f64,
    pub spin: Option<Spinodals>,
}

/// Sorted union of `n` log-spaced and `n` linear (in `sqrt` if `sqrt_lin`) points
/// from `lo` to `hi` (linear-time merge; the log grid by repeated multiplication).
fn merged_grid(lo: f64, hi: f64, n: usize, sqrt_lin: bool) -> Vec<f64> {
    let ratio = (hi / lo).powf(1.0 / (n - 1) as f64);
    let (a, b) = if sqrt_lin { (lo.sqrt(), hi.sqrt()) } else { (lo, hi) };
    let step = (b - a) / (n - 1) as f64;
    let lin = |i: usize| {
        let x = a + step * i as f64;
        if sqrt_lin {
            x * x
        } else {
            x
        }
    };
    let mut out = Vec::with_capacity(2 * n);
    let (mut g, mut i) = (lo, 1);
    out.push(lo);
    for _ in 1..n - 1 {
        g *= ratio;
        while i < n - 1 && lin(i) < g {
            out.push(lin(i));
            i += 1;
        }
        out.push(g);
    }
    out.extend((i..n - 1).map(lin));
    out.push(hi);
    out.dedup();
    out
}

impl Curve {
    /// Samples the curve for path values up to `t_max`.
    pub fn new(model: &Model, path: Path, t_max: f64) -> Result<Curve, TheoryError> {
        model.validate()?;
        path.validate_t(t_max)?;
        let ch = Channel::new(&model.prior)?;
        let mut c = Curve {
            model: *model,
            path,
            e0: model.e0(),
            ch,
            u: Vec::new(),
            pv: Vec::new(),
            noise: Vec::new(),
            scale: Vec::new(),
            runmax: Vec::new(),
            runmin: Vec::new(),
            masked_tail: false,
            t_max,
            spin: None,
        };
        match path {
            Path::Diffusion => c.sample_diffusion()?,
            Path::Decimation => c.sample_decimation(),
        }
        c.running_extrema();
        c.spin = c.find_spinodals();
        Ok(c)
    }

    /// `lam` with `ov(lam) = M_EPS`.
    fn lam_eps(&self) -> Result<f64, TheoryError> {
        let f = |lam: f64| self.ch.ov(lam) - M_EPS;
        let mut hi = M_EPS / (self.e0 * self.e0);
        while f(hi) < 0.0 {
            hi *= 2.0;
            if hi > 1e6 {
                return Err(TheoryError::NoConvergence("ov^-1(1e-6)".into()));
            }
        }
        brent(f, (0.0, f(0.0)), (hi, f(hi)), 0.0)
    }

    fn sample_diffusion(&mut self) -> Result<(), TheoryError> {
        let lo = self.lam_eps()?;
        let q = self.model.p as i32 - 1;
        let hi = self.t_max + self.e0.powi(q) / self.model.delta + 1.0;
        self.u = merged_grid(lo, hi.max(2.0 * lo), NGRID, true);
        let n = self.u.len();
        (self.pv, self.noise, self.scale) = (Vec::with_capacity(n), Vec::with_capacity(n), vec![1.0; n]);
        let noise = if matches!(self.ch, Channel::Gaussian) { 0.0 } else { TABLE_NOISE };
        let inv_delta = 1.0 / self.model.delta;
        for &lam in &self.u {
            let ov = self.ch.ov(lam);
            let ovq1 = ipow(ov, q - 1);
            self.pv.push(lam - ovq1 * ov * inv_delta);
            self.noise.push(noise * f64::from(q) * ovq1 * inv_delta);
        }
        Ok(())
    }

    fn sample_decimation(&mut self) {
        let e0 = self.e0;
        let grid = merged_grid(M_EPS, e0, NGRID, false);
        let n = grid.len() + 1;
        self.u = Vec::with_capacity(n);
        (self.pv, self.noise, self.scale) = (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
        let noise = if matches!(self.ch, Channel::Gaussian) { 0.0 } else { TABLE_NOISE };
        let (q, inv_delta) = (self.model.p as i32 - 1, 1.0 / self.model.delta);
        for m in grid {
            if m >= e0 {
                break;
            }
            let mmse = self.ch.mmse(ipow(m, q) * inv_delta);
            if mmse < MASK * e0 {
                self.masked_tail = true;
                break;
            }
            let inv = 1.0 / mmse;
            let r = (e0 - m) * inv;
            self.u.push(m);
            self.pv.push(1.0 - r);
            self.noise.push(noise * r * inv);
            self.scale.push(mmse);
        }
        // P(E0) = 1 exactly.
        self.u.push(e0);
        self.pv.push(1.0);
        self.noise.push(0.0);
        self.scale.push(self.ch.mmse(self.model.lam(e0)));
    }

    fn running_extrema(&mut self) {
        let n = self.pv.len();
        self.runmax = self.pv.clone();
        self.runmin = self.pv.clone();
        for k in 1..n {
            self.runmax[k] = self.runmax[k].max(self.runmax[k - 1]);
        }
        for k in (0..n - 1).rev() {
            self.runmin[k] = self.runmin[k].min(self.runmin[k + 1]);
        }
    }

    fn floor(&self, a: usize, b: usize) -> f64 {
        FLOOR * (1.0 + self.pv[a].abs().max(self.pv[b].abs())) + self.noise[a] + self.noise[b]
    }

    /// Exact `P(u)` (used for refinement).
    pub fn p_of(&self, u: f64) -> f64 {
        match self.path {
            Path::Diffusion => u - ipow(self.ch.ov(u), self.model.p as i32 - 1) / self.model.delta,
            Path::Decimation => {
                let mmse = self.ch.mmse(self.model.lam(u));
                if mmse > 0.0 {
                    1.0 - (self.e0 - u) / mmse
                } else {
                    f64::NEG_INFINITY
                }
            }
        }
    }

    fn find_spinodals(&self) -> Option<Spinodals> {
        let n = self.pv.len();
        let mut best = 0;
        let mut j_max = None;
        for k in 1..n {
            if self.pv[k] > self.pv[best] {
                best = k;
            } else if best > 0 && self.pv[k] < self.pv[best] - self.floor(best, k) {
                j_max = Some(best);
                break;
            }
        }
        let j_max = j_max?;
        let mut best = n - 1;
        let mut j_min = None;
        for k in (0..n - 1).rev() {
            if self.pv[k] < self.pv[best] {
                best = k;
            } else if best < n - 1 && self.pv[k] > self.pv[best] + self.floor(best, k) {
                j_min = Some(best);
                break;
            }
        }
        let j_min = j_min.filter(|&j| j > j_max)?;
        let (u_max, sp2) = self.refine(j_max, 1.0);
        let (u_min, sp1) = if self.masked_tail && j_min + 2 == n {
            (self.u[j_min], self.pv[j_min])
        } else {
            let (u, v) = self.refine(j_min, -1.0);
            (u, -v)
        };
        Some(Spinodals { sp2, u_max, j_max, sp1, u_min, j_min })
    }

    /// Refines the extremum of `sign * P` around grid index `j` (an interior index).
    fn refine(&self, j: usize, sign: f64) -> (f64, f64) {
        let (a, b) = (self.u[j - 1], self.u[j + 1]);
        let (u, v) = golden_max(|u| sign * self.p_of(u), a, b, 1e-12 * b);
        if v >= sign * self.pv[j] {
            (u, v)
        } else {
            (self.u[j], sign * self.pv[j])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::theory::prior::Prior;

    #[test]
    fn spherical_curves_match_closed_forms() {
        // gamma2(lam) = lam - (lam/(1+lam))^2/Delta, theta(m) = m - m^2(1-m)/Delta.
        let model = Model::new(3, Prior::Gaussian, 0.28).unwrap();
        let c = Curve::new(&model, Path::Diffusion, 0.2).unwrap();
        for (&lam, &p) in c.u.iter().zip(&c.pv).step_by(37) {
            let m = lam / (1.0 + lam);
            assert!((p - (lam - m * m / 0.28)).abs() < 1e-12);
        }
        let c = Curve::new(&model, Path::Decimation, 1.0).unwrap();
        for (&m, &p) in c.u.iter().zip(&c.pv).step_by(37) {
            assert!((p - (m - m * m * (1.0 - m) / 0.28)).abs() < 1e-12);
        }
        assert!(c.runmax.windows(2).all(|w| w[0] <= w[1]));
        assert!(c.runmin.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn spherical_decimation_spinodals_closed_form() {
        // theta(m) = m - m^2(1-m)/Delta: extrema at 3m^2 - 2m + Delta = 0.
        let delta = 0.31;
        let model = Model::new(3, Prior::Gaussian, delta).unwrap();
        let sp = Curve::new(&model, Path::Decimation, 1.0).unwrap().spin.unwrap();
        let disc = (1.0 - 3.0 * delta).sqrt();
        let (m_lo, m_hi) = ((1.0 - disc) / 3.0, (1.0 + disc) / 3.0);
        let th = |m: f64| m - m * m * (1.0 - m) / delta;
        assert!((sp.sp2 - th(m_lo)).abs() < 1e-14 && (sp.u_max - m_lo).abs() < 1e-6);
        assert!((sp.sp1 - th(m_hi)).abs() < 1e-14 && (sp.u_min - m_hi).abs() < 1e-6);
    }

    #[test]
    fn no_fake_extrema_on_monotone_curves() {
        // SK exactly at Delta = 1 (section 11) and above the end points.
        let cases = [
            (Model::new(2, Prior::Rademacher, 1.0).unwrap(), Path::Diffusion),
            (Model::new(2, Prior::Rademacher, 1.0).unwrap(), Path::Decimation),
            (Model::new(3, Prior::Gaussian, 0.34).unwrap(), Path::Decimation),
            (Model::new(3, Prior::Rademacher, 0.39).unwrap(), Path::Diffusion),
        ];
        for (model, path) in cases {
            let c = Curve::new(&model, path, 0.5).unwrap();
            assert!(c.spin.is_none(), "{model:?} {path:?}");
        }
    }

    #[test]
    fn small_delta_decimation_masks_the_tail() {
        let model = Model::new(3, Prior::Rademacher, 0.002).unwrap();
        let c = Curve::new(&model, Path::Decimation, 1.0).unwrap();
        assert!(c.masked_tail && c.pv.iter().all(|p| p.is_finite()));
        let sp = c.spin.unwrap();
        assert!(sp.sp1 < 0.0 && sp.sp2 > 0.0 && sp.sp2 < 0.01);
    }
}
