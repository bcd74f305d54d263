//! Runs independent chains in lock-step blocks: within a block every chain
//! advances on its own (in parallel, each with its own stream), between blocks
//! the caller reports chain-averaged traces and progress. Each chain checks for
//! cancellation every sweep, and the first chain reports progress every sweep,
//! so a long block (or a starved thread pool) never freezes the count. Blocking never touches a chain's random stream,
//! so the result does not depend on the block size or the thread count.

use std::ops::Range;

use rayon::prelude::*;

use super::Schedule;
use crate::observe::{Cancelled, Observer};

/// One chain as the driver sees it.
pub trait Walker: Send {
    /// Advances by one sweep (or step).
    fn advance(&mut self);
    /// Records the current state (called after sweep `t` when the schedule says so).
    fn record(&mut self, t: u64);
}

/// Sweeps per block so that a block is about `work` units (e.g. spin updates)
/// of one chain when a sweep costs `per_sweep` units.
pub fn block_len(work: u64, per_sweep: u64) -> u64 {
    (work / per_sweep.max(1)).max(1)
}

/// Advances all `walkers` through `schedule` in blocks of `block` sweeps. After
/// each block, `report(walkers, new)` receives the range of record indices that
/// the block completed, then the observer gets `progress(sweeps done, total)`.
pub fn lockstep<W: Walker>(
    walkers: &mut [W],
    schedule: &Schedule,
    block: u64,
    observer: &dyn Observer,
    mut report: impl FnMut(&[W], Range<usize>),
) -> Result<(), Cancelled> {
    let total = schedule.total();
    let mut done = 0;
    let mut records = 0;
    observer.progress(0, total);
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
    }
    Ok(())
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
