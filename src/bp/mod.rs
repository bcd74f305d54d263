//! Belief propagation for hypergraph bicoloring (PHYSICS.md section 13) with
//! external fields: the posterior-mean oracle of the sparse model. Fields in
//! the tanh parametrisation (`m = tanh h`); per slot `s = a*k + position` the
//! hyperedge-to-vertex message `u_{a->i}`, per vertex the full field
//! `H_i = B_i + sum_{a ∋ i} u_{a->i}`; the vertex-to-hyperedge message is
//! `h_{i->a} = H_i - u_{a->i}`.
//!
//! Hyperedge update, with `p_j^± = (1 ± tanh h_{j->a})/2` over the other
//! members: `u_{a->i} = (1/2) ln[(1 - Π p_j^+) / (1 - Π p_j^-)]` (x_i = s is
//! violating only if all the others are s). `1 - Π p_j` is summed as
//! `Σ_j (1 - p_j) Π_{l<j} p_l`, a sum of positive terms, so nearly hard messages
//! keep their precision; `p^±` come from `exp(-2|h|)` (no overflow). Messages
//! are capped at `±U_MAX` (a hard constraint, to double precision).
//!
//! Paths: diffusion tilts with `B_i = y_i` (the precision `t` is a constant for
//! ±1 spins); decimation clamps a fixed vertex with `B_i = ±CLAMP`. One
//! iteration is a Gauss-Seidel sweep over groups of vertex-disjoint
//! hyperedges (a greedy coloring), each group updated in parallel (rayon over
//! fixed chunks): a fully parallel sweep oscillates here (the uniform mode of
//! the linearised update has eigenvalue about `-(k-1) k alpha / (2^(k-1) - 1)`,
//! -10.7 at k = 5, alpha = 9). The result does not depend on the thread count.
//! Damping mixes the new `u` with the old.
//!
//! Stopping rule (`Convergence`): a solve stops when a sweep moves no marginal
//! `x̂_i = tanh H_i` (what the samplers use) by more than `tol`, or, when the
//! caller sets an accuracy (the diffusion's Girsanov error budget, see
//! `samplers::diffusion::solve_accuracy`), when the root-mean-square distance
//! of `x̂` to the fixed point, estimated from the geometric decay of the
//! sweep-to-sweep changes (`rms_k r / (1 - r)`, `r = rms_k / rms_{k-1}`), is below
//! it; or, with an accuracy set, as soon as the relaxation rate says that
//! accuracy is out of reach within the cap (`Verdict::Hopeless`); or at the
//! cap, and says which (non-convergence is reported, never hidden). The
//! estimate, not the raw change, matters here: near the end point
//! BP relaxes slowly (critical slowing down, `r` up to 0.95 per sweep at alpha
//! = 8, t ~ 0.3), where a small change per sweep is still far from the fixed
//! point.

mod bethe;
pub mod decimation;
mod oracle;

use bethe::bethe_free_entropy;

use rayon::prelude::*;

use crate::amp::{Measure, Solve};
use crate::models::bicoloring::Bicoloring;

/// Largest |u|: tanh(U_MAX) == 1 in f64 (a hard constraint).
pub const U_MAX: f64 = 40.0;
/// External field of a clamped (decimated) vertex.
pub const CLAMP: f64 = 1e6;
/// Hyperedges per parallel work item (fixed, so reductions do not depend on threads).
const EDGE_CHUNK: usize = 2048;
const VERTEX_CHUNK: usize = 4096;
/// Sweeps between recomputations of the fields from scratch (against rounding drift).
const REFRESH: usize = 16;

/// Iteration control.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BpParams {
    /// Weight of the old message in the damped update (0 = undamped).
    pub damping: f64,
    /// Stop when a sweep moves no marginal by more than `tol` (`max_i |Δx̂_i|`).
    pub tol: f64,
    pub max_iterations: usize,
}

impl Default for BpParams {
    fn default() -> BpParams {
        BpParams { damping: 0.3, tol: 1e-6, max_iterations: 200 }
    }
}

