//! Dataset settings: `/fields`, `/questions`, `/metadata-properties` and `/vectors-settings`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use juror_app::{NewField, NewMetadataProperty, NewQuestion, NewVectorSettings, SettingPatch};
use juror_core::ids::{DatasetId, FieldId, MetadataPropertyId, QuestionId, VectorSettingsId};
use juror_core::metadata::MetadataSummary;
use serde::Deserialize;
use utoipa::ToSchema;
use serde_json::Value;

use super::body::{bool_key, nullable_string_key, required_key, string_key, Patch};
use crate::error::ApiResult;
use crate::extract::{ApiJson, Auth, PathId};
use crate::{wire, AppState};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/datasets/{dataset_id}/fields", get(list_fields).post(create_field))
        .route("/api/v1/fields/{field_id}", axum::routing::patch(update_field).delete(delete_field))
        .route("/api/v1/datasets/{dataset_id}/questions", get(list_questions).post(create_question))
        .route("/api/v1/questions/{question_id}", axum::routing::patch(update_question).delete(delete_question))
        .route("/api/v1/datasets/{dataset_id}/metadata-properties", axum::routing::post(create_metadata_property))
        .route("/api/v1/me/datasets/{dataset_id}/metadata-properties", get(list_metadata_properties))
        .route("/api/v1/metadata-properties/{property_id}", axum::routing::patch(update_metadata_property).delete(delete_metadata_property))
        .route("/api/v1/metadata-properties/{property_id}/metrics", get(metadata_property_metrics))
        .route("/api/v1/datasets/{dataset_id}/vectors-settings", get(list_vector_settings).post(create_vector_settings))
        .route("/api/v1/vectors-settings/{vector_settings_id}", axum::routing::patch(update_vector_settings).delete(delete_vector_settings))
}

#[derive(Deserialize, ToSchema)]
pub(super) struct NewFieldBody {
    name: String,
    title: String,
    required: Option<bool>,
    settings: Value,
}

#[derive(Deserialize, ToSchema)]
pub(super) struct NewQuestionBody {
    name: String,
    title: String,
    description: Option<String>,
    required: Option<bool>,
    settings: Value,
}

#[derive(Deserialize, ToSchema)]
pub(super) struct NewMetadataBody {
    name: String,
    title: String,
    settings: Value,
    visible_for_annotators: Option<bool>,
}

#[derive(Deserialize, ToSchema)]
pub(super) struct NewVectorSettingsBody {
    name: String,
    title: String,
    dimensions: i64,
}

/// The keys a setting's `PATCH` reads (each kind of setting takes its own: fields and vector
/// settings `title`, questions also `description` and `settings`, metadata properties also
/// `visible_for_annotators`); absent keys are left as they are.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(super) struct SettingPatchBody {
    title: Option<String>,
    /// `null` clears it.
    description: Option<String>,
    settings: Option<Value>,
    visible_for_annotators: Option<bool>,
}

fn setting_patch(patch: &Patch) -> ApiResult<SettingPatch> {
    Ok(SettingPatch {
        title: string_key(patch, "title")?,
        description: nullable_string_key(patch, "description")?,
        settings: required_key(patch, "settings")?.cloned(),
        visible_for_annotators: bool_key(patch, "visible_for_annotators")?,
    })
}

#[utoipa::path(get, path = "/api/v1/datasets/{dataset_id}/fields", tag = "settings", responses((status = 200, body = wire::Items<wire::FieldJson>)))]
pub(super) async fn list_fields(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>) -> ApiResult<Json<wire::Items<wire::FieldJson>>> {
    Ok(Json(wire::items(&state.app.list_fields(&caller, id).await?, wire::field)))
}

/// Adds a field to a draft dataset.
#[utoipa::path(post, path = "/api/v1/datasets/{dataset_id}/fields", tag = "settings", request_body = NewFieldBody, responses((status = 201, body = wire::FieldJson)))]
pub(super) async fn create_field(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>, ApiJson(body): ApiJson<NewFieldBody>) -> ApiResult<(StatusCode, Json<wire::FieldJson>)> {
    let new = NewField { name: body.name, title: body.title, required: body.required.unwrap_or(false), settings: body.settings };
    Ok((StatusCode::CREATED, Json(wire::field(&state.app.create_field(&caller, id, new).await?))))
}

