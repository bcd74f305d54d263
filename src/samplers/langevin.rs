//! Overdamped Langevin dynamics on the sphere `|x|^2 = N` for spherical spiked
//! tensors (p = 3; p = 2 also works), PHYSICS.md section 8. One Euler step:
//!
//!   g = grad l(x),  g_i = coupling_scale sum_{j<k; j,k != i} Y_ijk x_j x_k
//!   d = dt g + sqrt(2 dt) xi,   d <- d - (d.x / N) x   (tangent plane)
//!   x <- (x + d) sqrt(N / |x + d|^2)                    (back on the sphere)
//!
//! The gradient is one pass over the packed `i<j<k` couplings (each stored
//! triple adds to its three fields), and gives `l(x) = x.g / 3` for free.
//!
//! Step-size bias: the Euler chain samples a measure that differs from
//! `exp(l)` by O(dt) (to first order `exp(l + dt(|grad l|^2/4 + lap l/2))`),
//! which raises the energy. PHYSICS.md quotes about +0.015 at dt = 0.01,
//! T = 0.8, N = 200. This implementation measures less at T = 0.8, N = 100
//! (paired runs from the planted start, tests/langevin.rs): +0.020 +- 0.005
//! at dt = 0.1, +0.004 +- 0.004 at dt = 0.025 and 0.02, consistent with the
//! harmonic estimate `T dt <k>/4 ~ 0.45 dt` (mean curvature `k ~ p beta^2 / 2`)
//! or below. Use dt <= 0.003 and check with dt/2 all the same. Relaxation
//! slows down sharply toward T_d (0.612 for the spherical 3-spin); the energy
//! autocorrelation time is already about 5 time units at T = 0.8, N = 100.

use rand::Rng as _;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use super::driver::{self, Walker};
use super::{check_common, kernels, Init, SamplerError, Schedule};
use crate::models::prior::project_to_sphere;
use crate::models::{Disorder, Prior};
use crate::observe::Observer;
use crate::rng::{self, Rng};

/// Coupling entries read per lock-step block of one chain.
const BLOCK_WORK: u64 = 1 << 22;

/// Parameters of a Langevin run (`steps` recorded steps after `burn_in`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LangevinParams {
    pub chains: usize,
    pub steps: u64,
    pub burn_in: u64,
    pub record_every: u64,
    pub dt: f64,
    pub init: Init,
}

/// What one Langevin chain produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LangevinChain {
    /// Recorded configurations (on the sphere up to f32 rounding).
    pub samples: Vec<Vec<f32>>,
    /// Energy per spin at each record.
    pub energy: Vec<f64>,
    /// Largest `| |x|^2/N - 1 |` after any step (f64 state).
    pub max_norm_error: f64,
}

/// The output of a Langevin run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LangevinRun {
    pub n: usize,
    /// Step count (burn-in included) at each record.
    pub record_steps: Vec<u64>,
    pub chains: Vec<LangevinChain>,
}

/// `g = grad l(x)` (coupling part) and returns `l(x)`, for p = 2 or 3.
pub fn gradient(disorder: &Disorder, x: &[f64], g: &mut [f64]) -> f64 {
    let poly = if disorder.p == 3 {
        kernels::triple_gradient(&disorder.couplings, x, g)
    } else {
        g.iter_mut().for_each(|v| *v = 0.0);
        kernels::packed_symmetric_matvec_add(&disorder.couplings, x, 1.0, g);
        x.iter().zip(g.iter()).map(|(a, b)| a * b).sum::<f64>() / 2.0
    };
    g.iter_mut().for_each(|v| *v *= disorder.coupling_scale);
    disorder.coupling_scale * poly
}

/// One Euler step from `x` given its gradient `g`, drawing the noise from
/// `rng`; returns `| |x|^2/N - 1 |` after it.
pub fn step(x: &mut [f64], g: &[f64], dt: f64, rng: &mut Rng) -> f64 {
    let xi: Vec<f64> = (0..x.len()).map(|_| rng.sample(StandardNormal)).collect();
    step_with_noise(x, g, dt, &xi)
}

/// One Euler step with given standard normals `xi` (e.g. to couple two step
/// sizes through one Brownian path); returns `| |x|^2/N - 1 |` after it.
pub fn step_with_noise(x: &mut [f64], g: &[f64], dt: f64, xi: &[f64]) -> f64 {
    let n = x.len() as f64;
    let noise = (2.0 * dt).sqrt();
    let mut d: Vec<f64> = g.iter().zip(xi).map(|(gi, z)| dt * gi + noise * z).collect();
    let radial = d.iter().zip(x.iter()).map(|(a, b)| a * b).sum::<f64>() / n;
    d.iter_mut().zip(x.iter()).for_each(|(di, xi)| *di -= radial * xi);
    x.iter_mut().zip(&d).for_each(|(xi, di)| *xi += di);
    project_to_sphere(x);
    (x.iter().map(|v| v * v).sum::<f64>() / n - 1.0).abs()
}

