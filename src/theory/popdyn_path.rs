//! Population dynamics along a path and across `alpha`: the two branches
//! (uninformed and informed initialisations) at each point of a grid of the
//! path parameter, the hysteresis window (spinodals) and the first-order
//! point; the phase diagram in `(alpha, t)` with its end point, and the
//! clustering threshold `alpha_d` where the informed branch at `t = 0`
//! becomes non-trivial (PHYSICS.md section 13).
//!
//! The uninformed branch sweeps the grid upwards, each point warm-started from
//! the previous population (the smallest fixed point only grows with `t`); the
//! informed branch sweeps downwards from the planted messages. Each point
//! iterates until the overlap settles (at most `iterations`), then averages the
//! moments over further iterations. Both branches at one point evaluate the
//! Bethe free entropy with the same random numbers, so their difference is
//! much more precise than either.

use serde::{Deserialize, Serialize};

use super::popdyn::{bethe, Estimate, Observation, Population, Recursion};
use crate::observe::{Cancelled, Observer};
use crate::resume::{self, Finished};

/// Which path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PathKind {
    Diffusion,
    Decimation,
}

impl PathKind {
    pub fn at(&self, t: f64) -> Observation {
        match self {
            PathKind::Diffusion => Observation::Diffusion { gamma2: t },
            PathKind::Decimation => Observation::Decimation { theta: t },
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            PathKind::Diffusion => "diffusion",
            PathKind::Decimation => "decimation",
        }
    }
}

/// Numerical settings shared by every point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PopSettings {
    pub population: usize,
    pub iterations: usize,
    /// Draws per term of the Bethe free entropy.
    pub bethe_samples: usize,
    pub seed: u64,
}

/// Both branches at one path value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PopPoint {
    pub t: f64,
    pub m_uninf: Estimate,
    pub m_inf: Estimate,
    pub q_uninf: f64,
    pub q_inf: f64,
    /// Free entropy per vertex of each branch by thermodynamic integration
    /// (see `free_entropies`).
    pub phi_uninf: Estimate,
    pub phi_inf: Estimate,
    /// The same from the Bethe formula at the point's population (noisier; a check).
    pub bethe_uninf: Estimate,
    pub bethe_inf: Estimate,
}

/// One branch at one point.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct BranchPoint {
    overlap: Estimate,
    q: f64,
    /// Mean binary entropy of the marginals.
    entropy: f64,
    bethe: Estimate,
}

impl PopPoint {
    /// True when the branches differ beyond their statistical errors (and 0.02).
    pub fn split(&self) -> bool {
        let gap = self.m_inf.mean - self.m_uninf.mean;
        gap > (0.02f64).max(4.0 * (self.m_inf.err + self.m_uninf.err))
    }
}

/// The branches along one path for one `(k, alpha)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PopPath {
    pub k: usize,
    pub alpha: f64,
    pub path: PathKind,
    pub settings: PopSettings,
    pub points: Vec<PopPoint>,
    pub transitions: PopTransitions,
    /// `Φ_i - Φ_u` from the two integrations at the top of the grid (0 up to
    /// integration error; see `free_entropies`).
    pub closure: f64,
}

/// Where the branches split and cross, at the grid's resolution.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct PopTransitions {
    /// First grid value where the informed branch differs from the uninformed one.
    pub spinodal_low_t: Option<f64>,
    /// Last grid value where they differ (the uninformed branch jumps after it).
    pub spinodal_high_t: Option<f64>,
    /// Where `phi_inf - phi_uninf` changes sign inside the window (linear interpolation).
    pub first_order_t: Option<f64>,
}

/// What an interrupted `pop_path` saved (`resume`): the points of each branch
/// solved so far (the informed branch from the top of the grid down) and the
/// population the next point of the current branch starts from (the informed
/// branch's first point starts from the planted messages instead). The branches are sequential warm
/// starts, so this is all the rest depends on: a resumed run gives the same
/// bits.
#[derive(Serialize, Deserialize)]
struct PathProgress {
    uninf: Vec<BranchPoint>,
    inf_from_top: Vec<BranchPoint>,
    warm_start: Vec<[f64; 2]>,
}

/// Largest diffusion time of the informed branch's integration grid.
const T_TAIL: f64 = 8.0;
/// Extra points of that grid above the user's.
const TAIL_POINTS: usize = 24;

