//! Parallel tempering (replica exchange, PHYSICS.md section 8): each chain
//! holds R replicas of the same instance at `beta_1 < ... < beta_R = beta`,
//! i.e. targets `P0(x) exp((beta_r/beta) l(x))` (the prior is not tempered).
//! A chain step is one sweep of every replica, then swap attempts between
//! neighbours `(r, r+1)`, even pairs after even steps and odd pairs after odd
//! ones, accepted with `min(1, exp((beta_r - beta_r+1)(H_r - H_r+1)))`.
//! The target replica (`beta_R`) is what is recorded.

use serde::{Deserialize, Serialize};

use super::driver::{self, Walker};
use super::metropolis::cost_per_sweep;
use super::{
    check_discrete, energy_per_spin, initial_spins, trace_spin_records, Coupling, Init, Precision, Rule, SamplerError,
    Schedule, SpinChain, SpinModel, SpinRun, SpinState,
};
use crate::models::Disorder;
use crate::observe::Observer;
use crate::rng::{self, Rng};
use rand::Rng as _;

/// Spin updates per lock-step block of one chain.
const BLOCK_UPDATES: u64 = 1 << 18;

/// The inverse temperatures, as ratios `beta_r / beta` (ascending, last = 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Ladder {
    /// `beta_r / beta = min_ratio^((R-1-r)/(R-1))`, r = 0..R-1.
    Geometric { replicas: usize, min_ratio: f64 },
    /// Explicit ratios, ascending and ending with 1.
    Explicit(Vec<f64>),
}

impl Ladder {
    pub fn ratios(&self) -> Vec<f64> {
        match self {
            Ladder::Geometric { replicas: 1, .. } => vec![1.0],
            Ladder::Geometric { replicas, min_ratio } => {
                let top = (*replicas - 1) as f64;
                (0..*replicas).map(|r| min_ratio.powf((top - r as f64) / top)).collect()
            }
            Ladder::Explicit(ratios) => ratios.clone(),
        }
    }

    fn check(&self) -> Result<(), SamplerError> {
        let r = self.ratios();
        let ascending = r.windows(2).all(|w| w[0] < w[1]);
        if r.is_empty() || !ascending || r[0] <= 0.0 || (r[r.len() - 1] - 1.0).abs() > 1e-12 {
            return Err(SamplerError::Unsupported("ladder must ascend in (0, 1] and end at 1".into()));
        }
        Ok(())
    }
}

/// Parameters of a parallel-tempering run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemperingParams {
    pub chains: usize,
    pub sweeps: u64,
    pub burn_in: u64,
    pub record_every: u64,
    pub init: Init,
    pub rule: Rule,
    pub precision: Precision,
    pub ladder: Ladder,
}

/// Output: the target replica of each chain, and the exchange statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemperingRun {
    pub spins: SpinRun,
    /// Absolute inverse temperatures `beta_r`.
    pub betas: Vec<f64>,
    /// Accepted / attempted swaps of pair `(r, r+1)` after burn-in, all chains.
    pub swap_acceptance: Vec<f64>,
    /// Single-site acceptance of each replica after burn-in, all chains.
    pub replica_acceptance: Vec<f64>,
}

/// What changes as one chain runs: its replicas (with their fields), stream,
/// counters and records (saved whole at checkpoints).
#[derive(Serialize, Deserialize)]
struct PtState {
    replicas: Vec<SpinState>,
    rng: Rng,
    sweep: u64,
    changed: Vec<u64>,
    swaps: Vec<(u64, u64)>,
    out: SpinChain,
}

struct PtWalker<'a, S> {
    model: &'a SpinModel<S>,
    disorder: &'a Disorder,
    scales: Vec<f64>,
    rule: Rule,
    burn_in: u64,
    chain: PtState,
}

impl<'a, S: Coupling> PtWalker<'a, S> {
    fn new(model: &'a SpinModel<S>, disorder: &'a Disorder, params: &TemperingParams, seed: u64, c: u64) -> Self {
        let mut rng = rng::stream(seed, "chain", c);
        let scales = params.ladder.ratios();
        let replicas =
            scales.iter().map(|_| SpinState::new(model, initial_spins(disorder, params.init, &mut rng))).collect();
        let r = scales.len();
        PtWalker {
            model,
            disorder,
            scales,
            rule: params.rule,
            burn_in: params.burn_in,
            chain: PtState {
                replicas,
                rng,
                sweep: 0,
                changed: vec![0; r],
                swaps: vec![(0, 0); r.saturating_sub(1)],
                out: SpinChain { samples: Vec::new(), energy: Vec::new(), acceptance: 0.0 },
            },
        }
    }