/// BP on one hypergraph, with its update schedule.
#[derive(Debug, Clone)]
pub struct Bp {
    /// The hypergraph with its hyperedges renumbered group by group (slots and
    /// messages live in this order).
    pub graph: Bicoloring,
    /// Hyperedges `groups[g] .. groups[g+1]` (renumbered) share no vertex.
    pub groups: Vec<usize>,
    pub params: BpParams,
    /// What `Solve::overlap` is measured against (e.g. the planted coloring).
    pub reference: Option<Vec<f64>>,
    /// Group of each (renumbered) hyperedge.
    group_of: Vec<u32>,
    /// Sweeps are local (`Activity`) while fewer hyperedges than this may be
    /// active (`M / LOCAL_FRACTION`; 0 = never, `usize::MAX` = whenever the
    /// worklist is known: the results are the same).
    pub local_below: usize,
}

/// Local sweeps while fewer than `M / LOCAL_FRACTION` hyperedges may be
/// active: a local update also queues the other hyperedges of every member
/// it moves (`k alpha` each, serially), about five times the update itself,
/// against a parallel scan of all M.
const LOCAL_FRACTION: usize = 64;

/// Messages of one BP run; also the warm start of the next solve.
#[derive(Debug, Clone)]
pub struct BpState {
    /// `u_{a->i}` per slot (in the schedule's hyperedge order).
    pub u: Vec<f64>,
    /// Per vertex the full field `H_i` (including `B_i`) and its activity record.
    pub vertices: Vec<Vertex>,
    /// External fields `B_i` of the last solve.
    pub external: Vec<f64>,
    /// Marginal means `tanh H_i` (the fixed value on clamped vertices).
    pub x_hat: Vec<f64>,
    /// Which hyperedges a sweep recomputes (see `Activity`).
    pub activity: Activity,
}

/// Residual scheduling of the sweeps: a hyperedge is recomputed only when a
/// member's field has moved by more than `tol` since that hyperedge was last
/// computed (or its own damped message has not settled). Ticks count groups
/// (`sweep * groups + group`); a vertex records the tick at which its field
/// last moved (`moved_at`, with the field it had then in `marked`, beside
/// the field itself in `Vertex`: the check and the update of a member touch
/// one cache line), a hyperedge the tick of its last update (`updated_at`, 0 while its damped
/// messages are short of their target). Moves a hyperedge makes to its own
/// members carry its own tick, so they do not re-activate it.
/// Each vertex is touched by one hyperedge per group: no races, no atomics.
///
/// Local sweeps. A sweep that reads every hyperedge's members to find the
/// few active ones costs about a third of a full sweep; after a small
/// perturbation (decimation fixing a block of vertices, the tail of a solve)
/// that scan is most of the work. So when few hyperedges are active the
/// sweeps keep a worklist instead (`pending`, per group the hyperedges that
/// may be active: every hyperedge of a vertex that moved since, or of a
/// damped message still short of its target), and test the same rule on
/// those only. The worklist is a superset of what the scan would find, the
/// rule is the same and hyperedges of one group are disjoint (their order
/// does not matter), so local and full sweeps give bit-identical results
/// (tested); local sweeps run serially.
#[derive(Debug, Clone)]
pub struct Activity {
    pub tick: u64,
    pub updated_at: Vec<u64>,
    /// Per group the hyperedges that may be active (valid when `listed`).
    pending: Vec<Vec<u32>>,
    /// Whether a hyperedge is in `pending`.
    queued: Vec<bool>,
    listed: bool,
}

/// What a sweep reads and writes of one vertex, together (32 bytes, aligned:
/// one cache line per member of a hyperedge; at N = 10^5 the members are
/// random L3 accesses): its full field `H_i`, when it last moved by more than
/// `tol` (`moved_at`, a tick of `Activity`), and its field then (`marked`).
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C, align(32))]
pub struct Vertex {
    pub field: f64,
    pub moved_at: u64,
    pub marked: f64,
}

impl Activity {
    /// Everything active.
    fn all(m: usize) -> Activity {
        Activity { tick: 2, updated_at: vec![0; m], pending: Vec::new(), queued: vec![false; m], listed: false }
    }

    /// Puts hyperedge `a` (of group `group`) on the worklist.
    #[inline]
    fn queue(&mut self, a: usize, group: usize) {
        if !self.queued[a] {
            self.queued[a] = true;
            self.pending[group].push(a as u32);
        }
    }

