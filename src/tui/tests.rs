//! Rendering snapshots (ratatui TestBackend + insta) of every view at 80x24
//! and 60x20 (and the list at 200 columns), built from a recorded event
//! sequence: swept copies, a finished comparison, paged histograms, a
//! diffusion path on a log axis, a phase diagram, a dead run.

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
                pid: 4242,
                host: "lab".into(),
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

/// The recorded run, plus: a second swept copy of every stage, a diffusion
/// stage with a path (t to 200, structure at t < 3) and six histograms, a
/// phase diagram, and the comparison finished with its summary.
fn full_run() -> Vec<Event> {
    let mut events = recorded();
    let copy = "mcmc[inst.temperature=0.8]";
    events.push(ev(
        "inst[inst.temperature=0.8]",
        0.0,
        queued("disorder.spiked-tensor", &[], serde_json::json!({"n": 200, "temperature": 0.8})),
    ));
    events.push(ev(copy, 0.0, queued("sample.metropolis", &["inst[inst.temperature=0.8]"], serde_json::json!({}))));
    events.push(ev(copy, 0.5, EventBody::Started));
    events.push(ev(
        copy,
        1.0,
        EventBody::Finished { cached: false, artifact_hash: crate::engine::ArtifactHash([0xaa; 32]), wall_ms: 800 },
    ));
    let sl = "diffusion[inst.temperature=0.71]";
    events.push(ev(sl, 0.0, queued("sample.diffusion", &["inst[inst.temperature=0.71]"], serde_json::json!({}))));
    events.push(ev(sl, 0.5, EventBody::Started));
    let mut t: f64 = 0.0;
    while t <= 200.0 {
        let m = 1.0 / (1.0 + (-(t - 1.2) * 6.0).exp());
        events.push(ev(sl, 1.0, EventBody::Trace { series: "m_hat_sq".into(), x: t, y: m }));
        events.push(ev(sl, 1.0, EventBody::Trace { series: "m_uninf".into(), x: t, y: 0.9 * m }));
        t = if t < 3.0 { t + 0.01 } else { t * 1.15 };
    }
    let edges: Vec<f64> = (0..=10).map(|i| -1.0 + 0.2 * i as f64).collect();
    for k in 0..6 {
        let counts: Vec<u64> = (0..10).map(|i| ((i * (k + 3)) % 11) as u64).collect();
        let name = format!("overlap with planted, trajectory block {k}");
        events.push(ev(sl, 2.0, EventBody::Histogram { name, edges: edges.clone(), counts }));
    }
    events.push(ev(sl, 2.1, EventBody::Progress { done: 4_200, total: 12_320 }));
    let theory = "theory";
    events.push(ev(theory, 0.0, queued("theory.phase-diagram", &[], serde_json::json!({"p": 3}))));
    events.push(ev(theory, 0.1, EventBody::Started));
    for (series, shift) in
        [("diagram/lower spinodal", 0.0), ("diagram/first order", 0.3), ("diagram/upper spinodal", 0.6)]
    {
        for k in 0..=20 {
            let temperature = 0.5 + 0.02 * k as f64;
            events.push(ev(
                theory,
                0.2,
                EventBody::Trace { series: series.into(), x: temperature, y: shift + k as f64 * 0.05 },
            ));
        }
    }
    events.push(ev(theory, 0.2, EventBody::Trace { series: "diagram/end point".into(), x: 0.9, y: 1.6 }));
    events.push(ev(
        theory,
        0.3,
        EventBody::Finished { cached: false, artifact_hash: crate::engine::ArtifactHash([0xcc; 32]), wall_ms: 200 },
    ));
    let summary = serde_json::json!({
        "model": "spiked-tensor p=3", "n": 200, "temperature": 0.71, "delta": 1.0,
        "equilibrium_energy": -0.6941, "planted_energy": -0.70, "bayes_overlap": 0.8213,
        "samplers": [
            {"stage": "mcmc[inst.temperature=0.71]", "sampler": "sample.metropolis", "samples": 400,
             "energy_excess": 0.00123, "energy_stderr": 0.0021, "overlap_planted_mean": 0.8102,
             "r_hat": 1.004, "verdict": "consistent", "predicted": "works"},
            {"stage": "diffusion[inst.temperature=0.71]", "sampler": "sample.diffusion", "samples": 8,
             "energy_excess": 0.0412, "energy_stderr": 0.0035, "overlap_planted_mean": 0.3120,
             "r_hat": null, "verdict": "biased", "predicted": "fails"},
            {"stage": "langevin[inst.temperature=0.71]", "sampler": "sample.langevin", "samples": 8,
             "energy_excess": 0.0102, "energy_stderr": 0.0090, "overlap_planted_mean": 0.79, "r_hat": 1.31}
        ]
    });
    events.push(ev("compare", 3.7, EventBody::Started));
    events.push(ev("compare", 3.8, EventBody::Summary { summary }));
    events.push(ev(
        "compare",
        3.8,
        EventBody::Finished { cached: false, artifact_hash: crate::engine::ArtifactHash([0xdd; 32]), wall_ms: 90 },
    ));
    events
}