/// Solves both branches on the grid `ts` (increasing, from 0).
pub fn pop_path(
    k: usize,
    alpha: f64,
    path: PathKind,
    ts: &[f64],
    settings: PopSettings,
    observer: &dyn Observer,
) -> Result<PopPath, Cancelled> {
    let n = ts.len();
    // The informed branch continues above the grid, to anchor its free entropy.
    let top = ts.last().copied().unwrap_or(0.0);
    let end = match path {
        PathKind::Diffusion => T_TAIL,
        PathKind::Decimation => 1.0,
    };
    let mut tail: Vec<f64> = Vec::new();
    if top < end {
        // Geometric in the distance to the grid's top (fine where m still moves).
        let first = ((end - top) / 200.0).max(1e-3);
        let ratio = ((end - top) / first).powf(1.0 / (TAIL_POINTS - 1) as f64);
        tail = (0..TAIL_POINTS)
            .map(|j| if j + 1 == TAIL_POINTS { end } else { top + first * ratio.powi(j as i32) })
            .collect();
    }
    let all: Vec<f64> = ts.iter().chain(&tail).copied().collect();
    let total = (n + all.len()) as u64;
    // Everything the remaining points depend on, saved as they finish.
    let tag = format!("population dynamics path k={k} alpha={alpha:?} {path:?} grid={all:?} {settings:?}");
    let mut state: PathProgress = resume::load(observer, &tag).unwrap_or_else(|| PathProgress {
        uninf: Vec::with_capacity(n),
        inf_from_top: Vec::with_capacity(all.len()),
        warm_start: Population::uninformed(settings.population).elements,
    });
    let mut done = (state.uninf.len() + state.inf_from_top.len()) as u64;
    if done > 0 {
        observer.log(&format!("resuming from the checkpoint: {done} of {total} points already done"));
    }
    let save = |state: &PathProgress| {
        if observer.checkpoint_due() {
            resume::save(observer, &tag, state);
        }
    };
    for (j, &t) in ts.iter().enumerate().skip(state.uninf.len()) {
        observer.checkpoint()?;
        let mut pop = Population { elements: std::mem::take(&mut state.warm_start) };
        let point = branch_point(k, alpha, path.at(t), &mut pop, settings, 2 * j as u64, settings.seed ^ j as u64);
        state.uninf.push(point);
        state.warm_start = pop.elements;
        done += 1;
        observer.progress(done, total);
        save(&state);
    }
    // The informed branch starts from the planted messages.
    if state.inf_from_top.is_empty() {
        state.warm_start = Population::informed(settings.population).elements;
    }
    for j in (0..all.len() - state.inf_from_top.len()).rev() {
        observer.checkpoint()?;
        let t = all[j];
        let at_end = path == PathKind::Decimation && t >= 1.0;
        let mut pop = Population { elements: std::mem::take(&mut state.warm_start) };
        let point = if at_end {
            // Everything revealed: the fields are hard, nothing is left to learn.
            BranchPoint {
                overlap: Estimate { mean: 1.0, err: 0.0 },
                q: 1.0,
                entropy: 0.0,
                bethe: Estimate { mean: 0.0, err: 0.0 },
            }
        } else {
            branch_point(k, alpha, path.at(t), &mut pop, settings, 2 * j as u64 + 1, settings.seed ^ j as u64)
        };
        state.inf_from_top.push(point);
        state.warm_start = pop.elements;
        done += 1;
        observer.progress(done, total);
        save(&state);
    }
    let uninf = state.uninf;
    let inf: Vec<BranchPoint> = state.inf_from_top.into_iter().rev().collect();
    let (phi_uninf, phi_inf) = free_entropies(k, alpha, path, ts, &all, &uninf, &inf);
    let closure = phi_inf.last().zip(phi_uninf.last()).map_or(0.0, |(i, u)| i.mean - u.mean);
    let points: Vec<PopPoint> = (0..n)
        .map(|j| PopPoint {
            t: ts[j],
            m_uninf: uninf[j].overlap,
            m_inf: inf[j].overlap,
            q_uninf: uninf[j].q,
            q_inf: inf[j].q,
            phi_uninf: phi_uninf[j],
            phi_inf: phi_inf[j],
            bethe_uninf: uninf[j].bethe,
            bethe_inf: inf[j].bethe,
        })
        .collect();
    for p in &points {
        observer.trace("m_uninf", p.t, p.m_uninf.mean);
        observer.trace("m_inf", p.t, p.m_inf.mean);
    }
    let mut points = points;
    let split: Vec<usize> = (0..n).filter(|&j| points[j].split()).collect();
    let (low, high) = (split.first().copied().unwrap_or(n), split.last().copied().unwrap_or(n));
    for (j, p) in points.iter_mut().enumerate() {
        if !p.split() {
            if j < low {
                p.phi_inf = p.phi_uninf;
            } else if j > high {
                p.phi_uninf = p.phi_inf;
            }
        }
    }
    let transitions = transitions(&points);
    Ok(PopPath { k, alpha, path, settings, points, transitions, closure })
}

