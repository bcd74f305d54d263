//! Rendering snapshots (ratatui TestBackend + insta) of every view at 80x24
//! and at a wide size, built from a recorded event sequence.

use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;

use super::app::{Action, App, Control, Pane};
use super::view;
use crate::engine::{Event, EventBody};

fn ev(stage: &str, time: f64, body: EventBody) -> Event {
    Event { time: 1_000.0 + time, stage: stage.into(), body }
}

fn queued(kind: &str, inputs: &[&str], params: serde_json::Value) -> EventBody {
    EventBody::Queued {
        kind: kind.into(),
        key: "3f2a9c1d2e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b".parse().unwrap(),
        inputs: inputs.iter().map(|s| s.to_string()).collect(),
        params,
    }
}

/// A recorded run: a cached instance, a running sampler with traces and
/// histograms, a failed stage and one still queued.
fn recorded() -> Vec<Event> {
    let mut events = vec![
        ev(
            "demo",
            0.0,
            EventBody::RunStarted {
                run_id: "20261128-120000-000-1".into(),
                pipeline: "pipelines/demo.toml".into(),
                stages: 4,
            },
        ),
        ev(
            "inst[inst.temperature=0.71]",
            0.0,
            queued("disorder.spiked-tensor", &[], serde_json::json!({"n": 200, "temperature": 0.71})),
        ),
        ev(
            "mcmc[inst.temperature=0.71]",
            0.0,
            queued(
                "sample.metropolis",
                &["inst[inst.temperature=0.71]"],
                serde_json::json!({"chains": 4, "sweeps": 300}),
            ),
        ),
        ev(
            "broken",
            0.0,
            queued("sample.langevin", &["inst[inst.temperature=0.71]"], serde_json::json!({"dt": 0.003})),
        ),
        ev(
            "compare",
            0.0,
            queued(
                "eval.compare",
                &["inst[inst.temperature=0.71]", "mcmc[inst.temperature=0.71]"],
                serde_json::json!({}),
            ),
        ),
        ev(
            "inst[inst.temperature=0.71]",
            0.1,
            EventBody::Finished {
                cached: true,
                artifact_hash: format!("bc26659d4346b5788e20{}", "0".repeat(44)).parse().unwrap(),
                wall_ms: 255,
            },
        ),
        ev("mcmc[inst.temperature=0.71]", 0.2, EventBody::Started),
        ev("broken", 0.2, EventBody::Started),
        ev("broken", 0.3, EventBody::Failed { error: "stage panicked: step size too large".into() }),
    ];
    for k in 0..=60 {
        let t = k as f64 * 5.0;
        let energy = -0.69 + 0.3 * (-t / 60.0).exp();
        events.push(ev(
            "mcmc[inst.temperature=0.71]",
            0.3 + t / 100.0,
            EventBody::Trace { series: "energy/chain mean".into(), x: t, y: energy },
        ));
        events.push(ev(
            "mcmc[inst.temperature=0.71]",
            0.3 + t / 100.0,
            EventBody::Trace { series: "energy/Nishimori".into(), x: t, y: -0.694 },
        ));
        events.push(ev(
            "mcmc[inst.temperature=0.71]",
            0.3 + t / 100.0,
            EventBody::Trace { series: "overlap/planted".into(), x: t, y: 0.8 * (1.0 - (-t / 40.0).exp()) },
        ));
    }
    events.push(ev("mcmc[inst.temperature=0.71]", 3.4, EventBody::Progress { done: 300, total: 1000 }));
    let counts = vec![0, 1, 3, 8, 15, 22, 15, 8, 3, 1];
    let edges: Vec<f64> = (0..=10).map(|i| -1.0 + 0.2 * i as f64).collect();
    events.push(ev(
        "mcmc[inst.temperature=0.71]",
        3.5,
        EventBody::Histogram { name: "P(q)".into(), edges: edges.clone(), counts: counts.clone() },
    ));
    events.push(ev(
        "mcmc[inst.temperature=0.71]",
        3.5,
        EventBody::Histogram {
            name: "overlap with planted".into(),
            edges,
            counts: counts.iter().rev().copied().collect(),
        },
    ));
    events.push(ev(
        "mcmc[inst.temperature=0.71]",
        3.6,
        EventBody::Log { level: "info".into(), message: "burn-in done after 100 sweeps".into() },
    ));
    events
}

