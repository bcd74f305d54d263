//! Human-readable tables of result artifacts (what `quench show` prints under
//! the summary): a comparison of samplers on one instance, and its aggregate
//! over instances.

use crate::eval::aggregate::Aggregate;
use crate::eval::compare::Comparison;

fn pm(v: Option<f64>, e: Option<f64>) -> String {
    match (v, e) {
        (Some(v), Some(e)) if e.is_finite() => format!("{v:+.4} ± {e:.4}"),
        (Some(v), _) => format!("{v:+.4}"),
        _ => "-".into(),
    }
}

/// The comparison as a text table.
pub fn comparison_table(c: &Comparison) -> String {
    let mut out = format!(
        "{} n={} T={:.4}: equilibrium e = {}, e(x*) = {}, Bayes overlap = {}\n",
        c.model,
        c.n,
        c.temperature,
        pm(c.equilibrium_energy, None),
        pm(c.planted_energy, None),
        pm(c.bayes_overlap, None)
    );
    out += &format!(
        "  {:<34} {:>7} {:>20} {:>9} {:>20} {:>8} {:>6}\n",
        "sampler", "samples", "energy/spin", "excess", "overlap x*", "<|q|>", "R-hat"
    );
    for r in &c.rows {
        out += &format!(
            "  {:<34} {:>7} {:>20} {:>9} {:>20} {:>8} {:>6}\n",
            r.stage,
            r.samples,
            pm(Some(r.energy_mean), Some(r.energy_stderr)),
            r.energy_excess.map_or("-".into(), |e| format!("{e:+.4}")),
            pm(r.overlap_planted_mean, r.overlap_planted_stderr),
            r.q_abs_mean.map_or("-".into(), |q| format!("{q:.3}")),
            r.r_hat.map_or("-".into(), |v| format!("{v:.3}")),
        );
    }
    out
}

pub fn aggregate_table(a: &Aggregate) -> String {
    let mut out =
        format!("{} instances, T={:.4}, Bayes overlap = {}\n", a.instances, a.temperature, pm(a.bayes_overlap, None));
    out +=
        &format!("  {:<34} {:>22} {:>22} {:>8}\n", "sampler (first instance)", "energy excess", "overlap x*", "<|q|>");
    for r in &a.rows {
        out += &format!(
            "  {:<34} {:>22} {:>22} {:>8}\n",
            r.stages[0],
            pm(r.energy_excess_mean, r.energy_excess_stderr),
            pm(r.overlap_planted_mean, r.overlap_planted_stderr),
            r.q_abs_mean.map_or("-".into(), |q| format!("{q:.3}"))
        );
    }
    out
}