/// Free entropies of both branches by thermodynamic integration, anchored
/// where they are known exactly: at `t = 0` the planted ensemble's free
/// entropy is the annealed entropy `Φ(0)` (below condensation), and at the
/// end of the path every variable is known.
///
/// Diffusion (`y = t x* + sqrt(t) z`, `Φ(t) = E ln Σ_x 1[proper] e^{y.x} / N`):
/// `dΦ/dt = (1 + m)/2` along a branch (I-MMSE), and `Φ(t) - t -> 0` as
/// `t -> ∞`, so `Φ_u(t) = Φ(0) + (1/2)∫_0^t (1 + m_u)` and
/// `Φ_i(t) = t + (1/2)∫_t^∞ (1 - m_i)` (the tail above `T_TAIL` is dropped).
/// Decimation (entropy of the unrevealed part): `dΦ/dθ = -s(θ)` with
/// `s = E H_b / (1 - θ)` the entropy of a vertex about to be revealed, and
/// `Φ(1) = 0`. Errors: per-point overlap errors through the trapezoid weights.
/// Where the branches coincide (outside the window) both report the value of
/// the branch integrated from its own anchor: `Φ_u` below the window, `Φ_i`
/// above it; `closure` (the difference of the two integrals at the top of
/// the grid, 0 in exact arithmetic by I-MMSE) measures the integration error.
#[allow(clippy::too_many_arguments)]
fn free_entropies(
    k: usize,
    alpha: f64,
    path: PathKind,
    ts: &[f64],
    all: &[f64],
    uninf: &[BranchPoint],
    inf: &[BranchPoint],
) -> (Vec<Estimate>, Vec<Estimate>) {
    let phi0 = super::popdyn::annealed_entropy(k, alpha);
    // Integrands (and their errors) of the two branches.
    let integrand = |p: &BranchPoint, t: f64| -> (f64, f64) {
        match path {
            PathKind::Diffusion => (0.5 * (1.0 - p.overlap.mean), 0.5 * p.overlap.err),
            PathKind::Decimation if t < 1.0 => (p.entropy / (1.0 - t), p.overlap.err / (1.0 - t)),
            PathKind::Decimation => (0.0, 0.0),
        }
    };
    // Cumulative trapezoid from the start of the grid: (value, variance).
    let cumulative = |grid: &[f64], points: &[BranchPoint]| -> Vec<(f64, f64)> {
        let mut out = vec![(0.0, 0.0)];
        for j in 1..grid.len() {
            let (a, ea) = integrand(&points[j - 1], grid[j - 1]);
            let (b, eb) = integrand(&points[j], grid[j]);
            let h = grid[j] - grid[j - 1];
            let (v, var) = out[j - 1];
            out.push((v + 0.5 * h * (a + b), var + 0.25 * h * h * (ea * ea + eb * eb)));
        }
        out
    };
    let cu = cumulative(ts, uninf);
    let ci = cumulative(all, inf);
    let (total_i, var_total_i) = *ci.last().expect("non-empty grid");
    let start = ts.first().copied().unwrap_or(0.0);
    let mut phi_u = Vec::with_capacity(ts.len());
    let mut phi_i = Vec::with_capacity(ts.len());
    for (j, &t) in ts.iter().enumerate() {
        let (iu, vu) = cu[j];
        let (ii, vi) = (total_i - ci[j].0, (var_total_i - ci[j].1).max(0.0));
        match path {
            PathKind::Diffusion => {
                // (1/2)∫ (1 + m) = (t - start) - (1/2)∫ (1 - m).
                phi_u.push(Estimate { mean: phi0 + (t - start) - iu, err: vu.sqrt() });
                phi_i.push(Estimate { mean: t + ii, err: vi.sqrt() });
            }
            PathKind::Decimation => {
                phi_u.push(Estimate { mean: phi0 - iu, err: vu.sqrt() });
                phi_i.push(Estimate { mean: ii, err: vi.sqrt() });
            }
        }
    }
    (phi_u, phi_i)
}

