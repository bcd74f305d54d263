//! Where a run's stages go and what each Slurm job asks for: `--executor`,
//! `--partition` and `--slurm-arg` on the command line, `[pipeline] executor`
//! and the `[slurm]` table of the pipeline file. None of it is part of any
//! stage's key: the same pipeline gives the same artifacts on either executor.
//!
//! ```toml
//! [pipeline]
//! executor = "slurm"
//!
//! [slurm]
//! partition = "debug"          # every job (a stage or kind table may override)
//! time = "2:00:00"             # sbatch --time
//! cpus = 4                     # sbatch --cpus-per-task
//! mem = "8G"                   # sbatch --mem
//! args = ["--qos=normal"]      # more sbatch arguments
//! poll_seconds = 1.0           # how often job states are read
//! max_jobs = 256               # jobs in flight at once
//! binary = "/shared/bin/quench"  # the quench the nodes run (default: this one)
//!
//! [slurm.kind."sample.metropolis"]   # every stage of a kind
//! time = "12:00:00"
//!
//! [slurm.stage.compare]              # one stage (and its sweep copies)
//! mem = "32G"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml_edit::{DocumentMut, Item, TableLike, Value};

/// Where stages run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExecutorKind {
    /// Worker threads on this machine.
    Local,
    /// One `sbatch` job per stage; the cache must be on a filesystem the nodes share.
    Slurm,
}

/// What one job asks Slurm for; what is unset is left to Slurm's defaults.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Resources {
    pub partition: Option<String>,
    pub time: Option<String>,
    pub cpus: Option<u32>,
    pub mem: Option<String>,
    pub args: Vec<String>,
}

impl Resources {
    /// `other` over `self`: its set fields win, its arguments come after.
    fn overlay(&mut self, other: &Resources) {
        if other.partition.is_some() {
            self.partition.clone_from(&other.partition);
        }
        if other.time.is_some() {
            self.time.clone_from(&other.time);
        }
        if other.cpus.is_some() {
            self.cpus = other.cpus;
        }
        if other.mem.is_some() {
            self.mem.clone_from(&other.mem);
        }
        self.args.extend(other.args.iter().cloned());
    }

    /// The `sbatch` arguments for these resources.
    pub fn sbatch_args(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(p) = &self.partition {
            out.push(format!("--partition={p}"));
        }
        if let Some(t) = &self.time {
            out.push(format!("--time={t}"));
        }
        if let Some(c) = self.cpus {
            out.push(format!("--cpus-per-task={c}"));
        }
        if let Some(m) = &self.mem {
            out.push(format!("--mem={m}"));
        }
        out.extend(self.args.iter().cloned());
        out
    }
}

/// The Slurm settings of one run.
#[derive(Debug, Clone)]
pub struct SlurmConfig {
    /// `[pipeline] executor`, when the file sets it.
    pub executor: Option<ExecutorKind>,
    pub defaults: Resources,
    pub kinds: BTreeMap<String, Resources>,
    pub stages: BTreeMap<String, Resources>,
    pub poll: Duration,
    pub max_jobs: usize,
    pub binary: Option<PathBuf>,
}

impl Default for SlurmConfig {
    fn default() -> Self {
        SlurmConfig {
            executor: None,
            defaults: Resources::default(),
            kinds: BTreeMap::new(),
            stages: BTreeMap::new(),
            poll: Duration::from_secs(1),
            max_jobs: 256,
            binary: None,
        }
    }
}

