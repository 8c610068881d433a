//! Dataset settings: `/fields`, `/questions`, `/metadata-properties` and `/vectors-settings`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use juror_app::{NewField, NewMetadataProperty, NewQuestion, NewVectorSettings, SettingPatch};
use juror_core::ids::{DatasetId, FieldId, MetadataPropertyId, QuestionId, VectorSettingsId};
use juror_core::metadata::MetadataSummary;
use serde::Deserialize;
use serde_json::{json, Value};

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

#[derive(Deserialize)]
struct NewFieldBody {
    name: String,
    title: String,
    required: Option<bool>,
    settings: Value,
}

#[derive(Deserialize)]
struct NewQuestionBody {
    name: String,
    title: String,
    description: Option<String>,
    required: Option<bool>,
    settings: Value,
}

#[derive(Deserialize)]
struct NewMetadataBody {
    name: String,
    title: String,
    settings: Value,
    visible_for_annotators: Option<bool>,
}

#[derive(Deserialize)]
struct NewVectorSettingsBody {
    name: String,
    title: String,
    dimensions: i64,
}

fn setting_patch(patch: &Patch) -> ApiResult<SettingPatch> {
    Ok(SettingPatch {
        title: string_key(patch, "title")?,
        description: nullable_string_key(patch, "description")?,
        settings: required_key(patch, "settings")?.cloned(),
        visible_for_annotators: bool_key(patch, "visible_for_annotators")?,
    })
}

async fn list_fields(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>) -> ApiResult<Json<Value>> {
    Ok(Json(wire::items(&state.app.list_fields(&caller, id).await?, wire::field)))
}

async fn create_field(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>, ApiJson(body): ApiJson<NewFieldBody>) -> ApiResult<(StatusCode, Json<Value>)> {
    let new = NewField { name: body.name, title: body.title, required: body.required.unwrap_or(false), settings: body.settings };
    Ok((StatusCode::CREATED, Json(wire::field(&state.app.create_field(&caller, id, new).await?))))
}

async fn update_field(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<FieldId>, ApiJson(patch): ApiJson<Patch>) -> ApiResult<Json<Value>> {
    Ok(Json(wire::field(&state.app.update_field(&caller, id, setting_patch(&patch)?).await?)))
}

async fn delete_field(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<FieldId>) -> ApiResult<Json<Value>> {
    Ok(Json(wire::field(&state.app.delete_field(&caller, id).await?)))
}

async fn list_questions(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>) -> ApiResult<Json<Value>> {
    Ok(Json(wire::items(&state.app.list_questions(&caller, id).await?, wire::question)))
}

async fn create_question(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>, ApiJson(body): ApiJson<NewQuestionBody>) -> ApiResult<(StatusCode, Json<Value>)> {
    let new = NewQuestion { name: body.name, title: body.title, description: body.description, required: body.required.unwrap_or(false), settings: body.settings };
    Ok((StatusCode::CREATED, Json(wire::question(&state.app.create_question(&caller, id, new).await?))))
}

async fn update_question(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<QuestionId>, ApiJson(patch): ApiJson<Patch>) -> ApiResult<Json<Value>> {
    Ok(Json(wire::question(&state.app.update_question(&caller, id, setting_patch(&patch)?).await?)))
}

async fn delete_question(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<QuestionId>) -> ApiResult<Json<Value>> {
    Ok(Json(wire::question(&state.app.delete_question(&caller, id).await?)))
}

async fn create_metadata_property(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>, ApiJson(body): ApiJson<NewMetadataBody>) -> ApiResult<(StatusCode, Json<Value>)> {
    let new = NewMetadataProperty { name: body.name, title: body.title, settings: body.settings, visible_for_annotators: body.visible_for_annotators.unwrap_or(true) };
    Ok((StatusCode::CREATED, Json(wire::metadata_property(&state.app.create_metadata_property(&caller, id, new).await?))))
}

async fn list_metadata_properties(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>) -> ApiResult<Json<Value>> {
    Ok(Json(wire::items(&state.app.list_metadata_properties(&caller, id).await?, wire::metadata_property)))
}

async fn update_metadata_property(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<MetadataPropertyId>, ApiJson(patch): ApiJson<Patch>) -> ApiResult<Json<Value>> {
    Ok(Json(wire::metadata_property(&state.app.update_metadata_property(&caller, id, setting_patch(&patch)?).await?)))
}

async fn delete_metadata_property(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<MetadataPropertyId>) -> ApiResult<Json<Value>> {
    Ok(Json(wire::metadata_property(&state.app.delete_metadata_property(&caller, id).await?)))
}

async fn metadata_property_metrics(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<MetadataPropertyId>) -> ApiResult<Json<Value>> {
    let (property, summary) = state.app.metadata_property_metrics(&caller, id).await?;
    Ok(Json(match summary {
        MetadataSummary::Terms(counts) => {
            let values: Vec<Value> = counts.iter().map(|(term, count)| json!({"term": term, "count": count})).collect();
            json!({"type": "terms", "total": values.len(), "values": values})
        }
        MetadataSummary::Range { min, max } => json!({"type": property.settings.type_name(), "min": min, "max": max}),
    }))
}

async fn list_vector_settings(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>) -> ApiResult<Json<Value>> {
    Ok(Json(wire::items(&state.app.list_vector_settings(&caller, id).await?, wire::vector_settings)))
}

async fn create_vector_settings(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>, ApiJson(body): ApiJson<NewVectorSettingsBody>) -> ApiResult<(StatusCode, Json<Value>)> {
    let new = NewVectorSettings { name: body.name, title: body.title, dimensions: body.dimensions };
    Ok((StatusCode::CREATED, Json(wire::vector_settings(&state.app.create_vector_settings(&caller, id, new).await?))))
}

async fn update_vector_settings(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<VectorSettingsId>, ApiJson(patch): ApiJson<Patch>) -> ApiResult<Json<Value>> {
    Ok(Json(wire::vector_settings(&state.app.update_vector_settings(&caller, id, setting_patch(&patch)?).await?)))
}

async fn delete_vector_settings(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<VectorSettingsId>) -> ApiResult<Json<Value>> {
    Ok(Json(wire::vector_settings(&state.app.delete_vector_settings(&caller, id).await?)))
}
