//! Fixed points on a sampled [`Curve`]: the uninformed branch `m_u(t)` (smallest
//! crossing, via the running max), the informed branch `m_i(t)` (largest crossing, via
//! the reverse running min), each finished by bracketed Newton on the exact residual,
//! with the refined extrema used for `t` closer to a spinodal than the sampling
//! resolves; a sweep variant for ascending `t`; and the first-order point `P_IT`, the
//! root of `Phi(m_i) - Phi(m_u)` in `(max(sp1, 0), sp2)` (Brent).

use super::curve::{Curve, Spinodals, M_EPS};
use super::model::{free_entropy, ipow, se_map, Path};
use super::roots::{brent, newton_bracketed};
use super::TheoryError;
use serde::{Deserialize, Serialize};

/// Hysteresis window and first-order point on one path (values of the path variable).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    /// `sp1` clipped at 0: the informed branch exists for `t >= spinodal_low_t`.
    pub spinodal_low_t: f64,
    /// `sp2`: the uninformed branch (followed by AMP) jumps here.
    pub spinodal_high_t: f64,
    /// `P_IT`: equilibrium switches to the informed branch (0 if `Delta < Delta_K`).
    pub first_order_t: f64,
}

impl Curve {
    /// Residual with the sign of `P(u) - t` (its roots are the fixed points).
    fn resid(&self, u: f64, t: f64) -> f64 {
        match self.path {
            Path::Diffusion => self.p_of(u) - t,
            Path::Decimation => (1.0 - t) * self.ch.mmse(self.model.lam(u)) - (self.e0 - u),
        }
    }

    /// Residual and its derivative in `u`.
    fn resid_d(&self, u: f64, t: f64) -> (f64, f64) {
        let q = self.model.p as i32 - 1;
        let inv_delta = 1.0 / self.model.delta;
        match self.path {
            Path::Diffusion => {
                let (ov, dov) = self.ch.ov_dov(u);
                let ovq1 = ipow(ov, q - 1);
                (u - ovq1 * ov * inv_delta - t, 1.0 - f64::from(q) * ovq1 * dov * inv_delta)
            }
            Path::Decimation => {
                let uq1 = ipow(u, q - 1);
                let (mmse, dov) = self.ch.mmse_dov(uq1 * u * inv_delta);
                let dlam = f64::from(q) * uq1 * inv_delta;
                ((1.0 - t) * mmse - (self.e0 - u), 1.0 - (1.0 - t) * dov * dlam)
            }
        }
    }

    /// Overlap `m` at curve parameter `u`.
    pub fn m_of(&self, u: f64) -> f64 {
        match self.path {
            Path::Diffusion => self.ch.ov(u),
            Path::Decimation => u,
        }
    }

    /// `Phi` at overlap `m` and path value `t`.
    pub fn phi(&self, t: f64, m: f64) -> f64 {
        free_entropy(&self.model, &self.ch, self.path, t, m)
    }

    fn check_t(&self, t: f64) -> Result<(), TheoryError> {
        self.path.validate_t(t)?;
        if t > self.t_max {
            return Err(TheoryError::InvalidParameter(format!("t = {t} above the curve's t_max = {}", self.t_max)));
        }
        Ok(())
    }

    /// `m` of the root of the residual between `ua` (below the curve) and `ub`.
    fn root_between(&self, ua: f64, ub: f64, t: f64) -> Result<f64, TheoryError> {
        self.root_from((ua, self.resid(ua, t)), (ub, self.resid(ub, t)), t)
    }

    /// Same, between grid points `a` and `b`, reusing the sampled residuals.
    fn root_between_grid(&self, a: usize, b: usize, t: f64) -> Result<f64, TheoryError> {
        let at = |k: usize| (self.u[k], self.scale[k] * (self.pv[k] - t));
        self.root_from(at(a), at(b), t)
    }

    fn root_from(&self, a: (f64, f64), b: (f64, f64), t: f64) -> Result<f64, TheoryError> {
        let u = if a.1 >= 0.0 {
            a.0
        } else if b.1 <= 0.0 {
            b.0
        } else {
            newton_bracketed(|u| self.resid_d(u, t), a, b, 1e-10)?
        };
        Ok(self.m_of(u))
    }

    /// Fixed point below `M_EPS` when the iteration from `M_EPS` goes down (or stays),
    /// i.e. when `P(u_eps) >= t`.
    fn small_root(&self, t: f64) -> Result<Option<f64>, TheoryError> {
        if self.pv[0] < t {
            return Ok(None);
        }
        let g = |m: f64| se_map(&self.model, &self.ch, self.path, t, m) - m;
        let (g0, g_eps) = (g(0.0), g(M_EPS));
        if g0 <= 0.0 {
            return Ok(Some(0.0));
        }
        if g_eps > 0.0 {
            return Ok(None); // rounding-level disagreement with the sampled P
        }
        Ok(Some(brent(g, (0.0, g0), (M_EPS, g_eps), 1e-22)?))
    }

    /// Uninformed branch: SE iterated from `m = 1e-6` (what AMP follows).
    pub fn uninformed(&self, t: f64) -> Result<f64, TheoryError> {
        self.check_t(t)?;
        self.uninformed_at(t, self.runmax.partition_point(|&r| r < t))
    }

    /// Informed branch: SE iterated from `m = E0`.
    pub fn informed(&self, t: f64) -> Result<f64, TheoryError> {
        self.check_t(t)?;
        self.informed_at(t, self.runmin.partition_point(|&r| r <= t))
    }

