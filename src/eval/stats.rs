//! Monte Carlo statistics of chain data, following NetKet's `nk.stats.statistics`
//! (its FFT-autocorrelation variant) so that numbers compare one to one:
//! - `mean` and `variance` over all samples of all chains (variance with ddof 0);
//! - `tau_corr`: the integrated autocorrelation time of each chain, averaged over
//!   chains, in the emcee/NetKet convention `tau = 1 + 2 sum_{t>=1} rho(t)` (1 for
//!   independent samples) with Sokal's automatic window: the sum stops at the first
//!   lag `M` with `M >= c tau(M)`, `c = 5` (or the whole series if there is no
//!   such lag). `rho` is the usual biased estimator, computed by FFT as NetKet
//!   does (a radix-2 transform here, O(N log N) even for a stuck chain);
//! - `error_of_mean`: with several chains `sqrt(var(chain means) / chains)`
//!   (batch means, ddof 0), with one chain the same over 32 blocks;
//! - `r_hat`: NetKet's split R-hat `sqrt((N-1)/N + var(half-chain means) / variance)`.
//!
//! Added here: `ess = samples / tau_corr` and `error_from_tau =
//! sqrt(variance tau_corr / samples)`, the autocorrelation-corrected standard error.
//! Also histograms on fixed edges, a chi-square goodness-of-fit test and
//! Student's t p-values and quantiles.

use serde::{Deserialize, Serialize};

/// Sokal's window constant (NetKet and emcee use 5).
pub const SOKAL_C: f64 = 5.0;

/// Blocks used for the error of a single chain (NetKet's `BLOCK_SIZE`).
const BLOCKS: usize = 32;

/// Summary statistics of one observable over several chains.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    pub mean: f64,
    pub error_of_mean: f64,
    pub variance: f64,
    pub tau_corr: f64,
    pub tau_corr_max: f64,
    /// NaN for a single chain.
    pub r_hat: f64,
    pub ess: f64,
    pub error_from_tau: f64,
}

/// Mean of `x` (NaN when empty).
pub fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

/// Variance with `ddof` degrees of freedom removed.
pub fn variance(x: &[f64], ddof: usize) -> f64 {
    let m = mean(x);
    x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (x.len() - ddof) as f64
}

/// Plain standard error `sqrt(var / n)` of independent samples.
pub fn standard_error(x: &[f64]) -> f64 {
    (variance(x, 1) / x.len() as f64).sqrt()
}

/// Normalised autocorrelation `rho(t)`, `t = 0..len`, of `x` (biased estimator
/// `sum_i (x_i - m)(x_i+t - m) / sum_i (x_i - m)^2`), by zero-padded FFT.
/// All zeros for a constant series.
pub fn autocorrelation(x: &[f64]) -> Vec<f64> {
    let n = x.len();
    let size = (2 * n).next_power_of_two();
    let m = mean(x);
    let mut re: Vec<f64> = x.iter().map(|v| v - m).chain(std::iter::repeat(0.0)).take(size).collect();
    let mut im = vec![0.0; size];
    fft(&mut re, &mut im, false);
    for (r, i) in re.iter_mut().zip(im.iter_mut()) {
        *r = *r * *r + *i * *i;
        *i = 0.0;
    }
    fft(&mut re, &mut im, true);
    let c0 = re[0];
    re.truncate(n);
    re.iter_mut().for_each(|v| *v = if c0 > 0.0 { *v / c0 } else { 0.0 });
    re
}

/// In-place radix-2 FFT (`len` a power of two); the inverse is unnormalised.
fn fft(re: &mut [f64], im: &mut [f64], inverse: bool) {
    let n = re.len();
    let mut j = 0;
    for i in 1..n {
        let mut bit = n >> 1;
        while j & bit != 0 {
            j ^= bit;
            bit >>= 1;
        }
        j |= bit;
        if i < j {
            re.swap(i, j);
            im.swap(i, j);
        }
    }
    let sign = if inverse { 1.0 } else { -1.0 };
    let twiddles: Vec<(f64, f64)> = (0..n / 2)
        .map(|k| {
            let a = sign * 2.0 * std::f64::consts::PI * k as f64 / n as f64;
            (a.cos(), a.sin())
        })
        .collect();
    let mut len = 2;
    while len <= n {
        let stride = n / len;
        for start in (0..n).step_by(len) {
            for k in 0..len / 2 {
                let (wr, wi) = twiddles[k * stride];
                let (a, b) = (start + k, start + k + len / 2);
                let (xr, xi) = (re[b] * wr - im[b] * wi, re[b] * wi + im[b] * wr);
                (re[b], im[b]) = (re[a] - xr, im[a] - xi);
                (re[a], im[a]) = (re[a] + xr, im[a] + xi);
            }
        }
        len *= 2;
    }
}

