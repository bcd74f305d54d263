//! The learned denoiser (PHYSICS.md section 14): a network
//! `f(y, t) ≈ E[x | y_t = y]` for `y_t = t x + sqrt(t) z`, trained by denoising
//! regression from equilibrium samples `x` (e.g. parallel tempering), with `t`
//! uniform on `[0, t_max]` and fresh noise every step.
//!
//! Architecture (±1 spins): `f(y, t) = tanh(y + W2 h + b2)`,
//! `h = tanh(W1 y/(1+t) + w_t t/(1+t) + b1)`: the single-site posterior mean
//! `tanh(y_i)` plus a learned cavity field. Step `k` draws from the stream
//! `("denoiser-step", k)`, so a saved step resumes exactly.

use candle_core::{DType, Device, Tensor, Var};
use rand::Rng as _;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use super::adam::{gradient_norm, AdamParams, AdamW};
use super::state::Snapshot;
use super::{TrainError, MEMORY_BUDGET};
use crate::observe::Observer;
use crate::rng::{self, Rng};

/// What to train and how.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DenoiserConfig {
    pub steps: usize,
    pub batch: usize,
    pub lr: f64,
    pub hidden: usize,
    /// Largest `t` trained on.
    pub t_max: f64,
    /// Fraction of the samples held out for the MSE curve.
    pub holdout: f64,
}

/// The network's weights as plain numbers (row-major `(in, out)`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DenoiserWeights {
    pub n: usize,
    pub hidden: usize,
    pub w1: Vec<f64>,
    pub w_t: Vec<f64>,
    pub b1: Vec<f64>,
    pub w2: Vec<f64>,
    pub b2: Vec<f64>,
}

const NAMES: [&str; 5] = ["w1", "w_t", "b1", "w2", "b2"];

/// The trainable network.
struct DenoiserNet {
    n: usize,
    hidden: usize,
    vars: Vec<Var>,
}

impl DenoiserNet {
    fn new(n: usize, hidden: usize, seed: u64) -> candle_core::Result<DenoiserNet> {
        let mut rng = rng::stream(seed, "denoiser-init", 0);
        let mut normal = |count: usize, scale: f64| -> Vec<f32> {
            (0..count).map(|_| (scale * Distribution::<f64>::sample(&StandardNormal, &mut rng)) as f32).collect()
        };
        let dev = Device::Cpu;
        let tensors = [
            Tensor::from_vec(normal(n * hidden, 1.0 / (n as f64).sqrt()), (n, hidden), &dev)?,
            Tensor::from_vec(normal(hidden, 1.0), (1, hidden), &dev)?,
            Tensor::zeros((1, hidden), DType::F32, &dev)?,
            Tensor::from_vec(normal(hidden * n, 0.1 / (hidden as f64).sqrt()), (hidden, n), &dev)?,
            Tensor::zeros((1, n), DType::F32, &dev)?,
        ];
        let vars = tensors.iter().map(Var::from_tensor).collect::<candle_core::Result<_>>()?;
        Ok(DenoiserNet { n, hidden, vars })
    }

    /// `f(y, t)` for `y` of shape `(batch, n)` and `t` of shape `(batch, 1)`.
    fn forward(&self, y: &Tensor, t: &Tensor) -> candle_core::Result<Tensor> {
        let v: Vec<&Tensor> = self.vars.iter().map(|v| v.as_tensor()).collect();
        let scale = (t + 1.0)?.recip()?;
        let u = y.broadcast_mul(&scale)?;
        let t_feature = t.mul(&scale)?;
        let h = u.matmul(v[0])?.add(&t_feature.matmul(v[1])?)?.broadcast_add(v[2])?.tanh()?;
        y.add(&h.matmul(v[3])?)?.broadcast_add(v[4])?.tanh()
    }

    fn named(&self) -> std::collections::HashMap<String, Tensor> {
        NAMES.iter().zip(&self.vars).map(|(n, v)| (n.to_string(), v.as_tensor().clone())).collect()
    }

