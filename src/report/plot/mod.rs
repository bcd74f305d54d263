//! Figures (SVG or PNG, by the output file's extension) of every artifact
//! kind: each artifact becomes a plain `chart::Figure` (theory figures in
//! `theory`, measured ones in `results`, a value across a sweep's copies in
//! `sweep`), drawn by `render`. `fields` reads summary values by name, so new
//! summary fields (verdicts, the reference difference) show up without a
//! change here.

pub mod chart;
pub mod fields;
pub mod render;
pub mod results;
pub mod sweep;
pub mod theory;

use std::path::Path;

use anyhow::Result;

pub use chart::Figure;
pub use render::{svg_string, write};

use crate::stages::Artifact;

/// What a figure may use besides the artifact: the planted signal of the
/// instance a sampler ran on (its overlap with x* needs it).
#[derive(Default, Clone, Copy)]
pub struct Context<'a> {
    pub planted: Option<Planted<'a>>,
}

/// A planted signal, its prior, and whether the measure is Z2-symmetric (even p).
#[derive(Clone, Copy)]
pub struct Planted<'a> {
    pub x: &'a [f32],
    pub prior: crate::models::Prior,
    pub z2_symmetric: bool,
}

impl<'a> Planted<'a> {
    /// The planted signal of an instance artifact, if it has one.
    pub fn of(instance: &'a Artifact) -> Option<Planted<'a>> {
        match instance {
            Artifact::Disorder(d) => {
                d.planted.as_deref().map(|x| Planted { x, prior: d.prior, z2_symmetric: d.p.is_multiple_of(2) })
            }
            _ => None,
        }
    }
}

/// The figure of an artifact. Every artifact kind has one.
pub fn figure(artifact: &Artifact, context: Context) -> Figure {
    match artifact {
        Artifact::PhaseDiagram(d) => theory::diagram(d),
        Artifact::SePath(s) => theory::se_path(s),
        Artifact::Landscape(l) => theory::landscape(l),
        Artifact::BicoloringPath(p) => theory::pop_path(p),
        Artifact::BicoloringDiagram(d) => theory::pop_diagram(d),
        Artifact::Comparison(c) => results::comparison(c, &artifact.summary()),
        Artifact::Aggregate(_) => results::aggregate(&artifact.summary()),
        Artifact::DenoiserPath(p) => results::denoiser_path(p),
        Artifact::Samples(s) => results::samples(s, context.planted.filter(|p| p.x.len() == s.n)),
        Artifact::Network(net) => results::network(net),
        Artifact::LearnedDenoiser(den) => results::learned_denoiser(den),
        Artifact::BicoloringComparison(c) => results::bicoloring_comparison(c),
        Artifact::Disorder(d) => results::disorder(d),
        Artifact::Bicoloring(g) => results::bicoloring(g),
    }
}

/// Draws an artifact into `out` (.svg or .png), atomically.
pub fn plot(artifact: &Artifact, context: Context, out: &Path) -> Result<()> {
    write(&figure(artifact, context), out)
}
