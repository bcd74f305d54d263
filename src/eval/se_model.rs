//! The state-evolution model of a disorder instance: the same order, prior and
//! noise variance (the sphere's SE is the Gaussian channel's).

use crate::models::{self, Disorder};
use crate::theory::{Model, Prior};

/// None when the theory does not cover the instance.
pub fn se_model_of(d: &Disorder) -> Option<Model> {
    let prior = match d.prior {
        models::Prior::Rademacher => Prior::Rademacher,
        models::Prior::SparseRademacher { rho } => Prior::SparseRademacher { rho },
        models::Prior::Spherical => Prior::Gaussian,
    };
    Model::new(d.p as u32, prior, d.delta).ok()
}
