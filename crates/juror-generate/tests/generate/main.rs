//! The generator against real HTTP servers on loopback that answer the way model servers do when
//! they are busy, failing or misconfigured. The run against a real llama-server is
//! `tests/sdk/test_generate.py`.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use juror_generate::{generate, Api, Client, ClientError, RetryPolicy, Sampling, Settings, Strategy, Target};
use serde_json::{json, Value};

/// How the test server answers the n-th chat request (0-based).
type Script = fn(u32, &Value) -> Response;

#[derive(Clone)]
struct Server {
    calls: Arc<AtomicU32>,
    script: Script,
}

async fn chat(State(server): State<Server>, Json(body): Json<Value>) -> Response {
    let call = server.calls.fetch_add(1, Ordering::SeqCst);
    (server.script)(call, &body)
}

async fn models() -> Json<Value> {
    Json(json!({"object": "list", "data": [{"id": "tiny-chat", "object": "model"}]}))
}

/// Starts a server on a free port; returns its base URL and its call counter.
async fn serve(script: Script) -> (String, Arc<AtomicU32>) {
    let calls = Arc::new(AtomicU32::new(0));
    let app = Router::new()
        .route("/v1/chat/completions", post(chat))
        .route("/v1/models", get(models))
        .with_state(Server { calls: calls.clone(), script });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, calls)
}

fn completion(texts: &[&str]) -> Response {
    let choices: Vec<Value> = texts.iter().map(|text| json!({"message": {"role": "assistant", "content": text}, "finish_reason": "stop"})).collect();
    Json(json!({"choices": choices, "usage": {"prompt_tokens": 7, "completion_tokens": 11}})).into_response()
}

fn target(url: &str) -> Target {
    Target { endpoint: url.to_owned(), model: "tiny-chat".into() }
}

fn client(max_retries: u32) -> Client {
    Client::new(None, Duration::from_secs(10), RetryPolicy { max_retries, base: Duration::from_millis(20), max_delay: Duration::from_secs(5) }).unwrap()
}

fn settings(url: &str, strategy: Strategy) -> Settings {
    Settings {
        strategy,
        targets: vec![target(url)],
        api: Api::Chat,
        system: None,
        sampling: Sampling { temperature: Some(0.7), seed: Some(1), ..Sampling::default() },
        per_request: 1,
        similarity_threshold: 0.9,
        max_regenerations: 2,
        reward: None,
    }
}

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out_then_retried() {
    let (url, calls) = serve(|call, _| {
        if call == 0 {
            (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "1")], "slow down").into_response()
        } else {
            completion(&["fine"])
        }
    })
    .await;
    let client = client(3);
    let started = Instant::now();
    let answer = client.complete(&target(&url), Api::Chat, None, "hi", &Sampling::default(), 1).await.unwrap();
    let waited = started.elapsed();
    assert_eq!(answer[0].text, "fine");
    assert_eq!(answer[0].attempts, 2);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert!(waited >= Duration::from_secs(1), "the Retry-After of 1 s was not honoured: {waited:?}");
    assert!(waited < Duration::from_secs(3), "waited far longer than asked: {waited:?}");
    assert_eq!(client.retries(), 1);
}

#[tokio::test]
async fn server_errors_are_retried_and_client_errors_are_not() {
    let (url, calls) = serve(|call, _| if call < 2 { (StatusCode::SERVICE_UNAVAILABLE, "loading model").into_response() } else { completion(&["ok"]) }).await;
    let answer = client(3).complete(&target(&url), Api::Chat, None, "hi", &Sampling::default(), 1).await.unwrap();
    assert_eq!((answer[0].text.as_str(), answer[0].attempts), ("ok", 3));
    assert_eq!(calls.load(Ordering::SeqCst), 3);

    let (url, calls) = serve(|_, _| (StatusCode::BAD_REQUEST, "context too long").into_response()).await;
    let error = client(3).complete(&target(&url), Api::Chat, None, "hi", &Sampling::default(), 1).await.unwrap_err();
    assert!(matches!(error, ClientError::Status { status: 400, attempts: 1, .. }), "{error}");
    assert!(error.to_string().contains("context too long"));
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    let (url, _) = serve(|_, _| (StatusCode::SERVICE_UNAVAILABLE, "down").into_response()).await;
    let error = client(2).complete(&target(&url), Api::Chat, None, "hi", &Sampling::default(), 1).await.unwrap_err();
    assert!(matches!(error, ClientError::Status { status: 503, attempts: 3, .. }), "{error}");
}

#[tokio::test]
async fn a_wrong_model_or_endpoint_is_a_clear_error() {
    let (url, _) = serve(|_, _| completion(&["unused"])).await;
    let client = client(1);
    client.check_model(&target(&url)).await.unwrap();
    let wrong = Target { endpoint: url.clone(), model: "gpt-nine".into() };
    let error = client.check_model(&wrong).await.unwrap_err();
    assert_eq!(error.to_string(), format!("model `gpt-nine` is not served at {url}; it serves: tiny-chat"));

    // A port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let error = client.complete(&target(&format!("http://{closed}")), Api::Chat, None, "hi", &Sampling::default(), 1).await.unwrap_err();
    assert!(matches!(error, ClientError::Unreachable { attempts: 2, .. }), "{error}");
    assert!(error.to_string().contains("could not reach"), "{error}");
}

