//! The rest of the trait: every setting's life cycle, suggestions one at a time, single
//! responses, listings and deletions, each checked by reading back what was written.

use juror_core::dataset::{Dataset, DatasetStatus, Distribution};
use juror_core::field::{Field, FieldSettings};
use juror_core::ids::{DatasetId, FieldId, MetadataPropertyId, QuestionId, ResponseId, SuggestionId, UserId, VectorSettingsId, WorkspaceId};
use juror_core::metadata::{MetadataProperty, MetadataSettings};
use juror_core::question::{Question, QuestionSettings};
use juror_core::record::{RecordStatus, ValidRecordWrite};
use juror_core::response::{NewSuggestion, Response, ResponseStatus};
use juror_core::time::Timestamp;
use juror_core::user::{Role, User, Workspace};
use juror_core::vector::VectorSettings;
use serde_json::{json, Map, Value};

use crate::{RecordInclude, RecordWriteBatch, Store, StoreError, SuggestionsMode, UniqueKey, WebSession};

fn object(value: Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap_or_default()
}

fn labeler(name: &str, now: Timestamp) -> User {
    User {
        id: UserId::new(),
        username: name.into(),
        first_name: name.into(),
        last_name: Some("Rest".into()),
        role: Role::Annotator,
        api_key: format!("key-{name}"),
        password_hash: "hash".into(),
        inserted_at: now,
        updated_at: now,
    }
}

