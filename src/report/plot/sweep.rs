//! A summary value across the copies of a swept stage: `--y` (any numeric
//! summary field, e.g. `excess`) against `--x` (a swept parameter, e.g. `T`),
//! one curve per sampler and per combination of the other swept values, with
//! the error field beside the value as error bars, and shaded x-bands (theory
//! windows such as [T_d, end point], or given with `--band LO:HI[:LABEL]`).

use std::fmt::Write as _;

use serde_json::Value;

use super::chart::{palette, Corner, ErrPoint, Figure, Item, Panel, Rgb, BLACK};
use super::fields::{self, error_of, num};
use crate::pipeline::ParamValue;

/// One copy of the swept stage: its swept values and its summary.
pub struct SweepPoint<'a> {
    pub swept: &'a [(String, ParamValue)],
    pub summary: &'a Value,
}

/// A shaded x-range of the figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    pub lo: f64,
    pub hi: f64,
    pub label: String,
}

impl std::str::FromStr for Band {
    type Err = String;

    /// `LO:HI` or `LO:HI:LABEL`.
    fn from_str(s: &str) -> Result<Band, String> {
        let mut parts = s.splitn(3, ':');
        let mut number = |what: &str| -> Result<f64, String> {
            let text = parts.next().unwrap_or("").trim();
            text.parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| {
                format!("--band {s}: {what} `{text}` is not a finite number; write LO:HI or LO:HI:LABEL")
            })
        };
        let (lo, hi) = (number("LO")?, number("HI")?);
        if lo >= hi {
            return Err(format!("--band {s}: LO ({lo}) must be below HI ({hi})"));
        }
        let label = parts.next().map_or_else(|| format!("[{lo}, {hi}]"), str::to_string);
        Ok(Band { lo, hi, label })
    }
}

/// What to draw: `y` and `x` as the user named them (`None`: defaults),
/// samplers to keep (empty: all), and bands.
#[derive(Debug, Clone, Default)]
pub struct SweepOptions {
    pub y: Option<String>,
    pub x: Option<String>,
    pub samplers: Vec<String>,
    pub bands: Vec<Band>,
}

/// The swept key `name` stands for: the key itself (`inst.temperature`), or
/// the one key whose parameter is `name` (`temperature`, `n`); `T` means temperature.
pub fn resolve_x(name: &str, keys: &[String]) -> Result<String, String> {
    if keys.iter().any(|k| k == name) {
        return Ok(name.to_string());
    }
    let param = if name == "T" { "temperature" } else { name };
    let matches: Vec<&String> = keys.iter().filter(|k| k.rsplit('.').next() == Some(param)).collect();
    match matches.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(format!("--x {name}: not a swept parameter here; swept: {}", keys.join(", "))),
        many => Err(format!(
            "--x {name}: several swept keys end in `{param}` ({}); name one",
            many.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        )),
    }
}

fn as_number(v: &ParamValue) -> Option<f64> {
    match v {
        ParamValue::Int(i) => Some(*i as f64),
        ParamValue::Float(f) => Some(*f),
        _ => None,
    }
}

/// The swept keys across the copies, in order of first appearance.
pub fn swept_keys(points: &[SweepPoint]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for p in points {
        for (k, _) in p.swept {
            if !keys.contains(k) {
                keys.push(k.clone());
            }
        }
    }
    keys
}

/// The x key used when none is named: a temperature if one is swept, else the
/// first numeric key with more than one value.
pub fn default_x(points: &[SweepPoint], keys: &[String]) -> Option<String> {
    let distinct = |k: &String| -> usize {
        let mut seen: Vec<String> = points
            .iter()
            .filter_map(|p| p.swept.iter().find(|(key, _)| key == k).map(|(_, v)| v.to_string()))
            .collect();
        seen.sort();
        seen.dedup();
        seen.len()
    };
    let numeric =
        |k: &&String| points.iter().any(|p| p.swept.iter().any(|(key, v)| key == *k && as_number(v).is_some()));
    keys.iter()
        .filter(numeric)
        .find(|k| k.ends_with(".temperature") && distinct(k) > 1)
        .or_else(|| keys.iter().filter(numeric).find(|k| distinct(k) > 1))
        .or_else(|| keys.iter().find(numeric))
        .cloned()
}

