//! Figures of measured artifacts: a comparison (energy per sampler against
//! the reference or the equilibrium prediction, with error bars and verdicts;
//! P(q) and overlap-with-x* histograms side by side), one aggregate, the
//! denoiser's planted path (hysteresis with its SE branches), sampler traces,
//! training curves, the bicoloring comparison and the disorder itself.

use serde_json::Value;

use super::chart::{palette, Corner, ErrPoint, Figure, Item, Panel, Rgb, BLACK, BLUE, GREEN, GREY, ORANGE, RED};
use super::fields::{self, base_name, error_of, num, text};
use crate::eval::bicoloring::BicoloringComparison;
use crate::eval::compare::Comparison;
use crate::eval::denoiser_path::DenoiserPath;
use crate::eval::overlaps::planted_overlap;
use crate::eval::samples::Samples;
use crate::models::bicoloring::Bicoloring;
use crate::models::Disorder;
use crate::stages::train::{network_traces, Denoiser, Network};

/// The colour of a verdict (`consistent`, `biased`, `inconclusive`); blue without one.
pub fn verdict_color(verdict: Option<&str>) -> Rgb {
    match verdict {
        Some(v) if v.starts_with("consistent") => GREEN,
        Some(v) if v.starts_with("biased") => RED,
        Some(_) => ORANGE,
        None => BLUE,
    }
}

/// One summary value per sampler with its error, on a categorical axis, each
/// point coloured by the row's `verdict` and annotated with it and the
/// theory's `predicted` outcome when the summary has them.
pub fn per_sampler(
    title: &str,
    y_label: &str,
    rows: &[(String, &Value)],
    key: impl Fn(&Value) -> Option<String>,
) -> Panel {
    let mut panel = Panel::new(title, "sampler", y_label);
    panel.categories = rows.iter().map(|(name, _)| name.clone()).collect();
    let mut groups: Vec<(Option<String>, Vec<ErrPoint>)> = Vec::new();
    for (i, (_, row)) in rows.iter().enumerate() {
        let Some(k) = key(row) else { continue };
        let Some(y) = num(row, &k) else { continue };
        let verdict = text(row, "verdict").map(str::to_string);
        let point = ErrPoint { x: i as f64, y, err: error_of(row, &k) };
        match groups.iter_mut().find(|(v, _)| *v == verdict) {
            Some((_, pts)) => pts.push(point),
            None => groups.push((verdict.clone(), vec![point])),
        }
        let note = match (text(row, "verdict"), row.get("predicted")) {
            (Some(v), Some(Value::String(p))) => format!("{v} · SE: {p}"),
            (Some(v), Some(Value::Null)) => format!("{v} · SE: -"),
            (Some(v), _) => v.to_string(),
            _ => String::new(),
        };
        if !note.is_empty() {
            panel.push(Item::Text { x: i as f64 + 0.06, y, color: verdict_color(text(row, "verdict")), text: note });
        }
    }
    let has_verdicts = groups.iter().any(|(v, _)| v.is_some());
    for (verdict, points) in groups {
        let label = if has_verdicts { Some(verdict.clone().unwrap_or_else(|| "no verdict".into())) } else { None };
        panel.push(Item::Points { points, color: verdict_color(verdict.as_deref()), joined: false, label });
    }
    panel
}

/// Bin densities of a histogram as a step line over `edges`.
fn steps(edges: &[f64], counts: &[u64]) -> Vec<(f64, f64)> {
    let total: u64 = counts.iter().sum();
    let mut out = Vec::with_capacity(2 * counts.len());
    for (i, &c) in counts.iter().enumerate() {
        let (lo, hi) = (edges[i], edges[i + 1]);
        let density = c as f64 / (total.max(1) as f64 * (hi - lo));
        out.push((lo, density));
        out.push((hi, density));
    }
    out
}

