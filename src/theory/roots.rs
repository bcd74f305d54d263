//! One-dimensional solvers: Brent's bracketing root finder and golden-section search
//! for an interior maximum.

use super::TheoryError;

/// Root of `f` in `[a, b]` given `fa = f(a)`, `fb = f(b)` of opposite signs (or one
/// zero), by Brent's method, to `|dx| <= xtol + 4 eps |x|`.
pub fn brent(f: impl Fn(f64) -> f64, (a, fa): (f64, f64), (b, fb): (f64, f64), xtol: f64) -> Result<f64, TheoryError> {
    if fa == 0.0 {
        return Ok(a);
    }
    if fb == 0.0 {
        return Ok(b);
    }
    if fa.is_nan() || fb.is_nan() || fa.signum() == fb.signum() {
        return Err(TheoryError::NoConvergence(format!("root not bracketed: f({a}) = {fa}, f({b}) = {fb}")));
    }
    let (mut a, mut fa, mut b, mut fb) = (a, fa, b, fb);
    let (mut c, mut fc) = (a, fa);
    let (mut d, mut e) = (b - a, b - a);
    for _ in 0..200 {
        if fb.signum() == fc.signum() {
            c = a;
            fc = fa;
            d = b - a;
            e = d;
        }
        if fc.abs() < fb.abs() {
            (a, b, c) = (b, c, b);
            (fa, fb, fc) = (fb, fc, fb);
        }
        let tol = 2.0 * f64::EPSILON * b.abs() + 0.5 * xtol;
        let m = 0.5 * (c - b);
        if m.abs() <= tol || fb == 0.0 {
            return Ok(b);
        }
        if e.abs() >= tol && fa.abs() > fb.abs() {
            let s = fb / fa;
            let (mut p, mut q) = if a == c {
                (2.0 * m * s, 1.0 - s)
            } else {
                let (q0, r) = (fa / fc, fb / fc);
                (s * (2.0 * m * q0 * (q0 - r) - (b - a) * (r - 1.0)), (q0 - 1.0) * (r - 1.0) * (s - 1.0))
            };
            if p > 0.0 {
                q = -q;
            } else {
                p = -p;
            }
            if 2.0 * p < (3.0 * m * q - (tol * q).abs()).min((e * q).abs()) {
                e = d;
                d = p / q;
            } else {
                d = m;
                e = m;
            }
        } else {
            d = m;
            e = m;
        }
        a = b;
        fa = fb;
        b += if d.abs() > tol { d } else { tol.copysign(m) };
        fb = f(b);
        if fb.is_nan() {
            return Err(TheoryError::NoConvergence(format!("f({b}) is NaN")));
        }
    }
    Err(TheoryError::NoConvergence("Brent: 200 iterations".into()))
}

/// Root of `f` in `[a, b]` (values of opposite signs) by Newton's method safeguarded
/// by the bracket (bisection when a step leaves it), started from the regula-falsi
/// point. `fdf` returns `(f, f')`. Stops after a step `<= rtol |x|`, which after a
/// quadratically converging step leaves an error far below `rtol |x|`.
pub fn newton_bracketed(
    fdf: impl Fn(f64) -> (f64, f64),
    (a, fa): (f64, f64),
    (b, fb): (f64, f64),
    rtol: f64,
) -> Result<f64, TheoryError> {
    if fa == 0.0 {
        return Ok(a);
    }
    if fb == 0.0 {
        return Ok(b);
    }
    if fa.is_nan() || fb.is_nan() || fa.signum() == fb.signum() {
        return Err(TheoryError::NoConvergence(format!("root not bracketed: f({a}) = {fa}, f({b}) = {fb}")));
    }
    // `neg` has f < 0, `pos` has f > 0.
    let (mut neg, mut pos) = if fa < 0.0 { (a, b) } else { (b, a) };
    let mut x = a - fa * (b - a) / (fb - fa);
    for _ in 0..200 {
        let (f, df) = fdf(x);
        if f == 0.0 {
            return Ok(x);
        }
        if f.is_nan() {
            return Err(TheoryError::NoConvergence(format!("f({x}) is NaN")));
        }
        if f < 0.0 {
            neg = x;
        } else {
            pos = x;
        }
        let (lo, hi) = (neg.min(pos), neg.max(pos));
        let newton = x - f / df;
        // A tiny step is accepted even onto a bracket end (rounding-level f at the root).
        if (newton - x).abs() <= rtol * x.abs() && newton >= lo && newton <= hi {
            return Ok(newton);
        }
        let next = if newton > lo && newton < hi { newton } else { 0.5 * (lo + hi) };
        let step = (next - x).abs();
        x = next;
        if step <= rtol * x.abs() || hi - lo <= 4.0 * f64::EPSILON * x.abs() {
            return Ok(x);
        }
    }
    Err(TheoryError::NoConvergence("safeguarded Newton: 200 iterations".into()))
}

