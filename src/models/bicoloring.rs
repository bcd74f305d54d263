//! Random k-uniform hypergraph bicoloring (NAE-SAT by gauge), the sparse model
//! of PHYSICS.md section 13. `M = round(alpha N)` hyperedges of `k` distinct
//! vertices; the target is the uniform measure over proper 2-colorings (no
//! monochromatic hyperedge). Planted instances draw `x*` uniformly and then each
//! hyperedge uniformly among the k-subsets `x*` leaves bichromatic (quiet
//! planting); unplanted ones draw hyperedges uniformly among all k-subsets.
//!
//! Storage is compact and flat: `edges[a*k .. a*k+k]` are the vertices of
//! hyperedge `a` (slot `s = a*k + position`), and a CSR index lists, for each
//! vertex, the slots it occupies. The index is rebuilt (not stored) when an
//! instance is decoded, and decoding validates every vertex id.
//!
//! This is its own artifact type rather than a `Disorder` family: the dense
//! `Disorder` holds packed Gaussian couplings and a prior, which every AMP,
//! Metropolis and theory path reads; a hypergraph shares none of that.

use rand::Rng as _;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::observe::{Cancelled, Observer};
use crate::rng;

/// Smallest and largest hyperedge size accepted.
pub const K_RANGE: (usize, usize) = (3, 8);
/// Hyperedges drawn per random stream (generation is parallel over chunks).
const CHUNK: usize = 4096;

/// Why an instance cannot be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BicoloringError {
    #[error("k = {0} is outside 3..=8 (hyperedge size)")]
    K(usize),
    #[error("n = {n} is too small for k = {k} (need n >= 2k so that bichromatic hyperedges exist)")]
    TooSmall { n: usize, k: usize },
    #[error("alpha = {alpha} is out of range for k = {k}: expected 0 < alpha <= {max} (2^k; far beyond colorability the planted instance is frozen)")]
    Alpha { alpha: f64, k: usize, max: f64 },
    #[error("n alpha k = {0} hyperedge slots do not fit 32-bit indices")]
    TooLarge(f64),
    #[error("decoded hypergraph is inconsistent: {0}")]
    Corrupt(String),
}

/// One hypergraph instance. Spins are `±1` as `i8`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Stored", into = "Stored")]
pub struct Bicoloring {
    pub n: usize,
    pub k: usize,
    pub alpha: f64,
    /// Vertices of hyperedge `a` at `edges[a*k .. (a+1)*k]`.
    pub edges: Vec<u32>,
    /// The planted coloring `x*` (an exact equilibrium sample), if planted.
    pub planted: Option<Vec<i8>>,
    /// `slots[offsets[i] .. offsets[i+1]]`: the slots `a*k + position` of vertex `i`.
    pub offsets: Vec<u32>,
    pub slots: Vec<u32>,
}

/// What is serialized: everything but the index.
#[derive(Serialize, Deserialize)]
struct Stored {
    n: usize,
    k: usize,
    alpha: f64,
    edges: Vec<u32>,
    planted: Option<Vec<i8>>,
}

impl From<Bicoloring> for Stored {
    fn from(b: Bicoloring) -> Stored {
        Stored { n: b.n, k: b.k, alpha: b.alpha, edges: b.edges, planted: b.planted }
    }
}

impl TryFrom<Stored> for Bicoloring {
    type Error = BicoloringError;

    fn try_from(s: Stored) -> Result<Bicoloring, BicoloringError> {
        let corrupt = |what: String| Err(BicoloringError::Corrupt(what));
        if !(K_RANGE.0..=K_RANGE.1).contains(&s.k) || !s.edges.len().is_multiple_of(s.k) {
            return corrupt(format!("k = {} with {} slots", s.k, s.edges.len()));
        }
        if s.n > u32::MAX as usize || s.edges.iter().any(|&v| v as usize >= s.n) {
            return corrupt(format!("a vertex id is not below n = {}", s.n));
        }
        if let Some(x) = &s.planted {
            if x.len() != s.n || x.iter().any(|&v| v != 1 && v != -1) {
                return corrupt("planted coloring is not n values in {-1, +1}".into());
            }
        }
        Ok(Bicoloring::from_edges(s.n, s.k, s.alpha, s.edges, s.planted))
    }
}

