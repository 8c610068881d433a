//! Response validation on `POST /api/v1/records/{id}/responses`: question names, the ranking
//! rules for submitted answers, and strict ratings. A refused response is not stored.

use serde_json::{json, Value};

use crate::helpers::{assert_invalid, ranking, TestApp, TestUser};

/// A server with an annotator in the owner's workspace and one record to answer.
async fn with_record() -> (TestApp, TestUser, String) {
    let (app, annotator, _, dataset_id) = TestApp::with_annotator().await;
    let record_id = app.create_record(&dataset_id).await;
    (app, annotator, record_id)
}

async fn respond(
    app: &TestApp,
    annotator: &TestUser,
    record_id: &str,
    body: &Value,
) -> crate::helpers::Answer {
    app.with_key(&annotator.api_key)
        .post(&format!("/api/v1/records/{record_id}/responses"), body)
        .await
}

fn submitted(values: Value) -> Value {
    json!({"status": "submitted", "values": values})
}

fn preference(entries: &[(&str, Value)]) -> Value {
    json!({"preference": {"value": ranking(entries)}})
}

/// Submits `body`, expects a 422 whose message contains `expected`, and checks nothing was stored.
async fn assert_rejected(body: Value, expected: &str) {
    let (app, annotator, record_id) = with_record().await;

    let answer = respond(&app, &annotator, &record_id, &body).await;

    let message = assert_invalid(&answer);
    assert!(
        message.contains(expected),
        "expected `{expected}` in `{message}`"
    );
    assert!(app.responses_of(&record_id).await.is_empty());
    assert_eq!(app.record(&record_id).await["status"], "pending");
}

#[tokio::test]
async fn a_response_to_an_unknown_question_is_rejected() {
    let mut values = preference(&[("response-1", json!(1)), ("response-2", json!(2))]);
    values["nope"] = json!({"value": "x"});

    assert_rejected(
        submitted(values),
        "found responses for non configured questions: ['nope']",
    )
    .await;
}

#[tokio::test]
async fn a_submitted_ranking_missing_an_option_is_rejected() {
    assert_rejected(
        submitted(preference(&[("response-1", json!(1))])),
        "ranking question expects a list containing all the values",
    )
    .await;
}

#[tokio::test]
async fn a_submitted_ranking_with_rank_zero_is_rejected() {
    assert_rejected(
        submitted(preference(&[
            ("response-1", json!(0)),
            ("response-2", json!(1)),
        ])),
        "[0] are not valid ranks",
    )
    .await;
}

#[tokio::test]
async fn a_submitted_ranking_with_a_rank_above_the_option_count_is_rejected() {
    assert_rejected(
        submitted(preference(&[
            ("response-1", json!(1)),
            ("response-2", json!(3)),
        ])),
        "[3] are not valid ranks for ranking question. valid ranks are 1 to 2",
    )
    .await;
}

#[tokio::test]
async fn a_submitted_ranking_without_ranks_is_rejected() {
    assert_rejected(
        submitted(preference(&[
            ("response-1", Value::Null),
            ("response-2", Value::Null),
        ])),
        "[None, None] are not valid ranks",
    )
    .await;
}

#[tokio::test]
async fn a_ranking_with_a_value_outside_the_options_is_rejected() {
    assert_rejected(
        submitted(preference(&[
            ("response-1", json!(1)),
            ("response-3", json!(2)),
        ])),
        "are not valid options for this question",
    )
    .await;
}

#[tokio::test]
async fn a_submitted_response_without_the_required_question_is_rejected() {
    assert_rejected(
        submitted(json!({"quality": {"value": 3}})),
        "missing response value for required question with name=preference",
    )
    .await;
}

#[tokio::test]
async fn a_rating_given_as_a_string_is_rejected() {
    let mut values = preference(&[("response-1", json!(1)), ("response-2", json!(2))]);
    values["quality"] = json!({"value": "3"});

    assert_rejected(
        submitted(values),
        "rating question expects an integer value",
    )
    .await;
}

