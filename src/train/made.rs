//! The MADE network of a variational autoregressive network (PHYSICS.md
//! section 14): dense layers whose weights are multiplied by fixed masks so that
//! output `i` (the logit of `q(x_i = +1 | x_<i)`) depends on `x_0..x_{i-1}` only.
//! Degrees follow the JAX peer (`van_jax.py`): inputs `1..=n`, hidden unit `k`
//! of every layer `k % (n-1) + 1`, a hidden unit sees units of degree `<=` its
//! own, output `i` (degree `i+1`) sees hidden units of degree `< i+1`.
//! The trainable tensors are candle `Var`s (autograd); `MadeWeights` is the
//! same network as plain numbers, for sampling, storage and inspection.

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor, Var};
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::rng::{self, Rng};

/// Shape of a MADE network: `n` inputs and outputs, `depth` hidden layers of `hidden` units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MadeShape {
    pub n: usize,
    pub hidden: usize,
    pub depth: usize,
}

impl MadeShape {
    /// Layer widths `[n, hidden x depth, n]`.
    pub fn widths(&self) -> Vec<usize> {
        let mut w = vec![self.n];
        w.extend(std::iter::repeat_n(self.hidden, self.depth));
        w.push(self.n);
        w
    }

    /// Number of trainable numbers (masked-out weights included).
    pub fn parameter_count(&self) -> usize {
        self.widths().windows(2).map(|w| w[0] * w[1] + w[1]).sum()
    }

    /// Degrees of the units of layer `l` (0 = inputs, `depth + 1` = outputs).
    pub fn degrees(&self, l: usize) -> Vec<usize> {
        if l == 0 || l == self.depth + 1 {
            (1..=self.n).collect()
        } else {
            (0..self.hidden).map(|k| k % self.n.saturating_sub(1).max(1) + 1).collect()
        }
    }

    /// Mask of layer `l` (from layer `l` to `l + 1`), row-major `(in, out)`:
    /// 1 where the connection is allowed.
    pub fn mask(&self, l: usize) -> Vec<f64> {
        let (d_in, d_out) = (self.degrees(l), self.degrees(l + 1));
        let strict = l == self.depth;
        let mut m = Vec::with_capacity(d_in.len() * d_out.len());
        for &a in &d_in {
            for &b in &d_out {
                let allowed = if strict { b > a } else { b >= a };
                m.push(if allowed { 1.0 } else { 0.0 });
            }
        }
        m
    }
}

/// The network as plain numbers: per layer the masked weight, row-major
/// `(in, out)`, and the bias.
#[derive(Debug, Clone, PartialEq)]
pub struct MadeWeights {
    pub shape: MadeShape,
    pub layers: Vec<(Vec<f64>, Vec<f64>)>,
}

/// A trainable MADE network on the CPU.
pub struct Made {
    pub shape: MadeShape,
    weights: Vec<Var>,
    biases: Vec<Var>,
    masks: Vec<Tensor>,
}

impl Made {
    /// Weights `N(0, 1/fan_in)` drawn from the stream `("made-init", layer)` of
    /// `seed` (the same initialisation as the JAX peer, not its random bits); zero biases.
    pub fn new(shape: MadeShape, dtype: DType, seed: u64) -> candle_core::Result<Made> {
        let widths = shape.widths();
        let mut layers = Vec::new();
        for l in 0..widths.len() - 1 {
            let (fan_in, fan_out) = (widths[l], widths[l + 1]);
            let mut rng: Rng = rng::stream(seed, "made-init", l as u64);
            let scale = 1.0 / (fan_in as f64).sqrt();
            let w: Vec<f64> =
                (0..fan_in * fan_out).map(|_| scale * Distribution::<f64>::sample(&StandardNormal, &mut rng)).collect();
            layers.push((w, vec![0.0; fan_out]));
        }
        Made::from_weights(&MadeWeights { shape, layers }, dtype)
    }

    /// A network with the given weights (which need not be masked).
    pub fn from_weights(weights: &MadeWeights, dtype: DType) -> candle_core::Result<Made> {
        let shape = weights.shape;
        let widths = shape.widths();
        let device = Device::Cpu;
        let mut made = Made { shape, weights: Vec::new(), biases: Vec::new(), masks: Vec::new() };
        for (l, (w, b)) in weights.layers.iter().enumerate() {
            let (fan_in, fan_out) = (widths[l], widths[l + 1]);
            let tensor = |v: &[f64], dims: &[usize]| Tensor::from_slice(v, dims, &device)?.to_dtype(dtype);
            made.weights.push(Var::from_tensor(&tensor(w, &[fan_in, fan_out])?)?);
            made.biases.push(Var::from_tensor(&tensor(b, &[fan_out])?)?);
            made.masks.push(tensor(&shape.mask(l), &[fan_in, fan_out])?);
        }
        Ok(made)
    }

    pub fn dtype(&self) -> DType {
        self.weights[0].dtype()
    }

    /// The trainable variables, `[w_0, b_0, w_1, b_1, ...]`.
    pub fn vars(&self) -> Vec<Var> {
        self.weights.iter().zip(&self.biases).flat_map(|(w, b)| [w.clone(), b.clone()]).collect()
    }

    /// Names of `vars()`, as stored in safetensors.
    pub fn var_names(&self) -> Vec<String> {
        (0..self.weights.len()).flat_map(|l| [format!("layer{l}.weight"), format!("layer{l}.bias")]).collect()
    }

