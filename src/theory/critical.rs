//! Special points of a model family `(p, prior)`: the critical (end / tricritical) point
//! of each path, i.e. the largest `Delta` at which `P(m)` is non-monotone, and the
//! static transitions at `t = 0`, `Delta_d` (dynamical) and `Delta_K` (Kauzmann / IT).

use super::curve::Curve;
use super::model::{temperature_from_delta, Model, Path};
use super::prior::Prior;
use super::roots::{brent, scan_max};
use super::table::Channel;
use super::TheoryError;
use serde::{Deserialize, Serialize};

/// Point where the hysteresis window closes (`sp1 = sp2`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CriticalPoint {
    pub delta: f64,
    pub temperature: f64,
    /// path value `gamma2*` or `theta*`
    pub t: f64,
    pub m: f64,
}

/// Transitions at `t = 0` (common to both paths).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StaticTransitions {
    /// `Delta_d`: the informed fixed point exists for `Delta < Delta_d`
    pub delta_d: f64,
    pub temperature_d: f64,
    /// the transition at `Delta_d` is continuous (then `Delta_K` is `None`)
    pub continuous: bool,
    /// `Delta_K`: the informed branch is the equilibrium one for `Delta < Delta_K`
    pub delta_k: Option<f64>,
    pub temperature_k: Option<f64>,
}

/// Scan range of `lam` for the maximisations (beyond it `ov` is saturated).
const LAM_RANGE: (f64, f64) = (1e-9, 1e3);
const SCAN_POINTS: usize = 4000;

fn family(p: u32, prior: &Prior) -> Result<(Model, Channel), TheoryError> {
    let model = Model::new(p, *prior, 1.0)?;
    Ok((model, Channel::new(prior)?))
}

/// Critical point of `path` (`None` if no first-order transition exists at any `Delta`).
/// Diffusion: `Delta* = max_lam (p-1) ov^(p-2) ov'` (closed-form condition of section 5).
/// Decimation: root of `max_m Q(m; Delta) = Delta` with
/// `Q = (E0 - m)(p-1) m^(p-2) ov'(lam)/mmse(lam)` (sign of `dP/dm`), by bisection.
pub fn critical_point(p: u32, prior: &Prior, path: Path) -> Result<Option<CriticalPoint>, TheoryError> {
    let (model, ch) = family(p, prior)?;
    match path {
        Path::Diffusion => Ok(diffusion_critical(&model, &ch)),
        Path::Decimation => decimation_critical(&model, &ch),
    }
}

fn diffusion_critical(model: &Model, ch: &Channel) -> Option<CriticalPoint> {
    let q = model.p as i32 - 1;
    let qf = f64::from(q);
    let f = |lam: f64| qf * ch.ov(lam).powi(q - 1) * ch.dov(lam);
    let (lam, delta, at_edge) = scan_max(f, LAM_RANGE.0, LAM_RANGE.1, SCAN_POINTS, true);
    if at_edge {
        return None;
    }
    let m = ch.ov(lam);
    Some(CriticalPoint { delta, temperature: temperature_from_delta(model.p, delta), t: lam - m.powi(q) / delta, m })
}

/// `max_m Q(m; Delta) - Delta` and the maximiser, `None` if the max sits at `m -> 0`.
fn decimation_excess(model: &Model, ch: &Channel, delta: f64) -> Option<(f64, f64)> {
    let e0 = model.e0();
    let q = model.p as i32 - 1;
    let m_d = Model { delta, ..*model };
    let f = |m: f64| {
        let lam = m_d.lam(m);
        let mmse = ch.mmse(lam);
        if mmse < 1e-10 * e0 {
            return f64::NEG_INFINITY;
        }
        (e0 - m) * f64::from(q) * m.powi(q - 1) * ch.dov(lam) / mmse
    };
    let (m, v, at_edge) = scan_max(f, 1e-6 * e0, e0 * (1.0 - 1e-9), SCAN_POINTS, false);
    (!at_edge).then_some((v - delta, m))
}

