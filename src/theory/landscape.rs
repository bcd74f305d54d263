//! Free-entropy landscape `Phi(m)` (and the SE map `F(m)`) on a grid of overlaps at one
//! `(model, path, t)` point: the picture behind the branches and the first-order jump.

use super::model::{free_entropy, se_map, Model, Path};
use super::table::Channel;
use super::TheoryError;
use serde::{Deserialize, Serialize};

/// `Phi(m)` and `F(m)` on a grid of `m`; stationary points of `Phi` are fixed points of `F`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Landscape {
    pub model: Model,
    pub path: Path,
    pub t: f64,
    pub m: Vec<f64>,
    pub phi: Vec<f64>,
    pub se_map: Vec<f64>,
}

/// Evaluates the landscape at the overlaps `m` (each finite and `>= 0`).
pub fn landscape(model: &Model, path: Path, t: f64, m: &[f64]) -> Result<Landscape, TheoryError> {
    model.validate()?;
    path.validate_t(t)?;
    if let Some(bad) = m.iter().find(|x| !(x.is_finite() && **x >= 0.0)) {
        return Err(TheoryError::InvalidParameter(format!("overlap m = {bad}")));
    }
    let ch = Channel::new(&model.prior)?;
    Ok(Landscape {
        model: *model,
        path,
        t,
        m: m.to_vec(),
        phi: m.iter().map(|&x| free_entropy(model, &ch, path, t, x)).collect(),
        se_map: m.iter().map(|&x| se_map(model, &ch, path, t, x)).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::theory::diagram::linspace;
    use crate::theory::prior::Prior;
    use crate::theory::se::solve_point;

    #[test]
    fn landscape_maxima_are_the_se_branches() {
        // Ising p=3 at Delta = 0.32, gamma2 = 0.1: two local maxima of Phi, at m_u and m_i.
        let model = Model::new(3, Prior::Rademacher, 0.32).unwrap();
        let pt = solve_point(&model, Path::Diffusion, 0.1).unwrap();
        let grid = linspace(0.0, 1.0, 20001);
        let l = landscape(&model, Path::Diffusion, 0.1, &grid).unwrap();
        let maxima: Vec<f64> = (1..grid.len() - 1)
            .filter(|&i| l.phi[i] > l.phi[i - 1] && l.phi[i] >= l.phi[i + 1])
            .map(|i| grid[i])
            .collect();
        assert_eq!(maxima.len(), 2, "{maxima:?}");
        assert!((maxima[0] - pt.m_uninf).abs() < 1e-4);
        assert!((maxima[1] - pt.m_inf).abs() < 1e-4);
        assert!(landscape(&model, Path::Diffusion, 0.1, &[-0.1]).is_err());
    }
}
