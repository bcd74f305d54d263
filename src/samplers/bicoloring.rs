//! Glauber (heat-bath) dynamics for hypergraph bicoloring: single-vertex
//! updates at inverse temperature `beta` on the number of monochromatic
//! hyperedges, `P(flip) = 1 / (1 + exp(beta ΔE))`; with `beta = None` the
//! dynamics is restricted to proper colorings (`beta = ∞`: a flip that would
//! create a monochromatic hyperedge is refused, a neutral one is taken with
//! probability 1/2, one that removes violations always). Started at the
//! planted coloring (`Init::Planted`) it is an equilibrium chain of the
//! uniform measure over proper colorings (quiet planting).
//!
//! Per hyperedge the chain keeps the number of `+` members, so a flip costs
//! O(degree). Chain `c` draws from `rng::stream(seed, "chain", c)`; chains run
//! in lock step (`driver::lockstep`, which also checkpoints them), so the
//! output does not depend on the thread count. A sweep is N updates at
//! uniformly random vertices.

use rand::Rng as _;
use serde::{Deserialize, Serialize};

use super::driver::{self, Walker};
use super::{Init, Schedule};
use crate::models::bicoloring::Bicoloring;
use crate::observe::Observer;
use crate::rng::{self, Rng};

/// Parameters of a Glauber run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GlauberParams {
    pub chains: usize,
    pub burn_in: u64,
    pub sweeps: u64,
    pub record_every: u64,
    pub init: Init,
    /// Inverse temperature on the violated count; `None` = proper colorings only.
    pub beta: Option<f64>,
}

/// One chain's records.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct GlauberChain {
    /// Recorded colorings (±1).
    pub samples: Vec<Vec<i8>>,
    /// Monochromatic hyperedges of each record.
    pub violated: Vec<usize>,
    /// Fraction of proposed flips taken.
    pub acceptance: f64,
}

/// All chains, with the sweep of each record.
#[derive(Debug, Clone, PartialEq)]
pub struct GlauberRun {
    pub chains: Vec<GlauberChain>,
    pub record_sweeps: Vec<u64>,
}

/// Runs `params.chains` chains on `graph`.
pub fn run(
    graph: &Bicoloring,
    params: &GlauberParams,
    seed: u64,
    observer: &dyn Observer,
) -> Result<GlauberRun, String> {
    if params.init == Init::Planted && graph.planted.is_none() {
        return Err("init = \"planted\" needs a planted bicoloring instance (planted = true)".into());
    }
    if params.beta.is_some_and(|b| !(b.is_finite() && b >= 0.0)) {
        return Err(format!("beta = {:?} must be a finite number >= 0", params.beta));
    }
    let mut walkers: Vec<GlauberWalker> = (0..params.chains)
        .map(|c| {
            let mut rng = rng::stream(seed, "chain", c as u64);
            let chain = Chain::start(graph, params.init, &mut rng);
            GlauberWalker {
                graph,
                params,
                state: GlauberState { chain, rng, accepted: 0, out: GlauberChain::default() },
            }
        })
        .collect();
    let schedule = Schedule { sweeps: params.sweeps, burn_in: params.burn_in, record_every: params.record_every };
    schedule.check().map_err(|e| e.to_string())?;
    let block = driver::block_len(1 << 18, (graph.n * graph.k) as u64);
    let tag = format!("glauber seed {seed} n {} m {} {params:?}", graph.n, graph.m());
    driver::lockstep(&mut walkers, &schedule, block, &tag, observer, |_, _| {}).map_err(|_| "cancelled".to_string())?;
    let total = (schedule.total().max(1) * graph.n as u64) as f64;
    let chains = walkers
        .into_iter()
        .map(|w| GlauberChain { acceptance: w.state.accepted as f64 / total, ..w.state.out })
        .collect();
    Ok(GlauberRun { chains, record_sweeps: schedule.record_times() })
}

/// What changes as one chain runs (saved whole at checkpoints).
#[derive(Serialize, Deserialize)]
struct GlauberState {
    chain: Chain,
    rng: Rng,
    accepted: u64,
    out: GlauberChain,
}

/// One chain as the lock-step driver runs it.
struct GlauberWalker<'a> {
    graph: &'a Bicoloring,
    params: &'a GlauberParams,
    state: GlauberState,
}

impl Walker for GlauberWalker<'_> {
    type State = GlauberState;

    fn advance(&mut self) {
        let s = &mut self.state;
        s.accepted += s.chain.sweep(self.graph, self.params.beta, &mut s.rng);
    }

    fn record(&mut self, _t: u64) {
        let s = &mut self.state;
        s.out.samples.push(s.chain.x.clone());
        s.out.violated.push(s.chain.violated);
    }

    fn state(&self) -> &GlauberState {
        &self.state
    }

    fn restore(&mut self, state: GlauberState) {
        self.state = state;
    }
}

/// The state of one chain.
#[derive(Serialize, Deserialize)]
struct Chain {
    x: Vec<i8>,
    /// `+` members per hyperedge.
    plus: Vec<u8>,
    violated: usize,
}

