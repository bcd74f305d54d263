//! The Slurm commands quench runs, as tokio child processes, and their output
//! parsed: `sinfo` (does the cluster answer, which partitions), `sbatch
//! --parsable` (submit), `scontrol -o show job` (every job's state in one
//! call, whatever the number of jobs), `sacct` (a job Slurm has forgotten, when
//! accounting is on) and `scancel`. Knows nothing of stages.

use std::collections::HashMap;
use std::path::Path;
use std::process::Stdio;

use tokio::process::Command;

pub type JobId = u64;

/// A job as `scontrol` (or `sacct`) reports it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JobInfo {
    /// PENDING, RUNNING, COMPLETED, FAILED, TIMEOUT, CANCELLED, OUT_OF_MEMORY, ...
    pub state: String,
    /// Why it waits or why it ended (`Priority`, `NonZeroExitCode`, ...).
    pub reason: String,
    /// The batch script's exit code and the signal that ended it.
    pub exit_code: i32,
    pub signal: i32,
    pub node: String,
    pub time_limit: String,
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Pending,
    Running,
    Ended,
}

impl JobInfo {
    pub fn phase(&self) -> Phase {
        match self.state.as_str() {
            "PENDING" | "CONFIGURING" | "REQUEUED" | "REQUEUE_FED" | "REQUEUE_HOLD" | "RESIZING" | "SUSPENDED"
            | "STOPPED" => Phase::Pending,
            "RUNNING" | "COMPLETING" | "SIGNALING" | "STAGE_OUT" => Phase::Running,
            _ => Phase::Ended,
        }
    }

    /// Why an ended job did not complete, in the user's words (None: it completed).
    pub fn failure(&self) -> Option<String> {
        let limit = if self.time_limit.is_empty() { String::new() } else { format!(" of {}", self.time_limit) };
        Some(match self.state.as_str() {
            "COMPLETED" => return None,
            "OUT_OF_MEMORY" => "OOM: the job ran out of memory (raise `mem` in [slurm])".into(),
            "TIMEOUT" => format!("TIMEOUT: the job ran over its time limit{limit} (raise `time` in [slurm])"),
            "NODE_FAIL" => "NODE_FAIL: the node running the job failed".into(),
            "PREEMPTED" => "PREEMPTED: the job was preempted by another".into(),
            "CANCELLED" => "CANCELLED: the job was cancelled (scancel) outside this run".into(),
            "BOOT_FAIL" => "BOOT_FAIL: the node failed to boot".into(),
            "DEADLINE" => "DEADLINE: the job reached its deadline".into(),
            "FAILED" if self.signal != 0 => format!("FAILED: killed by signal {}", self.signal),
            "FAILED" => format!("FAILED: exit code {}", self.exit_code),
            other => format!("{other} ({})", self.reason),
        })
    }
}

/// Runs a Slurm command; its standard output, or an error naming the command.
async fn output(program: &str, args: &[String]) -> Result<String, String> {
    let result = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output()
        .await;
    let out = match result {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(format!("`{program}` not found: is Slurm installed here and on PATH?"))
        }
        Err(e) => return Err(format!("running `{program}`: {e}")),
    };
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stderr = stderr.trim();
        let said =
            if stderr.is_empty() { String::from_utf8_lossy(&out.stdout).trim().to_string() } else { stderr.into() };
        return Err(format!("`{program} {}` failed ({}): {said}", args.join(" "), out.status));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Checks that the cluster answers and that `partition` (if given) exists.
pub async fn check(partition: Option<&str>) -> Result<(), String> {
    let out = output("sinfo", &["-h".into(), "-o".into(), "%P %a".into()]).await?;
    let partitions: Vec<&str> = out.lines().filter_map(|l| l.split_whitespace().next()).collect();
    if partitions.is_empty() {
        return Err("`sinfo` lists no partition: the cluster has nowhere to run jobs".into());
    }
    if let Some(p) = partition {
        if !partitions.iter().any(|q| q.trim_end_matches('*') == p) {
            return Err(format!("partition `{p}` does not exist (sinfo lists: {})", partitions.join(", ")));
        }
    }
    Ok(())
}