/// Maximum of a unimodal `f` on `[a, b]` by golden-section search to `|dx| <= xtol`;
/// returns `(x, f(x))`.
pub fn golden_max(f: impl Fn(f64) -> f64, a: f64, b: f64, xtol: f64) -> (f64, f64) {
    let r = 0.5 * (5.0_f64.sqrt() - 1.0);
    let (mut a, mut b) = (a.min(b), a.max(b));
    let mut x1 = b - r * (b - a);
    let mut x2 = a + r * (b - a);
    let (mut f1, mut f2) = (f(x1), f(x2));
    for _ in 0..200 {
        if b - a <= xtol {
            break;
        }
        if f1 >= f2 {
            b = x2;
            x2 = x1;
            f2 = f1;
            x1 = b - r * (b - a);
            f1 = f(x1);
        } else {
            a = x1;
            x1 = x2;
            f1 = f2;
            x2 = a + r * (b - a);
            f2 = f(x2);
        }
    }
    if f1 >= f2 {
        (x1, f1)
    } else {
        (x2, f2)
    }
}

/// Maximum of `f` over `[a, b]`: scan `n` log- or linearly spaced points, then refine
/// around the best one. Returns `(x, f(x), at_lower_end)`.
pub fn scan_max(f: impl Fn(f64) -> f64, a: f64, b: f64, n: usize, log_spaced: bool) -> (f64, f64, bool) {
    let n = n.max(3);
    let x_at = |i: usize| {
        let u = i as f64 / (n - 1) as f64;
        if log_spaced {
            a * (b / a).powf(u)
        } else {
            a + (b - a) * u
        }
    };
    let mut best = (0, f64::NEG_INFINITY);
    for i in 0..n {
        let v = f(x_at(i));
        if v > best.1 {
            best = (i, v);
        }
    }
    let (lo, hi) = (x_at(best.0.saturating_sub(1)), x_at((best.0 + 1).min(n - 1)));
    let (x, v) = golden_max(&f, lo, hi, 1e-13 * hi.abs().max(1e-300));
    let (x, v) = if v >= best.1 { (x, v) } else { (x_at(best.0), best.1) };
    (x, v, best.0 == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brent_finds_roots_to_machine_precision() {
        let f = |x: f64| x.powi(3) - 2.0;
        let r = brent(f, (0.0, f(0.0)), (3.0, f(3.0)), 0.0).unwrap();
        assert!((r - 2.0_f64.cbrt()).abs() < 4e-16);
        let g = |x: f64| (x - 1e-9).tanh();
        let r = brent(g, (-1.0, g(-1.0)), (5.0, g(5.0)), 0.0).unwrap();
        assert!((r - 1e-9).abs() < 1e-20);
        assert!(brent(f, (0.0, f(0.0)), (1.0, f(1.0)), 0.0).is_err());
    }

    #[test]
    fn safeguarded_newton_converges_and_survives_bad_derivatives() {
        let fdf = |x: f64| (x.powi(3) - 2.0, 3.0 * x * x);
        let r = newton_bracketed(fdf, (0.0, -2.0), (3.0, 25.0), 1e-12).unwrap();
        assert!((r - 2.0_f64.cbrt()).abs() < 4e-16);
        // Wrong derivative: falls back to bisection, still converges.
        let bad = |x: f64| (x - 0.3, -1e-3);
        let r = newton_bracketed(bad, (0.0, -0.3), (1.0, 0.7), 1e-12).unwrap();
        assert!((r - 0.3).abs() < 1e-11);
        // Double root (tangent): linear convergence, bounded by the tolerance.
        let dbl = |x: f64| ((x - 0.5).powi(3), 3.0 * (x - 0.5).powi(2));
        let r = newton_bracketed(dbl, (0.0, -0.125), (2.0, 3.375), 1e-13).unwrap();
        assert!((r - 0.5).abs() < 1e-10);
    }

    #[test]
    fn golden_and_scan_find_maxima() {
        let (x, v) = golden_max(|x| -(x - 0.3).powi(2), 0.0, 1.0, 1e-12);
        assert!((x - 0.3).abs() < 1e-6 && v.abs() < 1e-12);
        let (x, v, edge) = scan_max(|x: f64| x.ln() / x, 0.1, 100.0, 200, true);
        assert!((x - std::f64::consts::E).abs() < 1e-6 && !edge);
        assert!((v - 1.0 / std::f64::consts::E).abs() < 1e-14);
        let (_, _, edge) = scan_max(|x: f64| -x, 1e-6, 1.0, 50, true);
        assert!(edge);
    }
}
