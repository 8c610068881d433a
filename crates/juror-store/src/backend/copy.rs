//! Copying a whole installation from one backend to another, table by table in the order their
//! references need, each row exactly as stored (ids, API key digests, password hashes, shown
//! orders, times on task, leases, sessions); records and the audit log in their order, so the
//! target's own sequences keep it.

use super::columns::Columns;
use super::run::Run;
use super::sql::{value_rows, Param, Statement};
use super::sql_store::SqlBackend;
use crate::error::StoreResult;

/// A column's type, to read it from one backend and bind it on the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    OptText,
    Int,
    OptInt,
    Flag,
    Bytes,
}

/// A table to copy: its columns (the database's own sequences left out) and a total order.
#[derive(Debug, Clone, Copy)]
pub struct Table {
    pub name: &'static str,
    pub columns: &'static [(&'static str, Kind)],
    pub order: &'static str,
}

use Kind::{Bytes, Flag, Int, OptInt, OptText, Text};

/// Every table of Juror's schema, parents before children.
pub const TABLES: &[Table] = &[
    Table {
        name: "users",
        columns: &[("id", Text), ("username", Text), ("first_name", Text), ("last_name", OptText), ("role", Text), ("api_key", Text), ("api_key_digest", Text), ("password_hash", Text), ("inserted_at", Int), ("updated_at", Int)],
        order: "inserted_at, id",
    },
    Table { name: "workspaces", columns: &[("id", Text), ("name", Text), ("inserted_at", Int), ("updated_at", Int)], order: "inserted_at, id" },
    Table { name: "workspace_users", columns: &[("workspace_id", Text), ("user_id", Text), ("inserted_at", Int)], order: "inserted_at, workspace_id, user_id" },
    Table {
        name: "datasets",
        columns: &[
            ("id", Text),
            ("workspace_id", Text),
            ("name", Text),
            ("guidelines", OptText),
            ("allow_extra_metadata", Flag),
            ("status", Text),
            ("min_submitted", Int),
            ("metadata", OptText),
            ("quality", OptText),
            ("last_activity_at", Int),
            ("inserted_at", Int),
            ("updated_at", Int),
        ],
        order: "inserted_at, id",
    },
    Table {
        name: "fields",
        columns: &[("id", Text), ("dataset_id", Text), ("name", Text), ("title", Text), ("required", Flag), ("settings", Text), ("inserted_at", Int), ("updated_at", Int)],
        order: "inserted_at, id",
    },
    Table {
        name: "questions",
        columns: &[("id", Text), ("dataset_id", Text), ("name", Text), ("title", Text), ("description", OptText), ("required", Flag), ("settings", Text), ("inserted_at", Int), ("updated_at", Int)],
        order: "inserted_at, id",
    },
    Table {
        name: "metadata_properties",
        columns: &[("id", Text), ("dataset_id", Text), ("name", Text), ("title", Text), ("settings", Text), ("visible_for_annotators", Flag), ("inserted_at", Int), ("updated_at", Int)],
        order: "inserted_at, id",
    },
    Table {
        name: "vector_settings",
        columns: &[("id", Text), ("dataset_id", Text), ("name", Text), ("title", Text), ("dimensions", Int), ("inserted_at", Int), ("updated_at", Int)],
        order: "inserted_at, id",
    },
    Table {
        name: "records",
        columns: &[("id", Text), ("dataset_id", Text), ("external_id", OptText), ("fields", Text), ("metadata", OptText), ("status", Text), ("claims", Int), ("target", Int), ("inserted_at", Int), ("updated_at", Int)],
        order: "seq",
    },
    Table { name: "gold_records", columns: &[("record_id", Text), ("dataset_id", Text), ("verdict", Text), ("inserted_at", Int)], order: "inserted_at, record_id" },
    Table { name: "gold_resumes", columns: &[("dataset_id", Text), ("user_id", Text), ("resumed_at", Int)], order: "dataset_id, user_id" },
    Table {
        name: "repeat_answers",
        columns: &[
            ("record_id", Text),
            ("user_id", Text),
            ("dataset_id", Text),
            ("\"values\"", OptText),
            ("status", Text),
            ("shown_order", OptText),
            ("time_on_task_ms", OptInt),
            ("started_at", Int),
            ("answered_at", OptInt),
        ],
        order: "record_id, user_id",
    },
    Table { name: "dataset_reviewers", columns: &[("dataset_id", Text), ("user_id", Text), ("inserted_at", Int)], order: "dataset_id, user_id" },
    Table {
        name: "adjudications",
        columns: &[
            ("record_id", Text),
            ("dataset_id", Text),
            ("question", Text),
            ("verdict", Text),
            ("note", OptText),
            ("reviewer_id", Text),
            ("reviewer_name", Text),
            ("decided_at", Int),
        ],
        order: "decided_at, record_id",
    },
    Table {
        name: "responses",
        columns: &[
            ("id", Text),
            ("record_id", Text),
            ("user_id", Text),
            ("\"values\"", OptText),
            ("status", Text),
            ("inserted_at", Int),
            ("updated_at", Int),
            ("shown_order", OptText),
            ("time_on_task_ms", OptInt),
        ],
        order: "inserted_at, id",
    },
    Table {
        name: "suggestions",
        columns: &[("id", Text), ("record_id", Text), ("question_id", Text), ("type", OptText), ("value", Text), ("agent", OptText), ("score", OptText), ("inserted_at", Int), ("updated_at", Int)],
        order: "inserted_at, id",
    },
    Table { name: "record_vectors", columns: &[("record_id", Text), ("vector_settings_id", Text), ("value", Bytes), ("width", Int)], order: "record_id, vector_settings_id" },
    Table { name: "record_leases", columns: &[("record_id", Text), ("user_id", Text), ("dataset_id", Text), ("expires_at", Int)], order: "record_id, user_id" },
    Table { name: "record_skips", columns: &[("record_id", Text), ("user_id", Text)], order: "record_id, user_id" },
    Table { name: "record_assignments", columns: &[("record_id", Text), ("user_id", Text), ("dataset_id", Text)], order: "record_id, user_id" },
    Table { name: "dataset_quotas", columns: &[("dataset_id", Text), ("user_id", Text), ("max_records", Int)], order: "dataset_id, user_id" },
    Table { name: "web_sessions", columns: &[("token_digest", Text), ("user_id", Text), ("csrf_token", Text), ("inserted_at", Int), ("expires_at", Int)], order: "token_digest" },
    Table {
        name: "audit_events",
        columns: &[("at", Int), ("actor_id", OptText), ("actor_name", Text), ("action", Text), ("target_kind", Text), ("target_id", Text), ("details", Text)],
        order: "sequence",
    },
    Table {
        name: "webhooks",
        columns: &[("id", Text), ("url", Text), ("secret", Text), ("events", Text), ("enabled", Flag), ("description", OptText), ("inserted_at", Int), ("updated_at", Int)],
        order: "inserted_at, id",
    },
    Table {
        name: "webhook_deliveries",
        columns: &[
            ("id", Text),
            ("webhook_id", Text),
            ("event", Text),
            ("dedupe_key", OptText),
            ("status", Text),
            ("attempts", Int),
            ("next_attempt_at", Int),
            ("last_attempt_at", OptInt),
            ("last_status_code", OptInt),
            ("last_error", OptText),
            ("inserted_at", Int),
            ("delivered_at", OptInt),
        ],
        order: "inserted_at, id",
    },
    Table { name: "webhook_payloads", columns: &[("delivery_id", Text), ("payload", Text)], order: "delivery_id" },
];