    fn weights(&self) -> candle_core::Result<DenoiserWeights> {
        let flat = |i: usize| -> candle_core::Result<Vec<f64>> {
            self.vars[i].as_tensor().to_dtype(DType::F64)?.flatten_all()?.to_vec1()
        };
        Ok(DenoiserWeights {
            n: self.n,
            hidden: self.hidden,
            w1: flat(0)?,
            w_t: flat(1)?,
            b1: flat(2)?,
            w2: flat(3)?,
            b2: flat(4)?,
        })
    }
}

impl DenoiserWeights {
    /// `f(y, t)` for one `y` (plain arithmetic, deterministic, no tensors).
    pub fn apply(&self, y: &[f64], t: f64) -> Vec<f64> {
        let (n, hidden) = (self.n, self.hidden);
        let scale = 1.0 / (1.0 + t);
        let mut h: Vec<f64> = (0..hidden).map(|k| self.b1[k] + self.w_t[k] * t * scale).collect();
        for (i, &y_i) in y.iter().enumerate() {
            let u = y_i * scale;
            for (h_k, w) in h.iter_mut().zip(&self.w1[i * hidden..(i + 1) * hidden]) {
                *h_k += u * w;
            }
        }
        h.iter_mut().for_each(|v| *v = v.tanh());
        let mut out: Vec<f64> = y.iter().zip(&self.b2).map(|(y, b)| y + b).collect();
        for (k, &h_k) in h.iter().enumerate() {
            for (o, w) in out.iter_mut().zip(&self.w2[k * n..(k + 1) * n]) {
                *o += h_k * w;
            }
        }
        out.iter().map(|v| v.tanh()).collect()
    }
}

/// One point of the training curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LossPoint {
    pub step: usize,
    /// Mean squared error per variable on the step's batch.
    pub loss: f64,
    pub grad_norm: f64,
}

/// A trained denoiser.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainedDenoiser {
    pub weights: DenoiserWeights,
    pub curve: Vec<LossPoint>,
    /// Indices (into the given samples) held out from training.
    pub held_out: Vec<usize>,
}

/// The held-out indices: a seeded choice of `holdout` of the samples (at least one, never all).
pub fn split(count: usize, holdout: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut order: Vec<usize> = (0..count).collect();
    rand::seq::SliceRandom::shuffle(order.as_mut_slice(), &mut rng::stream(seed, "denoiser-split", 0));
    let held = ((count as f64 * holdout).round() as usize).clamp(1, count.saturating_sub(1).max(1));
    let mut held_out = order[..held].to_vec();
    let mut train = order[held..].to_vec();
    held_out.sort_unstable();
    train.sort_unstable();
    (train, held_out)
}

/// A noisy observation `y = t x + sqrt(t) z` of `x`.
pub fn observe(x: &[f64], t: f64, rng: &mut Rng) -> Vec<f64> {
    let noise = t.sqrt();
    x.iter()
        .map(|&x_i| {
            let z: f64 = StandardNormal.sample(rng);
            t * x_i + noise * z
        })
        .collect()
}

fn tag(config: &DenoiserConfig, n: usize, count: usize) -> String {
    format!("quench-denoiser-1 n={n} samples={count} {config:?}")
}