/// Equal-width bins over the values' range, as (edges, counts).
fn histogram(values: impl Iterator<Item = f64> + Clone, bins: usize) -> (Vec<f64>, Vec<u64>) {
    let (lo, hi) = values
        .clone()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    if !lo.is_finite() {
        return (vec![0.0, 1.0], vec![0]);
    }
    let (lo, hi) = if hi > lo { (lo, hi) } else { (lo - 0.5, hi + 0.5) };
    let edges: Vec<f64> = (0..=bins).map(|i| lo + (hi - lo) * i as f64 / bins as f64).collect();
    let mut counts = vec![0u64; bins];
    for v in values.filter(|v| v.is_finite()) {
        counts[(((v - lo) / (hi - lo)) * bins as f64).floor().clamp(0.0, bins as f64 - 1.0) as usize] += 1;
    }
    (edges, counts)
}

pub fn comparison(c: &Comparison, summary: &Value) -> Figure {
    let rows = fields::rows(summary).unwrap_or_default();
    let reference = text(summary, "reference").map(base_name);
    let diff = rows.iter().find_map(|(_, r)| fields::reference_difference_field(r));
    let mut energy = match (&diff, reference) {
        (Some(key), reference) => {
            let title = format!("energy difference to the reference `{}`", reference.unwrap_or("?"));
            per_sampler(&title, "e - e_ref per spin", &rows, |_| Some(key.clone()))
        }
        (None, _) if rows.iter().any(|(_, r)| num(r, "energy_excess").is_some()) => {
            per_sampler("energy excess over the equilibrium prediction", "e - e_eq per spin", &rows, |_| {
                Some("energy_excess".into())
            })
        }
        (None, _) => {
            let mut p = per_sampler("energy per spin", "e", &rows, |_| Some("energy_mean".into()));
            if let Some(e) = c.planted_energy {
                p.push(Item::HLine { y: e, color: GREY, label: Some(format!("e(x*) = {e:.4}")) });
            }
            p
        }
    };
    if diff.is_some() || rows.iter().any(|(_, r)| num(r, "energy_excess").is_some()) {
        energy.push(Item::HLine { y: 0.0, color: BLACK, label: None });
    }
    let hist = |title: &str, x_label: &str, pick: fn(&crate::eval::compare::SamplerRow) -> &Vec<u64>| {
        let mut p = Panel::new(title, x_label, "density");
        p.x_range = Some((-1.0, 1.0));
        p.legend = Corner::UpperLeft;
        for (i, r) in c.rows.iter().enumerate() {
            let counts = pick(r);
            if counts.iter().sum::<u64>() > 0 && counts.len() + 1 == c.edges.len() {
                p.push(Item::line(steps(&c.edges, counts), palette(i), base_name(&r.stage)));
            }
        }
        p
    };
    let pq = hist("P(q) between independent samples", "q", |r| &r.q_hist);
    let mut overlap = hist("overlap with x*", "m = x.x*/N", |r| &r.overlap_hist);
    if let Some(b) = c.bayes_overlap {
        overlap.push(Item::VLine { x: b, color: BLACK, label: Some(format!("Bayes {b:.3}")) });
    }
    let title = format!("{} n={} T={:.4}", c.model, c.n, c.temperature);
    Figure { title, rows: vec![vec![energy], vec![pq, overlap]] }.without_empty_panels()
}

/// One aggregate: the energy excess and the overlap per sampler, with the
/// instance spread's error bars.
pub fn aggregate(summary: &Value) -> Figure {
    let rows = fields::rows(summary).unwrap_or_default();
    let mut excess = per_sampler("energy excess (mean over instances)", "e - e_eq per spin", &rows, |r| {
        fields::reference_difference_field(r).or(Some("energy_excess_mean".into()))
    });
    excess.push(Item::HLine { y: 0.0, color: BLACK, label: None });
    let mut overlap = per_sampler("overlap with x*", "m", &rows, |_| Some("overlap_planted_mean".into()));
    if let Some(b) = num(summary, "bayes_overlap") {
        overlap.push(Item::HLine { y: b, color: GREY, label: Some(format!("Bayes (SE) {b:.3}")) });
    }
    let title = format!(
        "{} instances, T={}",
        summary.get("instances").and_then(Value::as_u64).unwrap_or(0),
        num(summary, "temperature").map_or("?".into(), |t| format!("{t:.4}"))
    );
    Figure { title, rows: vec![vec![excess, overlap]] }.without_empty_panels()
}

