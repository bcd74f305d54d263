//! Approximate message passing with Onsager correction (PHYSICS.md section 7)
//! for the planted spiked matrix (p = 2) and spiked 3-tensor (p = 3). AMP
//! returns the posterior mean of the *tilted* measure `mu(x) exp(y.x - t|x|^2/2)`
//! (diffusion, flows), of the *decimated* measure (some variables fixed;
//! autoregressive sampling), or of both at once.
//!
//! One iteration, with `q = |x̂|^2/N`, `v̄ = sum_i v_i / N`, `q_cross = x̂.x̂o/N`:
//!
//! ```text
//! S       = contraction of the couplings with x̂       (p=2: J x̂; p=3: one tensor pass)
//! onsager = (p-1)/Delta * v̄ * q_cross^(p-2)
//! B       = S - onsager * x̂o ;   A = q^(p-1) / Delta
//! x̂_new, v = f(B + y, A + t), f_v(B + y, A + t)     (sphere: exact vMF mean and variances, `sphere`)
//! ```
//!
//! Fixed sites get `x̂_i = value`, `v_i = 0`: they enter `S`, `q` and `q_cross`
//! but, through `v_i = 0`, not the Onsager sum. Damping acts on the free
//! `x̂` only: `x̂ <- (1 - damping) x̂_new + damping x̂` (`v` is not damped;
//! fixed sites take their value at once). A solve stops
//! when `max_i |Δx̂_i| < tol`, or when the root-mean-square change is below the
//! measure's `accuracy` (the error a caller can afford, e.g. the diffusion's
//! step control), or after `max_iterations`; the state is the warm start of
//! the next solve.
//!
//! **Damping that adapts to oscillation.** On the Ising 3-spin diffusion path
//! below T_d (n = 100, T = 0.66, t ~ 0.22) the iteration with damping 0.2
//! does not converge at all: `|x̂|^2/N` circles between 0.23 and 0.39 with a
//! period of about 15 iterations (a limit cycle of the damped map, not a
//! period-2 flip and not a slow drift; `examples/amp_jitter.rs`), for
//! thousands of iterations; with damping 0.4 to 0.95 the same solves converge
//! in 30-500 iterations, all to one fixed point. Damping does not move fixed
//! points (at a fixed point `x̂_new = x̂ = x̂o`), so a solve that goes round
//! in circles (`Watch`: the largest root-mean-square change of a window of
//! `WINDOW` iterations is not below `CONTRACTION` times that of the window
//! before, and `x̂` ended the window less than half its path length from where
//! it started) moves to the next damping level, `1 - damping -> (1 - damping)
//! / 2`, up to `MAX_LEVEL`. A slow drift (critical slowing near a spinodal)
//! does not count: more damping would only slow it. The level is kept in the
//! state; each new solve starts one level lighter, so a stretch of the path
//! that needed heavy damping does not slow the rest. The stopping rule reads
//! the change of the *undamped* map, `Δx̂ / (1 - damping)`, in units of the
//! configured damping: `Δx̂ 2^level` against `tol` and `accuracy`. At level 0
//! nothing differs from plain damped AMP, so a solve that contracts is
//! bit-identical to before (`tests/amp_damping.rs`); the test cannot fire
//! before two windows, and a window that does not shrink by 10% means a rate
//! above 0.989 per iteration, which needs over 600 iterations to gain the
//! three decades from a typical first change to `tol`: beyond the default cap
//! of 300, so such a solve was capped before.

pub mod batch;
pub mod columns;
pub mod denoiser;
pub mod dense;
mod hugepages;
pub mod kernels;
pub mod oracle;
pub mod sphere;
pub mod tensor;
pub mod tensor_kernel;

use crate::models::{Disorder, Prior};
use dense::DenseMatrix;
use sphere::SphereChannel;
use tensor::{PackedTensor, TensorWork};

/// Storage precision of a dense p = 2 matrix (the tensor is always f32).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    F32,
    F64,
}

