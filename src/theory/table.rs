//! Fast SE scalar functions: piecewise Chebyshev tables in `s = sqrt(lam)` of `ov`,
//! `ov'`, `mmse` and `psi`, built once per prior from [`stats_accurate`] and cached; the
//! [`Channel`] handle dispatches to the closed forms for the Gaussian prior.

use super::channel::{gaussian_stats, stats_accurate, ChannelStats};
use super::prior::Prior;
use super::TheoryError;
use rayon::prelude::*;
use std::sync::{Arc, Mutex, OnceLock};

/// Panel width in `s = sqrt(lam)`.
const PANEL_WIDTH: f64 = 0.25;
/// Chebyshev nodes per panel (degree 15).
const NCHEB: usize = 16;
/// Tables cover `0 <= s < S_MAX`, i.e. `lam < 1024`; beyond, `ov = E0`, `ov' = mmse = 0`
/// and `psi` grows linearly with slope `E0/2` (all exact to double precision).
const S_MAX: f64 = 32.0;
const NPANELS: usize = (S_MAX / PANEL_WIDTH) as usize;
const NQ: usize = 4;

/// Chebyshev tables of one discrete prior.
#[derive(Debug)]
pub struct Table {
    prior: Prior,
    e0: f64,
    /// `coef[(panel * NQ + q) * NCHEB + k]`, `q` in (ov, dov, mmse, psi), `c_0` halved.
    coef: Vec<f64>,
    /// stats at `lam = S_MAX^2` for the extrapolation
    last: ChannelStats,
}

fn cheb_nodes() -> [f64; NCHEB] {
    let mut x = [0.0; NCHEB];
    for (j, xj) in x.iter_mut().enumerate() {
        *xj = (std::f64::consts::PI * (j as f64 + 0.5) / NCHEB as f64).cos();
    }
    x
}

fn panel_coefficients(prior: &Prior, panel: usize) -> Result<Vec<f64>, TheoryError> {
    let x = cheb_nodes();
    let s_lo = panel as f64 * PANEL_WIDTH;
    let mut vals = [[0.0; NCHEB]; NQ];
    for (j, &xj) in x.iter().enumerate() {
        let s = s_lo + 0.5 * (xj + 1.0) * PANEL_WIDTH;
        let st = stats_accurate(prior, s * s)?;
        for (q, v) in [st.ov, st.dov, st.mmse, st.psi].into_iter().enumerate() {
            vals[q][j] = v;
        }
    }
    let mut coef = vec![0.0; NQ * NCHEB];
    for q in 0..NQ {
        for k in 0..NCHEB {
            let sum: f64 = (0..NCHEB)
                .map(|j| {
                    let ang = std::f64::consts::PI * (k * (2 * j + 1)) as f64 / (2 * NCHEB) as f64;
                    vals[q][j] * ang.cos()
                })
                .sum();
            let c = 2.0 * sum / NCHEB as f64;
            coef[q * NCHEB + k] = if k == 0 { 0.5 * c } else { c };
        }
    }
    Ok(coef)
}

impl Table {
    /// Builds the table (about 2k accurate quadratures, rayon-parallel over panels;
    /// the result does not depend on the thread count).
    pub fn build(prior: &Prior) -> Result<Table, TheoryError> {
        prior.validate()?;
        let panels: Result<Vec<Vec<f64>>, TheoryError> =
            (0..NPANELS).into_par_iter().map(|i| panel_coefficients(prior, i)).collect();
        let coef = panels?.concat();
        let last = stats_accurate(prior, S_MAX * S_MAX)?;
        Ok(Table { prior: *prior, e0: prior.e0(), coef, last })
    }

    #[inline]
    fn clenshaw(&self, panel: usize, q: usize, x: f64) -> f64 {
        let c = &self.coef[(panel * NQ + q) * NCHEB..(panel * NQ + q + 1) * NCHEB];
        let (mut b1, mut b2) = (0.0, 0.0);
        let x2 = 2.0 * x;
        for &ck in c[1..].iter().rev() {
            let b0 = x2 * b1 - b2 + ck;
            b2 = b1;
            b1 = b0;
        }
        x * b1 - b2 + c[0]
    }

