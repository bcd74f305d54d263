//! What the oracle-driven samplers (diffusion, flow, autoregressive) share:
//! the per-trajectory record of the path (`|x̂|^2/N`, `x̂ . x_final / N`, AMP
//! iterations, against the path parameter `t = gamma2` or `theta`), running
//! trajectories in parallel on their own seeded streams, the progress of all
//! trajectories counted in steps (each batch reports every step it takes),
//! checkpoints of the finished trajectories, and the averaged path traces sent
//! to the observer.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::amp::oracle::PosteriorMean;
use crate::amp::Solve;
use crate::observe::{Cancelled, Observer};
use crate::resume::Finished;
use crate::rng::{self, Rng};

/// One point of a trajectory's path.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PathPoint {
    /// Path parameter: `t = gamma2` (diffusion, flow) or `theta` (decimation).
    pub param: f64,
    /// `|x̂|^2 / N` of the oracle's estimate here.
    pub m_hat_sq: f64,
    /// `x̂ . x_final / N` (the final sample stands in for `x*`).
    pub overlap_final: f64,
    pub amp_iterations: usize,
    pub converged: bool,
    /// Sampler steps (oracle solves) since the previous point (1 on a fixed grid).
    pub steps: usize,
}

/// A finished trajectory: its sample and its path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trajectory {
    pub sample: Vec<f64>,
    pub path: Vec<PathPoint>,
}

/// All trajectories of one sampler run, in trajectory order.
#[derive(Debug, Clone, PartialEq)]
pub struct SamplerRun {
    pub trajectories: Vec<Trajectory>,
}

impl SamplerRun {
    pub fn samples(&self) -> Vec<&[f64]> {
        self.trajectories.iter().map(|t| t.sample.as_slice()).collect()
    }

    /// The path averaged over trajectories (all share one grid); `converged`
    /// is true when every trajectory converged at that point.
    pub fn mean_path(&self) -> Vec<PathPoint> {
        let count = self.trajectories.len() as f64;
        let Some(first) = self.trajectories.first() else { return Vec::new() };
        (0..first.path.len())
            .map(|k| {
                let points = self.trajectories.iter().map(|t| t.path[k]);
                let mean = |f: fn(&PathPoint) -> f64| points.clone().map(|p| f(&p)).sum::<f64>() / count;
                PathPoint {
                    param: first.path[k].param,
                    m_hat_sq: mean(|p| p.m_hat_sq),
                    overlap_final: mean(|p| p.overlap_final),
                    amp_iterations: (mean(|p| p.amp_iterations as f64)).round() as usize,
                    converged: points.clone().all(|p| p.converged),
                    steps: (mean(|p| p.steps as f64)).round() as usize,
                }
            })
            .collect()
    }

    /// Sends the mean path as series `m_hat_sq`, `overlap_final`,
    /// `amp_iterations` (mean over trajectories, unrounded) and `unconverged`
    /// (fraction of trajectories whose solve hit the iteration cap).
    pub fn emit_traces(&self, observer: &dyn Observer) {
        let count = self.trajectories.len() as f64;
        let Some(first) = self.trajectories.first() else { return };
        for k in 0..first.path.len() {
            let param = first.path[k].param;
            let sum = |f: &dyn Fn(&PathPoint) -> f64| self.trajectories.iter().map(|t| f(&t.path[k])).sum::<f64>();
            observer.trace("m_hat_sq", param, sum(&|p| p.m_hat_sq) / count);
            observer.trace("overlap_final", param, sum(&|p| p.overlap_final) / count);
            observer.trace("amp_iterations", param, sum(&|p| p.amp_iterations as f64) / count);
            observer.trace("unconverged", param, sum(&|p| if p.converged { 0.0 } else { 1.0 }) / count);
        }
    }
}

/// Records `x̂` along one path; overlaps with the final sample are computed at the end.
#[derive(Debug, Default)]
pub(crate) struct PathRecorder {
    points: Vec<PathPoint>,
    /// Estimates along the path, f32 (only their overlaps are kept).
    history: Vec<f32>,
}

impl PathRecorder {
    pub(crate) fn record(&mut self, param: f64, x_hat: &[f64], solve: &Solve) {
        self.record_after(param, x_hat, solve, 1);
    }