/// Trains on `samples` (±1 rows of length `n`), resuming from and saving state
/// through `observer` like the VAN.
pub fn train(
    samples: &[Vec<f64>],
    n: usize,
    config: &DenoiserConfig,
    seed: u64,
    observer: &dyn Observer,
) -> Result<TrainedDenoiser, TrainError> {
    if samples.len() < 2 {
        return Err(TrainError::Unsupported(format!(
            "need at least 2 samples to train and hold out, got {}",
            samples.len()
        )));
    }
    let bytes = (2 * n * config.hidden * 5 + config.batch * (2 * n + config.hidden) * 4) * 4;
    if bytes > MEMORY_BUDGET {
        return Err(TrainError::Unsupported(format!(
            "n = {n} with hidden = {} is over the memory budget",
            config.hidden
        )));
    }
    let (train_set, held_out) = split(samples.len(), config.holdout, seed);
    let net = DenoiserNet::new(n, config.hidden, seed)?;
    let mut adam = AdamW::new(net.vars.clone(), AdamParams::with_lr(config.lr))?;
    let mut curve: Vec<LossPoint> = Vec::new();
    let tag = tag(config, n, samples.len());
    let mut start = 0;
    if let Some(bytes) = observer.resume_state() {
        match Snapshot::from_bytes(&bytes, &tag) {
            Ok(s) => {
                for (name, var) in NAMES.iter().zip(&net.vars) {
                    let t = s.tensors.get(*name).ok_or_else(|| candle_core::Error::Msg(format!("missing `{name}`")))?;
                    var.set(t)?;
                }
                adam.load_moments("adam", &s.tensors, s.adam_step)?;
                curve =
                    s.curve.iter().map(|r| LossPoint { step: r[0] as usize, loss: r[1], grad_norm: r[2] }).collect();
                start = s.step;
                observer.log(&format!("resuming from the checkpoint at step {start} of {}", config.steps));
            }
            Err(e) => observer.log(&format!("ignoring the saved state ({e}); starting afresh")),
        }
    }
    let save = |step: usize, adam: &AdamW, curve: &[LossPoint]| -> candle_core::Result<Vec<u8>> {
        let mut tensors = net.named();
        tensors.extend(adam.named_moments("adam"));
        let curve = curve.iter().map(|p| vec![p.step as f64, p.loss, p.grad_norm]).collect();
        Snapshot { tag: tag.clone(), step, tensors, adam_step: adam.step, curve }.to_bytes()
    };
    let every = (config.steps / 500).max(1);
    for p in curve.iter().filter(|p| p.step % every == 0) {
        observer.trace("denoiser loss", p.step as f64, p.loss);
    }
    let dev = Device::Cpu;
    for k in start..config.steps {
        if observer.cancelled() {
            observer.save_state(&save(k, &adam, &curve)?);
            return Err(TrainError::Cancelled(crate::observe::Cancelled));
        }
        if observer.checkpoint_due() {
            observer.save_state(&save(k, &adam, &curve)?);
        }
        let mut rng = rng::stream(seed, "denoiser-step", k as u64);
        let (mut ys, mut xs, mut ts) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..config.batch {
            let x = &samples[train_set[rng.random_range(0..train_set.len())]];
            let t = config.t_max * rng.random::<f64>();
            ys.extend(observe(x, t, &mut rng).iter().map(|&v| v as f32));
            xs.extend(x.iter().map(|&v| v as f32));
            ts.push(t as f32);
        }
        let y = Tensor::from_vec(ys, (config.batch, n), &dev)?;
        let x = Tensor::from_vec(xs, (config.batch, n), &dev)?;
        let t = Tensor::from_vec(ts, (config.batch, 1), &dev)?;
        let loss = net.forward(&y, &t)?.sub(&x)?.sqr()?.mean_all()?;
        let loss_value = loss.to_dtype(DType::F64)?.to_scalar::<f64>()?;
        if !loss_value.is_finite() {
            return Err(TrainError::Diverged { step: k, value: loss_value });
        }
        let grads = loss.backward()?;
        let grad_norm = gradient_norm(&net.vars, &grads)?;
        adam.update(&grads)?;
        let point = LossPoint { step: k, loss: loss_value, grad_norm };
        if k % every == 0 || k + 1 == config.steps {
            observer.trace("denoiser loss", k as f64, loss_value);
        }
        curve.push(point);
        observer.progress(k as u64 + 1, config.steps as u64);
    }
    Ok(TrainedDenoiser { weights: net.weights()?, curve, held_out })
}
