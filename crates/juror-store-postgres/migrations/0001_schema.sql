-- Juror's schema on PostgreSQL: the same tables and columns as the SQLite store after its
-- migration 0009, so both read rows with the same decoders (`juror_store::backend::rows`).
-- Ids are canonical UUID text, times are microseconds since the Unix epoch (UTC), settings,
-- field values, metadata and answers are JSON text in their canonical form (text, not jsonb,
-- which would reorder an object's keys). Unique constraints keep the names that
-- `juror_store::UniqueKey::from_report` reads.

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    first_name TEXT NOT NULL,
    last_name TEXT,
    role TEXT NOT NULL,
    api_key TEXT NOT NULL,
    api_key_digest TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    inserted_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE workspaces (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    inserted_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE workspace_users (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    inserted_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX workspace_users_user ON workspace_users (user_id);

CREATE TABLE datasets (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE RESTRICT,
    name TEXT NOT NULL,
    guidelines TEXT,
    allow_extra_metadata BOOLEAN NOT NULL,
    status TEXT NOT NULL,
    min_submitted BIGINT NOT NULL,
    metadata TEXT,
    last_activity_at BIGINT NOT NULL,
    inserted_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT datasets_name_workspace UNIQUE (workspace_id, name)
);

CREATE TABLE fields (
    id TEXT PRIMARY KEY,
    dataset_id TEXT NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    title TEXT NOT NULL,
    required BOOLEAN NOT NULL,
    settings TEXT NOT NULL,
    inserted_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (dataset_id, name)
);

CREATE TABLE questions (
    id TEXT PRIMARY KEY,
    dataset_id TEXT NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT,
    required BOOLEAN NOT NULL,
    settings TEXT NOT NULL,
    inserted_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (dataset_id, name)
);

CREATE TABLE metadata_properties (
    id TEXT PRIMARY KEY,
    dataset_id TEXT NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    title TEXT NOT NULL,
    settings TEXT NOT NULL,
    visible_for_annotators BOOLEAN NOT NULL,
    inserted_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (dataset_id, name)
);

CREATE TABLE vector_settings (
    id TEXT PRIMARY KEY,
    dataset_id TEXT NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    title TEXT NOT NULL,
    dimensions BIGINT NOT NULL,
    inserted_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (dataset_id, name)
);

-- `seq` is the insertion order every list of records follows; `claims` are submitted responses
-- plus leases (`juror_core::distribution::RecordTally`), kept by the store in each transaction.
CREATE TABLE records (
    seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    id TEXT PRIMARY KEY,
    dataset_id TEXT NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    external_id TEXT,
    fields TEXT NOT NULL,
    metadata TEXT,
    status TEXT NOT NULL,
    claims BIGINT NOT NULL DEFAULT 0,
    inserted_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT records_external_id UNIQUE (dataset_id, external_id)
);
CREATE INDEX records_dataset_seq ON records (dataset_id, seq);
CREATE INDEX records_dataset_status ON records (dataset_id, status);
-- Fullest open records first, then insertion order: the hand-out's index walk.
CREATE INDEX records_open ON records (dataset_id, claims DESC, seq);

CREATE TABLE responses (
    id TEXT PRIMARY KEY,
    record_id TEXT NOT NULL REFERENCES records (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    "values" TEXT,
    status TEXT NOT NULL,
    inserted_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    shown_order TEXT,
    time_on_task_ms BIGINT,
    CONSTRAINT responses_record_user UNIQUE (record_id, user_id)
);
CREATE INDEX responses_user ON responses (user_id);

CREATE TABLE suggestions (
    id TEXT PRIMARY KEY,
    record_id TEXT NOT NULL REFERENCES records (id) ON DELETE CASCADE,
    question_id TEXT NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
    type TEXT,
    value TEXT NOT NULL,
    agent TEXT,
    score TEXT,
    inserted_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (record_id, question_id)
);
CREATE INDEX suggestions_question ON suggestions (question_id);

-- Little-endian f32 arrays.
CREATE TABLE record_vectors (
    record_id TEXT NOT NULL REFERENCES records (id) ON DELETE CASCADE,
    vector_settings_id TEXT NOT NULL REFERENCES vector_settings (id) ON DELETE CASCADE,
    value BYTEA NOT NULL,
    PRIMARY KEY (record_id, vector_settings_id)
);
CREATE INDEX record_vectors_settings ON record_vectors (vector_settings_id);

-- A labeler working on a record until `expires_at`; at most one lease per labeler and dataset.
CREATE TABLE record_leases (
    record_id TEXT NOT NULL REFERENCES records (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    dataset_id TEXT NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (record_id, user_id),
    CONSTRAINT record_leases_one_per_labeler UNIQUE (user_id, dataset_id)
);
CREATE INDEX record_leases_expiry ON record_leases (expires_at);
CREATE INDEX record_leases_dataset ON record_leases (dataset_id, expires_at);

CREATE TABLE record_skips (
    record_id TEXT NOT NULL REFERENCES records (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (record_id, user_id)
);

CREATE TABLE record_assignments (
    record_id TEXT NOT NULL REFERENCES records (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    dataset_id TEXT NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    PRIMARY KEY (record_id, user_id)
);
CREATE INDEX record_assignments_user ON record_assignments (user_id, dataset_id);
CREATE INDEX record_assignments_dataset ON record_assignments (dataset_id);

CREATE TABLE dataset_quotas (
    dataset_id TEXT NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    max_records BIGINT NOT NULL,
    PRIMARY KEY (dataset_id, user_id)
);

CREATE TABLE web_sessions (
    token_digest TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    inserted_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX web_sessions_user ON web_sessions (user_id);

CREATE TABLE audit_events (
    sequence BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at BIGINT NOT NULL,
    actor_id TEXT,
    actor_name TEXT NOT NULL,
    action TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    target_id TEXT NOT NULL,
    details TEXT NOT NULL
);