/// The couplings AMP contracts with.
#[derive(Debug, Clone)]
pub enum Couplings {
    DenseF32(DenseMatrix<f32>),
    DenseF64(DenseMatrix<f64>),
    Tensor(PackedTensor),
}

impl Couplings {
    /// Order `p` of the interaction.
    pub fn p(&self) -> usize {
        if matches!(self, Couplings::Tensor(_)) {
            3
        } else {
            2
        }
    }

    /// Bytes of couplings read per contraction.
    pub fn bytes(&self) -> usize {
        match self {
            Couplings::DenseF32(m) => m.bytes(),
            Couplings::DenseF64(m) => m.bytes(),
            Couplings::Tensor(t) => t.bytes(),
        }
    }

    /// `out = S(x)`, the coupling part of the AMP field.
    pub fn field(&self, x: &[f64], out: &mut [f64], work: &mut Work) {
        match self {
            Couplings::DenseF32(m) => {
                work.x32.clear();
                work.x32.extend(x.iter().map(|&v| v as f32));
                m.apply(&work.x32, out);
            }
            Couplings::DenseF64(m) => m.apply(x, out),
            Couplings::Tensor(t) => t.contract(x, out, &mut work.tensor),
        }
    }
}

/// Reusable buffers of the contractions (no allocation inside iterations).
#[derive(Debug, Clone, Default)]
pub struct Work {
    x32: Vec<f32>,
    tensor: TensorWork,
}

/// Iteration control.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AmpParams {
    /// Weight of the previous `x̂` in the damped update (0 = undamped; 0.2-0.3 for p = 3).
    pub damping: f64,
    /// Stop when `max_i |Δx̂_i| < tol`.
    pub tol: f64,
    pub max_iterations: usize,
}

impl Default for AmpParams {
    fn default() -> AmpParams {
        AmpParams { damping: 0.2, tol: 1e-5, max_iterations: 300 }
    }
}

/// Which modified measure to solve: the target, tilted by `(y, t)` and/or with
/// `fixed` variables (`Some(value)`). Empty slices mean no tilt / nothing fixed.
/// `accuracy` (0 = none) lets an iterative solver stop once its root-mean-square
/// change per iteration is below it; exact oracles ignore it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Measure<'a> {
    pub y: &'a [f64],
    pub t: f64,
    pub fixed: &'a [Option<f64>],
    pub accuracy: f64,
}

