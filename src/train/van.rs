//! Training a variational autoregressive network (Wu, Wang, Zhang 2019;
//! PHYSICS.md section 14) on an Ising-spin disorder without data: minimise
//! `beta F_q = E_q[f(x)]`, `f = -beta_k/beta l(x) + log q(x)` (`l` the
//! disorder's log-weight, so `beta E = -l`), with the REINFORCE gradient
//! `E_q[(f - b) grad log q]` and the batch-mean baseline `b`. With
//! `beta_anneal = K > 0` the inverse temperature ramps linearly to its target
//! over the first `K` steps.
//!
//! Step `k` draws its batch from the streams `("van-step", k * batch + s)`, so
//! its randomness is a function of `k`: the resumable state is the step, the
//! weights, the AdamW moments and the curve so far.

use candle_core::{DType, Tensor};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::adam::{gradient_norm, AdamParams, AdamW};
use super::made::{Made, MadeShape, MadeWeights};
use super::state::Snapshot;
use super::{TrainError, MEMORY_BUDGET};
use crate::models::{Disorder, Prior};
use crate::observe::Observer;
use crate::samplers::neural::{AncestralSampler, Draw};

/// What to train and how.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VanConfig {
    pub steps: usize,
    pub batch: usize,
    pub lr: f64,
    /// Steps over which beta ramps up to its target (0 = none).
    pub beta_anneal: usize,
    pub hidden: usize,
    pub depth: usize,
    /// Tensor type of the network (F32 for speed, F64 for exact checks).
    pub dtype: DType,
}

impl VanConfig {
    /// Defaults of the issue: batch 256, hidden 2n, depth 1.
    pub fn for_n(n: usize) -> VanConfig {
        VanConfig { steps: 1000, batch: 256, lr: 1e-3, beta_anneal: 0, hidden: 2 * n, depth: 1, dtype: DType::F32 }
    }
}

/// One point of the training curve (all per spin, at the step's beta).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    pub step: usize,
    /// `beta_k / beta`.
    pub beta_fraction: f64,
    pub free_energy: f64,
    pub free_energy_stderr: f64,
    pub energy: f64,
    pub entropy: f64,
    pub grad_norm: f64,
}

/// Per-spin estimates from draws of `q` at the target temperature.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    pub free_energy: f64,
    pub free_energy_stderr: f64,
    pub energy: f64,
    pub entropy: f64,
}

/// A trained network with its curve and final estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainedVan {
    pub weights: MadeWeights,
    pub curve: Vec<CurvePoint>,
    pub estimate: Estimate,
    /// `-T log Z / n` by enumeration, where `n <= 20`.
    pub exact_free_energy: Option<f64>,
}

/// Refuses what the network cannot model: non-±1 spins, or a network over the memory budget.
pub fn check(disorder: &Disorder, config: &VanConfig) -> Result<(), TrainError> {
    if disorder.prior != Prior::Rademacher {
        return Err(TrainError::Unsupported(format!(
            "the autoregressive network models ±1 spins; this disorder has the {} prior",
            disorder.prior.name()
        )));
    }
    let shape = MadeShape { n: disorder.n, hidden: config.hidden, depth: config.depth };
    let bytes = memory_estimate(shape, config.batch, config.dtype);
    if bytes > MEMORY_BUDGET {
        return Err(TrainError::Unsupported(format!(
            "n = {} with hidden = {} and batch = {} needs about {} MiB, over the {} MiB budget",
            disorder.n,
            config.hidden,
            config.batch,
            bytes >> 20,
            MEMORY_BUDGET >> 20
        )));
    }
    Ok(())
}

/// Parameters x 4 (weights, two moments, gradient) plus activations and their gradients.
pub fn memory_estimate(shape: MadeShape, batch: usize, dtype: DType) -> usize {
    let activations = batch * shape.widths().iter().sum::<usize>() * 4;
    (shape.parameter_count() * 5 + activations) * dtype.size_in_bytes()
}

/// The log-weights `l(x)` and `f(x) = -fraction l(x) + log q(x)` of each draw.
pub fn local_free_energies(disorder: &Disorder, draws: &[Draw], fraction: f64) -> (Vec<f64>, Vec<f64>) {
    let l: Vec<f64> = draws.par_iter().map(|d| disorder.log_weight(&d.x)).collect();
    let f = l.iter().zip(draws).map(|(l, d)| -fraction * l + d.log_q).collect();
    (l, f)
}

fn mean_and_stderr(v: &[f64]) -> (f64, f64) {
    let count = v.len().max(1) as f64;
    let mean = v.iter().sum::<f64>() / count;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (count - 1.0).max(1.0);
    (mean, (var / count).sqrt())
}

