-- A dataset's last activity moves at most once a second: before, every answer rewrote the
-- dataset's row, one more page for the labeling loop's writer to journal and commit per answer.

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