/// Rows read and written at a time.
const ROWS_PER_PAGE: usize = 500;

fn read_param(row: &impl Columns, index: usize, kind: Kind) -> StoreResult<Param> {
    Ok(match kind {
        Text => Param::Text(Some(row.text(index)?.to_owned())),
        OptText => Param::Text(row.text_opt(index)?.map(str::to_owned)),
        Int => Param::Int(Some(row.int(index)?)),
        OptInt => Param::Int(row.int_opt(index)?),
        Flag => Param::Flag(row.flag(index)?),
        Bytes => Param::Bytes(row.bytes(index)?.to_vec()),
    })
}

/// How many rows the table holds.
pub async fn count<R: Run + ?Sized>(store: &R, table: &Table) -> StoreResult<u64> {
    store.read_one(Statement::new(format!("SELECT count(*) FROM {}", table.name)), super::rows::count).await
}

/// Copies one table, a page at a time (each page one transaction on the target); the rows copied.
pub async fn copy_table<F: Run + ?Sized, T: SqlBackend>(from: &F, to: &T, table: &Table) -> StoreResult<u64> {
    let names: Vec<&str> = table.columns.iter().map(|(name, _)| *name).collect();
    let select = format!("SELECT {} FROM {} ORDER BY {} LIMIT ? OFFSET ?", names.join(", "), table.name, table.order);
    let mut copied = 0;
    loop {
        let page = Statement::new(select.clone()).bind(ROWS_PER_PAGE as i64).bind(i64::try_from(copied).unwrap_or(i64::MAX));
        let rows = from.read_all(page, |row| table.columns.iter().enumerate().map(|(index, (_, kind))| read_param(row, index, *kind)).collect::<StoreResult<Vec<Param>>>()).await?;
        if rows.is_empty() {
            return Ok(copied);
        }
        let insert = Statement::new(format!("INSERT INTO {} ({}) VALUES {}", table.name, names.join(", "), value_rows(names.len(), rows.len())));
        let insert = rows.into_iter().flatten().fold(insert, |statement, param| statement.bind(param));
        let mut transaction = to.begin().await?;
        copied += transaction.execute(insert).await?;
        transaction.commit().await?;
    }
}