#[tokio::test]
async fn a_rating_outside_the_options_is_rejected() {
    let mut values = preference(&[("response-1", json!(1)), ("response-2", json!(2))]);
    values["quality"] = json!({"value": 6});

    assert_rejected(
        submitted(values),
        "6 is not a valid rating for rating question",
    )
    .await;
}

#[tokio::test]
async fn a_submitted_ranking_with_a_tie_is_accepted() {
    let (app, annotator, record_id) = with_record().await;
    let mut values = preference(&[("response-1", json!(1)), ("response-2", json!(1))]);
    values["quality"] = json!({"value": 5});

    let answer = respond(&app, &annotator, &record_id, &submitted(values.clone())).await;

    assert_eq!(answer.status, 201, "{answer:?}");
    assert_eq!(answer.body["values"], values);
    assert_eq!(answer.body["status"], "submitted");
    let stored = app.responses_of(&record_id).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["values"], values);
    assert_eq!(app.record(&record_id).await["status"], "completed");
}

#[tokio::test]
async fn a_draft_ranking_may_be_partial() {
    let (app, annotator, record_id) = with_record().await;
    let values = preference(&[("response-2", Value::Null)]);

    let answer = respond(
        &app,
        &annotator,
        &record_id,
        &json!({"status": "draft", "values": values}),
    )
    .await;

    assert_eq!(answer.status, 201, "{answer:?}");
    assert_eq!(answer.body["status"], "draft");
    assert_eq!(app.record(&record_id).await["status"], "pending");
}

#[tokio::test]
async fn an_unknown_response_status_is_a_validation_error() {
    let (app, annotator, record_id) = with_record().await;

    let answer = respond(
        &app,
        &annotator,
        &record_id,
        &json!({"status": "finished", "values": {}}),
    )
    .await;

    let error = crate::helpers::assert_request_invalid(&answer);
    assert_eq!(error["loc"], json!(["body", "status"]));
    assert!(app.responses_of(&record_id).await.is_empty());
}

#[tokio::test]
async fn annotator_cannot_change_another_users_response() {
    let (app, annotator, record_id) = with_record().await;
    let owners = app
        .owner()
        .post(
            &format!("/api/v1/records/{record_id}/responses"),
            &crate::helpers::submitted_response(),
        )
        .await;
    assert_eq!(owners.status, 201, "{owners:?}");
    let path = format!("/api/v1/responses/{}", owners.body["id"].as_str().unwrap());

    crate::helpers::assert_forbidden(
        &app.with_key(&annotator.api_key)
            .put(&path, &json!({"status": "discarded"}))
            .await,
    );
    crate::helpers::assert_forbidden(&app.with_key(&annotator.api_key).delete(&path).await);

    let stored = app.responses_of(&record_id).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["status"], "submitted");
}

#[tokio::test]
async fn bulk_responses_report_failures_per_item() {
    let (app, annotator, record_id) = with_record().await;
    let unknown_record = uuid::Uuid::new_v4().to_string();
    let good = json!({"record_id": record_id, "status": "submitted", "values": preference(&[("response-1", json!(2)), ("response-2", json!(1))])});
    let bad = json!({"record_id": unknown_record, "status": "discarded"});

    let answer = app
        .with_key(&annotator.api_key)
        .post("/api/v1/me/responses/bulk", &json!({"items": [good, bad]}))
        .await;

    assert_eq!(answer.status, 200, "{answer:?}");
    let items = answer.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["error"], Value::Null);
    assert_eq!(items[0]["item"]["record_id"], record_id.as_str());
    assert_eq!(items[0]["item"]["user_id"], annotator.id.as_str());
    assert_eq!(items[1]["item"], Value::Null);
    assert!(
        items[1]["error"]["detail"]
            .as_str()
            .is_some_and(|detail| detail.contains(&unknown_record)),
        "{answer:?}"
    );
    assert_eq!(app.responses_of(&record_id).await.len(), 1);
    assert_eq!(app.record(&record_id).await["status"], "completed");
}