/// Runs one branch at one point (warm start in `pop`): overlap, `q`, `Φ`.
/// Iterates in blocks of `BLOCK` until the overlap moves by less than
/// `SETTLE` between blocks (or `settings.iterations` are spent), then
/// measures over `max(BLOCK, iterations / 5)` more iterations.
fn branch_point(
    k: usize,
    alpha: f64,
    observation: Observation,
    pop: &mut Population,
    settings: PopSettings,
    stream: u64,
    bethe_seed: u64,
) -> BranchPoint {
    const BLOCK: usize = 10;
    const SETTLE: f64 = 2e-3;
    let rec = Recursion::new(k, alpha, observation);
    let seed = settings.seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut done = 0;
    let mut last = pop.moments().overlap;
    while done < settings.iterations {
        rec.run(pop, seed, done as u64, BLOCK);
        done += BLOCK;
        let now = pop.moments().overlap;
        if (now - last).abs() < SETTLE {
            break;
        }
        last = now;
    }
    let measured = (settings.iterations / 5).max(BLOCK);
    let (mut overlaps, mut qs, mut entropy) = (Vec::with_capacity(measured), Vec::with_capacity(measured), 0.0);
    for it in 0..measured {
        rec.run(pop, seed, (done + it) as u64, 1);
        let m = pop.moments();
        overlaps.push(m.overlap);
        qs.push(m.q);
        entropy += m.entropy / measured as f64;
    }
    let overlap = Estimate::of(&overlaps);
    // Consecutive iterations are correlated; the population's own sampling
    // error, sqrt(Var(tanh g) / population), is the floor.
    let q = qs.iter().sum::<f64>() / qs.len() as f64;
    let floor = ((q - overlap.mean * overlap.mean).max(0.0) / settings.population as f64).sqrt();
    let overlap = Estimate { mean: overlap.mean, err: overlap.err.max(floor) };
    BranchPoint { overlap, q, entropy, bethe: bethe(&rec, pop, settings.bethe_samples, bethe_seed) }
}

/// The window where the branches differ, and the sign change of `Δφ` in it.
pub fn transitions(points: &[PopPoint]) -> PopTransitions {
    let split: Vec<&PopPoint> = points.iter().filter(|p| p.split()).collect();
    let (Some(low), Some(high)) = (split.first(), split.last()) else { return PopTransitions::default() };
    let dphi = |p: &PopPoint| p.phi_inf.mean - p.phi_uninf.mean;
    let mut first_order = None;
    if dphi(low) >= 0.0 {
        first_order = Some(low.t);
    } else {
        for w in split.windows(2) {
            let (a, b) = (dphi(w[0]), dphi(w[1]));
            if a < 0.0 && b >= 0.0 {
                first_order = Some(w[0].t + (w[1].t - w[0].t) * (-a) / (b - a));
                break;
            }
        }
    }
    PopTransitions { spinodal_low_t: Some(low.t), spinodal_high_t: Some(high.t), first_order_t: first_order }
}

/// One `alpha` row of the phase diagram.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PopRow {
    pub alpha: f64,
    pub transitions: PopTransitions,
    /// `m_inf - m_uninf` on the t grid.
    pub delta_m: Vec<f64>,
}

/// The phase diagram in `(alpha, t)` along one path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PopDiagram {
    pub k: usize,
    pub path: PathKind,
    pub settings: PopSettings,
    pub t: Vec<f64>,
    pub rows: Vec<PopRow>,
    /// The end point of the first-order line (`end_point`): `alpha` between the
    /// last grid row without a hysteresis window and the first with one, and
    /// the middle of that first window in `t`.
    pub end_point: Option<(f64, f64)>,
    /// Where the informed branch at `t = 0` becomes non-trivial (bisection).
    pub alpha_d: Option<f64>,
}

