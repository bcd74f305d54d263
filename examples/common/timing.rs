//! Wall-clock timing shared by the timing examples (`#[path]`-included).

use std::time::Instant;

/// Median wall time of `reps` calls of `f` in milliseconds, after one warm-up call.
pub fn median_ms(reps: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut t: Vec<f64> = (0..reps)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    t.sort_by(|a, b| a.total_cmp(b));
    t[reps / 2]
}
