-- The database keeps record status and claims in step with responses and leases itself, so no
-- code path can forget to: every change to a response or a lease goes through these triggers.

-- Fullest open records first, in insertion order: the order the next-record query wants.
DROP INDEX records_open;
CREATE INDEX records_open ON records (dataset_id, claims DESC);

CREATE TRIGGER record_leases_added AFTER INSERT ON record_leases BEGIN
    UPDATE records SET claims = claims + 1 WHERE id = NEW.record_id;
END;

CREATE TRIGGER record_leases_removed AFTER DELETE ON record_leases BEGIN
    UPDATE records SET claims = claims - 1 WHERE id = OLD.record_id;
END;

-- Every change to a record's responses asks for a recount here; this one trigger holds the rule
-- (status from submitted responses against the dataset's min_submitted; claims are submitted
-- responses plus leases), so the response triggers cannot drift apart.
CREATE TABLE record_recounts (record_id TEXT NOT NULL);

CREATE TRIGGER record_recounts_apply AFTER INSERT ON record_recounts BEGIN
    UPDATE records SET
        status = CASE WHEN (SELECT count(*) FROM responses r WHERE r.record_id = records.id AND r.status = 'submitted')
                           >= (SELECT d.min_submitted FROM datasets d WHERE d.id = records.dataset_id)
                      THEN 'completed' ELSE 'pending' END,
        claims = (SELECT count(*) FROM responses r WHERE r.record_id = records.id AND r.status = 'submitted')
               + (SELECT count(*) FROM record_leases l WHERE l.record_id = records.id)
    WHERE id = NEW.record_id;
    DELETE FROM record_recounts WHERE rowid = NEW.rowid;
END;

CREATE TRIGGER responses_added AFTER INSERT ON responses BEGIN
    DELETE FROM record_leases WHERE NEW.status <> 'draft' AND record_id = NEW.record_id AND user_id = NEW.user_id;
    INSERT INTO record_recounts (record_id) VALUES (NEW.record_id);
    UPDATE datasets SET last_activity_at = NEW.updated_at WHERE id = (SELECT dataset_id FROM records WHERE id = NEW.record_id);
END;

CREATE TRIGGER responses_changed AFTER UPDATE OF status, "values" ON responses BEGIN
    DELETE FROM record_leases WHERE NEW.status <> 'draft' AND record_id = NEW.record_id AND user_id = NEW.user_id;
    INSERT INTO record_recounts (record_id) VALUES (NEW.record_id);
    UPDATE datasets SET last_activity_at = NEW.updated_at WHERE id = (SELECT dataset_id FROM records WHERE id = NEW.record_id);
END;

CREATE TRIGGER responses_removed AFTER DELETE ON responses BEGIN
    INSERT INTO record_recounts (record_id) VALUES (OLD.record_id);
    UPDATE datasets SET last_activity_at = CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)
    WHERE id = (SELECT dataset_id FROM records WHERE id = OLD.record_id);
END;