    /// Panel index and local coordinate in [-1, 1], or None beyond the table.
    #[inline]
    fn locate(lam: f64) -> Option<(usize, f64)> {
        let s = lam.max(0.0).sqrt();
        if s >= S_MAX || s.is_nan() {
            return None;
        }
        let i = ((s / PANEL_WIDTH) as usize).min(NPANELS - 1);
        let x = 2.0 * (s - i as f64 * PANEL_WIDTH) / PANEL_WIDTH - 1.0;
        Some((i, x))
    }

    fn quantity(&self, q: usize, lam: f64) -> f64 {
        match Self::locate(lam) {
            Some((i, x)) => self.clenshaw(i, q, x),
            None => match q {
                0 => self.last.ov,
                3 => self.last.psi + 0.5 * self.last.ov * (lam - S_MAX * S_MAX),
                _ => 0.0,
            },
        }
    }
}

/// Fast evaluator of the SE scalar functions of one prior.
#[derive(Debug, Clone)]
pub enum Channel {
    /// Closed forms (`ov = lam/(1+lam)`, ...).
    Gaussian,
    /// Chebyshev tables of a discrete prior (absolute accuracy about 1e-14).
    Table(Arc<Table>),
}

impl Channel {
    /// The channel of `prior`; tables are built on first use and cached process-wide.
    pub fn new(prior: &Prior) -> Result<Channel, TheoryError> {
        prior.validate()?;
        if *prior == Prior::Gaussian {
            return Ok(Channel::Gaussian);
        }
        static CACHE: OnceLock<Mutex<Vec<Arc<Table>>>> = OnceLock::new();
        let cache = CACHE.get_or_init(|| Mutex::new(Vec::new()));
        let cached = |tables: &Vec<Arc<Table>>| tables.iter().find(|t| t.prior == *prior).cloned();
        if let Some(t) = cached(&cache.lock().unwrap_or_else(|e| e.into_inner())) {
            return Ok(Channel::Table(t));
        }
        // Build without holding the lock: the build runs on rayon, whose workers
        // may steal another task that needs a table, and would then wait on a
        // lock their own thread holds. Two threads may build the same table;
        // builds are deterministic, and the first one stored wins.
        let table = Arc::new(Table::build(prior)?);
        let mut guard = cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = cached(&guard) {
            return Ok(Channel::Table(t));
        }
        guard.push(Arc::clone(&table));
        Ok(Channel::Table(table))
    }

    /// `E0 = E[x0^2]`.
    pub fn e0(&self) -> f64 {
        match self {
            Channel::Gaussian => 1.0,
            Channel::Table(t) => t.e0,
        }
    }

    /// `ov(lam)`, clamped to `[0, E0]`.
    #[inline]
    pub fn ov(&self, lam: f64) -> f64 {
        match self {
            Channel::Gaussian => lam / (1.0 + lam),
            Channel::Table(t) => t.quantity(0, lam).clamp(0.0, t.e0),
        }
    }

    /// `ov'(lam) = E[f_v^2]`, clamped at 0.
    #[inline]
    pub fn dov(&self, lam: f64) -> f64 {
        match self {
            Channel::Gaussian => 1.0 / ((1.0 + lam) * (1.0 + lam)),
            Channel::Table(t) => t.quantity(1, lam).max(0.0),
        }
    }

    /// `E0 - ov(lam)` without cancellation, clamped at 0.
    #[inline]
    pub fn mmse(&self, lam: f64) -> f64 {
        match self {
            Channel::Gaussian => 1.0 / (1.0 + lam),
            Channel::Table(t) => t.quantity(2, lam).max(0.0),
        }
    }

    /// `psi(lam) = E logZ`.
    #[inline]
    pub fn psi(&self, lam: f64) -> f64 {
        match self {
            Channel::Gaussian => 0.5 * lam - 0.5 * lam.ln_1p(),
            Channel::Table(t) => t.quantity(3, lam),
        }
    }

    /// `(ov, ov')` in one table lookup.
    #[inline]
    pub fn ov_dov(&self, lam: f64) -> (f64, f64) {
        match self {
            Channel::Gaussian => {
                let d = 1.0 / (1.0 + lam);
                (lam * d, d * d)
            }
            Channel::Table(t) => match Table::locate(lam) {
                Some((i, x)) => (t.clenshaw(i, 0, x).clamp(0.0, t.e0), t.clenshaw(i, 1, x).max(0.0)),
                None => (t.last.ov, 0.0),
            },
        }
    }

