-- Quality control while collecting (`juror_core::quality`).
-- `datasets.quality` holds a dataset's settings as JSON (NULL: everything off).
-- `records.target` is how many judgments a record needs now: the dataset's `min_submitted`,
-- or under adaptive overlap what the verdicts so far ask for, or 0 for a gold record (never
-- handed out by overlap). The store recounts it with status and claims (`backend/tally.rs`), and
-- the hand-out's index holds open records only.
ALTER TABLE datasets ADD COLUMN quality TEXT;
ALTER TABLE records ADD COLUMN target BIGINT NOT NULL DEFAULT 1;
UPDATE records SET target = (SELECT d.min_submitted FROM datasets d WHERE d.id = records.dataset_id);
DROP INDEX records_open;
CREATE INDEX records_open ON records (dataset_id, claims DESC, seq) WHERE claims < target;

-- A gold record and the verdict its answers must give (`juror_core::quality::GoldVerdict`, JSON).
CREATE TABLE gold_records (
    record_id TEXT PRIMARY KEY REFERENCES records (id) ON DELETE CASCADE,
    dataset_id TEXT NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    verdict TEXT NOT NULL,
    inserted_at BIGINT NOT NULL
);
CREATE INDEX gold_records_dataset ON gold_records (dataset_id);

-- When an owner last let a labeler paused by their gold answers go on: only gold answers given
-- after it can pause them again.
CREATE TABLE gold_resumes (
    dataset_id TEXT NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    resumed_at BIGINT NOT NULL,
    PRIMARY KEY (dataset_id, user_id)
);

-- A swapped repeat: a record a labeler submitted, shown to them again in the web UI with the
-- responses the other way round. Their second answer is kept here, apart from `responses`, so it
-- is never counted twice; `status` is `pending` until they answer (then `draft`, `submitted` or
-- `discarded`).
CREATE TABLE repeat_answers (
    record_id TEXT NOT NULL REFERENCES records (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    dataset_id TEXT NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    "values" TEXT,
    status TEXT NOT NULL,
    shown_order TEXT,
    time_on_task_ms BIGINT,
    started_at BIGINT NOT NULL,
    answered_at BIGINT,
    PRIMARY KEY (record_id, user_id)
);
CREATE INDEX repeat_answers_labeler ON repeat_answers (dataset_id, user_id, status);

-- Users given the reviewer right in a dataset (besides its owners and admins): they settle
-- disputed records.
CREATE TABLE dataset_reviewers (
    dataset_id TEXT NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    inserted_at BIGINT NOT NULL,
    PRIMARY KEY (dataset_id, user_id)
);

-- A reviewer's final verdict on a record (a complete ranking of its preference question, JSON)
-- with their note. The labelers' answers stay as they were; exports use this verdict and say so.
-- The reviewer's name is kept as it was, so the verdict still reads after the account is gone.
CREATE TABLE adjudications (
    record_id TEXT PRIMARY KEY REFERENCES records (id) ON DELETE CASCADE,
    dataset_id TEXT NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    question TEXT NOT NULL,
    verdict TEXT NOT NULL,
    note TEXT,
    reviewer_id TEXT NOT NULL,
    reviewer_name TEXT NOT NULL,
    decided_at BIGINT NOT NULL
);
CREATE INDEX adjudications_dataset ON adjudications (dataset_id);