impl SlurmConfig {
    /// Reads `[pipeline] executor` and `[slurm]` from a pipeline file's text;
    /// an error names the file and the key.
    pub fn from_pipeline(path: &Path, text: &str) -> Result<SlurmConfig, String> {
        let file = path.display();
        let doc: DocumentMut = text.parse().map_err(|e| format!("{file}: invalid TOML: {e}"))?;
        let mut config = SlurmConfig::default();
        if let Some(executor) = doc.get("pipeline").and_then(|p| p.get("executor")).and_then(Item::as_str) {
            config.executor = Some(if executor == "slurm" { ExecutorKind::Slurm } else { ExecutorKind::Local });
        }
        let Some(item) = doc.get("slurm") else { return Ok(config) };
        let table = item.as_table_like().ok_or_else(|| format!("{file}: `slurm` must be a table"))?;
        let at = |key: &str| format!("{file}: `slurm.{key}`");
        for (key, value) in table.iter() {
            match key {
                "kind" | "stage" => {
                    let group = value.as_table_like().ok_or_else(|| format!("{} must be a table", at(key)))?;
                    for (name, item) in group.iter() {
                        let where_ = format!("{key}.\"{name}\"");
                        let sub = item.as_table_like().ok_or_else(|| format!("{} must be a table", at(&where_)))?;
                        let resources = resources(sub, &|k| at(&format!("{where_}.{k}")), &[])?;
                        let map = if key == "kind" { &mut config.kinds } else { &mut config.stages };
                        map.insert(name.to_string(), resources);
                    }
                }
                "poll_seconds" => {
                    let seconds = number(value).filter(|s| (0.05..=600.0).contains(s));
                    let seconds =
                        seconds.ok_or_else(|| format!("{} must be a number of seconds, 0.05 to 600", at(key)))?;
                    config.poll = Duration::from_secs_f64(seconds);
                }
                "max_jobs" => {
                    let jobs = value.as_integer().filter(|j| (1..=100_000).contains(j));
                    config.max_jobs =
                        jobs.ok_or_else(|| format!("{} must be an integer, 1 to 100000", at(key)))? as usize;
                }
                "binary" => {
                    let binary = value.as_str().filter(|s| Path::new(s).is_absolute());
                    let binary = binary.ok_or_else(|| format!("{} must be an absolute path", at(key)))?;
                    config.binary = Some(PathBuf::from(binary));
                }
                _ => {}
            }
        }
        config.defaults = resources(table, &at, &["kind", "stage", "poll_seconds", "max_jobs", "binary"])?;
        Ok(config)
    }

    /// Command-line settings over the file's: `--partition` replaces the
    /// default partition, `--slurm-arg`s go to every job.
    pub fn with_command_line(mut self, partition: Option<&str>, args: &[String]) -> Result<SlurmConfig, String> {
        if let Some(p) = partition {
            self.defaults.partition = Some(check_partition(p).map_err(|why| format!("--partition: {why}"))?);
        }
        for arg in args {
            check_arg(arg).map_err(|why| format!("--slurm-arg {arg}: {why}"))?;
            self.defaults.args.push(arg.clone());
        }
        Ok(self)
    }

    /// What the job of stage `name` (of `kind`) asks for: defaults, then the
    /// kind's table, then the stage's (a sweep copy `s[...]` uses `s`'s).
    pub fn resources(&self, name: &str, kind: &str) -> Resources {
        let mut out = self.defaults.clone();
        if let Some(r) = self.kinds.get(kind) {
            out.overlay(r);
        }
        let base = name.split('[').next().unwrap_or(name);
        for key in [base, name] {
            if let Some(r) = self.stages.get(key) {
                out.overlay(r);
                if base == name {
                    break;
                }
            }
        }
        out
    }
}

fn number(item: &Item) -> Option<f64> {
    item.as_float().or_else(|| item.as_integer().map(|i| i as f64))
}

/// The resource keys of a table; `skip` are other keys it may hold.
fn resources(table: &dyn TableLike, at: &dyn Fn(&str) -> String, skip: &[&str]) -> Result<Resources, String> {
    let mut out = Resources::default();
    for (key, item) in table.iter() {
        let text = || item.as_str().map(str::to_string).ok_or_else(|| format!("{} must be a string", at(key)));
        match key {
            "partition" => {
                out.partition = Some(check_partition(&text()?).map_err(|why| format!("{}: {why}", at(key)))?)
            }
            "time" => {
                let time = text()?;
                if !valid_time(&time) {
                    return Err(format!(
                        "{} = {time:?}: not a Slurm time (MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM:SS or UNLIMITED)",
                        at(key)
                    ));
                }
                out.time = Some(time);
            }
            "mem" => {
                let mem = text()?;
                let digits = mem.trim_end_matches(['K', 'M', 'G', 'T']);
                if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) || mem.len() - digits.len() > 1 {
                    return Err(format!("{} = {mem:?}: not a Slurm memory size (e.g. 500M, 8G)", at(key)));
                }
                out.mem = Some(mem);
            }
            "cpus" => {
                let cpus = item.as_integer().filter(|c| (1..=100_000).contains(c));
                out.cpus = Some(cpus.ok_or_else(|| format!("{} must be a positive integer", at(key)))? as u32);
            }
            "args" => {
                let list = item.as_array().ok_or_else(|| format!("{} must be a list of strings", at(key)))?;
                for value in list.iter() {
                    let Value::String(arg) = value else {
                        return Err(format!("{} must be a list of strings", at(key)));
                    };
                    check_arg(arg.value()).map_err(|why| format!("{}: {:?}: {why}", at(key), arg.value()))?;
                    out.args.push(arg.value().clone());
                }
            }
            _ if skip.contains(&key) => {}
            _ => {
                return Err(format!(
                    "{}: unknown key (expected partition, time, cpus, mem, args{})",
                    at(key),
                    if skip.is_empty() { "" } else { ", poll_seconds, max_jobs, binary, kind or stage" }
                ))
            }
        }
    }
    Ok(out)
}