    /// `(mmse, ov')` in one table lookup.
    #[inline]
    pub fn mmse_dov(&self, lam: f64) -> (f64, f64) {
        match self {
            Channel::Gaussian => {
                let d = 1.0 / (1.0 + lam);
                (d, d * d)
            }
            Channel::Table(t) => match Table::locate(lam) {
                Some((i, x)) => (t.clenshaw(i, 2, x).max(0.0), t.clenshaw(i, 1, x).max(0.0)),
                None => (0.0, 0.0),
            },
        }
    }

    /// All four at once.
    pub fn stats(&self, lam: f64) -> ChannelStats {
        match self {
            Channel::Gaussian => gaussian_stats(lam),
            Channel::Table(_) => {
                ChannelStats { ov: self.ov(lam), dov: self.dov(lam), mmse: self.mmse(lam), psi: self.psi(lam) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_matches_direct_quadrature() {
        for prior in [Prior::Rademacher, Prior::SparseRademacher { rho: 0.08 }] {
            let ch = Channel::new(&prior).unwrap();
            let mut worst = [0.0_f64; 4];
            for i in 0..997 {
                // irrational-ish stride so points fall everywhere inside the panels
                let s = (i as f64 * 0.031_415_9) % 31.9;
                let lam = s * s;
                let a = stats_accurate(&prior, lam).unwrap();
                let b = ch.stats(lam);
                let d = [
                    (a.ov - b.ov).abs(),
                    (a.dov - b.dov).abs(),
                    (a.mmse - b.mmse).abs(),
                    (a.psi - b.psi).abs() / (1.0 + a.psi.abs()),
                ];
                for q in 0..4 {
                    worst[q] = worst[q].max(d[q]);
                }
            }
            assert!(worst.iter().all(|&w| w < 2e-14), "{prior:?}: {worst:?}");
        }
    }

    #[test]
    fn extrapolation_beyond_table_is_continuous() {
        let ch = Channel::new(&Prior::Rademacher).unwrap();
        let lam = S_MAX * S_MAX;
        assert!((ch.ov(lam * 0.999_999) - ch.ov(lam * 1.000_001)).abs() < 1e-14);
        assert!((ch.psi(lam * 0.999_999) - ch.psi(lam * 1.000_001)).abs() < 1e-2);
        assert_eq!(ch.ov(5000.0), 1.0);
        assert!((ch.psi(5000.0) - (2500.0 - std::f64::consts::LN_2)).abs() < 1e-9);
    }

    #[test]
    fn paired_lookups_match_single_ones() {
        for prior in [Prior::Rademacher, Prior::Gaussian] {
            let ch = Channel::new(&prior).unwrap();
            for lam in [0.0, 0.3, 7.0, 2000.0] {
                let close = |a: (f64, f64), b: (f64, f64)| (a.0 - b.0).abs() <= 1e-16 && (a.1 - b.1).abs() <= 1e-16;
                assert!(close(ch.ov_dov(lam), (ch.ov(lam), ch.dov(lam))));
                assert!(close(ch.mmse_dov(lam), (ch.mmse(lam), ch.dov(lam))));
            }
        }
    }

    #[test]
    fn gaussian_channel_is_closed_form() {
        let ch = Channel::new(&Prior::Gaussian).unwrap();
        assert_eq!(ch.ov(1.0), 0.5);
        assert_eq!(ch.mmse(3.0), 0.25);
        assert!(Channel::new(&Prior::SparseRademacher { rho: 1.5 }).is_err());
    }
}

#[cfg(test)]
mod concurrency_tests {
    use super::*;

    /// Regression: `Channel::new` held the cache lock while building a table on
    /// rayon; a worker that stole a diagram row needing a table then waited on
    /// the lock its own thread held, and `quench run` hung.
    #[test]
    fn channel_tables_build_without_holding_the_cache_lock() {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        let rhos: Vec<f64> = (0..6).map(|i| 0.31 + 0.0137 * i as f64).collect();
        let built: Vec<f64> = pool.install(|| {
            rhos.par_iter()
                .map(|&rho| Channel::new(&Prior::SparseRademacher { rho }).map(|c| c.ov(1.0)).unwrap_or(f64::NAN))
                .collect()
        });
        assert!(built.iter().all(|v| v.is_finite() && *v > 0.0));
    }
}