/// Rows for every `alpha` (sequential; each row parallel over its population;
/// finished rows are checkpointed through `observer`, `resume::Finished`),
/// the end point and `alpha_d` (bisection in `[alphas[0], alphas[last]]`, `bisections` steps).
pub fn pop_diagram(
    k: usize,
    path: PathKind,
    alphas: &[f64],
    ts: &[f64],
    settings: PopSettings,
    bisections: usize,
    observer: &dyn Observer,
) -> Result<PopDiagram, Cancelled> {
    let tag = format!("bicoloring diagram k {k} {path:?} alphas {alphas:?} t {ts:?} {settings:?}");
    let finished = Finished::<PopRow>::resume(observer, tag, "rows");
    let emit = |row: &PopRow| {
        let tr = row.transitions;
        if let (Some(lo), Some(hi)) = (tr.spinodal_low_t, tr.spinodal_high_t) {
            observer.trace("spinodal_low", row.alpha, lo);
            observer.trace("spinodal_high", row.alpha, hi);
        }
        if let Some(fo) = tr.first_order_t {
            observer.trace("first_order", row.alpha, fo);
        }
    };
    let total = (alphas.len() + bisections) as u64;
    finished.for_each(|_, row| emit(row));
    let skip = finished.done();
    for (r, &alpha) in alphas.iter().enumerate() {
        if skip.contains(&(r as u64)) {
            continue;
        }
        let row_settings = PopSettings { seed: settings.seed.wrapping_add(r as u64 * 7919), ..settings };
        let p = pop_path(k, alpha, path, ts, row_settings, &Silent(observer))?;
        let delta_m = p.points.iter().map(|q| q.m_inf.mean - q.m_uninf.mean).collect();
        let row = PopRow { alpha, transitions: p.transitions, delta_m };
        emit(&row);
        finished.insert(r as u64, row);
        observer.progress(finished.done().len() as u64, total);
    }
    let rows = finished.into_items();
    let end_point = end_point(&rows);
    let alpha_d = match (alphas.first(), alphas.last()) {
        (Some(&lo), Some(&hi)) if bisections > 0 => {
            let d = alpha_d(k, lo, hi, bisections, settings, &|step| {
                observer.progress((alphas.len() + step) as u64, (alphas.len() + bisections) as u64)
            })?;
            observer.checkpoint()?;
            d
        }
        _ => None,
    };
    Ok(PopDiagram { k, path, settings, t: ts.to_vec(), rows, end_point, alpha_d })
}

/// The end point of the first-order line from the diagram's rows (in
/// increasing `alpha`). Near a mean-field critical end point the branches'
/// largest gap vanishes as a square root, `gap^2 ∝ alpha - alpha_e`: the line
/// through the first two rows with a window, in `gap^2`, meets zero at the
/// estimate, kept between the last row without a window and the first with
/// one. With fewer rows to fit (or gaps that do not grow) the first row with
/// a window is the estimate: an upper bound at the grid's resolution. `t` is
/// the middle of that first window.
pub fn end_point(rows: &[PopRow]) -> Option<(f64, f64)> {
    let window = |r: &PopRow| Some((r.transitions.spinodal_low_t?, r.transitions.spinodal_high_t?));
    let gap_sq = |r: &PopRow| r.delta_m.iter().copied().fold(0.0f64, f64::max).powi(2);
    let first = rows.iter().position(|r| window(r).is_some())?;
    let row = &rows[first];
    let (lo, hi) = window(row)?;
    let mut alpha = row.alpha;
    if let (Some(before), Some(next)) = (first.checked_sub(1).map(|b| &rows[b]), rows.get(first + 1)) {
        let (g1, g2) = (gap_sq(row), gap_sq(next));
        if window(next).is_some() && g2 > g1 {
            alpha = (row.alpha - g1 * (next.alpha - row.alpha) / (g2 - g1)).clamp(before.alpha, row.alpha);
        }
    }
    Some((alpha, 0.5 * (lo + hi)))
}

/// Overlap of the informed branch at `t = 0` after `settings.iterations` iterations.
pub fn informed_overlap_at_zero(k: usize, alpha: f64, settings: PopSettings) -> f64 {
    let rec = Recursion::new(k, alpha, Observation::Diffusion { gamma2: 0.0 });
    let mut pop = Population::informed(settings.population);
    rec.run(&mut pop, settings.seed, 0, settings.iterations);
    pop.moments().overlap
}

