//! The main story: users, workspaces, datasets and settings, records, responses, suggestions,
//! progress, assignments and quotas, the audit log, sessions and paging, over any `Store`.

use juror_core::audit::{AuditAction, AuditEvent};
use juror_core::dataset::{Dataset, DatasetStatus, Distribution};
use juror_core::distribution::AnswerLimits;
use juror_core::field::{Field, FieldSettings};
use juror_core::ids::{DatasetId, FieldId, QuestionId, RecordId, ResponseId, UserId, VectorSettingsId, WorkspaceId};
use juror_core::presentation::Presentation;
use juror_core::question::{Question, QuestionSettings};
use juror_core::record::{NewResponse, RecordStatus, ValidRecordWrite};
use juror_core::response::{NewSuggestion, Response, ResponseStatus};
use juror_core::time::Timestamp;
use juror_core::user::{Role, User, Workspace};
use juror_core::vector::VectorSettings;
use crate::{RecordCursor, RecordInclude, RecordWriteBatch, Store, StoreError, SuggestionsMode, UserChanges, WebSession};
use serde_json::{json, Map, Value};

/// A published dataset in `workspace` that completes records at `min_submitted` submissions.
pub(super) fn ready_dataset(name: &str, workspace: WorkspaceId, min_submitted: i64) -> Dataset {
    let now = Timestamp::now();
    Dataset {
        id: DatasetId::new(),
        name: name.into(),
        guidelines: None,
        allow_extra_metadata: true,
        status: DatasetStatus::Ready,
        distribution: Distribution::overlap(min_submitted).unwrap(),
        metadata: None,
        workspace_id: workspace,
        last_activity_at: now,
        inserted_at: now,
        updated_at: now,
    }
}

/// What the story wrote, for checking after a reopen.
pub struct Written {
    dataset: DatasetId,
    records: Vec<RecordId>,
}

fn user(name: &str, role: Role) -> User {
    let now = Timestamp::now();
    User {
        id: UserId::new(),
        username: name.into(),
        first_name: name.into(),
        last_name: None,
        role,
        api_key: format!("key-{name}"),
        password_hash: "hash".into(),
        inserted_at: now,
        updated_at: now,
    }
}

fn now_micros() -> i64 {
    Timestamp::now().micros()
}

fn object(value: Value) -> Map<String, Value> {
    value.as_object().unwrap().clone()
}

fn new_record(external_id: &str, prompt: &str) -> ValidRecordWrite {
    ValidRecordWrite {
        id: None,
        external_id: Some(external_id.into()),
        fields: Some(object(json!({"prompt": prompt}))),
        metadata: Some(object(json!({"source": "story"}))),
        vectors: Vec::new(),
        responses: Vec::new(),
        suggestions: None,
    }
}

fn batch(dataset: DatasetId, items: Vec<ValidRecordWrite>) -> RecordWriteBatch {
    RecordWriteBatch { dataset_id: dataset, suggestions_mode: SuggestionsMode::UpsertPerQuestion, items }
}

fn ranking(first: &str, second: &str) -> Map<String, Value> {
    object(json!({"rank": {"value": [{"value": first, "rank": 1}, {"value": second, "rank": 2}]}}))
}

