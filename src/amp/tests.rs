use super::*;
use crate::models::Disorder;

#[test]
fn fixed_sites_keep_their_values_and_leave_the_onsager_sum() {
    let d = Disorder::spiked_tensor(30, Prior::Rademacher, 0.5, 3);
    let amp = Amp::new(&d, Precision::F32, AmpParams::default());
    let mut fixed = vec![None; 30];
    fixed[4] = Some(1.0);
    fixed[7] = Some(-1.0);
    let mut state = amp.start();
    let solve = amp.solve(&mut state, &Measure::decimated(&fixed));
    assert!(solve.converged);
    assert_eq!((state.x_hat[4], state.x_hat[7], state.v[4], state.v[7]), (1.0, -1.0, 0.0, 0.0));
    assert!(state.x_hat.iter().all(|v| v.abs() <= 1.0));
}
