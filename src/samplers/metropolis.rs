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

/// One chain: its state, stream and record.
struct SpinWalker<'a, S> {
    model: &'a SpinModel<S>,
    disorder: &'a Disorder,
    state: SpinState,
    rng: Rng,
    rule: Rule,
    burn_in: u64,
    sweep: u64,
    changed: u64,
    attempts: u64,
    out: SpinChain,
}

impl<'a, S: super::Coupling> SpinWalker<'a, S> {
    /// Chain `c` of a run seeded with `seed`.
    fn new(model: &'a SpinModel<S>, disorder: &'a Disorder, params: &MetropolisParams, seed: u64, c: u64) -> Self {
        let mut rng = rng::stream(seed, "chain", c);
        let state = SpinState::new(model, initial_spins(disorder, params.init, &mut rng));
        SpinWalker {
            model,
            disorder,
            state,
            rng,
            rule: params.rule,
            burn_in: params.burn_in,
            sweep: 0,
            changed: 0,
            attempts: 0,
            out: SpinChain { samples: Vec::new(), energy: Vec::new(), acceptance: 0.0 },
        }
    }

    fn finish(mut self) -> SpinChain {
        self.out.acceptance = if self.attempts > 0 { self.changed as f64 / self.attempts as f64 } else { 0.0 };
        self.out
    }
}

impl<S: super::Coupling> Walker for SpinWalker<'_, S> {
    fn advance(&mut self) {
        let changed = self.state.sweep(self.model, self.rule, 1.0, &mut self.rng);
        self.sweep += 1;
        if self.sweep > self.burn_in {
            self.changed += changed;
            self.attempts += self.disorder.n as u64;
        }
    }

    fn record(&mut self, _t: u64) {
        self.out.samples.push(self.state.spins().to_vec());
        self.out.energy.push(energy_per_spin(self.disorder, self.state.log_weight()));
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
    driver::lockstep(&mut walkers, &schedule, block, observer, |ws, new| {
        let chains: Vec<&SpinChain> = ws.iter().map(|w| &w.out).collect();
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
