//! Running a plan's stages on a Slurm cluster: the `[slurm]` settings
//! (`config`), the Slurm commands (`slurm`), one stage as one job seen from
//! both ends (`job`: its spec and script, and `run-stage` on the node), and
//! the submit/poll loop that turns job states into the run's events
//! (`submit`). The cache is the only channel between the submitting machine
//! and the nodes, so it must be on a shared filesystem. Like the engine, this
//! module knows nothing of physics: stages stay opaque.

pub mod config;
pub mod job;
pub mod slurm;
pub mod submit;

pub use config::{ExecutorKind, SlurmConfig};
