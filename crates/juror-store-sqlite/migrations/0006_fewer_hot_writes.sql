-- Fewer writes for the labeling loop's single writer, same results. Before, an answer rewrote its
-- record's row (and moved its `records_open` entry) twice and the dataset's row once; now, in the
-- common case, it writes neither. Every page written is one more for the statement journal and
-- the commit.

-- A lease that ends because its labeler submitted an answer leaves the claims alone: the answer's
-- recount (below) sees the submitted response and the missing lease together. Every other lease
-- that ends (expired, released, skipped, a discarded answer) gives its claim back as before.
DROP TRIGGER record_leases_removed;
CREATE TRIGGER record_leases_removed AFTER DELETE ON record_leases
WHEN NOT EXISTS (SELECT 1 FROM responses r WHERE r.record_id = OLD.record_id AND r.user_id = OLD.user_id AND r.status = 'submitted')
BEGIN
    UPDATE records SET claims = claims - 1 WHERE id = OLD.record_id;
END;

-- A recount writes the record only when its status or claims change: an answer that replaces
-- its labeler's lease leaves the claims where they were.
DROP TRIGGER record_recounts_apply;
CREATE TRIGGER record_recounts_apply AFTER INSERT ON record_recounts BEGIN
    UPDATE records SET status = counted.status, claims = counted.claims
    FROM (SELECT CASE WHEN s.submitted >= s.min_submitted THEN 'completed' ELSE 'pending' END AS status,
                 s.submitted + s.leases AS claims
          FROM (SELECT (SELECT count(*) FROM responses r WHERE r.record_id = NEW.record_id AND r.status = 'submitted') AS submitted,
                       (SELECT count(*) FROM record_leases l WHERE l.record_id = NEW.record_id) AS leases,
                       (SELECT d.min_submitted FROM datasets d JOIN records x ON x.dataset_id = d.id WHERE x.id = NEW.record_id) AS min_submitted) s) AS counted
    WHERE records.id = NEW.record_id AND (records.status IS NOT counted.status OR records.claims IS NOT counted.claims);
    DELETE FROM record_recounts WHERE rowid = NEW.rowid;
END;

-- A dataset's last activity moves at most once a second.
DROP TRIGGER responses_added;
CREATE TRIGGER responses_added AFTER INSERT ON responses BEGIN
    DELETE FROM record_leases WHERE NEW.status <> 'draft' AND record_id = NEW.record_id AND user_id = NEW.user_id;
    INSERT INTO record_recounts (record_id) VALUES (NEW.record_id);
    UPDATE datasets SET last_activity_at = NEW.updated_at
    WHERE id = (SELECT dataset_id FROM records WHERE id = NEW.record_id) AND last_activity_at < NEW.updated_at - 1000000;
END;

DROP TRIGGER responses_changed;
CREATE TRIGGER responses_changed AFTER UPDATE OF status, "values" ON responses BEGIN
    DELETE FROM record_leases WHERE NEW.status <> 'draft' AND record_id = NEW.record_id AND user_id = NEW.user_id;
    INSERT INTO record_recounts (record_id) VALUES (NEW.record_id);
    UPDATE datasets SET last_activity_at = NEW.updated_at
    WHERE id = (SELECT dataset_id FROM records WHERE id = NEW.record_id) AND last_activity_at < NEW.updated_at - 1000000;
END;