    fn exchange(&mut self, counting: bool) {
        let c = &mut self.chain;
        let start = (c.sweep % 2) as usize;
        for r in (start..c.replicas.len().saturating_sub(1)).step_by(2) {
            let (lo, hi) = (c.replicas[r].log_weight(), c.replicas[r + 1].log_weight());
            let log_ratio = (self.scales[r] - self.scales[r + 1]) * (hi - lo);
            let u: f64 = c.rng.random();
            let accept = log_ratio >= 0.0 || u < log_ratio.exp();
            if accept {
                c.replicas.swap(r, r + 1);
            }
            if counting {
                c.swaps[r].0 += accept as u64;
                c.swaps[r].1 += 1;
            }
        }
    }
}

impl<S: Coupling> Walker for PtWalker<'_, S> {
    type State = PtState;

    fn advance(&mut self) {
        let c = &mut self.chain;
        c.sweep += 1;
        let counting = c.sweep > self.burn_in;
        for (r, state) in c.replicas.iter_mut().enumerate() {
            let changed = state.sweep(self.model, self.rule, self.scales[r], &mut c.rng);
            if counting {
                c.changed[r] += changed;
            }
        }
        self.exchange(counting);
    }

    fn record(&mut self, _t: u64) {
        let c = &mut self.chain;
        let target = c.replicas.last().expect("at least one replica");
        c.out.samples.push(target.spins().to_vec());
        c.out.energy.push(energy_per_spin(self.disorder, target.log_weight()));
    }

    fn state(&self) -> &PtState {
        &self.chain
    }

    fn restore(&mut self, state: PtState) {
        self.chain = state;
    }
}

/// Runs `params.chains` replica-exchange chains (chain `c` uses
/// `rng::stream(seed, "chain", c)` for all its replicas and swaps).
pub fn run(
    disorder: &Disorder,
    params: &TemperingParams,
    seed: u64,
    observer: &dyn Observer,
) -> Result<TemperingRun, SamplerError> {
    check_discrete(disorder, params.init, params.chains)?;
    params.ladder.check()?;
    let schedule = Schedule { sweeps: params.sweeps, burn_in: params.burn_in, record_every: params.record_every };
    schedule.check()?;
    match params.precision {
        Precision::F64 => run_typed::<f64>(disorder, params, &schedule, seed, observer),
        Precision::F32 => run_typed::<f32>(disorder, params, &schedule, seed, observer),
    }
}

fn run_typed<S: Coupling>(
    disorder: &Disorder,
    params: &TemperingParams,
    schedule: &Schedule,
    seed: u64,
    observer: &dyn Observer,
) -> Result<TemperingRun, SamplerError> {
    let model = SpinModel::<S>::new(disorder);
    let mut walkers: Vec<PtWalker<S>> =
        (0..params.chains as u64).map(|c| PtWalker::new(&model, disorder, params, seed, c)).collect();
    let times = schedule.record_times();
    let replicas = params.ladder.ratios().len() as u64;
    let block = driver::block_len(BLOCK_UPDATES, cost_per_sweep(disorder) * replicas);
    let tag = format!("tempering seed {seed} n {} {params:?}", disorder.n);
    driver::lockstep(&mut walkers, schedule, block, &tag, observer, |ws, new| {
        let chains: Vec<&SpinChain> = ws.iter().map(|w| &w.chain.out).collect();
        trace_spin_records(observer, disorder, &times, &chains, new);
    })?;
    let ratio = |num: u64, den: u64| {
        if den > 0 {
            num as f64 / den as f64
        } else {
            0.0
        }
    };
    let walkers: Vec<PtState> = walkers.into_iter().map(|w| w.chain).collect();
    let pairs = walkers[0].swaps.len();
    let swap_acceptance: Vec<f64> = (0..pairs)
        .map(|r| ratio(walkers.iter().map(|w| w.swaps[r].0).sum(), walkers.iter().map(|w| w.swaps[r].1).sum()))
        .collect();
    for (r, a) in swap_acceptance.iter().enumerate() {
        observer.trace("swap_acceptance", r as f64, *a);
    }
    let attempts = disorder.n as u64 * params.sweeps * params.chains as u64;
    let replica_acceptance =
        (0..replicas as usize).map(|r| ratio(walkers.iter().map(|w| w.changed[r]).sum(), attempts)).collect();
    let betas = params.ladder.ratios().iter().map(|s| s * disorder.beta()).collect();
    let chains = walkers
        .into_iter()
        .map(|w| {
            let mut out = w.out;
            out.acceptance = ratio(*w.changed.last().unwrap_or(&0), disorder.n as u64 * params.sweeps);
            out
        })
        .collect();
    Ok(TemperingRun {
        spins: SpinRun { n: disorder.n, record_sweeps: times, chains },
        betas,
        swap_acceptance,
        replica_acceptance,
    })
}
