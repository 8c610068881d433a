-- The rules move out of the database: record status, claims, lease clean-up, last activity and
-- the next-record decision are decided in Rust (`juror_core::distribution`) and written by
-- explicit statements (`juror_store::backend::tally`, `hand_out.rs`), so every backend runs
-- the same rules. Records get an explicit insertion order, `seq`, instead of the implicit rowid
-- (here it is the rowid's alias, so it costs nothing).
--
-- Rebuilding `records` needs foreign keys off (dropping a table with them on deletes every
-- response, lease and vector that points at it): migrations run on a connection of their own
-- with foreign keys off, and `foreign_key_check` runs after them (`SqliteStore::open`).

DROP TRIGGER IF EXISTS lease_requests_decide;
DROP TRIGGER IF EXISTS record_leases_added;
DROP TRIGGER IF EXISTS record_leases_removed;
DROP TRIGGER IF EXISTS record_recounts_apply;
DROP TRIGGER IF EXISTS responses_added;
DROP TRIGGER IF EXISTS responses_changed;
DROP TRIGGER IF EXISTS responses_removed;
DROP TABLE IF EXISTS lease_requests;
DROP TABLE IF EXISTS record_recounts;

CREATE TABLE records_next (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    dataset_id TEXT NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    external_id TEXT,
    fields TEXT NOT NULL,
    metadata TEXT,
    status TEXT NOT NULL,
    claims INTEGER NOT NULL DEFAULT 0,
    inserted_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CONSTRAINT records_external_id UNIQUE (dataset_id, external_id)
);
INSERT INTO records_next (seq, id, dataset_id, external_id, fields, metadata, status, claims, inserted_at, updated_at)
SELECT rowid, id, dataset_id, external_id, fields, metadata, status, claims, inserted_at, updated_at FROM records;
DROP TABLE records;
ALTER TABLE records_next RENAME TO records;
CREATE INDEX records_dataset_status ON records (dataset_id, status);
-- Fullest open records first, then insertion order (`seq`, the key every index ends with).
CREATE INDEX records_open ON records (dataset_id, claims DESC);