/// The rows of one summary: its per-sampler rows, or the summary itself as one unnamed row.
fn rows_of(summary: &Value) -> Vec<(String, &Value)> {
    fields::rows(summary).unwrap_or_else(|| vec![(String::new(), summary)])
}

/// The figure of `stage`'s copies. Errors (named options, what exists) when a
/// name does not resolve or nothing is left to draw.
pub fn figure(stage: &str, points: &[SweepPoint], opts: &SweepOptions) -> Result<Figure, String> {
    let keys = swept_keys(points);
    let x_key = match &opts.x {
        Some(x) => resolve_x(x, &keys)?,
        None => default_x(points, &keys)
            .ok_or_else(|| format!("`{stage}` has no numeric swept parameter to draw against; give --x"))?,
    };
    let mut fields_seen: Vec<String> = Vec::new();
    for p in points {
        for (_, row) in rows_of(p.summary) {
            for f in fields::numeric_fields(row) {
                if !fields_seen.contains(&f) {
                    fields_seen.push(f);
                }
            }
        }
    }
    let y_name = opts.y.clone().unwrap_or_else(|| "excess".into());
    let y_key = match fields::resolve(&y_name, &fields_seen) {
        Ok(Some(k)) => k,
        Ok(None) if opts.y.is_none() => fields_seen
            .first()
            .cloned()
            .ok_or_else(|| format!("`{stage}`: the summaries have no numeric field to draw"))?,
        Ok(None) => return Err(format!("--y {y_name}: no such summary value; values: {}", fields_seen.join(", "))),
        Err(many) => return Err(format!("--y {y_name}: ambiguous, name one of: {}", many.join(", "))),
    };
    let others: Vec<&String> = keys
        .iter()
        .filter(|k| **k != x_key)
        .filter(|k| {
            let mut v: Vec<String> = points
                .iter()
                .filter_map(|p| p.swept.iter().find(|(key, _)| key == *k).map(|(_, v)| v.to_string()))
                .collect();
            v.sort();
            v.dedup();
            v.len() > 1
        })
        .collect();
    // curve label -> points
    let mut curves: Vec<(String, Vec<ErrPoint>)> = Vec::new();
    for p in points {
        let Some(x) = p.swept.iter().find(|(k, _)| *k == x_key).and_then(|(_, v)| as_number(v)) else { continue };
        let mut rest = String::new();
        for k in &others {
            if let Some((_, v)) = p.swept.iter().find(|(key, _)| key == *k) {
                let _ =
                    write!(rest, "{}{}={v}", if rest.is_empty() { "" } else { " " }, k.rsplit('.').next().unwrap_or(k));
            }
        }
        for (name, row) in rows_of(p.summary) {
            if !opts.samplers.is_empty() && !opts.samplers.contains(&name) {
                continue;
            }
            let Some(y) = num(row, &y_key) else { continue };
            let label = match (name.is_empty(), rest.is_empty()) {
                (true, _) => rest.clone(),
                (false, true) => name.clone(),
                (false, false) => format!("{name} {rest}"),
            };
            let point = ErrPoint { x, y, err: error_of(row, &y_key) };
            match curves.iter_mut().find(|(l, _)| *l == label) {
                Some((_, pts)) => pts.push(point),
                None => curves.push((label, vec![point])),
            }
        }
    }
    if curves.is_empty() {
        let samplers = if opts.samplers.is_empty() {
            String::new()
        } else {
            format!(" for --sampler {}", opts.samplers.join(", "))
        };
        return Err(format!("`{stage}`: no copy has a value `{y_key}` against `{x_key}`{samplers}"));
    }
    let x_label = x_key.rsplit('.').next().unwrap_or(&x_key).to_string();
    let mut panel = Panel::new(format!("{y_key} against {x_label}"), x_label, y_key.clone());
    panel.legend = Corner::UpperRight;
    for (i, band) in opts.bands.iter().enumerate() {
        let color = [Rgb(255, 160, 60), Rgb(148, 103, 189), Rgb(23, 190, 207)][i % 3];
        panel.push(Item::Band { lo: band.lo, hi: band.hi, color, opacity: 0.15, label: Some(band.label.clone()) });
    }
    if y_key.contains("excess") || y_key.contains("diff") {
        panel.push(Item::HLine { y: 0.0, color: BLACK, label: None });
    }
    for (i, (label, mut pts)) in curves.into_iter().enumerate() {
        pts.sort_by(|a, b| a.x.total_cmp(&b.x));
        panel.push(Item::Points {
            points: pts,
            color: palette(i),
            joined: true,
            label: Some(label).filter(|l| !l.is_empty()),
        });
    }
    Ok(Figure { title: format!("`{stage}` across its sweep"), rows: vec![vec![panel]] })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn swept(t: f64, n: i64) -> Vec<(String, ParamValue)> {
        vec![("inst.n".into(), ParamValue::Int(n)), ("inst.temperature".into(), ParamValue::Float(t))]
    }

    #[test]
    fn one_curve_per_sampler_and_other_swept_value_sorted_by_x() {
        let sw: Vec<_> = [(0.8, 100), (0.7, 100), (0.7, 200), (0.8, 200)].iter().map(|&(t, n)| swept(t, n)).collect();
        let summaries: Vec<Value> = sw
            .iter()
            .map(|s| {
                let t = as_number(&s[1].1).unwrap();
                json!({"rows": [
                    {"stages": ["mcmc[x]"], "energy_excess_mean": t, "energy_excess_stderr": 0.01},
                    {"stages": ["dif[x]"], "energy_excess_mean": 2.0 * t, "energy_excess_stderr": 0.02},
                ]})
            })
            .collect();
        let points: Vec<SweepPoint> =
            sw.iter().zip(&summaries).map(|(s, v)| SweepPoint { swept: s, summary: v }).collect();
        let opts = SweepOptions {
            y: Some("excess".into()),
            x: Some("T".into()),
            bands: vec!["0.68:0.74:diffusion window".parse().unwrap()],
            ..Default::default()
        };
        let fig = figure("agg", &points, &opts).unwrap();
        let panel = &fig.rows[0][0];
        type Curve<'a> = (&'a str, Vec<(f64, f64, Option<f64>)>);
        let curves: Vec<Curve> = panel
            .items
            .iter()
            .filter_map(|i| match i {
                Item::Points { points, label, .. } => {
                    Some((label.as_deref().unwrap(), points.iter().map(|p| (p.x, p.y, p.err)).collect()))
                }
                _ => None,
            })
            .collect();
        assert_eq!(curves.len(), 4);
        assert_eq!(curves[0], ("mcmc n=100", vec![(0.7, 0.7, Some(0.01)), (0.8, 0.8, Some(0.01))]));
        assert_eq!(curves[1].0, "dif n=100");
        assert!(panel.items.iter().any(|i| matches!(i, Item::Band { label: Some(l), .. } if l == "diffusion window")));
        let only = SweepOptions { samplers: vec!["dif".into()], ..opts.clone() };
        let fig = figure("agg", &points, &only).unwrap();
        assert_eq!(fig.rows[0][0].items.iter().filter(|i| matches!(i, Item::Points { .. })).count(), 2);
    }

    #[test]
    fn unknown_names_are_errors_that_list_what_exists() {
        let s = swept(0.7, 100);
        let v = json!({"rows": [{"stages": ["a"], "energy_excess_mean": 0.1}]});
        let points = [SweepPoint { swept: &s, summary: &v }];
        let e = figure("agg", &points, &SweepOptions { y: Some("nope".into()), ..Default::default() }).unwrap_err();
        assert!(e.contains("energy_excess_mean"), "{e}");
        let e = figure("agg", &points, &SweepOptions { x: Some("delta".into()), ..Default::default() }).unwrap_err();
        assert!(e.contains("inst.temperature"), "{e}");
        assert!("1:0".parse::<Band>().is_err());
        assert!("a:1".parse::<Band>().unwrap_err().contains("LO"));
    }
}