fn check_partition(p: &str) -> Result<String, String> {
    if p.is_empty() || p.contains(|c: char| c.is_whitespace() || c == '=') {
        return Err(format!("{p:?} is not a partition name"));
    }
    Ok(p.to_string())
}

/// Arguments quench sets itself may not be given again.
const OWN_ARGS: &[&str] =
    &["--output", "--error", "--job-name", "--parsable", "--wrap", "--chdir", "-o", "-e", "-J", "-D"];

fn check_arg(arg: &str) -> Result<(), String> {
    if !arg.starts_with('-') {
        return Err("an sbatch argument starts with `-` (write --name=value as one argument)".into());
    }
    let name = arg.split('=').next().unwrap_or(arg);
    if OWN_ARGS.contains(&name) {
        return Err(format!("quench sets {name} itself"));
    }
    Ok(())
}

/// Slurm's time formats: MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS, or UNLIMITED.
fn valid_time(t: &str) -> bool {
    if matches!(t, "UNLIMITED" | "INFINITE") {
        return true;
    }
    let (days, rest) = match t.split_once('-') {
        Some((d, rest)) => (Some(d), rest),
        None => (None, t),
    };
    let digits = |s: &str| !s.is_empty() && s.len() <= 6 && s.chars().all(|c| c.is_ascii_digit());
    let parts: Vec<&str> = rest.split(':').collect();
    days.is_none_or(digits) && parts.len() <= 3 && parts.iter().all(|p| digits(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<SlurmConfig, String> {
        SlurmConfig::from_pipeline(Path::new("p.toml"), text)
    }

    #[test]
    fn stage_over_kind_over_defaults_and_command_line_partition_wins() {
        let config = parse(
            r#"
[pipeline]
executor = "slurm"
[slurm]
partition = "a"
time = "10:00"
args = ["--qos=low"]
poll_seconds = 0.5
[slurm.kind."sample.metropolis"]
time = "1:00:00"
cpus = 2
[slurm.stage.long]
mem = "2G"
"#,
        )
        .unwrap()
        .with_command_line(Some("b"), &["--account=x".into()])
        .unwrap();
        assert_eq!(config.executor, Some(ExecutorKind::Slurm));
        assert_eq!(config.poll, Duration::from_millis(500));
        let r = config.resources("long[inst.temperature=0.7]", "sample.metropolis");
        assert_eq!(
            r.sbatch_args(),
            ["--partition=b", "--time=1:00:00", "--cpus-per-task=2", "--mem=2G", "--qos=low", "--account=x"]
        );
        let r = config.resources("other", "eval.compare");
        assert_eq!(r.sbatch_args(), ["--partition=b", "--time=10:00", "--qos=low", "--account=x"]);
    }

    #[test]
    fn bad_values_are_named_with_file_and_key() {
        for (text, expected) in [
            ("[slurm]\ntime = \"soon\"", "p.toml: `slurm.time` = \"soon\": not a Slurm time"),
            ("[slurm]\nmem = \"8GB\"", "`slurm.mem` = \"8GB\": not a Slurm memory size"),
            ("[slurm]\ncpus = 0", "`slurm.cpus` must be a positive integer"),
            ("[slurm]\nqueue = \"x\"", "`slurm.queue`: unknown key"),
            ("[slurm]\nargs = [\"--output=x\"]", "quench sets --output itself"),
            ("[slurm.stage.s]\ntime = 5", "`slurm.stage.\"s\".time` must be a string"),
            ("[slurm]\npoll_seconds = 0", "`slurm.poll_seconds` must be a number"),
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.contains(expected), "{text}: {err}");
        }
        let err = SlurmConfig::default().with_command_line(None, &["qos".into()]).unwrap_err();
        assert!(err.contains("--slurm-arg qos"), "{err}");
    }

    #[test]
    fn slurm_time_formats() {
        for ok in ["5", "5:30", "1:00:00", "2-0", "2-12:00", "2-12:00:00", "UNLIMITED"] {
            assert!(valid_time(ok), "{ok}");
        }
        for bad in ["", "1h", "1:2:3:4", "-5", "a-1", "1:"] {
            assert!(!valid_time(bad), "{bad}");
        }
    }
}