pub fn denoiser_path(p: &DenoiserPath) -> Figure {
    let mut panel =
        Panel::new("AMP along the planted path: hysteresis", "gamma^2 (diffusion path)", "overlap m with x*");
    panel.legend = Corner::LowerRight;
    if let Some((lo, hi)) = p.window {
        panel.push(Item::Band {
            lo,
            hi,
            color: ORANGE,
            opacity: 0.2,
            label: Some("measured hysteresis window".into()),
        });
    }
    let pts = |y: &[f64]| p.t.iter().zip(y).map(|(&x, &y)| ErrPoint { x, y, err: None }).collect::<Vec<_>>();
    panel.push(Item::Points {
        points: pts(&p.overlap_uninf),
        color: BLUE,
        joined: true,
        label: Some("AMP from the uninformed start".into()),
    });
    panel.push(Item::Points {
        points: pts(&p.overlap_inf),
        color: RED,
        joined: true,
        label: Some("AMP from the informed start".into()),
    });
    panel.push(Item::line(Item::xy(&p.t, &p.se_m_uninf), BLUE, "SE m_uninf"));
    panel.push(Item::dashed(Item::xy(&p.t, &p.se_m_inf), RED, "SE m_inf"));
    for (name, t) in
        [("SE sp1", p.se_spinodal_low), ("SE first order", p.se_first_order), ("SE sp2", p.se_spinodal_high)]
    {
        if let Some(t) = t {
            panel.push(Item::VLine { x: t, color: BLACK, label: Some(name.into()) });
        }
    }
    Figure::single(panel)
}

/// Markov chains: energy (and overlap with x*, given the instance) against the
/// sweep, one line per chain. Generative samplers: the traces along the path
/// (overlaps and SE branches; the solver's iterations) and each sample's energy.
pub fn samples(s: &Samples, planted: Option<super::Planted>) -> Figure {
    let title = format!("{} · n={} · {} chains", s.sampler, s.n, s.chains.len());
    let mut rows = Vec::new();
    if s.markov {
        let x_of = |r: usize| s.record_at.get(r).copied().unwrap_or(r as f64);
        let mut energy = Panel::new("energy per spin", "sweep", "e");
        let mut overlap = Panel::new("overlap with x*", "sweep", "m");
        for (c, chain) in s.chains.iter().enumerate() {
            let label = if c < 8 { format!("chain {c}") } else { String::new() };
            let e = chain.energy.iter().enumerate().map(|(r, &e)| (x_of(r), e)).collect();
            energy.push(Item::Line {
                points: e,
                dashed: false,
                color: palette(c),
                width: 1,
                label: Some(label).filter(|l| !l.is_empty()),
            });
            if let Some(p) = planted {
                let m = chain
                    .records(s.n)
                    .enumerate()
                    .map(|(r, rec)| (x_of(r), planted_overlap(rec, p.x, p.prior, p.z2_symmetric)))
                    .collect();
                overlap.push(Item::Line { points: m, dashed: false, color: palette(c), width: 1, label: None });
            }
        }
        rows.push(vec![energy, overlap]);
    } else {
        let energies: Vec<ErrPoint> = s
            .chains
            .iter()
            .enumerate()
            .flat_map(|(c, ch)| ch.energy.iter().map(move |&e| ErrPoint { x: c as f64, y: e, err: None }))
            .collect();
        let mut energy = Panel::new("energy per spin of each sample", "sample", "e");
        energy.push(Item::Points { points: energies, color: BLUE, joined: false, label: None });
        if let Some(p) = planted {
            let m: Vec<ErrPoint> = s
                .chains
                .iter()
                .enumerate()
                .filter_map(|(c, ch)| {
                    ch.last(s.n).map(|rec| ErrPoint {
                        x: c as f64,
                        y: planted_overlap(rec, p.x, p.prior, p.z2_symmetric),
                        err: None,
                    })
                })
                .collect();
            let overlap = Panel::new("overlap with x* of each sample", "sample", "m").with(Item::Points {
                points: m,
                color: RED,
                joined: false,
                label: None,
            });
            rows.push(vec![energy, overlap]);
        } else {
            rows.push(vec![energy]);
        }
    }
    let (overlaps, others): (Vec<_>, Vec<_>) =
        s.traces.iter().partition(|t| t.name.contains("m_") || t.name.contains("overlap"));
    let mut path = Panel::new("along the path (mean over trajectories)", "path value t", "overlap");
    path.legend = Corner::LowerRight;
    for (i, t) in overlaps.iter().enumerate() {
        let points = Item::xy(&t.x, &t.y);
        path.push(if t.name.starts_with("se ") {
            Item::dashed(points, palette(i), &t.name)
        } else {
            Item::line(points, palette(i), &t.name)
        });
    }
    let mut other = Panel::new("solver along the path", "path value t", "");
    for (i, t) in others.iter().enumerate() {
        other.push(Item::line(Item::xy(&t.x, &t.y), palette(i), &t.name));
    }
    rows.push(vec![path, other]);
    Figure { title, rows }.without_empty_panels()
}

