-- The web UI: how a record was shown to the labeler who answered it, and login sessions.

-- Per ranking question, the option values in shown order (a JSON object), and the milliseconds
-- from first render to the answer. Both NULL for answers given through the API.
ALTER TABLE responses ADD COLUMN shown_order TEXT;
ALTER TABLE responses ADD COLUMN time_on_task_ms INTEGER;

-- Browser sessions. The cookie holds a random token; only its SHA-256 digest is stored, so a
-- copy of the database does not let anyone in.
CREATE TABLE web_sessions (
    token_digest TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    inserted_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX web_sessions_user ON web_sessions (user_id);
