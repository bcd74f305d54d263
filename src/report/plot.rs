//! Figures (SVG or PNG, by the output file's extension) in the paper's style:
//! phase diagrams (hysteresis region shaded, the failure window between the
//! first-order line and the upper spinodal shaded darker, spinodals dashed,
//! end point marked, T_d / T_K on the axis), SE paths (m vs t, both branches)
//! and free-entropy landscapes. Text uses an embedded DejaVu Sans font, so PNG
//! output needs no system fonts.

use std::path::Path;
use std::sync::OnceLock;

use anyhow::{anyhow, bail, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::theory::{temperature_from_delta, Landscape, LinePoint, PhaseDiagram, Prior, SePath};

const SIZE: (u32, u32) = (900, 640);
const FAIL: RGBColor = RGBColor(214, 39, 40);
const META: RGBColor = RGBColor(255, 160, 60);
const BLUE: RGBColor = RGBColor(31, 119, 180);

/// What can be drawn.
pub enum Figure<'a> {
    Diagram(&'a PhaseDiagram),
    Path(&'a SePath),
    Landscape(&'a Landscape),
}

/// Draws `figure` into `out` (.svg or .png), atomically: a failed draw or a
/// full disk leaves no empty or partial file under `out`'s name.
pub fn plot(figure: &Figure, out: &Path) -> Result<()> {
    register_font()?;
    let ext = out.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    if !matches!(ext.as_deref(), Some("svg" | "png")) {
        bail!("cannot tell the format of {}: use a .svg or .png file name", out.display());
    }
    super::atomic::write_file(out, |tmp| draw_file(figure, tmp, ext.as_deref()))
}

fn draw_file(figure: &Figure, out: &Path, ext: Option<&str>) -> Result<()> {
    match ext {
        Some("svg") => {
            let root = SVGBackend::new(out, SIZE).into_drawing_area();
            draw(&root, figure)?;
            root.present().map_err(|e| anyhow!("{e}"))
        }
        Some("png") => {
            let root = BitMapBackend::new(out, SIZE).into_drawing_area();
            draw(&root, figure)?;
            root.present().map_err(|e| anyhow!("{e}"))
        }
        _ => bail!("cannot tell the format of {}: use a .svg or .png file name", out.display()),
    }
}

fn register_font() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED
        .get_or_init(|| register_font_bytes("sans-serif", FontStyle::Normal, dejavu::sans::regular()).is_ok());
    if ok {
        Ok(())
    } else {
        bail!("could not load the embedded font")
    }
}

fn register_font_bytes(name: &str, style: FontStyle, bytes: &'static [u8]) -> Result<(), ()> {
    plotters::style::register_font(name, style, bytes).map_err(|_| ())
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, figure: &Figure) -> Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
    match figure {
        Figure::Diagram(d) => draw_diagram(root, d),
        Figure::Path(s) => draw_path(root, s),
        Figure::Landscape(l) => draw_landscape(root, l),
    }
    .map_err(|e| anyhow!("drawing: {e}"))
}

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn rho_of(prior: &Prior) -> Option<f64> {
    match prior {
        Prior::SparseRademacher { rho } => Some(*rho),
        _ => None,
    }
}

fn prior_name(prior: &Prior) -> String {
    match prior {
        Prior::Rademacher => "Ising".into(),
        Prior::SparseRademacher { rho } => format!("sparse rho={rho}"),
        Prior::Gaussian => "spherical".into(),
    }
}

fn path_axis(path: crate::theory::Path) -> &'static str {
    match path {
        crate::theory::Path::Diffusion => "gamma^2 (diffusion / flow)",
        crate::theory::Path::Decimation => "theta (autoregressive)",
    }
}