#[tokio::test]
async fn near_duplicates_are_regenerated_with_new_seeds() {
    // The first two answers are the same; the third (the regeneration) differs.
    let (url, calls) = serve(|call, body| {
        let text = if call < 2 { "The answer is forty two, as everyone knows." } else { "Nobody can say for sure; it depends on the question." };
        assert!(body["seed"].is_u64());
        completion(&[text])
    })
    .await;
    let generated = generate(&client(0), &settings(&url, Strategy::Samples { count: 2 }), "What is the answer?").await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert_eq!(generated.regenerations, 1);
    assert!(!generated.near_duplicate);
    assert!(generated.similarity < 0.9);
    assert_ne!(generated.candidates[0].text(), generated.candidates[1].text());
    let seeds: Vec<Option<u64>> = generated.candidates.iter().map(|candidate| candidate.sampling.seed).collect();
    assert_eq!(seeds, vec![Some(1), Some(1002)], "the regenerated candidate got a new seed");
    let provenance = generated.candidates[1].provenance(Api::Chat);
    assert_eq!(provenance["model"], "tiny-chat");
    assert_eq!(provenance["params"]["temperature"], 0.7);
    assert_eq!(provenance["completion_tokens"], 11);
    assert_eq!(provenance["finish_reason"], "stop");
}

#[tokio::test]
async fn what_stays_similar_is_flagged() {
    let (url, _) = serve(|_, _| completion(&["Always the very same words in this reply."])).await;
    let generated = generate(&client(0), &settings(&url, Strategy::Samples { count: 2 }), "Say it").await.unwrap();
    assert_eq!(generated.regenerations, 2);
    assert!(generated.near_duplicate);
    assert_eq!(generated.similarity, 1.0);
    assert_eq!(generated.generated, 4);
}

#[tokio::test]
async fn best_of_k_keeps_the_pair_that_differs_most() {
    let (url, _) = serve(|call, _| {
        let texts = ["red green blue yellow", "red green blue orange", "completely different words entirely here", "red green blue purple"];
        completion(&[texts[call as usize % 4]])
    })
    .await;
    let generated = generate(&client(0), &settings(&url, Strategy::BestOfK { k: 4 }), "Colours?").await.unwrap();
    assert_eq!(generated.candidates.len(), 2);
    assert_eq!(generated.generated, 4);
    assert!(generated.candidates.iter().any(|candidate| candidate.text() == "completely different words entirely here"));
    assert_eq!(generated.similarity, 0.0);
}

/// Scores a response by how many words it has.
struct WordCount;

impl juror_generate::Ranker for WordCount {
    fn scores(&self, _prompt: &str, responses: &[&str]) -> Result<Vec<f32>, String> {
        Ok(responses.iter().map(|response| response.split_whitespace().count() as f32).collect())
    }
}

#[tokio::test]
async fn best_of_k_with_a_reward_model_keeps_its_extremes_or_its_closest_pair() {
    let (url, _) = serve(|call, _| completion(&[["one two", "one two three four five six", "alpha", "uno dos tres"][call as usize % 4]])).await;
    let mut settings = settings(&url, Strategy::BestOfK { k: 4 });
    let ranker: std::sync::Arc<dyn juror_generate::Ranker> = std::sync::Arc::new(WordCount);
    settings.reward = Some(juror_generate::RewardPick { ranker: ranker.clone(), choice: juror_generate::PairChoice::Extremes });
    let generated = generate(&client(0), &settings, "Count?").await.unwrap();
    let kept: Vec<&str> = generated.candidates.iter().map(|candidate| candidate.text()).collect();
    assert_eq!(kept, vec!["one two three four five six", "alpha"], "the best and the worst, in the order drawn");
    assert_eq!(generated.candidates[0].reward, Some(6.0));
    assert_eq!(generated.candidates[0].provenance(Api::Chat)["reward_score"], 6.0);

    settings.reward = Some(juror_generate::RewardPick { ranker, choice: juror_generate::PairChoice::Closest });
    let generated = generate(&client(0), &settings, "Count?").await.unwrap();
    let kept: Vec<&str> = generated.candidates.iter().map(|candidate| candidate.text()).collect();
    assert_eq!(kept, vec!["one two", "uno dos tres"], "scores 3 and 2 are the closest (as close as 2 and 1: the higher pair wins)");
}

#[tokio::test]
async fn samples_come_n_at_a_time_and_missing_choices_are_topped_up() {
    // The server ignores `n` and answers one choice per request.
    let (url, calls) = serve(|call, _| completion(&[["alpha beta gamma", "delta epsilon zeta", "eta theta iota"][call as usize % 3]])).await;
    let mut settings = settings(&url, Strategy::Samples { count: 3 });
    settings.per_request = 3;
    let generated = generate(&client(0), &settings, "Greek?").await.unwrap();
    assert_eq!(generated.candidates.len(), 3);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}
