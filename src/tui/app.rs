//! The TUI application state beside the model: selection, which pane shows
//! what, overlays, and the mapping from keys to actions. No terminal here.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::model::{Model, Status};

/// What the right-hand pane shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Detail,
    Traces,
    Histograms,
    Results,
}

impl Pane {
    pub const ALL: [Pane; 4] = [Pane::Detail, Pane::Traces, Pane::Histograms, Pane::Results];

    pub fn title(&self) -> &'static str {
        match self {
            Pane::Detail => "Detail",
            Pane::Traces => "Traces",
            Pane::Histograms => "Histograms",
            Pane::Results => "Results",
        }
    }
}

/// The x axis of trace charts: chosen from the data, or forced with `x`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XScale {
    /// Logarithmic when most points sit in the first percent of the range
    /// (diffusion and flow paths), else linear.
    Auto,
    Linear,
    Log,
}

/// A request to the process running the pipeline (absent when watching a log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Control {
    CancelStage(String),
    Rerun(String),
    CancelAll,
}

/// What the main loop should do after a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    None,
    Quit,
    Send(Control),
}

pub struct App {
    pub model: Model,
    pub selected: usize,
    pub pane: Pane,
    /// Index of the trace group shown.
    pub group: usize,
    /// First histogram shown (a multiple of the page size when paging).
    pub hist_page: usize,
    pub xscale: XScale,
    pub zoom: bool,
    pub follow: bool,
    pub help: bool,
    pub confirm_quit: bool,
    /// True when this process runs the pipeline (keys c / r work).
    pub controls: bool,
    pub message: Option<String>,
    pub source: String,
    /// Wall clock for elapsed times while the run is live (None: use event times only).
    pub clock: Option<f64>,
}

impl App {
    pub fn new(source: &str, controls: bool) -> App {
        App {
            model: Model::default(),
            selected: 0,
            pane: Pane::Detail,
            group: 0,
            hist_page: 0,
            xscale: XScale::Auto,
            zoom: false,
            follow: true,
            help: false,
            confirm_quit: false,
            controls,
            message: None,
            source: source.to_string(),
            clock: None,
        }
    }

    /// The time elapsed times are measured to: the wall clock while the run
    /// is live, the last event once it has finished (or when replaying).
    /// A dead run (silent past its heartbeat) stops its clock at its last event.
    pub fn now(&self) -> Option<f64> {
        match (self.model.finished.is_some(), self.clock) {
            (false, Some(clock)) if self.dead_for().is_none() => {
                Some(self.model.last_time.map_or(clock, |t| t.max(clock)))
            }
            _ => self.model.last_time,
        }
    }

    /// Seconds the unfinished run has been silent, once that means it is dead.
    pub fn dead_for(&self) -> Option<f64> {
        self.clock.and_then(|clock| self.model.silent_for(clock))
    }

    /// Keeps the selection valid; in follow mode, on the first running stage.
    pub fn after_events(&mut self) {
        if self.follow {
            if let Some(i) = self.model.stages.iter().position(|s| s.status == Status::Running) {
                if self.selected != i {
                    self.selected = i;
                    self.group = 0;
                    self.hist_page = 0;
                }
            }
        }
        self.selected = self.selected.min(self.model.stages.len().saturating_sub(1));
    }

    pub fn selected_name(&self) -> Option<&str> {
        self.model.stages.get(self.selected).map(|s| s.name.as_str())
    }

    /// Stage indices in the order the list shows them (copies grouped).
    pub fn list_order(&self) -> Vec<(Option<String>, usize)> {
        let names: Vec<&str> = self.model.stages.iter().map(|s| s.name.as_str()).collect();
        super::names::grouped(&super::names::labels(&names))
    }

    /// Moves the selection `delta` rows in list order.
    fn move_selection(&mut self, delta: isize) {
        let order = self.list_order();
        if order.is_empty() {
            return;
        }
        let at = order.iter().position(|(_, i)| *i == self.selected).unwrap_or(0);
        let to = (at as isize + delta).clamp(0, order.len() as isize - 1) as usize;
        self.selected = order[to].1;
        self.follow = false;
        self.group = 0;
        self.hist_page = 0;
    }

