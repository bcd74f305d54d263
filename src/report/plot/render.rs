//! Draws a `chart::Figure` with plotters: into an SVG string (the HTML report
//! inlines it) or into an .svg / .png file, written atomically. Text uses an
//! embedded DejaVu Sans font, so PNG output needs no system fonts.

use std::path::Path;
use std::sync::OnceLock;

use anyhow::{anyhow, bail, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::chart::{Corner, Figure, Item, Panel, Rgb};

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// The figure as an SVG document (no XML declaration, so it can be inlined in HTML).
pub fn svg_string(figure: &Figure) -> Result<String> {
    register_font()?;
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, figure.size()).into_drawing_area();
        draw(&root, figure)?;
        root.present().map_err(|e| anyhow!("{e}"))?;
    }
    Ok(out)
}

/// Writes the figure to `out` (.svg or .png), atomically: a failed draw or a
/// full disk leaves no empty or partial file under `out`'s name.
pub fn write(figure: &Figure, out: &Path) -> Result<()> {
    register_font()?;
    let ext = out.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("svg") => {
            let svg = svg_string(figure)?;
            crate::report::atomic::write_file(out, |tmp| Ok(std::fs::write(tmp, svg)?))
        }
        Some("png") => crate::report::atomic::write_file(out, |tmp| {
            let root = BitMapBackend::new(tmp, figure.size()).into_drawing_area();
            draw(&root, figure)?;
            root.present().map_err(|e| anyhow!("{e}"))
        }),
        _ => bail!("cannot tell the format of {}: use a .svg or .png file name", out.display()),
    }
}

fn register_font() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular()).is_ok()
    });
    if ok {
        Ok(())
    } else {
        bail!("could not load the embedded font")
    }
}

fn color(c: Rgb) -> RGBColor {
    RGBColor(c.0, c.1, c.2)
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, figure: &Figure) -> Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(|e| anyhow!("drawing: {e}"))?;
    let body = if figure.title.is_empty() {
        root.clone()
    } else {
        root.titled(&figure.title, ("sans-serif", 24)).map_err(|e| anyhow!("drawing: {e}"))?
    };
    let rows = body.split_evenly((figure.rows.len().max(1), 1));
    for (row, area) in figure.rows.iter().zip(&rows) {
        let cells = area.split_evenly((1, row.len().max(1)));
        for (panel, cell) in row.iter().zip(&cells) {
            draw_panel(cell, panel).map_err(|e| anyhow!("drawing `{}`: {e}", panel.title))?;
        }
    }
    Ok(())
}

