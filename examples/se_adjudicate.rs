//! Settles disagreements between two SE grids: reads lines
//! `model_path column Delta t value_a value_b` (model sk|ising3|sph3, path diff|deci,
//! column m_uninf|m_inf, Delta and m in the CSV units of `se_grid`) on stdin and appends
//! the plain SE iteration run to `|dm| <= 1e-16` (up to 2e8 iterations) and the window.

use quench::theory::{iterate_se, transition, Model, Path, Prior};
use std::io::BufRead;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        let f: Vec<&str> = line.split_whitespace().collect();
        let [model_path, col, d, t, ..] = f[..] else {
            return Err(format!("bad line: {line}").into());
        };
        let (d, t): (f64, f64) = (d.parse()?, t.parse()?);
        let (model, path) = model_path.split_once('_').ok_or("model_path")?;
        let (p, prior, rho) = match model {
            "sk" => (2, Prior::SparseRademacher { rho: 0.08 }, 0.08),
            "ising3" => (3, Prior::Rademacher, 1.0),
            _ => (3, Prior::Gaussian, 1.0),
        };
        let path = if path == "diff" { Path::Diffusion } else { Path::Decimation };
        let m = Model::new(p, prior, d * rho * rho)?;
        let m0 = if col == "m_uninf" { 1e-6 } else { m.e0() };
        let (exact, iters) = iterate_se(&m, path, t, m0, 1e-16, 200_000_000)?;
        let window = transition(&m, path)?.map(|x| (x.spinodal_low_t, x.spinodal_high_t));
        println!("{line} | exact {} after {iters} iterations | window {window:?}", exact / rho);
    }
    Ok(())
}
