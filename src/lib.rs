//! quench: reproducible sampling experiments on spin-glass and planted-inference
//! models. The science (`models`, `theory`, `samplers`, `amp`, `eval`) knows nothing
//! of the engine; the engine (`pipeline`, `engine`) knows nothing of physics;
//! `stages` is where they meet; `cluster` runs the engine's stages as Slurm jobs;
//! `report` and `cli` face the user.

pub mod amp;
pub mod bp;
pub mod cli;
pub mod cluster;
pub mod engine;
pub mod eval;
pub mod models;
pub mod observe;
pub mod pipeline;
pub mod report;
pub mod resume;
pub mod rng;
pub mod samplers;
pub mod stages;
pub mod theory;
pub mod train;
pub mod tui;
