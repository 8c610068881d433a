//! Dataset settings: fields, questions, metadata properties and vector settings.

use juror_core::audit::AuditAction;
use juror_core::dataset::{validate_setting_name, validate_title};
use juror_core::field::{Field, FieldSettings};
use juror_core::ids::{DatasetId, FieldId, MetadataPropertyId, QuestionId, VectorSettingsId};
use juror_core::metadata::{MetadataProperty, MetadataSettings, MetadataSummary};
use juror_core::question::{validate_description, Question, QuestionSettings};
use juror_core::time::Timestamp;
use juror_core::vector::{VectorSettings, MAX_VECTOR_SETTINGS_PER_DATASET};
use serde_json::Value;

use crate::auth::Caller;
use crate::error::{not_found, on_unique, AppError, AppResult};
use crate::policy::Action;
use crate::App;

/// A field to add to a draft dataset.
#[derive(Debug, Clone)]
pub struct NewField {
    pub name: String,
    pub title: String,
    pub required: bool,
    pub settings: Value,
}

/// A question to add to a draft dataset.
#[derive(Debug, Clone)]
pub struct NewQuestion {
    pub name: String,
    pub title: String,
    pub description: Option<String>,
    pub required: bool,
    pub settings: Value,
}

/// A metadata property to add.
#[derive(Debug, Clone)]
pub struct NewMetadataProperty {
    pub name: String,
    pub title: String,
    pub settings: Value,
    pub visible_for_annotators: bool,
}

/// A vector setting to add.
#[derive(Debug, Clone)]
pub struct NewVectorSettings {
    pub name: String,
    pub title: String,
    pub dimensions: i64,
}

/// Changes to a setting; `None` leaves a value as it is.
#[derive(Debug, Clone, Default)]
pub struct SettingPatch {
    pub title: Option<String>,
    pub description: Option<Option<String>>,
    pub settings: Option<Value>,
    pub visible_for_annotators: Option<bool>,
}

fn duplicate<'a>(kind: &'static str, name: &'a str, dataset: DatasetId) -> impl FnOnce() -> String + 'a {
    move || format!("{kind} with name `{name}` already exists for dataset with id `{dataset}`")
}

impl App {
    /// Adds a field to a draft dataset.
    pub async fn create_field(&self, caller: &Caller, dataset_id: DatasetId, new: NewField) -> AppResult<Field> {
        let dataset = self.dataset_for(caller, dataset_id, Action::Manage).await?;
        if dataset.is_ready() {
            return Err(AppError::Invalid("Field cannot be created for a published dataset".into()));
        }
        validate_setting_name(&new.name)?;
        validate_title(&new.title)?;
        let now = Timestamp::now();
        let field = Field {
            id: FieldId::new(),
            name: new.name,
            title: new.title,
            required: new.required,
            settings: FieldSettings::from_json(&new.settings)?,
            dataset_id,
            inserted_at: now,
            updated_at: now,
        };
        self.store.create_field(&field).await.map_err(|error| on_unique(error, duplicate("Field", &field.name, dataset_id)))?;
        self.settings_changed(dataset_id);
        self.audit_setting(caller, AuditAction::SettingCreated, "field", field.id, dataset_id, &field.name).await;
        Ok(field)
    }

    /// A dataset's fields (owners and members).
    pub async fn list_fields(&self, caller: &Caller, dataset_id: DatasetId) -> AppResult<Vec<Field>> {
        Ok(self.get_schema(caller, dataset_id).await?.fields)
    }

    /// Changes a field's title or display settings; its type stays.
    pub async fn update_field(&self, caller: &Caller, id: FieldId, patch: SettingPatch) -> AppResult<Field> {
        let mut field = self.store.get_field(id).await?.ok_or_else(|| not_found("Field", id))?;
        self.dataset_for(caller, field.dataset_id, Action::Manage).await?;
        if let Some(title) = patch.title {
            validate_title(&title)?;
            field.title = title;
        }
        if let Some(settings) = patch.settings {
            let settings = FieldSettings::from_json(&settings)?;
            if settings.type_name() != field.settings.type_name() {
                return Err(AppError::Invalid(format!(
                    "field type cannot be changed. expected '{}' but got '{}'",
                    field.settings.type_name(),
                    settings.type_name()
                )));
            }
            field.settings = settings;
        }
        field.updated_at = Timestamp::now();
        self.store.update_field(&field).await?;
        self.settings_changed(field.dataset_id);
        self.audit_setting(caller, AuditAction::SettingUpdated, "field", field.id, field.dataset_id, &field.name).await;
        Ok(field)
    }