    fn pending_total(&self) -> usize {
        self.pending.iter().map(Vec::len).sum()
    }
}

impl BpState {
    /// All messages zero: the uninformed start.
    pub fn uninformed(graph: &Bicoloring) -> BpState {
        BpState {
            u: vec![0.0; graph.edges.len()],
            vertices: vec![Vertex { field: 0.0, moved_at: 1, marked: 0.0 }; graph.n],
            external: vec![0.0; graph.n],
            x_hat: vec![0.0; graph.n],
            activity: Activity::all(graph.m()),
        }
    }

    /// Fields at the configuration `x` (every field hard, `±U_MAX`): the informed start.
    pub fn informed(graph: &Bicoloring, x: &[f64]) -> BpState {
        let mut state = BpState::uninformed(graph);
        for (i, &v) in x.iter().enumerate() {
            state.vertices[i].field = U_MAX * v.signum();
            state.x_hat[i] = v.signum();
        }
        state
    }

    /// The full field `H_i`.
    pub fn field(&self, i: usize) -> f64 {
        self.vertices[i].field
    }

    /// `|x̂|^2 / N`.
    pub fn m_hat_sq(&self) -> f64 {
        self.x_hat.iter().map(|v| v * v).sum::<f64>() / self.x_hat.len().max(1) as f64
    }
}

impl Bp {
    /// Colors the hyperedges greedily (in their order) so that no two of one
    /// color share a vertex, and renumbers them color by color.
    pub fn new(graph: &Bicoloring, params: BpParams) -> Bp {
        let (order, groups) = schedule(graph);
        let mut edges = Vec::with_capacity(graph.edges.len());
        for &a in &order {
            edges.extend_from_slice(graph.edge(a as usize));
        }
        let graph = Bicoloring::from_edges(graph.n, graph.k, graph.alpha, edges, graph.planted.clone());
        let mut group_of = vec![0u32; graph.m()];
        for (g, w) in groups.windows(2).enumerate() {
            group_of[w[0]..w[1]].fill(g as u32);
        }
        let local_below = graph.m() / LOCAL_FRACTION;
        Bp { graph, groups, params, reference: None, group_of, local_below }
    }

    pub fn with_reference(mut self, reference: Vec<f64>) -> Bp {
        self.reference = Some(reference);
        self
    }

    /// The uninformed start.
    pub fn uninformed(&self) -> BpState {
        BpState::uninformed(&self.graph)
    }

    /// Sets the external fields of `measure`: `B_i = y_i`, or `±CLAMP` on fixed vertices.
    pub fn set_fields(&self, state: &mut BpState, measure: &Measure) {
        // New fields everywhere: the next sweep scans (no worklist to keep).
        state.activity.listed = false;
        for i in 0..self.graph.n {
            let b = match measure.fixed.get(i).copied().flatten() {
                Some(value) => CLAMP * value.signum(),
                None => measure.y.get(i).copied().unwrap_or(0.0),
            };
            self.set_external(state, i, b);
        }
    }

    /// Fixes vertex `i` to `value` (`B_i = ±CLAMP`); its hyperedges become active.
    pub fn clamp(&self, state: &mut BpState, i: usize, value: f64) {
        self.set_external(state, i, CLAMP * value.signum());
    }

    /// Iterates from `state` on the measure's fields until convergence (to
    /// `tol`, or to the measure's `accuracy` when it sets one) or the cap.
    pub fn solve(&self, state: &mut BpState, measure: &Measure) -> Solve {
        self.set_fields(state, measure);
        self.iterate(state, measure.accuracy)
    }

    /// Iterates with the fields already in `state.external` (and the vertices' fields)
    /// until the marginals the samplers use move by less than `tol`
    /// (`max_i |Δx̂_i|` over one sweep), or their estimated root-mean-square
    /// distance to the fixed point is below `accuracy` (0 = none), or the cap.
    pub fn iterate(&self, state: &mut BpState, accuracy: f64) -> Solve {
        let (mut iterations, mut verdict) = (0, Verdict::Running);
        let mut test = Convergence::new(self.params.tol, accuracy, self.params.max_iterations);
        while iterations < self.params.max_iterations && verdict == Verdict::Running {
            self.step(state);
            iterations += 1;
            if iterations % REFRESH == 0 {
                self.refresh_fields(state);
            }
            let (max, sum_sq) = self.update_marginals(state);
            verdict = test.after_sweep(max, (sum_sq / self.graph.n.max(1) as f64).sqrt());
        }
        let converged = verdict == Verdict::Converged;
        if iterations == 0 || iterations % REFRESH != 0 {
            self.refresh_fields(state);
            self.update_marginals(state);
        }
        self.summary(state, iterations, converged)
    }

