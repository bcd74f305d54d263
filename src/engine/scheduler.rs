//! The local scheduler: runs a plan's stages on `jobs` worker threads in
//! dependency order. A stage whose valid artifact is cached is not run; any
//! other is computed under the cache's stage lock, stored atomically and
//! recorded. Events go to one channel; cancellation is cooperative.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use super::checkpoint::{self, Checkpoints, Pacer};
use super::codec::Payload;
use super::events::{Event, EventBody};
use super::key::ArtifactHash;
use super::plan::{Plan, PlannedStage};
use super::record::{now, Record};
use super::store::{Cache, Lookup};
use crate::observe::{Cancelled, Observer};

/// What a stage computation returns: the artifact (encoded as it is
/// written to the cache) and its summary.
pub struct Output {
    pub payload: Payload,
    pub summary: serde_json::Value,
}

/// Computes stages. Implemented by the stage catalog; opaque to the engine.
pub trait Executor: Sync {
    fn execute(&self, stage: &PlannedStage, inputs: Vec<Vec<u8>>, observer: &dyn Observer) -> anyhow::Result<Output>;
}

/// Flags a run checks to stop: the whole run, or single stages.
pub struct CancelFlags {
    pub all: AtomicBool,
    pub stages: Vec<AtomicBool>,
}

impl CancelFlags {
    pub fn new(stages: usize) -> CancelFlags {
        CancelFlags { all: AtomicBool::new(false), stages: (0..stages).map(|_| AtomicBool::new(false)).collect() }
    }

    pub fn is_set(&self, stage: usize) -> bool {
        self.all.load(Ordering::Relaxed) || self.stages[stage].load(Ordering::Relaxed)
    }
}

pub struct RunOptions<'a> {
    pub jobs: usize,
    /// Stages to recompute even when cached.
    pub force: Vec<bool>,
    /// Stages to run (the others are left alone).
    pub selected: Vec<bool>,
    pub cancel: &'a CancelFlags,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    NotRun,
    Cached,
    Computed,
    Failed(String),
    Cancelled(String),
}

#[derive(Clone, Copy, PartialEq)]
enum State {
    Waiting,
    Running,
    Done,
}

struct Shared {
    state: Vec<State>,
    outcomes: Vec<Outcome>,
}

/// What every worker of one scheduler pass works with.
struct Context<'a> {
    plan: &'a Plan,
    cache: &'a Cache,
    executor: &'a dyn Executor,
    options: &'a RunOptions<'a>,
    events: &'a Sender<Event>,
}

impl Context<'_> {
    fn emit(&self, stage: &PlannedStage, body: EventBody) {
        emit(self.events, &stage.name, body);
    }

    fn fail(&self, stage: &PlannedStage, error: String) -> Outcome {
        self.emit(stage, EventBody::Failed { error: error.clone() });
        Outcome::Failed(error)
    }
}

/// Runs the selected stages; returns one outcome per stage of the plan.
pub fn run(
    plan: &Plan,
    cache: &Cache,
    executor: &dyn Executor,
    options: &RunOptions,
    events: &Sender<Event>,
) -> Vec<Outcome> {
    let n = plan.stages.len();
    let shared = Mutex::new(Shared {
        state: (0..n).map(|i| if options.selected[i] { State::Waiting } else { State::Done }).collect(),
        outcomes: vec![Outcome::NotRun; n],
    });
    let wake = Condvar::new();
    let ctx = Context { plan, cache, executor, options, events };
    emit_queued(plan, &options.selected, events);
    // No more workers than stages to run: a large `jobs` costs nothing on a small plan.
    let workers = options.jobs.clamp(1, options.selected.iter().filter(|s| **s).count().max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| worker(&ctx, &shared, &wake));
        }
    });
    shared.into_inner().map(|s| s.outcomes).unwrap_or_else(|p| p.into_inner().outcomes)
}

/// `queued` for every selected stage (the first events of a scheduler pass).
pub fn emit_queued(plan: &Plan, selected: &[bool], events: &Sender<Event>) {
    for (_, stage) in plan.stages.iter().enumerate().filter(|(i, _)| selected[*i]) {
        let inputs = stage.inputs.iter().map(|&j| plan.stages[j].name.clone()).collect();
        let params = serde_json::to_value(&stage.params).unwrap_or_default();
        emit(events, &stage.name, EventBody::Queued { kind: stage.kind.into(), key: stage.key, inputs, params });
    }
}