#[utoipa::path(patch, path = "/api/v1/fields/{field_id}", tag = "settings", request_body = SettingPatchBody, responses((status = 200, body = wire::FieldJson)))]
pub(super) async fn update_field(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<FieldId>, ApiJson(patch): ApiJson<Patch>) -> ApiResult<Json<wire::FieldJson>> {
    Ok(Json(wire::field(&state.app.update_field(&caller, id, setting_patch(&patch)?).await?)))
}

#[utoipa::path(delete, path = "/api/v1/fields/{field_id}", tag = "settings", responses((status = 200, body = wire::FieldJson)))]
pub(super) async fn delete_field(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<FieldId>) -> ApiResult<Json<wire::FieldJson>> {
    Ok(Json(wire::field(&state.app.delete_field(&caller, id).await?)))
}

#[utoipa::path(get, path = "/api/v1/datasets/{dataset_id}/questions", tag = "settings", responses((status = 200, body = wire::Items<wire::QuestionJson>)))]
pub(super) async fn list_questions(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>) -> ApiResult<Json<wire::Items<wire::QuestionJson>>> {
    Ok(Json(wire::items(&state.app.list_questions(&caller, id).await?, wire::question)))
}

/// Adds a question to a draft dataset.
#[utoipa::path(post, path = "/api/v1/datasets/{dataset_id}/questions", tag = "settings", request_body = NewQuestionBody, responses((status = 201, body = wire::QuestionJson)))]
pub(super) async fn create_question(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>, ApiJson(body): ApiJson<NewQuestionBody>) -> ApiResult<(StatusCode, Json<wire::QuestionJson>)> {
    let new = NewQuestion { name: body.name, title: body.title, description: body.description, required: body.required.unwrap_or(false), settings: body.settings };
    Ok((StatusCode::CREATED, Json(wire::question(&state.app.create_question(&caller, id, new).await?))))
}

#[utoipa::path(patch, path = "/api/v1/questions/{question_id}", tag = "settings", request_body = SettingPatchBody, responses((status = 200, body = wire::QuestionJson)))]
pub(super) async fn update_question(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<QuestionId>, ApiJson(patch): ApiJson<Patch>) -> ApiResult<Json<wire::QuestionJson>> {
    Ok(Json(wire::question(&state.app.update_question(&caller, id, setting_patch(&patch)?).await?)))
}

#[utoipa::path(delete, path = "/api/v1/questions/{question_id}", tag = "settings", responses((status = 200, body = wire::QuestionJson)))]
pub(super) async fn delete_question(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<QuestionId>) -> ApiResult<Json<wire::QuestionJson>> {
    Ok(Json(wire::question(&state.app.delete_question(&caller, id).await?)))
}

#[utoipa::path(post, path = "/api/v1/datasets/{dataset_id}/metadata-properties", tag = "settings", request_body = NewMetadataBody, responses((status = 201, body = wire::MetadataPropertyJson)))]
pub(super) async fn create_metadata_property(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>, ApiJson(body): ApiJson<NewMetadataBody>) -> ApiResult<(StatusCode, Json<wire::MetadataPropertyJson>)> {
    let new = NewMetadataProperty { name: body.name, title: body.title, settings: body.settings, visible_for_annotators: body.visible_for_annotators.unwrap_or(true) };
    Ok((StatusCode::CREATED, Json(wire::metadata_property(&state.app.create_metadata_property(&caller, id, new).await?))))
}

/// The metadata properties the caller sees (annotators: those visible to them).
#[utoipa::path(get, path = "/api/v1/me/datasets/{dataset_id}/metadata-properties", tag = "settings", responses((status = 200, body = wire::Items<wire::MetadataPropertyJson>)))]
pub(super) async fn list_metadata_properties(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>) -> ApiResult<Json<wire::Items<wire::MetadataPropertyJson>>> {
    Ok(Json(wire::items(&state.app.list_metadata_properties(&caller, id).await?, wire::metadata_property)))
}