pub fn network(net: &Network) -> Figure {
    let traces = network_traces(net);
    let find = |name: &str| traces.iter().find(|t| t.name == name);
    let mut f = Panel::new("variational free energy per spin", "training step", "f");
    if let (Some(fe), Some(err)) = (find("free_energy"), find("free_energy_stderr")) {
        let points = fe.x.iter().zip(&fe.y).zip(&err.y).map(|((&x, &y), &e)| ErrPoint { x, y, err: Some(e) }).collect();
        f.push(Item::Points { points, color: BLUE, joined: true, label: Some("VAN estimate".into()) });
    }
    if let Some(exact) = net.exact_free_energy {
        f.push(Item::HLine { y: exact, color: RED, label: Some(format!("exact {exact:.4}")) });
    }
    let mut parts = Panel::new("energy and entropy per spin", "training step", "");
    for (i, name) in ["energy", "entropy"].iter().enumerate() {
        if let Some(t) = find(name) {
            parts.push(Item::line(Item::xy(&t.x, &t.y), palette(i), *name));
        }
    }
    let mut grad = Panel::new("gradient norm", "training step", "|grad|");
    if let Some(t) = find("grad_norm") {
        grad.push(Item::line(Item::xy(&t.x, &t.y), GREY, ""));
    }
    let title = format!("VAN on `{}` · n={} hidden={} depth={}", net.instance, net.n, net.hidden, net.depth);
    Figure { title, rows: vec![vec![f], vec![parts, grad]] }.without_empty_panels()
}

pub fn learned_denoiser(den: &Denoiser) -> Figure {
    let steps: Vec<f64> = den.curve.iter().map(|p| p.step as f64).collect();
    let loss: Vec<f64> = den.curve.iter().map(|p| p.loss).collect();
    let curve = Panel::new("training loss (batch MSE per variable)", "training step", "loss").with(Item::line(
        Item::xy(&steps, &loss),
        BLUE,
        "",
    ));
    let mut mse = Panel::new("held-out MSE along the path", "path value t", "MSE per variable");
    mse.push(Item::line(Item::xy(&den.t, &den.mse_learned), BLUE, "learned"));
    mse.push(Item::line(Item::xy(&den.t, &den.mse_amp), RED, "AMP"));
    mse.push(Item::dashed(Item::xy(&den.t, &den.mmse_bayes), BLACK, "Bayes MMSE (SE)"));
    let title = format!("learned denoiser on `{}` · {} samples, {} held out", den.instance, den.samples, den.held_out);
    Figure { title, rows: vec![vec![curve, mse]] }
}

