-- The next-record hand-out as one statement: inserting a request runs the whole decision in a
-- trigger, inside SQLite, so the single writer is held for one step instead of a round trip per
-- query. The request row is removed again by the same trigger; the lease it made (or refreshed)
-- is read back afterwards.
CREATE TABLE lease_requests (
    user_id TEXT NOT NULL,
    dataset_id TEXT NOT NULL,
    min_submitted INTEGER NOT NULL,
    now INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE TRIGGER lease_requests_decide AFTER INSERT ON lease_requests BEGIN
    -- Leases that ran out give their claims back (see the record_leases triggers).
    DELETE FROM record_leases WHERE expires_at <= NEW.now;
    -- A labeler who holds a record keeps it, for longer.
    UPDATE record_leases SET expires_at = NEW.expires_at WHERE user_id = NEW.user_id AND dataset_id = NEW.dataset_id;
    -- Otherwise: the fullest open record, in insertion order, that the labeler has not answered
    -- or skipped, that is assigned to them or to nobody, while they are within their quota.
    INSERT INTO record_leases (record_id, user_id, dataset_id, expires_at)
    SELECT r.id, NEW.user_id, NEW.dataset_id, NEW.expires_at
    -- `go` has a row only while the labeler holds nothing and is within quota; as the outer side
    -- of a CROSS JOIN it stops the search before it starts otherwise.
    FROM (SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM record_leases held WHERE held.user_id = NEW.user_id AND held.dataset_id = NEW.dataset_id)
            AND (SELECT CASE WHEN q.max_records IS NULL THEN 1
                             ELSE (SELECT count(*) FROM responses x JOIN records rx ON rx.id = x.record_id
                                   WHERE rx.dataset_id = NEW.dataset_id AND x.user_id = NEW.user_id AND x.status = 'submitted') < q.max_records END
                 FROM (SELECT (SELECT max_records FROM dataset_quotas WHERE dataset_id = NEW.dataset_id AND user_id = NEW.user_id) AS max_records) q)) AS go
    CROSS JOIN records r
    WHERE r.dataset_id = NEW.dataset_id AND r.claims < NEW.min_submitted
      AND NOT EXISTS (SELECT 1 FROM responses x WHERE x.record_id = r.id AND x.user_id = NEW.user_id)
      AND NOT EXISTS (SELECT 1 FROM record_skips s WHERE s.record_id = r.id AND s.user_id = NEW.user_id)
      AND (NOT EXISTS (SELECT 1 FROM record_assignments a WHERE a.record_id = r.id)
           OR EXISTS (SELECT 1 FROM record_assignments a WHERE a.record_id = r.id AND a.user_id = NEW.user_id))
    ORDER BY r.claims DESC, r.rowid LIMIT 1;
    -- Skipped records come back only when nothing else is left; taking one clears the skip.
    INSERT INTO record_leases (record_id, user_id, dataset_id, expires_at)
    SELECT r.id, NEW.user_id, NEW.dataset_id, NEW.expires_at
    -- `go` has a row only while the labeler holds nothing and is within quota; as the outer side
    -- of a CROSS JOIN it stops the search before it starts otherwise.
    FROM (SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM record_leases held WHERE held.user_id = NEW.user_id AND held.dataset_id = NEW.dataset_id)
            AND (SELECT CASE WHEN q.max_records IS NULL THEN 1
                             ELSE (SELECT count(*) FROM responses x JOIN records rx ON rx.id = x.record_id
                                   WHERE rx.dataset_id = NEW.dataset_id AND x.user_id = NEW.user_id AND x.status = 'submitted') < q.max_records END
                 FROM (SELECT (SELECT max_records FROM dataset_quotas WHERE dataset_id = NEW.dataset_id AND user_id = NEW.user_id) AS max_records) q)) AS go
    CROSS JOIN records r
    WHERE r.dataset_id = NEW.dataset_id AND r.claims < NEW.min_submitted
      AND NOT EXISTS (SELECT 1 FROM responses x WHERE x.record_id = r.id AND x.user_id = NEW.user_id)
      AND (NOT EXISTS (SELECT 1 FROM record_assignments a WHERE a.record_id = r.id)
           OR EXISTS (SELECT 1 FROM record_assignments a WHERE a.record_id = r.id AND a.user_id = NEW.user_id))
    ORDER BY r.claims DESC, r.rowid LIMIT 1;
    DELETE FROM record_skips WHERE user_id = NEW.user_id
      AND record_id = (SELECT record_id FROM record_leases WHERE user_id = NEW.user_id AND dataset_id = NEW.dataset_id);
    DELETE FROM lease_requests WHERE rowid = NEW.rowid;
END;
