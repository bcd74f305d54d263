//! Drawing: the header, the stage list, the detail / traces / histograms pane,
//! the key footer and the overlays. Draws from a borrowed `App`; never blocks.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Borders, Cell, Chart, Clear, Dataset, GraphType, Paragraph, Row, Table, Wrap};
use ratatui::Frame;

use super::app::{App, Pane};
use super::model::{decimate, Series, StageView, Status};

/// The one theme: colours help, but every state is also shown as text or a symbol.
struct Theme;

impl Theme {
    const SELECTED: Style = Style::new().add_modifier(Modifier::REVERSED);
    const DIM: Style = Style::new().fg(Color::DarkGray);
    const TITLE: Style = Style::new().add_modifier(Modifier::BOLD);
    const SERIES: [Color; 6] = [Color::Cyan, Color::Yellow, Color::Magenta, Color::Green, Color::Red, Color::Blue];

    fn status(status: Status) -> Style {
        match status {
            Status::Running => Style::new().fg(Color::Yellow),
            Status::Computed | Status::Cached => Style::new().fg(Color::Green),
            Status::Failed => Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            Status::Cancelled => Style::new().fg(Color::Magenta),
            Status::Queued => Style::new(),
        }
    }
}

pub fn draw(frame: &mut Frame, app: &App) {
    let [header, body, footer] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(0), Constraint::Length(1)]).areas(frame.area());
    frame.render_widget(Paragraph::new(header_line(app)), header);
    if app.zoom {
        draw_pane(frame, app, body);
    } else {
        let [list, pane] = Layout::horizontal([Constraint::Percentage(42), Constraint::Percentage(58)]).areas(body);
        draw_stage_list(frame, app, list);
        draw_pane(frame, app, pane);
    }
    frame.render_widget(Paragraph::new(footer_line(app)), footer);
    if app.help {
        draw_help(frame);
    } else if app.confirm_quit {
        draw_popup(frame, "Quit?", &["Stages are still running.", "Quit and cancel them?  y / n"]);
    }
}

fn header_line(app: &App) -> Line<'static> {
    let m = &app.model;
    let state = match &m.finished {
        Some(status) => format!("run {status}"),
        None if m.stages.is_empty() => "waiting for events".into(),
        None => format!("{} running", m.running()),
    };
    let elapsed = match (m.first_time, app.now()) {
        (Some(a), Some(b)) => format_secs(b - a),
        _ => "-".into(),
    };
    let run = m.run_id.clone().unwrap_or_else(|| app.source.clone());
    Line::from(vec![
        Span::styled(" quench ", Theme::TITLE),
        Span::raw(format!("{run} · {}/{} done · {state} · {elapsed}", m.done(), m.stages.len())),
    ])
}

fn footer_line(app: &App) -> Line<'static> {
    if let Some(message) = &app.message {
        return Line::from(Span::styled(format!(" {message}"), Theme::TITLE));
    }
    let control = if app.controls { " c cancel  r rerun " } else { "" };
    Line::from(Span::styled(
        format!(" ↑↓ move  Tab pane  Enter zoom  s series  f follow{control}  ? help  q quit"),
        Theme::DIM,
    ))
}

fn stage_state(s: &StageView, now: Option<f64>) -> String {
    match s.status {
        Status::Running => {
            let pct =
                s.progress.filter(|(_, t)| *t > 0).map(|(d, t)| format!("{:>3}% ", d * 100 / t)).unwrap_or_default();
            let elapsed = s.started.zip(now).map(|(a, b)| format_secs(b - a)).unwrap_or_default();
            format!("{pct}{elapsed}")
        }
        Status::Computed | Status::Cached => s.wall_ms.map(|ms| format_secs(ms as f64 / 1000.0)).unwrap_or_default(),
        other => other.label().to_string(),
    }
}

fn draw_stage_list(frame: &mut Frame, app: &App, area: Rect) {
    let now = app.now();
    let rows: Vec<Row> = app
        .model
        .stages
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let marker = if i == app.selected { "›" } else { " " };
            let name = format!("{}{}", "  ".repeat(s.depth.min(4)), short_name(&s.name));
            let row = Row::new(vec![
                Cell::from(format!("{marker}{}", s.status.symbol())).style(Theme::status(s.status)),
                Cell::from(name),
                Cell::from(stage_state(s, now)).style(Theme::status(s.status)),
            ]);
            if i == app.selected {
                row.style(Theme::SELECTED)
            } else {
                row
            }
        })
        .collect();
    let visible = area.height.saturating_sub(2) as usize;
    let skip = app.selected.saturating_sub(visible.saturating_sub(1));
    let table =
        Table::new(rows.into_iter().skip(skip), [Constraint::Length(2), Constraint::Fill(1), Constraint::Length(11)])
            .block(Block::default().borders(Borders::ALL).title(" Stages "));
    frame.render_widget(table, area);
}

