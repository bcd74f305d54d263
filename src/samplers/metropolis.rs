//! Single-spin-flip Metropolis and heat-bath chains on ±1 and {0, ±1} spins for
//! p = 2 (planted SK, sparse spiked matrix, SK) and p = 3 (Ising spiked tensor),
//! with sequential sweeps, several chains in parallel, and f64 or f32 couplings.

use serde::{Deserialize, Serialize};

use super::driver::{self, Walker};
use super::{
    check_discrete, energy_per_spin, initial_spins, trace_spin_records, Init, Precision, Rule, SamplerError, Schedule,
    SpinChain, SpinModel, SpinRun, SpinState,
};
use crate::models::Disorder;
use crate::observe::Observer;
use crate::rng::{self, Rng};

/// Spin updates per lock-step block of one chain (a few ms of work).
const BLOCK_UPDATES: u64 = 1 << 18;

/// Parameters of a Metropolis / heat-bath run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MetropolisParams {
    pub chains: usize,
    /// Recorded sweeps after burn-in.
    pub sweeps: u64,
    pub burn_in: u64,
    pub record_every: u64,
    pub init: Init,
    pub rule: Rule,
    pub precision: Precision,
}

impl MetropolisParams {
    pub fn schedule(&self) -> Schedule {
        Schedule { sweeps: self.sweeps, burn_in: self.burn_in, record_every: self.record_every }
    }
}

/// What changes as one chain runs: its configuration with fields, stream,
/// counters and records (saved whole at checkpoints).
#[derive(Serialize, Deserialize)]
struct SpinChainState {
    state: SpinState,
    rng: Rng,
    sweep: u64,
    changed: u64,
    attempts: u64,
    out: SpinChain,
}

/// One chain: the model it runs on and its state.
struct SpinWalker<'a, S> {
    model: &'a SpinModel<S>,
    disorder: &'a Disorder,
    rule: Rule,
    burn_in: u64,
    chain: SpinChainState,
}

impl<'a, S: super::Coupling> SpinWalker<'a, S> {
    /// Chain `c` of a run seeded with `seed`.
    fn new(model: &'a SpinModel<S>, disorder: &'a Disorder, params: &MetropolisParams, seed: u64, c: u64) -> Self {
        let mut rng = rng::stream(seed, "chain", c);
        let state = SpinState::new(model, initial_spins(disorder, params.init, &mut rng));
        SpinWalker {
            model,
            disorder,
            rule: params.rule,
            burn_in: params.burn_in,
            chain: SpinChainState {
                state,
                rng,
                sweep: 0,
                changed: 0,
                attempts: 0,
                out: SpinChain { samples: Vec::new(), energy: Vec::new(), acceptance: 0.0 },
            },
        }
    }

    fn finish(self) -> SpinChain {
        let c = self.chain;
        let acceptance = if c.attempts > 0 { c.changed as f64 / c.attempts as f64 } else { 0.0 };
        SpinChain { acceptance, ..c.out }
    }
}

impl<S: super::Coupling> Walker for SpinWalker<'_, S> {
    type State = SpinChainState;

    fn advance(&mut self) {
        let c = &mut self.chain;
        let changed = c.state.sweep(self.model, self.rule, 1.0, &mut c.rng);
        c.sweep += 1;
        if c.sweep > self.burn_in {
            c.changed += changed;
            c.attempts += self.disorder.n as u64;
        }
    }

    fn record(&mut self, _t: u64) {
        let c = &mut self.chain;
        c.out.samples.push(c.state.spins().to_vec());
        c.out.energy.push(energy_per_spin(self.disorder, c.state.log_weight()));
    }

    fn state(&self) -> &SpinChainState {
        &self.chain
    }

    fn restore(&mut self, state: SpinChainState) {
        self.chain = state;
    }
}

/// Runs `params.chains` independent chains on `disorder`; chain `c` uses
/// `rng::stream(seed, "chain", c)`. Reports "energy" and (planted models)
/// "overlap_planted" traces, chain-averaged, at every record.
pub fn run(
    disorder: &Disorder,
    params: &MetropolisParams,
    seed: u64,
    observer: &dyn Observer,
) -> Result<SpinRun, SamplerError> {
    check_discrete(disorder, params.init, params.chains)?;
    params.schedule().check()?;
    match params.precision {
        Precision::F64 => run_typed::<f64>(disorder, params, seed, observer),
        Precision::F32 => run_typed::<f32>(disorder, params, seed, observer),
    }
}

fn run_typed<S: super::Coupling>(
    disorder: &Disorder,
    params: &MetropolisParams,
    seed: u64,
    observer: &dyn Observer,
) -> Result<SpinRun, SamplerError> {
    let model = SpinModel::<S>::new(disorder);
    let mut walkers: Vec<SpinWalker<S>> =
        (0..params.chains as u64).map(|c| SpinWalker::new(&model, disorder, params, seed, c)).collect();
    let schedule = params.schedule();
    let times = schedule.record_times();
    let block = driver::block_len(BLOCK_UPDATES, cost_per_sweep(disorder));
    let tag = format!("metropolis seed {seed} n {} {params:?}", disorder.n);
    driver::lockstep(&mut walkers, &schedule, block, &tag, observer, |ws, new| {
        let chains: Vec<&SpinChain> = ws.iter().map(|w| &w.chain.out).collect();
        trace_spin_records(observer, disorder, &times, &chains, new);
    })?;
    let chains = walkers.into_iter().map(SpinWalker::finish).collect();
    Ok(SpinRun { n: disorder.n, record_sweeps: times, chains })
}

/// Rough cost of one sweep in units of one spin update.
pub(crate) fn cost_per_sweep(disorder: &Disorder) -> u64 {
    let n = disorder.n as u64;
    if disorder.p == 3 {
        n * n / 4
    } else {
        n * 4
    }
}
