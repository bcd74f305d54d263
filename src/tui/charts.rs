//! Charts: a stage's trace groups (legend above the plot, never on the data;
//! duplicate series dropped; a log x axis when the structure sits at small x,
//! as on diffusion and flow paths), the phase diagram as a canvas, and paged
//! histograms with their own titles and ticks.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::canvas::{Canvas, Line as Segment, Points};
use ratatui::widgets::{Axis, Chart, Dataset, GraphType, Paragraph};
use ratatui::Frame;

use super::app::XScale;
use super::model::{decimate, Series, StageView};
use super::results::clip;
use super::view::{format_num, Theme};

/// Narrowest histogram cell; more room shows more histograms per page.
const HIST_CELL_W: u16 = 28;
const HIST_CELL_H: u16 = 9;

/// Series of a group, without exact duplicates (same points under another name).
fn distinct<'a>(members: &[&'a Series]) -> Vec<&'a Series> {
    let mut out: Vec<&Series> = Vec::new();
    for s in members {
        if !out.iter().any(|o| o.points == s.points) {
            out.push(s);
        }
    }
    out
}

/// Whether most points sit in the first percent of a positive x range.
fn crowded_at_small_x(series: &[&Series]) -> bool {
    let xs: Vec<f64> = series.iter().flat_map(|s| s.points.iter().map(|p| p.0)).filter(|x| x.is_finite()).collect();
    let (lo, hi) = xs.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
    if xs.len() < 10 || lo < 0.0 || hi <= 0.0 {
        return false;
    }
    let cut = lo + (hi - lo) / 100.0;
    xs.iter().filter(|&&x| x <= cut).count() * 2 > xs.len()
}

fn bounds(points: &[Vec<(f64, f64)>]) -> Option<([f64; 2], [f64; 2])> {
    let all = points.iter().flatten().filter(|p| p.0.is_finite() && p.1.is_finite());
    let (mut x, mut y) = ([f64::INFINITY, f64::NEG_INFINITY], [f64::INFINITY, f64::NEG_INFINITY]);
    for &(px, py) in all {
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

/// Tick labels: the ends, and the middle when there is room for it.
fn ticks(b: [f64; 2], width: u16, log: bool) -> Vec<Line<'static>> {
    let show = |v: f64| format_num(if log { 10f64.powf(v) } else { v });
    if width < 24 {
        vec![Line::from(show(b[0])), Line::from(show(b[1]))]
    } else {
        vec![Line::from(show(b[0])), Line::from(show((b[0] + b[1]) / 2.0)), Line::from(show(b[1]))]
    }
}

/// The legend: one coloured item per series, packed into lines of `width`
/// (items never split).
fn legend(names: &[String], width: u16) -> Vec<Line<'static>> {
    let mut lines = vec![Vec::new()];
    let mut used = 0;
    for (i, name) in names.iter().enumerate() {
        let name = clip(name, (width as usize).saturating_sub(3).max(1));
        let w = name.chars().count() + 4;
        if used > 0 && used + w > width as usize {
            lines.push(Vec::new());
            used = 0;
        }
        used += w;
        let line = lines.last_mut().expect("one line at least");
        line.push(Span::styled("━ ", Style::new().fg(Theme::SERIES[i % Theme::SERIES.len()])));
        line.push(Span::raw(format!("{name}  ")));
    }
    lines.into_iter().take(3).map(Line::from).collect()
}

/// A running sampler's temperature, marked on the phase diagram.
pub struct Mark {
    pub label: String,
    pub temperature: f64,
}