/// Checks `k`, `n` and `alpha` before anything is drawn.
pub fn check(n: usize, k: usize, alpha: f64) -> Result<(), BicoloringError> {
    if !(K_RANGE.0..=K_RANGE.1).contains(&k) {
        return Err(BicoloringError::K(k));
    }
    if n < 2 * k {
        return Err(BicoloringError::TooSmall { n, k });
    }
    let max = (1u64 << k) as f64;
    if !(alpha > 0.0 && alpha <= max) {
        return Err(BicoloringError::Alpha { alpha, k, max });
    }
    let slots = (alpha * n as f64).round() * k as f64;
    if slots >= u32::MAX as f64 || n > u32::MAX as usize {
        return Err(BicoloringError::TooLarge(slots));
    }
    Ok(())
}

impl Bicoloring {
    /// Draws an instance: `x*` from stream `("planted", 0)`, hyperedge chunk `c`
    /// from stream `("hyperedges", c)` (parallel, independent of the thread count).
    pub fn generate(
        n: usize,
        k: usize,
        alpha: f64,
        planted: bool,
        seed: u64,
        observer: &dyn Observer,
    ) -> Result<Result<Bicoloring, BicoloringError>, Cancelled> {
        if let Err(e) = check(n, k, alpha) {
            return Ok(Err(e));
        }
        let m = (alpha * n as f64).round() as usize;
        let x_star: Option<Vec<i8>> = planted.then(|| {
            let mut rng = rng::stream(seed, "planted", 0);
            let mut x: Vec<i8> = (0..n).map(|_| if rng.random::<bool>() { 1 } else { -1 }).collect();
            // A monochromatic x* (probability 2^(1-n)) admits no planted hyperedge:
            // flip one vertex, as a deterministic repair of a measure-zero event.
            if x.iter().all(|&v| v == x[0]) {
                x[0] = -x[0];
            }
            x
        });
        let mut edges = vec![0u32; m * k];
        let chunks: Vec<&mut [u32]> = edges.chunks_mut(CHUNK * k).collect();
        let total = chunks.len() as u64;
        let done = std::sync::atomic::AtomicU64::new(0);
        chunks.into_par_iter().enumerate().try_for_each(|(c, chunk)| {
            observer.checkpoint()?;
            let mut rng = rng::stream(seed, "hyperedges", c as u64);
            for edge in chunk.chunks_exact_mut(k) {
                draw_edge(edge, n, x_star.as_deref(), &mut rng);
            }
            let finished = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            observer.progress(finished, total);
            Ok(())
        })?;
        Ok(Ok(Bicoloring::from_edges(n, k, alpha, edges, x_star)))
    }

    /// Builds the vertex-to-slot index of a flat hyperedge list (ids must be `< n`).
    pub fn from_edges(n: usize, k: usize, alpha: f64, edges: Vec<u32>, planted: Option<Vec<i8>>) -> Bicoloring {
        let mut offsets = vec![0u32; n + 1];
        for &v in &edges {
            offsets[v as usize + 1] += 1;
        }
        for i in 0..n {
            offsets[i + 1] += offsets[i];
        }
        let mut fill = offsets.clone();
        let mut slots = vec![0u32; edges.len()];
        for (s, &v) in edges.iter().enumerate() {
            slots[fill[v as usize] as usize] = s as u32;
            fill[v as usize] += 1;
        }
        Bicoloring { n, k, alpha, edges, planted, offsets, slots }
    }

    /// Number of hyperedges `M`.
    pub fn m(&self) -> usize {
        self.edges.len() / self.k
    }

    /// Vertices of hyperedge `a`.
    pub fn edge(&self, a: usize) -> &[u32] {
        &self.edges[a * self.k..(a + 1) * self.k]
    }