pub fn bicoloring_comparison(c: &BicoloringComparison) -> Figure {
    let cats: Vec<String> = c.rows.iter().map(|r| base_name(&r.stage).to_string()).collect();
    let point = |i: usize, y: f64, e: Option<f64>| ErrPoint { x: i as f64, y, err: e };
    let mut violated = Panel::new("fraction of monochromatic hyperedges", "sampler", "violated");
    violated.categories = cats.clone();
    violated.push(Item::Points {
        points: c.rows.iter().enumerate().map(|(i, r)| point(i, r.violated_mean, Some(r.violated_stderr))).collect(),
        color: BLUE,
        joined: false,
        label: None,
    });
    let mut overlap = Panel::new("overlap with x*", "sampler", "m");
    overlap.categories = cats;
    overlap.push(Item::Points {
        points: c
            .rows
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.overlap_planted_mean.map(|m| point(i, m, r.overlap_planted_stderr)))
            .collect(),
        color: BLUE,
        joined: false,
        label: None,
    });
    overlap.push(Item::HLine { y: c.overlap_equilibrium, color: GREY, label: Some("equilibrium".into()) });
    if let Some(m) = c.overlap_cluster {
        overlap.push(Item::HLine { y: m, color: RED, label: Some("x*'s cluster (pop. dynamics)".into()) });
    }
    let title = format!("bicoloring n={} k={} alpha={}", c.n, c.k, c.alpha);
    Figure { title, rows: vec![vec![violated, overlap]] }
}

pub fn disorder(d: &Disorder) -> Figure {
    let (edges, counts) = histogram(d.couplings.iter().map(|&v| v as f64), 60);
    let couplings = Panel::new("couplings", "value", "density").with(Item::line(steps(&edges, &counts), BLUE, ""));
    let mut row = vec![couplings];
    if let Some(x) = &d.planted {
        let (edges, counts) = histogram(x.iter().map(|&v| v as f64), 30);
        row.push(Panel::new("planted signal x*", "x*_i", "density").with(Item::line(steps(&edges, &counts), RED, "")));
    }
    let title = format!("{} n={} p={} T={:.4} (Delta={:.4})", d.family.name(), d.n, d.p, d.temperature, d.delta);
    Figure { title, rows: vec![row] }
}

pub fn bicoloring(g: &Bicoloring) -> Figure {
    let mut degree = vec![0u64; g.n];
    for &v in &g.edges {
        if let Some(d) = degree.get_mut(v as usize) {
            *d += 1;
        }
    }
    let max = degree.iter().copied().max().unwrap_or(0) as usize;
    let edges: Vec<f64> = (0..=max + 1).map(|d| d as f64 - 0.5).collect();
    let mut counts = vec![0u64; max + 1];
    for d in degree {
        counts[d as usize] += 1;
    }
    let panel = Panel::new("vertex degrees", "hyperedges at a vertex", "fraction of vertices").with(Item::line(
        steps(&edges, &counts),
        BLUE,
        "",
    ));
    let title = format!("bicoloring n={} k={} alpha={} ({} hyperedges)", g.n, g.k, g.alpha, g.m());
    Figure { title, rows: vec![vec![panel]] }
}

