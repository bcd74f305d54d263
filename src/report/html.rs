//! The self-contained HTML report of a pipeline (`quench report`): the
//! pipeline text, every stage's status, parameters, summary, tables and
//! figure (inline SVG), and each swept result across its sweep. One file,
//! inline CSS, no script and no network access, well-formed as XML (void
//! elements closed, only the XML entities), written atomically. Stages not
//! computed are listed as missing with the reason the cache gives.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;
use serde_json::Value;

use super::export::{Column, Table};
use super::plot::{self, Figure};
use crate::stages::Artifact;

/// Tables with at most this many rows are shown in full; larger ones are named with their size.
const MAX_TABLE_ROWS: usize = 60;
const MAX_TABLE_COLUMNS: usize = 14;

const STYLE: &str = "body{font-family:DejaVu Sans,Helvetica,Arial,sans-serif;margin:2em auto;max-width:1320px;color:#222;padding:0 1em}\
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #ccc}\
pre{background:#f6f6f6;padding:.6em;overflow-x:auto;font-size:.85em}\
table{border-collapse:collapse;margin:.5em 0;font-size:.85em}\
td,th{border:1px solid #ccc;padding:.15em .5em;text-align:right}th{background:#eee}\
td.l,th.l{text-align:left}\
.cached,.computed,.consistent,.works{color:#1a7f1a}.missing,.stale{color:#b36200}\
.failed,.corrupt,.biased,.fails{color:#c00;font-weight:bold}.inconclusive{color:#b36200}\
details{margin:.4em 0 .8em 0}summary{cursor:pointer;font-weight:bold}\
svg{max-width:100%;height:auto}.muted{color:#777}";

/// Escapes text for HTML / XML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// What the report says about one stage besides its artifact.
pub struct StageInfo<'a> {
    pub name: &'a str,
    pub kind: &'a str,
    pub key: String,
    /// `cached`, `missing`, `stale`, ...
    pub status: &'a str,
    pub reasons: Vec<String>,
    pub inputs: Vec<&'a str>,
    pub params: Vec<(String, String)>,
    pub wall_ms: Option<u64>,
    pub log: &'a [String],
}

/// The page, built section by section (artifacts are dropped after their section).
pub struct Report {
    body: String,
    index: Vec<(String, String, String)>,
    figures: usize,
    failed_figures: Vec<String>,
}

fn anchor(name: &str) -> String {
    let mut a = String::from("s-");
    a.extend(name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }));
    a
}

/// An inline SVG of the figure, or a note saying why there is none.
fn inline_svg(figure: &Figure) -> Result<String> {
    let svg = plot::svg_string(figure)?;
    let start = svg.find("<svg").unwrap_or(0);
    Ok(svg[start..].to_string())
}

impl Report {
    pub fn new() -> Report {
        Report { body: String::new(), index: Vec::new(), figures: 0, failed_figures: Vec::new() }
    }

    /// Number of figures inlined so far.
    pub fn figures(&self) -> usize {
        self.figures
    }

    fn figure(&mut self, what: &str, figure: &Figure) {
        match inline_svg(figure) {
            Ok(svg) => {
                self.figures += 1;
                let _ = writeln!(self.body, "<div class=\"figure\">{svg}</div>");
            }
            Err(e) => {
                self.failed_figures.push(what.to_string());
                let _ = writeln!(self.body, "<p class=\"failed\">figure not drawn: {}</p>", escape(&format!("{e:#}")));
            }
        }
    }