fn emit(events: &Sender<Event>, stage: &str, body: EventBody) {
    let _ = events.send(Event::now(stage, body));
}

fn worker(ctx: &Context, shared: &Mutex<Shared>, wake: &Condvar) {
    // This worker's share of the cores (built when it first gets a stage); its stages run inside it.
    let pool = std::cell::OnceCell::new();
    loop {
        let next = {
            let mut guard = shared.lock().unwrap_or_else(|p| p.into_inner());
            loop {
                settle(ctx, &mut guard);
                if guard.state.iter().all(|s| *s == State::Done) {
                    wake.notify_all();
                    return;
                }
                if let Some(i) = ready(ctx.plan, &guard) {
                    guard.state[i] = State::Running;
                    break i;
                }
                guard = wake
                    .wait_timeout(guard, Duration::from_millis(50))
                    .map(|(g, _)| g)
                    .unwrap_or_else(|p| p.into_inner().0);
            }
        };
        let run = || process(ctx, next);
        let outcome =
            match pool.get_or_init(|| super::budget::worker_pool(ctx.plan, &ctx.options.selected, ctx.options.jobs)) {
                Some(pool) => pool.install(run),
                None => run(),
            };
        let mut guard = shared.lock().unwrap_or_else(|p| p.into_inner());
        guard.state[next] = State::Done;
        guard.outcomes[next] = outcome;
        drop(guard);
        wake.notify_all();
    }
}

/// The first waiting stage whose inputs are all available.
fn ready(plan: &Plan, shared: &Shared) -> Option<usize> {
    (0..plan.stages.len()).find(|&i| {
        shared.state[i] == State::Waiting
            && plan.stages[i].inputs.iter().all(|&j| matches!(shared.outcomes[j], Outcome::Cached | Outcome::Computed))
    })
}

/// Marks waiting stages that can no longer run (an input failed or was
/// cancelled, or the stage was cancelled) as done.
fn settle(ctx: &Context, shared: &mut Shared) {
    let plan = ctx.plan;
    for i in 0..plan.stages.len() {
        if shared.state[i] != State::Waiting {
            continue;
        }
        let blocked = blocked(plan, i, &shared.outcomes, |j| shared.state[j] == State::Done);
        let reason = blocked.or_else(|| ctx.options.cancel.is_set(i).then(|| "run cancelled".to_string()));
        if let Some(reason) = reason {
            ctx.emit(&plan.stages[i], EventBody::Cancelled { reason: reason.clone() });
            shared.state[i] = State::Done;
            shared.outcomes[i] = Outcome::Cancelled(reason);
        }
    }
}

/// Why stage `i` can no longer run, if it cannot: an input failed, was
/// cancelled, or was not run (`done(j)`: input `j` will not change any more).
pub fn blocked(plan: &Plan, i: usize, outcomes: &[Outcome], done: impl Fn(usize) -> bool) -> Option<String> {
    plan.stages[i].inputs.iter().find_map(|&j| match &outcomes[j] {
        Outcome::Failed(_) => Some(format!("input `{}` failed", plan.stages[j].name)),
        Outcome::Cancelled(_) => Some(format!("input `{}` was cancelled", plan.stages[j].name)),
        Outcome::NotRun if done(j) => Some(format!("input `{}` was not run", plan.stages[j].name)),
        _ => None,
    })
}

/// Runs one stage: cache hit, or lock, compute, store.
fn process(ctx: &Context, i: usize) -> Outcome {
    let stage = &ctx.plan.stages[i];
    let forced = ctx.options.force[i];
    // Whether a corrupt artifact was already reported (the check runs again under the lock).
    let mut warned = false;
    if !forced {
        if let Some(outcome) = cached(ctx, stage, &mut warned) {
            return outcome;
        }
    }
    let lock = ctx.cache.lock(&stage.key, || {
        ctx.emit(stage, log_body("info", "another run is computing this stage; waiting for it"));
    });
    let _lock = match lock {
        Ok(l) => l,
        Err(e) => return ctx.fail(stage, format!("{e}")),
    };
    if !forced {
        if let Some(outcome) = cached(ctx, stage, &mut warned) {
            return outcome;
        }
    }
    compute(ctx, i)
}

/// A cache hit emits `finished` (cached) from the record; a corrupt artifact
/// is reported once (`warned` remembers it across the checks before and after locking).
fn cached(ctx: &Context, stage: &PlannedStage, warned: &mut bool) -> Option<Outcome> {
    report_cached(ctx.cache, stage, ctx.events, warned)
}