const SIZES: [(u16, u16); 2] = [(80, 24), (60, 20)];

#[test]
fn every_view_at_80x24_and_60x20() {
    let mut app = app_with(&full_run());
    app.follow = false;
    let select = |app: &mut App, name: &str| {
        app.selected = app.model.stages.iter().position(|s| s.name == name).unwrap();
    };
    let views: [(&str, &str, Pane); 8] = [
        ("mcmc_detail", "mcmc[inst.temperature=0.71]", Pane::Detail),
        ("mcmc_traces", "mcmc[inst.temperature=0.71]", Pane::Traces),
        ("diffusion_path_log_x", "diffusion[inst.temperature=0.71]", Pane::Traces),
        ("histograms_page_1", "diffusion[inst.temperature=0.71]", Pane::Histograms),
        ("phase_diagram", "theory", Pane::Traces),
        ("compare_detail", "compare", Pane::Detail),
        ("results", "compare", Pane::Results),
        ("results_of_all_evals", "theory", Pane::Results),
    ];
    for (name, stage, pane) in views {
        select(&mut app, stage);
        app.pane = pane;
        for (w, h) in SIZES {
            insta::assert_snapshot!(format!("{name}_{w}x{h}"), render(&app, w, h));
        }
    }
    select(&mut app, "diffusion[inst.temperature=0.71]");
    app.pane = Pane::Histograms;
    app.on_key(key(KeyCode::Char('n')));
    for (w, h) in SIZES {
        insta::assert_snapshot!(format!("histograms_page_2_{w}x{h}"), render(&app, w, h));
    }
    app.on_key(key(KeyCode::Char('?')));
    for (w, h) in SIZES {
        insta::assert_snapshot!(format!("help_{w}x{h}"), render(&app, w, h));
    }
    insta::assert_snapshot!("list_200x30", render(&app_with(&full_run()), 200, 30));
}

#[test]
fn a_silent_run_is_shown_dead_with_its_clock_stopped() {
    let mut app = app_with(&recorded());
    app.clock = Some(1_000.0 + 3.6 + 65.5);
    assert!(app.dead_for().is_some());
    assert_eq!(app.now(), Some(1_003.6), "the clock stops at the last event");
    let screen = render(&app, 80, 24);
    assert!(screen.contains("DEAD: no heartbeat for 1m05s") && screen.contains("stalled"), "{screen}");
    insta::assert_snapshot!("dead_run_80x24", screen);
    insta::assert_snapshot!("dead_run_60x20", render(&app, 60, 20));
    // A heartbeat brings it back to life.
    app.model.apply(&ev("demo", 68.0, EventBody::Heartbeat));
    assert!(app.dead_for().is_none());
    // Once the run has finished, heartbeats (the process lives on while the
    // monitor is open) do not move its elapsed time.
    app.model.apply(&ev("demo", 69.0, EventBody::RunFinished { status: "ok".into() }));
    app.model.apply(&ev("demo", 75.0, EventBody::Heartbeat));
    app.clock = Some(1_080.0);
    assert_eq!(app.now(), Some(1_069.0));
}

#[test]
fn header_and_footer_drop_items_never_words() {
    let app = app_with(&recorded());
    for width in [40, 50, 60, 80] {
        let screen = render(&app, width, 12);
        let lines: Vec<&str> = screen.lines().collect();
        let (header, footer) = (lines[0], lines[lines.len() - 1]);
        assert!(header.contains("1 running") && header.contains("3.6s"), "{width}: {header}");
        assert!(footer.contains("q quit") && footer.contains("? help"), "{width}: {footer}");
        for word in ["quench", "move", "pane", "zoom", "cancel", "rerun", "follow", "done"] {
            let cut = &word[..word.len() - 1];
            for part in [header, footer] {
                let cut_word = part.split(|c: char| !c.is_alphanumeric()).any(|w| w == cut);
                assert!(!cut_word, "{width}: `{word}` cut in {part}");
            }
        }
    }
}

#[test]
fn a_second_ctrl_c_quits_at_once() {
    let mut app = app_with(&recorded());
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert_eq!(app.on_key(ctrl_c), Action::None);
    assert!(app.confirm_quit);
    assert_eq!(app.on_key(ctrl_c), Action::Quit);
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
fn follow_selects_the_running_stage_and_s_switches_groups() {
    let mut app = app_with(&recorded());
    assert_eq!(app.selected_name(), Some("mcmc[inst.temperature=0.71]"), "follow selects the running stage");
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
    assert!(app.help);
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
        for (w, h) in [(1, 1), (10, 3), (20, 5), (30, 8), (60, 20), (80, 6), (200, 10)] {
            render(&app, w, h);
        }
    }
    render(&App::new("empty", false), 80, 24);
    let mut full = app_with(&full_run());
    for pane in Pane::ALL {
        full.pane = pane;
        for stage in 0..full.model.stages.len() {
            full.selected = stage;
            for (w, h) in [(1, 1), (12, 4), (30, 8), (45, 12)] {
                render(&full, w, h);
            }
        }
    }
}