    /// What a solve reports about `state` (its marginals `x̂` current).
    fn summary(&self, state: &BpState, iterations: usize, converged: bool) -> Solve {
        Solve {
            iterations,
            converged,
            m_hat_sq: state.m_hat_sq(),
            overlap: self
                .reference
                .as_ref()
                .map(|r| state.x_hat.iter().zip(r).map(|(a, b)| a * b).sum::<f64>() / self.graph.n as f64),
        }
    }

    /// One damped sweep; returns `max |Δu|`. Groups go in order (each sees the
    /// fields its predecessors left: a Gauss-Seidel sweep, which does not
    /// oscillate along the uniform mode the way a fully parallel sweep does on
    /// this antiferromagnetic-like constraint); inside a group the hyperedges
    /// are disjoint and update in parallel, each adding its change to its own
    /// members' fields. The marginals `x̂` are refreshed by `iterate` after
    /// every sweep (with the fields recomputed from scratch every `REFRESH`
    /// sweeps and at the end: that gather reads the messages in vertex order).
    pub fn step(&self, state: &mut BpState) -> f64 {
        let activity = &state.activity;
        if activity.listed && activity.pending_total() < self.local_below {
            return self.local_sweep(state);
        }
        let (change, updates) = self.full_sweep(state);
        if updates < self.local_below {
            self.list_active(state);
        }
        change
    }

    /// A sweep that scans every hyperedge of each group (in parallel) for
    /// the active ones; returns `max |Δu|` and the hyperedges updated.
    fn full_sweep(&self, state: &mut BpState) -> (f64, usize) {
        let k = self.graph.k;
        state.activity.listed = false;
        let (mut change, mut updates): (f64, usize) = (0.0, 0);
        for g in 0..self.groups.len() - 1 {
            let tick = state.activity.tick;
            let range = self.groups[g] * k..self.groups[g + 1] * k;
            let first = self.groups[g];
            let vertices = Shared(state.vertices.as_mut_ptr(), state.vertices.len());
            let (group_change, group_updates) = state.u[range.clone()]
                .par_chunks_mut(EDGE_CHUNK * k)
                .zip(self.graph.edges[range].par_chunks(EDGE_CHUNK * k))
                .zip(state.activity.updated_at[first..self.groups[g + 1]].par_chunks_mut(EDGE_CHUNK))
                .map(|((u, members), updated_at)| {
                    let (mut change, mut updates): (f64, usize) = (0.0, 0);
                    for (e, updated) in updated_at.iter_mut().enumerate() {
                        if let Some(ahead) = members.get((e + PREFETCH_AHEAD) * k..(e + PREFETCH_AHEAD + 1) * k) {
                            prefetch(&vertices, ahead);
                        }
                        let (u, members) = (&mut u[e * k..(e + 1) * k], &members[e * k..(e + 1) * k]);
                        if let Some((c, _)) = visit_edge(u, members, updated, &vertices, tick, &self.params) {
                            change = change.max(c);
                            updates += 1;
                        }
                    }
                    (change, updates)
                })
                .reduce(|| (0.0, 0), |a, b| (a.0.max(b.0), a.1 + b.1));
            change = change.max(group_change);
            updates += group_updates;
            state.activity.tick += 1;
        }
        (change, updates)
    }

