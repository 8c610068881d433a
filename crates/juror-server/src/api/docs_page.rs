//! `GET /api/v1/docs`: the OpenAPI document as a page people read, rendered on the server from
//! the same document (no script, nothing fetched from elsewhere): each operation by tag with its
//! parameters, request body and answers, and every schema with its properties.

use axum::response::{IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::Schema;
use utoipa::openapi::{RefOr, Required};

use super::openapi::document;
use crate::ui::markdown;

/// The API's reference, as a page.
#[utoipa::path(get, path = "/api/v1/docs", tag = "documentation", security(()), responses((status = 200, description = "An HTML page", content_type = "text/html")))]
pub(super) async fn page() -> Response {
    static PAGE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let page = PAGE.get_or_init(|| render().into_string());
    axum::response::Html(page.as_str()).into_response()
}

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn render() -> Markup {
    let api = document();
    let tags = api.tags.clone().unwrap_or_default();
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "Juror API" }
                link rel="stylesheet" href="/assets/app.css";
            }
            body.docs {
                main {
                    h1 { (api.info.title) " API " small { (api.info.version) } }
                    (markdown::render(&api.info.description.clone().unwrap_or_default()))
                    p { "Every call but the status ones takes a user's API key in the " code { "X-Argilla-Api-Key" } " header. The machine-readable document is " a href="/api/v1/openapi.json" { "/api/v1/openapi.json" } " (OpenAPI 3.1)." }
                    nav {
                        ul {
                            @for tag in &tags {
                                li { a href={ "#tag-" (tag.name) } { (tag.name) } }
                            }
                            li { a href="#schemas" { "schemas" } }
                        }
                    }
                    @for tag in &tags {
                        section id={ "tag-" (tag.name) } {
                            h2 { (tag.name) }
                            (markdown::render(&tag.description.clone().unwrap_or_default()))
                            @for (path, item) in &api.paths.paths {
                                @for (method, operation) in operations(item) {
                                    @if operation.tags.as_ref().is_some_and(|tags| tags.contains(&tag.name)) {
                                        (render_operation(method, path, operation))
                                    }
                                }
                            }
                        }
                    }
                    section id="schemas" {
                        h2 { "schemas" }
                        @if let Some(components) = &api.components {
                            @for (name, schema) in &components.schemas {
                                (render_schema(name, schema))
                            }
                        }
                    }
                }
            }
        }
    }
}

fn operations(item: &utoipa::openapi::path::PathItem) -> Vec<(&'static str, &Operation)> {
    let all = [&item.get, &item.post, &item.put, &item.patch, &item.delete];
    METHODS.iter().zip(all).filter_map(|(method, operation)| operation.as_ref().map(|operation| (*method, operation))).collect()
}

fn type_of(schema: &RefOr<Schema>) -> String {
    match schema {
        RefOr::Ref(reference) => reference.ref_location.rsplit('/').next().unwrap_or_default().to_owned(),
        RefOr::T(Schema::Object(object)) => serde_json::to_value(&object.schema_type).ok().map(|kind| kind.to_string().replace('"', "")).unwrap_or_else(|| "object".into()),
        RefOr::T(Schema::Array(array)) => match &array.items {
            utoipa::openapi::schema::ArrayItems::RefOrSchema(items) => format!("[{}]", type_of(items)),
            utoipa::openapi::schema::ArrayItems::False => "[]".into(),
        },
        RefOr::T(_) => "one of several".into(),
    }
}

fn render_operation(method: &str, path: &str, operation: &Operation) -> Markup {
    html! {
        article.operation id=(operation.operation_id.clone().unwrap_or_default()) {
            h3 { code { (method.to_uppercase()) " " (path) } }
            @if let Some(summary) = &operation.summary { (markdown::render(summary)) }
            @if let Some(description) = &operation.description { (markdown::render(description)) }
            @if let Some(parameters) = &operation.parameters {
                @if !parameters.is_empty() {
                    table {
                        tr { th { "parameter" } th { "in" } th { "type" } th { "" } }
                        @for parameter in parameters {
                            tr {
                                td { code { (parameter.name) } @if parameter.required == Required::True { " *" } }
                                td { (match parameter.parameter_in { ParameterIn::Path => "path", ParameterIn::Query => "query", ParameterIn::Header => "header", ParameterIn::Cookie => "cookie" }) }
                                td { (parameter.schema.as_ref().map(type_of).unwrap_or_default()) }
                                td { (markdown::render(&parameter.description.clone().unwrap_or_default())) }
                            }
                        }
                    }
                }
            }
            @if let Some(body) = &operation.request_body {
                p { "Body: " @for (kind, content) in &body.content { code { (kind) } " " (content.schema.as_ref().map(type_of).unwrap_or_default()) } }
            }
            ul {
                @for (status, answer) in &operation.responses.responses {
                    li {
                        code { (status) } " "
                        @match answer {
                            RefOr::T(answer) => {
                                (answer.description) " "
                                @for (kind, content) in &answer.content { code { (kind) } " " (content.schema.as_ref().map(type_of).unwrap_or_default()) }
                            }
                            RefOr::Ref(reference) => (reference.ref_location),
                        }
                    }
                }
            }
        }
    }
}

fn render_schema(name: &str, schema: &RefOr<Schema>) -> Markup {
    html! {
        article.schema id={ "schema-" (name) } {
            h3 { (name) }
            @if let RefOr::T(Schema::Object(object)) = schema {
                @if let Some(description) = &object.description { (markdown::render(description)) }
                @if !object.properties.is_empty() {
                    table {
                        tr { th { "property" } th { "type" } th { "" } }
                        @for (property, value) in &object.properties {
                            tr {
                                td { code { (property) } @if object.required.contains(property) { " *" } }
                                td { (type_of(value)) }
                                td { @if let RefOr::T(Schema::Object(inner)) = value { (markdown::render(&inner.description.clone().unwrap_or_default())) } }
                            }
                        }
                    }
                }
            } @else {
                p { (type_of(schema)) }
            }
        }
    }
}
