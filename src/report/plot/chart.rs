//! The plain description of a figure, independent of any drawing library:
//! rows of panels, each with axes and a list of items (lines, points with
//! error bars, filled regions, shaded x-bands, marked x values, text). Every
//! artifact's figure is built as this data and drawn by `render`, so one
//! renderer serves the CLI's SVG / PNG files and the HTML report.

/// An RGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

pub const BLACK: Rgb = Rgb(0, 0, 0);
pub const GREY: Rgb = Rgb(120, 120, 120);
pub const BLUE: Rgb = Rgb(31, 119, 180);
pub const RED: Rgb = Rgb(214, 39, 40);
pub const ORANGE: Rgb = Rgb(255, 160, 60);
pub const GREEN: Rgb = Rgb(44, 160, 44);

/// Distinct colours for the curves of one panel, cycled.
pub fn palette(i: usize) -> Rgb {
    const COLOURS: [Rgb; 10] = [
        Rgb(31, 119, 180),
        Rgb(214, 39, 40),
        Rgb(44, 160, 44),
        Rgb(148, 103, 189),
        Rgb(255, 127, 14),
        Rgb(140, 86, 75),
        Rgb(227, 119, 194),
        Rgb(23, 190, 207),
        Rgb(188, 189, 34),
        Rgb(127, 127, 127),
    ];
    COLOURS[i % COLOURS.len()]
}

/// A point with an optional symmetric error on y.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ErrPoint {
    pub x: f64,
    pub y: f64,
    pub err: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// A polyline; non-finite points break it.
    Line { points: Vec<(f64, f64)>, dashed: bool, color: Rgb, width: u32, label: Option<String> },
    /// Markers with vertical error bars, optionally joined by a line.
    Points { points: Vec<ErrPoint>, color: Rgb, joined: bool, label: Option<String> },
    /// A filled polygon.
    Fill { polygon: Vec<(f64, f64)>, color: Rgb, opacity: f64, label: Option<String> },
    /// The x-range `[lo, hi]` shaded over the panel's whole height.
    Band { lo: f64, hi: f64, color: Rgb, opacity: f64, label: Option<String> },
    /// A dashed vertical line at `x`, its label at the top.
    VLine { x: f64, color: Rgb, label: Option<String> },
    /// A dashed horizontal line at `y`.
    HLine { y: f64, color: Rgb, label: Option<String> },
    /// A filled circle, labelled in the legend.
    Dot { x: f64, y: f64, color: Rgb, label: Option<String> },
    /// A triangle on the x axis with its text just above.
    AxisMark { x: f64, color: Rgb, text: String },
    /// Text anchored at a data point.
    Text { x: f64, y: f64, color: Rgb, text: String },
}

impl Item {
    pub fn line(points: Vec<(f64, f64)>, color: Rgb, label: impl Into<String>) -> Item {
        Item::Line { points, dashed: false, color, width: 2, label: Some(label.into()).filter(|l| !l.is_empty()) }
    }

    pub fn dashed(points: Vec<(f64, f64)>, color: Rgb, label: impl Into<String>) -> Item {
        Item::Line { points, dashed: true, color, width: 2, label: Some(label.into()).filter(|l| !l.is_empty()) }
    }

    /// `(x, y)` pairs from two equal-length columns.
    pub fn xy(x: &[f64], y: &[f64]) -> Vec<(f64, f64)> {
        x.iter().copied().zip(y.iter().copied()).collect()
    }

    /// The x values the item spans (for the axis range), skipping non-finite ones.
    pub(super) fn xs(&self) -> Vec<f64> {
        match self {
            Item::Line { points, .. } | Item::Fill { polygon: points, .. } => points.iter().map(|p| p.0).collect(),
            Item::Points { points, .. } => points.iter().map(|p| p.x).collect(),
            Item::Dot { x, .. } | Item::Text { x, .. } => vec![*x],
            // Bands, vertical lines and axis marks are drawn inside the data's range, never widen it.
            Item::Band { .. } | Item::VLine { .. } | Item::AxisMark { .. } | Item::HLine { .. } => Vec::new(),
        }
    }

