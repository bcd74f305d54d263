//! Drawing: the header, the stage list (swept copies grouped under their
//! stage), the detail / traces / histograms / results pane, the key footer and
//! the overlays. Header and footer drop their least important items to fit,
//! never cutting a word. Draws from a borrowed `App`; never blocks.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row, Table, Wrap};
use ratatui::Frame;

use super::app::{App, Pane};
use super::charts::{draw_histograms, draw_traces, Mark};
use super::model::{StageView, Status};
use super::names::{grouped, labels, one_line, Label};
use super::results::{self, clip};

/// The one theme: colours help, but every state is also shown as text or a symbol.
pub(super) struct Theme;

impl Theme {
    pub(super) const SELECTED: Style = Style::new().add_modifier(Modifier::REVERSED);
    pub(super) const DIM: Style = Style::new().fg(Color::DarkGray);
    pub(super) const TITLE: Style = Style::new().add_modifier(Modifier::BOLD);
    pub(super) const SERIES: [Color; 6] =
        [Color::Cyan, Color::Yellow, Color::Magenta, Color::Green, Color::Red, Color::Blue];

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

/// Width of the state column of the stage list (`100% 59m59s`).
const STATE_W: usize = 11;

pub fn draw(frame: &mut Frame, app: &App) {
    let [header, body, footer] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(0), Constraint::Length(1)]).areas(frame.area());
    frame.render_widget(Paragraph::new(header_line(app, header.width as usize)), header);
    if app.zoom {
        draw_pane(frame, app, body);
    } else {
        let rows = list_rows(app);
        let content = rows.iter().map(|r| r.text.chars().count()).max().unwrap_or(10) + 2 + STATE_W + 4;
        let width = (content as u16).clamp(22.min(body.width), (body.width * 9 / 20).max(22.min(body.width)));
        let [list, pane] = Layout::horizontal([Constraint::Length(width), Constraint::Min(0)]).areas(body);
        draw_stage_list(frame, app, &rows, list);
        draw_pane(frame, app, pane);
    }
    frame.render_widget(Paragraph::new(footer_line(app, footer.width as usize)), footer);
    if app.help {
        draw_help(frame);
    } else if app.confirm_quit {
        draw_popup(
            frame,
            "Quit?",
            &["Stages are still running.", "Quit and cancel them?  y / n", "(Ctrl-C again: quit now)"],
        );
    }
}

