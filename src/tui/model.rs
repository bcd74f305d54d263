//! The TUI's model: everything the screen shows, built only by applying
//! events (from a live run or a run log). Tolerates events out of order and
//! stages it has not seen queued. Long traces are compacted with min/max
//! buckets so extremes survive. A run whose log has been silent longer than
//! `STALE_AFTER` (heartbeats stopped) is shown as dead, its clock stopped.

use std::collections::{HashMap, VecDeque};

use crate::engine::events::STALE_AFTER;
use crate::engine::{Event, EventBody};

/// Points a series keeps before it is compacted.
const SERIES_CAP: usize = 20_000;
const LOG_CAP: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Queued,
    Running,
    Cached,
    Computed,
    Failed,
    Cancelled,
}

impl Status {
    /// A symbol readable without colours.
    pub fn symbol(&self) -> &'static str {
        match self {
            Status::Queued => "·",
            Status::Running => "▶",
            Status::Cached => "=",
            Status::Computed => "✓",
            Status::Failed => "✗",
            Status::Cancelled => "⊘",
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Running => "running",
            Status::Cached => "cached",
            Status::Computed => "computed",
            Status::Failed => "FAILED",
            Status::Cancelled => "cancelled",
        }
    }

    pub fn is_done(&self) -> bool {
        !matches!(self, Status::Queued | Status::Running)
    }
}

/// One trace series: (x, y) points in arrival order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    pub name: String,
    pub edges: Vec<f64>,
    pub counts: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StageView {
    pub name: String,
    pub kind: String,
    pub key: String,
    pub inputs: Vec<String>,
    pub params: Vec<(String, String)>,
    pub depth: usize,
    pub status: Status,
    pub progress: Option<(u64, u64)>,
    pub started: Option<f64>,
    pub ended: Option<f64>,
    pub wall_ms: Option<u64>,
    pub artifact_hash: Option<String>,
    pub error: Option<String>,
    /// The artifact summary sent when the stage finished (results of `eval.*`).
    pub summary: Option<serde_json::Value>,
    pub logs: VecDeque<(String, String)>,
    pub series: Vec<Series>,
    pub histograms: Vec<Histogram>,
}

impl StageView {
    fn new(name: &str) -> StageView {
        StageView {
            name: name.to_string(),
            kind: String::new(),
            key: String::new(),
            inputs: Vec::new(),
            params: Vec::new(),
            depth: 0,
            status: Status::Queued,
            progress: None,
            started: None,
            ended: None,
            wall_ms: None,
            artifact_hash: None,
            error: None,
            summary: None,
            logs: VecDeque::new(),
            series: Vec::new(),
            histograms: Vec::new(),
        }
    }

    /// Series grouped into charts: by the prefix before `/` when there is one,
    /// else before the first `_` (so `m_uninf`, `m_inf` and `m_hat` share a chart).
    pub fn series_groups(&self) -> Vec<(String, Vec<&Series>)> {
        let mut groups: Vec<(String, Vec<&Series>)> = Vec::new();
        for s in &self.series {
            let group = match s.name.split_once('/') {
                Some((g, _)) => g,
                None => s.name.split_once('_').map_or(s.name.as_str(), |(g, _)| g),
            }
            .to_string();
            match groups.iter_mut().find(|(g, _)| *g == group) {
                Some((_, members)) => members.push(s),
                None => groups.push((group, vec![s])),
            }
        }
        groups
    }

    fn push_point(&mut self, series: &str, x: f64, y: f64) {
        let pos = match self.series.iter().position(|s| s.name == series) {
            Some(p) => p,
            None => {
                self.series.push(Series { name: series.to_string(), points: Vec::new() });
                self.series.len() - 1
            }
        };
        let s = &mut self.series[pos];
        s.points.push((x, y));
        if s.points.len() > SERIES_CAP {
            s.points = decimate(&s.points, SERIES_CAP / 4);
        }
    }
}

/// Keeps, for each of `buckets` consecutive runs of points, the first, the
/// minimum, the maximum and the last (in order), so extremes survive.
pub fn decimate(points: &[(f64, f64)], buckets: usize) -> Vec<(f64, f64)> {
    if points.len() <= buckets * 4 || buckets == 0 {
        return points.to_vec();
    }
    let size = points.len().div_ceil(buckets);
    let mut out = Vec::with_capacity(buckets * 4);
    for chunk in points.chunks(size) {
        let (mut lo, mut hi) = (0, 0);
        for (i, p) in chunk.iter().enumerate() {
            if p.1 < chunk[lo].1 {
                lo = i;
            }
            if p.1 > chunk[hi].1 {
                hi = i;
            }
        }
        let mut keep = [0, lo.min(hi), lo.max(hi), chunk.len() - 1];
        keep.sort_unstable();
        let mut last = usize::MAX;
        for k in keep {
            if k != last {
                out.push(chunk[k]);
                last = k;
            }
        }
    }
    out
}

