//! The OpenAPI 3.1 document of the whole API, `GET /api/v1/openapi.json`, and a page that reads
//! it, `GET /api/v1/docs`.
//!
//! The document is generated: each handler carries its route, parameters and the types of its
//! request and response bodies (`#[utoipa::path]`), and those types derive their schemas
//! (`wire/` for responses, the handlers' bodies for requests). What every operation shares is
//! added here: the path parameters its route names, the API key, and the error answers.

use std::sync::OnceLock;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Serialize;
use serde_json::Value;
use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::openapi::{ContentBuilder, ObjectBuilder, Ref, RefOr, ResponseBuilder, Type};
use utoipa::{Modify, OpenApi, ToSchema};

use super::{audit, datasets, distribution, docs_page, legacy, preferences, progress, quality, records, review, responses, search, settings, status, users, webhooks, workspaces};
use crate::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/api/v1/openapi.json", get(openapi_json)).route("/api/v1/docs", get(docs_page::page))
}

/// An error answer: `detail` is a message, or `{"code", "params"}` (Argilla's coded errors;
/// validation errors list each problem's `loc`, `type` and `msg`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub detail: Value,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Juror",
        description = "Juror's HTTP API: Argilla's `/api/v1` (and the legacy `/api/*` calls of the argilla-v1 SDK), which the official SDKs use unchanged, and Juror's own routes beside it in the same style: workload distribution, preference data, webhook deliveries and the audit log.",
        license(name = "Apache-2.0"),
    ),
    paths(
        status::info,
        status::legacy_status,
        status::version,
        status::status,
        status::settings,
        openapi_json,
        docs_page::page,
        users::get_me,
        users::list_users,
        users::create_user,
        users::get_user,
        users::update_user,
        users::delete_user,
        users::list_user_workspaces,
        users::rotate_api_key,
        workspaces::list_my_workspaces,
        workspaces::create_workspace,
        workspaces::get_workspace,
        workspaces::delete_workspace,
        workspaces::list_members,
        workspaces::add_member,
        workspaces::remove_member,
        datasets::list_my_datasets,
        datasets::create_dataset,
        datasets::get_dataset,
        datasets::update_dataset,
        datasets::publish_dataset,
        datasets::delete_dataset,
        settings::list_fields,
        settings::create_field,
        settings::update_field,
        settings::delete_field,
        settings::list_questions,
        settings::create_question,
        settings::update_question,
        settings::delete_question,
        settings::create_metadata_property,
        settings::list_metadata_properties,
        settings::update_metadata_property,
        settings::delete_metadata_property,
        settings::metadata_property_metrics,
        settings::list_vector_settings,
        settings::create_vector_settings,
        settings::update_vector_settings,
        settings::delete_vector_settings,
        records::list_records,
        records::create_records_deprecated,
        records::update_records_deprecated,
        records::create_records,
        records::upsert_records,
        records::delete_records,
        records::get_record,
        records::update_record,
        records::delete_record,
        search::search_records,
        search::search_my_records,
        responses::create_response,
        responses::update_response,
        responses::delete_response,
        responses::upsert_my_responses,
        responses::list_suggestions,
        responses::upsert_suggestion,
        responses::delete_record_suggestions,
        responses::delete_suggestion,
        progress::dataset_progress,
        progress::users_progress,
        progress::my_metrics,
        distribution::next_record,
        distribution::release_lease,
        distribution::skip_record,
        distribution::list_leases,
        distribution::list_assignments,
        distribution::replace_assignments,
        distribution::split_records,
        distribution::list_quotas,
        distribution::set_quota,
        quality::get_quality,
        quality::set_quality,
        quality::list_labelers,
        quality::resume_labeler,
        quality::list_gold,
        quality::set_gold,
        quality::unset_gold,
        review::list_reviewers,
        review::add_reviewer,
        review::remove_reviewer,
        review::review_queue,
        review::get_adjudication,
        review::adjudicate,
        preferences::preference_metrics,
        preferences::export_preferences,
        webhooks::list_webhooks,
        webhooks::create_webhook,
        webhooks::update_webhook,
        webhooks::delete_webhook,
        webhooks::ping_webhook,
        webhooks::list_deliveries,
        audit::list_audit_events,
        legacy::get_me,
        legacy::list_users,
        legacy::create_user,
        legacy::delete_user,
        legacy::create_workspace,
        legacy::list_members,
        legacy::add_member,
        legacy::remove_member,
    ),
    components(schemas(ErrorBody)),
    modifiers(&Shared),
    tags(
        (name = "status", description = "Health and versions; no API key needed."),
        (name = "users", description = "Accounts and API keys."),
        (name = "workspaces", description = "Workspaces and their members."),
        (name = "datasets", description = "Datasets: create as drafts, publish, change, delete."),
        (name = "settings", description = "A dataset's fields, questions, metadata properties and vector settings."),
        (name = "records", description = "Records: bulk create and upsert, read, search, change, delete."),
        (name = "responses", description = "Labelers' answers to records."),
        (name = "suggestions", description = "Suggested answers (from models or people)."),
        (name = "progress", description = "Progress of a dataset and of each labeler."),
        (name = "distribution", description = "Juror's own: leased hand-outs of the next record, assignments, quotas."),
        (name = "quality", description = "Juror's own: quality control while collecting: adaptive overlap, gold records, labelers' standing, reviewers and final verdicts."),
        (name = "preferences", description = "Juror's own: preference pairs, agreement and bias, and training files."),
        (name = "webhooks", description = "Webhooks (Argilla 2.8's routes) and their deliveries (Juror's own)."),
        (name = "audit", description = "Juror's own: the audit log."),
        (name = "legacy", description = "The `/api/*` calls the argilla-v1 SDK still makes."),
        (name = "documentation", description = "This document, and a page that reads it."),
    ),
)]
struct ApiDoc;