pub fn draw_traces(frame: &mut Frame, stage: &StageView, group: usize, xscale: XScale, marks: &[Mark], area: Rect) {
    let groups = stage.series_groups();
    if groups.is_empty() {
        frame.render_widget(Paragraph::new("no traces from this stage"), area);
        return;
    }
    let (name, members) = &groups[group % groups.len()];
    let members = distinct(members);
    let log = match xscale {
        XScale::Log => true,
        XScale::Linear => false,
        XScale::Auto => crowded_at_small_x(&members),
    };
    let labels: Vec<String> =
        members.iter().map(|s| s.name.split_once('/').map_or(s.name.as_str(), |(_, n)| n).to_string()).collect();
    let title =
        format!("{name}{}  {}/{} s:next", if log { " (log x)" } else { "" }, group % groups.len() + 1, groups.len());
    let mut head_lines = vec![Line::from(Span::styled(clip(&title, area.width as usize), Theme::TITLE))];
    head_lines.extend(legend(&labels, area.width));
    let [head, plot] = Layout::vertical([Constraint::Length(head_lines.len() as u16), Constraint::Min(0)]).areas(area);
    frame.render_widget(Paragraph::new(head_lines), head);
    if *name == "diagram" {
        draw_diagram(frame, &members, marks, plot);
        return;
    }
    let width = plot.width.max(10) as usize;
    let data: Vec<Vec<(f64, f64)>> = members
        .iter()
        .map(|s| {
            let points = decimate(&s.points, width);
            if log {
                let floor = s.points.iter().map(|p| p.0).filter(|x| *x > 0.0).fold(f64::INFINITY, f64::min);
                points.iter().map(|&(x, y)| (x.max(floor).log10(), y)).filter(|p| p.0.is_finite()).collect()
            } else {
                points
            }
        })
        .collect();
    let Some((xb, yb)) = bounds(&data) else {
        frame.render_widget(Paragraph::new("no finite points yet"), plot);
        return;
    };
    let datasets: Vec<Dataset> = data
        .iter()
        .enumerate()
        .map(|(i, points)| {
            let kind = if points.len() == 1 { GraphType::Scatter } else { GraphType::Line };
            Dataset::default()
                .marker(Marker::Braille)
                .graph_type(kind)
                .style(Style::new().fg(Theme::SERIES[i % Theme::SERIES.len()]))
                .data(points)
        })
        .collect();
    let chart = Chart::new(datasets)
        .x_axis(Axis::default().bounds(xb).labels(ticks(xb, plot.width, log)))
        .y_axis(Axis::default().bounds(yb).labels(ticks(yb, plot.height * 3, false)));
    frame.render_widget(chart, plot);
}

/// The phase diagram (x = temperature, y = path time): spinodals and the
/// first-order line as curves, the end point and the static temperatures as points.
/// Running samplers on the diagram's temperature range appear as dotted
/// vertical lines at their temperature, labelled at the top.
fn draw_diagram(frame: &mut Frame, members: &[&Series], marks: &[Mark], area: Rect) {
    let data: Vec<Vec<(f64, f64)>> = members.iter().map(|s| s.points.clone()).collect();
    let Some((xb, yb)) = bounds(&data) else {
        frame.render_widget(Paragraph::new("no finite points yet"), area);
        return;
    };
    let marks: Vec<&Mark> = marks.iter().filter(|m| (xb[0]..=xb[1]).contains(&m.temperature)).collect();
    let canvas = Canvas::default().marker(Marker::Braille).x_bounds(xb).y_bounds(yb).paint(|ctx| {
        for (i, points) in data.iter().enumerate() {
            let color = Theme::SERIES[i % Theme::SERIES.len()];
            if points.len() == 1 {
                ctx.draw(&Points { coords: points, color });
            }
            for w in points.windows(2) {
                ctx.draw(&Segment { x1: w[0].0, y1: w[0].1, x2: w[1].0, y2: w[1].1, color });
            }
        }
        for mark in &marks {
            let dots: Vec<(f64, f64)> =
                (0..=40).map(|k| (mark.temperature, yb[0] + (yb[1] - yb[0]) * k as f64 / 40.0)).collect();
            ctx.draw(&Points { coords: &dots, color: Color::White });
        }
        ctx.layer();
        for (k, mark) in marks.iter().enumerate() {
            let y = yb[1] - (yb[1] - yb[0]) * (k + 1) as f64 / (area.height.max(1) as f64);
            ctx.print(mark.temperature, y, Span::raw(format!("▸{}", mark.label)));
        }
        ctx.print(xb[0], yb[1], Span::styled(format!("t={}", format_num(yb[1])), Theme::DIM));
        ctx.print(xb[0], yb[0], Span::styled(format!("T={}", format_num(xb[0])), Theme::DIM));
        let right = format!("T={}", format_num(xb[1]));
        let shift = (xb[1] - xb[0]) * (right.chars().count() as f64 / area.width.max(1) as f64);
        ctx.print(xb[1] - shift, yb[0], Span::styled(right, Theme::DIM));
    });
    frame.render_widget(canvas, area);
}