/// Lags summed directly before `integrated_time` switches to the FFT.
const DIRECT_LAGS: usize = 64;

/// Integrated autocorrelation time with Sokal's window `c` (see module doc).
/// Short windows are summed lag by lag (O(N) per lag); past `DIRECT_LAGS` the
/// whole autocorrelation comes from one FFT. Returns 1 for a constant series.
pub fn integrated_time(x: &[f64], c: f64) -> f64 {
    let m = mean(x);
    let centred: Vec<f64> = x.iter().map(|v| v - m).collect();
    let c0: f64 = centred.iter().map(|v| v * v).sum();
    if x.len() < 2 || c0 <= 0.0 {
        return 1.0;
    }
    let mut tau = 1.0;
    let mut rho: Vec<f64> = Vec::new();
    for t in 1..x.len() {
        if t == DIRECT_LAGS {
            rho = autocorrelation(x);
        }
        let r = if t < DIRECT_LAGS {
            centred.iter().zip(&centred[t..]).map(|(a, b)| a * b).sum::<f64>() / c0
        } else {
            rho[t]
        };
        tau += 2.0 * r;
        if (t as f64) >= c * tau {
            return tau;
        }
    }
    tau
}

/// Effective sample size `len / tau` of one chain.
pub fn effective_sample_size(x: &[f64]) -> f64 {
    x.len() as f64 / integrated_time(x, SOKAL_C)
}

/// NetKet's statistics of `chains` (rows of equal length, one per independent chain).
pub fn statistics<T: AsRef<[f64]>>(chains: &[T]) -> Stats {
    let rows: Vec<&[f64]> = chains.iter().map(|c| c.as_ref()).collect();
    let len = rows.first().map_or(0, |r| r.len());
    assert!(rows.iter().all(|r| r.len() == len), "statistics: chains of unequal length");
    let all: Vec<f64> = rows.iter().flat_map(|r| r.iter().copied()).collect();
    let total = all.len() as f64;
    let mean_all = mean(&all);
    let var_all = variance(&all, 0);
    let taus: Vec<f64> = rows.iter().map(|r| integrated_time(r, SOKAL_C)).collect();
    let tau_corr = mean(&taus);
    let tau_corr_max = taus.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let (error_of_mean, r_hat) = if rows.len() > 1 {
        let means: Vec<f64> = rows.iter().map(|r| mean(r)).collect();
        ((variance(&means, 0) / means.len() as f64).sqrt(), split_r_hat(&rows, var_all))
    } else {
        (block_error(&all), f64::NAN)
    };
    Stats {
        mean: mean_all,
        error_of_mean,
        variance: var_all,
        tau_corr,
        tau_corr_max,
        r_hat,
        ess: total / tau_corr,
        error_from_tau: (var_all * tau_corr / total).sqrt(),
    }
}

/// Error of the mean of one chain from `BLOCKS` block means.
fn block_error(x: &[f64]) -> f64 {
    let size = (x.len() / BLOCKS).max(1);
    let means: Vec<f64> = x.chunks_exact(size).map(mean).collect();
    (variance(&means, 0) / means.len() as f64).sqrt()
}

/// NetKet's split R-hat: each chain cut in two halves (dropping a last odd sample).
fn split_r_hat(rows: &[&[f64]], var_all: f64) -> f64 {
    let len = rows[0].len();
    let half = len / 2;
    let halves: Vec<f64> = rows.iter().flat_map(|r| [mean(&r[..half]), mean(&r[half..2 * half])]).collect();
    let n = len as f64;
    ((n - 1.0) / n + variance(&halves, 0) / var_all).sqrt()
}

/// Counts of `values` in the bins `[edges[k], edges[k+1])` (the last bin is closed);
/// values outside `[edges[0], edges[last]]` are not counted.
pub fn histogram(values: &[f64], edges: &[f64]) -> Vec<u64> {
    assert!(edges.len() >= 2, "histogram: need at least two edges");
    let mut counts = vec![0u64; edges.len() - 1];
    let last = edges[edges.len() - 1];
    for &v in values {
        if v < edges[0] || v > last || v.is_nan() {
            continue;
        }
        let k = edges.partition_point(|&e| e <= v).saturating_sub(1).min(counts.len() - 1);
        counts[k] += 1;
    }
    counts
}

