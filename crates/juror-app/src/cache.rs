//! Short-lived caches of what every labeling request reads and almost nothing changes: the users
//! behind API keys, dataset schemas, workspace memberships, which datasets limit answers, and the
//! dataset of each record handed out.
//!
//! Changes made through this process forget the entries at once; changes made by another process
//! sharing the database (the CLI, another replica) are seen within `TTL`.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use juror_core::ids::{DatasetId, RecordId, UserId, WorkspaceId};
use juror_core::record::DatasetSchema;
use juror_core::user::User;

/// How long a cached entry is trusted.
const TTL: Duration = Duration::from_secs(1);

/// Most entries a [`Fresh`] map keeps before it drops the stale ones.
const PRUNE_AT: usize = 10_000;

/// Values read a moment ago, each trusted for `TTL` after it was read.
#[derive(Debug)]
pub(crate) struct Fresh<K, V> {
    entries: Mutex<HashMap<K, (Instant, V)>>,
}

impl<K, V> Default for Fresh<K, V> {
    fn default() -> Self {
        Self { entries: Mutex::new(HashMap::new()) }
    }
}

impl<K: Eq + Hash, V: Clone> Fresh<K, V> {
    /// The cached value, if it is fresh.
    pub(crate) fn get(&self, key: &K) -> Option<V> {
        let entries = self.entries.lock().ok()?;
        entries.get(key).filter(|(read_at, _)| read_at.elapsed() < TTL).map(|(_, value)| value.clone())
    }

    /// Remembers a value just read.
    pub(crate) fn put(&self, key: K, value: V) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= PRUNE_AT {
                entries.retain(|_, (read_at, _)| read_at.elapsed() < TTL);
            }
            entries.insert(key, (Instant::now(), value));
        }
    }

    /// Forgets one key whose value changed here.
    pub(crate) fn forget(&self, key: &K) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(key);
        }
    }

    /// Forgets everything.
    pub(crate) fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

/// Users by API key digest, so most requests authenticate without a read; a deleted or demoted
/// user, or a rotated key, is seen by every replica within `TTL`.
pub(crate) type AuthCache = Fresh<String, User>;

/// Dataset schemas: the settings every answer is checked against.
pub(crate) type SchemaCache = Fresh<DatasetId, Arc<DatasetSchema>>;

/// Whether a user belongs to a workspace, by (workspace, user): what every authorization asks.
pub(crate) type MembershipCache = Fresh<(WorkspaceId, UserId), bool>;

/// Whether a dataset has any assignment or quota, so that answers in the datasets without (the
/// usual case) are not checked against them.
pub(crate) type LimitedDatasets = Fresh<DatasetId, bool>;

/// Datasets' quality settings, read by every web UI hand-out when repeats may be due.
pub(crate) type QualityCache = Fresh<DatasetId, juror_core::quality::QualitySettings>;

/// Most records `RecordDatasets` remembers before it starts over.
const MAX_RECORD_DATASETS: usize = 100_000;

/// The dataset of each record handed out, so that an answer needs no read of its record:
/// records never move between datasets, so an entry cannot go stale (a deleted record fails the
/// answer's own foreign key instead). Entries stay after the answer (the record's other labelers
/// need them too) until the map is full and starts over: at most 100,000 small entries.
#[derive(Debug, Default)]
pub(crate) struct RecordDatasets {
    entries: Mutex<HashMap<RecordId, DatasetId>>,
}

impl RecordDatasets {
    /// Remembers the dataset of a record just handed out.
    pub(crate) fn put(&self, record: RecordId, dataset: DatasetId) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_RECORD_DATASETS {
                entries.clear();
            }
            entries.insert(record, dataset);
        }
    }

    /// The dataset of a handed-out record, if it is remembered.
    pub(crate) fn get(&self, record: RecordId) -> Option<DatasetId> {
        self.entries.lock().ok()?.get(&record).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_datasets_remember_until_full_then_start_over() {
        let cache = RecordDatasets::default();
        let dataset = DatasetId::new();
        let first = RecordId::new();
        cache.put(first, dataset);
        assert_eq!(cache.get(first), Some(dataset));
        assert_eq!(cache.get(RecordId::new()), None);
        for _ in 1..MAX_RECORD_DATASETS {
            cache.put(RecordId::new(), dataset);
        }
        assert_eq!(cache.get(first), Some(dataset), "still there at the bound");
        cache.put(RecordId::new(), dataset);
        assert_eq!(cache.get(first), None, "forgotten once the bound is passed");
    }
}