    /// A sweep over the worklist only (serially; see `Activity`).
    fn local_sweep(&self, state: &mut BpState) -> f64 {
        let k = self.graph.k;
        let mut change: f64 = 0.0;
        for g in 0..self.groups.len() - 1 {
            let tick = state.activity.tick;
            let list = std::mem::take(&mut state.activity.pending[g]);
            for &a in &list {
                state.activity.queued[a as usize] = false;
            }
            let vertices = Shared(state.vertices.as_mut_ptr(), state.vertices.len());
            for (e, &a) in list.iter().enumerate() {
                if let Some(&ahead) = list.get(e + PREFETCH_AHEAD) {
                    prefetch(&vertices, self.graph.edge(ahead as usize));
                }
                let a = a as usize;
                let (u, members) = (&mut state.u[a * k..(a + 1) * k], &self.graph.edges[a * k..(a + 1) * k]);
                let updated = &mut state.activity.updated_at[a];
                let Some((c, marked)) = visit_edge(u, members, updated, &vertices, tick, &self.params) else {
                    continue;
                };
                change = change.max(c);
                if *updated == 0 {
                    state.activity.queue(a, g); // a damped message short of its target
                }
                for (p, &v) in members.iter().enumerate() {
                    if marked >> p & 1 == 1 {
                        self.queue_vertex(&mut state.activity, v as usize, a);
                    }
                }
            }
            if state.activity.pending[g].is_empty() {
                let mut list = list;
                list.clear();
                state.activity.pending[g] = list; // keep the allocation
            }
            state.activity.tick += 1;
        }
        change
    }

    /// Queues the hyperedges of vertex `i` other than `except` (worklist only).
    #[inline]
    fn queue_vertex(&self, activity: &mut Activity, i: usize, except: usize) {
        let k = self.graph.k;
        for &slot in self.graph.vertex_slots(i) {
            let a = slot as usize / k;
            if a != except {
                activity.queue(a, self.group_of[a] as usize);
            }
        }
    }

    /// Builds the worklist from scratch: every hyperedge the scan's rule finds
    /// active now (later moves queue their hyperedges as they happen).
    fn list_active(&self, state: &mut BpState) {
        let k = self.graph.k;
        let groups = self.groups.len() - 1;
        let activity = &mut state.activity;
        activity.pending.resize_with(groups, Vec::new);
        activity.pending.iter_mut().for_each(Vec::clear);
        activity.queued.fill(false);
        for g in 0..groups {
            for a in self.groups[g]..self.groups[g + 1] {
                let updated = activity.updated_at[a];
                if self.graph.edges[a * k..(a + 1) * k].iter().any(|&v| state.vertices[v as usize].moved_at > updated) {
                    activity.queue(a, g);
                }
            }
        }
        activity.listed = true;
    }

    /// `B_i = b`, keeping `H = B + Σ u` consistent without losing a warm (or
    /// informed) start; a changed field activates the vertex's hyperedges.
    fn set_external(&self, state: &mut BpState, i: usize, b: f64) {
        if b != state.external[i] {
            let v = &mut state.vertices[i];
            v.field += b - state.external[i];
            (v.moved_at, v.marked) = (state.activity.tick, v.field);
            state.external[i] = b;
            state.activity.tick += 1;
            if state.activity.listed {
                self.queue_vertex(&mut state.activity, i, usize::MAX);
            }
        }
    }

    /// `H_i = B_i + Σ_a u_{a->i}` from scratch (the sweeps update `H`
    /// incrementally; this removes their rounding drift).
    fn refresh_fields(&self, state: &mut BpState) {
        let g = &self.graph;
        let u = &state.u;
        state.vertices.par_chunks_mut(VERTEX_CHUNK).zip(state.external.par_chunks(VERTEX_CHUNK)).enumerate().for_each(
            |(c, (vertices, external))| {
                for (j, (vertex, &b)) in vertices.iter_mut().zip(external).enumerate() {
                    let i = c * VERTEX_CHUNK + j;
                    vertex.field = b + g.vertex_slots(i).iter().map(|&s| u[s as usize]).sum::<f64>();
                }
            },
        );
    }

