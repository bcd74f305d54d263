//! The terminal monitor (ratatui + crossterm). It renders state built only
//! from events: a live run's channel or a run log followed from disk. One loop
//! merges the event feed, keys and a redraw cap (30 fps); it never waits on a
//! stage. The terminal is restored on exit, error and panic; after a hang-up
//! (the caller's flag) the loop lets go of the terminal at once.

pub mod app;
mod charts;
pub mod model;
pub mod names;
mod results;
pub mod view;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, TryRecvError};
use std::time::{Duration, Instant};

use ratatui::crossterm::event::{self, Event as TermEvent, KeyEventKind};

use crate::engine::Event;
pub use app::{App, Control};

/// Minimum time between two frames.
const FRAME: Duration = Duration::from_millis(33);
/// How often the clock (elapsed times) refreshes.
const TICK: Duration = Duration::from_millis(500);
/// Events applied per loop turn at most, so keys stay responsive under floods.
const EVENTS_PER_TURN: usize = 50_000;

/// Restores the terminal when dropped (normal exit, `?` errors, unwinding);
/// a terminal that is gone is not an error.
struct Restore;

impl Drop for Restore {
    fn drop(&mut self) {
        let _ = ratatui::try_restore();
    }
}

/// Runs the monitor until the user quits. `controls` is present when this
/// process runs the pipeline (cancel / re-run keys work).
pub fn run(source: &str, events: Receiver<Event>, controls: Option<Sender<Control>>) -> std::io::Result<App> {
    run_until(source, events, controls, &AtomicBool::new(false))
}

/// As `run`, and returns as soon as `hangup` is set (the terminal is gone).
pub fn run_until(
    source: &str,
    events: Receiver<Event>,
    controls: Option<Sender<Control>>,
    hangup: &AtomicBool,
) -> std::io::Result<App> {
    let mut terminal = ratatui::try_init()?;
    let _restore = Restore;
    let mut app = App::new(source, controls.is_some());
    let mut feed_open = true;
    let (mut dirty, mut last_draw) = (true, Instant::now() - FRAME);
    let mut last_tick = Instant::now();
    loop {
        if hangup.load(Ordering::SeqCst) {
            return Ok(app);
        }
        if last_tick.elapsed() >= TICK {
            app.clock = Some(crate::engine::record::now());
            last_tick = Instant::now();
            dirty = true;
        }
        if feed_open {
            let mut applied = 0;
            loop {
                match events.try_recv() {
                    Ok(e) => {
                        app.model.apply(&e);
                        applied += 1;
                        if applied >= EVENTS_PER_TURN {
                            break;
                        }
                    }
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => {
                        feed_open = false;
                        break;
                    }
                }
            }
            if applied > 0 {
                app.after_events();
                dirty = true;
            }
        }
        if dirty && last_draw.elapsed() >= FRAME {
            terminal.draw(|frame| view::draw(frame, &app))?;
            last_draw = Instant::now();
            dirty = false;
        }
        if event::poll(Duration::from_millis(15))? {
            match event::read()? {
                TermEvent::Key(key) if key.kind == KeyEventKind::Press => {
                    dirty = true;
                    match app.on_key(key) {
                        app::Action::Quit => break,
                        app::Action::Send(control) => {
                            if let Some(tx) = &controls {
                                let _ = tx.send(control);
                            }
                        }
                        app::Action::None => {}
                    }
                }
                TermEvent::Resize(..) => dirty = true,
                _ => {}
            }
        }
    }
    Ok(app)
}

#[cfg(test)]
mod tests;