/// Histograms in pages: as many per page as fit (at most 4), `n`/`p` to page.
pub fn draw_histograms(frame: &mut Frame, stage: &StageView, page: usize, area: Rect) {
    let n = stage.histograms.len();
    if n == 0 {
        frame.render_widget(Paragraph::new("no histograms from this stage"), area);
        return;
    }
    let per_row = (area.width / HIST_CELL_W).max(1) as usize;
    let rows = (area.height.saturating_sub(1) / HIST_CELL_H).max(1) as usize;
    let per_page = (per_row * rows).clamp(1, 4).min(n);
    let pages = n.div_ceil(per_page);
    let page = page % pages;
    let first = page * per_page;
    let shown = &stage.histograms[first..(first + per_page).min(n)];
    let body = if pages > 1 {
        let [head, body] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(area);
        let text = format!("{}-{} of {n}  n/p: page", first + 1, first + shown.len());
        frame.render_widget(Paragraph::new(Span::styled(text, Theme::DIM)), head);
        body
    } else {
        area
    };
    let cols = per_row.min(per_page);
    let row_count = per_page.div_ceil(cols);
    let row_areas = Layout::vertical(vec![Constraint::Ratio(1, row_count as u32); row_count]).split(body);
    for (r, row_area) in row_areas.iter().enumerate() {
        let cells = Layout::horizontal(vec![Constraint::Ratio(1, cols as u32); cols]).split(*row_area);
        for (c, cell) in cells.iter().enumerate() {
            if let Some(h) = shown.get(r * cols + c) {
                draw_histogram(frame, h, *cell);
            }
        }
    }
}

fn draw_histogram(frame: &mut Frame, h: &super::model::Histogram, area: Rect) {
    let [title, plot] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(area);
    frame.render_widget(
        Paragraph::new(Span::styled(clip(&h.name, area.width.saturating_sub(1) as usize), Theme::TITLE)),
        title,
    );
    let total: u64 = h.counts.iter().sum::<u64>().max(1);
    let points: Vec<(f64, f64)> = h
        .counts
        .iter()
        .enumerate()
        .filter(|(i, _)| i + 1 < h.edges.len())
        .map(|(i, &c)| ((h.edges[i] + h.edges[i + 1]) / 2.0, c as f64 / total as f64))
        .collect();
    let xb = [h.edges.first().copied().unwrap_or(0.0), h.edges.last().copied().unwrap_or(1.0)];
    let ymax = points.iter().map(|p| p.1).fold(0.0, f64::max).max(1e-12);
    let chart = Chart::new(vec![Dataset::default()
        .graph_type(GraphType::Bar)
        .marker(Marker::Braille)
        .style(Style::new().fg(Color::Cyan))
        .data(&points)])
    .x_axis(Axis::default().bounds(xb).labels(ticks(xb, plot.width, false)))
    .y_axis(Axis::default().bounds([0.0, ymax * 1.05]).labels(vec![Line::from("0"), Line::from(format_num(ymax))]));
    frame.render_widget(chart, plot);
}