    /// `x̂_i = tanh H_i` (clamped: the sign); returns `max_i |Δx̂_i|` and
    /// `Σ_i Δx̂_i^2` (summed chunk by chunk in a fixed order: independent of
    /// the thread count).
    fn update_marginals(&self, state: &mut BpState) -> (f64, f64) {
        let chunks: Vec<(f64, f64)> = state
            .x_hat
            .par_chunks_mut(VERTEX_CHUNK)
            .zip(state.vertices.par_chunks(VERTEX_CHUNK))
            .zip(state.external.par_chunks(VERTEX_CHUNK))
            .map(|((x_hat, vertices), external)| {
                let (mut max, mut sum_sq): (f64, f64) = (0.0, 0.0);
                for ((x, vertex), &b) in x_hat.iter_mut().zip(vertices).zip(external) {
                    let new = if b.abs() >= CLAMP { b.signum() } else { vertex.field.tanh() };
                    let change = new - *x;
                    max = max.max(change.abs());
                    sum_sq += change * change;
                    *x = new;
                }
                (max, sum_sq)
            })
            .collect();
        chunks.iter().fold((0.0, 0.0), |(max, sum), &(m, s)| (max.max(m), sum + s))
    }

    /// Bethe free entropy per vertex of `state` (see `bethe`).
    pub fn bethe_free_entropy(&self, state: &BpState) -> f64 {
        bethe_free_entropy(&self.graph, state)
    }
}

/// Sweeps before the accuracy test trusts its rate estimate: the first
/// sweep's change is dominated by the direct response to new fields, not by
/// the relaxation rate.
const RATE_SWEEPS: usize = 3;
/// Sweeps over which the early stop measures the relaxation rate (a geometric
/// mean: the sweep-to-sweep ratio alone is too noisy to end a solve on).
const RATE_WINDOW: usize = 5;

/// Where a solve stands after a sweep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Running,
    Converged,
    /// Will not reach its accuracy within the cap: stop now, unconverged.
    Hopeless,
}

/// The stopping rule of a solve (see the module doc): `max |Δx̂| < tol`, or
/// the estimated RMS distance to the fixed point below `accuracy`. With an
/// accuracy set, a solve that cannot get there within `cap` sweeps stops
/// early, unconverged: BP that does not contract (the rate over the last
/// `RATE_WINDOW` sweeps at or above 1), or contracts so slowly that the
/// sweeps its rate needs to reach `accuracy`, `ln(d / accuracy) / -ln r`
/// from the estimated distance `d`, overrun the cap. Paying the cap there
/// buys nothing: the solve ends unconverged either way (on the diffusion path
/// at alpha = 8, N = 10^5, 100 sweeps leave BP as far from settling as 10).
/// A solve that reaches its accuracy before the cap never meets this test at
/// a sweep where the old rule would have stopped it, so where BP converges
/// the result is unchanged unless the rate estimate misjudges it (the
/// hypertree chi-square and accuracy-rule tests pass unchanged).
#[derive(Debug, Clone)]
struct Convergence {
    tol: f64,
    accuracy: f64,
    cap: usize,
    sweeps: usize,
    last_rms: f64,
    /// RMS change of the last `RATE_WINDOW + 1` sweeps (oldest first).
    window: Vec<f64>,
}

impl Convergence {
    fn new(tol: f64, accuracy: f64, cap: usize) -> Convergence {
        Convergence {
            tol,
            accuracy,
            cap,
            sweeps: 0,
            last_rms: f64::INFINITY,
            window: Vec::with_capacity(RATE_WINDOW + 1),
        }
    }

    /// After a sweep that moved the marginals by `max` at most and `rms` in
    /// root mean square: converged, hopeless, or still running?
    fn after_sweep(&mut self, max: f64, rms: f64) -> Verdict {
        self.sweeps += 1;
        let rate = rms / self.last_rms;
        self.last_rms = rms;
        if max < self.tol || rms == 0.0 {
            return Verdict::Converged;
        }
        if self.accuracy <= 0.0 || self.sweeps < RATE_SWEEPS {
            return Verdict::Running;
        }
        if rate < 1.0 && rms * rate / (1.0 - rate) < self.accuracy {
            return Verdict::Converged;
        }
        if self.window.len() == RATE_WINDOW + 1 {
            self.window.remove(0);
        }
        self.window.push(rms);
        if self.window.len() <= RATE_WINDOW {
            return Verdict::Running;
        }
        let slow = (rms / self.window[0]).powf(1.0 / RATE_WINDOW as f64);
        if slow >= 1.0 {
            return Verdict::Hopeless;
        }
        let distance = rms * slow / (1.0 - slow);
        let needed = (distance / self.accuracy).ln() / -slow.ln();
        if self.sweeps as f64 + needed > self.cap as f64 {
            Verdict::Hopeless
        } else {
            Verdict::Running
        }
    }
}