impl Chain {
    fn start(graph: &Bicoloring, init: Init, rng: &mut Rng) -> Chain {
        let x: Vec<i8> = match (init, &graph.planted) {
            (Init::Planted, Some(p)) => p.clone(),
            _ => (0..graph.n).map(|_| if rng.random::<bool>() { 1 } else { -1 }).collect(),
        };
        let k = graph.k as u8;
        let plus: Vec<u8> =
            (0..graph.m()).map(|a| graph.edge(a).iter().filter(|&&v| x[v as usize] > 0).count() as u8).collect();
        let violated = plus.iter().filter(|&&p| p == 0 || p == k).count();
        Chain { x, plus, violated }
    }

    /// N heat-bath updates; returns the flips taken.
    fn sweep(&mut self, graph: &Bicoloring, beta: Option<f64>, rng: &mut Rng) -> u64 {
        let k = graph.k as u8;
        let mut taken = 0;
        for _ in 0..graph.n {
            let i = rng.random_range(0..graph.n);
            let s = self.x[i];
            // Change in violated hyperedges if i flips.
            let mut delta: i64 = 0;
            for &slot in graph.vertex_slots(i) {
                let p = self.plus[slot as usize / graph.k];
                let after = if s > 0 { p - 1 } else { p + 1 };
                delta += (after == 0 || after == k) as i64 - (p == 0 || p == k) as i64;
            }
            let flip = match beta {
                None => delta < 0 || (delta == 0 && rng.random::<bool>()),
                Some(b) => rng.random::<f64>() * (1.0 + (b * delta as f64).exp()) < 1.0,
            };
            if flip {
                for &slot in graph.vertex_slots(i) {
                    let p = &mut self.plus[slot as usize / graph.k];
                    if s > 0 {
                        *p -= 1;
                    } else {
                        *p += 1;
                    }
                }
                self.x[i] = -s;
                self.violated = (self.violated as i64 + delta) as usize;
                taken += 1;
            }
        }
        taken
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::Silent;

    fn params(init: Init, beta: Option<f64>) -> GlauberParams {
        GlauberParams { chains: 2, burn_in: 5, sweeps: 20, record_every: 5, init, beta }
    }

    #[test]
    fn restricted_dynamics_from_planted_stays_proper_and_counts_match() {
        let g = Bicoloring::generate(3000, 5, 8.0, true, 1, &crate::observe::Silent).unwrap().unwrap();
        let out = run(&g, &params(Init::Planted, None), 3, &Silent).unwrap();
        for c in &out.chains {
            assert_eq!(c.samples.len(), 4);
            for (x, &v) in c.samples.iter().zip(&c.violated) {
                assert_eq!(v, 0);
                assert_eq!(g.violated(&x.iter().map(|&s| s as f64).collect::<Vec<_>>()), 0);
            }
            assert!(c.acceptance > 0.01, "some flips are free: {}", c.acceptance);
        }
        assert_eq!(out.record_sweeps, vec![10, 15, 20, 25]);
    }

    #[test]
    fn finite_beta_tracks_the_violated_count_and_lowers_it() {
        let g = Bicoloring::generate(2000, 4, 3.0, true, 2, &Silent).unwrap().unwrap();
        let out = run(&g, &params(Init::Random, Some(3.0)), 4, &Silent).unwrap();
        for c in &out.chains {
            for (x, &v) in c.samples.iter().zip(&c.violated) {
                assert_eq!(g.violated(&x.iter().map(|&s| s as f64).collect::<Vec<_>>()), v);
            }
            // A random coloring violates about M/8 = 750; beta = 3 brings it far down.
            assert!(*c.violated.last().unwrap() < 100, "{:?}", c.violated);
        }
    }

    #[test]
    fn heat_bath_is_exact_on_a_tiny_instance() {
        // Uniform over proper colorings: the empirical law of one vertex pair
        // matches exact enumeration.
        let g = Bicoloring::generate(8, 3, 0.5, true, 5, &Silent).unwrap().unwrap();
        let n = g.n;
        let proper: Vec<u32> = (0u32..1 << n)
            .filter(|bits| {
                let x: Vec<f64> = (0..n).map(|i| if bits >> i & 1 == 1 { 1.0 } else { -1.0 }).collect();
                g.violated(&x) == 0
            })
            .collect();
        let exact = proper.iter().filter(|b| *b & 1 == *b >> 1 & 1).count() as f64 / proper.len() as f64;
        let p =
            GlauberParams { chains: 4, burn_in: 10, sweeps: 20_000, record_every: 1, init: Init::Planted, beta: None };
        let out = run(&g, &p, 6, &Silent).unwrap();
        let agree: Vec<f64> =
            out.chains.iter().flat_map(|c| c.samples.iter().map(|x| (x[0] == x[1]) as u8 as f64)).collect();
        let mean = agree.iter().sum::<f64>() / agree.len() as f64;
        assert!((mean - exact).abs() < 0.02, "P(x0 = x1): chain {mean} vs exact {exact}");
    }

    #[test]
    fn deterministic_and_planted_init_needs_a_planted_instance() {
        let g = Bicoloring::generate(500, 5, 6.0, false, 1, &Silent).unwrap().unwrap();
        assert!(run(&g, &params(Init::Planted, None), 0, &Silent).unwrap_err().contains("planted"));
        let a = run(&g, &params(Init::Random, Some(1.0)), 0, &Silent).unwrap();
        assert_eq!(a, run(&g, &params(Init::Random, Some(1.0)), 0, &Silent).unwrap());
    }
}
