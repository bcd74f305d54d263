//! AdamW on candle variables, with its moments open for checkpoints.
//!
//! The update is candle-nn's `AdamW` (decoupled weight decay, bias-corrected
//! moments), written here because candle-nn keeps its moments private and an
//! exact resume needs them. Gradients come from candle's autograd.

use std::collections::HashMap;

use candle_core::backprop::GradStore;
use candle_core::{Tensor, Var};

/// Hyper-parameters of AdamW (candle-nn's defaults except `weight_decay`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamParams {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
}

impl AdamParams {
    pub fn with_lr(lr: f64) -> AdamParams {
        AdamParams { lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.0 }
    }
}

/// AdamW state for a fixed list of variables.
pub struct AdamW {
    pub params: AdamParams,
    vars: Vec<Var>,
    first: Vec<Tensor>,
    second: Vec<Tensor>,
    /// Updates made so far.
    pub step: u64,
}

impl AdamW {
    pub fn new(vars: Vec<Var>, params: AdamParams) -> candle_core::Result<AdamW> {
        let first = vars.iter().map(|v| v.as_tensor().zeros_like()).collect::<candle_core::Result<Vec<_>>>()?;
        let second = first.clone();
        Ok(AdamW { params, vars, first, second, step: 0 })
    }

    /// One update from `grads` (a variable without a gradient counts as zero gradient).
    pub fn update(&mut self, grads: &GradStore) -> candle_core::Result<()> {
        self.step += 1;
        let p = self.params;
        let bias1 = 1.0 - p.beta1.powi(self.step as i32);
        let bias2 = 1.0 - p.beta2.powi(self.step as i32);
        for ((var, m), v) in self.vars.iter().zip(&mut self.first).zip(&mut self.second) {
            let theta = var.as_tensor();
            let g = match grads.get(theta) {
                Some(g) => g.clone(),
                None => theta.zeros_like()?,
            };
            *m = ((&*m * p.beta1)? + (&g * (1.0 - p.beta1))?)?;
            *v = ((&*v * p.beta2)? + (g.sqr()? * (1.0 - p.beta2))?)?;
            let m_hat = (&*m / bias1)?;
            let v_hat = (&*v / bias2)?;
            let decayed = (theta * (1.0 - p.lr * p.weight_decay))?;
            let step = (m_hat / (v_hat.sqrt()? + p.eps)?)?;
            var.set(&(decayed - (step * p.lr)?)?)?;
        }
        Ok(())
    }

    /// The moments by name (`PREFIX.m.i`, `PREFIX.v.i`), for a checkpoint.
    pub fn named_moments(&self, prefix: &str) -> HashMap<String, Tensor> {
        let mut out = HashMap::new();
        for (i, (m, v)) in self.first.iter().zip(&self.second).enumerate() {
            out.insert(format!("{prefix}.m.{i}"), m.clone());
            out.insert(format!("{prefix}.v.{i}"), v.clone());
        }
        out
    }

    /// Restores the moments saved by `named_moments` and the step count.
    pub fn load_moments(
        &mut self,
        prefix: &str,
        tensors: &HashMap<String, Tensor>,
        step: u64,
    ) -> candle_core::Result<()> {
        for (i, (m, v)) in self.first.iter_mut().zip(&mut self.second).enumerate() {
            let get = |name: String| {
                tensors.get(&name).cloned().ok_or_else(|| candle_core::Error::Msg(format!("missing tensor `{name}`")))
            };
            *m = get(format!("{prefix}.m.{i}"))?.to_dtype(m.dtype())?;
            *v = get(format!("{prefix}.v.{i}"))?.to_dtype(v.dtype())?;
        }
        self.step = step;
        Ok(())
    }
}

/// `sqrt(sum g^2)` over the gradients of `vars`.
pub fn gradient_norm(vars: &[Var], grads: &GradStore) -> candle_core::Result<f64> {
    let mut total = 0.0;
    for var in vars {
        if let Some(g) = grads.get(var.as_tensor()) {
            total += g.sqr()?.sum_all()?.to_dtype(candle_core::DType::F64)?.to_scalar::<f64>()?;
        }
    }
    Ok(total.sqrt())
}