#[utoipa::path(patch, path = "/api/v1/metadata-properties/{property_id}", tag = "settings", request_body = SettingPatchBody, responses((status = 200, body = wire::MetadataPropertyJson)))]
pub(super) async fn update_metadata_property(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<MetadataPropertyId>, ApiJson(patch): ApiJson<Patch>) -> ApiResult<Json<wire::MetadataPropertyJson>> {
    Ok(Json(wire::metadata_property(&state.app.update_metadata_property(&caller, id, setting_patch(&patch)?).await?)))
}

#[utoipa::path(delete, path = "/api/v1/metadata-properties/{property_id}", tag = "settings", responses((status = 200, body = wire::MetadataPropertyJson)))]
pub(super) async fn delete_metadata_property(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<MetadataPropertyId>) -> ApiResult<Json<wire::MetadataPropertyJson>> {
    Ok(Json(wire::metadata_property(&state.app.delete_metadata_property(&caller, id).await?)))
}

/// A terms property's terms with their counts, or a number property's range.
#[utoipa::path(get, path = "/api/v1/metadata-properties/{property_id}/metrics", tag = "settings", responses((status = 200, body = wire::MetadataMetricsJson)))]
pub(super) async fn metadata_property_metrics(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<MetadataPropertyId>) -> ApiResult<Json<wire::MetadataMetricsJson>> {
    let (property, summary) = state.app.metadata_property_metrics(&caller, id).await?;
    Ok(Json(match summary {
        MetadataSummary::Terms(counts) => {
            let values: Vec<wire::TermCount> = counts.into_iter().map(|(term, count)| wire::TermCount { term, count }).collect();
            wire::MetadataMetricsJson::Terms { kind: "terms", total: values.len(), values }
        }
        MetadataSummary::Range { min, max } => wire::MetadataMetricsJson::Range { kind: property.settings.type_name(), min, max },
    }))
}

#[utoipa::path(get, path = "/api/v1/datasets/{dataset_id}/vectors-settings", tag = "settings", responses((status = 200, body = wire::Items<wire::VectorSettingsJson>)))]
pub(super) async fn list_vector_settings(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>) -> ApiResult<Json<wire::Items<wire::VectorSettingsJson>>> {
    Ok(Json(wire::items(&state.app.list_vector_settings(&caller, id).await?, wire::vector_settings)))
}

#[utoipa::path(post, path = "/api/v1/datasets/{dataset_id}/vectors-settings", tag = "settings", request_body = NewVectorSettingsBody, responses((status = 201, body = wire::VectorSettingsJson)))]
pub(super) async fn create_vector_settings(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>, ApiJson(body): ApiJson<NewVectorSettingsBody>) -> ApiResult<(StatusCode, Json<wire::VectorSettingsJson>)> {
    let new = NewVectorSettings { name: body.name, title: body.title, dimensions: body.dimensions };
    Ok((StatusCode::CREATED, Json(wire::vector_settings(&state.app.create_vector_settings(&caller, id, new).await?))))
}

#[utoipa::path(patch, path = "/api/v1/vectors-settings/{vector_settings_id}", tag = "settings", request_body = SettingPatchBody, responses((status = 200, body = wire::VectorSettingsJson)))]
pub(super) async fn update_vector_settings(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<VectorSettingsId>, ApiJson(patch): ApiJson<Patch>) -> ApiResult<Json<wire::VectorSettingsJson>> {
    Ok(Json(wire::vector_settings(&state.app.update_vector_settings(&caller, id, setting_patch(&patch)?).await?)))
}

#[utoipa::path(delete, path = "/api/v1/vectors-settings/{vector_settings_id}", tag = "settings", responses((status = 200, body = wire::VectorSettingsJson)))]
pub(super) async fn delete_vector_settings(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<VectorSettingsId>) -> ApiResult<Json<wire::VectorSettingsJson>> {
    Ok(Json(wire::vector_settings(&state.app.delete_vector_settings(&caller, id).await?)))
}