/// Everything the TUI knows about a run.
#[derive(Debug, Clone, Default)]
pub struct Model {
    pub run_id: Option<String>,
    pub pipeline: Option<String>,
    pub stages: Vec<StageView>,
    index: HashMap<String, usize>,
    /// `ok`, `failed` or `cancelled` once the run has ended.
    pub finished: Option<String>,
    /// The process writing the run: pid and host.
    pub writer: Option<(u32, String)>,
    pub first_time: Option<f64>,
    /// The last event other than a heartbeat (elapsed times end here once the run ends).
    pub last_time: Option<f64>,
    /// The last event of any kind, heartbeats included (the writer was alive then).
    pub last_alive: Option<f64>,
}

impl Model {
    pub fn stage(&self, name: &str) -> Option<&StageView> {
        self.index.get(name).map(|&i| &self.stages[i])
    }

    fn stage_mut(&mut self, name: &str) -> &mut StageView {
        let i = match self.index.get(name) {
            Some(&i) => i,
            None => {
                self.stages.push(StageView::new(name));
                self.index.insert(name.to_string(), self.stages.len() - 1);
                self.stages.len() - 1
            }
        };
        &mut self.stages[i]
    }

    pub fn running(&self) -> usize {
        self.stages.iter().filter(|s| s.status == Status::Running).count()
    }

    pub fn done(&self) -> usize {
        self.stages.iter().filter(|s| s.status.is_done()).count()
    }

    pub fn count(&self, status: Status) -> usize {
        self.stages.iter().filter(|s| s.status == status).count()
    }

    /// Seconds without any event (heartbeats included) at wall time `now`,
    /// when that makes an unfinished run dead: its writer is gone.
    pub fn silent_for(&self, now: f64) -> Option<f64> {
        let silent = now - self.last_alive?;
        (self.finished.is_none() && silent > STALE_AFTER).then_some(silent)
    }

    /// Applies one event.
    pub fn apply(&mut self, event: &Event) {
        self.first_time = Some(self.first_time.map_or(event.time, |t| t.min(event.time)));
        self.last_alive = Some(self.last_alive.map_or(event.time, |t| t.max(event.time)));
        if event.body != EventBody::Heartbeat {
            self.last_time = Some(self.last_time.map_or(event.time, |t| t.max(event.time)));
        }
        match &event.body {
            EventBody::RunStarted { run_id, pipeline, pid, host, .. } => {
                self.run_id = Some(run_id.clone());
                self.pipeline = Some(pipeline.clone());
                self.writer = Some((*pid, host.clone()));
                self.finished = None;
            }
            EventBody::Heartbeat => {}
            EventBody::RunFinished { status } => self.finished = Some(status.clone()),
            EventBody::Queued { kind, key, inputs, params } => {
                let depth = inputs.iter().filter_map(|i| self.stage(i)).map(|s| s.depth + 1).max().unwrap_or(0);
                let s = self.stage_mut(&event.stage);
                if s.status.is_done() {
                    // Queued again (a re-run): start from a clean view.
                    *s = StageView::new(&event.stage);
                }
                s.kind = kind.clone();
                s.key = key.hex();
                s.inputs = inputs.clone();
                s.params = flatten_params(params);
                s.depth = depth;
            }
            body => self.apply_stage_event(&event.stage, event.time, body),
        }
    }

    fn apply_stage_event(&mut self, stage: &str, time: f64, body: &EventBody) {
        let s = self.stage_mut(stage);
        match body {
            EventBody::Started => {
                s.status = Status::Running;
                s.started = Some(time);
                s.series.clear();
                s.histograms.clear();
                s.summary = None;
            }
            EventBody::Summary { summary } => s.summary = Some(summary.clone()),
            EventBody::Progress { done, total } => {
                s.progress = Some((*done, *total));
                if s.status == Status::Queued {
                    s.status = Status::Running;
                }
            }
            EventBody::Trace { series, x, y } => s.push_point(series, *x, *y),
            EventBody::Histogram { name, edges, counts } => {
                let h = Histogram { name: name.clone(), edges: edges.clone(), counts: counts.clone() };
                match s.histograms.iter_mut().find(|h| h.name == *name) {
                    Some(old) => *old = h,
                    None => s.histograms.push(h),
                }
            }
            EventBody::Log { level, message } => {
                s.logs.push_back((level.clone(), message.clone()));
                if s.logs.len() > LOG_CAP {
                    s.logs.pop_front();
                }
            }
            EventBody::Finished { cached, artifact_hash, wall_ms } => {
                s.status = if *cached { Status::Cached } else { Status::Computed };
                s.artifact_hash = Some(artifact_hash.to_string());
                s.wall_ms = Some(*wall_ms);
                s.ended = Some(time);
            }
            EventBody::Failed { error } => {
                s.status = Status::Failed;
                s.error = Some(error.clone());
                s.ended = Some(time);
            }
            EventBody::Cancelled { reason } => {
                s.status = Status::Cancelled;
                s.error = Some(reason.clone());
                s.ended = Some(time);
            }
            _ => {}
        }
    }
}