    /// Deletes a field of a draft dataset.
    pub async fn delete_field(&self, caller: &Caller, id: FieldId) -> AppResult<Field> {
        let field = self.store.get_field(id).await?.ok_or_else(|| not_found("Field", id))?;
        let dataset = self.dataset_for(caller, field.dataset_id, Action::Manage).await?;
        if dataset.is_ready() {
            return Err(AppError::Invalid("Fields cannot be deleted for a published dataset".into()));
        }
        self.store.delete_field(id).await?;
        self.settings_changed(field.dataset_id);
        self.audit_setting(caller, AuditAction::SettingDeleted, "field", field.id, field.dataset_id, &field.name).await;
        Ok(field)
    }

    /// Adds a question to a draft dataset.
    pub async fn create_question(&self, caller: &Caller, dataset_id: DatasetId, new: NewQuestion) -> AppResult<Question> {
        let dataset = self.dataset_for(caller, dataset_id, Action::Manage).await?;
        if dataset.is_ready() {
            return Err(AppError::Invalid("questions cannot be created for a published dataset".into()));
        }
        validate_setting_name(&new.name)?;
        validate_title(&new.title)?;
        if let Some(description) = &new.description {
            validate_description(description)?;
        }
        let settings = QuestionSettings::from_json(&new.settings)?;
        if let QuestionSettings::Span { field, .. } = &settings {
            self.check_span_field(dataset_id, field).await?;
        }
        let now = Timestamp::now();
        let question = Question {
            id: QuestionId::new(),
            name: new.name,
            title: new.title,
            description: new.description,
            required: new.required,
            settings,
            dataset_id,
            inserted_at: now,
            updated_at: now,
        };
        self.store.create_question(&question).await.map_err(|error| on_unique(error, duplicate("Question", &question.name, dataset_id)))?;
        self.settings_changed(dataset_id);
        self.audit_setting(caller, AuditAction::SettingCreated, "question", question.id, dataset_id, &question.name).await;
        Ok(question)
    }

    async fn check_span_field(&self, dataset_id: DatasetId, field: &str) -> AppResult<()> {
        let schema = self.schema(dataset_id).await?;
        let Some(target) = schema.fields.iter().find(|candidate| candidate.name == field) else {
            return Err(AppError::Invalid(format!("'{field}' is not a valid field name.\nValid field names are {:?}", schema.fields.iter().map(|f| &f.name).collect::<Vec<_>>())));
        };
        if !matches!(target.settings, FieldSettings::Text { .. }) {
            return Err(AppError::Invalid(format!("Span question cannot be used with the non-text field '{field}'")));
        }
        let taken = schema.questions.iter().any(|question| matches!(&question.settings, QuestionSettings::Span { field: used, .. } if used == field));
        if taken {
            return Err(AppError::Invalid(format!("Span question with field '{field}' already exists")));
        }
        Ok(())
    }

    /// A dataset's questions (owners and members).
    pub async fn list_questions(&self, caller: &Caller, dataset_id: DatasetId) -> AppResult<Vec<Question>> {
        Ok(self.get_schema(caller, dataset_id).await?.questions)
    }

    /// Changes a question's title, description or settings (type and option values stay).
    pub async fn update_question(&self, caller: &Caller, id: QuestionId, patch: SettingPatch) -> AppResult<Question> {
        let mut question = self.store.get_question(id).await?.ok_or_else(|| not_found("Question", id))?;
        self.dataset_for(caller, question.dataset_id, Action::Manage).await?;
        if let Some(title) = patch.title {
            validate_title(&title)?;
            question.title = title;
        }
        if let Some(description) = patch.description {
            if let Some(description) = &description {
                validate_description(description)?;
            }
            question.description = description;
        }
        if let Some(settings) = patch.settings {
            question.settings = question.settings.updated(&settings)?;
        }
        question.updated_at = Timestamp::now();
        self.store.update_question(&question).await?;
        self.settings_changed(question.dataset_id);
        self.audit_setting(caller, AuditAction::SettingUpdated, "question", question.id, question.dataset_id, &question.name).await;
        Ok(question)
    }

