-- Juror's initial schema. Timestamps are microseconds since the Unix epoch (UTC).
-- Settings, field values, metadata and answer values are JSON text in their canonical form.

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    username TEXT NOT NULL UNIQUE,
    first_name TEXT NOT NULL,
    last_name TEXT,
    role TEXT NOT NULL,
    api_key TEXT NOT NULL,
    api_key_digest TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    inserted_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE workspaces (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL UNIQUE,
    inserted_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE workspace_users (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    inserted_at INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX workspace_users_user ON workspace_users (user_id);

CREATE TABLE datasets (
    id TEXT PRIMARY KEY NOT NULL,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE RESTRICT,
    name TEXT NOT NULL,
    guidelines TEXT,
    allow_extra_metadata INTEGER NOT NULL,
    status TEXT NOT NULL,
    min_submitted INTEGER NOT NULL,
    metadata TEXT,
    last_activity_at INTEGER NOT NULL,
    inserted_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CONSTRAINT datasets_name_workspace UNIQUE (workspace_id, name)
);

CREATE TABLE fields (
    id TEXT PRIMARY KEY NOT NULL,
    dataset_id TEXT NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    title TEXT NOT NULL,
    required INTEGER NOT NULL,
    settings TEXT NOT NULL,
    inserted_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (dataset_id, name)
);

CREATE TABLE questions (
    id TEXT PRIMARY KEY NOT NULL,
    dataset_id TEXT NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT,
    required INTEGER NOT NULL,
    settings TEXT NOT NULL,
    inserted_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (dataset_id, name)
);

CREATE TABLE metadata_properties (
    id TEXT PRIMARY KEY NOT NULL,
    dataset_id TEXT NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    title TEXT NOT NULL,
    settings TEXT NOT NULL,
    visible_for_annotators INTEGER NOT NULL,
    inserted_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (dataset_id, name)
);

CREATE TABLE vector_settings (
    id TEXT PRIMARY KEY NOT NULL,
    dataset_id TEXT NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    title TEXT NOT NULL,
    dimensions INTEGER NOT NULL,
    inserted_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (dataset_id, name)
);

-- The implicit rowid orders records by insertion, which is the order every list returns.
CREATE TABLE records (
    id TEXT NOT NULL UNIQUE,
    dataset_id TEXT NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    external_id TEXT,
    fields TEXT NOT NULL,
    metadata TEXT,
    status TEXT NOT NULL,
    inserted_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CONSTRAINT records_external_id UNIQUE (dataset_id, external_id)
);
CREATE INDEX records_dataset_status ON records (dataset_id, status);

CREATE TABLE responses (
    id TEXT PRIMARY KEY NOT NULL,
    record_id TEXT NOT NULL REFERENCES records (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    "values" TEXT,
    status TEXT NOT NULL,
    inserted_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CONSTRAINT responses_record_user UNIQUE (record_id, user_id)
);
CREATE INDEX responses_user ON responses (user_id);

CREATE TABLE suggestions (
    id TEXT PRIMARY KEY NOT NULL,
    record_id TEXT NOT NULL REFERENCES records (id) ON DELETE CASCADE,
    question_id TEXT NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
    type TEXT,
    value TEXT NOT NULL,
    agent TEXT,
    score TEXT,
    inserted_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (record_id, question_id)
);
CREATE INDEX suggestions_question ON suggestions (question_id);

-- Vectors are little-endian f32 arrays.
CREATE TABLE record_vectors (
    record_id TEXT NOT NULL REFERENCES records (id) ON DELETE CASCADE,
    vector_settings_id TEXT NOT NULL REFERENCES vector_settings (id) ON DELETE CASCADE,
    value BLOB NOT NULL,
    PRIMARY KEY (record_id, vector_settings_id)
);
CREATE INDEX record_vectors_settings ON record_vectors (vector_settings_id);
