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
    out + &verdict_table(c)
}

/// Each sampler against the reference (when there is one) and the theory's prediction.
fn verdict_table(c: &Comparison) -> String {
    let p = |t: Option<crate::eval::two_sample::TwoSample>| t.map_or("-".into(), |t| format!("{:.3}", t.p_value));
    let mut out = match &c.reference {
        Some(r) => format!(
            "against reference `{r}` (alpha = {}, tolerance = {}):\n  {:<34} {:>20} {:>9} {:>9} {:>10} {:>12} {:>9} {:>6}\n",
            c.thresholds.alpha,
            c.thresholds.tolerance,
            "sampler",
            "energy - reference",
            "overlap p",
            "P(q) p",
            "detectable",
            "verdict",
            "predicted",
            "agree"
        ),
        None => format!("theory (no reference):\n  {:<34} {:>9}\n", "sampler", "predicted"),
    };
    for r in &c.rows {
        let predicted = r.predicted.prediction.map_or("-", |p| p.name());
        let Some(v) = &r.vs_reference else {
            let what = if c.reference.as_deref() == Some(r.stage.as_str()) { "reference" } else { "" };
            out +=
                &format!("  {:<34} {:>20} {:>9} {:>9} {:>10} {:>12} {:>9}\n", r.stage, "", "", "", "", what, predicted);
            continue;
        };
        out += &format!(
            "  {:<34} {:>20} {:>9} {:>9} {:>10} {:>12} {:>9} {:>6}\n",
            r.stage,
            pm(Some(v.energy_diff.value), Some(v.energy_diff.stderr)),
            p(v.overlap_test),
            p(v.q_test),
            v.decision.detectable_bias.map_or("-".into(), |b| format!("{b:.4}")),
            v.decision.verdict.name(),
            predicted,
            r.agrees.map_or("-", |a| if a { "yes" } else { "no" }),
        );
    }
    out
}

pub fn aggregate_table(a: &Aggregate) -> String {
    let mut out =
        format!("{} instances, T={:.4}, Bayes overlap = {}\n", a.instances, a.temperature, pm(a.bayes_overlap, None));
    out += &format!(
        "  {:<34} {:>22} {:>22} {:>8} {:>22} {:>8} {:>12} {:>9}\n",
        "sampler (first instance)",
        "energy excess",
        "overlap x*",
        "<|q|>",
        "energy - reference",
        "c/b/i",
        "verdict",
        "predicted"
    );
    for r in &a.rows {
        let [c, b, i] = r.verdict_counts;
        out += &format!(
            "  {:<34} {:>22} {:>22} {:>8} {:>22} {:>8} {:>12} {:>9}\n",
            r.stages[0],
            pm(r.energy_excess_mean, r.energy_excess_stderr),
            pm(r.overlap_planted_mean, r.overlap_planted_stderr),
            r.q_abs_mean.map_or("-".into(), |q| format!("{q:.3}")),
            pm(r.energy_diff_mean, r.energy_diff_stderr),
            format!("{c}/{b}/{i}"),
            r.decision.as_ref().map_or("-", |d| d.verdict.name()),
            r.predicted.prediction.map_or("-", |p| p.name()),
        );
    }
    out
}