/// A cache hit, reported as the scheduler reports it (also used by the Slurm executor).
pub fn report_cached(
    cache: &Cache,
    stage: &PlannedStage,
    events: &Sender<Event>,
    warned: &mut bool,
) -> Option<Outcome> {
    match cache.lookup(&stage.key) {
        Lookup::Valid(record) => {
            for body in cache.replay(&stage.key) {
                emit(events, &stage.name, body);
            }
            emit(events, &stage.name, EventBody::Summary { summary: record.summary.clone() });
            emit(
                events,
                &stage.name,
                EventBody::Finished { cached: true, artifact_hash: record.artifact_hash, wall_ms: record.wall_ms },
            );
            Some(Outcome::Cached)
        }
        Lookup::Corrupt(why) => {
            if !std::mem::replace(warned, true) {
                emit(
                    events,
                    &stage.name,
                    log_body("warn", &format!("cached artifact is corrupt ({why}); recomputing")),
                );
            }
            None
        }
        Lookup::Missing => None,
    }
}

fn log_body(level: &str, message: &str) -> EventBody {
    EventBody::Log { level: level.into(), message: message.into() }
}

fn compute(ctx: &Context, i: usize) -> Outcome {
    let (plan, cache, options) = (ctx.plan, ctx.cache, ctx.options);
    let stage = &plan.stages[i];
    let mut inputs = Vec::with_capacity(stage.inputs.len());
    for (slot, key) in stage.input_keys.iter().enumerate() {
        match cache.load(key) {
            Ok(payload) => inputs.push(payload),
            Err(e) => {
                let name = stage.input_names.get(slot).map_or("?", String::as_str);
                return ctx.fail(stage, format!("loading input `{name}`: {e}"));
            }
        }
    }
    ctx.emit(stage, EventBody::Started);
    let checkpoints = Checkpoints::new(cache.root());
    let mut observer = StageObserver::new(&stage.name, ctx.events, options.cancel, i);
    observer.checkpoints = Some(StageCheckpoints::new(&checkpoints, stage));
    let started = now();
    let clock = Instant::now();
    let result = execute_caught(ctx.executor, stage, inputs, &observer);
    let wall_ms = clock.elapsed().as_millis() as u64;
    let output = match result {
        Ok(output) if !options.cancel.is_set(i) => output,
        Ok(_) => return cancelled(ctx, stage),
        Err(e) if e.downcast_ref::<Cancelled>().is_some() => return cancelled(ctx, stage),
        Err(e) => return ctx.fail(stage, format!("{e:#}")),
    };
    let previous = options.force[i].then(|| cache.record(&stage.key)).flatten();
    let (log, data) = observer.into_parts();
    let mut record = Record {
        key: stage.key,
        kind: stage.kind.to_string(),
        version: stage.version,
        params: stage.params.clone(),
        input_keys: stage.input_keys.clone(),
        seed: stage.seed,
        artifact_hash: ArtifactHash([0; 32]),
        size: 0,
        wall_ms,
        started,
        finished: now(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        stage_name: stage.name.clone(),
        pipeline: plan.pipeline.clone(),
        summary: output.summary,
        log,
    };
    match cache.store(&stage.key, &output.payload, &mut record, &replay_lines(&data)) {
        Ok(hash) => {
            if let Err(e) = checkpoints.remove(&stage.key) {
                ctx.emit(stage, log_body("warn", &format!("removing the stage's checkpoints: {e}")));
            }
            if let Some(old) = previous.filter(|old| old.artifact_hash != hash) {
                let message = format!(
                    "recomputed artifact {} differs from the cached {}: the stage is not deterministic",
                    hash.short(),
                    old.artifact_hash.short()
                );
                ctx.emit(stage, log_body("warn", &message));
            }
            ctx.emit(stage, EventBody::Summary { summary: record.summary.clone() });
            ctx.emit(stage, EventBody::Finished { cached: false, artifact_hash: hash, wall_ms });
            Outcome::Computed
        }
        Err(e) => ctx.fail(stage, format!("storing the artifact: {e}")),
    }
}

/// Data events a stage may keep for replay on cache hits.
const REPLAY_CAP: usize = 100_000;

fn replay_lines(data: &[EventBody]) -> Vec<u8> {
    let mut out = Vec::new();
    for body in data {
        if serde_json::to_writer(&mut out, body).is_ok() {
            out.push(b'\n');
        }
    }
    out
}

/// Runs a stage, turning a panic inside it into an error (the stage failed; the run goes on).
pub fn execute_caught(
    executor: &dyn Executor,
    stage: &PlannedStage,
    inputs: Vec<Vec<u8>>,
    observer: &dyn Observer,
) -> anyhow::Result<Output> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| executor.execute(stage, inputs, observer)))
        .unwrap_or_else(|panic| Err(anyhow::anyhow!("the stage panicked: {}", panic_message(&panic))))
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

