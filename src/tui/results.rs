//! The Results view: an `eval.*` stage's comparison, read from the summary
//! its `summary` event carried (never computed here): per sampler the energy
//! difference to the reference sampler (else the excess over the equilibrium
//! value) with its error, the overlap with x* against the theory's value,
//! R-hat, and the `verdict` beside the theory's `predicted` when the summary
//! has them. Laid out in
//! columns when the width allows, else two lines per sampler (wrapped by rows,
//! never inside a number).

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use serde_json::Value;

/// Width under which a sampler takes two lines.
const COLUMNS_MIN: usize = 62;

fn num(v: &Value, key: &str) -> Option<f64> {
    v.get(key).and_then(Value::as_f64).filter(|x| x.is_finite())
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// The rows of a comparison (`samplers`) or an aggregate (`rows`).
fn rows(summary: &Value) -> Option<&Vec<Value>> {
    summary.get("samplers").or_else(|| summary.get("rows")).and_then(Value::as_array)
}

/// True when the summary holds a results table this view can show.
pub fn has_results(summary: &Value) -> bool {
    rows(summary).is_some()
}

/// One sampler's figures, formatted.
struct Figures {
    name: String,
    excess: String,
    overlap: String,
    r_hat: String,
    verdict: String,
}

fn figures(row: &Value, theory: Option<f64>) -> Figures {
    let name = text(row, "stage")
        .or_else(|| row.get("stages").and_then(|s| s.get(0)).and_then(Value::as_str))
        .or_else(|| text(row, "sampler"))
        .unwrap_or("?");
    let vs_reference = num(row, "energy_diff").or_else(|| num(row, "energy_diff_mean"));
    let excess = vs_reference.or_else(|| num(row, "energy_excess")).or_else(|| num(row, "energy_excess_mean"));
    let error = if vs_reference.is_some() {
        num(row, "energy_diff_stderr")
    } else {
        num(row, "energy_stderr").or_else(|| num(row, "energy_excess_stderr"))
    };
    let excess = match (excess, error) {
        (Some(e), Some(s)) => format!("{e:+.4}±{s:.4}"),
        (Some(e), None) => format!("{e:+.4}"),
        _ => "-".into(),
    };
    let overlap = num(row, "overlap_planted_mean");
    let overlap = match (overlap, theory) {
        (Some(q), Some(t)) => format!("{q:.3}/{t:.3}"),
        (Some(q), None) => format!("{q:.3}"),
        _ => "-".into(),
    };
    let r_hat = num(row, "r_hat").map_or("-".into(), |r| format!("{r:.3}"));
    let verdict = match (text(row, "verdict"), text(row, "predicted")) {
        (Some(v), Some(p)) => format!("{v} (SE: {p})"),
        (Some(v), None) => v.to_string(),
        (None, Some(p)) if row.get("is_reference").and_then(Value::as_bool) == Some(true) => {
            format!("reference (SE: {p})")
        }
        (None, Some(p)) => format!("(SE: {p})"),
        _ if row.get("is_reference").and_then(Value::as_bool) == Some(true) => "reference".into(),
        _ => String::new(),
    };
    Figures {
        name: crate::tui::names::one_line(&crate::tui::names::labels(&[name])[0]),
        excess,
        overlap,
        r_hat,
        verdict,
    }
}

fn verdict_style(verdict: &str) -> Style {
    if verdict.starts_with("reference") || verdict.starts_with("(SE") {
        Style::new()
    } else if verdict.starts_with("consistent") {
        Style::new().fg(Color::Green)
    } else if verdict.starts_with("biased") {
        Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
    } else {
        Style::new().fg(Color::Yellow)
    }
}

/// The comparison as lines `width` columns wide.
pub fn lines(summary: &Value, width: usize) -> Vec<Line<'static>> {
    let dim = Style::new().fg(Color::DarkGray);
    let bold = Style::new().add_modifier(Modifier::BOLD);
    let Some(rows) = rows(summary) else { return vec![Line::from("no results in this stage's summary")] };
    let theory = num(summary, "bayes_overlap");
    let mut head = Vec::new();
    if let Some(model) = text(summary, "model") {
        head.push(model.to_string());
    }
    if let Some(n) = summary.get("n").and_then(Value::as_u64) {
        head.push(format!("n={n}"));
    }
    if let Some(i) = summary.get("instances").and_then(Value::as_u64) {
        head.push(format!("{i} instances"));
    }
    if let Some(t) = num(summary, "temperature") {
        head.push(format!("T={t:.3}"));
    }
    if let Some(e) = num(summary, "equilibrium_energy") {
        head.push(format!("e_eq={e:.4}"));
    }
    if let Some(r) = text(summary, "reference") {
        head.push(format!("ΔE vs {}", r.split('[').next().unwrap_or(r)));
    }
    head.push(theory.map_or("no theory overlap".into(), |q| format!("q_SE={q:.3}")));
    let mut out = vec![Line::from(Span::styled(fit_words(&head, width), bold))];
    let all: Vec<Figures> = rows.iter().map(|r| figures(r, theory)).collect();
    if width >= COLUMNS_MIN {
        let name_w = width.saturating_sub(16 + 12 + 6 + 4).clamp(8, 30);
        out.push(Line::from(Span::styled(
            format!("{:<name_w$} {:>16} {:>12} {:>6}  verdict", "sampler", "ΔE/spin ± err", "q·x* / SE", "R-hat"),
            dim,
        )));
        for f in &all {
            let mut spans = vec![Span::raw(format!(
                "{:<name_w$} {:>16} {:>12} {:>6}  ",
                clip(&f.name, name_w),
                f.excess,
                f.overlap,
                f.r_hat
            ))];
            spans.push(Span::styled(f.verdict.clone(), verdict_style(&f.verdict)));
            out.push(Line::from(spans));
        }
    } else {
        let legend = ["sampler:".to_string(), "ΔE/spin±err,".into(), "q·x*/SE,".into(), "R-hat".into()];
        for line in wrap_items(&legend, width, " ") {
            out.push(Line::from(Span::styled(line, dim)));
        }
        for f in &all {
            let mut first =
                vec![Span::styled(clip(&f.name, width.saturating_sub(f.verdict.chars().count() + 1)), bold)];
            if !f.verdict.is_empty() {
                first.push(Span::raw(" "));
                first.push(Span::styled(f.verdict.clone(), verdict_style(&f.verdict)));
            }
            out.push(Line::from(first));
            let items = [format!("ΔE {}", f.excess), format!("q {}", f.overlap), format!("R̂ {}", f.r_hat)];
            for line in wrap_items(&items, width.saturating_sub(2), "  ") {
                out.push(Line::from(format!("  {line}")));
            }
        }
    }
    out
}

/// Items joined by two spaces, dropping whole items from the end to fit.
fn fit_words(items: &[String], width: usize) -> String {
    let mut out = String::new();
    for item in items {
        let extra = if out.is_empty() { 0 } else { 2 } + item.chars().count();
        if out.chars().count() + extra > width {
            break;
        }
        if !out.is_empty() {
            out.push_str("  ");
        }
        out.push_str(item);
    }
    out
}

/// Items packed into lines of at most `width` (an item longer than a line is
/// clipped, never split across lines).
pub fn wrap_items(items: &[String], width: usize, sep: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for item in items {
        let item = clip(item, width.max(1));
        let need = current.chars().count() + if current.is_empty() { 0 } else { sep.len() } + item.chars().count();
        if !current.is_empty() && need > width {
            lines.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push_str(sep);
        }
        current.push_str(&item);
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

/// At most `width` characters, ending in `…` when cut.
pub fn clip(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}