fn flatten_params(params: &serde_json::Value) -> Vec<(String, String)> {
    params
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_string))).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(stage: &str, time: f64, body: EventBody) -> Event {
        Event { time, stage: stage.into(), body }
    }

    fn queued(inputs: &[&str]) -> EventBody {
        EventBody::Queued {
            kind: "k".into(),
            key: "ab".repeat(32).parse().unwrap(),
            inputs: inputs.iter().map(|s| s.to_string()).collect(),
            params: serde_json::json!({"n": 10, "prior": "rademacher"}),
        }
    }

    #[test]
    fn a_run_builds_statuses_series_and_histograms() {
        let mut m = Model::default();
        let events = [
            ev(
                "p",
                0.0,
                EventBody::RunStarted {
                    run_id: "r".into(),
                    pipeline: "p.toml".into(),
                    stages: 2,
                    pid: 1,
                    host: "h".into(),
                },
            ),
            ev("a", 0.0, queued(&[])),
            ev("b", 0.0, queued(&["a"])),
            ev(
                "a",
                0.1,
                EventBody::Finished { cached: true, artifact_hash: crate::engine::ArtifactHash([7; 32]), wall_ms: 5 },
            ),
            ev("b", 0.2, EventBody::Started),
            ev("b", 0.3, EventBody::Progress { done: 3, total: 10 }),
            ev("b", 0.3, EventBody::Trace { series: "energy/mean".into(), x: 1.0, y: -0.5 }),
            ev("b", 0.3, EventBody::Trace { series: "energy/SE".into(), x: 1.0, y: -0.6 }),
            ev("b", 0.4, EventBody::Histogram { name: "P(q)".into(), edges: vec![0.0, 0.5, 1.0], counts: vec![1, 2] }),
            ev("b", 0.5, EventBody::Histogram { name: "P(q)".into(), edges: vec![0.0, 0.5, 1.0], counts: vec![3, 4] }),
        ];
        events.iter().for_each(|e| m.apply(e));
        assert_eq!(m.stage("a").unwrap().status, Status::Cached);
        let b = m.stage("b").unwrap();
        assert_eq!((b.status, b.progress, b.depth), (Status::Running, Some((3, 10)), 1));
        assert_eq!(b.series_groups().len(), 1);
        assert_eq!(b.series_groups()[0].1.len(), 2);
        assert_eq!(b.histograms.len(), 1);
        assert_eq!(b.histograms[0].counts, vec![3, 4]);
        assert_eq!(
            b.params,
            vec![("n".to_string(), "10".to_string()), ("prior".to_string(), "rademacher".to_string())]
        );
        assert_eq!(m.running(), 1);
        m.apply(&ev("b", 0.6, EventBody::Failed { error: "boom".into() }));
        m.apply(&ev("p", 0.7, EventBody::RunFinished { status: "failed".into() }));
        assert_eq!(m.stage("b").unwrap().status, Status::Failed);
        assert_eq!(m.finished.as_deref(), Some("failed"));
    }

    #[test]
    fn out_of_order_events_create_stages() {
        let mut m = Model::default();
        m.apply(&ev("x", 1.0, EventBody::Progress { done: 1, total: 2 }));
        m.apply(&ev("x", 0.5, queued(&[])));
        let x = m.stage("x").unwrap();
        assert_eq!(x.status, Status::Running);
        assert_eq!(x.kind, "k");
        assert_eq!(m.first_time, Some(0.5));
    }

    #[test]
    fn decimation_keeps_extremes() {
        let points: Vec<(f64, f64)> = (0..100_000).map(|i| (i as f64, ((i * 7919) % 1000) as f64)).collect();
        let mut with_spike = points.clone();
        with_spike[54_321].1 = 1e6;
        with_spike[12_345].1 = -1e6;
        let d = decimate(&with_spike, 500);
        assert!(d.len() <= 2000);
        assert!(d.contains(&(54_321.0, 1e6)) && d.contains(&(12_345.0, -1e6)));
        assert!(d.windows(2).all(|w| w[0].0 < w[1].0));
        let mut m = Model::default();
        for (x, y) in &with_spike {
            m.apply(&ev("s", 0.0, EventBody::Trace { series: "t".into(), x: *x, y: *y }));
        }
        let s = &m.stage("s").unwrap().series[0];
        assert!(s.points.len() <= SERIES_CAP);
        assert!(s.points.iter().any(|p| p.1 == 1e6) && s.points.iter().any(|p| p.1 == -1e6));
    }
}