fn decimation_critical(model: &Model, ch: &Channel) -> Result<Option<CriticalPoint>, TheoryError> {
    let st = static_with(model, ch)?;
    if st.continuous {
        return Ok(None);
    }
    let positive = |d: f64| decimation_excess(model, ch, d).is_some_and(|(r, _)| r > 0.0);
    let mut lo = st.delta_d;
    if !positive(lo) {
        return Ok(None);
    }
    let mut hi = lo * 1.02;
    while positive(hi) {
        (lo, hi) = (hi, hi * 1.02);
        if hi > 1e6 * st.delta_d {
            return Err(TheoryError::NoConvergence("decimation end point".into()));
        }
    }
    while hi - lo > 4.0 * f64::EPSILON * hi {
        let mid = 0.5 * (lo + hi);
        if positive(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let Some((_, m)) = decimation_excess(model, ch, lo) else {
        return Ok(None);
    };
    let at = Model { delta: lo, ..*model };
    Ok(Some(CriticalPoint {
        delta: lo,
        temperature: temperature_from_delta(model.p, lo),
        t: 1.0 - (model.e0() - m) / ch.mmse(at.lam(m)),
        m,
    }))
}

/// `Delta_d = max_lam ov^(p-1)/lam` and `Delta_K` (root of `Phi_i - Phi_u` at `t = 0`).
pub fn static_transitions(p: u32, prior: &Prior) -> Result<StaticTransitions, TheoryError> {
    let (model, ch) = family(p, prior)?;
    static_with(&model, &ch)
}

fn static_with(model: &Model, ch: &Channel) -> Result<StaticTransitions, TheoryError> {
    let q = model.p as i32 - 1;
    let delta_of = |lam: f64| ch.ov(lam).powi(q) / lam;
    // ov/lam loses relative accuracy below lam ~ 1e-5 (absolute table error ~1e-17).
    let (lam_d, mut delta_d, continuous) = scan_max(delta_of, 1e-5, LAM_RANGE.1, SCAN_POINTS, true);
    if continuous {
        delta_d = if q == 1 { ch.dov(0.0) } else { 0.0 };
    }
    let delta_k = if continuous { None } else { Some(kauzmann(model, ch, lam_d, delta_of)?) };
    Ok(StaticTransitions {
        delta_d,
        temperature_d: temperature_from_delta(model.p, delta_d),
        continuous,
        delta_k,
        temperature_k: delta_k.map(|d| temperature_from_delta(model.p, d)),
    })
}

/// `Delta_K` parametrised by the informed `lam >= lam_d` at `t = 0`, where
/// `Delta(lam) = ov^(p-1)/lam` and `m_i = ov(lam)`. Steps up from `lam_d` until
/// `Phi_i > Phi_u` while the branches are still distinct, then Brent.
fn kauzmann(model: &Model, ch: &Channel, lam_d: f64, delta_of: impl Fn(f64) -> f64) -> Result<f64, TheoryError> {
    let gap = |lam: f64| -> Result<(f64, bool), TheoryError> {
        let at = Model { delta: delta_of(lam), ..*model };
        let m_i = ch.ov(lam);
        let phi_i = at.phi_overlap(m_i) + ch.psi(lam);
        let curve = Curve::new(&at, Path::Diffusion, 1.0)?;
        let m_u = curve.uninformed(0.0)?;
        Ok((phi_i - curve.phi(0.0, m_u), m_i - m_u > 1e-6 * model.e0()))
    };
    let (mut lo, mut g_lo) = (lam_d, gap(lam_d)?.0);
    loop {
        let hi = lo * 1.05;
        let (g_hi, distinct) = gap(hi)?;
        if !distinct || hi > LAM_RANGE.1 {
            return Err(TheoryError::NoConvergence("Delta_K bracket".into()));
        }
        if g_hi > 0.0 {
            let g = |lam: f64| gap(lam).map_or(f64::NAN, |x| x.0);
            let lam_k = brent(g, (lo, g_lo), (hi, g_hi), 1e-14 * hi)?;
            return Ok(delta_of(lam_k));
        }
        (lo, g_lo) = (hi, g_hi);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spherical_tricritical_and_decimation_end_point() {
        let c = critical_point(3, &Prior::Gaussian, Path::Diffusion).unwrap().unwrap();
        assert!((c.delta - 8.0 / 27.0).abs() < 1e-12);
        assert!((c.t - 0.125).abs() < 1e-10 && (c.m - 1.0 / 3.0).abs() < 1e-6);
        assert!((c.temperature - 2.0 / 3.0).abs() < 1e-12);
        let c = critical_point(3, &Prior::Gaussian, Path::Decimation).unwrap().unwrap();
        assert!((c.delta - 1.0 / 3.0).abs() < 1e-12);
        assert!((c.t - 1.0 / 9.0).abs() < 1e-10 && (c.m - 1.0 / 3.0).abs() < 1e-6);
    }

    #[test]
    fn spherical_statics_closed_form() {
        // Delta_d = max lam/(1+lam)^2 = 1/4; Delta_K from Phi_i = 0 at t = 0.
        let s = static_transitions(3, &Prior::Gaussian).unwrap();
        assert!((s.delta_d - 0.25).abs() < 1e-13 && !s.continuous);
        let dk = s.delta_k.unwrap();
        let m = 0.5 * (1.0 + (1.0 - 4.0 * dk).sqrt());
        let lam = m * m / dk;
        let phi = -m.powi(3) / (3.0 * dk) + 0.5 * lam - 0.5 * lam.ln_1p();
        assert!(phi.abs() < 1e-13, "Phi_i(Delta_K) = {phi}");
    }

    #[test]
    fn sk_has_no_first_order_transition() {
        let s = static_transitions(2, &Prior::Rademacher).unwrap();
        assert!(s.continuous && (s.delta_d - 1.0).abs() < 1e-12 && s.delta_k.is_none());
        for path in [Path::Diffusion, Path::Decimation] {
            assert!(critical_point(2, &Prior::Rademacher, path).unwrap().is_none());
        }
    }

    #[test]
    fn ising_diffusion_end_point_satisfies_closed_form_condition() {
        // ov'^2 + ov ov'' = 0 at lam*, Delta* = 2 ov ov', gamma2* = lam* - ov^2/Delta*.
        let c = critical_point(3, &Prior::Rademacher, Path::Diffusion).unwrap().unwrap();
        let ch = Channel::new(&Prior::Rademacher).unwrap();
        let lam = c.t + c.m * c.m / c.delta;
        let h = 1e-4;
        let d2 = (ch.dov(lam + h) - ch.dov(lam - h)) / (2.0 * h);
        let (ov, dov) = (ch.ov(lam), ch.dov(lam));
        assert!((dov * dov + ov * d2).abs() < 1e-7);
        assert!((c.delta - 2.0 * ov * dov).abs() < 1e-14);
    }
}