    /// Slots (`a*k + position`) of vertex `i`.
    pub fn vertex_slots(&self, i: usize) -> &[u32] {
        &self.slots[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }

    /// Degree of vertex `i`.
    pub fn degree(&self, i: usize) -> usize {
        (self.offsets[i + 1] - self.offsets[i]) as usize
    }

    /// True when hyperedge `a` is monochromatic under `x` (`x_i > 0` is color +).
    pub fn is_monochromatic<T: Copy + Into<f64>>(&self, a: usize, x: &[T]) -> bool {
        let e = self.edge(a);
        let first = x[e[0] as usize].into() > 0.0;
        e[1..].iter().all(|&v| (x[v as usize].into() > 0.0) == first)
    }

    /// The energy: the number of monochromatic hyperedges under `x`.
    pub fn violated<T: Copy + Into<f64> + Sync>(&self, x: &[T]) -> usize {
        (0..self.m()).into_par_iter().with_min_len(4096).filter(|&a| self.is_monochromatic(a, x)).count()
    }

    /// The planted coloring as ±1.0, if any.
    pub fn planted_f64(&self) -> Option<Vec<f64>> {
        self.planted.as_ref().map(|x| x.iter().map(|&v| v as f64).collect())
    }
}

/// Draws `k` distinct vertices, uniformly, rejecting sets `x*` leaves monochromatic.
fn draw_edge(edge: &mut [u32], n: usize, x_star: Option<&[i8]>, rng: &mut rng::Rng) {
    loop {
        for j in 0..edge.len() {
            edge[j] = loop {
                let v = rng.random_range(0..n as u32);
                if !edge[..j].contains(&v) {
                    break v;
                }
            };
        }
        let Some(x) = x_star else { return };
        let first = x[edge[0] as usize];
        if edge[1..].iter().any(|&v| x[v as usize] != first) {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::Silent;

    fn draw(n: usize, k: usize, alpha: f64, planted: bool, seed: u64) -> Bicoloring {
        Bicoloring::generate(n, k, alpha, planted, seed, &Silent).unwrap().unwrap()
    }

    #[test]
    fn planted_instances_have_no_monochromatic_hyperedge() {
        let b = draw(2000, 5, 9.0, true, 3);
        assert_eq!(b.m(), 18_000);
        let x = b.planted_f64().unwrap();
        assert_eq!(b.violated(&x), 0);
        for a in 0..b.m() {
            let e = b.edge(a);
            for j in 0..e.len() {
                assert!(!e[..j].contains(&e[j]), "repeated vertex in hyperedge {a}");
            }
        }
    }

    #[test]
    fn unplanted_instances_violate_about_two_over_two_to_the_k() {
        // A uniform coloring leaves a uniform hyperedge monochromatic with probability 2^(1-k).
        let b = draw(20_000, 4, 3.0, false, 5);
        assert!(b.planted.is_none());
        let x: Vec<f64> = (0..b.n).map(|i| if i % 3 == 0 { 1.0 } else { -1.0 }).collect();
        // Not uniform colors; use a pseudo-random one instead.
        let mut rng = rng::stream(9, "test", 0);
        let y: Vec<f64> = (0..b.n).map(|_| if rng.random::<bool>() { 1.0 } else { -1.0 }).collect();
        let frac = b.violated(&y) as f64 / b.m() as f64;
        let expected = 0.125;
        let sd = (expected * (1.0 - expected) / b.m() as f64).sqrt();
        assert!((frac - expected).abs() < 5.0 * sd, "violated fraction {frac} vs {expected} ± {sd}");
        assert!(b.violated(&x) > 0);
    }

    #[test]
    fn index_lists_every_slot_once_and_degrees_are_poisson() {
        let b = draw(5000, 5, 2.0, true, 1);
        let mut seen = vec![false; b.edges.len()];
        for i in 0..b.n {
            for &s in b.vertex_slots(i) {
                assert_eq!(b.edges[s as usize] as usize, i);
                assert!(!seen[s as usize]);
                seen[s as usize] = true;
            }
        }
        assert!(seen.iter().all(|&s| s));
        let mean = (0..b.n).map(|i| b.degree(i) as f64).sum::<f64>() / b.n as f64;
        assert!((mean - 10.0).abs() < 1e-9, "mean degree k alpha = 10, got {mean}");
        let var = (0..b.n).map(|i| (b.degree(i) as f64 - mean).powi(2)).sum::<f64>() / b.n as f64;
        assert!((var - 10.0).abs() < 1.0, "Poisson variance about 10, got {var}");
    }

    #[test]
    fn deterministic_and_round_trips_through_serde() {
        let a = draw(300, 3, 1.5, true, 7);
        assert_eq!(a, draw(300, 3, 1.5, true, 7));
        assert_ne!(a.edges, draw(300, 3, 1.5, true, 8).edges);
        let bytes = serde_json::to_vec(&a).unwrap();
        let back: Bicoloring = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(a, back);
    }

    #[test]
    fn bad_input_is_a_clear_error() {
        let e = |n, k, alpha| Bicoloring::generate(n, k, alpha, true, 0, &Silent).unwrap().unwrap_err().to_string();
        assert!(e(100, 2, 1.0).contains("k = 2"));
        assert!(e(100, 9, 1.0).contains("k = 9"));
        assert!(e(100, 5, 0.0).contains("alpha"));
        assert!(e(100, 5, 40.0).contains("alpha"));
        assert!(e(100, 5, f64::NAN).contains("alpha"));
        assert!(e(6, 5, 1.0).contains("too small"));
        let bad = Stored { n: 4, k: 3, alpha: 1.0, edges: vec![0, 1, 9], planted: None };
        assert!(Bicoloring::try_from(bad).is_err());
    }
}
