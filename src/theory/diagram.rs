//! Phase diagram over a `(Delta, t)` grid for one path: both SE branches in every cell,
//! the spinodal and first-order lines, the critical point and the static transitions.
//! Rows (one `Delta` each) are independent and run in parallel with rayon; every cell is
//! computed by the same sequential code whatever the thread count, so results are
//! bit-identical for any number of threads. Finished rows are checkpointed, so an
//! interrupted diagram resumes with the rows it had.

use super::branch::Transition;
use super::critical::{critical_point, static_transitions, CriticalPoint, StaticTransitions};
use super::curve::Curve;
use super::model::{Model, Path};
use super::prior::Prior;
use super::TheoryError;
use crate::observe::{Observer, Silent};
use crate::resume::Finished;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Grid and model family of a phase diagram (`Delta` is the raw noise variance).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PhaseDiagramSpec {
    pub p: u32,
    pub prior: Prior,
    pub path: Path,
    pub delta_min: f64,
    pub delta_max: f64,
    pub delta_points: usize,
    pub t_min: f64,
    pub t_max: f64,
    pub t_points: usize,
}

/// A point `(Delta, t)` of a transition line.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LinePoint {
    pub delta: f64,
    pub t: f64,
}

/// Phase diagram. Grids are row-major with `Delta` slow and `t` fast: cell
/// `(i, j)` (i.e. `delta[i]`, `t[j]`) is at index `i * t.len() + j`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseDiagram {
    pub spec: PhaseDiagramSpec,
    /// `Delta` grid (numpy `linspace` convention)
    pub delta: Vec<f64>,
    /// path-variable grid
    pub t: Vec<f64>,
    pub m_uninf: Vec<f64>,
    pub m_inf: Vec<f64>,
    /// `m_inf - m_uninf`
    pub delta_m: Vec<f64>,
    /// `(Delta, max(sp1, 0))` for the rows with a first-order transition on the path
    pub lower_spinodal: Vec<LinePoint>,
    /// `(Delta, sp2)` for the same rows
    pub upper_spinodal: Vec<LinePoint>,
    /// `(Delta, P_IT)` for the same rows
    pub first_order: Vec<LinePoint>,
    /// critical point of the path (over all `Delta`, not only the grid range)
    pub end_point: Option<CriticalPoint>,
    pub statics: StaticTransitions,
}

/// `n` points from `a` to `b` inclusive, as `numpy.linspace` (`a + i*step`, last = `b`).
pub fn linspace(a: f64, b: f64, n: usize) -> Vec<f64> {
    match n {
        0 => Vec::new(),
        1 => vec![a],
        _ => {
            let step = (b - a) / (n - 1) as f64;
            let mut v: Vec<f64> = (0..n).map(|i| a + i as f64 * step).collect();
            v[n - 1] = b;
            v
        }
    }
}

impl PhaseDiagramSpec {
    /// Checks ranges and sizes.
    pub fn validate(&self) -> Result<(), TheoryError> {
        Model::new(self.p, self.prior, self.delta_min)?;
        Model::new(self.p, self.prior, self.delta_max)?;
        self.path.validate_t(self.t_min)?;
        self.path.validate_t(self.t_max)?;
        if self.delta_points == 0 || self.t_points == 0 {
            return Err(TheoryError::InvalidParameter("empty grid".into()));
        }
        if self.delta_min > self.delta_max || self.t_min > self.t_max {
            return Err(TheoryError::InvalidParameter("grid bounds reversed".into()));
        }
        Ok(())
    }
}

#[derive(Serialize, Deserialize)]
struct Row {
    m_uninf: Vec<f64>,
    m_inf: Vec<f64>,
    transition: Option<Transition>,
}