    /// Deletes a question of a draft dataset.
    pub async fn delete_question(&self, caller: &Caller, id: QuestionId) -> AppResult<Question> {
        let question = self.store.get_question(id).await?.ok_or_else(|| not_found("Question", id))?;
        let dataset = self.dataset_for(caller, question.dataset_id, Action::Manage).await?;
        if dataset.is_ready() {
            return Err(AppError::Invalid("questions cannot be deleted for a published dataset".into()));
        }
        self.store.delete_question(id).await?;
        self.settings_changed(question.dataset_id);
        self.audit_setting(caller, AuditAction::SettingDeleted, "question", question.id, question.dataset_id, &question.name).await;
        Ok(question)
    }

    /// Adds a metadata property (draft or published datasets).
    pub async fn create_metadata_property(&self, caller: &Caller, dataset_id: DatasetId, new: NewMetadataProperty) -> AppResult<MetadataProperty> {
        self.dataset_for(caller, dataset_id, Action::Manage).await?;
        validate_setting_name(&new.name)?;
        validate_title(&new.title)?;
        let now = Timestamp::now();
        let property = MetadataProperty {
            id: MetadataPropertyId::new(),
            name: new.name,
            title: new.title,
            settings: MetadataSettings::from_json(&new.settings)?,
            visible_for_annotators: new.visible_for_annotators,
            dataset_id,
            inserted_at: now,
            updated_at: now,
        };
        self.store
            .create_metadata_property(&property)
            .await
            .map_err(|error| on_unique(error, duplicate("Metadata property", &property.name, dataset_id)))?;
        self.settings_changed(dataset_id);
        self.audit_setting(caller, AuditAction::SettingCreated, "metadata_property", property.id, dataset_id, &property.name).await;
        Ok(property)
    }

    /// A dataset's metadata properties; annotators see only those visible to them.
    pub async fn list_metadata_properties(&self, caller: &Caller, dataset_id: DatasetId) -> AppResult<Vec<MetadataProperty>> {
        let (schema, visibility) = self.schema_seen_by(caller, dataset_id, Action::Read).await?;
        Ok(schema.metadata_properties.iter().filter(|property| !visibility.hides_metadata(&property.name)).cloned().collect())
    }

    /// Changes a metadata property's title or visibility.
    pub async fn update_metadata_property(&self, caller: &Caller, id: MetadataPropertyId, patch: SettingPatch) -> AppResult<MetadataProperty> {
        let mut property = self.store.get_metadata_property(id).await?.ok_or_else(|| not_found("MetadataProperty", id))?;
        self.dataset_for(caller, property.dataset_id, Action::Manage).await?;
        if let Some(title) = patch.title {
            validate_title(&title)?;
            property.title = title;
        }
        if let Some(visible) = patch.visible_for_annotators {
            property.visible_for_annotators = visible;
        }
        property.updated_at = Timestamp::now();
        self.store.update_metadata_property(&property).await?;
        self.settings_changed(property.dataset_id);
        self.audit_setting(caller, AuditAction::SettingUpdated, "metadata_property", property.id, property.dataset_id, &property.name).await;
        Ok(property)
    }

    /// Deletes a metadata property.
    pub async fn delete_metadata_property(&self, caller: &Caller, id: MetadataPropertyId) -> AppResult<MetadataProperty> {
        let property = self.store.get_metadata_property(id).await?.ok_or_else(|| not_found("MetadataProperty", id))?;
        self.dataset_for(caller, property.dataset_id, Action::Manage).await?;
        self.store.delete_metadata_property(id).await?;
        self.settings_changed(property.dataset_id);
        self.audit_setting(caller, AuditAction::SettingDeleted, "metadata_property", property.id, property.dataset_id, &property.name).await;
        Ok(property)
    }

