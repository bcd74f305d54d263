//! Threads by budget: each scheduler worker runs its stages on its own rayon
//! pool, holding its share of the cores, so stages side by side do not queue
//! behind each other's tasks in one global pool (a long task of one stage
//! stolen by a thread the other stage waits on). The share is the thread
//! budget (`RAYON_NUM_THREADS`, else the machine's cores) divided by the
//! number of stages that can run at once: `--jobs`, capped by the widest level
//! of the plan's DAG, so a chain of stages still gets every core. The science
//! chunks its work independently of the thread count, so artifacts are the
//! same bits for any budget.

use super::plan::Plan;

/// The rayon pool for one worker of a run over `selected` stages with `jobs`
/// workers, or `None` when it cannot be built (then the global pool is used).
pub fn worker_pool(plan: &Plan, selected: &[bool], jobs: usize) -> Option<rayon::ThreadPool> {
    let threads = threads_per_stage(total_threads(), jobs, dag_width(plan, selected));
    rayon::ThreadPoolBuilder::new().num_threads(threads).thread_name(|i| format!("quench-stage-{i}")).build().ok()
}

/// Threads each running stage gets: the budget shared by the stages that can
/// run at once, at least one.
pub fn threads_per_stage(total: usize, jobs: usize, width: usize) -> usize {
    (total / jobs.min(width).max(1)).max(1)
}

/// The run's thread budget: `RAYON_NUM_THREADS` when set to a positive
/// number, else the cores available to this process.
pub fn total_threads() -> usize {
    std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// The most selected stages on one level of the DAG (a stage's level is the
/// longest chain of selected inputs below it). Stages on one level never
/// depend on each other, so that many can run at once.
pub fn dag_width(plan: &Plan, selected: &[bool]) -> usize {
    let mut level = vec![0usize; plan.stages.len()];
    let mut per_level: Vec<usize> = Vec::new();
    // Plans are in topological order: inputs come before the stages using them.
    for (i, stage) in plan.stages.iter().enumerate() {
        if !selected.get(i).copied().unwrap_or(false) {
            continue;
        }
        let below = stage.inputs.iter().filter(|&&j| selected.get(j).copied().unwrap_or(false)).map(|&j| level[j] + 1);
        level[i] = below.max().unwrap_or(0);
        if per_level.len() <= level[i] {
            per_level.resize(level[i] + 1, 0);
        }
        per_level[level[i]] += 1;
    }
    per_level.into_iter().max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::key::stage_key;
    use crate::engine::PlannedStage;

    /// A plan whose stage `i` reads `inputs[i]`.
    fn plan(inputs: &[&[usize]]) -> Plan {
        let stages = inputs
            .iter()
            .enumerate()
            .map(|(i, ins)| PlannedStage {
                name: format!("s{i}"),
                kind: "test",
                version: 1,
                params: Default::default(),
                inputs: ins.to_vec(),
                input_keys: vec![],
                input_names: vec![],
                key: stage_key("test", 1, &[i as u8], 0, &[]),
                seed: 0,
            })
            .collect();
        Plan { pipeline: "p".into(), stages }
    }

    #[test]
    fn width_counts_stages_that_can_run_at_once() {
        let chain = plan(&[&[], &[0], &[1]]);
        assert_eq!(dag_width(&chain, &[true; 3]), 1);
        assert_eq!(dag_width(&chain, &[false, true, true]), 1);
        assert_eq!(dag_width(&chain, &[false; 3]), 0);
        // Levels: {0, 3}, {1, 2}, {4}.
        let fan = plan(&[&[], &[0], &[0], &[], &[1, 2, 3]]);
        assert_eq!(dag_width(&fan, &[true; 5]), 2);
        assert_eq!(dag_width(&fan, &[false, true, true, true, true]), 3);
    }

    #[test]
    fn each_stage_gets_its_share_and_at_least_one_thread() {
        assert_eq!(threads_per_stage(8, 2, 5), 4);
        assert_eq!(threads_per_stage(8, 8, 1), 8);
        assert_eq!(threads_per_stage(8, 3, 3), 2);
        assert_eq!(threads_per_stage(2, 4, 4), 1);
        assert_eq!(threads_per_stage(2, 1, 0), 2);
    }
}