fn solve_row(spec: &PhaseDiagramSpec, delta: f64, t: &[f64]) -> Result<Row, TheoryError> {
    let model = Model::new(spec.p, spec.prior, delta)?;
    let t_curve = match spec.path {
        Path::Diffusion => spec.t_max.max(1.0),
        Path::Decimation => 1.0,
    };
    let curve = Curve::new(&model, spec.path, t_curve)?;
    let (mut m_uninf, mut m_inf) = (Vec::with_capacity(t.len()), Vec::with_capacity(t.len()));
    let mut cursor = (0, 0);
    for &x in t {
        let (u, i) = curve.branches_sweep(x, &mut cursor)?;
        m_uninf.push(u);
        m_inf.push(i);
    }
    Ok(Row { m_uninf, m_inf, transition: curve.transition()? })
}

/// Computes the phase diagram. `progress(done_rows, total_rows)` is called after each
/// row, possibly from several threads; returning `false` cancels the computation, which
/// then returns [`TheoryError::Cancelled`].
pub fn phase_diagram(
    spec: &PhaseDiagramSpec,
    progress: &(dyn Fn(usize, usize) -> bool + Sync),
) -> Result<PhaseDiagram, TheoryError> {
    phase_diagram_resumable(spec, progress, &Silent)
}

/// As [`phase_diagram`], checkpointing the finished rows through `checkpoints`
/// (`resume::Finished`) and resuming from the rows it saved before.
pub fn phase_diagram_resumable(
    spec: &PhaseDiagramSpec,
    progress: &(dyn Fn(usize, usize) -> bool + Sync),
    checkpoints: &dyn Observer,
) -> Result<PhaseDiagram, TheoryError> {
    spec.validate()?;
    let delta = linspace(spec.delta_min, spec.delta_max, spec.delta_points);
    let t = linspace(spec.t_min, spec.t_max, spec.t_points);
    let finished = Finished::<Row>::resume(checkpoints, format!("phase diagram {spec:?}"), "rows");
    let skip = finished.done();
    let cancelled = AtomicBool::new(false);
    let done = AtomicUsize::new(skip.len());
    let special = || -> Result<_, TheoryError> {
        Ok((critical_point(spec.p, &spec.prior, spec.path)?, static_transitions(spec.p, &spec.prior)?))
    };
    let rows = || -> Result<(), TheoryError> {
        let todo: Vec<usize> = (0..delta.len()).filter(|i| !skip.contains(&(*i as u64))).collect();
        todo.into_par_iter().try_for_each(|i| {
            if cancelled.load(Ordering::Relaxed) {
                return Err(TheoryError::Cancelled);
            }
            finished.insert(i as u64, solve_row(spec, delta[i], &t)?);
            let n = done.fetch_add(1, Ordering::Relaxed) + 1;
            if !progress(n, delta.len()) {
                cancelled.store(true, Ordering::Relaxed);
            }
            Ok(())
        })
    };
    let (rows, special) = rayon::join(rows, special);
    if cancelled.load(Ordering::Relaxed) {
        return Err(TheoryError::Cancelled);
    }
    let (end_point, statics) = special?;
    rows?;
    Ok(assemble(spec, delta, t, finished.into_items(), end_point, statics))
}