/// Greedy coloring of the hyperedges (no shared vertex within a color):
/// the hyperedges sorted by color, and the color boundaries.
fn schedule(graph: &Bicoloring) -> (Vec<u32>, Vec<usize>) {
    let max_degree = (0..graph.n).map(|i| graph.degree(i)).max().unwrap_or(0);
    // Greedy never needs more than k (max_degree - 1) + 1 colors.
    let words = (graph.k * max_degree.max(1)).div_ceil(64);
    let mut used = vec![0u64; graph.n * words];
    let mut color = vec![0u32; graph.m()];
    let mut counts: Vec<usize> = Vec::new();
    for (a, color_of_a) in color.iter_mut().enumerate() {
        let members = graph.edge(a);
        let c = (0..words)
            .find_map(|w| {
                let taken = members.iter().fold(0u64, |acc, &v| acc | used[v as usize * words + w]);
                (taken != u64::MAX).then(|| w * 64 + (!taken).trailing_zeros() as usize)
            })
            .expect("greedy coloring fits its bound");
        for &v in members {
            used[v as usize * words + c / 64] |= 1 << (c % 64);
        }
        *color_of_a = c as u32;
        if counts.len() <= c {
            counts.resize(c + 1, 0);
        }
        counts[c] += 1;
    }
    let mut groups = vec![0usize; counts.len() + 1];
    for c in 0..counts.len() {
        groups[c + 1] = groups[c] + counts[c];
    }
    let mut fill = groups.clone();
    let mut order = vec![0u32; graph.m()];
    for (a, &c) in color.iter().enumerate() {
        let c = c as usize;
        order[fill[c]] = a as u32;
        fill[c] += 1;
    }
    (order, groups)
}

/// Per-vertex data (fields, activity) written by the hyperedges of one group in parallel.
/// SAFETY: hyperedges of a group share no vertex (the schedule's coloring), so
/// each entry is read and written by exactly one task during a group's update.
#[derive(Clone, Copy)]
struct Shared<T>(*mut T, usize);
unsafe impl<T> Send for Shared<T> {}
unsafe impl<T> Sync for Shared<T> {}

impl<T: Copy> Shared<T> {
    #[inline]
    fn get(&self, i: usize) -> T {
        assert!(i < self.1);
        // SAFETY: in bounds; no other task touches vertex `i` during this group.
        unsafe { *self.0.add(i) }
    }

    #[inline]
    fn set(&self, i: usize, value: T) {
        assert!(i < self.1);
        // SAFETY: as in `get`.
        unsafe { *self.0.add(i) = value }
    }
}

type SharedVertices = Shared<Vertex>;

/// `(p^+, p^-) = ((1 + tanh h)/2, (1 - tanh h)/2)` without cancellation.
#[inline]
pub fn probabilities(h: f64) -> (f64, f64) {
    let e = (-2.0 * h.abs()).exp();
    let (big, small) = (1.0 / (1.0 + e), e / (1.0 + e));
    if h >= 0.0 {
        (big, small)
    } else {
        (small, big)
    }
}

/// `out[i] = 1 - Π_{j ≠ i} p_j` for every `i`, given `p` and `q = 1 - p`, in
/// O(k): `Σ_{j<i} q_j Π_{l<j} p_l + Π_{l<i} p_l Σ_{j>i} q_j Π_{i<l<j} p_l`,
/// every term positive, so nearly hard messages keep their precision.
#[inline]
fn one_minus_cavity_products(p: &[f64], q: &[f64], out: &mut [f64]) {
    let k = p.len();
    // Backward: after[i] = Σ_{j>i} q_j Π_{i<l<j} p_l.
    let mut after = 0.0;
    for i in (0..k).rev() {
        out[i] = after;
        after = q[i] + p[i] * after;
    }
    // Forward: before = Σ_{j<i} q_j Π_{l<j} p_l, prefix = Π_{l<i} p_l.
    let (mut before, mut prefix) = (0.0, 1.0);
    for i in 0..k {
        out[i] = before + prefix * out[i];
        before += q[i] * prefix;
        prefix *= p[i];
    }
}