/// Splits a polyline at its non-finite points.
fn segments(points: &[(f64, f64)]) -> Vec<Vec<(f64, f64)>> {
    let mut out = vec![Vec::new()];
    for &(x, y) in points {
        if x.is_finite() && y.is_finite() {
            if let Some(s) = out.last_mut() {
                s.push((x, y));
            }
        } else if out.last().is_some_and(|s| !s.is_empty()) {
            out.push(Vec::new());
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

fn legend_position(corner: Corner) -> SeriesLabelPosition {
    match corner {
        Corner::UpperLeft => SeriesLabelPosition::UpperLeft,
        Corner::UpperRight => SeriesLabelPosition::UpperRight,
        Corner::LowerLeft => SeriesLabelPosition::LowerLeft,
        Corner::LowerRight => SeriesLabelPosition::LowerRight,
    }
}

fn draw_panel<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, panel: &Panel) -> DrawResult<DB> {
    let ((x0, x1), (y0, y1)) = panel.ranges();
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(if panel.categories.is_empty() { 44 } else { 64 })
        .y_label_area_size(72)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    let categories = &panel.categories;
    let category = |v: &f64| -> String {
        let i = v.round();
        if (v - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < categories.len() {
            categories[i as usize].clone()
        } else {
            String::new()
        }
    };
    let mut mesh = chart.configure_mesh();
    mesh.x_desc(&panel.x_label).y_desc(&panel.y_label).label_style(("sans-serif", 13)).light_line_style(WHITE);
    if !categories.is_empty() {
        mesh.x_labels(4 * categories.len() + 2).x_label_formatter(&category);
    }
    mesh.draw()?;
    let mut labelled = false;
    // Shaded regions first, so lines and points stay visible on top.
    let mut ordered: Vec<&Item> =
        panel.items.iter().filter(|i| matches!(i, Item::Band { .. } | Item::Fill { .. })).collect();
    ordered.extend(panel.items.iter().filter(|i| !matches!(i, Item::Band { .. } | Item::Fill { .. })));
    for item in ordered {
        match item {
            Item::Band { lo, hi, color: c, opacity, label } => {
                let (lo, hi) = (lo.max(x0), hi.min(x1));
                if lo.is_nan() || hi.is_nan() || lo >= hi {
                    continue;
                }
                let style = color(*c).mix(*opacity).filled();
                let drawn = chart.draw_series(std::iter::once(Rectangle::new([(lo, y0), (hi, y1)], style)))?;
                if let Some(l) = label {
                    labelled = true;
                    drawn.label(l).legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 18, y + 5)], style));
                }
            }
            Item::Fill { polygon, color: c, opacity, label } => {
                let pts: Vec<(f64, f64)> =
                    polygon.iter().copied().filter(|p| p.0.is_finite() && p.1.is_finite()).collect();
                if pts.len() < 3 {
                    continue;
                }
                let style = color(*c).mix(*opacity).filled();
                let drawn = chart.draw_series(std::iter::once(Polygon::new(pts, style)))?;
                if let Some(l) = label {
                    labelled = true;
                    drawn.label(l).legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 18, y + 5)], style));
                }
            }
            Item::Line { points, dashed, color: c, width, label } => {
                let style = color(*c).stroke_width(*width);
                let mut first = true;
                for seg in segments(points) {
                    let drawn = if *dashed {
                        chart.draw_series(DashedLineSeries::new(seg, 8, 5, style))?
                    } else {
                        chart.draw_series(LineSeries::new(seg, style))?
                    };
                    if let Some(l) = label.as_ref().filter(|_| first) {
                        labelled = true;
                        drawn.label(l).legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
                    }
                    first = false;
                }
            }
            Item::Points { points, color: c, joined, label } => {
                let style = color(*c).stroke_width(2);
                let finite: Vec<_> = points.iter().filter(|p| p.x.is_finite() && p.y.is_finite()).collect();
                if *joined {
                    chart.draw_series(LineSeries::new(finite.iter().map(|p| (p.x, p.y)), color(*c).stroke_width(1)))?;
                }
                // Error bars: a vertical segment with caps 1.2% of the x range wide.
                let cap = 0.006 * (x1 - x0);
                chart.draw_series(
                    finite
                        .iter()
                        .filter_map(|p| p.err.filter(|e| e.is_finite() && *e > 0.0).map(|e| (p, e)))
                        .flat_map(|(p, e)| {
                            let (lo, hi) = (p.y - e, p.y + e);
                            [
                                vec![(p.x, lo), (p.x, hi)],
                                vec![(p.x - cap, lo), (p.x + cap, lo)],
                                vec![(p.x - cap, hi), (p.x + cap, hi)],
                            ]
                        })
                        .map(|segment| PathElement::new(segment, style)),
                )?;
                let drawn = chart.draw_series(finite.iter().map(|p| Circle::new((p.x, p.y), 4, color(*c).filled())))?;
                if let Some(l) = label {
                    labelled = true;
                    drawn.label(l).legend(move |(x, y)| Circle::new((x + 9, y), 4, style.filled()));
                }
            }
            Item::VLine { x, color: c, label } => {
                if !(x0..=x1).contains(x) {
                    continue;
                }
                let style = color(*c).mix(0.7).stroke_width(1);
                chart.draw_series(DashedLineSeries::new([(*x, y0), (*x, y1)], 4, 4, style))?;
                if let Some(l) = label {
                    let top = y1 - 0.04 * (y1 - y0);
                    chart.draw_series(std::iter::once(Text::new(l.clone(), (*x, top), ("sans-serif", 13))))?;
                }
            }
            Item::HLine { y, color: c, label } => {
                if !(y0..=y1).contains(y) {
                    continue;
                }
                let style = color(*c).mix(0.7).stroke_width(1);
                let drawn = chart.draw_series(DashedLineSeries::new([(x0, *y), (x1, *y)], 4, 4, style))?;
                if let Some(l) = label {
                    labelled = true;
                    drawn.label(l).legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
                }
            }
            Item::Dot { x, y, color: c, label } => {
                if !(x.is_finite() && y.is_finite()) {
                    continue;
                }
                let style = color(*c).filled();
                let drawn = chart.draw_series(std::iter::once(Circle::new((*x, *y), 6, style)))?;
                if let Some(l) = label {
                    labelled = true;
                    drawn.label(l).legend(move |(x, y)| Circle::new((x + 9, y), 5, style));
                }
            }
            Item::AxisMark { x, color: c, text } => {
                if !(x0..=x1).contains(x) {
                    continue;
                }
                chart.draw_series(std::iter::once(TriangleMarker::new((*x, y0), 9, color(*c).filled())))?;
                let above = y0 + 0.03 * (y1 - y0);
                chart.draw_series(std::iter::once(Text::new(text.clone(), (*x, above), ("sans-serif", 13))))?;
            }
            Item::Text { x, y, color: c, text } => {
                if !(x.is_finite() && y.is_finite()) {
                    continue;
                }
                let style = ("sans-serif", 13).into_font().color(&color(*c));
                chart.draw_series(std::iter::once(Text::new(text.clone(), (*x, *y), style)))?;
            }
        }
    }
    if labelled {
        chart
            .configure_series_labels()
            .position(legend_position(panel.legend))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 13))
            .draw()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::plot::chart::{ErrPoint, BLUE};

    #[test]
    fn non_finite_points_split_a_line() {
        let s = segments(&[(0.0, 1.0), (1.0, f64::NAN), (2.0, 2.0), (3.0, 3.0), (f64::INFINITY, 0.0)]);
        assert_eq!(s, vec![vec![(0.0, 1.0)], vec![(2.0, 2.0), (3.0, 3.0)]]);
    }

    #[test]
    fn a_panel_draws_every_item_kind_into_svg() {
        let panel = Panel::new("all items", "x", "y")
            .with(Item::line(vec![(0.0, 0.0), (1.0, 1.0)], BLUE, "line"))
            .with(Item::dashed(vec![(0.0, 1.0), (1.0, 0.0)], BLUE, ""))
            .with(Item::Points {
                points: vec![ErrPoint { x: 0.5, y: 0.5, err: Some(0.1) }],
                color: BLUE,
                joined: true,
                label: Some("points".into()),
            })
            .with(Item::Band { lo: 0.2, hi: 0.4, color: BLUE, opacity: 0.2, label: Some("band".into()) })
            .with(Item::Fill {
                polygon: vec![(0.0, 0.0), (1.0, 0.0), (1.0, 0.5)],
                color: BLUE,
                opacity: 0.3,
                label: None,
            })
            .with(Item::VLine { x: 0.3, color: BLUE, label: Some("v".into()) })
            .with(Item::HLine { y: 0.3, color: BLUE, label: None })
            .with(Item::Dot { x: 0.7, y: 0.7, color: BLUE, label: Some("dot".into()) })
            .with(Item::AxisMark { x: 0.6, color: BLUE, text: "T_d".into() })
            .with(Item::Text { x: 0.1, y: 0.9, color: BLUE, text: "note <&>".into() });
        let svg = svg_string(&Figure::single(panel)).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..40]);
        for text in ["all items", "line", "points", "band", "dot", "T_d", "note &lt;&amp;&gt;"] {
            assert!(svg.contains(text), "missing {text}");
        }
        assert!(svg.contains("<polygon") || svg.contains("<path"));
    }
}