fn draw_diagram<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, d: &PhaseDiagram) -> DrawResult<DB> {
    let p = d.spec.p;
    // x: T for Ising / spherical, Delta/rho^2 for the sparse prior (the literature's axes).
    let (x_of, x_label): (Box<dyn Fn(f64) -> f64>, &str) = match rho_of(&d.spec.prior) {
        Some(rho) => (Box::new(move |delta| delta / (rho * rho)), "Delta / rho^2"),
        None => (Box::new(move |delta| temperature_from_delta(p, delta)), "temperature T"),
    };
    let xs: Vec<f64> = d.delta.iter().map(|&v| x_of(v)).collect();
    let (x0, x1) = (xs[0].min(xs[xs.len() - 1]), xs[0].max(xs[xs.len() - 1]));
    let (y0, y1) = (d.t[0], d.t[d.t.len() - 1]);
    let title = format!("{} p={} · {}", prior_name(&d.spec.prior), p, path_axis(d.spec.path));
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 24))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(64)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    chart.configure_mesh().x_desc(x_label).y_desc(path_axis(d.spec.path)).label_style(("sans-serif", 15)).draw()?;
    let line =
        |pts: &[LinePoint]| -> Vec<(f64, f64)> { pts.iter().map(|pt| (x_of(pt.delta), pt.t.clamp(y0, y1))).collect() };
    let (low, first, high) = (line(&d.lower_spinodal), line(&d.first_order), line(&d.upper_spinodal));
    let band =
        |a: &[(f64, f64)], b: &[(f64, f64)]| -> Vec<(f64, f64)> { a.iter().chain(b.iter().rev()).copied().collect() };
    if !low.is_empty() {
        chart
            .draw_series(std::iter::once(Polygon::new(band(&low, &high), META.mix(0.25).filled())))?
            .label("two fixed points (hysteresis)")
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 18, y + 5)], META.mix(0.4).filled()));
        chart
            .draw_series(std::iter::once(Polygon::new(band(&first, &high), FAIL.mix(0.3).filled())))?
            .label("sampler fails: AMP on the metastable branch")
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 18, y + 5)], FAIL.mix(0.4).filled()));
    }
    for (points, name, color) in [(&low, "lower spinodal", META), (&high, "upper spinodal", FAIL)] {
        chart
            .draw_series(DashedLineSeries::new(points.iter().copied(), 8, 5, color.stroke_width(2)))?
            .label(name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
    }
    chart
        .draw_series(LineSeries::new(first.iter().copied(), BLACK.stroke_width(2)))?
        .label("first-order line")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], BLACK.stroke_width(2)));
    if let Some(e) = d.end_point.filter(|e| (x0..=x1).contains(&x_of(e.delta)) && (y0..=y1).contains(&e.t)) {
        chart
            .draw_series(std::iter::once(Circle::new((x_of(e.delta), e.t), 6, BLACK.filled())))?
            .label(format!("end point ({:.4}, {:.4})", x_of(e.delta), e.t))
            .legend(|(x, y)| Circle::new((x + 9, y), 5, BLACK.filled()));
    }
    let marks = [("T_d", Some(d.statics.delta_d)), ("T_K", d.statics.delta_k)];
    for (name, delta) in marks {
        if let Some(x) = delta.map(&x_of).filter(|x| (x0..=x1).contains(x)) {
            let label = if rho_of(&d.spec.prior).is_some() { name.replace('T', "Delta") } else { name.to_string() };
            chart.draw_series(std::iter::once(TriangleMarker::new((x, y0), 9, BLUE.filled())))?;
            chart.draw_series(std::iter::once(Text::new(
                format!("{label}={x:.4}"),
                (x, y0 + (y1 - y0) * 0.03),
                ("sans-serif", 14),
            )))?;
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()?;
    Ok(())
}

fn draw_path<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, s: &SePath) -> DrawResult<DB> {
    let scale = rho_of(&s.model.prior).unwrap_or(1.0);
    let (t0, t1) = (s.points[0].t, s.points[s.points.len() - 1].t);
    let title = format!(
        "SE along the path · {} p={} · Delta={:.4} (T={:.4})",
        prior_name(&s.model.prior),
        s.model.p,
        s.model.delta,
        s.model.temperature()
    );
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(64)
        .build_cartesian_2d(t0..t1, 0.0..1.02)?;
    let y_desc = if scale < 1.0 { "m / rho" } else { "overlap m" };
    chart.configure_mesh().x_desc(path_axis(s.path)).y_desc(y_desc).label_style(("sans-serif", 15)).draw()?;
    let series = |f: fn(&crate::theory::SePoint) -> f64| -> Vec<(f64, f64)> {
        s.points.iter().map(|p| (p.t, f(p) / scale)).collect()
    };
    chart
        .draw_series(LineSeries::new(series(|p| p.m_uninf), BLUE.stroke_width(2)))?
        .label("uninformed branch (what AMP follows)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], BLUE.stroke_width(2)));
    chart
        .draw_series(DashedLineSeries::new(series(|p| p.m_inf), 8, 5, FAIL.stroke_width(2)))?
        .label("informed branch")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], FAIL.stroke_width(2)));
    chart
        .draw_series(LineSeries::new(series(|p| p.m_eq), BLACK.mix(0.5).stroke_width(1)))?
        .label("equilibrium")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], BLACK.mix(0.5)));
    for (name, t) in [("sp1", s.spinodal_low_t), ("first order", s.first_order_t), ("sp2", s.spinodal_high_t)] {
        if let Some(t) = t.filter(|t| (t0..=t1).contains(t)) {
            chart.draw_series(DashedLineSeries::new([(t, 0.0), (t, 1.0)], 3, 4, BLACK.mix(0.6).into()))?;
            chart.draw_series(std::iter::once(Text::new(name.to_string(), (t, 1.0), ("sans-serif", 14))))?;
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()?;
    Ok(())
}

fn draw_landscape<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, l: &Landscape) -> DrawResult<DB> {
    let finite: Vec<(f64, f64)> =
        l.m.iter().zip(&l.phi).filter(|(_, p)| p.is_finite()).map(|(&m, &p)| (m, p)).collect();
    let (lo, hi) = finite.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &(_, p)| (a.min(p), b.max(p)));
    let pad = ((hi - lo) * 0.05).max(1e-9);
    let m_max = l.m.last().copied().unwrap_or(1.0);
    let title = format!("free entropy Phi(m) · Delta={:.4} · t={}", l.model.delta, l.t);
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(80)
        .build_cartesian_2d(0.0..m_max, (lo - pad)..(hi + pad))?;
    chart.configure_mesh().x_desc("overlap m").y_desc("Phi(m)").label_style(("sans-serif", 15)).draw()?;
    chart.draw_series(LineSeries::new(finite, BLUE.stroke_width(2)))?;
    Ok(())
}