/// Result of a chi-square goodness-of-fit test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ChiSquare {
    pub statistic: f64,
    pub dof: usize,
    pub p_value: f64,
}

/// Pearson chi-square of `observed` counts against bin probabilities `probs`
/// (renormalised to the observed total). Adjacent bins are merged left to right
/// until each has an expected count of at least `min_expected`.
pub fn chi_square(observed: &[u64], probs: &[f64], min_expected: f64) -> ChiSquare {
    assert_eq!(observed.len(), probs.len(), "chi_square: lengths differ");
    let total: u64 = observed.iter().sum();
    let norm: f64 = probs.iter().sum();
    let expected: Vec<f64> = probs.iter().map(|p| p / norm * total as f64).collect();
    let mut bins: Vec<(f64, f64)> = Vec::new();
    let mut pending = (0.0, 0.0);
    for (&o, &e) in observed.iter().zip(&expected) {
        pending = (pending.0 + o as f64, pending.1 + e);
        if pending.1 >= min_expected {
            bins.push(pending);
            pending = (0.0, 0.0);
        }
    }
    match bins.last_mut() {
        Some(last) => *last = (last.0 + pending.0, last.1 + pending.1),
        None => bins.push(pending),
    }
    let statistic: f64 = bins.iter().map(|&(o, e)| (o - e) * (o - e) / e).sum();
    let dof = bins.len().saturating_sub(1);
    let p_value = if dof == 0 { 1.0 } else { upper_gamma_regularized(dof as f64 / 2.0, statistic / 2.0) };
    ChiSquare { statistic, dof, p_value }
}

/// `ln Gamma(x)` for `x > 0` (Lanczos, g = 7, 9 terms; about 1e-15 relative).
fn ln_gamma(x: f64) -> f64 {
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + 7.5;
    let series = C[1..].iter().enumerate().fold(C[0], |acc, (k, c)| acc + c / (x + k as f64 + 1.0));
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + series.ln()
}

/// `Q(a, x) = Gamma(a, x) / Gamma(a)`: series below `a + 1`, continued fraction above.
pub fn upper_gamma_regularized(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    let prefactor = (a * x.ln() - x - ln_gamma(a)).exp();
    if x < a + 1.0 {
        let (mut term, mut sum, mut k) = (1.0 / a, 1.0 / a, a);
        while term.abs() > sum.abs() * 1e-16 {
            k += 1.0;
            term *= x / k;
            sum += term;
        }
        return (1.0 - prefactor * sum).max(0.0);
    }
    // Modified Lentz evaluation of the continued fraction for Gamma(a, x).
    let tiny = 1e-300;
    let mut b = x + 1.0 - a;
    let (mut c, mut d) = (1.0 / tiny, 1.0 / b);
    let mut h = d;
    for i in 1..10_000 {
        let an = -(i as f64) * (i as f64 - a);
        b += 2.0;
        d = an * d + b;
        d = if d.abs() < tiny { tiny } else { d };
        c = b + an / c;
        c = if c.abs() < tiny { tiny } else { c };
        d = 1.0 / d;
        let step = d * c;
        h *= step;
        if (step - 1.0).abs() < 1e-16 {
            break;
        }
    }
    prefactor * h
}

/// Regularized incomplete beta `I_x(a, b)` (continued fraction, Numerical Recipes' `betacf`).
pub fn incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front = (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    if x > (a + 1.0) / (a + b + 2.0) {
        return 1.0 - incomplete_beta(b, a, 1.0 - x);
    }
    let tiny = 1e-300;
    let (mut c, mut d) = (1.0, 1.0 - (a + b) * x / (a + 1.0));
    d = 1.0 / if d.abs() < tiny { tiny } else { d };
    let mut h = d;
    for m in 1..10_000 {
        let m = m as f64;
        for num in [
            m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0)),
        ] {
            d = 1.0 + num * d;
            d = 1.0 / if d.abs() < tiny { tiny } else { d };
            c = 1.0 + num / c;
            c = if c.abs() < tiny { tiny } else { c };
            h *= d * c;
        }
        if (d * c - 1.0).abs() < 1e-15 {
            break;
        }
    }
    front * h / a
}

/// Two-sided p-value `P(|T| >= |t|)` of Student's t with `dof` degrees of
/// freedom (the normal limit for infinite `dof`).
pub fn student_t_p_value(t: f64, dof: f64) -> f64 {
    if !t.is_finite() {
        return 0.0;
    }
    if !dof.is_finite() {
        return upper_gamma_regularized(0.5, t * t / 2.0);
    }
    incomplete_beta(dof / 2.0, 0.5, dof / (dof + t * t))
}

