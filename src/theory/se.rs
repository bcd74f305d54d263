//! State evolution along one path at fixed `Delta`: both branches, their free entropies
//! and the equilibrium branch at each `t`, plus the hysteresis window and first-order
//! point ([`se_path`], [`transition`]); and the plain monotone SE iteration
//! ([`iterate_se`]) used as an independent cross-check.

use super::branch::Transition;
use super::curve::Curve;
use super::model::{se_map, Model, Path};
use super::table::Channel;
use super::TheoryError;
use serde::{Deserialize, Serialize};

/// Which SE branch is the equilibrium one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Branch {
    /// The branch iterated from `m = 1e-6` (followed by AMP).
    Uninformed,
    /// The branch iterated from `m = E0`.
    Informed,
}

/// SE solution at one path value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SePoint {
    /// path value (`gamma2` or `theta`)
    pub t: f64,
    pub m_uninf: f64,
    pub m_inf: f64,
    pub phi_uninf: f64,
    pub phi_inf: f64,
    /// overlap of the equilibrium branch
    pub m_eq: f64,
    /// larger `Phi`; `Uninformed` when the branches coincide
    pub equilibrium: Branch,
}

/// SE along a path at fixed `Delta`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SePath {
    pub model: Model,
    pub path: Path,
    pub points: Vec<SePoint>,
    /// `sp1` clipped at 0 (`None`: no first-order transition on the path)
    pub spinodal_low_t: Option<f64>,
    /// `sp2`, where the uninformed branch jumps
    pub spinodal_high_t: Option<f64>,
    /// `P_IT` (0 when `Delta < Delta_K`)
    pub first_order_t: Option<f64>,
}

/// Largest path value the curves are built for (the whole decimation path; on the
/// diffusion path at least `gamma2 = 1`, more if asked).
fn curve_t_max(path: Path, t: &[f64]) -> f64 {
    let t_hi = t.iter().copied().fold(0.0, f64::max);
    match path {
        Path::Diffusion => t_hi.max(1.0),
        Path::Decimation => 1.0,
    }
}

/// SE branches, free entropies and equilibrium at each `t`, plus the transition.
pub fn se_path(model: &Model, path: Path, t: &[f64]) -> Result<SePath, TheoryError> {
    for &x in t {
        path.validate_t(x)?;
    }
    let curve = Curve::new(model, path, curve_t_max(path, t))?;
    let points = t.iter().map(|&x| solve_on_curve(&curve, x)).collect::<Result<Vec<_>, _>>()?;
    let tr = curve.transition()?;
    Ok(SePath {
        model: *model,
        path,
        points,
        spinodal_low_t: tr.map(|x| x.spinodal_low_t),
        spinodal_high_t: tr.map(|x| x.spinodal_high_t),
        first_order_t: tr.map(|x| x.first_order_t),
    })
}

/// SE solution at a single path value.
pub fn solve_point(model: &Model, path: Path, t: f64) -> Result<SePoint, TheoryError> {
    path.validate_t(t)?;
    let curve = Curve::new(model, path, curve_t_max(path, &[t]))?;
    solve_on_curve(&curve, t)
}

pub(crate) fn solve_on_curve(curve: &Curve, t: f64) -> Result<SePoint, TheoryError> {
    let m_uninf = curve.uninformed(t)?;
    let m_inf = curve.informed(t)?;
    let phi_uninf = curve.phi(t, m_uninf);
    let phi_inf = curve.phi(t, m_inf);
    let informed = phi_inf - phi_uninf > 1e-13 * (1.0 + phi_uninf.abs());
    Ok(SePoint {
        t,
        m_uninf,
        m_inf,
        phi_uninf,
        phi_inf,
        m_eq: if informed { m_inf } else { m_uninf },
        equilibrium: if informed { Branch::Informed } else { Branch::Uninformed },
    })
}

/// Hysteresis window `[sp1 clipped at 0, sp2]` and first-order point on `path`, or
/// `None` when the path has no first-order transition.
pub fn transition(model: &Model, path: Path) -> Result<Option<Transition>, TheoryError> {
    Curve::new(model, path, 1.0)?.transition()
}

/// Plain SE iteration `m <- F(m)` from `m0` (no damping: the map is monotone) until
/// `|dm| <= tol`; returns `(m, iterations)`. Slows down critically near spinodals.
pub fn iterate_se(
    model: &Model,
    path: Path,
    t: f64,
    m0: f64,
    tol: f64,
    max_iter: usize,
) -> Result<(f64, usize), TheoryError> {
    model.validate()?;
    path.validate_t(t)?;
    let ch = Channel::new(&model.prior)?;
    let mut m = m0;
    for it in 1..=max_iter {
        let next = se_map(model, &ch, path, t, m);
        let step = (next - m).abs();
        m = next;
        if step <= tol {
            return Ok((m, it));
        }
    }
    Err(TheoryError::NoConvergence(format!("SE iteration at t = {t} from m0 = {m0}: {max_iter} iterations")))
}