/// What changes as one chain runs (saved whole at checkpoints).
#[derive(Serialize, Deserialize)]
struct LangevinState {
    x: Vec<f64>,
    g: Vec<f64>,
    /// `l(x)` when `g` is the gradient at the current `x`.
    fresh: Option<f64>,
    rng: Rng,
    out: LangevinChain,
}

struct LangevinWalker<'a> {
    disorder: &'a Disorder,
    dt: f64,
    chain: LangevinState,
}

impl<'a> LangevinWalker<'a> {
    fn new(disorder: &'a Disorder, params: &LangevinParams, seed: u64, c: u64) -> Self {
        let mut rng = rng::stream(seed, "chain", c);
        let mut x = match (params.init, disorder.planted_f64()) {
            (Init::Planted, Some(planted)) => planted,
            _ => Prior::Spherical.sample(disorder.n, &mut rng),
        };
        project_to_sphere(&mut x);
        let max_norm_error = (x.iter().map(|v| v * v).sum::<f64>() / x.len() as f64 - 1.0).abs();
        LangevinWalker {
            disorder,
            dt: params.dt,
            chain: LangevinState {
                g: vec![0.0; x.len()],
                x,
                fresh: None,
                rng,
                out: LangevinChain { samples: Vec::new(), energy: Vec::new(), max_norm_error },
            },
        }
    }

    /// `l(x)`, computing the gradient at the current `x` if needed.
    fn refresh(&mut self) -> f64 {
        let c = &mut self.chain;
        match c.fresh {
            Some(l) => l,
            None => {
                let l = gradient(self.disorder, &c.x, &mut c.g);
                c.fresh = Some(l);
                l
            }
        }
    }
}

impl Walker for LangevinWalker<'_> {
    type State = LangevinState;

    fn advance(&mut self) {
        self.refresh();
        let c = &mut self.chain;
        let err = step(&mut c.x, &c.g, self.dt, &mut c.rng);
        c.out.max_norm_error = c.out.max_norm_error.max(err);
        c.fresh = None;
    }

    fn record(&mut self, _t: u64) {
        let l = self.refresh();
        let c = &mut self.chain;
        c.out.samples.push(c.x.iter().map(|&v| v as f32).collect());
        c.out.energy.push(-self.disorder.temperature * l / self.disorder.n as f64);
    }

    fn state(&self) -> &LangevinState {
        &self.chain
    }

    fn restore(&mut self, state: LangevinState) {
        self.chain = state;
    }
}

/// Runs `params.chains` Langevin chains on a spherical `disorder` (chain `c`
/// uses `rng::stream(seed, "chain", c)`), reporting chain-averaged "energy"
/// and "overlap_planted" traces at every record.
pub fn run(
    disorder: &Disorder,
    params: &LangevinParams,
    seed: u64,
    observer: &dyn Observer,
) -> Result<LangevinRun, SamplerError> {
    check(disorder, params)?;
    let schedule = Schedule { sweeps: params.steps, burn_in: params.burn_in, record_every: params.record_every };
    schedule.check()?;
    let mut walkers: Vec<LangevinWalker> =
        (0..params.chains as u64).map(|c| LangevinWalker::new(disorder, params, seed, c)).collect();
    let times = schedule.record_times();
    let per_step = crate::models::packed::len(disorder.n, disorder.p) as u64;
    let block = driver::block_len(BLOCK_WORK, per_step);
    let tag = format!("langevin seed {seed} n {} {params:?}", disorder.n);
    driver::lockstep(&mut walkers, &schedule, block, &tag, observer, |ws, new| {
        let count = ws.len();
        driver::trace_mean(observer, "energy", &times, new.clone(), count, |c, r| ws[c].chain.out.energy[r]);
        if let Some(planted) = &disorder.planted {
            let symmetric = disorder.p.is_multiple_of(2);
            driver::trace_mean(observer, "overlap_planted", &times, new, count, |c, r| {
                crate::eval::overlaps::planted_overlap(&ws[c].chain.out.samples[r], planted, disorder.prior, symmetric)
            });
        }
    })?;
    let chains = walkers.into_iter().map(|w| w.chain.out).collect();
    Ok(LangevinRun { n: disorder.n, record_steps: times, chains })
}

fn check(disorder: &Disorder, params: &LangevinParams) -> Result<(), SamplerError> {
    if disorder.prior != Prior::Spherical || !(disorder.p == 2 || disorder.p == 3) {
        return Err(SamplerError::Unsupported("Langevin needs spherical spins with p = 2 or 3".into()));
    }
    if !(params.dt > 0.0 && params.dt.is_finite()) {
        return Err(SamplerError::Unsupported("dt must be positive".into()));
    }
    check_common(disorder, params.init, params.chains)
}
