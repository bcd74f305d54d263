//! What the user sees outside the TUI: headless progress lines and bars,
//! tables, exports of artifacts (csv / json / npy), figures (svg / png) and
//! the self-contained HTML report.

pub mod atomic;
pub mod export;
pub mod html;
pub mod plot;
pub mod progress;
pub mod table;
pub mod table_data;