pub async fn run(store: &dyn Store) -> Written {
    // Users and workspaces, with their unique keys.
    let owner = user("owner", Role::Owner);
    let alice = user("alice", Role::Annotator);
    let bob = user("bob", Role::Annotator);
    for person in [&owner, &alice, &bob] {
        store.create_user(person, &format!("digest-{}", person.username)).await.unwrap();
    }
    let duplicate = User { id: UserId::new(), ..alice.clone() };
    assert!(matches!(store.create_user(&duplicate, "other-digest").await, Err(StoreError::UniqueViolation { .. })));
    assert_eq!(store.find_user_by_api_key_digest("digest-alice").await.unwrap().unwrap().id, alice.id);
    assert_eq!(store.count_users().await.unwrap(), 3);

    // A change writes only the columns it names: a password change after a demotion keeps it.
    let later = Timestamp::from_micros(now_micros() + 1);
    store.update_user(bob.id, &UserChanges { role: Some(Role::Admin), ..UserChanges::at(later) }).await.unwrap();
    store.update_user(bob.id, &UserChanges { password_hash: Some("new-hash".into()), ..UserChanges::at(later) }).await.unwrap();
    let rotated = UserChanges { api_key: Some(("key-bob-2".into(), "digest-bob-2".into())), last_name: Some(Some("Jones".into())), ..UserChanges::at(later) };
    store.update_user(bob.id, &rotated).await.unwrap();
    let changed = store.get_user(bob.id).await.unwrap().unwrap();
    assert_eq!((changed.role, changed.password_hash.as_str(), changed.api_key.as_str()), (Role::Admin, "new-hash", "key-bob-2"));
    assert_eq!((changed.username.as_str(), changed.last_name.as_deref(), changed.updated_at), ("bob", Some("Jones"), later));
    assert!(store.find_user_by_api_key_digest("digest-bob").await.unwrap().is_none());
    assert_eq!(store.find_user_by_api_key_digest("digest-bob-2").await.unwrap().unwrap().id, bob.id);
    store.update_user(bob.id, &UserChanges { role: Some(Role::Annotator), last_name: Some(None), ..UserChanges::at(later) }).await.unwrap();
    assert_eq!(store.get_user(bob.id).await.unwrap().unwrap().last_name, None);
    assert!(matches!(store.update_user(UserId::new(), &UserChanges::at(later)).await, Err(StoreError::NotFound)));

    let now = Timestamp::now();
    let workspace = Workspace { id: WorkspaceId::new(), name: "team".into(), inserted_at: now, updated_at: now };
    store.create_workspace(&workspace).await.unwrap();
    store.add_workspace_member(workspace.id, alice.id).await.unwrap();
    assert!(matches!(store.add_workspace_member(workspace.id, alice.id).await, Err(StoreError::UniqueViolation { .. })));
    assert!(store.is_workspace_member(workspace.id, alice.id).await.unwrap());
    assert!(!store.is_workspace_member(workspace.id, bob.id).await.unwrap());
    assert_eq!(store.list_user_workspaces(alice.id).await.unwrap(), vec![workspace.clone()]);

    // A dataset and its settings.
    let dataset = Dataset { guidelines: Some("Rank.".into()), ..ready_dataset("comparisons", workspace.id, 2) };
    store.create_dataset(&dataset).await.unwrap();
    let field = Field { id: FieldId::new(), name: "prompt".into(), title: "Prompt".into(), required: true, settings: FieldSettings::Text { use_markdown: false }, dataset_id: dataset.id, inserted_at: now, updated_at: now };
    store.create_field(&field).await.unwrap();
    let settings = QuestionSettings::from_json(&json!({"type": "ranking", "options": [{"value": "a"}, {"value": "b"}]})).unwrap();
    let question = Question { id: QuestionId::new(), name: "rank".into(), title: "Rank".into(), description: None, required: true, settings, dataset_id: dataset.id, inserted_at: now, updated_at: now };
    store.create_question(&question).await.unwrap();
    let vectors = VectorSettings { id: VectorSettingsId::new(), name: "embedding".into(), title: "Embedding".into(), dimensions: 2, dataset_id: dataset.id, inserted_at: now, updated_at: now };
    store.create_vector_settings(&vectors).await.unwrap();
    let schema = store.load_schema(dataset.id).await.unwrap().unwrap();
    assert_eq!((schema.fields.len(), schema.questions.len(), schema.vector_settings.len()), (1, 1, 1));
    let refused = store.delete_workspace(workspace.id).await;
    assert!(matches!(refused, Err(StoreError::ForeignKeyViolation)), "a workspace with datasets stays: {refused:?}");

    // A batch is stored whole: one record colliding with another aborts all of it.
    let mut colliding = vec![new_record("r1", "first"), new_record("r1", "again")];
    assert!(matches!(store.write_records(batch(dataset.id, std::mem::take(&mut colliding))).await, Err(StoreError::UniqueViolation { .. })));
    assert_eq!(store.count_records(dataset.id).await.unwrap(), 0);

    // New records, with vectors, suggestions and one embedded response.
    let mut first = new_record("r1", "first prompt");
    first.vectors = vec![("embedding".into(), vec![1.0, 0.0])];
    first.suggestions = Some(vec![NewSuggestion { question_id: question.id, kind: None, value: json!([{"value": "a", "rank": 1}]), agent: Some("model-x".into()), score: Some(json!(0.5)) }]);
    first.responses = vec![NewResponse { user_id: alice.id, values: Some(ranking("a", "b")), status: ResponseStatus::Submitted }];
    let stored = store.write_records(batch(dataset.id, vec![first, new_record("r2", "second prompt")])).await.unwrap();
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[1].fields["prompt"], "second prompt");
    assert_eq!(stored[0].status, RecordStatus::Pending, "one of two submissions");
    let ids: Vec<RecordId> = stored.iter().map(|record| record.id).collect();

    // Upsert resolves by external id and keeps what it does not change.
    let resolved = store.resolve_records(dataset.id, &[(Some("r2".into()), None), (None, Some(ids[0])), (Some("new".into()), Some(RecordId::new()))]).await.unwrap();
    assert_eq!(resolved, vec![Some(ids[1]), Some(ids[0]), None]);
    let update = ValidRecordWrite { id: Some(ids[1]), external_id: None, fields: None, metadata: Some(object(json!({"source": "edited"}))), vectors: Vec::new(), responses: Vec::new(), suggestions: None };
    let updated = store.write_records(batch(dataset.id, vec![update])).await.unwrap();
    assert_eq!(updated[0].fields["prompt"], "second prompt");
    assert_eq!(updated[0].metadata.as_ref().unwrap()["source"], "edited");

    // Responses move the status; a discard does not count; the threshold can change.
    let answered_at = Timestamp::now();
    let response = Response { id: ResponseId::new(), record_id: ids[0], user_id: bob.id, values: Some(ranking("b", "a")), status: ResponseStatus::Submitted, presentation: None, inserted_at: answered_at, updated_at: answered_at };
    store.create_response(&response).await.unwrap();
    assert_eq!(store.get_record(ids[0]).await.unwrap().unwrap().status, RecordStatus::Completed);
    let duplicate_response = Response { id: ResponseId::new(), ..response.clone() };
    assert!(matches!(store.create_response(&duplicate_response).await, Err(StoreError::UniqueViolation { .. })));
    store.update_response(&Response { status: ResponseStatus::Discarded, ..response.clone() }).await.unwrap();
    assert_eq!(store.get_record(ids[0]).await.unwrap().unwrap().status, RecordStatus::Pending);
    store.update_dataset(&Dataset { distribution: Distribution::overlap(1).unwrap(), ..dataset.clone() }).await.unwrap();
    assert_eq!(store.get_record(ids[0]).await.unwrap().unwrap().status, RecordStatus::Completed);

    let progress = store.dataset_progress(dataset.id).await.unwrap();
    assert_eq!((progress.total, progress.completed), (2, 1));
    assert_eq!(progress.users, vec!["alice".to_owned(), "bob".to_owned()]);
    let counts = store.user_response_counts(dataset.id, bob.id).await.unwrap();
    assert_eq!((counts.submitted, counts.discarded), (0, 1));

    // How the web UI showed a record is kept with the answer, and only its author's list has it.
    let shown = Presentation { shown_order: [("rank".to_owned(), vec!["b".to_owned(), "a".to_owned()])].into(), time_on_task_ms: Some(4200) };
    store.update_response(&Response { presentation: Some(shown.clone()), status: ResponseStatus::Discarded, ..response.clone() }).await.unwrap();
    assert_eq!(store.get_response(response.id).await.unwrap().unwrap().presentation, Some(shown));
    let bobs = store.list_user_responses(dataset.id, bob.id, Some(ResponseStatus::Discarded), 10).await.unwrap();
    assert_eq!(bobs.iter().map(|response| response.record_id).collect::<Vec<_>>(), vec![ids[0]]);
    assert!(store.list_user_responses(dataset.id, bob.id, Some(ResponseStatus::Draft), 10).await.unwrap().is_empty());

    // Assignments and quotas bound answers: alice has submitted ids[0]; ids[1] goes to bob alone.
    assert!(!store.has_answer_limits(dataset.id).await.unwrap());
    store.replace_assignments(dataset.id, &[(ids[1], bob.id)]).await.unwrap();
    assert!(store.has_answer_limits(dataset.id).await.unwrap());
    let limits = store.answer_limits(dataset.id, ids[1], alice.id).await.unwrap();
    assert_eq!(limits, AnswerLimits { assigned_to_others: true, quota: None, submitted_elsewhere: 0, paused: false });
    assert!(!store.answer_limits(dataset.id, ids[1], bob.id).await.unwrap().assigned_to_others);
    assert!(!store.answer_limits(dataset.id, ids[0], alice.id).await.unwrap().assigned_to_others, "an unassigned record is open");
    store.set_quota(dataset.id, alice.id, Some(1)).await.unwrap();
    let limits = store.answer_limits(dataset.id, ids[1], alice.id).await.unwrap();
    assert_eq!((limits.quota, limits.submitted_elsewhere), (Some(1), 1));
    assert_eq!(store.answer_limits(dataset.id, ids[0], alice.id).await.unwrap().submitted_elsewhere, 0, "the record itself is not counted");
    store.replace_assignments(dataset.id, &[]).await.unwrap();
    assert!(store.has_answer_limits(dataset.id).await.unwrap(), "the quota remains");
    store.set_quota(dataset.id, alice.id, None).await.unwrap();
    assert!(!store.has_answer_limits(dataset.id).await.unwrap());

    // The audit log keeps entries in order, newest first when read, and outlives its actors.
    let entry = |action: AuditAction, target: &str| AuditEvent {
        sequence: 0,
        at: Timestamp::now(),
        actor: Some(owner.id),
        actor_name: "owner".into(),
        action,
        target_kind: "user".into(),
        target_id: target.into(),
        details: object(json!({"changed": ["role"]})),
    };
    let first = store.append_audit(&entry(AuditAction::UserUpdated, "a")).await.unwrap();
    let second = store.append_audit(&AuditEvent { actor: None, ..entry(AuditAction::UserDeleted, "b") }).await.unwrap();
    assert!(second > first);
    let log = store.list_audit(None, 10).await.unwrap();
    assert_eq!(log.iter().map(|event| (event.sequence, event.action)).collect::<Vec<_>>(), vec![(second, AuditAction::UserDeleted), (first, AuditAction::UserUpdated)]);
    assert_eq!((log[0].actor, log[1].actor, &log[1].details), (None, Some(owner.id), &object(json!({"changed": ["role"]}))));
    assert_eq!(store.list_audit(Some(second), 10).await.unwrap().len(), 1);
    assert_eq!(store.list_audit(None, 1).await.unwrap()[0].sequence, second);

    // Sessions: found by digest until they expire; a password change ends all but one.
    let later = Timestamp::from_micros(now.micros() + 3_600_000_000);
    for digest in ["s1", "s2"] {
        store.create_session(&WebSession { token_digest: digest.into(), user_id: bob.id, csrf_token: format!("csrf-{digest}"), inserted_at: now, expires_at: later }).await.unwrap();
    }
    let (session, user) = store.find_session("s1", now).await.unwrap().unwrap();
    assert_eq!((session.csrf_token.as_str(), user.id), ("csrf-s1", bob.id));
    assert!(store.find_session("s1", later).await.unwrap().is_none(), "an expired session is not found");
    store.delete_user_sessions(bob.id, Some("s1"), now).await.unwrap();
    assert!(store.find_session("s1", now).await.unwrap().is_some());
    assert!(store.find_session("s2", now).await.unwrap().is_none());
    store.delete_session("s1").await.unwrap();
    assert!(store.find_session("s1", now).await.unwrap().is_none());

    // Relations come back as written.
    let include = RecordInclude { responses: true, suggestions: true, vectors: Some(Vec::new()), responses_of: None };
    let relations = store.load_relations(&stored[..1], &include).await.unwrap();
    assert_eq!(relations[0].responses.as_ref().unwrap().len(), 2);
    assert_eq!(relations[0].suggestions.as_ref().unwrap()[0].agent.as_deref(), Some("model-x"));
    assert_eq!(relations[0].vectors.as_ref().unwrap()[0], ("embedding".to_owned(), vec![1.0, 0.0]));
    let scan = store.scan_records(dataset.id).await.unwrap();
    assert_eq!(scan.records.len(), 2);
    // Paging by key: one record a page, in insertion order, then an empty page.
    let (first_page, cursor) = store.records_after(dataset.id, RecordCursor::default(), 1, &include).await.unwrap();
    let (second_page, cursor) = store.records_after(dataset.id, cursor, 1, &include).await.unwrap();
    let (third_page, _) = store.records_after(dataset.id, cursor, 1, &include).await.unwrap();
    assert_eq!((first_page[0].0.id, second_page[0].0.id), (ids[0], ids[1]));
    assert_eq!(first_page[0].1.responses.as_ref().unwrap().len(), 2);
    assert!(third_page.is_empty());
    assert_eq!(scan.responses[0].len(), 2);

    // Deleting a user takes their responses and recomputes the statuses they made.
    store.delete_user(alice.id).await.unwrap();
    assert_eq!(store.get_record(ids[0]).await.unwrap().unwrap().status, RecordStatus::Pending);

    Written { dataset: dataset.id, records: ids }
}

pub async fn check_persisted(store: &dyn Store, written: &Written) {
    assert_eq!(store.count_records(written.dataset).await.unwrap(), 2);
    for id in &written.records {
        assert!(store.get_record(*id).await.unwrap().is_some());
    }
    assert_eq!(store.delete_records(written.dataset, &written.records).await.unwrap(), 2);
    assert_eq!(store.count_records(written.dataset).await.unwrap(), 0);
}