/// A theory path's figure with generative samplers' own paths drawn over its
/// first panel (the overlap branches): per sampler the mean `q(t) = |x̂|²/N`
/// along its trajectories, which on the Nishimori line a correct sampler
/// keeps equal to the equilibrium branch's `m(t)`, cut to the theory's range
/// of t and divided by `scale` as the theory's branches are (rho for the
/// sparse prior, whose SE figure shows m / rho; else 1). `samplers` pairs a
/// label with the samples; ones without a path trace (Markov chains) are the
/// caller's error to report.
pub fn with_sampler_paths(mut figure: Figure, samplers: &[(String, Samples)], scale: f64) -> Figure {
    let Some(panel) = figure.rows.first_mut().and_then(|row| row.first_mut()) else { return figure };
    let t_max = panel.items.iter().flat_map(Item::xs).filter(|x| x.is_finite()).fold(f64::NEG_INFINITY, f64::max);
    for (i, (label, s)) in samplers.iter().enumerate() {
        let Some(q) = s.traces.iter().find(|t| t.name == "m_hat_sq") else { continue };
        let points: Vec<(f64, f64)> = Item::xy(&q.x, &q.y)
            .into_iter()
            .filter(|&(t, _)| t <= t_max * (1.0 + 1e-9))
            .map(|(t, q)| (t, q / scale))
            .collect();
        let per = if scale == 1.0 { String::new() } else { format!(" / {scale}") };
        panel.push(Item::Line {
            points,
            dashed: false,
            color: palette(i + 2),
            width: 2,
            label: Some(format!("{label}: q = |x_hat|^2 / N{per}")),
        });
    }
    figure
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_samplers_path_is_cut_to_the_theorys_range() {
        let theory = Panel::new("overlap", "t", "m").with(Item::line(vec![(0.0, 0.0), (0.5, 0.9)], BLUE, "branch"));
        let trace = |name: &str| crate::eval::samples::PathTrace {
            name: name.into(),
            x: vec![0.0, 0.25, 0.5, 1.0, 4.0],
            y: vec![0.0, 0.3, 0.6, 0.9, 1.0],
        };
        let samples = Samples {
            sampler: "sample.diffusion".into(),
            n: 4,
            markov: false,
            chains: vec![],
            record_at: vec![],
            traces: vec![trace("amp_iterations"), trace("m_hat_sq")],
            notes: vec![],
        };
        let samplers = [("diff".to_string(), samples)];
        let figure = with_sampler_paths(Figure::single(theory.clone()), &samplers, 1.0);
        let panel = &figure.rows[0][0];
        assert_eq!(panel.items.len(), 2);
        let Item::Line { points, label, .. } = &panel.items[1] else { panic!("{:?}", panel.items[1]) };
        assert_eq!(points, &[(0.0, 0.0), (0.25, 0.3), (0.5, 0.6)]);
        assert_eq!(label.as_deref(), Some("diff: q = |x_hat|^2 / N"));
        // The sparse prior's branches are m / rho: so is q.
        let figure = with_sampler_paths(Figure::single(theory), &samplers, 0.5);
        let Item::Line { points, label, .. } = &figure.rows[0][0].items[1] else { panic!() };
        assert_eq!(points, &[(0.0, 0.0), (0.25, 0.6), (0.5, 1.2)]);
        assert_eq!(label.as_deref(), Some("diff: q = |x_hat|^2 / N / 0.5"));
    }

    #[test]
    fn histogram_steps_integrate_to_one() {
        let (edges, counts) = histogram([0.0, 0.1, 0.5, 0.9, 1.0].into_iter(), 4);
        assert_eq!(counts.iter().sum::<u64>(), 5);
        let s = steps(&edges, &counts);
        let area: f64 = s.chunks(2).map(|w| (w[1].0 - w[0].0) * w[0].1).sum();
        assert!((area - 1.0).abs() < 1e-12, "{area}");
    }

    #[test]
    fn verdicts_colour_and_annotate_the_points() {
        let rows = serde_json::json!([
            {"stage": "ref", "energy_excess": 0.0, "energy_stderr": 0.01},
            {"stage": "dif", "energy_excess": 0.05, "energy_stderr": 0.01, "verdict": "biased", "predicted": "fails"},
            {"stage": "ar", "energy_excess": 0.0, "energy_stderr": 0.01, "verdict": "consistent", "predicted": null},
        ]);
        let summary = serde_json::json!({"samplers": rows});
        let rows = fields::rows(&summary).unwrap();
        let panel = per_sampler("e", "e", &rows, |_| Some("energy_excess".into()));
        assert_eq!(panel.categories, ["ref", "dif", "ar"]);
        let texts: Vec<&str> = panel
            .items
            .iter()
            .filter_map(|i| if let Item::Text { text, .. } = i { Some(text.as_str()) } else { None })
            .collect();
        assert_eq!(texts, ["biased · SE: fails", "consistent · SE: -"]);
        let colours: Vec<Rgb> = panel
            .items
            .iter()
            .filter_map(|i| if let Item::Points { color, .. } = i { Some(*color) } else { None })
            .collect();
        assert_eq!(colours, [BLUE, RED, GREEN]);
    }
}