/// The `t > 0` with `student_t_p_value(t, dof) = p` (bisection).
pub fn student_t_critical(p: f64, dof: f64) -> f64 {
    let (mut lo, mut hi) = (0.0, 1.0);
    while student_t_p_value(hi, dof) > p {
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if student_t_p_value(mid, dof) > p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tau_of_an_ar1_process_is_close_to_theory() {
        // x_t = a x_{t-1} + noise has tau = (1 + a) / (1 - a) = 9 for a = 0.8.
        let a = 0.8;
        let mut state = 0x2545F4914F6CDD1Du64;
        let mut uniform = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut x = vec![0.0; 200_000];
        for t in 1..x.len() {
            x[t] = a * x[t - 1] + (uniform() - 0.5);
        }
        let tau = integrated_time(&x, SOKAL_C);
        assert!((tau - 9.0).abs() < 0.6, "tau = {tau}");
        let s = statistics(&[&x[..100_000], &x[100_000..]]);
        assert!((s.ess - 200_000.0 / s.tau_corr).abs() < 1e-6);
        assert!((s.r_hat - 1.0).abs() < 0.01, "R-hat = {}", s.r_hat);
    }

    #[test]
    fn fft_autocorrelation_matches_direct_sums() {
        let x: Vec<f64> = (0..37).map(|i| ((i * i) as f64 * 0.37).sin() + 0.1 * i as f64).collect();
        let m = mean(&x);
        let c0: f64 = x.iter().map(|v| (v - m) * (v - m)).sum();
        let rho = autocorrelation(&x);
        for (t, r) in rho.iter().enumerate() {
            let direct: f64 = x.iter().zip(&x[t..]).map(|(a, b)| (a - m) * (b - m)).sum::<f64>() / c0;
            assert!((r - direct).abs() < 1e-12, "lag {t}: {r} vs {direct}");
        }
        assert_eq!(integrated_time(&[2.0; 10], SOKAL_C), 1.0);
        // A slowly varying series needs lags past DIRECT_LAGS: both paths agree.
        let slow: Vec<f64> = (0..5000).map(|i| (i as f64 / 300.0).sin() + 0.01 * ((i * 7) % 13) as f64).collect();
        let rho = autocorrelation(&slow);
        let mut tau = 1.0;
        for (t, r) in rho.iter().enumerate().skip(1) {
            tau += 2.0 * r;
            if t as f64 >= SOKAL_C * tau {
                break;
            }
        }
        assert!(tau > 2.0 * DIRECT_LAGS as f64 / SOKAL_C);
        assert!((integrated_time(&slow, SOKAL_C) - tau).abs() < 1e-9 * tau);
    }

    #[test]
    fn chi_square_p_values_match_tables() {
        // Q(k/2, x/2) for known quantiles of the chi-square distribution.
        assert!((upper_gamma_regularized(0.5, 3.841_458_8 / 2.0) - 0.05).abs() < 1e-7);
        assert!((upper_gamma_regularized(5.0, 23.209_251 / 2.0) - 0.01).abs() < 1e-7);
        assert!((upper_gamma_regularized(15.0, 18.492_66 / 2.0) - 0.95).abs() < 1e-5);
        assert!((ln_gamma(10.0) - 362_880f64.ln()).abs() < 1e-12);
        // Student t quantiles: t_{0.975}(5) = 2.570582, t_{0.995}(15) = 2.946713.
        assert!((student_t_p_value(2.570_582, 5.0) - 0.05).abs() < 1e-6);
        assert!((student_t_critical(0.01, 15.0) - 2.946_713).abs() < 1e-5);
        assert!((student_t_critical(0.05, f64::INFINITY) - 1.959_964).abs() < 1e-5);
        let c = chi_square(&[10, 20, 30, 0], &[0.2, 0.3, 0.5, 0.0], 5.0);
        assert_eq!(c.dof, 2);
        assert!((c.statistic - (4.0 / 12.0 + 4.0 / 18.0 + 0.0)).abs() < 1e-12);
    }

    #[test]
    fn histogram_uses_half_open_bins_and_closes_the_last() {
        let counts = histogram(&[-1.0, 0.0, 0.25, 0.5, 0.99, 1.0, 1.5], &[0.0, 0.5, 1.0]);
        assert_eq!(counts, vec![2, 3]);
    }
}
