//! Runs independent chains in lock-step blocks: within a block every chain
//! advances on its own (in parallel, each with its own stream), between blocks
//! the caller reports chain-averaged traces and progress. Each chain checks for
//! cancellation every sweep, and the first chain reports progress every sweep,
//! so a long block (or a starved thread pool) never freezes the count. Blocking never touches a chain's random stream,
//! so the result does not depend on the block size or the thread count.
//!
//! Block boundaries are where a run checkpoints: when the observer says one is
//! due, every chain's full state (`Walker::State`) and the sweep count are
//! saved (`crate::resume`), and a later run of the same computation resumes
//! from there, re-emitting the traces of the records already taken.

use std::ops::Range;

use rayon::prelude::*;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::Schedule;
use crate::observe::{Cancelled, Observer};
use crate::resume;

/// One chain as the driver sees it.
pub trait Walker: Send {
    /// Everything of the chain that changes as it runs: configuration,
    /// fields, random stream, statistics and records.
    type State: Serialize + DeserializeOwned + Send;
    /// Advances by one sweep (or step).
    fn advance(&mut self);
    /// Records the current state (called after sweep `t` when the schedule says so).
    fn record(&mut self, t: u64);
    fn state(&self) -> &Self::State;
    /// Puts the chain back in a state `state` returned.
    fn restore(&mut self, state: Self::State);
}

/// A checkpoint of a lock-step run, as saved (borrowing the chains)...
#[derive(Serialize)]
struct Saved<'s, S> {
    done: u64,
    records: usize,
    chains: Vec<&'s S>,
}

/// ... and as loaded (same layout).
#[derive(Deserialize)]
struct Loaded<S> {
    done: u64,
    records: usize,
    chains: Vec<S>,
}

/// Sweeps per block so that a block is about `work` units (e.g. spin updates)
/// of one chain when a sweep costs `per_sweep` units.
pub fn block_len(work: u64, per_sweep: u64) -> u64 {
    (work / per_sweep.max(1)).max(1)
}

/// Advances all `walkers` through `schedule` in blocks of `block` sweeps. After
/// each block, `report(walkers, new)` receives the range of record indices that
/// the block completed, then the observer gets `progress(sweeps done, total)`.
/// `tag` names the computation (sampler, seed, parameters) for its checkpoints.
pub fn lockstep<W: Walker>(
    walkers: &mut [W],
    schedule: &Schedule,
    block: u64,
    tag: &str,
    observer: &dyn Observer,
    mut report: impl FnMut(&[W], Range<usize>),
) -> Result<(), Cancelled> {
    let total = schedule.total();
    let tag = format!("lockstep {} chains {schedule:?}: {tag}", walkers.len());
    let (mut done, mut records) = resume_chains(walkers, schedule, &tag, observer);
    if records > 0 {
        report(walkers, 0..records);
    }
    observer.progress(done, total);
    while done < total {
        let end = (done + block.max(1)).min(total);
        walkers.par_iter_mut().enumerate().try_for_each(|(c, w)| {
            for t in done + 1..=end {
                observer.checkpoint()?;
                w.advance();
                if schedule.records_at(t) {
                    w.record(t);
                }
                if c == 0 && t < end {
                    observer.progress(t, total);
                }
            }
            Ok(())
        })?;
        let new_records = (done + 1..=end).filter(|&t| schedule.records_at(t)).count();
        report(walkers, records..records + new_records);
        records += new_records;
        done = end;
        observer.progress(done, total);
        if done < total && observer.checkpoint_due() {
            let chains = walkers.iter().map(W::state).collect();
            resume::save(observer, &tag, &Saved { done, records, chains });
        }
    }
    Ok(())
}

/// Restores the chains from a checkpoint of `tag`, if there is a usable one;
/// returns the sweeps and records already done.
fn resume_chains<W: Walker>(
    walkers: &mut [W],
    schedule: &Schedule,
    tag: &str,
    observer: &dyn Observer,
) -> (u64, usize) {
    let Some(saved) = resume::load::<Loaded<W::State>>(observer, tag) else { return (0, 0) };
    let records = (1..=saved.done).filter(|&t| schedule.records_at(t)).count();
    if saved.chains.len() != walkers.len() || saved.done > schedule.total() || saved.records != records {
        observer.log("ignoring the checkpoint (it does not fit this run): starting over");
        return (0, 0);
    }
    for (w, state) in walkers.iter_mut().zip(saved.chains) {
        w.restore(state);
    }
    observer.log(&format!("resuming from the checkpoint at sweep {} of {}", saved.done, schedule.total()));
    (saved.done, records)
}

/// Emits `series` at `x = times[r]` for each record `r` in `new`, averaging
/// `value(chain, r)` over the chains.
pub fn trace_mean(
    observer: &dyn Observer,
    series: &str,
    times: &[u64],
    new: Range<usize>,
    chains: usize,
    value: impl Fn(usize, usize) -> f64,
) {
    for r in new {
        let mean = (0..chains).map(|c| value(c, r)).sum::<f64>() / chains as f64;
        observer.trace(series, times[r] as f64, mean);
    }
}