    /// One stage: its status and metadata; with its artifact, the summary,
    /// the text report, small tables and the figure.
    pub fn stage(&mut self, info: &StageInfo, artifact: Option<&Artifact>, context: plot::Context) {
        self.index.push((info.name.to_string(), info.kind.to_string(), info.status.to_string()));
        let b = &mut self.body;
        let _ = writeln!(
            b,
            "<h2 id=\"{}\">{} <span class=\"muted\">{}</span> <span class=\"{}\">{}</span></h2>",
            anchor(info.name),
            escape(info.name),
            escape(info.kind),
            escape(info.status),
            escape(info.status)
        );
        let inputs = if info.inputs.is_empty() { "(none)".to_string() } else { info.inputs.join(", ") };
        let _ = write!(b, "<p>key <code>{}</code> · inputs {}", escape(&info.key), escape(&inputs));
        if let Some(ms) = info.wall_ms {
            let _ = write!(b, " · computed in {:.1} s", ms as f64 / 1000.0);
        }
        b.push_str("</p>\n");
        for r in &info.reasons {
            let _ = writeln!(b, "<p class=\"muted\">{}</p>", escape(r));
        }
        if !info.params.is_empty() {
            b.push_str("<details><summary>parameters</summary><table>");
            for (k, v) in &info.params {
                let _ = write!(b, "<tr><th class=\"l\">{}</th><td class=\"l\">{}</td></tr>", escape(k), escape(v));
            }
            b.push_str("</table></details>\n");
        }
        let Some(artifact) = artifact else {
            let _ = writeln!(b, "<p class=\"missing\">not computed: no artifact in the cache.</p>");
            return;
        };
        if !info.log.is_empty() {
            let _ = write!(b, "<details><summary>log ({} lines)</summary><pre>", info.log.len());
            for line in info.log {
                b.push_str(&escape(line));
                b.push('\n');
            }
            b.push_str("</pre></details>\n");
        }
        summary_html(b, &artifact.summary());
        if let Some(text) = artifact.report() {
            let _ = writeln!(b, "<pre>{}</pre>", escape(&text));
        }
        tables_html(b, &artifact.tables());
        let fig = plot::figure(artifact, context);
        self.figure(info.name, &fig);
    }

    /// A value across the copies of a swept stage.
    pub fn sweep(&mut self, base: &str, figure: Result<Figure, String>) {
        let _ = writeln!(self.body, "<h2 id=\"sweep-{}\">{} across its sweep</h2>", &anchor(base)[2..], escape(base));
        match figure {
            Ok(f) => self.figure(base, &f),
            Err(why) => {
                let _ = writeln!(self.body, "<p class=\"muted\">{}</p>", escape(&why));
            }
        }
    }

    /// The whole page.
    pub fn finish(&self, name: &str, path: &str, text: &str, generated: &str) -> String {
        let mut out = String::with_capacity(self.body.len() + text.len() + 4096);
        out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n");
        let _ =
            writeln!(out, "<title>quench report: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>", escape(name));
        let _ = writeln!(
            out,
            "<h1>quench report: {}</h1>\n<p class=\"muted\">{} · {}</p>",
            escape(name),
            escape(path),
            escape(generated)
        );
        let missing = self.index.iter().filter(|(_, _, s)| s != "cached").count();
        let _ = writeln!(
            out,
            "<p>{} stages, {} computed, {} not computed; {} figures.</p>\n<table><tr><th class=\"l\">stage</th><th class=\"l\">kind</th><th class=\"l\">status</th></tr>",
            self.index.len(),
            self.index.len() - missing,
            missing,
            self.figures
        );
        for (stage, kind, status) in &self.index {
            let _ = writeln!(
                out,
                "<tr><td class=\"l\"><a href=\"#{}\">{}</a></td><td class=\"l\">{}</td><td class=\"l {}\">{}</td></tr>",
                anchor(stage),
                escape(stage),
                escape(kind),
                escape(status),
                escape(status)
            );
        }
        out.push_str("</table>\n");
        let _ = writeln!(out, "<details><summary>pipeline file</summary><pre>{}</pre></details>", escape(text));
        out.push_str(&self.body);
        out.push_str("</body>\n</html>\n");
        out
    }
}

impl Default for Report {
    fn default() -> Report {
        Report::new()
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() => format!("{f:.6}").trim_end_matches('0').trim_end_matches('.').to_string(),
            _ => n.to_string(),
        },
        Value::Array(a) if a.iter().all(Value::is_number) && a.len() > 8 => format!("[{} numbers]", a.len()),
        other => other.to_string(),
    }
}

/// A cell, with a class for verdict words so they are coloured.
fn cell(v: &Value) -> String {
    let text = scalar(v);
    let class = match v {
        Value::String(s) if ["consistent", "biased", "inconclusive", "works", "fails"].contains(&s.as_str()) => {
            s.as_str()
        }
        Value::String(_) => "l",
        _ => "",
    };
    format!("<td class=\"{class}\">{}</td>", escape(&text))
}

