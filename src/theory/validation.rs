//! Reference checks against PHYSICS.md section 6 (thresholds, end points, spinodal /
//! first-order test vectors) and cross-checks of the curve method against plain SE
//! iteration, stationarity of `Phi` and the spherical closed forms.

#[cfg(test)]
mod tests {
    use crate::theory::*;

    const RHO: f64 = 0.08;
    const SPARSE: Prior = Prior::SparseRademacher { rho: RHO };

    /// `value` agrees with the printed reference to its last digit (0.6 units of slack,
    /// i.e. correct rounding up to values sitting on a rounding boundary).
    fn assert_printed(value: f64, printed: &str, what: &str) {
        let reference: f64 = printed.parse().unwrap();
        let decimals = printed.split('.').nth(1).map_or(0, str::len) as i32;
        let unit = 10f64.powi(-decimals);
        if reference == 0.0 && decimals == 0 {
            assert_eq!(value, 0.0, "{what}: {value} vs exact 0");
        } else {
            assert!((value - reference).abs() <= 0.6 * unit, "{what}: {value} vs printed {printed}");
        }
    }

    #[test]
    fn static_thresholds_match_reference_table() {
        let sph = static_transitions(3, &Prior::Gaussian).unwrap();
        assert_printed(sph.delta_d, "0.250000", "sph Delta_d");
        assert_printed(sph.temperature_d, "0.61237", "sph T_d");
        assert_printed(sph.delta_k.unwrap(), "0.228973", "sph Delta_K");
        assert_printed(sph.temperature_k.unwrap(), "0.58605", "sph T_K");
        let ising = static_transitions(3, &Prior::Rademacher).unwrap();
        assert_printed(ising.delta_d, "0.309717", "Ising Delta_d");
        assert_printed(ising.temperature_d, "0.68160", "Ising T_d");
        assert_printed(ising.delta_k.unwrap(), "0.282868", "Ising Delta_K");
        assert_printed(ising.temperature_k.unwrap(), "0.65139", "Ising T_K");
        let sparse = static_transitions(2, &SPARSE).unwrap();
        assert_printed(sparse.delta_d / (RHO * RHO), "1.04086", "sparse Delta_d/rho^2");
        assert_printed(sparse.delta_k.unwrap() / (RHO * RHO), "1.02942", "sparse Delta_K/rho^2");
        let sk = static_transitions(2, &Prior::Rademacher).unwrap();
        assert!(sk.continuous && sk.delta_k.is_none());
        assert_printed(sk.delta_d, "1.00000", "SK continuous at Delta = 1");
    }

    #[test]
    fn end_points_match_reference_table() {
        let cp = |p, prior: Prior, path| critical_point(p, &prior, path).unwrap().unwrap();
        let c = cp(3, Prior::Gaussian, Path::Diffusion);
        assert_printed(c.delta, "0.296296", "sph tricritical Delta");
        assert_printed(c.temperature, "0.666667", "sph tricritical T");
        let c = cp(3, Prior::Gaussian, Path::Decimation);
        assert_printed(c.temperature, "0.70711", "sph decimation end T");
        let c = cp(3, Prior::Rademacher, Path::Diffusion);
        assert_printed(c.delta, "0.36605", "Ising diff end Delta");
        assert_printed(c.temperature, "0.74100", "Ising diff end T");
        assert_printed(c.t, "0.16704", "Ising diff end gamma2");
        assert_printed(c.m, "0.4378", "Ising diff end m");
        let c = cp(3, Prior::Rademacher, Path::Decimation);
        assert_printed(c.delta, "0.38379", "Ising deci end Delta");
        assert_printed(c.temperature, "0.75874", "Ising deci end T");
        assert_printed(c.t, "0.13532", "Ising deci end theta");
        let c = cp(2, SPARSE, Path::Diffusion);
        assert_printed(c.delta / (RHO * RHO), "1.08013", "sparse diff end Delta/rho^2");
        assert_printed(c.t, "0.11568", "sparse diff end gamma2");
        let c = cp(2, SPARSE, Path::Decimation);
        assert_printed(c.delta / (RHO * RHO), "1.06944", "sparse deci end Delta/rho^2");
        assert_printed(c.t, "0.00990", "sparse deci end theta");
    }