/// The document, generated once.
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOCUMENT: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOCUMENT.get_or_init(ApiDoc::openapi)
}

/// The API's description in OpenAPI 3.1.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "documentation", security(()), responses((status = 200, description = "The OpenAPI document", content_type = "application/json")))]
pub(super) async fn openapi_json() -> Response {
    static JSON: OnceLock<String> = OnceLock::new();
    let body = JSON.get_or_init(|| document().to_pretty_json().unwrap_or_default());
    ([(header::CONTENT_TYPE, "application/json")], body.as_str()).into_response()
}

/// What every operation shares: the path parameters its route names, the API key (except where
/// an operation says it needs none), and the error answers.
struct Shared;

const API_KEY: &str = "api_key";

impl Modify for Shared {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(API_KEY, SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description("X-Argilla-Api-Key", "A user's API key (`juror user add` prints one; owners rotate them)."))));
        openapi.security = Some(vec![utoipa::openapi::security::SecurityRequirement::new(API_KEY, Vec::<String>::new())]);
        for (path, item) in openapi.paths.paths.iter_mut() {
            let names = path_parameters(path);
            for operation in [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch].into_iter().flatten() {
                add_path_parameters(operation, &names);
                add_error_answers(operation, !names.is_empty());
            }
        }
    }
}

/// The `{name}`s of a route, in order.
fn path_parameters(path: &str) -> Vec<String> {
    path.split('/').filter_map(|segment| segment.strip_prefix('{').and_then(|rest| rest.strip_suffix('}'))).map(str::to_owned).collect()
}

fn add_path_parameters(operation: &mut Operation, names: &[String]) {
    let parameters = operation.parameters.get_or_insert_with(Vec::new);
    let declared: Vec<String> = parameters.iter().filter(|parameter| parameter.parameter_in == ParameterIn::Path).map(|parameter| parameter.name.clone()).collect();
    let mut added: Vec<Parameter> = names
        .iter()
        .filter(|name| !declared.contains(name))
        .map(|name| {
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(utoipa::openapi::Required::True)
                .description(Some(format!("The {} (a UUID).", name.trim_end_matches("_id").replace('_', " "))))
                .schema(Some(ObjectBuilder::new().schema_type(Type::String).format(Some(utoipa::openapi::SchemaFormat::Custom("uuid".into())))))
                .build()
        })
        .collect();
    added.append(parameters);
    *parameters = added;
}

fn add_error_answers(operation: &mut Operation, has_path_parameters: bool) {
    let public = operation.security.as_ref().is_some_and(|requirements| requirements.iter().all(|requirement| requirement == &Default::default()));
    if public {
        return;
    }
    let error = |description: &str| {
        RefOr::T(ResponseBuilder::new().description(description).content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build()).build())
    };
    let mut answers = vec![
        ("401", error("No API key, or one that opens no account.")),
        ("403", error("The caller's role may not do this.")),
        ("422", error("The request's body, query or path is not valid; the detail says where and why.")),
    ];
    if has_path_parameters {
        answers.push(("404", error("Nothing with that id, or nothing the caller may see.")));
    }
    for (status, answer) in answers {
        operation.responses.responses.entry(status.to_owned()).or_insert(answer);
    }
}
