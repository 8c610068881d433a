//! The statements both backends run as they are: each a single statement in SQL that SQLite
//! and PostgreSQL read alike. Reads select the column lists of `rows`, so their rows decode with
//! its functions. Writes that need several statements in one transaction (records, answers,
//! hand-outs, recounts) stay in each backend.

use juror_core::audit::AuditEvent;
use juror_core::dataset::Dataset;
use juror_core::field::Field;
use juror_core::ids::{DatasetId, FieldId, MetadataPropertyId, QuestionId, RecordId, ResponseId, SuggestionId, UserId, VectorSettingsId, WorkspaceId};
use juror_core::metadata::MetadataProperty;
use juror_core::question::Question;
use juror_core::response::{NewSuggestion, Response, ResponseStatus};
use juror_core::time::Timestamp;
use juror_core::user::{User, Workspace};
use juror_core::vector::VectorSettings;

use super::rows::{self, DATASET_COLUMNS, FIELD_COLUMNS, METADATA_COLUMNS, QUESTION_COLUMNS, RESPONSE_COLUMNS, SUGGESTION_COLUMNS, USER_COLUMNS, VECTOR_COLUMNS, WORKSPACE_COLUMNS};
use super::sql::{placeholders, value_rows, Statement};
use crate::{UserChanges, WebSession};

/// `a, b` with every column qualified by `alias`.
pub fn prefixed(alias: &str, columns: &str) -> String {
    columns.split(", ").map(|column| format!("{alias}.{column}")).collect::<Vec<_>>().join(", ")
}

fn by_id(columns: &str, table: &str, id: impl ToString) -> Statement {
    Statement::new(format!("SELECT {columns} FROM {table} WHERE id = ?")).bind(id.to_string())
}

fn delete_by_id(table: &str, id: impl ToString) -> Statement {
    Statement::new(format!("DELETE FROM {table} WHERE id = ?")).bind(id.to_string())
}

// Users.