/// `stage[stage.p=1,other.q=2]` shown as `stage[p=1,other.q=2]`: the stage's
/// own prefix is implied (the detail pane shows the full name).
pub fn short_name(name: &str) -> String {
    match name.split_once('[') {
        Some((base, rest)) => format!("{base}[{}", rest.replace(&format!("{base}."), "")),
        None => name.to_string(),
    }
}

fn pane_title(app: &App) -> Line<'static> {
    let mut spans = vec![Span::raw(" ")];
    for p in Pane::ALL {
        let text = if p == app.pane { format!("[{}]", p.title()) } else { p.title().to_string() };
        let style = if p == app.pane { Theme::TITLE } else { Theme::DIM };
        spans.push(Span::styled(text, style));
        spans.push(Span::raw(" "));
    }
    Line::from(spans)
}

fn draw_pane(frame: &mut Frame, app: &App, area: Rect) {
    let block = Block::default().borders(Borders::ALL).title(pane_title(app));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(stage) = app.model.stages.get(app.selected) else {
        frame.render_widget(Paragraph::new("no stages yet"), inner);
        return;
    };
    match app.pane {
        Pane::Detail => frame.render_widget(Paragraph::new(detail_lines(stage)).wrap(Wrap { trim: false }), inner),
        Pane::Traces => draw_traces(frame, stage, app.group, inner),
        Pane::Histograms => draw_histograms(frame, stage, inner),
    }
}

fn detail_lines(s: &StageView) -> Vec<Line<'static>> {
    let field = |k: &str, v: String| Line::from(vec![Span::styled(format!("{k:<9}"), Theme::DIM), Span::raw(v)]);
    let mut lines = vec![
        Line::from(Span::styled(s.name.clone(), Theme::TITLE)),
        field("kind", s.kind.clone()),
        field("key", s.key.chars().take(16).collect()),
        field("status", format!("{} {}", s.status.symbol(), s.status.label())),
    ];
    if let Some((done, total)) = s.progress.filter(|_| s.status == Status::Running) {
        lines.push(field("progress", progress_bar(done, total, 20)));
    }
    if let Some(ms) = s.wall_ms {
        lines.push(field("wall", format_secs(ms as f64 / 1000.0)));
    }
    if let Some(h) = &s.artifact_hash {
        lines.push(field("artifact", h.chars().take(16).collect()));
    }
    if !s.inputs.is_empty() {
        lines.push(field("inputs", s.inputs.join(", ")));
    }
    if !s.params.is_empty() {
        let params: Vec<String> = s.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        lines.push(field("params", params.join("  ")));
    }
    if let Some(e) = &s.error {
        lines.push(Line::from(Span::styled(format!("error    {e}"), Theme::status(Status::Failed))));
    }
    for (level, message) in s.logs.iter().rev().take(8).collect::<Vec<_>>().into_iter().rev() {
        lines.push(field("log", format!("{level}: {message}")));
    }
    lines
}

fn progress_bar(done: u64, total: u64, width: usize) -> String {
    let frac = if total == 0 { 0.0 } else { (done as f64 / total as f64).clamp(0.0, 1.0) };
    let filled = (frac * width as f64).round() as usize;
    format!("[{}{}] {done}/{total}", "#".repeat(filled), "-".repeat(width - filled))
}

fn bounds(series: &[&Series]) -> Option<([f64; 2], [f64; 2])> {
    let points = series.iter().flat_map(|s| s.points.iter()).filter(|p| p.0.is_finite() && p.1.is_finite());
    let (mut x, mut y) = ([f64::INFINITY, f64::NEG_INFINITY], [f64::INFINITY, f64::NEG_INFINITY]);
    for &(px, py) in points {
        x = [x[0].min(px), x[1].max(px)];
        y = [y[0].min(py), y[1].max(py)];
    }
    if !x[0].is_finite() {
        return None;
    }
    let pad = |b: [f64; 2]| if b[1] - b[0] < 1e-12 { [b[0] - 0.5, b[1] + 0.5] } else { b };
    let y = pad(y);
    let margin = (y[1] - y[0]) * 0.05;
    Some((pad(x), [y[0] - margin, y[1] + margin]))
}

fn axis_labels(b: [f64; 2]) -> Vec<Line<'static>> {
    [b[0], (b[0] + b[1]) / 2.0, b[1]].iter().map(|v| Line::from(format_num(*v))).collect()
}

