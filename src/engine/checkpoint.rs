//! Checkpoints of running stages, so a killed run resumes where it stopped:
//!
//! ```text
//! DIR/partial/<key>/state.ckpt   the newest saved state of stage <key>
//! ```
//!
//! Never under `objects/`: a checkpoint is never taken for an artifact. Each
//! write is atomic (temp file in the same directory, fsync, rename, fsync of
//! the directory) and framed with a magic and the blake3 hash of its payload,
//! so a torn or corrupt checkpoint is ignored, never resumed from. The stage
//! decides what its state is (`Observer::save_state`); the engine paces saves
//! by wall time (`checkpoint_every`) and removes the directory once the
//! stage's artifact is stored.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::key::ContentKey;

const MAGIC: &[u8; 8] = b"QCKPT\x00\x00\x01";
const FILE: &str = "state.ckpt";

/// The checkpoint area of one cache directory.
#[derive(Debug, Clone)]
pub struct Checkpoints {
    root: PathBuf,
}

impl Checkpoints {
    /// The area under `cache_root/partial` (created on first save).
    pub fn new(cache_root: &Path) -> Checkpoints {
        Checkpoints { root: cache_root.join("partial") }
    }

    pub fn dir(&self, key: &ContentKey) -> PathBuf {
        self.root.join(key.hex())
    }

    /// The newest intact state saved for `key`, if any.
    pub fn load(&self, key: &ContentKey) -> Option<Vec<u8>> {
        let bytes = fs::read(self.dir(key).join(FILE)).ok()?;
        unframe(&bytes).map(<[u8]>::to_vec)
    }

    /// Saves `state` for `key`, replacing the previous one atomically.
    pub fn save(&self, key: &ContentKey, state: &[u8]) -> io::Result<()> {
        let dir = self.dir(key);
        fs::create_dir_all(&dir)?;
        let tmp = dir.join(format!("{FILE}.tmp-{}", std::process::id()));
        {
            let mut file = File::create(&tmp)?;
            file.write_all(MAGIC)?;
            file.write_all(blake3::hash(state).as_bytes())?;
            file.write_all(state)?;
            file.sync_all()?;
        }
        fs::rename(&tmp, dir.join(FILE))?;
        File::open(&dir)?.sync_all()
    }

    /// Removes the checkpoints of `key` (nothing to do if there are none).
    pub fn remove(&self, key: &ContentKey) -> io::Result<()> {
        match fs::remove_dir_all(self.dir(key)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Keys that have a checkpoint directory (names that are not keys are skipped).
    pub fn keys(&self) -> Vec<ContentKey> {
        let Ok(entries) = fs::read_dir(&self.root) else { return Vec::new() };
        let mut keys: Vec<ContentKey> = entries.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok()).collect();
        keys.sort();
        keys
    }

    /// Bytes on disk under `key`'s directory.
    pub fn size_of(&self, key: &ContentKey) -> u64 {
        let Ok(entries) = fs::read_dir(self.dir(key)) else { return 0 };
        entries.filter_map(|e| e.ok()?.metadata().ok()).map(|m| m.len()).sum()
    }
}

/// The payload of a framed checkpoint whose hash matches.
fn unframe(bytes: &[u8]) -> Option<&[u8]> {
    let rest = bytes.strip_prefix(MAGIC.as_slice())?;
    if rest.len() < 32 {
        return None;
    }
    let (hash, payload) = rest.split_at(32);
    (blake3::hash(payload).as_bytes() == hash).then_some(payload)
}

/// Says when the next save is due: every `every` of wall time since the last
/// one (or since the stage started).
#[derive(Debug)]
pub struct Pacer {
    every: Duration,
    last: Mutex<Instant>,
}

impl Pacer {
    pub fn new(every: Duration) -> Pacer {
        Pacer { every, last: Mutex::new(Instant::now()) }
    }

    /// True (and restarts the clock) when `every` has passed.
    pub fn due(&self) -> bool {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if last.elapsed() >= self.every {
            *last = Instant::now();
            true
        } else {
            false
        }
    }
}

/// The stage parameter that sets the pace, in seconds (not part of the key).
pub const EVERY_PARAM: &str = "checkpoint_every";
/// Its default.
pub const DEFAULT_EVERY_SECONDS: f64 = 60.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_load_replace_remove() {
        let dir = tempfile::tempdir().unwrap();
        let cps = Checkpoints::new(dir.path());
        let key = ContentKey([7; 32]);
        assert_eq!(cps.load(&key), None);
        cps.save(&key, b"first").unwrap();
        cps.save(&key, b"second").unwrap();
        assert_eq!(cps.load(&key).as_deref(), Some(&b"second"[..]));
        assert_eq!(cps.keys(), vec![key]);
        cps.remove(&key).unwrap();
        assert_eq!(cps.load(&key), None);
        assert!(cps.keys().is_empty());
    }

    #[test]
    fn corrupt_checkpoint_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let cps = Checkpoints::new(dir.path());
        let key = ContentKey([9; 32]);
        cps.save(&key, b"state bytes").unwrap();
        let path = cps.dir(&key).join(FILE);
        let mut bytes = fs::read(&path).unwrap();
        *bytes.last_mut().unwrap() ^= 1;
        fs::write(&path, &bytes).unwrap();
        assert_eq!(cps.load(&key), None);
        fs::write(&path, &bytes[..10]).unwrap();
        assert_eq!(cps.load(&key), None);
    }
}