    /// A metadata property and a summary of the values records hold for it (owners and members;
    /// annotators only for properties visible to them).
    pub async fn metadata_property_metrics(&self, caller: &Caller, id: MetadataPropertyId) -> AppResult<(MetadataProperty, MetadataSummary)> {
        let property = self.store.get_metadata_property(id).await?.ok_or_else(|| not_found("MetadataProperty", id))?;
        let (_, visibility) = self.schema_seen_by(caller, property.dataset_id, Action::Read).await?;
        if visibility.hides_metadata(&property.name) {
            return Err(AppError::Forbidden);
        }
        let values = self.store.metadata_values(property.dataset_id, &property.name).await?;
        let summary = property.settings.summarize(&values);
        Ok((property, summary))
    }

    /// Adds a vector setting (at most five per dataset).
    pub async fn create_vector_settings(&self, caller: &Caller, dataset_id: DatasetId, new: NewVectorSettings) -> AppResult<VectorSettings> {
        self.dataset_for(caller, dataset_id, Action::Manage).await?;
        validate_setting_name(&new.name)?;
        validate_title(&new.title)?;
        let dimensions = u32::try_from(new.dimensions).ok().filter(|dimensions| *dimensions > 0);
        let dimensions = dimensions.ok_or_else(|| AppError::Invalid("dimensions must be greater than 0".into()))?;
        let schema = self.schema(dataset_id).await?;
        if schema.vector_settings.len() >= MAX_VECTOR_SETTINGS_PER_DATASET {
            return Err(AppError::Invalid(format!(
                "The maximum number of vector settings has been reached for dataset with id `{dataset_id}`"
            )));
        }
        let now = Timestamp::now();
        let settings = VectorSettings { id: VectorSettingsId::new(), name: new.name, title: new.title, dimensions, dataset_id, inserted_at: now, updated_at: now };
        self.store
            .create_vector_settings(&settings)
            .await
            .map_err(|error| on_unique(error, duplicate("Vector settings", &settings.name, dataset_id)))?;
        self.settings_changed(dataset_id);
        self.audit_setting(caller, AuditAction::SettingCreated, "vector_settings", settings.id, dataset_id, &settings.name).await;
        Ok(settings)
    }

    /// A dataset's vector settings (owners and members).
    pub async fn list_vector_settings(&self, caller: &Caller, dataset_id: DatasetId) -> AppResult<Vec<VectorSettings>> {
        Ok(self.get_schema(caller, dataset_id).await?.vector_settings)
    }

    /// Changes a vector setting's title.
    pub async fn update_vector_settings(&self, caller: &Caller, id: VectorSettingsId, patch: SettingPatch) -> AppResult<VectorSettings> {
        let mut settings = self.store.get_vector_settings(id).await?.ok_or_else(|| not_found("VectorSettings", id))?;
        self.dataset_for(caller, settings.dataset_id, Action::Manage).await?;
        if let Some(title) = patch.title {
            validate_title(&title)?;
            settings.title = title;
        }
        settings.updated_at = Timestamp::now();
        self.store.update_vector_settings(&settings).await?;
        self.settings_changed(settings.dataset_id);
        self.audit_setting(caller, AuditAction::SettingUpdated, "vector_settings", settings.id, settings.dataset_id, &settings.name).await;
        Ok(settings)
    }

    /// Deletes a vector setting and the vectors stored for it.
    pub async fn delete_vector_settings(&self, caller: &Caller, id: VectorSettingsId) -> AppResult<VectorSettings> {
        let settings = self.store.get_vector_settings(id).await?.ok_or_else(|| not_found("VectorSettings", id))?;
        self.dataset_for(caller, settings.dataset_id, Action::Manage).await?;
        self.store.delete_vector_settings(id).await?;
        self.settings_changed(settings.dataset_id);
        self.audit_setting(caller, AuditAction::SettingDeleted, "vector_settings", settings.id, settings.dataset_id, &settings.name).await;
        Ok(settings)
    }
}
