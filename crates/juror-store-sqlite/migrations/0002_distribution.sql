-- Exact workload distribution: leases, explicit assignments, quotas and skips.

-- Submitted responses plus unexpired leases: a record is handed out only while claims < min_submitted.
ALTER TABLE records ADD COLUMN claims INTEGER NOT NULL DEFAULT 0;
UPDATE records SET claims = (SELECT count(*) FROM responses r WHERE r.record_id = records.id AND r.status = 'submitted');
CREATE INDEX records_open ON records (dataset_id, claims);

-- A labeler working on a record until `expires_at` (microseconds since the epoch).
CREATE TABLE record_leases (
    record_id TEXT NOT NULL REFERENCES records (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    dataset_id TEXT NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (record_id, user_id)
);
CREATE INDEX record_leases_expiry ON record_leases (expires_at);
CREATE INDEX record_leases_user ON record_leases (user_id, dataset_id);

-- Records a labeler passed over; offered again only when nothing else is left.
CREATE TABLE record_skips (
    record_id TEXT NOT NULL REFERENCES records (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (record_id, user_id)
);

-- A record with assignments is handed out only to the users assigned to it.
CREATE TABLE record_assignments (
    record_id TEXT NOT NULL REFERENCES records (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    dataset_id TEXT NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    PRIMARY KEY (record_id, user_id)
);
CREATE INDEX record_assignments_user ON record_assignments (user_id, dataset_id);

-- The most records a labeler may take (submitted plus leased) in a dataset.
CREATE TABLE dataset_quotas (
    dataset_id TEXT NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    max_records INTEGER NOT NULL,
    PRIMARY KEY (dataset_id, user_id)
);