/// Creates, reads, changes and deletes everything the main story only creates.
pub async fn rest_of_the_trait(store: &dyn Store) {
    let now = Timestamp::now();
    // Users and workspaces: lookups, listings and memberships.
    let carol = labeler("carol", now);
    let dave = labeler("dave", now);
    store.create_user(&carol, "digest-carol").await.unwrap();
    store.create_user(&dave, "digest-dave").await.unwrap();
    let clash = User { id: UserId::new(), username: "carol2".into(), ..carol.clone() };
    assert_eq!(store.create_user(&clash, "digest-carol").await, Err(StoreError::UniqueViolation { key: UniqueKey::ApiKey }));
    let same_name = User { id: UserId::new(), ..carol.clone() };
    assert_eq!(store.create_user(&same_name, "digest-other").await, Err(StoreError::UniqueViolation { key: UniqueKey::Username }));
    assert_eq!(store.find_user_by_username("carol").await.unwrap(), Some(carol.clone()));
    assert_eq!(store.get_user(dave.id).await.unwrap(), Some(dave.clone()));
    assert!(store.find_user_by_username("nobody").await.unwrap().is_none());
    let users: Vec<String> = store.list_users().await.unwrap().into_iter().map(|user| user.username).collect();
    assert_eq!(users, vec!["carol".to_owned(), "dave".to_owned()], "users in the order they were created");

    let workspace = Workspace { id: WorkspaceId::new(), name: "rest".into(), inserted_at: now, updated_at: now };
    let spare = Workspace { id: WorkspaceId::new(), name: "spare".into(), inserted_at: now, updated_at: now };
    store.create_workspace(&workspace).await.unwrap();
    store.create_workspace(&spare).await.unwrap();
    assert_eq!(
        store.create_workspace(&Workspace { id: WorkspaceId::new(), ..spare.clone() }).await,
        Err(StoreError::UniqueViolation { key: UniqueKey::WorkspaceName })
    );
    assert_eq!(store.get_workspace(workspace.id).await.unwrap(), Some(workspace.clone()));
    assert_eq!(store.find_workspace_by_name("spare").await.unwrap(), Some(spare.clone()));
    assert_eq!(store.list_workspaces().await.unwrap(), vec![workspace.clone(), spare.clone()]);
    for user in [&carol, &dave] {
        store.add_workspace_member(workspace.id, user.id).await.unwrap();
    }
    store.add_workspace_member(spare.id, carol.id).await.unwrap();
    assert_eq!(store.list_workspace_members(workspace.id).await.unwrap(), vec![carol.clone(), dave.clone()]);
    assert!(store.remove_workspace_member(spare.id, carol.id).await.unwrap());
    assert!(!store.remove_workspace_member(spare.id, carol.id).await.unwrap(), "there was no membership left");
    store.delete_workspace(spare.id).await.unwrap();
    assert!(store.get_workspace(spare.id).await.unwrap().is_none());
    assert_eq!(store.delete_workspace(spare.id).await, Err(StoreError::NotFound));

    // A dataset with one of each setting, each read, changed and deleted.
    let dataset = Dataset {
        id: DatasetId::new(),
        name: "settings".into(),
        guidelines: None,
        allow_extra_metadata: false,
        status: DatasetStatus::Draft,
        distribution: Distribution::overlap(1).unwrap(),
        metadata: Some(object(json!({"team": "rest"}))),
        workspace_id: workspace.id,
        last_activity_at: now,
        inserted_at: now,
        updated_at: now,
    };
    store.create_dataset(&dataset).await.unwrap();
    let twin = Dataset { id: DatasetId::new(), ..dataset.clone() };
    assert_eq!(store.create_dataset(&twin).await, Err(StoreError::UniqueViolation { key: UniqueKey::DatasetName }));
    assert_eq!(store.get_dataset(dataset.id).await.unwrap(), Some(dataset.clone()));
    assert_eq!(store.list_datasets(Some(&[workspace.id])).await.unwrap(), vec![dataset.clone()]);
    assert!(store.list_datasets(Some(&[])).await.unwrap().is_empty());
    assert!(store.list_datasets(None).await.unwrap().contains(&dataset));
    assert_eq!(store.count_datasets_in_workspace(workspace.id).await.unwrap(), 1);

    let field = Field { id: FieldId::new(), name: "text".into(), title: "Text".into(), required: true, settings: FieldSettings::Text { use_markdown: false }, dataset_id: dataset.id, inserted_at: now, updated_at: now };
    store.create_field(&field).await.unwrap();
    assert_eq!(
        store.create_field(&Field { id: FieldId::new(), ..field.clone() }).await,
        Err(StoreError::UniqueViolation { key: UniqueKey::SettingName })
    );
    let retitled = Field { title: "The text".into(), settings: FieldSettings::Text { use_markdown: true }, ..field.clone() };
    store.update_field(&retitled).await.unwrap();
    assert_eq!(store.get_field(field.id).await.unwrap(), Some(retitled));

    let settings = QuestionSettings::from_json(&json!({"type": "rating", "options": [{"value": 1}, {"value": 2}]})).unwrap();
    let question = Question { id: QuestionId::new(), name: "score".into(), title: "Score".into(), description: None, required: false, settings, dataset_id: dataset.id, inserted_at: now, updated_at: now };
    store.create_question(&question).await.unwrap();
    let described = Question { description: Some("How good?".into()), title: "Rating".into(), ..question.clone() };
    store.update_question(&described).await.unwrap();
    assert_eq!(store.get_question(question.id).await.unwrap(), Some(described));

    let property = MetadataProperty {
        id: MetadataPropertyId::new(),
        name: "length".into(),
        title: "Length".into(),
        settings: MetadataSettings::Integer { min: Some(0), max: None },
        visible_for_annotators: true,
        dataset_id: dataset.id,
        inserted_at: now,
        updated_at: now,
    };
    store.create_metadata_property(&property).await.unwrap();
    let hidden = MetadataProperty { visible_for_annotators: false, title: "Hidden length".into(), ..property.clone() };
    store.update_metadata_property(&hidden).await.unwrap();
    assert_eq!(store.get_metadata_property(property.id).await.unwrap(), Some(hidden));

    let vectors = VectorSettings { id: VectorSettingsId::new(), name: "embedding".into(), title: "Embedding".into(), dimensions: 3, dataset_id: dataset.id, inserted_at: now, updated_at: now };
    store.create_vector_settings(&vectors).await.unwrap();
    let renamed = VectorSettings { title: "An embedding".into(), ..vectors.clone() };
    store.update_vector_settings(&renamed).await.unwrap();
    assert_eq!(store.get_vector_settings(vectors.id).await.unwrap(), Some(renamed));

    let published = Dataset { status: DatasetStatus::Ready, guidelines: Some("Score it.".into()), ..dataset.clone() };
    store.update_dataset(&published).await.unwrap();
    assert_eq!(store.get_dataset(dataset.id).await.unwrap(), Some(published.clone()));

    // Records by offset, their ids, metadata values and vectors.
    let items: Vec<ValidRecordWrite> = (0..5)
        .map(|index| ValidRecordWrite {
            id: None,
            external_id: Some(format!("rest-{index}")),
            fields: Some(object(json!({"text": format!("text {index}")}))),
            metadata: Some(object(json!({"length": index * 10}))),
            vectors: vec![("embedding".into(), vec![f64::from(index) + 0.101_949_392_562_519_23, 0.5, -1.0])],
            responses: Vec::new(),
            suggestions: None,
        })
        .collect();
    let records = store.write_records(RecordWriteBatch { dataset_id: dataset.id, suggestions_mode: SuggestionsMode::UpsertPerQuestion, items }).await.unwrap();
    let ids: Vec<_> = records.iter().map(|record| record.id).collect();
    assert_eq!(store.scan_record_ids(dataset.id).await.unwrap(), ids, "ids in insertion order");
    let page = store.list_records(dataset.id, 1, 2, &RecordInclude::default()).await.unwrap();
    assert_eq!(page.total, 5);
    assert_eq!(page.items.iter().map(|(record, _)| record.id).collect::<Vec<_>>(), ids[1..3].to_vec());
    let mut lengths = store.metadata_values(dataset.id, "length").await.unwrap();
    lengths.sort_by_key(|value| value.as_i64());
    assert_eq!(lengths, (0..5).map(|index| json!(index * 10)).collect::<Vec<_>>());
    let stored_vectors = store.record_vectors(dataset.id, vectors.id).await.unwrap();
    assert_eq!(stored_vectors.len(), 5);
    assert_eq!(stored_vectors[2], (ids[2], vec![2.0 + 0.101_949_392_562_519_23, 0.5, -1.0]), "vectors come back exactly as sent (64-bit)");

    // Suggestions one at a time: created, replaced, listed, deleted.
    let suggestion = NewSuggestion { question_id: question.id, kind: None, value: json!(2), agent: Some("model-a".into()), score: Some(json!(0.9)) };
    let (first, created) = store.upsert_suggestion(ids[0], &suggestion).await.unwrap();
    assert!(created);
    let (replaced, created) = store.upsert_suggestion(ids[0], &NewSuggestion { value: json!(1), ..suggestion.clone() }).await.unwrap();
    assert!(!created, "a second suggestion for the question replaces the first");
    assert_eq!((replaced.value.clone(), replaced.question_id), (json!(1), question.id));
    assert_eq!(store.get_suggestion(replaced.id).await.unwrap().map(|found| found.value), Some(json!(1)));
    assert_eq!(store.list_suggestions(ids[0]).await.unwrap().len(), 1);
    store.delete_suggestion(replaced.id).await.unwrap();
    assert!(store.list_suggestions(ids[0]).await.unwrap().is_empty());
    assert_eq!(store.delete_suggestion(first.id).await, Err(StoreError::NotFound));
    let (one, _) = store.upsert_suggestion(ids[1], &suggestion).await.unwrap();
    store.delete_record_suggestions(ids[1], &[one.id, SuggestionId::new()]).await.unwrap();
    assert!(store.list_suggestions(ids[1]).await.unwrap().is_empty());

    // A response found by record and user, and deleted: the record's status follows.
    let answered = Timestamp::now();
    let response = Response { id: ResponseId::new(), record_id: ids[3], user_id: carol.id, values: Some(object(json!({"score": {"value": 2}}))), status: ResponseStatus::Submitted, presentation: None, inserted_at: answered, updated_at: answered };
    store.create_response(&response).await.unwrap();
    assert_eq!(store.find_response(ids[3], carol.id).await.unwrap(), Some(response.clone()));
    assert_eq!(store.get_response(response.id).await.unwrap(), Some(response.clone()));
    assert_eq!(store.get_record(ids[3]).await.unwrap().unwrap().status, RecordStatus::Completed);
    assert_eq!(
        store.create_response(&Response { id: ResponseId::new(), ..response.clone() }).await,
        Err(StoreError::UniqueViolation { key: UniqueKey::ResponseOfLabeler })
    );
    let rows = store.users_progress(dataset.id).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].username.as_str(), rows[0].record_status, rows[0].response_status, rows[0].count), ("carol", RecordStatus::Completed, ResponseStatus::Submitted, 1));
    store.delete_response(response.id).await.unwrap();
    assert!(store.find_response(ids[3], carol.id).await.unwrap().is_none());
    assert_eq!(store.get_record(ids[3]).await.unwrap().unwrap().status, RecordStatus::Pending);
    assert_eq!(store.delete_response(response.id).await, Err(StoreError::NotFound));
    let orphan = Response { id: ResponseId::new(), record_id: juror_core::ids::RecordId::new(), ..response.clone() };
    assert_eq!(store.create_response(&orphan).await, Err(StoreError::ForeignKeyViolation), "an answer to no record");

    // Expired sessions go; live ones stay.
    let hour = 3_600_000_000;
    let live = WebSession { token_digest: "live".into(), user_id: dave.id, csrf_token: "c1".into(), inserted_at: now, expires_at: Timestamp::from_micros(now.micros() + hour) };
    let stale = WebSession { token_digest: "stale".into(), expires_at: Timestamp::from_micros(now.micros() + 1), ..live.clone() };
    store.create_session(&live).await.unwrap();
    store.create_session(&stale).await.unwrap();
    assert_eq!(store.create_session(&live).await, Err(StoreError::UniqueViolation { key: UniqueKey::Session }));
    store.delete_expired_sessions(Timestamp::from_micros(now.micros() + 2)).await.unwrap();
    assert!(store.find_session("stale", now).await.unwrap().is_none());
    assert!(store.find_session("live", now).await.unwrap().is_some());

    // Settings and then the dataset are deleted; its records go with it.
    store.delete_field(field.id).await.unwrap();
    store.delete_question(question.id).await.unwrap();
    store.delete_metadata_property(property.id).await.unwrap();
    store.delete_vector_settings(vectors.id).await.unwrap();
    assert!(store.get_field(field.id).await.unwrap().is_none());
    assert!(store.get_question(question.id).await.unwrap().is_none());
    assert!(store.get_metadata_property(property.id).await.unwrap().is_none());
    assert!(store.get_vector_settings(vectors.id).await.unwrap().is_none());
    assert_eq!(store.delete_field(field.id).await, Err(StoreError::NotFound));
    store.delete_dataset(dataset.id).await.unwrap();
    assert!(store.get_dataset(dataset.id).await.unwrap().is_none());
    assert!(store.get_record(ids[0]).await.unwrap().is_none());
    assert_eq!(store.count_datasets_in_workspace(workspace.id).await.unwrap(), 0);
    store.delete_user(dave.id).await.unwrap();
    assert!(store.find_session("live", now).await.unwrap().is_none(), "a deleted user's sessions go with them");
    assert_eq!(store.count_users().await.unwrap(), 1);
}
