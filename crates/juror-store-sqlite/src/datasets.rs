//! Datasets and their settings (fields, questions, metadata properties, vector settings) on SQLite.

use async_trait::async_trait;
use juror_core::dataset::Dataset;
use juror_core::field::Field;
use juror_core::ids::{DatasetId, FieldId, MetadataPropertyId, QuestionId, VectorSettingsId, WorkspaceId};
use juror_core::metadata::MetadataProperty;
use juror_core::question::Question;
use juror_core::record::DatasetSchema;
use juror_core::vector::VectorSettings;
use serde_json::Value;

use super::rows::{self, DATASET_COLUMNS, FIELD_COLUMNS, METADATA_COLUMNS, QUESTION_COLUMNS, VECTOR_COLUMNS};
use super::users::expect_one;
use super::{placeholders, tally, SqliteStore};
use juror_store::StoreResult;
use juror_store::DatasetStore;

#[async_trait]
impl DatasetStore for SqliteStore {
    async fn create_dataset(&self, dataset: &Dataset) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO datasets (id, name, guidelines, allow_extra_metadata, status, min_submitted, metadata, workspace_id, last_activity_at, inserted_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(dataset.id.to_string())
        .bind(&dataset.name)
        .bind(&dataset.guidelines)
        .bind(dataset.allow_extra_metadata)
        .bind(dataset.status.as_str())
        .bind(i64::from(dataset.distribution.min_submitted()))
        .bind(rows::encode_object(dataset.metadata.as_ref()))
        .bind(dataset.workspace_id.to_string())
        .bind(dataset.last_activity_at.micros())
        .bind(dataset.inserted_at.micros())
        .bind(dataset.updated_at.micros())
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn get_dataset(&self, id: DatasetId) -> StoreResult<Option<Dataset>> {
        let query = format!("SELECT {DATASET_COLUMNS} FROM datasets WHERE id = ?");
        let row = sqlx::query(&query).bind(id.to_string()).fetch_optional(&self.reader).await?;
        row.as_ref().map(rows::dataset).transpose()
    }

    async fn list_datasets(&self, workspaces: Option<&[WorkspaceId]>) -> StoreResult<Vec<Dataset>> {
        let rows = match workspaces {
            None => {
                let query = format!("SELECT {DATASET_COLUMNS} FROM datasets ORDER BY inserted_at, id");
                sqlx::query(&query).fetch_all(&self.reader).await?
            }
            Some([]) => return Ok(Vec::new()),
            Some(workspaces) => {
                let query = format!(
                    "SELECT {DATASET_COLUMNS} FROM datasets WHERE workspace_id IN ({}) ORDER BY inserted_at, id",
                    placeholders(workspaces.len())
                );
                let mut select = sqlx::query(&query);
                for workspace in workspaces {
                    select = select.bind(workspace.to_string());
                }
                select.fetch_all(&self.reader).await?
            }
        };
        rows.iter().map(rows::dataset).collect()
    }

    async fn update_dataset(&self, dataset: &Dataset) -> StoreResult<()> {
        let mut transaction = self.writer.begin().await?;
        let previous: i64 = sqlx::query_scalar("SELECT min_submitted FROM datasets WHERE id = ?")
            .bind(dataset.id.to_string())
            .fetch_one(&mut *transaction)
            .await?;
        let min_submitted = i64::from(dataset.distribution.min_submitted());
        sqlx::query(
            "UPDATE datasets SET name = ?, guidelines = ?, allow_extra_metadata = ?, status = ?, min_submitted = ?,
             metadata = ?, last_activity_at = ?, updated_at = ? WHERE id = ?",
        )
        .bind(&dataset.name)
        .bind(&dataset.guidelines)
        .bind(dataset.allow_extra_metadata)
        .bind(dataset.status.as_str())
        .bind(min_submitted)
        .bind(rows::encode_object(dataset.metadata.as_ref()))
        .bind(dataset.last_activity_at.micros())
        .bind(dataset.updated_at.micros())
        .bind(dataset.id.to_string())
        .execute(&mut *transaction)
        .await?;
        if previous != min_submitted {
            tally::recount_dataset(&mut transaction, dataset.id, dataset.updated_at).await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    async fn delete_dataset(&self, id: DatasetId) -> StoreResult<()> {
        let result = sqlx::query("DELETE FROM datasets WHERE id = ?").bind(id.to_string()).execute(&self.writer).await?;
        expect_one(result.rows_affected())
    }

    async fn count_datasets_in_workspace(&self, workspace: WorkspaceId) -> StoreResult<u64> {
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM datasets WHERE workspace_id = ?")
            .bind(workspace.to_string())
            .fetch_one(&self.reader)
            .await?;
        Ok(count as u64)
    }

    async fn load_schema(&self, id: DatasetId) -> StoreResult<Option<DatasetSchema>> {
        let Some(dataset) = self.get_dataset(id).await? else { return Ok(None) };
        let dataset_id = id.to_string();
        let select = |columns: &str, table: &str| format!("SELECT {columns} FROM {table} WHERE dataset_id = ? ORDER BY inserted_at, id");
        let fields = sqlx::query(&select(FIELD_COLUMNS, "fields")).bind(&dataset_id).fetch_all(&self.reader).await?;
        let questions = sqlx::query(&select(QUESTION_COLUMNS, "questions")).bind(&dataset_id).fetch_all(&self.reader).await?;
        let metadata = sqlx::query(&select(METADATA_COLUMNS, "metadata_properties")).bind(&dataset_id).fetch_all(&self.reader).await?;
        let vectors = sqlx::query(&select(VECTOR_COLUMNS, "vector_settings")).bind(&dataset_id).fetch_all(&self.reader).await?;
        Ok(Some(DatasetSchema {
            dataset,
            fields: fields.iter().map(rows::field).collect::<StoreResult<_>>()?,
            questions: questions.iter().map(rows::question).collect::<StoreResult<_>>()?,
            metadata_properties: metadata.iter().map(rows::metadata_property).collect::<StoreResult<_>>()?,
            vector_settings: vectors.iter().map(rows::vector_settings).collect::<StoreResult<_>>()?,
        }))
    }

    async fn create_field(&self, field: &Field) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO fields (id, name, title, required, settings, dataset_id, inserted_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(field.id.to_string())
        .bind(&field.name)
        .bind(&field.title)
        .bind(field.required)
        .bind(field.settings.to_json().to_string())
        .bind(field.dataset_id.to_string())
        .bind(field.inserted_at.micros())
        .bind(field.updated_at.micros())
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn get_field(&self, id: FieldId) -> StoreResult<Option<Field>> {
        let query = format!("SELECT {FIELD_COLUMNS} FROM fields WHERE id = ?");
        let row = sqlx::query(&query).bind(id.to_string()).fetch_optional(&self.reader).await?;
        row.as_ref().map(rows::field).transpose()
    }

    async fn update_field(&self, field: &Field) -> StoreResult<()> {
        let result = sqlx::query("UPDATE fields SET title = ?, settings = ?, updated_at = ? WHERE id = ?")
            .bind(&field.title)
            .bind(field.settings.to_json().to_string())
            .bind(field.updated_at.micros())
            .bind(field.id.to_string())
            .execute(&self.writer)
            .await?;
        expect_one(result.rows_affected())
    }

    async fn delete_field(&self, id: FieldId) -> StoreResult<()> {
        let result = sqlx::query("DELETE FROM fields WHERE id = ?").bind(id.to_string()).execute(&self.writer).await?;
        expect_one(result.rows_affected())
    }

    async fn create_question(&self, question: &Question) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO questions (id, name, title, description, required, settings, dataset_id, inserted_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(question.id.to_string())
        .bind(&question.name)
        .bind(&question.title)
        .bind(&question.description)
        .bind(question.required)
        .bind(question.settings.to_json().to_string())
        .bind(question.dataset_id.to_string())
        .bind(question.inserted_at.micros())
        .bind(question.updated_at.micros())
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn get_question(&self, id: QuestionId) -> StoreResult<Option<Question>> {
        let query = format!("SELECT {QUESTION_COLUMNS} FROM questions WHERE id = ?");
        let row = sqlx::query(&query).bind(id.to_string()).fetch_optional(&self.reader).await?;
        row.as_ref().map(rows::question).transpose()
    }

    async fn update_question(&self, question: &Question) -> StoreResult<()> {
        let result = sqlx::query("UPDATE questions SET title = ?, description = ?, settings = ?, updated_at = ? WHERE id = ?")
            .bind(&question.title)
            .bind(&question.description)
            .bind(question.settings.to_json().to_string())
            .bind(question.updated_at.micros())
            .bind(question.id.to_string())
            .execute(&self.writer)
            .await?;
        expect_one(result.rows_affected())
    }

    async fn delete_question(&self, id: QuestionId) -> StoreResult<()> {
        let result = sqlx::query("DELETE FROM questions WHERE id = ?").bind(id.to_string()).execute(&self.writer).await?;
        expect_one(result.rows_affected())
    }

    async fn create_metadata_property(&self, property: &MetadataProperty) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO metadata_properties (id, name, title, settings, visible_for_annotators, dataset_id, inserted_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(property.id.to_string())
        .bind(&property.name)
        .bind(&property.title)
        .bind(property.settings.to_json().to_string())
        .bind(property.visible_for_annotators)
        .bind(property.dataset_id.to_string())
        .bind(property.inserted_at.micros())
        .bind(property.updated_at.micros())
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn get_metadata_property(&self, id: MetadataPropertyId) -> StoreResult<Option<MetadataProperty>> {
        let query = format!("SELECT {METADATA_COLUMNS} FROM metadata_properties WHERE id = ?");
        let row = sqlx::query(&query).bind(id.to_string()).fetch_optional(&self.reader).await?;
        row.as_ref().map(rows::metadata_property).transpose()
    }

    async fn update_metadata_property(&self, property: &MetadataProperty) -> StoreResult<()> {
        let result = sqlx::query("UPDATE metadata_properties SET title = ?, visible_for_annotators = ?, updated_at = ? WHERE id = ?")
            .bind(&property.title)
            .bind(property.visible_for_annotators)
            .bind(property.updated_at.micros())
            .bind(property.id.to_string())
            .execute(&self.writer)
            .await?;
        expect_one(result.rows_affected())
    }

    async fn delete_metadata_property(&self, id: MetadataPropertyId) -> StoreResult<()> {
        let result =
            sqlx::query("DELETE FROM metadata_properties WHERE id = ?").bind(id.to_string()).execute(&self.writer).await?;
        expect_one(result.rows_affected())
    }

    async fn metadata_values(&self, dataset: DatasetId, name: &str) -> StoreResult<Vec<Value>> {
        let objects: Vec<Option<String>> = sqlx::query_scalar("SELECT metadata FROM records WHERE dataset_id = ? AND metadata IS NOT NULL")
            .bind(dataset.to_string())
            .fetch_all(&self.reader)
            .await?;
        let mut values = Vec::new();
        for object in objects.iter().flatten() {
            if let Some(value) = rows::json_object(Some(object))?.and_then(|mut object| object.remove(name)) {
                values.push(value);
            }
        }
        Ok(values)
    }

    async fn create_vector_settings(&self, settings: &VectorSettings) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO vector_settings (id, name, title, dimensions, dataset_id, inserted_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(settings.id.to_string())
        .bind(&settings.name)
        .bind(&settings.title)
        .bind(i64::from(settings.dimensions))
        .bind(settings.dataset_id.to_string())
        .bind(settings.inserted_at.micros())
        .bind(settings.updated_at.micros())
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn get_vector_settings(&self, id: VectorSettingsId) -> StoreResult<Option<VectorSettings>> {
        let query = format!("SELECT {VECTOR_COLUMNS} FROM vector_settings WHERE id = ?");
        let row = sqlx::query(&query).bind(id.to_string()).fetch_optional(&self.reader).await?;
        row.as_ref().map(rows::vector_settings).transpose()
    }

    async fn update_vector_settings(&self, settings: &VectorSettings) -> StoreResult<()> {
        let result = sqlx::query("UPDATE vector_settings SET title = ?, updated_at = ? WHERE id = ?")
            .bind(&settings.title)
            .bind(settings.updated_at.micros())
            .bind(settings.id.to_string())
            .execute(&self.writer)
            .await?;
        expect_one(result.rows_affected())
    }

    async fn delete_vector_settings(&self, id: VectorSettingsId) -> StoreResult<()> {
        let result = sqlx::query("DELETE FROM vector_settings WHERE id = ?").bind(id.to_string()).execute(&self.writer).await?;
        expect_one(result.rows_affected())
    }
}