/// Picks items by priority (lower first) until `width` is used, and shows
/// them in their given order; an item is never cut.
fn fit(items: &[(u8, Span<'static>)], width: usize, sep: &str) -> Line<'static> {
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by_key(|&i| items[i].0);
    let mut keep = vec![false; items.len()];
    let mut used = 0;
    for i in order {
        let w = items[i].1.content.chars().count() + if used == 0 { 0 } else { sep.len() };
        if used + w <= width {
            keep[i] = true;
            used += w;
        }
    }
    let mut spans = Vec::new();
    for (i, (_, span)) in items.iter().enumerate().filter(|(i, _)| keep[*i]) {
        if !spans.is_empty() && i > 0 {
            spans.push(Span::raw(sep.to_string()));
        }
        spans.push(span.clone());
    }
    Line::from(spans)
}

fn header_line(app: &App, width: usize) -> Line<'static> {
    let m = &app.model;
    let dead = app.dead_for();
    let state = match (&m.finished, dead) {
        (Some(status), _) => Span::styled(format!("run {status}"), Theme::TITLE),
        (None, Some(silent)) => {
            Span::styled(format!("DEAD: no heartbeat for {}", format_secs(silent)), Theme::status(Status::Failed))
        }
        (None, None) if m.stages.is_empty() => Span::raw("waiting for events"),
        (None, None) => Span::raw(format!("{} running", m.running())),
    };
    let elapsed = match (m.first_time, app.now()) {
        (Some(a), Some(b)) => format_secs(b - a),
        _ => "-".into(),
    };
    let mut counts = format!("{}/{} done", m.count(Status::Computed) + m.count(Status::Cached), m.stages.len());
    for (status, word) in [(Status::Failed, "failed"), (Status::Cancelled, "cancelled")] {
        let k = m.count(status);
        if k > 0 {
            counts += &format!(", {k} {word}");
        }
    }
    let run = m.run_id.clone().unwrap_or_else(|| app.source.clone());
    let items = [
        (4, Span::styled(" quench".to_string(), Theme::TITLE)),
        (3, Span::raw(run)),
        (2, Span::raw(counts)),
        (0, state),
        (1, Span::raw(elapsed)),
    ];
    fit(&items, width, " · ")
}

fn footer_line(app: &App, width: usize) -> Line<'static> {
    if let Some(message) = &app.message {
        return Line::from(Span::styled(format!(" {}", clip(message, width.saturating_sub(1))), Theme::TITLE));
    }
    let mut items: Vec<(u8, &str)> = vec![(3, "↑↓ move"), (2, "Tab pane"), (5, "Enter zoom")];
    match app.pane {
        Pane::Traces => items.push((4, "s series  x axis")),
        Pane::Histograms => items.push((4, "n/p page")),
        _ => {}
    }
    items.push((8, "f follow"));
    if app.controls {
        items.extend([(6, "c cancel"), (7, "r rerun")]);
    }
    items.extend([(1, "? help"), (0, "q quit")]);
    let spans: Vec<(u8, Span<'static>)> =
        items.into_iter().map(|(p, t)| (p, Span::styled(t.to_string(), Theme::DIM))).collect();
    let mut line = fit(&spans, width.saturating_sub(1), "  ");
    line.spans.insert(0, Span::raw(" "));
    line
}

fn stage_state(s: &StageView, now: Option<f64>, dead: bool) -> String {
    match s.status {
        Status::Running if dead => "stalled".into(),
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

/// One row of the stage list: a stage, or the heading of a swept stage's copies.
struct ListRow {
    stage: Option<usize>,
    text: String,
}

/// Stages in list order; the copies of a swept stage under one heading, each
/// shown by what differs (`· T=0.71`).
fn list_rows(app: &App) -> Vec<ListRow> {
    let names: Vec<&str> = app.model.stages.iter().map(|s| s.name.as_str()).collect();
    let labels: Vec<Label> = labels(&names);
    let copies = |base: &str| labels.iter().filter(|l| l.base == base && !l.differs.is_empty()).count();
    let mut rows = Vec::new();
    for (heading, i) in grouped(&labels) {
        let indent = "  ".repeat(app.model.stages[i].depth.min(3));
        if let Some(base) = heading {
            rows.push(ListRow { stage: None, text: format!("{indent}{base}") });
        }
        let label = &labels[i];
        let text = if !label.differs.is_empty() && copies(&label.base) > 1 {
            format!("{indent}· {}", label.differs)
        } else {
            format!("{indent}{}", one_line(label))
        };
        rows.push(ListRow { stage: Some(i), text });
    }
    rows
}

fn draw_stage_list(frame: &mut Frame, app: &App, rows: &[ListRow], area: Rect) {
    let now = app.now();
    let dead = app.dead_for().is_some();
    let name_w = (area.width as usize).saturating_sub(2 + 2 + STATE_W + 2);
    let table_rows: Vec<Row> = rows
        .iter()
        .map(|r| match r.stage.and_then(|i| app.model.stages.get(i).map(|s| (i, s))) {
            Some((i, s)) => {
                let marker = if i == app.selected { "›" } else { " " };
                let row = Row::new(vec![
                    Cell::from(format!("{marker}{}", s.status.symbol())).style(Theme::status(s.status)),
                    Cell::from(clip(&r.text, name_w)),
                    Cell::from(stage_state(s, now, dead)).style(Theme::status(s.status)),
                ]);
                if i == app.selected {
                    row.style(Theme::SELECTED)
                } else {
                    row
                }
            }
            None => Row::new(vec![Cell::from(""), Cell::from(Span::styled(clip(&r.text, name_w), Theme::DIM))]),
        })
        .collect();
    let selected_row = rows.iter().position(|r| r.stage == Some(app.selected)).unwrap_or(0);
    let visible = area.height.saturating_sub(2) as usize;
    let skip = selected_row.saturating_sub(visible.saturating_sub(1));
    let table = Table::new(
        table_rows.into_iter().skip(skip),
        [Constraint::Length(2), Constraint::Fill(1), Constraint::Length(STATE_W as u16)],
    )
    .block(Block::default().borders(Borders::ALL).title(" Stages "));
    frame.render_widget(table, area);
}

fn pane_title(app: &App, width: usize) -> Line<'static> {
    let mut spans = vec![Span::raw(" ")];
    // Narrow panes show the other panes by their first letter.
    let full: usize = Pane::ALL.iter().map(|p| p.title().len() + 3).sum();
    for p in Pane::ALL {
        let name = if p == app.pane || full + 2 <= width { p.title().to_string() } else { p.title()[..1].to_string() };
        let text = if p == app.pane { format!("[{name}]") } else { name };
        let style = if p == app.pane { Theme::TITLE } else { Theme::DIM };
        spans.push(Span::styled(text, style));
        spans.push(Span::raw(" "));
    }
    Line::from(spans)
}

fn draw_pane(frame: &mut Frame, app: &App, area: Rect) {
    let block = Block::default().borders(Borders::ALL).title(pane_title(app, area.width as usize));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if app.pane == Pane::Results {
        draw_results(frame, app, inner);
        return;
    }
    let Some(stage) = app.model.stages.get(app.selected) else {
        frame.render_widget(Paragraph::new("no stages yet"), inner);
        return;
    };
    match app.pane {
        Pane::Detail => frame
            .render_widget(Paragraph::new(detail_lines(stage, inner.width as usize)).wrap(Wrap { trim: false }), inner),
        Pane::Traces => draw_traces(frame, stage, app.group, app.xscale, &running_marks(app), inner),
        Pane::Histograms => draw_histograms(frame, stage, app.hist_page, inner),
        Pane::Results => {}
    }
}

/// Running samplers and the temperature of the instance they sample (from
/// their first input's parameters), to mark on a phase diagram.
fn running_marks(app: &App) -> Vec<Mark> {
    let names: Vec<&str> = app.model.stages.iter().map(|s| s.name.as_str()).collect();
    let labels = labels(&names);
    app.model
        .stages
        .iter()
        .zip(&labels)
        .filter(|(s, _)| s.status == Status::Running && s.kind.starts_with("sample."))
        .filter_map(|(s, label)| {
            let input = app.model.stage(s.inputs.first()?)?;
            let temperature = input.params.iter().find(|(k, _)| k == "temperature")?.1.parse().ok()?;
            Some(Mark { label: one_line(label), temperature })
        })
        .collect()
}

/// The selected stage's results when it has some, else every finished
/// evaluation's, as soon as each finishes.
fn draw_results(frame: &mut Frame, app: &App, area: Rect) {
    let width = area.width as usize;
    let with_results = |s: &&StageView| s.summary.as_ref().is_some_and(results::has_results);
    let selected = app.model.stages.get(app.selected).filter(with_results);
    let stages: Vec<&StageView> = match selected {
        Some(s) => vec![s],
        None => app.model.stages.iter().filter(with_results).collect(),
    };
    if stages.is_empty() {
        let evals = app.model.stages.iter().filter(|s| s.kind.starts_with("eval.")).count();
        let text = if evals == 0 {
            "no evaluation stage in this run".to_string()
        } else {
            format!("no results yet: {evals} evaluation stage(s) wait for their samplers")
        };
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
        return;
    }
    let mut lines = Vec::new();
    for s in stages {
        let label = super::names::one_line(&labels(&[s.name.as_str()])[0]);
        lines.push(Line::from(Span::styled(clip(&label, width), Theme::TITLE.add_modifier(Modifier::UNDERLINED))));
        lines.extend(results::lines(s.summary.as_ref().expect("filtered on summaries"), width));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

fn detail_lines(s: &StageView, width: usize) -> Vec<Line<'static>> {
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
    if let Some(summary) = s.summary.as_ref().filter(|v| results::has_results(v)) {
        lines.push(Line::from(""));
        lines.extend(results::lines(summary, width));
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

const HELP: &[&str] = &[
    "↑↓ / j k   move between stages (follow off)",
    "Tab / ← →  pane: detail traces histograms results",
    "Enter      zoom the pane to the full screen",
    "s / S      next / previous trace group",
    "x          x axis: auto, log, linear",
    "n / p      next / previous histogram page",
    "f          follow the running stage",
    "c / r      cancel / re-run the selected stage",
    "q / Esc    quit (asks while stages run here)",
    "",
    "· queued   ▶ running   ✓ computed",
    "= cached   ✗ failed    ⊘ cancelled",
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

pub(super) fn format_num(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e5).contains(&a) {
        format!("{v:.2e}")
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}
