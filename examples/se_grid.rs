//! SE phase-diagram grid in the CSV format of `shared/bench/se_numpy.py`
//! (`Delta,t,m_uninf,m_inf`, Delta-major, t fastest, m/rho and Delta/rho^2), on the same
//! default grids, so the two can be compared with `compare_csv.py`.
//!
//! cargo run --release --example se_grid -- --model sk --path diff --nD 500 --nt 500 --out ours.csv
//! Threads: RAYON_NUM_THREADS (default: all cores).

use quench::theory::{linspace, phase_diagram, Path, PhaseDiagramSpec, Prior};
use std::io::Write;
use std::time::Instant;

struct Args {
    model: String,
    path: Path,
    nd: usize,
    nt: usize,
    range_d: (Option<f64>, Option<f64>),
    range_t: (Option<f64>, Option<f64>),
    rho: Option<f64>,
    out: Option<String>,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        model: String::new(),
        path: Path::Diffusion,
        nd: 200,
        nt: 200,
        range_d: (None, None),
        range_t: (None, None),
        rho: None,
        out: None,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    for pair in argv.chunks(2) {
        let [key, val] = pair else {
            return Err(format!("missing value after {}", pair[0]));
        };
        let num = || val.parse::<f64>().map_err(|e| format!("{key}: {e}"));
        let int = || val.parse::<usize>().map_err(|e| format!("{key}: {e}"));
        match key.as_str() {
            "--model" => a.model = val.clone(),
            "--path" => {
                a.path = match val.as_str() {
                    "diff" => Path::Diffusion,
                    "deci" => Path::Decimation,
                    _ => return Err(format!("--path {val}: diff|deci")),
                }
            }
            "--nD" => a.nd = int()?,
            "--nt" => a.nt = int()?,
            "--Dmin" => a.range_d.0 = Some(num()?),
            "--Dmax" => a.range_d.1 = Some(num()?),
            "--tmin" => a.range_t.0 = Some(num()?),
            "--tmax" => a.range_t.1 = Some(num()?),
            "--rho" => a.rho = Some(num()?),
            "--out" => a.out = Some(val.clone()),
            _ => return Err(format!("unknown option {key}")),
        }
    }
    Ok(a)
}

/// (p, rho, Delta range in quoted units, diffusion t range, decimation t range)
type Defaults = (u32, f64, (f64, f64), (f64, f64), (f64, f64));

fn defaults(model: &str) -> Result<Defaults, String> {
    match model {
        "sk" => Ok((2, 0.08, (0.95, 1.1), (0.0, 0.16), (0.0, 0.012))),
        "ising3" => Ok((3, 1.0, (0.001, 0.4), (0.0, 0.25), (0.0, 0.2))),
        "sph3" => Ok((3, 1.0, (0.0004, 0.32), (0.0, 0.16), (0.0, 0.15))),
        _ => Err(format!("--model {model}: sk|ising3|sph3")),
    }
}

/// `x` rounded to 15 significant digits, like the peer's `%.15g`, so that the grid keys
/// of both files parse to the same doubles.
fn g15(x: f64) -> f64 {
    format!("{x:.14e}").parse().unwrap_or(x)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a = parse()?;
    let (p, rho0, dr, td, tc) = defaults(&a.model)?;
    let rho = if a.model == "sph3" { 1.0 } else { a.rho.unwrap_or(rho0) };
    let prior = match (a.model.as_str(), rho) {
        ("sph3", _) => Prior::Gaussian,
        (_, 1.0) => Prior::Rademacher,
        (_, r) => Prior::SparseRademacher { rho: r },
    };
    let tr = if a.path == Path::Diffusion { td } else { tc };
    let (d0, d1) = (a.range_d.0.unwrap_or(dr.0), a.range_d.1.unwrap_or(dr.1));
    let (t0, t1) = (a.range_t.0.unwrap_or(tr.0), a.range_t.1.unwrap_or(tr.1));
    let r2 = rho * rho;
    let spec = PhaseDiagramSpec {
        p,
        prior,
        path: a.path,
        delta_min: d0 * r2,
        delta_max: d1 * r2,
        delta_points: a.nd,
        t_min: t0,
        t_max: t1,
        t_points: a.nt,
    };
    let start = Instant::now();
    let diagram = phase_diagram(&spec, &|_, _| true)?;
    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "se_grid model={} path={:?} grid={}x{} threads={} compute {:.4} s",
        a.model,
        a.path,
        a.nd,
        a.nt,
        rayon::current_num_threads(),
        secs
    );
    eprintln!("RESULT compute_s={secs:.6}");
    if let Some(path) = a.out {
        let d_quoted = linspace(d0, d1, a.nd);
        let mut w = std::io::BufWriter::new(std::fs::File::create(&path)?);
        writeln!(w, "Delta,t,m_uninf,m_inf")?;
        for (i, d) in d_quoted.iter().enumerate() {
            for (j, t) in diagram.t.iter().enumerate() {
                let k = i * a.nt + j;
                let (mu, mi) = (diagram.m_uninf[k] / rho, diagram.m_inf[k] / rho);
                writeln!(w, "{},{},{mu},{mi}", g15(*d), g15(*t))?;
            }
        }
        eprintln!("  wrote {path} ({} rows)", a.nd * a.nt);
    }
    Ok(())
}