impl<'a> Measure<'a> {
    /// `mu(x) exp(y.x - t|x|^2/2)`.
    pub fn tilted(y: &'a [f64], t: f64) -> Measure<'a> {
        Measure { y, t, fixed: &[], accuracy: 0.0 }
    }

    /// `mu` with the `Some` variables fixed.
    pub fn decimated(fixed: &'a [Option<f64>]) -> Measure<'a> {
        Measure { y: &[], t: 0.0, fixed, accuracy: 0.0 }
    }

    /// The same measure, solved to a root-mean-square change below `accuracy`.
    pub fn with_accuracy(self, accuracy: f64) -> Measure<'a> {
        Measure { accuracy, ..self }
    }

    fn y(&self, i: usize) -> f64 {
        self.y.get(i).copied().unwrap_or(0.0)
    }

    fn fixed(&self, i: usize) -> Option<f64> {
        self.fixed.get(i).copied().flatten()
    }
}

/// Iterate of one AMP run; also the warm start of the next solve.
#[derive(Debug, Clone)]
pub struct AmpState {
    /// Current estimate `x̂` (the posterior mean at convergence).
    pub x_hat: Vec<f64>,
    /// Previous estimate `x̂o`, used by the Onsager term.
    pub x_hat_old: Vec<f64>,
    /// Posterior variances `v_i` (0 on fixed sites).
    pub v: Vec<f64>,
    /// Denoiser input `B + y` of the last iteration.
    pub field: Vec<f64>,
    /// Denoiser precision `A + t` of the last iteration.
    pub precision: f64,
    /// Sphere: the channel of the free coordinates at the last iteration.
    pub sphere: Option<SphereChannel>,
    /// Damping level (0: the configured damping; see the module doc), kept along the path.
    damping_level: u32,
    /// Contraction of the running solve.
    watch: Watch,
    s: Vec<f64>,
    work: Work,
}

/// Damping levels beyond the configured one (`1 - damping` halves per level).
const MAX_LEVEL: u32 = 4;
/// Iterations per window of the contraction test.
const WINDOW: usize = 10;
/// A window whose largest change is not below this fraction of the previous
/// window's has stopped contracting.
const CONTRACTION: f64 = 0.9;

/// The contraction test of one solve: the largest root-mean-square change in
/// the current and the previous window of `WINDOW` iterations, and how far
/// `x̂` got over the window against the length of its path.
#[derive(Debug, Clone, Default)]
struct Watch {
    iterations: usize,
    window_max: f64,
    path: f64,
    previous_max: Option<f64>,
    /// `x̂` at the start of the window.
    anchor: Vec<f64>,
}

impl Watch {
    /// Records one iteration's change (`rms`, in units of the configured
    /// damping) leading to `x_hat`; true when a window closed without
    /// contracting against the one before while going round in circles (net
    /// displacement under half the path length). A slow drift (critical
    /// slowing near a spinodal) is not an oscillation: more damping would
    /// only slow it further.
    fn oscillating(&mut self, rms: f64, x_hat: &[f64]) -> bool {
        if self.anchor.is_empty() {
            self.anchor.extend_from_slice(x_hat);
            return false;
        }
        self.window_max = self.window_max.max(rms);
        self.path += rms;
        self.iterations += 1;
        if self.iterations < WINDOW {
            return false;
        }
        let stalled = self.previous_max.is_some_and(|before| self.window_max >= CONTRACTION * before);
        let net = rms_distance(x_hat, &self.anchor);
        let circling = 2.0 * net < self.path;
        self.previous_max = Some(self.window_max);
        (self.iterations, self.window_max, self.path) = (0, 0.0, 0.0);
        self.anchor.copy_from_slice(x_hat);
        stalled && circling
    }
}

impl AmpState {
    /// Starts from the prior mean (0) with the prior variance: the uninformed start.
    pub fn uninformed(n: usize, prior: Prior) -> AmpState {
        AmpState::from_estimate(vec![0.0; n], vec![prior.rho(); n])
    }

    /// Starts from a given estimate and variances (e.g. `x*` with `v = 0`: the informed start).
    pub fn from_estimate(x_hat: Vec<f64>, v: Vec<f64>) -> AmpState {
        let n = x_hat.len();
        AmpState {
            x_hat,
            x_hat_old: vec![0.0; n],
            v,
            field: vec![0.0; n],
            precision: 0.0,
            sphere: None,
            damping_level: 0,
            watch: Watch::default(),
            s: vec![0.0; n],
            work: Work::default(),
        }
    }

    /// `|x̂|^2 / N`.
    pub fn m_hat_sq(&self) -> f64 {
        dot(&self.x_hat, &self.x_hat) / self.x_hat.len() as f64
    }

    /// `x̂ . reference / N`.
    pub fn overlap(&self, reference: &[f64]) -> f64 {
        dot(&self.x_hat, reference) / self.x_hat.len() as f64
    }

    /// Resets the contraction test for a new solve, one damping level lighter
    /// than the last solve ended (a stretch of the path that needed heavy
    /// damping does not slow the rest of it; a solve that still oscillates
    /// climbs back within `2 WINDOW` iterations).
    pub(crate) fn start_solve(&mut self) {
        self.restart_watch();
        self.damping_level = self.damping_level.saturating_sub(1);
    }

    /// A fresh contraction test (its buffer kept).
    fn restart_watch(&mut self) {
        let mut anchor = std::mem::take(&mut self.watch.anchor);
        anchor.clear();
        self.watch = Watch { anchor, ..Watch::default() };
    }

    /// Damping levels added to the configured damping so far (module doc).
    pub fn damping_level(&self) -> u32 {
        self.damping_level
    }

