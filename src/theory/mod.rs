//! Replica / state-evolution theory of sampling along the diffusion (tilt) and
//! decimation (autoregressive) paths: scalar channels, SE fixed points, free entropies,
//! spinodals, first-order lines, critical points and phase diagrams (PHYSICS.md 3-6, 11).
//!
//! Pure science: no IO, no engine types; dependencies std, rayon, serde only.
//! Layers, bottom up:
//! - [`quadrature`]: Gauss–Hermite and layer-adapted trapezoid rules for `E_z`;
//! - [`prior`]: priors and their scalar denoisers `f`, `f_v`, `logZ`;
//! - [`channel`]: SE scalar functions `ov`, `ov'`, `mmse`, `psi` by quadrature;
//! - [`table`]: the fast [`Channel`] (cached Chebyshev tables / closed forms);
//! - [`model`]: [`Model`], [`Path`], `Delta <-> T`, SE map and free entropy `Phi`;
//! - `curve`, `branch`, `roots` (private): the parametric-curve solver of section 5;
//! - [`se`]: branches along a path ([`se_path`]), transitions, plain iteration;
//! - [`critical`]: end / tricritical points, `Delta_d`, `Delta_K`;
//! - [`diagram`]: rayon-parallel phase diagrams; [`mod@landscape`]: `Phi(m)` curves.
//!
//! Units: `Delta` is the raw noise variance and `m` the raw overlap (the sparse
//! literature quotes `Delta/rho^2` and `m/rho`; convert at the edges).

mod branch;
pub mod channel;
pub mod critical;
mod curve;
pub mod diagram;
pub mod landscape;
pub mod model;
pub mod popdyn;
pub mod popdyn_path;
pub mod prior;
pub mod quadrature;
mod roots;
pub mod se;
pub mod table;
#[cfg(test)]
mod validation;

pub use branch::Transition;
pub use channel::ChannelStats;
pub use critical::{critical_point, static_transitions, CriticalPoint, StaticTransitions};
pub use diagram::{linspace, phase_diagram, phase_diagram_resumable, LinePoint, PhaseDiagram, PhaseDiagramSpec};
pub use landscape::{landscape, Landscape};
pub use model::{delta_from_temperature, temperature_from_delta, Model, Path};
pub use prior::Prior;
pub use se::{iterate_se, se_path, solve_point, transition, Branch, SePath, SePoint};
pub use table::Channel;

use std::fmt;

/// Errors of the theory module.
#[derive(Debug, Clone, PartialEq)]
pub enum TheoryError {
    /// A parameter is out of its domain (message says which).
    InvalidParameter(String),
    /// A root or extremum could not be bracketed or did not converge.
    NoConvergence(String),
    /// The progress callback asked to stop.
    Cancelled,
}

impl fmt::Display for TheoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TheoryError::InvalidParameter(m) => write!(f, "invalid parameter: {m}"),
            TheoryError::NoConvergence(m) => write!(f, "no convergence: {m}"),
            TheoryError::Cancelled => write!(f, "cancelled"),
        }
    }
}

impl std::error::Error for TheoryError {}