/// Bisection for the smallest `alpha` where the informed branch at `t = 0`
/// keeps an overlap above 0.1; `None` when `[lo, hi]` does not bracket it.
pub fn alpha_d(
    k: usize,
    lo: f64,
    hi: f64,
    steps: usize,
    settings: PopSettings,
    progress: &dyn Fn(usize),
) -> Result<Option<f64>, Cancelled> {
    let informed = |alpha| informed_overlap_at_zero(k, alpha, settings) > 0.1;
    if informed(lo) || !informed(hi) {
        return Ok(None);
    }
    let (mut lo, mut hi) = (lo, hi);
    for step in 0..steps {
        let mid = 0.5 * (lo + hi);
        if informed(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
        progress(step + 1);
    }
    Ok(Some(0.5 * (lo + hi)))
}

/// Forwards only cancellation (row paths report through the diagram instead).
struct Silent<'a>(&'a dyn Observer);

impl Observer for Silent<'_> {
    fn progress(&self, _: u64, _: u64) {}
    fn trace(&self, _: &str, _: f64, _: f64) {}
    fn histogram(&self, _: &str, _: &[f64], _: &[u64]) {}
    fn log(&self, message: &str) {
        self.0.log(message)
    }
    fn cancelled(&self) -> bool {
        self.0.cancelled()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe;

    fn row(alpha: f64, gap: f64) -> PopRow {
        let window = gap > 0.0;
        let transitions = PopTransitions {
            spinodal_low_t: window.then_some(0.2),
            spinodal_high_t: window.then_some(0.3),
            first_order_t: window.then_some(0.25),
        };
        PopRow { alpha, transitions, delta_m: vec![0.0, gap, 0.5 * gap, 0.0] }
    }

    #[test]
    fn the_end_point_follows_the_square_root_law_of_the_gap() {
        // gap^2 = 0.04 at 8.5 and 0.09 at 9.0: zero at 8.5 - 0.04 * 0.5 / 0.05 = 8.1.
        let rows = [row(8.0, 0.0), row(8.5, 0.2), row(9.0, 0.3), row(9.5, 0.5)];
        let (alpha, t) = end_point(&rows).unwrap();
        assert!((alpha - 8.1).abs() < 1e-12 && (t - 0.25).abs() < 1e-12, "{alpha} {t}");
        // Kept above the last row without a window.
        let (alpha, _) = end_point(&[row(8.0, 0.0), row(8.5, 0.3), row(9.0, 0.31)]).unwrap();
        assert_eq!(alpha, 8.0);
        // No row below the first window, or no second window to fit: the grid's value.
        assert_eq!(end_point(&[row(8.5, 0.2), row(9.0, 0.3)]).unwrap().0, 8.5);
        assert_eq!(end_point(&[row(8.0, 0.0), row(8.5, 0.2), row(9.0, 0.0)]).unwrap().0, 8.5);
        assert_eq!(end_point(&[row(8.0, 0.0), row(8.5, 0.0)]), None);
    }

    #[test]
    fn diffusion_window_appears_above_the_end_point_k5() {
        // PHYSICS.md 13: at k = 5 the diffusion path has a first-order window
        // from alpha about 8.45 (gamma2 about 0.28); at alpha = 9.2 there is one,
        // at alpha = 8.0 there is none.
        let settings = PopSettings { population: 6_000, iterations: 150, bethe_samples: 20_000, seed: 1 };
        let ts: Vec<f64> = (0..=14).map(|j| 0.025 * j as f64).collect();
        let wide = pop_path(5, 9.2, PathKind::Diffusion, &ts, settings, &observe::Silent).unwrap();
        let tr = wide.transitions;
        eprintln!("alpha 9.2 diffusion: {tr:?} closure {}", wide.closure);
        assert!(wide.closure.abs() < 0.01, "I-MMSE closure {}", wide.closure);
        let (lo, hi) = (tr.spinodal_low_t.expect("a window at 9.2"), tr.spinodal_high_t.unwrap());
        assert!(lo < hi && hi < 0.3, "window [{lo}, {hi}]");
        let fo = tr.first_order_t.expect("a first-order point");
        assert!(lo <= fo && fo <= hi, "first order {fo} outside [{lo}, {hi}]");
        let none = pop_path(5, 8.0, PathKind::Diffusion, &ts, settings, &observe::Silent).unwrap();
        assert_eq!(none.transitions.spinodal_low_t, None, "{:?}", none.points);
    }
}