fn draw_traces(frame: &mut Frame, stage: &StageView, group: usize, area: Rect) {
    let groups = stage.series_groups();
    if groups.is_empty() {
        frame.render_widget(Paragraph::new("no traces from this stage"), area);
        return;
    }
    let (name, members) = &groups[group % groups.len()];
    let Some((xb, yb)) = bounds(members) else {
        frame.render_widget(Paragraph::new("no finite points yet"), area);
        return;
    };
    let width = area.width.max(10) as usize;
    let data: Vec<Vec<(f64, f64)>> = members.iter().map(|s| decimate(&s.points, width)).collect();
    let datasets: Vec<Dataset> = members
        .iter()
        .zip(&data)
        .enumerate()
        .map(|(i, (s, points))| {
            let label = s.name.split_once('/').map_or(s.name.as_str(), |(_, n)| n).to_string();
            let kind = if points.len() == 1 { GraphType::Scatter } else { GraphType::Line };
            Dataset::default()
                .name(label)
                .marker(Marker::Braille)
                .graph_type(kind)
                .style(Style::new().fg(Theme::SERIES[i % Theme::SERIES.len()]))
                .data(points)
        })
        .collect();
    let title = format!("{name}  ({}/{}, s: next)", group % groups.len() + 1, groups.len());
    let chart = Chart::new(datasets)
        .hidden_legend_constraints((Constraint::Ratio(1, 1), Constraint::Ratio(1, 1)))
        .block(Block::default().title(Span::styled(title, Theme::TITLE)))
        .x_axis(Axis::default().bounds(xb).labels(axis_labels(xb)))
        .y_axis(Axis::default().bounds(yb).labels(axis_labels(yb)));
    frame.render_widget(chart, area);
}

fn draw_histograms(frame: &mut Frame, stage: &StageView, area: Rect) {
    if stage.histograms.is_empty() {
        frame.render_widget(Paragraph::new("no histograms from this stage"), area);
        return;
    }
    let n = stage.histograms.len().min(4);
    let cells = Layout::horizontal(vec![Constraint::Ratio(1, n as u32); n]).split(area);
    for (h, cell) in stage.histograms.iter().take(n).zip(cells.iter()) {
        let total: u64 = h.counts.iter().sum::<u64>().max(1);
        let points: Vec<(f64, f64)> = h
            .counts
            .iter()
            .enumerate()
            .map(|(i, &c)| ((h.edges[i] + h.edges[i + 1]) / 2.0, c as f64 / total as f64))
            .collect();
        let xb = [h.edges[0], *h.edges.last().unwrap_or(&1.0)];
        let ymax = points.iter().map(|p| p.1).fold(0.0, f64::max).max(1e-12);
        let chart = Chart::new(vec![Dataset::default()
            .graph_type(GraphType::Bar)
            .marker(Marker::Braille)
            .data(&points)])
        .block(Block::default().title(Span::styled(h.name.clone(), Theme::TITLE)))
        .x_axis(Axis::default().bounds(xb).labels(axis_labels(xb)))
        .y_axis(Axis::default().bounds([0.0, ymax * 1.05]).labels(vec![Line::from("0"), Line::from(format_num(ymax))]));
        frame.render_widget(chart, *cell);
    }
}

const HELP: &[&str] = &[
    "↑ ↓ / j k   move between stages (turns follow off)",
    "Tab / → ←   switch pane: detail, traces, histograms",
    "Enter       zoom the pane to the full screen",
    "s / S       next / previous trace group",
    "f           follow the running stage",
    "c           cancel the selected running stage",
    "r           re-run the selected stage (forced)",
    "q / Esc     quit (asks while stages run here)",
    "",
    "status: · queued  ▶ running  ✓ computed  = cached  ✗ failed  ⊘ cancelled",
    "any key closes this help",
];

fn draw_help(frame: &mut Frame) {
    draw_popup(frame, "Keys", HELP);
}

fn draw_popup(frame: &mut Frame, title: &str, lines: &[&str]) {
    let area = frame.area();
    let width = (lines.iter().map(|l| l.chars().count()).max().unwrap_or(10) as u16 + 4).min(area.width);
    let height = (lines.len() as u16 + 2).min(area.height);
    let popup = Rect::new(area.x + (area.width - width) / 2, area.y + (area.height - height) / 2, width, height);
    frame.render_widget(Clear, popup);
    let text: Vec<Line> = lines.iter().map(|l| Line::from(l.to_string())).collect();
    frame.render_widget(
        Paragraph::new(text).block(Block::default().borders(Borders::ALL).title(format!(" {title} "))),
        popup,
    );
}

pub fn format_secs(secs: f64) -> String {
    let secs = secs.max(0.0);
    if secs < 60.0 {
        format!("{secs:.1}s")
    } else if secs < 3600.0 {
        format!("{}m{:02}s", (secs / 60.0) as u64, secs as u64 % 60)
    } else {
        format!("{}h{:02}m", (secs / 3600.0) as u64, (secs as u64 / 60) % 60)
    }
}

fn format_num(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e5).contains(&a) {
        format!("{v:.2e}")
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}