    /// The damping of level `damping_level` above `base` (`base` itself, to
    /// the bit, at level 0: `1 - (1 - 0.2)` is not `0.2` in floating point).
    fn damping(&self, base: f64) -> f64 {
        match self.damping_level {
            0 => base,
            level => 1.0 - (1.0 - base) / f64::from(1u32 << level),
        }
    }
}

/// How much one iteration moved `x̂`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Change {
    /// `max_i |Δx̂_i|`.
    pub max: f64,
    /// `sqrt(sum_i Δx̂_i^2 / N)`.
    pub rms: f64,
}

impl Change {
    /// The stopping rule: `max < tol`, or `rms < accuracy` when the measure sets one.
    pub fn converged(&self, params: &AmpParams, measure: &Measure) -> bool {
        self.max < params.tol || self.rms < measure.accuracy
    }
}

/// Outcome of one solve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Solve {
    pub iterations: usize,
    pub converged: bool,
    /// `|x̂|^2 / N`.
    pub m_hat_sq: f64,
    /// `x̂ . reference / N` when the solver has a reference.
    pub overlap: Option<f64>,
}

/// AMP for one disorder instance.
#[derive(Debug, Clone)]
pub struct Amp {
    pub couplings: Couplings,
    pub prior: Prior,
    pub delta: f64,
    pub params: AmpParams,
    /// Vector the overlap of `Solve` is measured against (e.g. the planted signal).
    pub reference: Option<Vec<f64>>,
}

impl Amp {
    /// Builds the couplings of `disorder` (p = 2: dense matrix of `precision`; p = 3: padded packed f32).
    pub fn new(disorder: &Disorder, precision: Precision, params: AmpParams) -> Amp {
        let (n, scale, y) = (disorder.n, disorder.coupling_scale, &disorder.couplings);
        let couplings = match (disorder.p, precision) {
            (2, Precision::F32) => Couplings::DenseF32(DenseMatrix::from_packed(n, y, scale)),
            (2, Precision::F64) => Couplings::DenseF64(DenseMatrix::from_packed(n, y, scale)),
            (3, _) => Couplings::Tensor(PackedTensor::from_packed(n, y, scale)),
            (p, _) => panic!("AMP supports p = 2 and p = 3, not p = {p}"),
        };
        Amp { couplings, prior: disorder.prior, delta: disorder.delta, params, reference: None }
    }

    /// Measures `Solve::overlap` against `reference`.
    pub fn with_reference(mut self, reference: Vec<f64>) -> Amp {
        self.reference = Some(reference);
        self
    }

    pub fn n(&self) -> usize {
        match &self.couplings {
            Couplings::DenseF32(m) => m.n(),
            Couplings::DenseF64(m) => m.n(),
            Couplings::Tensor(t) => t.n(),
        }
    }

    /// The uninformed start for this instance.
    pub fn start(&self) -> AmpState {
        AmpState::uninformed(self.n(), self.prior)
    }

    /// Iterates from `state` until convergence or the cap, raising the
    /// damping when the iteration stops contracting (module doc).
    pub fn solve(&self, state: &mut AmpState, measure: &Measure) -> Solve {
        let mut iterations = 0;
        let mut converged = false;
        state.start_solve();
        while iterations < self.params.max_iterations && !converged {
            let change = self.step(state, measure);
            converged = self.settled(state, change, measure);
            iterations += 1;
        }
        Solve {
            iterations,
            converged,
            m_hat_sq: state.m_hat_sq(),
            overlap: self.reference.as_deref().map(|r| state.overlap(r)),
        }
    }

    /// After an iteration that changed `x̂` by `change`: true when the solve
    /// has converged (the change of the undamped map in units of the
    /// configured damping, `change 2^level`, passes `Change::converged`);
    /// otherwise feeds the contraction test and raises the damping level when
    /// it fails.
    fn settled(&self, state: &mut AmpState, change: Change, measure: &Measure) -> bool {
        let scale = f64::from(1u32 << state.damping_level);
        if (Change { max: change.max * scale, rms: change.rms * scale }).converged(&self.params, measure) {
            return true;
        }
        if state.watch.oscillating(change.rms, &state.x_hat) && state.damping_level < MAX_LEVEL {
            state.damping_level += 1;
            state.restart_watch();
        }
        false
    }