    /// Records a point reached after `steps` steps since the previous one.
    pub(crate) fn record_after(&mut self, param: f64, x_hat: &[f64], solve: &Solve, steps: usize) {
        self.history.extend(x_hat.iter().map(|&v| v as f32));
        self.points.push(PathPoint {
            param,
            m_hat_sq: solve.m_hat_sq,
            overlap_final: f64::NAN,
            amp_iterations: solve.iterations,
            converged: solve.converged,
            steps,
        });
    }

    pub(crate) fn finish(mut self, sample: Vec<f64>) -> Trajectory {
        let n = sample.len().max(1);
        for (point, x_hat) in self.points.iter_mut().zip(self.history.chunks_exact(n)) {
            point.overlap_final = x_hat.iter().zip(&sample).map(|(&a, &b)| a as f64 * b).sum::<f64>() / n as f64;
        }
        Trajectory { sample, path: self.points }
    }
}

/// One batch's view of the run's observer: the batch reports
/// `progress(step, steps)` after each step of its lock-step loop, and the run's
/// progress is the steps all trajectories have taken, of `count * steps`,
/// reported in increasing order whatever the batches' interleaving.
struct BatchSteps<'a> {
    run: &'a dyn Observer,
    /// Trajectory-steps done by all batches (the lock orders the reports).
    done: &'a Mutex<u64>,
    count: u64,
    width: u64,
    /// Trajectories finished by an earlier, interrupted run.
    resumed: u64,
    /// The last step this batch reported.
    step: AtomicU64,
}

impl Observer for BatchSteps<'_> {
    fn progress(&self, step: u64, steps: u64) {
        let new = step.saturating_sub(self.step.swap(step, Ordering::Relaxed));
        let mut done = self.done.lock().unwrap_or_else(|p| p.into_inner());
        *done += new * self.width;
        self.run.progress(*done + self.resumed * steps, self.count * steps);
    }
    fn trace(&self, series: &str, x: f64, y: f64) {
        self.run.trace(series, x, y);
    }
    fn histogram(&self, name: &str, edges: &[f64], counts: &[u64]) {
        self.run.histogram(name, edges, counts);
    }
    fn log(&self, message: &str) {
        self.run.log(message);
    }
    fn cancelled(&self) -> bool {
        self.run.cancelled()
    }
}

/// Runs `count` trajectories, `batch` at a time in lock step (one oracle call
/// per step serves the whole batch), batches in parallel. Trajectory `s` draws
/// from `rng::stream(seed, "trajectory", s)`; the result is in trajectory order
/// and independent of the thread count. `run_batch` gets an observer to report
/// `progress(step, steps)` on after each step. Finished batches are
/// checkpointed (`resume::Finished`): a resumed run computes only the others.
pub(crate) fn run_trajectories<F>(
    count: usize,
    batch: usize,
    seed: u64,
    observer: &dyn Observer,
    run_batch: F,
) -> Result<SamplerRun, Cancelled>
where
    F: Fn(&mut [Rng], &dyn Observer) -> Result<Vec<Trajectory>, Cancelled> + Sync,
{
    let batch = batch.max(1);
    let tag = format!("trajectories count {count} batch {batch} seed {seed}");
    let finished = Finished::<Vec<Trajectory>>::resume(observer, tag, "batches of trajectories");
    let skip = finished.done();
    let width = |start: usize| (start + batch).min(count) - start;
    let resumed = skip.iter().map(|&s| width(s as usize) as u64).sum();
    let done = Mutex::new(0);
    let starts: Vec<usize> = (0..count).step_by(batch).filter(|s| !skip.contains(&(*s as u64))).collect();
    starts.into_par_iter().try_for_each(|start| {
        observer.checkpoint()?;
        let end = start + width(start);
        let mut rngs: Vec<Rng> = (start..end).map(|s| rng::stream(seed, "trajectory", s as u64)).collect();
        let steps = BatchSteps {
            run: observer,
            done: &done,
            count: count as u64,
            width: (end - start) as u64,
            resumed,
            step: AtomicU64::new(0),
        };
        finished.insert(start as u64, run_batch(&mut rngs, &steps)?);
        Ok(())
    })?;
    let run = SamplerRun { trajectories: finished.into_items().into_iter().flatten().collect() };
    run.emit_traces(observer);
    Ok(run)
}

/// Fresh oracle states and path recorders for a batch of `width` trajectories.
pub(crate) fn start_batch<D: PosteriorMean>(oracle: &D, width: usize) -> (Vec<D::State>, Vec<PathRecorder>) {
    ((0..width).map(|_| oracle.start()).collect(), (0..width).map(|_| PathRecorder::default()).collect())
}
