-- Webhooks and their durable delivery queue, as in SQLite's migration 0011 (the same columns,
-- so both backends decode them with the same code). Servers claim due deliveries with an UPDATE
-- that re-checks `next_attempt_at`, so two replicas never claim one delivery for the same attempt.
CREATE TABLE webhooks (
    id TEXT PRIMARY KEY NOT NULL,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    events TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    description TEXT,
    inserted_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    webhook_id TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event TEXT NOT NULL,
    dedupe_key TEXT,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    last_attempt_at BIGINT,
    last_status_code BIGINT,
    last_error TEXT,
    inserted_at BIGINT NOT NULL,
    delivered_at BIGINT
);

-- The body each delivery sends, written once: kept apart from the delivery's state, which every
-- claim and attempt rewrites, so those rewrites stay small.
CREATE TABLE webhook_payloads (
    delivery_id TEXT PRIMARY KEY NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    payload TEXT NOT NULL
);

CREATE UNIQUE INDEX webhook_deliveries_once ON webhook_deliveries (webhook_id, dedupe_key);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, inserted_at);