/// Per-spin estimates at the target temperature from draws of `q`.
pub fn estimate(disorder: &Disorder, draws: &[Draw]) -> Estimate {
    let (n, t) = (disorder.n as f64, disorder.temperature);
    let (l, f) = local_free_energies(disorder, draws, 1.0);
    let (f_mean, f_err) = mean_and_stderr(&f);
    let (l_mean, _) = mean_and_stderr(&l);
    let lq_mean = draws.iter().map(|d| d.log_q).sum::<f64>() / draws.len().max(1) as f64;
    Estimate {
        free_energy: t * f_mean / n,
        free_energy_stderr: t * f_err / n,
        energy: -t * l_mean / n,
        entropy: -lq_mean / n,
    }
}

/// The run in progress: network, optimizer, curve.
struct Run {
    net: Made,
    adam: AdamW,
    curve: Vec<CurvePoint>,
}

impl CurvePoint {
    fn row(&self) -> Vec<f64> {
        let p = self;
        vec![p.step as f64, p.beta_fraction, p.free_energy, p.free_energy_stderr, p.energy, p.entropy, p.grad_norm]
    }

    fn from_row(r: &[f64]) -> Option<CurvePoint> {
        let &[step, beta_fraction, free_energy, free_energy_stderr, energy, entropy, grad_norm] = r else {
            return None;
        };
        Some(CurvePoint {
            step: step as usize,
            beta_fraction,
            free_energy,
            free_energy_stderr,
            energy,
            entropy,
            grad_norm,
        })
    }
}

impl Run {
    fn fresh(shape: MadeShape, config: &VanConfig, seed: u64) -> candle_core::Result<Run> {
        let net = Made::new(shape, config.dtype, seed)?;
        let adam = AdamW::new(net.vars(), AdamParams::with_lr(config.lr))?;
        Ok(Run { net, adam, curve: Vec::new() })
    }

    fn tag(config: &VanConfig) -> String {
        format!("quench-van-1 {config:?}")
    }

    fn save(&self, step: usize, config: &VanConfig) -> candle_core::Result<Vec<u8>> {
        let mut tensors = self.net.named_tensors();
        tensors.extend(self.adam.named_moments("adam"));
        let curve = self.curve.iter().map(CurvePoint::row).collect();
        Snapshot { tag: Run::tag(config), step, tensors, adam_step: self.adam.step, curve }.to_bytes()
    }

    /// Restores a saved state; returns the step to continue from.
    fn restore(&mut self, bytes: &[u8], config: &VanConfig) -> candle_core::Result<usize> {
        let snapshot = Snapshot::from_bytes(bytes, &Run::tag(config))?;
        self.net.load_named(&snapshot.tensors)?;
        self.adam.load_moments("adam", &snapshot.tensors, snapshot.adam_step)?;
        self.curve = snapshot.curve.iter().filter_map(|r| CurvePoint::from_row(r)).collect();
        Ok(snapshot.step)
    }
}

/// Sends one curve point as the live `trace` series.
fn emit(observer: &dyn Observer, point: &CurvePoint, exact: Option<f64>) {
    let x = point.step as f64;
    observer.trace("free_energy/VAN", x, point.free_energy);
    observer.trace("free_energy/VAN + stderr", x, point.free_energy + point.free_energy_stderr);
    observer.trace("free_energy/VAN - stderr", x, point.free_energy - point.free_energy_stderr);
    if let Some(f) = exact {
        observer.trace("free_energy/exact", x, f);
    }
    observer.trace("free_energy_stderr", x, point.free_energy_stderr);
    observer.trace("energy", x, point.energy);
    observer.trace("entropy", x, point.entropy);
    observer.trace("grad_norm", x, point.grad_norm);
}

/// `-T log Z / n` by enumeration for small instances.
pub fn exact_free_energy(disorder: &Disorder) -> Option<f64> {
    if disorder.n > crate::eval::exact::MAX_ISING {
        return None;
    }
    let exact = crate::eval::exact::enumerate(disorder).ok()?;
    Some(-disorder.temperature * exact.log_partition / disorder.n as f64)
}