fn cancelled(ctx: &Context, stage: &PlannedStage) -> Outcome {
    let reason = "cancelled while running; nothing was cached".to_string();
    ctx.emit(stage, EventBody::Cancelled { reason: reason.clone() });
    Outcome::Cancelled(reason)
}

/// Adapts a stage's `Observer` calls to events; progress is rate-limited.
struct StageObserver<'a> {
    stage: &'a str,
    events: &'a Sender<Event>,
    cancel: &'a CancelFlags,
    index: usize,
    last_progress: Mutex<Option<Instant>>,
    log: Mutex<Vec<String>>,
    /// Trace and histogram events, kept to replay on later cache hits.
    data: Mutex<Vec<EventBody>>,
    /// Where the stage's saved state lives and when to save it.
    checkpoints: Option<StageCheckpoints<'a>>,
}

/// One stage's checkpoints: its key, the store and the pace.
struct StageCheckpoints<'a> {
    store: &'a Checkpoints,
    key: super::key::ContentKey,
    pacer: Pacer,
}

impl<'a> StageCheckpoints<'a> {
    fn new(store: &'a Checkpoints, stage: &PlannedStage) -> Self {
        let seconds = stage.params.float(checkpoint::EVERY_PARAM).unwrap_or(checkpoint::DEFAULT_EVERY_SECONDS);
        StageCheckpoints { store, key: stage.key, pacer: Pacer::new(Duration::from_secs_f64(seconds.max(0.0))) }
    }
}

impl<'a> StageObserver<'a> {
    fn new(stage: &'a str, events: &'a Sender<Event>, cancel: &'a CancelFlags, index: usize) -> Self {
        StageObserver {
            stage,
            events,
            cancel,
            index,
            last_progress: Mutex::new(None),
            log: Mutex::new(Vec::new()),
            data: Mutex::new(Vec::new()),
            checkpoints: None,
        }
    }

    /// The log lines and the data events (traces, histograms) emitted.
    fn into_parts(self) -> (Vec<String>, Vec<EventBody>) {
        (self.log.into_inner().unwrap_or_default(), self.data.into_inner().unwrap_or_default())
    }

    fn keep(&self, body: &EventBody) {
        let mut data = self.data.lock().unwrap_or_else(|p| p.into_inner());
        if data.len() < REPLAY_CAP {
            data.push(body.clone());
        }
    }
}

impl Observer for StageObserver<'_> {
    fn progress(&self, done: u64, total: u64) {
        let mut last = self.last_progress.lock().unwrap_or_else(|p| p.into_inner());
        let due = last.is_none_or(|t| t.elapsed() >= Duration::from_millis(100));
        if due || done >= total {
            *last = Some(Instant::now());
            emit(self.events, self.stage, EventBody::Progress { done, total });
        }
    }

    fn trace(&self, series: &str, x: f64, y: f64) {
        let body = EventBody::Trace { series: series.into(), x, y };
        self.keep(&body);
        emit(self.events, self.stage, body);
    }

    fn histogram(&self, name: &str, edges: &[f64], counts: &[u64]) {
        let body = EventBody::Histogram { name: name.into(), edges: edges.to_vec(), counts: counts.to_vec() };
        self.keep(&body);
        emit(self.events, self.stage, body);
    }

    fn log(&self, message: &str) {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).push(message.to_string());
        emit(self.events, self.stage, log_body("info", message));
    }

    fn cancelled(&self) -> bool {
        self.cancel.is_set(self.index)
    }

    fn resume_state(&self) -> Option<Vec<u8>> {
        let c = self.checkpoints.as_ref()?;
        c.store.load(&c.key)
    }

    fn checkpoint_due(&self) -> bool {
        self.checkpoints.as_ref().is_some_and(|c| c.pacer.due())
    }

    fn save_state(&self, state: &[u8]) {
        let Some(c) = &self.checkpoints else { return };
        if let Err(e) = c.store.save(&c.key, state) {
            emit(self.events, self.stage, log_body("warn", &format!("saving a checkpoint failed: {e}")));
        }
    }
}