    /// One damped AMP iteration; returns the change of `x̂`.
    pub fn step(&self, state: &mut AmpState, measure: &Measure) -> Change {
        self.couplings.field(&state.x_hat, &mut state.s, &mut state.work);
        self.finish_step(state, measure)
    }

    /// The rest of an iteration once `state.s` holds the contraction `S(x̂)`.
    fn finish_step(&self, state: &mut AmpState, measure: &Measure) -> Change {
        let n = self.n();
        let p = self.couplings.p() as i32;
        let q = state.m_hat_sq();
        let q_cross = dot(&state.x_hat, &state.x_hat_old) / n as f64;
        let v_bar = state.v.iter().sum::<f64>() / n as f64;
        let onsager = (p - 1) as f64 / self.delta * v_bar * q_cross.powi(p - 2);
        for i in 0..n {
            state.field[i] = state.s[i] - onsager * state.x_hat_old[i] + measure.y(i);
        }
        state.precision = q.powi(p - 1) / self.delta + measure.t;
        // `s` now holds the undamped new estimate.
        self.denoise(state, measure);
        let d = state.damping(self.params.damping);
        let (mut max, mut sum_sq): (f64, f64) = (0.0, 0.0);
        for i in 0..n {
            let next = match measure.fixed(i) {
                Some(value) => value,
                None => (1.0 - d) * state.s[i] + d * state.x_hat[i],
            };
            let delta = next - state.x_hat[i];
            (max, sum_sq) = (max.max(delta.abs()), sum_sq + delta * delta);
            state.x_hat_old[i] = state.x_hat[i];
            state.x_hat[i] = next;
        }
        Change { max, rms: (sum_sq / n.max(1) as f64).sqrt() }
    }

    /// Writes `f(field, precision)` into `state.s` and `f_v` into `state.v`.
    fn denoise(&self, state: &mut AmpState, measure: &Measure) {
        if self.prior == Prior::Spherical {
            return self.denoise_sphere(state, measure);
        }
        for i in 0..state.s.len() {
            (state.s[i], state.v[i]) = match measure.fixed(i) {
                Some(value) => (value, 0.0),
                None => {
                    let m = denoiser::moments(self.prior, state.field[i], state.precision);
                    (m.mean, m.variance())
                }
            };
        }
    }

    /// Sphere: the free coordinates lie on the sphere of radius^2 `N - sum fixed^2`;
    /// their posterior under the field is the finite-dimensional von
    /// Mises-Fisher law of `sphere`, whose exact mean and variances are used.
    fn denoise_sphere(&self, state: &mut AmpState, measure: &Measure) {
        let n = state.s.len();
        let (mut free, mut fixed_norm2, mut h_norm2) = (0, 0.0, 0.0);
        for i in 0..n {
            match measure.fixed(i) {
                Some(value) => fixed_norm2 += value * value,
                None => (free, h_norm2) = (free + 1, h_norm2 + state.field[i] * state.field[i]),
            }
        }
        let channel = SphereChannel::new(h_norm2, free, n as f64 - fixed_norm2);
        for i in 0..n {
            (state.s[i], state.v[i]) = match measure.fixed(i) {
                Some(value) => (value, 0.0),
                None => (channel.gain * state.field[i], channel.variance(state.field[i], h_norm2)),
            };
        }
        state.sphere = Some(channel);
    }
}

/// `sqrt(sum_i (a_i - b_i)^2 / N)`.
fn rms_distance(a: &[f64], b: &[f64]) -> f64 {
    (squared_distance(a, b) / a.len().max(1) as f64).sqrt()
}

/// `sum_i (a_i - b_i)^2`.
pub(crate) fn squared_distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests;