/// The surrogate loss whose gradient is the REINFORCE estimate
/// `mean_s (f_s - mean f) grad log q(x_s)` (the batch mean as baseline).
pub fn reinforce_loss(net: &Made, draws: &[Draw], f: &[f64]) -> candle_core::Result<Tensor> {
    let configurations: Vec<f32> = draws.iter().flat_map(|d| d.x.iter().map(|&v| v as f32)).collect();
    let x = net.batch_tensor(&configurations)?;
    let log_q = net.log_q(&x)?;
    let batch = f.len().max(1) as f64;
    let f_mean = f.iter().sum::<f64>() / batch;
    let coefficients: Vec<f64> = f.iter().map(|v| (v - f_mean) / batch).collect();
    let coefficients = Tensor::from_vec(coefficients, f.len(), x.device())?.to_dtype(net.dtype())?;
    log_q.mul(&coefficients)?.sum_all()
}

/// One REINFORCE step at inverse-temperature fraction `fraction`; returns the
/// curve point (before the update's effect) and leaves the network updated.
fn step(
    disorder: &Disorder,
    run: &mut Run,
    config: &VanConfig,
    seed: u64,
    k: usize,
    fraction: f64,
) -> Result<CurvePoint, TrainError> {
    let sampler = AncestralSampler::new(&run.net.weights()?);
    let draws = sampler.draw_many(seed, "van-step", (k * config.batch) as u64, config.batch);
    let (l, f) = local_free_energies(disorder, &draws, fraction);
    let (f_mean, f_err) = mean_and_stderr(&f);
    if !f_mean.is_finite() {
        return Err(TrainError::Diverged { step: k, value: f_mean });
    }
    let loss = reinforce_loss(&run.net, &draws, &f)?;
    let batch = config.batch as f64;
    let loss_value = loss.to_dtype(DType::F64)?.to_scalar::<f64>()?;
    if !loss_value.is_finite() {
        return Err(TrainError::Diverged { step: k, value: loss_value });
    }
    let grads = loss.backward()?;
    let grad_norm = gradient_norm(&run.net.vars(), &grads)?;
    if !grad_norm.is_finite() {
        return Err(TrainError::Diverged { step: k, value: grad_norm });
    }
    run.adam.update(&grads)?;
    let (n, beta) = (disorder.n as f64, disorder.beta());
    let beta_k = beta * fraction;
    let (l_mean, _) = mean_and_stderr(&l);
    let lq_mean = draws.iter().map(|d| d.log_q).sum::<f64>() / batch;
    Ok(CurvePoint {
        step: k,
        beta_fraction: fraction,
        free_energy: f_mean / (beta_k * n),
        free_energy_stderr: f_err / (beta_k * n),
        energy: -l_mean / (beta * n),
        entropy: -lq_mean / n,
        grad_norm,
    })
}

/// Trains a VAN on `disorder`, resuming from the observer's saved state when
/// there is one and saving state whenever the observer says it is due (and
/// when cancelled). A non-finite loss stops the run with `Diverged`.
pub fn train(
    disorder: &Disorder,
    config: &VanConfig,
    seed: u64,
    observer: &dyn Observer,
) -> Result<TrainedVan, TrainError> {
    check(disorder, config)?;
    let shape = MadeShape { n: disorder.n, hidden: config.hidden, depth: config.depth };
    let mut run = Run::fresh(shape, config, seed)?;
    let exact = exact_free_energy(disorder);
    let mut start = 0;
    if let Some(bytes) = observer.resume_state() {
        match run.restore(&bytes, config) {
            Ok(step) => {
                observer.log(&format!("resuming from the checkpoint at step {step} of {}", config.steps));
                start = step;
            }
            Err(e) => {
                observer.log(&format!("ignoring the saved state ({e}); starting afresh"));
                run = Run::fresh(shape, config, seed)?;
            }
        }
    }
    let every = (config.steps / 500).max(1);
    for point in run.curve.iter().filter(|p| p.step % every == 0 || p.step + 1 == config.steps) {
        emit(observer, point, exact);
    }
    for k in start..config.steps {
        if observer.cancelled() {
            observer.save_state(&run.save(k, config)?);
            return Err(TrainError::Cancelled(crate::observe::Cancelled));
        }
        if observer.checkpoint_due() {
            observer.save_state(&run.save(k, config)?);
        }
        let fraction = if config.beta_anneal > 0 { ((k + 1) as f64 / config.beta_anneal as f64).min(1.0) } else { 1.0 };
        let point = step(disorder, &mut run, config, seed, k, fraction)?;
        if k % every == 0 || k + 1 == config.steps {
            emit(observer, &point, exact);
        }
        run.curve.push(point);
        observer.progress(k as u64 + 1, config.steps as u64);
    }
    let weights = run.net.weights()?;
    let draws = AncestralSampler::new(&weights).draw_many(seed, "van-eval", 0, 4 * config.batch);
    Ok(TrainedVan { weights, curve: run.curve, estimate: estimate(disorder, &draws), exact_free_energy: exact })
}