/// Submits a batch script; its job id.
pub async fn submit(args: &[String], script: &Path) -> Result<JobId, String> {
    let mut all = vec!["--parsable".to_string()];
    all.extend(args.iter().cloned());
    all.push(script.display().to_string());
    let out = output("sbatch", &all).await?;
    let first = out.trim().split(';').next().unwrap_or("");
    first.parse().map_err(|_| format!("`sbatch` printed {:?}, not a job id", out.trim()))
}

/// The state of every job Slurm still knows (one `scontrol` call).
pub async fn jobs() -> Result<HashMap<JobId, JobInfo>, String> {
    let out = output("scontrol", &["-o".into(), "show".into(), "job".into()]).await?;
    Ok(out.lines().filter_map(parse_scontrol_line).collect())
}

/// A job `scontrol` no longer knows, from accounting (None when accounting is off).
pub async fn accounting(id: JobId) -> Option<JobInfo> {
    let id = id.to_string();
    let args = ["-n", "-P", "-X", "-j", &id, "-o", "State,ExitCode,Reason,NodeList,Timelimit"];
    let out = output("sacct", &args.map(String::from)).await.ok()?;
    let line = out.lines().next()?;
    let fields: Vec<&str> = line.split('|').collect();
    let (exit_code, signal) = exit_pair(fields.get(1)?);
    Some(JobInfo {
        // "CANCELLED by 0" -> "CANCELLED"
        state: fields.first()?.split_whitespace().next()?.to_string(),
        reason: fields.get(2).unwrap_or(&"").to_string(),
        exit_code,
        signal,
        node: fields.get(3).unwrap_or(&"").to_string(),
        time_limit: fields.get(4).unwrap_or(&"").to_string(),
    })
}

/// Cancels jobs (those already ended are ignored by Slurm).
pub async fn cancel(ids: &[JobId]) -> Result<(), String> {
    if ids.is_empty() {
        return Ok(());
    }
    output("scancel", &ids.iter().map(|id| id.to_string()).collect::<Vec<_>>()).await.map(drop)
}

/// `ExitCode=2:0` -> (2, 0).
fn exit_pair(text: &str) -> (i32, i32) {
    let mut parts = text.split(':').map(|p| p.trim().parse().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

/// One line of `scontrol -o show job`: `KEY=VALUE` fields separated by spaces.
fn parse_scontrol_line(line: &str) -> Option<(JobId, JobInfo)> {
    let mut id = None;
    let mut info = JobInfo::default();
    for field in line.split_whitespace() {
        let Some((key, value)) = field.split_once('=') else { continue };
        match key {
            "JobId" => id = value.parse().ok(),
            "JobState" => info.state = value.to_string(),
            "Reason" => info.reason = value.to_string(),
            "ExitCode" => (info.exit_code, info.signal) = exit_pair(value),
            "NodeList" => info.node = value.to_string(),
            "TimeLimit" => info.time_limit = value.to_string(),
            _ => {}
        }
    }
    Some((id?, info))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scontrol_lines_parse_and_map_to_phases_and_reasons() {
        let line = "JobId=17 JobName=quench:a UserId=root(0) JobState=TIMEOUT Reason=TimeLimit Dependency=(null) \
                    ExitCode=0:15 RunTime=00:01:02 TimeLimit=00:01:00 NodeList=vm BatchHost=vm";
        let (id, info) = parse_scontrol_line(line).unwrap();
        assert_eq!(id, 17);
        assert_eq!((info.state.as_str(), info.exit_code, info.signal, info.node.as_str()), ("TIMEOUT", 0, 15, "vm"));
        assert_eq!(info.phase(), Phase::Ended);
        assert!(info.failure().unwrap().starts_with("TIMEOUT: the job ran over its time limit of 00:01:00"));
        let failed = JobInfo { state: "FAILED".into(), exit_code: 3, ..Default::default() };
        assert_eq!(failed.failure().unwrap(), "FAILED: exit code 3");
        for (state, phase) in [("PENDING", Phase::Pending), ("COMPLETING", Phase::Running), ("CANCELLED", Phase::Ended)]
        {
            assert_eq!(JobInfo { state: state.into(), ..Default::default() }.phase(), phase, "{state}");
        }
        assert_eq!(JobInfo { state: "COMPLETED".into(), ..Default::default() }.failure(), None);
        assert!(parse_scontrol_line("No jobs in the system").is_none());
    }
}