    /// (name, p, prior, Delta scale, path, [(Delta/scale, sp1, IT, sp2)])
    type Vectors = (&'static str, u32, Prior, f64, Path, [(f64, &'static str, &'static str, &'static str); 3]);

    const VECTORS: [Vectors; 6] = [
        (
            "sph diff",
            3,
            Prior::Gaussian,
            1.0,
            Path::Diffusion,
            [
                (0.2646, "0.05194", "0.07740", "0.09919"),
                (0.2800, "0.09402", "0.10252", "0.11013"),
                (0.2400, "0", "0.02737", "0.08453"),
            ],
        ),
        (
            "sph deci",
            3,
            Prior::Gaussian,
            1.0,
            Path::Decimation,
            [
                (0.2700, "0.03626", "0.05596", "0.08171"),
                (0.3100, "0.08996", "0.09403", "0.09881"),
                (0.2500, "0", "0.03134", "0.07407"),
            ],
        ),
        (
            "Ising3 diff",
            3,
            Prior::Rademacher,
            1.0,
            Path::Diffusion,
            [
                (0.3200, "0.04160", "0.08817", "0.12617"),
                (0.3400, "0.10795", "0.12586", "0.14128"),
                (0.3000, "0", "0.04401", "0.11306"),
            ],
        ),
        (
            "Ising3 deci",
            3,
            Prior::Rademacher,
            1.0,
            Path::Decimation,
            [
                (0.3200, "0.02798", "0.06500", "0.10120"),
                (0.3400, "0.07268", "0.09154", "0.11040"),
                (0.3600, "0.10679", "0.11365", "0.12058"),
            ],
        ),
        (
            "sparse diff",
            2,
            SPARSE,
            RHO * RHO,
            Path::Diffusion,
            [
                (1.05, "0.03064", "0.04867", "0.06771"),
                (1.06, "0.06186", "0.07159", "0.08182"),
                (1.04, "0", "0.02518", "0.05483"),
            ],
        ),
        (
            "sparse deci",
            2,
            SPARSE,
            RHO * RHO,
            Path::Decimation,
            [
                (1.05, "0.00359", "0.00514", "0.00649"),
                (1.06, "0.00710", "0.00761", "0.00807"),
                (1.04, "0", "0.00264", "0.00512"),
            ],
        ),
    ];

    #[test]
    fn spinodal_and_first_order_test_vectors() {
        for (name, p, prior, scale, path, rows) in VECTORS {
            for (d, sp1, it, sp2) in rows {
                let model = Model::new(p, prior, d * scale).unwrap();
                let tr = transition(&model, path).unwrap().unwrap();
                let what = format!("{name} Delta={d}");
                assert_printed(tr.spinodal_low_t, sp1, &format!("{what} sp1"));
                assert_printed(tr.first_order_t, it, &format!("{what} IT"));
                assert_printed(tr.spinodal_high_t, sp2, &format!("{what} sp2"));
            }
        }
    }

    #[test]
    fn planted_sk_has_no_first_order_transition() {
        for d in [0.3, 0.7, 0.95, 0.999, 1.0, 1.001, 1.2, 2.0] {
            let model = Model::new(2, Prior::Rademacher, d).unwrap();
            for path in [Path::Diffusion, Path::Decimation] {
                let ts = diagram::linspace(0.0, 0.5, 51);
                let se = se_path(&model, path, &ts).unwrap();
                assert!(se.first_order_t.is_none(), "SK Delta={d} {path:?}");
                for pt in &se.points {
                    assert!((pt.m_inf - pt.m_uninf).abs() < 1e-9, "SK Delta={d} {pt:?}");
                }
            }
        }
        // Continuous at Delta = 1: m(0) > 0 just below, m(0) = 0 above.
        let m = |d| solve_point(&Model::new(2, Prior::Rademacher, d).unwrap(), Path::Diffusion, 0.0);
        assert!(m(0.99).unwrap().m_uninf > 1e-3 && m(1.01).unwrap().m_uninf == 0.0);
    }

    #[test]
    fn sparse_zero_solution_instability_and_small_m_branch() {
        let at = |r: f64| {
            let model = Model::new(2, SPARSE, r * RHO * RHO).unwrap();
            solve_point(&model, Path::Diffusion, 0.0).unwrap()
        };
        // m = 0 is stable above Delta/rho^2 = 1.
        assert_eq!(at(1.001).m_uninf, 0.0);
        // Small-m continuous branch for 0.9808 < Delta/rho^2 < 1 (m_u >0, well below m_i).
        for r in [0.982, 0.99, 0.999] {
            let pt = at(r);
            assert!(pt.m_uninf > 0.0 && pt.m_uninf < 0.3 * pt.m_inf, "r={r}: {pt:?}");
        }
        // Below it the uninformed branch already is the informed one.
        let pt = at(0.979);
        assert!((pt.m_inf - pt.m_uninf).abs() < 1e-12 && pt.m_inf > 0.4 * RHO);
    }

    #[test]
    fn spherical_informed_branch_at_zero_closed_form() {
        for d in [0.05, 0.12, 0.2, 0.2499] {
            let model = Model::new(3, Prior::Gaussian, d).unwrap();
            for path in [Path::Diffusion, Path::Decimation] {
                let pt = solve_point(&model, path, 0.0).unwrap();
                let exact = 0.5 * (1.0 + (1.0 - 4.0 * d).sqrt());
                assert!((pt.m_inf - exact).abs() < 1e-12, "Delta={d} {path:?} {}", pt.m_inf - exact);
                assert_eq!(pt.m_uninf, 0.0);
            }
        }
    }

    fn models() -> [Model; 4] {
        [
            Model::new(3, Prior::Gaussian, 0.27).unwrap(),
            Model::new(3, Prior::Rademacher, 0.33).unwrap(),
            Model::new(2, SPARSE, 1.05 * RHO * RHO).unwrap(),
            Model::new(2, Prior::Rademacher, 0.8).unwrap(),
        ]
    }

    #[test]
    fn free_entropy_is_stationary_at_both_branches() {
        for model in models() {
            for path in [Path::Diffusion, Path::Decimation] {
                let ts = match path {
                    Path::Diffusion => [0.0, 0.05, 0.11, 0.3],
                    Path::Decimation => [0.0, 0.004, 0.07, 0.5],
                };
                let se = se_path(&model, path, &ts).unwrap();
                for pt in &se.points {
                    for m in [pt.m_uninf, pt.m_inf].into_iter().filter(|&m| m > 1e-3) {
                        let h = 1e-6 * model.e0();
                        let l = landscape(&model, path, pt.t, &[m - h, m + h]).unwrap();
                        let slope = (l.phi[1] - l.phi[0]) / (2.0 * h);
                        assert!(slope.abs() < 1e-7, "{model:?} {path:?} t={} m={m}", pt.t);
                    }
                }
            }
        }
    }

    #[test]
    fn curve_method_agrees_with_plain_iteration_away_from_spinodals() {
        for model in models() {
            for path in [Path::Diffusion, Path::Decimation] {
                let sparse_deci = path == Path::Decimation && model.e0() < 1.0;
                let ts = diagram::linspace(0.0, if sparse_deci { 0.012 } else { 0.25 }, 26);
                let se = se_path(&model, path, &ts).unwrap();
                let spins = [se.spinodal_low_t, se.spinodal_high_t];
                for pt in se.points.iter().filter(|pt| spins.iter().flatten().all(|&s| (pt.t - s).abs() > 3e-3)) {
                    let it = |m0| iterate_se(&model, path, pt.t, m0, 1e-15, 2_000_000).unwrap().0;
                    let (mu, mi) = (it(1e-6), it(model.e0()));
                    assert!((mu - pt.m_uninf).abs() < 1e-9, "{model:?} {path:?} {pt:?} {mu}");
                    assert!((mi - pt.m_inf).abs() < 1e-9, "{model:?} {path:?} {pt:?} {mi}");
                }
            }
        }
    }

    #[test]
    fn branches_resolved_right_next_to_the_spinodals() {
        // Cells within 1e-7 of sp2 / sp1 (closer than the curve sampling resolves)
        // keep their branch; checked against plain iteration (slow there, but exact).
        let cases = [
            (Model::new(3, Prior::Rademacher, 0.0689659318637275).unwrap(), Path::Diffusion),
            (Model::new(3, Prior::Gaussian, 0.0958316633266533).unwrap(), Path::Decimation),
            (Model::new(3, Prior::Rademacher, 0.34).unwrap(), Path::Decimation),
            (Model::new(2, SPARSE, 1.05 * RHO * RHO).unwrap(), Path::Diffusion),
        ];
        for (model, path) in cases {
            let tr = transition(&model, path).unwrap().unwrap();
            let it = |t, m0| iterate_se(&model, path, t, m0, 1e-15, 50_000_000).unwrap().0;
            let t = tr.spinodal_high_t * (1.0 - 1e-7);
            let pt = solve_point(&model, path, t).unwrap();
            assert!(pt.m_inf - pt.m_uninf > 0.1 * model.e0(), "{model:?} {path:?}");
            assert!((pt.m_uninf - it(t, 1e-6)).abs() < 1e-7, "{model:?} {path:?} sp2");
            if tr.spinodal_low_t > 0.0 {
                let t = tr.spinodal_low_t * (1.0 + 1e-7);
                let pt = solve_point(&model, path, t).unwrap();
                assert!(pt.m_inf - pt.m_uninf > 0.1 * model.e0(), "{model:?} {path:?}");
                assert!((pt.m_inf - it(t, model.e0())).abs() < 1e-7, "{model:?} {path:?} sp1");
            }
        }
    }

    #[test]
    fn equilibrium_switches_at_the_first_order_point() {
        let model = Model::new(3, Prior::Rademacher, 0.32).unwrap();
        for path in [Path::Diffusion, Path::Decimation] {
            let ts = diagram::linspace(0.0, 0.2, 81);
            let se = se_path(&model, path, &ts).unwrap();
            let it = se.first_order_t.unwrap();
            let (lo, hi) = (se.spinodal_low_t.unwrap(), se.spinodal_high_t.unwrap());
            assert!(lo < it && it < hi);
            for pt in se.points.iter().filter(|p| (p.t - it).abs() > 1e-9) {
                let in_window = pt.t > lo && pt.t < hi;
                assert_eq!(pt.m_inf - pt.m_uninf > 1e-6, in_window, "{path:?} t={}", pt.t);
                let want = if pt.t > it { pt.m_inf } else { pt.m_uninf };
                assert_eq!(pt.m_eq, want, "{path:?} t={}", pt.t);
                if in_window {
                    let b = if pt.t > it { Branch::Informed } else { Branch::Uninformed };
                    assert_eq!(pt.equilibrium, b, "{path:?} t={}", pt.t);
                }
            }
        }
    }
}