    fn cycle_pane(&mut self, forward: bool) {
        let i = Pane::ALL.iter().position(|p| *p == self.pane).unwrap_or(0);
        let n = Pane::ALL.len();
        self.pane = Pane::ALL[if forward { (i + 1) % n } else { (i + n - 1) % n }];
    }

    /// Maps a key to an action, updating local state.
    pub fn on_key(&mut self, key: KeyEvent) -> Action {
        if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
            // A second Ctrl-C while the quit dialog is open quits at once.
            return if self.confirm_quit { Action::Quit } else { self.request_quit() };
        }
        if self.confirm_quit {
            self.confirm_quit = false;
            return match key.code {
                KeyCode::Char('y') | KeyCode::Char('Y') => Action::Quit,
                _ => {
                    self.message = Some("still running".into());
                    Action::None
                }
            };
        }
        if self.help {
            self.help = false;
            return Action::None;
        }
        self.message = None;
        match key.code {
            KeyCode::Char('q') | KeyCode::Esc => return self.request_quit(),
            KeyCode::Char('?') => self.help = true,
            KeyCode::Down | KeyCode::Char('j') => self.move_selection(1),
            KeyCode::Up | KeyCode::Char('k') => self.move_selection(-1),
            KeyCode::PageDown => self.move_selection(10),
            KeyCode::PageUp => self.move_selection(-10),
            KeyCode::Home | KeyCode::Char('g') => self.move_selection(-(self.model.stages.len() as isize)),
            KeyCode::End | KeyCode::Char('G') => self.move_selection(self.model.stages.len() as isize),
            KeyCode::Tab | KeyCode::Right | KeyCode::Char('l') => self.cycle_pane(true),
            KeyCode::BackTab | KeyCode::Left | KeyCode::Char('h') => self.cycle_pane(false),
            KeyCode::Enter => self.zoom = !self.zoom,
            KeyCode::Char('s') | KeyCode::Char(']') => self.group += 1,
            KeyCode::Char('S') | KeyCode::Char('[') => self.group = self.group.saturating_sub(1),
            KeyCode::Char('n') => self.hist_page += 1,
            KeyCode::Char('p') => self.hist_page = self.hist_page.saturating_sub(1),
            KeyCode::Char('x') => {
                self.xscale = match self.xscale {
                    XScale::Auto => XScale::Log,
                    XScale::Log => XScale::Linear,
                    XScale::Linear => XScale::Auto,
                };
                self.message = Some(format!("x axis: {:?}", self.xscale).to_lowercase());
            }
            KeyCode::Char('f') => {
                self.follow = !self.follow;
                self.message = Some(if self.follow { "following the running stage" } else { "follow off" }.into());
                self.after_events();
            }
            KeyCode::Char('c') => return self.stage_control(true),
            KeyCode::Char('r') => return self.stage_control(false),
            _ => {}
        }
        Action::None
    }

    fn request_quit(&mut self) -> Action {
        if self.controls && self.model.running() > 0 && self.model.finished.is_none() {
            self.confirm_quit = true;
            Action::None
        } else {
            Action::Quit
        }
    }

    fn stage_control(&mut self, cancel: bool) -> Action {
        let Some(stage) = self.model.stages.get(self.selected) else {
            return Action::None;
        };
        if !self.controls {
            self.message = Some("watching a run log: read-only".into());
            return Action::None;
        }
        if cancel && stage.status != Status::Running {
            self.message = Some(format!("`{}` is not running", stage.name));
            return Action::None;
        }
        if !cancel && !stage.status.is_done() {
            self.message = Some(format!("`{}` has not finished yet", stage.name));
            return Action::None;
        }
        let name = stage.name.clone();
        self.message = Some(format!("{} `{name}`", if cancel { "cancelling" } else { "re-running" }));
        Action::Send(if cancel { Control::CancelStage(name) } else { Control::Rerun(name) })
    }
}
