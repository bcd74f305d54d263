//! The state of a long computation as checkpoint bytes, written once for all
//! of them. A checkpoint is a format number, the blake3 hash of a `tag` that
//! names the computation and everything its state depends on (seed,
//! parameters, sizes), and the bincode encoding of the state; one saved under
//! another tag, by another format or that does not decode is ignored (with a
//! log line) and the computation starts over. Two shapes of computation use it:
//!
//! - chains advanced in lock step (`samplers::driver::lockstep`) save every
//!   chain's full state at a block boundary;
//! - independent items computed in parallel (trajectories, rows of a phase
//!   diagram) save the items finished so far (`Finished`).
//!
//! How often is up to the observer (`Observer::checkpoint_due`); where the
//! bytes go is up to it too (`Observer::save_state`). Saving never changes
//! the computation, so a resumed run gives the same result, bit for bit.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::observe::Observer;

/// Bumped when the layout of the header changes.
const FORMAT: u32 = 1;
/// Bytes before the state: format, tag hash.
const HEADER: usize = 4 + 32;
/// Most bytes the decoder may allocate (the bytes are ours: framed and hashed on disk).
const DECODE_LIMIT: usize = 1 << 38;

/// `state` as checkpoint bytes under `tag`.
pub fn encode<T: Serialize + ?Sized>(tag: &str, state: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + 64);
    out.extend(FORMAT.to_le_bytes());
    out.extend(blake3::hash(tag.as_bytes()).as_bytes());
    bincode::serde::encode_into_std_write(state, &mut out, bincode::config::standard())
        .expect("encoding into memory does not fail");
    out
}

/// The state in `bytes` if they were saved under `tag`; why not otherwise.
pub fn decode<T: DeserializeOwned>(tag: &str, bytes: &[u8]) -> Result<T, String> {
    if bytes.len() < HEADER || bytes[..4] != FORMAT.to_le_bytes() {
        return Err("written by another version of quench".into());
    }
    if bytes[4..HEADER] != *blake3::hash(tag.as_bytes()).as_bytes() {
        return Err("saved by another computation".into());
    }
    let config = bincode::config::standard().with_limit::<DECODE_LIMIT>();
    let (state, used) = bincode::serde::decode_from_slice(&bytes[HEADER..], config).map_err(|e| e.to_string())?;
    if HEADER + used != bytes.len() {
        return Err(format!("{} trailing bytes", bytes.len() - HEADER - used));
    }
    Ok(state)
}

/// Hands `state` to the observer to keep.
pub fn save<T: Serialize + ?Sized>(observer: &dyn Observer, tag: &str, state: &T) {
    observer.save_state(&encode(tag, state));
}

/// The state an interrupted run of the computation `tag` saved, if any and
/// usable; an unusable one is logged and ignored.
pub fn load<T: DeserializeOwned>(observer: &dyn Observer, tag: &str) -> Option<T> {
    let bytes = observer.resume_state()?;
    match decode(tag, &bytes) {
        Ok(state) => Some(state),
        Err(why) => {
            observer.log(&format!("ignoring the checkpoint ({why}): starting over"));
            None
        }
    }
}

/// The finished items of a parallel computation over independent items
/// (indexed `0..`), kept in index order and saved whenever the observer says
/// a checkpoint is due. On resume it starts with the items saved before.
pub struct Finished<'a, T> {
    observer: &'a dyn Observer,
    tag: String,
    items: Mutex<BTreeMap<u64, T>>,
}

impl<'a, T: Serialize + DeserializeOwned + Send> Finished<'a, T> {
    /// The items a previous run of `tag` saved (none on a fresh start); logs how many.
    pub fn resume(observer: &'a dyn Observer, tag: String, what: &str) -> Self {
        let items: BTreeMap<u64, T> = load(observer, &tag).unwrap_or_default();
        if !items.is_empty() {
            observer.log(&format!("resuming from the checkpoint: {} {what} already done", items.len()));
        }
        Finished { observer, tag, items: Mutex::new(items) }
    }