/// `(1/2) ln(w_plus / w_minus)`, capped at `±U_MAX`.
#[inline]
pub fn message(w_plus: f64, w_minus: f64) -> f64 {
    if w_minus <= 0.0 && w_plus <= 0.0 {
        return 0.0; // a contradiction: both colors violate; carry no information
    }
    (0.5 * (w_plus / w_minus).ln()).clamp(-U_MAX, U_MAX)
}

const K_MAX: usize = crate::models::bicoloring::K_RANGE.1;

/// The residual rule on one hyperedge: if a member moved since its last
/// update, recomputes it, marks (`moved_at = tick`) the members it moved by
/// more than `tol` since their last mark, and returns its largest `|Δu|` and
/// the marked members (bit `p` for position `p`); `None` when skipped.
#[inline]
fn visit_edge(
    u: &mut [f64],
    members: &[u32],
    updated: &mut u64,
    vertices: &SharedVertices,
    tick: u64,
    params: &BpParams,
) -> Option<(f64, u32)> {
    // All members' records first (independent loads, issued together).
    let mut fields = [0.0; K_MAX];
    let mut moved = false;
    for (field, &v) in fields.iter_mut().zip(members) {
        let vertex = vertices.get(v as usize);
        *field = vertex.field;
        moved |= vertex.moved_at > *updated;
    }
    if !moved {
        return None; // no member's field moved since this hyperedge was computed
    }
    let mut delta = [0.0; K_MAX];
    let c = update_edge(u, &fields[..members.len()], params.damping, &mut delta);
    let mut marked = 0;
    for (p, &v) in members.iter().enumerate() {
        let mut vertex = vertices.get(v as usize);
        vertex.field += delta[p];
        if (vertex.field - vertex.marked).abs() > params.tol {
            (vertex.moved_at, vertex.marked) = (tick, vertex.field);
            marked |= 1 << p;
        }
        vertices.set(v as usize, vertex);
    }
    // A damped message short of its target stays active.
    *updated = if params.damping > 0.0 && c > params.tol { 0 } else { tick };
    Some((c, marked))
}

/// Hyperedges ahead whose members a sweep prefetches: at N = 10^5 the
/// vertex records are L3 (or DRAM) accesses and the sweep waits on them.
const PREFETCH_AHEAD: usize = 8;

/// Asks for the records of `members` ahead of use (a hint; no effect on results).
#[inline(always)]
fn prefetch(vertices: &SharedVertices, members: &[u32]) {
    #[cfg(target_arch = "x86_64")]
    for &v in members {
        // SAFETY: a prefetch never faults; the address is only a hint.
        unsafe {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            _mm_prefetch::<_MM_HINT_T0>(vertices.0.wrapping_add(v as usize) as *const i8);
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (vertices, members);
}

/// Recomputes the `k` messages of one hyperedge in place (damped), given its
/// members' full fields, and leaves their changes in `delta`; returns the
/// largest `|Δu|`.
#[inline]
fn update_edge(u: &mut [f64], fields: &[f64], damping: f64, delta: &mut [f64; K_MAX]) -> f64 {
    let k = fields.len();
    let (mut plus, mut minus) = ([0.0; K_MAX], [0.0; K_MAX]);
    for j in 0..k {
        (plus[j], minus[j]) = probabilities(fields[j] - u[j]);
    }
    let (mut w_plus, mut w_minus) = ([0.0; K_MAX], [0.0; K_MAX]);
    // x_i = + violates iff all others are +: weight of + is 1 - Π_{j≠i} p_j^+.
    one_minus_cavity_products(&plus[..k], &minus[..k], &mut w_plus[..k]);
    one_minus_cavity_products(&minus[..k], &plus[..k], &mut w_minus[..k]);
    let mut change: f64 = 0.0;
    for i in 0..k {
        let new = (1.0 - damping) * message(w_plus[i], w_minus[i]) + damping * u[i];
        delta[i] = new - u[i];
        change = change.max(delta[i].abs());
        u[i] = new;
    }
    change
}

#[cfg(test)]
mod tests;
