-- Webhooks and their durable delivery queue. A delivery is one event for one webhook: enqueued
-- after the change it reports committed, claimed by a server for an attempt (which moves
-- `next_attempt_at` past the attempt's timeout, so a server that dies mid-attempt leaves it to
-- another), then delivered, retried later, or given up. `dedupe_key` makes an event such as a
-- record's completion enqueue once per webhook.
CREATE TABLE webhooks (
    id TEXT PRIMARY KEY NOT NULL,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    events TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    description TEXT,
    inserted_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    webhook_id TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event TEXT NOT NULL,
    dedupe_key TEXT,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    last_attempt_at INTEGER,
    last_status_code INTEGER,
    last_error TEXT,
    inserted_at INTEGER NOT NULL,
    delivered_at INTEGER
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