pub fn create_user(user: &User, api_key_digest: &str) -> Statement {
    Statement::new(
        "INSERT INTO users (id, username, first_name, last_name, role, api_key, api_key_digest, password_hash, inserted_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(user.id.to_string())
    .bind(user.username.as_str())
    .bind(user.first_name.as_str())
    .bind(user.last_name.clone())
    .bind(user.role.as_str())
    .bind(user.api_key.as_str())
    .bind(api_key_digest)
    .bind(user.password_hash.as_str())
    .bind(user.inserted_at.micros())
    .bind(user.updated_at.micros())
}

pub fn get_user(id: UserId) -> Statement {
    by_id(USER_COLUMNS, "users", id)
}

pub fn find_user_by(column: &'static str, value: &str) -> Statement {
    Statement::new(format!("SELECT {USER_COLUMNS} FROM users WHERE {column} = ?")).bind(value)
}

pub fn list_users() -> Statement {
    Statement::new(format!("SELECT {USER_COLUMNS} FROM users ORDER BY inserted_at, id"))
}

pub fn update_user(id: UserId, changes: &UserChanges) -> Statement {
    let (api_key, api_key_digest) = changes.api_key.clone().unzip();
    Statement::new(
        "UPDATE users SET username = coalesce(?, username), first_name = coalesce(?, first_name), \
             last_name = CASE WHEN ? THEN ? ELSE last_name END, role = coalesce(?, role), \
             password_hash = coalesce(?, password_hash), api_key = coalesce(?, api_key), \
             api_key_digest = coalesce(?, api_key_digest), updated_at = ? \
         WHERE id = ?",
    )
    .bind(changes.username.clone())
    .bind(changes.first_name.clone())
    .bind(changes.last_name.is_some())
    .bind(changes.last_name.clone().flatten())
    .bind(changes.role.map(|role| role.as_str()))
    .bind(changes.password_hash.clone())
    .bind(api_key)
    .bind(api_key_digest)
    .bind(changes.updated_at.micros())
    .bind(id.to_string())
}

/// The records a user answered or holds, which their deletion changes.
pub fn records_touched_by(user: UserId) -> Statement {
    Statement::new("SELECT record_id FROM responses WHERE user_id = ? UNION SELECT record_id FROM record_leases WHERE user_id = ?")
        .bind(user.to_string())
        .bind(user.to_string())
}

pub fn delete_user(id: UserId) -> Statement {
    delete_by_id("users", id)
}

pub fn count(table: &'static str) -> Statement {
    Statement::new(format!("SELECT count(*) FROM {table}"))
}

// Workspaces and memberships.

pub fn create_workspace(workspace: &Workspace) -> Statement {
    Statement::new("INSERT INTO workspaces (id, name, inserted_at, updated_at) VALUES (?, ?, ?, ?)")
        .bind(workspace.id.to_string())
        .bind(workspace.name.as_str())
        .bind(workspace.inserted_at.micros())
        .bind(workspace.updated_at.micros())
}

pub fn get_workspace(id: WorkspaceId) -> Statement {
    by_id(WORKSPACE_COLUMNS, "workspaces", id)
}

pub fn find_workspace_by_name(name: &str) -> Statement {
    Statement::new(format!("SELECT {WORKSPACE_COLUMNS} FROM workspaces WHERE name = ?")).bind(name)
}

pub fn list_workspaces() -> Statement {
    Statement::new(format!("SELECT {WORKSPACE_COLUMNS} FROM workspaces ORDER BY inserted_at, id"))
}

pub fn delete_workspace(id: WorkspaceId) -> Statement {
    delete_by_id("workspaces", id)
}

pub fn add_workspace_member(workspace: WorkspaceId, user: UserId, now: Timestamp) -> Statement {
    Statement::new("INSERT INTO workspace_users (workspace_id, user_id, inserted_at) VALUES (?, ?, ?)")
        .bind(workspace.to_string())
        .bind(user.to_string())
        .bind(now.micros())
}

pub fn remove_workspace_member(workspace: WorkspaceId, user: UserId) -> Statement {
    Statement::new("DELETE FROM workspace_users WHERE workspace_id = ? AND user_id = ?").bind(workspace.to_string()).bind(user.to_string())
}

pub fn list_workspace_members(workspace: WorkspaceId) -> Statement {
    Statement::new(format!(
        "SELECT {} FROM users u JOIN workspace_users m ON m.user_id = u.id WHERE m.workspace_id = ? ORDER BY u.inserted_at, u.id",
        prefixed("u", USER_COLUMNS)
    ))
    .bind(workspace.to_string())
}

pub fn list_user_workspaces(user: UserId) -> Statement {
    Statement::new(format!(
        "SELECT {} FROM workspaces w JOIN workspace_users m ON m.workspace_id = w.id WHERE m.user_id = ? ORDER BY w.inserted_at, w.id",
        prefixed("w", WORKSPACE_COLUMNS)
    ))
    .bind(user.to_string())
}

pub fn is_workspace_member(workspace: WorkspaceId, user: UserId) -> Statement {
    Statement::new("SELECT EXISTS (SELECT 1 FROM workspace_users WHERE workspace_id = ? AND user_id = ?)").bind(workspace.to_string()).bind(user.to_string())
}

// Datasets and their settings.

pub fn create_dataset(dataset: &Dataset) -> Statement {
    Statement::new(
        "INSERT INTO datasets (id, name, guidelines, allow_extra_metadata, status, min_submitted, metadata, workspace_id, last_activity_at, inserted_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(dataset.id.to_string())
    .bind(dataset.name.as_str())
    .bind(dataset.guidelines.clone())
    .bind(dataset.allow_extra_metadata)
    .bind(dataset.status.as_str())
    .bind(i64::from(dataset.distribution.min_submitted()))
    .bind(rows::encode_object(dataset.metadata.as_ref()))
    .bind(dataset.workspace_id.to_string())
    .bind(dataset.last_activity_at.micros())
    .bind(dataset.inserted_at.micros())
    .bind(dataset.updated_at.micros())
}

pub fn get_dataset(id: DatasetId) -> Statement {
    by_id(DATASET_COLUMNS, "datasets", id)
}

/// Every dataset, or those of the given workspaces (which must not be empty).
pub fn list_datasets(workspaces: Option<&[WorkspaceId]>) -> Statement {
    match workspaces {
        None => Statement::new(format!("SELECT {DATASET_COLUMNS} FROM datasets ORDER BY inserted_at, id")),
        Some(workspaces) => workspaces.iter().fold(
            Statement::new(format!(
                "SELECT {DATASET_COLUMNS} FROM datasets WHERE workspace_id IN ({}) ORDER BY inserted_at, id",
                placeholders(workspaces.len())
            )),
            |statement, workspace| statement.bind(workspace.to_string()),
        ),
    }
}

pub fn min_submitted_of(dataset: DatasetId) -> Statement {
    Statement::new("SELECT min_submitted FROM datasets WHERE id = ?").bind(dataset.to_string())
}

pub fn update_dataset(dataset: &Dataset) -> Statement {
    Statement::new(
        "UPDATE datasets SET name = ?, guidelines = ?, allow_extra_metadata = ?, status = ?, min_submitted = ?, \
         metadata = ?, last_activity_at = ?, updated_at = ? WHERE id = ?",
    )
    .bind(dataset.name.as_str())
    .bind(dataset.guidelines.clone())
    .bind(dataset.allow_extra_metadata)
    .bind(dataset.status.as_str())
    .bind(i64::from(dataset.distribution.min_submitted()))
    .bind(rows::encode_object(dataset.metadata.as_ref()))
    .bind(dataset.last_activity_at.micros())
    .bind(dataset.updated_at.micros())
    .bind(dataset.id.to_string())
}

pub fn delete_dataset(id: DatasetId) -> Statement {
    delete_by_id("datasets", id)
}

pub fn count_datasets_in_workspace(workspace: WorkspaceId) -> Statement {
    Statement::new("SELECT count(*) FROM datasets WHERE workspace_id = ?").bind(workspace.to_string())
}

/// One kind of a dataset's settings (`FIELD_COLUMNS` from `fields`, ...), in creation order.
pub fn settings_of(columns: &str, table: &str, dataset: DatasetId) -> Statement {
    Statement::new(format!("SELECT {columns} FROM {table} WHERE dataset_id = ? ORDER BY inserted_at, id")).bind(dataset.to_string())
}

pub fn create_field(field: &Field) -> Statement {
    Statement::new("INSERT INTO fields (id, name, title, required, settings, dataset_id, inserted_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
        .bind(field.id.to_string())
        .bind(field.name.as_str())
        .bind(field.title.as_str())
        .bind(field.required)
        .bind(field.settings.to_json().to_string())
        .bind(field.dataset_id.to_string())
        .bind(field.inserted_at.micros())
        .bind(field.updated_at.micros())
}

pub fn get_field(id: FieldId) -> Statement {
    by_id(FIELD_COLUMNS, "fields", id)
}

pub fn update_field(field: &Field) -> Statement {
    Statement::new("UPDATE fields SET title = ?, settings = ?, updated_at = ? WHERE id = ?")
        .bind(field.title.as_str())
        .bind(field.settings.to_json().to_string())
        .bind(field.updated_at.micros())
        .bind(field.id.to_string())
}

pub fn delete_field(id: FieldId) -> Statement {
    delete_by_id("fields", id)
}

pub fn create_question(question: &Question) -> Statement {
    Statement::new(
        "INSERT INTO questions (id, name, title, description, required, settings, dataset_id, inserted_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(question.id.to_string())
    .bind(question.name.as_str())
    .bind(question.title.as_str())
    .bind(question.description.clone())
    .bind(question.required)
    .bind(question.settings.to_json().to_string())
    .bind(question.dataset_id.to_string())
    .bind(question.inserted_at.micros())
    .bind(question.updated_at.micros())
}

pub fn get_question(id: QuestionId) -> Statement {
    by_id(QUESTION_COLUMNS, "questions", id)
}

pub fn update_question(question: &Question) -> Statement {
    Statement::new("UPDATE questions SET title = ?, description = ?, settings = ?, updated_at = ? WHERE id = ?")
        .bind(question.title.as_str())
        .bind(question.description.clone())
        .bind(question.settings.to_json().to_string())
        .bind(question.updated_at.micros())
        .bind(question.id.to_string())
}

pub fn delete_question(id: QuestionId) -> Statement {
    delete_by_id("questions", id)
}

pub fn create_metadata_property(property: &MetadataProperty) -> Statement {
    Statement::new(
        "INSERT INTO metadata_properties (id, name, title, settings, visible_for_annotators, dataset_id, inserted_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(property.id.to_string())
    .bind(property.name.as_str())
    .bind(property.title.as_str())
    .bind(property.settings.to_json().to_string())
    .bind(property.visible_for_annotators)
    .bind(property.dataset_id.to_string())
    .bind(property.inserted_at.micros())
    .bind(property.updated_at.micros())
}

pub fn get_metadata_property(id: MetadataPropertyId) -> Statement {
    by_id(METADATA_COLUMNS, "metadata_properties", id)
}

pub fn update_metadata_property(property: &MetadataProperty) -> Statement {
    Statement::new("UPDATE metadata_properties SET title = ?, visible_for_annotators = ?, updated_at = ? WHERE id = ?")
        .bind(property.title.as_str())
        .bind(property.visible_for_annotators)
        .bind(property.updated_at.micros())
        .bind(property.id.to_string())
}

pub fn delete_metadata_property(id: MetadataPropertyId) -> Statement {
    delete_by_id("metadata_properties", id)
}

/// The metadata objects of a dataset's records (as JSON text).
pub fn record_metadata(dataset: DatasetId) -> Statement {
    Statement::new("SELECT metadata FROM records WHERE dataset_id = ? AND metadata IS NOT NULL").bind(dataset.to_string())
}

pub fn create_vector_settings(settings: &VectorSettings) -> Statement {
    Statement::new("INSERT INTO vector_settings (id, name, title, dimensions, dataset_id, inserted_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
        .bind(settings.id.to_string())
        .bind(settings.name.as_str())
        .bind(settings.title.as_str())
        .bind(i64::from(settings.dimensions))
        .bind(settings.dataset_id.to_string())
        .bind(settings.inserted_at.micros())
        .bind(settings.updated_at.micros())
}

pub fn get_vector_settings(id: VectorSettingsId) -> Statement {
    by_id(VECTOR_COLUMNS, "vector_settings", id)
}

pub fn update_vector_settings(settings: &VectorSettings) -> Statement {
    Statement::new("UPDATE vector_settings SET title = ?, updated_at = ? WHERE id = ?")
        .bind(settings.title.as_str())
        .bind(settings.updated_at.micros())
        .bind(settings.id.to_string())
}

pub fn delete_vector_settings(id: VectorSettingsId) -> Statement {
    delete_by_id("vector_settings", id)
}

// Responses and suggestions.

pub fn get_response(id: ResponseId) -> Statement {
    by_id(RESPONSE_COLUMNS, "responses", id)
}

pub fn find_response(record: RecordId, user: UserId) -> Statement {
    Statement::new(format!("SELECT {RESPONSE_COLUMNS} FROM responses WHERE record_id = ? AND user_id = ?")).bind(record.to_string()).bind(user.to_string())
}

pub fn list_suggestions(record: RecordId) -> Statement {
    Statement::new(format!("SELECT {SUGGESTION_COLUMNS} FROM suggestions WHERE record_id = ? ORDER BY inserted_at, id")).bind(record.to_string())
}

pub fn suggestion_for(record: RecordId, question: QuestionId) -> Statement {
    Statement::new(format!("SELECT {SUGGESTION_COLUMNS} FROM suggestions WHERE record_id = ? AND question_id = ?")).bind(record.to_string()).bind(question.to_string())
}

pub fn get_suggestion(id: SuggestionId) -> Statement {
    by_id(SUGGESTION_COLUMNS, "suggestions", id)
}

pub fn delete_suggestion(id: SuggestionId) -> Statement {
    delete_by_id("suggestions", id)
}

pub fn delete_record_suggestions(record: RecordId, ids: &[SuggestionId]) -> Statement {
    ids.iter().fold(
        Statement::new(format!("DELETE FROM suggestions WHERE record_id = ? AND id IN ({})", placeholders(ids.len()))).bind(record.to_string()),
        |statement, id| statement.bind(id.to_string()),
    )
}

pub fn dataset_totals(dataset: DatasetId) -> Statement {
    Statement::new("SELECT count(*), coalesce(sum(CASE WHEN status = 'completed' THEN 1 ELSE 0 END), 0) FROM records WHERE dataset_id = ?").bind(dataset.to_string())
}

pub fn dataset_labelers(dataset: DatasetId) -> Statement {
    Statement::new(
        "SELECT u.username FROM responses r JOIN records rec ON rec.id = r.record_id JOIN users u ON u.id = r.user_id \
         WHERE rec.dataset_id = ? GROUP BY u.id ORDER BY min(r.inserted_at)",
    )
    .bind(dataset.to_string())
}

pub fn users_progress(dataset: DatasetId) -> Statement {
    Statement::new(
        "SELECT u.username, rec.status, r.status, count(*) FROM responses r JOIN records rec ON rec.id = r.record_id \
         JOIN users u ON u.id = r.user_id WHERE rec.dataset_id = ? \
         GROUP BY u.id, rec.status, r.status ORDER BY u.inserted_at, u.id",
    )
    .bind(dataset.to_string())
}

pub fn user_response_counts(dataset: DatasetId, user: UserId) -> Statement {
    Statement::new(
        "SELECT r.status, count(*) FROM responses r JOIN records rec ON rec.id = r.record_id \
         WHERE rec.dataset_id = ? AND r.user_id = ? GROUP BY r.status",
    )
    .bind(dataset.to_string())
    .bind(user.to_string())
}

pub fn list_user_responses(dataset: DatasetId, user: UserId, status: Option<ResponseStatus>, limit: u64) -> Statement {
    let status = status.map(ResponseStatus::as_str);
    Statement::new(format!(
        "SELECT {} FROM responses r JOIN records rec ON rec.id = r.record_id \
         WHERE rec.dataset_id = ? AND r.user_id = ? AND (? IS NULL OR r.status = ?) \
         ORDER BY r.updated_at DESC, r.id DESC LIMIT ?",
        prefixed("r", RESPONSE_COLUMNS)
    ))
    .bind(dataset.to_string())
    .bind(user.to_string())
    .bind(status)
    .bind(status)
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
}

// Distribution: leases, assignments and quotas outside the hand-out.

pub fn list_leases(dataset: DatasetId, now: Timestamp) -> Statement {
    Statement::new("SELECT record_id, user_id, expires_at FROM record_leases WHERE dataset_id = ? AND expires_at > ? ORDER BY expires_at, record_id, user_id")
        .bind(dataset.to_string())
        .bind(now.micros())
}

pub fn count_live_leases(now: Timestamp) -> Statement {
    Statement::new("SELECT count(*) FROM record_leases WHERE expires_at > ?").bind(now.micros())
}

pub fn release_lease(record: RecordId, user: UserId) -> Statement {
    Statement::new("DELETE FROM record_leases WHERE record_id = ? AND user_id = ?").bind(record.to_string()).bind(user.to_string())
}

pub fn skip(record: RecordId, user: UserId) -> Statement {
    Statement::new("INSERT INTO record_skips (record_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING").bind(record.to_string()).bind(user.to_string())
}

pub fn clear_assignments(dataset: DatasetId) -> Statement {
    Statement::new("DELETE FROM record_assignments WHERE dataset_id = ?").bind(dataset.to_string())
}

/// The rows of `record_assignments` for these (record, labeler) pairs, a few hundred a statement.
pub fn insert_assignments(dataset: DatasetId, assignments: &[(RecordId, UserId)]) -> Vec<Statement> {
    assignments
        .chunks(300)
        .map(|chunk| {
            let insert = Statement::new(format!("INSERT INTO record_assignments (record_id, user_id, dataset_id) VALUES {}", value_rows(3, chunk.len())));
            chunk.iter().fold(insert, |statement, (record, user)| statement.bind(record.to_string()).bind(user.to_string()).bind(dataset.to_string()))
        })
        .collect()
}

pub fn list_assignments(dataset: DatasetId) -> Statement {
    Statement::new("SELECT a.record_id, a.user_id FROM record_assignments a JOIN records r ON r.id = a.record_id WHERE a.dataset_id = ? ORDER BY r.seq, a.user_id")
        .bind(dataset.to_string())
}

pub fn set_quota(dataset: DatasetId, user: UserId, max_records: u32) -> Statement {
    Statement::new(
        "INSERT INTO dataset_quotas (dataset_id, user_id, max_records) VALUES (?, ?, ?) \
         ON CONFLICT (dataset_id, user_id) DO UPDATE SET max_records = excluded.max_records",
    )
    .bind(dataset.to_string())
    .bind(user.to_string())
    .bind(i64::from(max_records))
}

pub fn remove_quota(dataset: DatasetId, user: UserId) -> Statement {
    Statement::new("DELETE FROM dataset_quotas WHERE dataset_id = ? AND user_id = ?").bind(dataset.to_string()).bind(user.to_string())
}

pub fn list_quotas(dataset: DatasetId) -> Statement {
    Statement::new("SELECT user_id, max_records FROM dataset_quotas WHERE dataset_id = ? ORDER BY user_id").bind(dataset.to_string())
}

pub fn has_answer_limits(dataset: DatasetId) -> Statement {
    Statement::new(
        "SELECT EXISTS (SELECT 1 FROM record_assignments WHERE dataset_id = ?) OR EXISTS (SELECT 1 FROM dataset_quotas WHERE dataset_id = ?) \
         OR EXISTS (SELECT 1 FROM datasets WHERE id = ? AND quality IS NOT NULL)",
    )
    .bind(dataset.to_string())
    .bind(dataset.to_string())
    .bind(dataset.to_string())
}

/// Whether the record is assigned to others than `user`, `user`'s quota in the dataset, and the
/// dataset's quality settings.
pub fn assignment_and_quota(dataset: DatasetId, record: RecordId, user: UserId) -> Statement {
    Statement::new(
        "SELECT EXISTS (SELECT 1 FROM record_assignments WHERE record_id = ?) \
                AND NOT EXISTS (SELECT 1 FROM record_assignments WHERE record_id = ? AND user_id = ?), \
                (SELECT max_records FROM dataset_quotas WHERE dataset_id = ? AND user_id = ?), \
                (SELECT quality FROM datasets WHERE id = ?)",
    )
    .bind(record.to_string())
    .bind(record.to_string())
    .bind(user.to_string())
    .bind(dataset.to_string())
    .bind(user.to_string())
    .bind(dataset.to_string())
}

/// Stores an answer: inserts it (`create`), or updates its values, status, time and shown order.
/// Its parameters are numbered, `?1` to `?9` (id, record, labeler, values, status, inserted_at,
/// updated_at, shown order, time on task), so a backend may add statements that use them.
pub fn store_answer(response: &Response, create: bool) -> Statement {
    let sql = if create {
        "INSERT INTO responses (id, record_id, user_id, \"values\", status, inserted_at, updated_at, shown_order, time_on_task_ms) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
    } else {
        "UPDATE responses SET \"values\" = ?4, status = ?5, updated_at = ?7, shown_order = ?8, time_on_task_ms = ?9 WHERE id = ?1"
    };
    let (shown_order, time_on_task_ms) = rows::encode_presentation(response.presentation.as_ref());
    Statement::new(sql)
        .bind(response.id.to_string())
        .bind(response.record_id.to_string())
        .bind(response.user_id.to_string())
        .bind(rows::encode_object(response.values.as_ref()))
        .bind(response.status.as_str())
        .bind(response.inserted_at.micros())
        .bind(response.updated_at.micros())
        .bind(shown_order)
        .bind(time_on_task_ms)
}

/// The first eligible record of a dataset for a labeler in the rule's order, as SQL (the mirror
/// of `juror_core::distribution::Candidate::is_eligible` and `priority`, checked against them by
/// the conformance story): open (`claims < target`, one walk of the partial index
/// `records_open`), not answered by the labeler (nor, with `leave_out_skipped`, skipped by them),
/// assigned to them or to nobody; the fullest first, then `seq`. `dataset` and `user` are the
/// placeholders a backend binds them by, appearing in that order and `user` two or three times;
/// it appends its own locking clause.
pub fn first_eligible_record(dataset: &str, user: &str, leave_out_skipped: bool) -> String {
    let skips = if leave_out_skipped { format!("AND NOT EXISTS (SELECT 1 FROM record_skips s WHERE s.record_id = r.id AND s.user_id = {user})") } else { String::new() };
    format!(
        "SELECT r.id FROM records r WHERE r.dataset_id = {dataset} AND r.claims < r.target \
           AND NOT EXISTS (SELECT 1 FROM responses x WHERE x.record_id = r.id AND x.user_id = {user}) {skips} \
           AND (NOT EXISTS (SELECT 1 FROM record_assignments a WHERE a.record_id = r.id) \
                OR EXISTS (SELECT 1 FROM record_assignments a WHERE a.record_id = r.id AND a.user_id = {user})) \
         ORDER BY r.claims DESC, r.seq LIMIT 1"
    )
}

/// For an answer by `user` to `record`: the record's dataset, whether the record is assigned to
/// others, the user's quota there, and the dataset's quality settings.
pub fn limits_of_answer(record: RecordId, user: UserId) -> Statement {
    Statement::new(
        "SELECT r.dataset_id, \
                EXISTS (SELECT 1 FROM record_assignments a WHERE a.record_id = r.id) \
                AND NOT EXISTS (SELECT 1 FROM record_assignments a WHERE a.record_id = r.id AND a.user_id = ?), \
                (SELECT q.max_records FROM dataset_quotas q WHERE q.dataset_id = r.dataset_id AND q.user_id = ?), \
                (SELECT d.quality FROM datasets d WHERE d.id = r.dataset_id) \
         FROM records r WHERE r.id = ?",
    )
    .bind(user.to_string())
    .bind(user.to_string())
    .bind(record.to_string())
}

/// What `user` has submitted in the dataset besides `record`.
pub fn submitted_elsewhere(dataset: DatasetId, record: RecordId, user: UserId) -> Statement {
    Statement::new(
        "SELECT count(*) FROM responses x JOIN records r ON r.id = x.record_id \
         WHERE r.dataset_id = ? AND x.user_id = ? AND x.status = 'submitted' AND x.record_id <> ?",
    )
    .bind(dataset.to_string())
    .bind(user.to_string())
    .bind(record.to_string())
}

// Sessions.

pub fn create_session(session: &WebSession) -> Statement {
    Statement::new("INSERT INTO web_sessions (token_digest, user_id, csrf_token, inserted_at, expires_at) VALUES (?, ?, ?, ?, ?)")
        .bind(session.token_digest.as_str())
        .bind(session.user_id.to_string())
        .bind(session.csrf_token.as_str())
        .bind(session.inserted_at.micros())
        .bind(session.expires_at.micros())
}

/// A live session's form token and times, then its user's columns (from column 3).
pub fn find_session(token_digest: &str, now: Timestamp) -> Statement {
    Statement::new(format!(
        "SELECT s.csrf_token, s.inserted_at, s.expires_at, {} FROM web_sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.token_digest = ? AND s.expires_at > ?",
        prefixed("u", USER_COLUMNS)
    ))
    .bind(token_digest)
    .bind(now.micros())
}

pub fn delete_session(token_digest: &str) -> Statement {
    Statement::new("DELETE FROM web_sessions WHERE token_digest = ?").bind(token_digest)
}

pub fn delete_user_sessions(user: UserId, keep: Option<&str>, now: Timestamp) -> Statement {
    Statement::new("DELETE FROM web_sessions WHERE (user_id = ? AND (? IS NULL OR token_digest <> ?)) OR expires_at <= ?")
        .bind(user.to_string())
        .bind(keep)
        .bind(keep)
        .bind(now.micros())
}

pub fn delete_expired_sessions(now: Timestamp) -> Statement {
    Statement::new("DELETE FROM web_sessions WHERE expires_at <= ?").bind(now.micros())
}

// The audit log.

pub fn append_audit(event: &AuditEvent) -> Statement {
    Statement::new(
        "INSERT INTO audit_events (at, actor_id, actor_name, action, target_kind, target_id, details) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING sequence",
    )
    .bind(event.at.micros())
    .bind(event.actor.map(|actor| actor.to_string()))
    .bind(event.actor_name.as_str())
    .bind(event.action.as_str())
    .bind(event.target_kind.as_str())
    .bind(event.target_id.as_str())
    .bind(rows::encode_map(&event.details))
}

/// Up to `limit` entries older than `before`, newest first (decoded by `rows::audit_event`).
pub fn list_audit(before: Option<u64>, limit: u64) -> Statement {
    Statement::new(
        "SELECT sequence, at, actor_id, actor_name, action, target_kind, target_id, details FROM audit_events \
         WHERE sequence < ? ORDER BY sequence DESC LIMIT ?",
    )
    .bind(before.map_or(i64::MAX, |sequence| i64::try_from(sequence).unwrap_or(i64::MAX)))
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
}

/// Creates or replaces the suggestion for (record, question).
pub fn upsert_suggestion(record: RecordId, suggestion: &NewSuggestion, now: Timestamp) -> Statement {
    Statement::new(
        "INSERT INTO suggestions (id, record_id, question_id, type, value, agent, score, inserted_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (record_id, question_id) DO UPDATE SET type = excluded.type, value = excluded.value, \
         agent = excluded.agent, score = excluded.score, updated_at = excluded.updated_at",
    )
    .bind(SuggestionId::new().to_string())
    .bind(record.to_string())
    .bind(suggestion.question_id.to_string())
    .bind(suggestion.kind.map(|kind| kind.as_str()))
    .bind(suggestion.value.to_string())
    .bind(suggestion.agent.clone())
    .bind(suggestion.score.as_ref().map(ToString::to_string))
    .bind(now.micros())
    .bind(now.micros())
}