    /// Indices already done.
    pub fn done(&self) -> Vec<u64> {
        self.lock().keys().copied().collect()
    }

    /// Calls `f` on each item finished so far, in index order.
    pub fn for_each(&self, mut f: impl FnMut(u64, &T)) {
        for (&index, item) in self.lock().iter() {
            f(index, item);
        }
    }

    /// Keeps item `index`, and saves all of them if a checkpoint is due.
    pub fn insert(&self, index: u64, item: T) {
        let mut items = self.lock();
        items.insert(index, item);
        if self.observer.checkpoint_due() {
            save(self.observer, &self.tag, &*items);
        }
    }

    /// All items in index order.
    pub fn into_items(self) -> Vec<T> {
        self.items.into_inner().unwrap_or_else(|p| p.into_inner()).into_values().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, T>> {
        self.items.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// Keeps the last saved state; a checkpoint is due on every ask.
    #[derive(Default)]
    struct Keeper {
        saved: Mutex<Option<Vec<u8>>>,
        logged: Mutex<Vec<String>>,
        due: AtomicBool,
    }

    impl Observer for Keeper {
        fn progress(&self, _: u64, _: u64) {}
        fn trace(&self, _: &str, _: f64, _: f64) {}
        fn histogram(&self, _: &str, _: &[f64], _: &[u64]) {}
        fn log(&self, message: &str) {
            self.logged.lock().unwrap().push(message.into());
        }
        fn cancelled(&self) -> bool {
            false
        }
        fn resume_state(&self) -> Option<Vec<u8>> {
            self.saved.lock().unwrap().clone()
        }
        fn checkpoint_due(&self) -> bool {
            self.due.load(Ordering::Relaxed)
        }
        fn save_state(&self, state: &[u8]) {
            *self.saved.lock().unwrap() = Some(state.to_vec());
        }
    }

    #[test]
    fn round_trip_keeps_exact_bits_and_refuses_other_tags() {
        let state = (vec![0.1f64, -0.0, f64::MIN_POSITIVE], vec![-1i8, 0, 1], 7u64);
        let bytes = encode("chain seed=1", &state);
        let back: (Vec<f64>, Vec<i8>, u64) = decode("chain seed=1", &bytes).unwrap();
        assert_eq!(
            back.0.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            state.0.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
        assert_eq!((back.1, back.2), (state.1, state.2));
        assert!(decode::<(Vec<f64>, Vec<i8>, u64)>("chain seed=2", &bytes)
            .unwrap_err()
            .contains("another computation"));
        assert!(decode::<(Vec<f64>, Vec<i8>, u64)>("chain seed=1", &bytes[..bytes.len() - 1]).is_err());
        assert!(decode::<u64>("chain seed=1", &bytes[..3]).is_err());
    }

    #[test]
    fn rng_state_round_trips_mid_stream() {
        use rand::Rng as _;
        let mut rng = crate::rng::stream(5, "chain", 0);
        let _: [u64; 3] = rng.random();
        let mut copy: crate::rng::Rng = decode("rng", &encode("rng", &rng)).unwrap();
        assert_eq!(rng.random::<u64>(), copy.random::<u64>());
    }

    #[test]
    fn finished_items_resume_and_a_foreign_checkpoint_is_ignored() {
        let keeper = Keeper::default();
        keeper.due.store(true, Ordering::Relaxed);
        let first = Finished::<Vec<f64>>::resume(&keeper, "rows".into(), "rows");
        first.insert(2, vec![2.0]);
        first.insert(0, vec![0.5]);
        let again = Finished::<Vec<f64>>::resume(&keeper, "rows".into(), "rows");
        assert_eq!(again.done(), vec![0, 2]);
        again.insert(1, vec![1.0]);
        assert_eq!(again.into_items(), vec![vec![0.5], vec![1.0], vec![2.0]]);
        let other = Finished::<Vec<f64>>::resume(&keeper, "other rows".into(), "rows");
        assert!(other.done().is_empty());
        assert!(keeper.logged.lock().unwrap().iter().any(|l| l.contains("ignoring the checkpoint")));
    }
}