    /// Logits of `q(x_i = +1 | x_<i)` for a batch `x` of shape `(batch, n)`.
    pub fn logits(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let mut h = x.clone();
        let last = self.weights.len() - 1;
        for (l, ((w, b), m)) in self.weights.iter().zip(&self.biases).zip(&self.masks).enumerate() {
            h = h.matmul(&w.as_tensor().mul(m)?)?.broadcast_add(b.as_tensor())?;
            if l < last {
                h = h.tanh()?;
            }
        }
        Ok(h)
    }

    /// `log q(x)` of each row of `x` (entries ±1), shape `(batch,)`: the sum
    /// over sites of `log sigmoid(z_i x_i)`.
    pub fn log_q(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let s = self.logits(x)?.mul(x)?;
        // log sigmoid(s) = -(relu(-s) + log(1 + exp(-|s|))), stable for any s.
        let softplus = s.neg()?.relu()?.add(&s.abs()?.neg()?.exp()?.affine(1.0, 1.0)?.log()?)?;
        softplus.neg()?.sum(1)
    }

    /// `log q` of configurations given as rows of ±1 values (`batch x n`, flat).
    pub fn log_q_of(&self, configurations: &[f32]) -> candle_core::Result<Vec<f64>> {
        let x = self.batch_tensor(configurations)?;
        self.log_q(&x)?.to_dtype(DType::F64)?.to_vec1()
    }

    /// Rows of ±1 values as a `(batch, n)` tensor of the network's dtype.
    pub fn batch_tensor(&self, configurations: &[f32]) -> candle_core::Result<Tensor> {
        let n = self.shape.n.max(1);
        Tensor::from_slice(configurations, (configurations.len() / n, n), &Device::Cpu)?.to_dtype(self.dtype())
    }

    /// The masked weights and biases as plain numbers.
    pub fn weights(&self) -> candle_core::Result<MadeWeights> {
        let mut layers = Vec::new();
        for ((w, b), m) in self.weights.iter().zip(&self.biases).zip(&self.masks) {
            let w = w.as_tensor().mul(m)?.to_dtype(DType::F64)?.flatten_all()?.to_vec1()?;
            let b = b.as_tensor().to_dtype(DType::F64)?.to_vec1()?;
            layers.push((w, b));
        }
        Ok(MadeWeights { shape: self.shape, layers })
    }

    /// The raw variables by name (for checkpoints: exact bits, dtype kept).
    pub fn named_tensors(&self) -> HashMap<String, Tensor> {
        self.var_names().into_iter().zip(self.vars()).map(|(name, v)| (name, v.as_tensor().clone())).collect()
    }

    /// Overwrites the variables from `named_tensors()` output.
    pub fn load_named(&self, tensors: &HashMap<String, Tensor>) -> candle_core::Result<()> {
        for (name, var) in self.var_names().into_iter().zip(self.vars()) {
            let t = tensors.get(&name).ok_or_else(|| candle_core::Error::Msg(format!("missing tensor `{name}`")))?;
            var.set(&t.to_dtype(var.dtype())?)?;
        }
        Ok(())
    }
}

impl MadeWeights {
    /// The weights as safetensors bytes (f64 tensors `layer{l}.weight` of shape
    /// `(in, out)` and `layer{l}.bias`; the shape in the metadata).
    pub fn to_safetensors(&self) -> candle_core::Result<Vec<u8>> {
        let widths = self.shape.widths();
        let mut tensors = HashMap::new();
        for (l, (w, b)) in self.layers.iter().enumerate() {
            let dev = &Device::Cpu;
            tensors.insert(format!("layer{l}.weight"), Tensor::from_slice(w, (widths[l], widths[l + 1]), dev)?);
            tensors.insert(format!("layer{l}.bias"), Tensor::from_slice(b, widths[l + 1], dev)?);
        }
        let metadata = HashMap::from([
            ("n".to_string(), self.shape.n.to_string()),
            ("hidden".to_string(), self.shape.hidden.to_string()),
            ("depth".to_string(), self.shape.depth.to_string()),
        ]);
        super::state::pack(&tensors, metadata)
    }

    /// Reads `to_safetensors` output; an error for anything malformed.
    pub fn from_safetensors(bytes: &[u8]) -> candle_core::Result<MadeWeights> {
        let (tensors, metadata) = super::state::unpack(bytes)?;
        let shape = MadeShape {
            n: super::state::meta(&metadata, "n")?,
            hidden: super::state::meta(&metadata, "hidden")?,
            depth: super::state::meta(&metadata, "depth")?,
        };
        let widths = shape.widths();
        let mut layers = Vec::new();
        for l in 0..widths.len() - 1 {
            let get = |name: String, len: usize| -> candle_core::Result<Vec<f64>> {
                let t = tensors.get(&name).ok_or_else(|| candle_core::Error::Msg(format!("missing `{name}`")))?;
                let v: Vec<f64> = t.to_dtype(DType::F64)?.flatten_all()?.to_vec1()?;
                if v.len() != len {
                    return Err(candle_core::Error::Msg(format!("`{name}` has {} values, expected {len}", v.len())));
                }
                Ok(v)
            };
            layers.push((
                get(format!("layer{l}.weight"), widths[l] * widths[l + 1])?,
                get(format!("layer{l}.bias"), widths[l + 1])?,
            ));
        }
        Ok(MadeWeights { shape, layers })
    }
}
