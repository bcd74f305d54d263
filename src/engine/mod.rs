//! The engine: content keys, the artifact codec and cache, the scheduler, the
//! event stream and run log. It schedules opaque stages through `Executor` and
//! knows nothing about physics.

pub mod budget;
pub mod checkpoint;
pub mod codec;
pub mod events;
pub mod key;
pub mod plan;
pub mod record;
pub mod runlog;
pub mod scheduler;
pub mod status;
pub mod store;

pub use codec::Payload;
pub use events::{Event, EventBody};
pub use key::{ArtifactHash, ContentKey};
pub use plan::{Plan, PlannedStage};
pub use scheduler::{CancelFlags, Executor, Outcome, Output, RunOptions};
pub use store::{Cache, Lookup};
