//! The planted-path test of PHYSICS.md section 9: observe the planted signal
//! along `y_t = t x* + W_t` (one seeded Brownian path), and at each `t` of a
//! grid run AMP on the tilted measure twice, from the uninformed start
//! (`x̂ = 0`) and from `x*` (`v = 0`). Where state evolution has two stable
//! branches the two runs disagree: the `t` window of disagreement is the
//! hysteresis window `[sp1, sp2]`, seen directly at finite N.

use rand::Rng as _;
use rand_distr::StandardNormal;

use crate::amp::{Amp, AmpState, Measure, Solve};
use crate::observe::{Cancelled, Observer};
use crate::rng;

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
