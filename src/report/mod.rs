//! What the user sees outside the TUI: headless progress lines and bars,
//! tables, and exports of artifacts (csv / json / npy).

pub mod export;
pub mod plot;
pub mod progress;
pub mod table;
pub mod table_data;
