-- Administrative actions, newest last. No foreign keys: an entry outlives the user, workspace or
-- dataset it names. `sequence` is the log's order (an explicit key, not the rowid).
CREATE TABLE audit_events (
    sequence INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    actor_id TEXT,
    actor_name TEXT NOT NULL,
    action TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    target_id TEXT NOT NULL,
    details TEXT NOT NULL
);
