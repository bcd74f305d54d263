//! The planted-path test of PHYSICS.md section 9: observe the planted signal
//! along `y_t = t x* + W_t` (one seeded Brownian path), and at each `t` of a
//! grid run AMP on the tilted measure twice, from the uninformed start
//! (`x̂ = 0`) and from `x*` (`v = 0`). Where state evolution has two stable
//! branches the two runs disagree: the `t` window of disagreement is the
//! hysteresis window `[sp1, sp2]`, seen directly at finite N. `against_theory`
//! sets the result beside the SE branches of the same path.

use rand::Rng as _;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use crate::amp::{Amp, AmpState, Measure, Solve};
use crate::observe::{Cancelled, Observer};
use crate::rng;
use crate::theory::{SePath, SePoint};

/// Both AMP runs at one `t`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlantedPathPoint {
    pub t: f64,
    /// `x̂ . x* / N` from the uninformed start.
    pub overlap_uninf: f64,
    /// `x̂ . x* / N` from the informed start `x̂ = x*`.
    pub overlap_inf: f64,
    pub uninf: Solve,
    pub inf: Solve,
}

/// Runs the planted path on the increasing grid `times` (t >= 0); the
/// Brownian path comes from `rng::stream(seed, "planted-path", 0)`. Emits
/// series `overlap_uninf` and `overlap_inf` against `t`.
pub fn planted_path(
    amp: &Amp,
    x_star: &[f64],
    times: &[f64],
    seed: u64,
    observer: &dyn Observer,
) -> Result<Vec<PlantedPathPoint>, Cancelled> {
    assert!(times.windows(2).all(|w| w[1] >= w[0]) && times.first().is_none_or(|&t| t >= 0.0));
    let n = x_star.len();
    let mut rng = rng::stream(seed, "planted-path", 0);
    let (mut w, mut t_prev) = (vec![0.0; n], 0.0);
    let mut points = Vec::with_capacity(times.len());
    for (k, &t) in times.iter().enumerate() {
        observer.checkpoint()?;
        let sd = (t - t_prev).sqrt();
        w.iter_mut().for_each(|w_i| *w_i += sd * rng.sample::<f64, _>(StandardNormal));
        t_prev = t;
        let y: Vec<f64> = x_star.iter().zip(&w).map(|(x, w_i)| t * x + w_i).collect();
        let point = point_at(amp, x_star, &y, t);
        observer.trace("overlap_uninf", t, point.overlap_uninf);
        observer.trace("overlap_inf", t, point.overlap_inf);
        observer.progress(k as u64 + 1, times.len() as u64);
        points.push(point);
    }
    Ok(points)
}

fn point_at(amp: &Amp, x_star: &[f64], y: &[f64], t: f64) -> PlantedPathPoint {
    let measure = Measure::tilted(y, t);
    let mut uninformed = amp.start();
    let uninf = amp.solve(&mut uninformed, &measure);
    let mut informed = AmpState::from_estimate(x_star.to_vec(), vec![0.0; x_star.len()]);
    let inf = amp.solve(&mut informed, &measure);
    PlantedPathPoint { t, overlap_uninf: uninformed.overlap(x_star), overlap_inf: informed.overlap(x_star), uninf, inf }
}

/// The smallest and largest `t` where the informed overlap exceeds the
/// uninformed one by more than `gap`: the observed hysteresis window.
pub fn hysteresis_window(points: &[PlantedPathPoint], gap: f64) -> Option<(f64, f64)> {
    let mut open = points.iter().filter(|p| p.overlap_inf - p.overlap_uninf > gap).map(|p| p.t);
    let first = open.next()?;
    Some((first, open.next_back().unwrap_or(first)))
}

/// AMP's overlap with x* from both starts, with the SE branches, per t.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DenoiserPath {
    pub t: Vec<f64>,
    pub overlap_uninf: Vec<f64>,
    pub overlap_inf: Vec<f64>,
    pub iterations_uninf: Vec<usize>,
    pub iterations_inf: Vec<usize>,
    pub se_m_uninf: Vec<f64>,
    pub se_m_inf: Vec<f64>,
    /// First and last t where the informed start stays above the uninformed by > 0.1.
    pub window: Option<(f64, f64)>,
    pub se_spinodal_low: Option<f64>,
    pub se_spinodal_high: Option<f64>,
    pub se_first_order: Option<f64>,
}

impl DenoiserPath {
    /// The largest gap between the informed and the uninformed overlap.
    pub fn max_gap(&self) -> f64 {
        self.overlap_inf.iter().zip(&self.overlap_uninf).map(|(a, b)| a - b).fold(f64::NEG_INFINITY, f64::max)
    }
}

/// The planted-path points on `grid` beside the SE branches of the same path
/// (NaN where there is no SE), overlaps divided by `scale` (`rho`, so 1 is perfect).
pub fn against_theory(grid: &[f64], points: &[PlantedPathPoint], se: Option<&SePath>, scale: f64) -> DenoiserPath {
    let se_col = |f: fn(&SePoint) -> f64| {
        se.map_or(vec![f64::NAN; grid.len()], |s| s.points.iter().map(|p| f(p) / scale).collect())
    };
    DenoiserPath {
        t: grid.to_vec(),
        overlap_uninf: points.iter().map(|p| p.overlap_uninf / scale).collect(),
        overlap_inf: points.iter().map(|p| p.overlap_inf / scale).collect(),
        iterations_uninf: points.iter().map(|p| p.uninf.iterations).collect(),
        iterations_inf: points.iter().map(|p| p.inf.iterations).collect(),
        se_m_uninf: se_col(|p| p.m_uninf),
        se_m_inf: se_col(|p| p.m_inf),
        window: hysteresis_window(points, 0.1),
        se_spinodal_low: se.and_then(|s| s.spinodal_low_t),
        se_spinodal_high: se.and_then(|s| s.spinodal_high_t),
        se_first_order: se.and_then(|s| s.first_order_t),
    }
}
