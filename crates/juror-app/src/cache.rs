//! Short-lived caches of what every labeling request reads and almost nothing changes: dataset
//! schemas (the settings every answer is checked against) and workspace memberships (what every
//! authorization asks).
//!
//! Changes made through this process forget the entries at once; changes made by another process
//! sharing the database (the CLI, another replica) are seen within `TTL`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use juror_core::ids::{DatasetId, RecordId, UserId, WorkspaceId};
use juror_core::record::DatasetSchema;

/// How long a cached schema is trusted.
const TTL: Duration = Duration::from_secs(1);

/// Dataset schemas by id, each with the moment it was read.
#[derive(Debug, Default)]
pub(crate) struct SchemaCache {
    entries: Mutex<HashMap<DatasetId, (Instant, Arc<DatasetSchema>)>>,
}

impl SchemaCache {
    /// The cached schema, if it is fresh.
    pub(crate) fn get(&self, id: DatasetId) -> Option<Arc<DatasetSchema>> {
        let entries = self.entries.lock().ok()?;
        entries.get(&id).filter(|(read_at, _)| read_at.elapsed() < TTL).map(|(_, schema)| schema.clone())
    }

    /// Remembers a schema just read.
    pub(crate) fn put(&self, schema: Arc<DatasetSchema>) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.retain(|_, (read_at, _)| read_at.elapsed() < TTL);
            entries.insert(schema.dataset.id, (Instant::now(), schema));
        }
    }

    /// Forgets a dataset whose settings changed.
    pub(crate) fn forget(&self, id: DatasetId) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(&id);
        }
    }
}

/// Whether a user belongs to a workspace, by (workspace, user).
#[derive(Debug, Default)]
pub(crate) struct MembershipCache {
    entries: Mutex<HashMap<(WorkspaceId, UserId), (Instant, bool)>>,
}

impl MembershipCache {
    /// The cached answer, if it is fresh.
    pub(crate) fn get(&self, workspace: WorkspaceId, user: UserId) -> Option<bool> {
        let entries = self.entries.lock().ok()?;
        entries.get(&(workspace, user)).filter(|(read_at, _)| read_at.elapsed() < TTL).map(|(_, member)| *member)
    }

    /// Remembers an answer just read.
    pub(crate) fn put(&self, workspace: WorkspaceId, user: UserId, member: bool) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() > 10_000 {
                entries.retain(|_, (read_at, _)| read_at.elapsed() < TTL);
            }
            entries.insert((workspace, user), (Instant::now(), member));
        }
    }

    /// Forgets everything; called after any change to memberships, users or workspaces.
    pub(crate) fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

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