    /// Uninformed branch given `k` = first index with `runmax[k] >= t`.
    fn uninformed_at(&self, t: f64, k: usize) -> Result<f64, TheoryError> {
        if self.path == Path::Decimation && t >= 1.0 {
            return Ok(self.e0);
        }
        if let Some(m) = self.small_root(t)? {
            return Ok(m);
        }
        if let Some(sp) = self.near_max(t, k) {
            return self.near_max_root(&sp, t);
        }
        match k {
            0 => Ok(self.m_of(self.u[0])),
            k if k == self.u.len() => {
                Err(TheoryError::NoConvergence(format!("uninformed branch at t = {t}: curve never reaches t")))
            }
            k => self.root_between_grid(k - 1, k, t),
        }
    }

    /// Informed branch given `c` = number of indices with `runmin[k] <= t`.
    fn informed_at(&self, t: f64, c: usize) -> Result<f64, TheoryError> {
        if self.path == Path::Decimation && t >= 1.0 {
            return Ok(self.e0);
        }
        if let Some(sp) = self.near_min(t, c) {
            return self.near_min_root(&sp, t);
        }
        if c == 0 {
            // P > t everywhere above M_EPS: the iteration from E0 goes all the way down.
            return Ok(self.small_root(t)?.unwrap_or(0.0));
        }
        if c == self.u.len() {
            return Ok(self.m_of(self.u[c - 1]));
        }
        self.root_between_grid(c - 1, c, t)
    }

    /// Both branches for increasing `t` (ascending, `<= t_max`), advancing the grid
    /// indices in `cursor` instead of searching: O(grid + len(t)) per row.
    pub fn branches_sweep(&self, t: f64, cursor: &mut (usize, usize)) -> Result<(f64, f64), TheoryError> {
        self.check_t(t)?;
        let n = self.u.len();
        while cursor.0 < n && self.runmax[cursor.0] < t {
            cursor.0 += 1;
        }
        while cursor.1 < n && self.runmin[cursor.1] <= t {
            cursor.1 += 1;
        }
        let m_u = self.uninformed_at(t, cursor.0)?;
        // Same grid interval and no special case: the same (unique) crossing.
        let shared = cursor.0 == cursor.1
            && cursor.0 > 0
            && cursor.0 < n
            && self.pv[0] < t
            && self.near_max(t, cursor.0).is_none()
            && self.near_min(t, cursor.1).is_none();
        let m_i =
            if shared && !(self.path == Path::Decimation && t >= 1.0) { m_u } else { self.informed_at(t, cursor.1)? };
        Ok((m_u, m_i))
    }

    /// The spinodals when `t` lies between the sampled and the refined local max of P
    /// (`P[j_max] < t <= sp2`): the uninformed root is then just left of `u_max`.
    fn near_max(&self, t: f64, k: usize) -> Option<Spinodals> {
        self.spin.filter(|sp| t <= sp.sp2 && k > sp.j_max)
    }

    /// Same at the local min (`sp1 <= t < P[j_min]`): informed root just right of `u_min`.
    fn near_min(&self, t: f64, c: usize) -> Option<Spinodals> {
        self.spin.filter(|sp| t >= sp.sp1 && c <= sp.j_min)
    }

    fn near_max_root(&self, sp: &Spinodals, t: f64) -> Result<f64, TheoryError> {
        let j = sp.j_max;
        let ua = if sp.u_max <= self.u[j] { self.u[j - 1] } else { self.u[j] };
        self.root_between(ua, sp.u_max, t)
    }

    fn near_min_root(&self, sp: &Spinodals, t: f64) -> Result<f64, TheoryError> {
        let j = sp.j_min;
        let ub = if sp.u_min >= self.u[j] { self.u[j + 1] } else { self.u[j] };
        self.root_between(sp.u_min, ub, t)
    }

    /// `Phi(m_i) - Phi(m_u)` inside the hysteresis window.
    /// For `sp1 <= t <= sp2` the two branches are on the two sides of the window.
    fn phi_gap(&self, t: f64) -> Result<f64, TheoryError> {
        let mu = self.uninformed_at(t, self.runmax.partition_point(|&r| r < t))?;
        let mi = self.informed_at(t, self.runmin.partition_point(|&r| r <= t))?;
        Ok(self.phi(t, mi) - self.phi(t, mu))
    }

    /// Spinodals and first-order point on the path (`None`: no transition for `t >= 0`).
    pub fn transition(&self) -> Result<Option<Transition>, TheoryError> {
        let Some(sp) = self.spin else {
            return Ok(None);
        };
        if sp.sp2 <= 0.0 {
            return Ok(None);
        }
        let (lo, hi) = (sp.sp1.max(0.0), sp.sp2);
        let d_lo = self.phi_gap(lo)?;
        let d_hi = self.phi_gap(hi)?;
        let first_order_t = if d_lo >= 0.0 {
            lo
        } else if d_hi <= 0.0 {
            hi
        } else {
            // A failing inner solve shows up as NaN, which Brent reports.
            let f = |t: f64| self.phi_gap(t).unwrap_or(f64::NAN);
            brent(f, (lo, d_lo), (hi, d_hi), 1e-15)?
        };
        Ok(Some(Transition { spinodal_low_t: lo, spinodal_high_t: hi, first_order_t }))
    }
}