fn assemble(
    spec: &PhaseDiagramSpec,
    delta: Vec<f64>,
    t: Vec<f64>,
    rows: Vec<Row>,
    end_point: Option<CriticalPoint>,
    statics: StaticTransitions,
) -> PhaseDiagram {
    let line = |d: f64, x: f64| LinePoint { delta: d, t: x };
    let mut out = PhaseDiagram {
        spec: *spec,
        m_uninf: Vec::with_capacity(delta.len() * t.len()),
        m_inf: Vec::with_capacity(delta.len() * t.len()),
        delta_m: Vec::with_capacity(delta.len() * t.len()),
        lower_spinodal: Vec::new(),
        upper_spinodal: Vec::new(),
        first_order: Vec::new(),
        end_point,
        statics,
        delta: Vec::new(),
        t,
    };
    for (row, &d) in rows.into_iter().zip(&delta) {
        out.delta_m.extend(row.m_inf.iter().zip(&row.m_uninf).map(|(i, u)| i - u));
        out.m_uninf.extend(row.m_uninf);
        out.m_inf.extend(row.m_inf);
        if let Some(tr) = row.transition {
            out.lower_spinodal.push(line(d, tr.spinodal_low_t));
            out.upper_spinodal.push(line(d, tr.spinodal_high_t));
            out.first_order.push(line(d, tr.first_order_t));
        }
    }
    out.delta = delta;
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::theory::se::transition;

    fn spec(path: Path) -> PhaseDiagramSpec {
        PhaseDiagramSpec {
            p: 3,
            prior: Prior::Rademacher,
            path,
            delta_min: 0.05,
            delta_max: 0.4,
            delta_points: 24,
            t_min: 0.0,
            t_max: 0.25,
            t_points: 31,
        }
    }

    fn run_with_threads(spec: &PhaseDiagramSpec, threads: usize) -> PhaseDiagram {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| phase_diagram(spec, &|_, _| true)).unwrap()
    }

    #[test]
    fn bit_identical_for_any_thread_count() {
        for path in [Path::Diffusion, Path::Decimation] {
            let s = spec(path);
            let a = run_with_threads(&s, 1);
            let b = run_with_threads(&s, 3);
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&a.m_uninf), bits(&b.m_uninf));
            assert_eq!(bits(&a.m_inf), bits(&b.m_inf));
            assert!(a == b, "diagrams differ between 1 and 3 threads");
        }
    }

    #[test]
    fn layout_lines_and_serde_roundtrip() {
        let s = spec(Path::Diffusion);
        let d = phase_diagram(&s, &|_, _| true).unwrap();
        assert_eq!(d.delta_m.len(), s.delta_points * s.t_points);
        let (i, j) = (20, 7);
        let k = i * s.t_points + j;
        let model = Model::new(3, Prior::Rademacher, d.delta[i]).unwrap();
        let pt = crate::theory::se::solve_point(&model, Path::Diffusion, d.t[j]).unwrap();
        assert_eq!((d.m_uninf[k], d.m_inf[k]), (pt.m_uninf, pt.m_inf));
        assert_eq!(d.delta_m[k], pt.m_inf - pt.m_uninf);
        // Lines: one point per row with a transition, equal to `transition`.
        for (lp, up) in d.first_order.iter().zip(&d.upper_spinodal) {
            let m = Model::new(3, Prior::Rademacher, lp.delta).unwrap();
            let tr = transition(&m, Path::Diffusion).unwrap().unwrap();
            assert_eq!((lp.t, up.t), (tr.first_order_t, tr.spinodal_high_t));
        }
        let end = d.end_point.unwrap();
        assert!(d.first_order.iter().all(|p| p.delta < end.delta));
        assert!(d.first_order.len() >= 20);
        let json = serde_json::to_string(&d).unwrap();
        let back: PhaseDiagram = serde_json::from_str(&json).unwrap();
        // (serde_json's default float parsing may differ from the input in the last ulp)
        let close = |a: &[f64], b: &[f64]| a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= 1e-15);
        assert!(close(&back.m_inf, &d.m_inf) && close(&back.delta_m, &d.delta_m));
        assert!(back.first_order.len() == d.first_order.len() && back.spec == d.spec);
    }

    #[test]
    fn cancellation_and_validation() {
        let s = spec(Path::Decimation);
        let r = phase_diagram(&s, &|done, _| done < 3);
        assert_eq!(r.unwrap_err(), TheoryError::Cancelled);
        let bad = PhaseDiagramSpec { t_max: 1.5, ..s };
        assert!(matches!(phase_diagram(&bad, &|_, _| true), Err(TheoryError::InvalidParameter(_))));
        assert_eq!(linspace(0.0, 1.0, 5), vec![0.0, 0.25, 0.5, 0.75, 1.0]);
    }
}