/// The summary: scalars as a two-column table, arrays of objects (per-sampler rows) as tables.
fn summary_html(b: &mut String, summary: &Value) {
    let Some(map) = summary.as_object() else {
        let _ = writeln!(b, "<pre>{}</pre>", escape(&summary.to_string()));
        return;
    };
    let rows = plot::fields::rows(summary);
    b.push_str("<table>");
    for (k, v) in map {
        if rows.is_some() && (k == "samplers" || k == "rows") {
            continue;
        }
        let _ = write!(b, "<tr><th class=\"l\">{}</th>{}</tr>", escape(k), cell(v));
    }
    b.push_str("</table>\n");
    if let Some(rows) = rows {
        let mut columns: Vec<String> = Vec::new();
        for (_, row) in &rows {
            for k in row.as_object().map(|m| m.keys().cloned().collect::<Vec<_>>()).unwrap_or_default() {
                if !columns.contains(&k) {
                    columns.push(k);
                }
            }
        }
        b.push_str("<table><tr><th class=\"l\">sampler</th>");
        for c in &columns {
            let _ = write!(b, "<th>{}</th>", escape(c));
        }
        b.push_str("</tr>\n");
        for (name, row) in &rows {
            let _ = write!(b, "<tr><td class=\"l\">{}</td>", escape(name));
            for c in &columns {
                b.push_str(&cell(row.get(c).unwrap_or(&Value::Null)));
            }
            b.push_str("</tr>\n");
        }
        b.push_str("</table>\n");
    }
}

fn tables_html(b: &mut String, tables: &[Table]) {
    for t in tables {
        let rows = t.columns.first().map_or(0, |(_, c)| c.len());
        if rows > MAX_TABLE_ROWS || t.columns.len() > MAX_TABLE_COLUMNS {
            let _ = writeln!(
                b,
                "<p class=\"muted\">table <code>{}</code>: {rows} rows × {} columns (<code>quench export</code> writes it)</p>",
                escape(&t.name),
                t.columns.len()
            );
            continue;
        }
        let _ = write!(b, "<details><summary>table {} ({rows} rows)</summary><table><tr>", escape(&t.name));
        for (name, _) in &t.columns {
            let _ = write!(b, "<th>{}</th>", escape(name));
        }
        b.push_str("</tr>\n");
        for r in 0..rows {
            b.push_str("<tr>");
            for (_, c) in &t.columns {
                let text = match c {
                    Column::Int(v) => v[r].to_string(),
                    Column::Float(v) if v[r].is_finite() => format!("{:.6}", v[r]),
                    Column::Float(_) => "-".into(),
                    Column::Text(v) => v[r].clone(),
                };
                let _ = write!(b, "<td>{}</td>", escape(&text));
            }
            b.push_str("</tr>\n");
        }
        b.push_str("</table></details>\n");
    }
}

/// Writes the page atomically.
pub fn write(page: &str, out: &Path) -> Result<()> {
    super::atomic::write_file(out, |tmp| Ok(std::fs::write(tmp, page)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_leaves_no_markup() {
        assert_eq!(escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
        assert_eq!(escape("x\u{1}y"), "x y");
    }

    #[test]
    fn a_missing_stage_is_listed_as_missing() {
        let mut r = Report::new();
        let info = StageInfo {
            name: "cmp[inst.temperature=0.7]",
            kind: "eval.compare",
            key: "abc".into(),
            status: "missing",
            reasons: vec!["not in the cache".into()],
            inputs: vec!["inst"],
            params: vec![],
            wall_ms: None,
            log: &[],
        };
        r.stage(&info, None, plot::Context::default());
        let page = r.finish("p", "p.toml", "[pipeline]\nname = \"p\" # <&>", "now");
        assert!(page.contains("not computed"));
        assert!(page.contains("cmp[inst.temperature=0.7]"));
        assert!(page.contains("# &lt;&amp;&gt;"));
        assert!(page.contains("1 stages, 0 computed, 1 not computed"));
    }
}