    /// The y values the item spans, error bars included.
    pub(super) fn ys(&self) -> Vec<f64> {
        match self {
            Item::Line { points, .. } | Item::Fill { polygon: points, .. } => points.iter().map(|p| p.1).collect(),
            Item::Points { points, .. } => points
                .iter()
                .flat_map(|p| {
                    let e = p.err.filter(|e| e.is_finite()).unwrap_or(0.0);
                    [p.y - e, p.y + e]
                })
                .collect(),
            Item::Dot { y, .. } | Item::Text { y, .. } | Item::HLine { y, .. } => vec![*y],
            Item::Band { .. } | Item::VLine { .. } | Item::AxisMark { .. } => Vec::new(),
        }
    }
}

/// Where the legend goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Corner {
    UpperLeft,
    UpperRight,
    LowerLeft,
    LowerRight,
}

/// One set of axes.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    /// Fixed ranges; `None`: from the items, padded.
    pub x_range: Option<(f64, f64)>,
    pub y_range: Option<(f64, f64)>,
    /// Categorical x axis: the label of each integer position (x = 0, 1, ...).
    pub categories: Vec<String>,
    pub items: Vec<Item>,
    pub legend: Corner,
}

impl Panel {
    pub fn new(title: impl Into<String>, x_label: impl Into<String>, y_label: impl Into<String>) -> Panel {
        Panel {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            x_range: None,
            y_range: None,
            categories: Vec::new(),
            items: Vec::new(),
            legend: Corner::UpperRight,
        }
    }

    pub fn with(mut self, item: Item) -> Panel {
        self.items.push(item);
        self
    }

    pub fn push(&mut self, item: Item) {
        self.items.push(item);
    }

    /// True when nothing in the panel has a finite data point.
    pub fn is_empty(&self) -> bool {
        !self.items.iter().any(|i| i.xs().iter().chain(&i.ys()).any(|v| v.is_finite()))
    }

    /// The axis ranges: fixed ones, else the items' finite extent padded by 4%
    /// (a flat or empty extent gets a unit-wide range around it).
    pub fn ranges(&self) -> ((f64, f64), (f64, f64)) {
        let extent = |values: Vec<f64>, fixed: Option<(f64, f64)>| -> (f64, f64) {
            if let Some(r) = fixed {
                return r;
            }
            let (lo, hi) = values
                .into_iter()
                .filter(|v| v.is_finite())
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
            if !lo.is_finite() {
                return (0.0, 1.0);
            }
            let span = hi - lo;
            if span <= 1e-12 * lo.abs().max(1.0) {
                let half = 0.5 * lo.abs().max(1e-3);
                return (lo - half, hi + half);
            }
            (lo - 0.04 * span, hi + 0.04 * span)
        };
        let x = if self.categories.is_empty() {
            extent(self.items.iter().flat_map(Item::xs).collect(), self.x_range)
        } else {
            (-0.5, self.categories.len() as f64 - 0.5)
        };
        (x, extent(self.items.iter().flat_map(Item::ys).collect(), self.y_range))
    }
}

/// A figure: a title and rows of panels (a row's panels share its width).
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub title: String,
    pub rows: Vec<Vec<Panel>>,
}

impl Figure {
    /// One panel.
    pub fn single(panel: Panel) -> Figure {
        Figure { title: String::new(), rows: vec![vec![panel]] }
    }

    pub fn panels(&self) -> impl Iterator<Item = &Panel> {
        self.rows.iter().flatten()
    }

    /// Drops empty panels and rows (a sampler without a planted signal has no
    /// overlap histogram); a figure left with nothing keeps its first panel.
    pub fn without_empty_panels(mut self) -> Figure {
        let first = self.rows.iter().flatten().next().cloned();
        for row in &mut self.rows {
            row.retain(|p| !p.is_empty());
        }
        self.rows.retain(|r| !r.is_empty());
        if self.rows.is_empty() {
            self.rows = first.into_iter().map(|p| vec![p]).collect();
        }
        self
    }

    /// Pixel size: 900 wide (1300 with three panels in a row), 560 per row (640 for one).
    pub fn size(&self) -> (u32, u32) {
        let widest = self.rows.iter().map(Vec::len).max().unwrap_or(1);
        let width = if widest >= 3 { 1300 } else { 900 + 200 * (widest as u32 - 1).min(1) };
        let height = if self.rows.len() <= 1 { 640 } else { 480 * self.rows.len() as u32 };
        (width, height + if self.title.is_empty() { 0 } else { 36 })
    }
}