fn app_with(events: &[Event]) -> App {
    let mut app = App::new("pipelines/demo.toml", true);
    for e in events {
        app.model.apply(e);
    }
    app.after_events();
    app
}

fn render(app: &App, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|f| view::draw(f, app)).unwrap();
    terminal.backend().to_string()
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

#[test]
fn views_at_80x24_and_wide() {
    let mut app = app_with(&recorded());
    assert_eq!(app.selected_name(), Some("mcmc[inst.temperature=0.71]"), "follow selects the running stage");
    for (pane, name) in [(Pane::Detail, "detail"), (Pane::Traces, "traces"), (Pane::Histograms, "histograms")] {
        app.pane = pane;
        insta::assert_snapshot!(format!("{name}_80x24"), render(&app, 80, 24));
        insta::assert_snapshot!(format!("{name}_140x40"), render(&app, 140, 40));
    }
    app.pane = Pane::Traces;
    app.on_key(key(KeyCode::Char('s')));
    insta::assert_snapshot!("traces_second_group_80x24", render(&app, 80, 24));
}

#[test]
fn failed_stage_detail_help_and_zoom() {
    let mut app = app_with(&recorded());
    app.on_key(key(KeyCode::Down));
    assert_eq!(app.selected_name(), Some("broken"));
    insta::assert_snapshot!("failed_detail_80x24", render(&app, 80, 24));
    app.on_key(key(KeyCode::Char('?')));
    insta::assert_snapshot!("help_80x24", render(&app, 80, 24));
    app.on_key(key(KeyCode::Char('x')));
    assert!(!app.help);
    app.on_key(key(KeyCode::Up));
    app.on_key(key(KeyCode::Tab));
    app.on_key(key(KeyCode::Enter));
    insta::assert_snapshot!("zoomed_traces_80x24", render(&app, 80, 24));
}

#[test]
fn keys_map_to_controls_and_quit_asks_while_running() {
    let mut app = app_with(&recorded());
    assert_eq!(
        app.on_key(key(KeyCode::Char('c'))),
        Action::Send(Control::CancelStage("mcmc[inst.temperature=0.71]".into()))
    );
    app.on_key(key(KeyCode::Char('k')));
    assert_eq!(app.selected_name(), Some("inst[inst.temperature=0.71]"));
    assert_eq!(app.on_key(key(KeyCode::Char('r'))), Action::Send(Control::Rerun("inst[inst.temperature=0.71]".into())));
    assert_eq!(app.on_key(key(KeyCode::Char('q'))), Action::None);
    assert!(app.confirm_quit);
    insta::assert_snapshot!("confirm_quit_80x24", render(&app, 80, 24));
    assert_eq!(app.on_key(key(KeyCode::Char('n'))), Action::None);
    assert_eq!(app.on_key(key(KeyCode::Char('q'))), Action::None);
    assert_eq!(app.on_key(key(KeyCode::Char('y'))), Action::Quit);
    let mut watcher = App::new("log", false);
    watcher.model = app.model.clone();
    assert_eq!(watcher.on_key(key(KeyCode::Char('c'))), Action::None, "watching is read-only");
    assert_eq!(watcher.on_key(key(KeyCode::Char('q'))), Action::Quit, "quitting a watch never asks");
}

#[test]
fn tiny_terminals_do_not_panic() {
    let mut app = app_with(&recorded());
    for pane in Pane::ALL {
        app.pane = pane;
        for (w, h) in [(1, 1), (10, 3), (20, 5), (80, 6), (200, 10)] {
            render(&app, w, h);
        }
    }
    render(&App::new("empty", false), 80, 24);
}
