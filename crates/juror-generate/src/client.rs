//! One OpenAI-compatible endpoint: chat or text completions, with retries.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use crate::retry::{classify, parse_retry_after, RetryPolicy, Verdict};

/// Which completion API to call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// `/v1/chat/completions`: the prompt is the user's message (instruct and chat models).
    Chat,
    /// `/v1/completions`: the prompt is continued as text (base models).
    Completions,
}

/// A model on a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The server's base URL, with or without the trailing `/v1`.
    pub endpoint: String,
    pub model: String,
}

impl Target {
    /// The URL of an API path under `/v1`.
    fn url(&self, path: &str) -> String {
        let base = self.endpoint.trim_end_matches('/');
        let base = base.strip_suffix("/v1").unwrap_or(base);
        format!("{base}/v1/{path}")
    }
}

/// Sampling parameters; `None` leaves the server's default.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sampling {
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub top_k: Option<u32>,
    pub max_tokens: Option<u32>,
    pub stop: Vec<String>,
    pub seed: Option<u64>,
}

impl Sampling {
    /// The parameters as they are sent (and kept as provenance).
    pub fn to_json(&self) -> Map<String, Value> {
        let mut params = Map::new();
        let mut put = |key: &str, value: Option<Value>| {
            if let Some(value) = value {
                params.insert(key.to_owned(), value);
            }
        };
        put("temperature", self.temperature.map(Value::from));
        put("top_p", self.top_p.map(Value::from));
        put("top_k", self.top_k.map(Value::from));
        put("max_tokens", self.max_tokens.map(Value::from));
        put("stop", (!self.stop.is_empty()).then(|| json!(self.stop)));
        put("seed", self.seed.map(Value::from));
        params
    }
}

/// One generated text with what it cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    pub text: String,
    pub finish_reason: Option<String>,
    /// The request's token counts, as the server reported them (shared by the `n` choices of
    /// one request).
    pub prompt_tokens: Option<u64>,
    pub completion_tokens: Option<u64>,
    /// How many choices the request asked for.
    pub choices_in_request: u32,
    /// From sending the request to reading the answer, of the attempt that succeeded.
    pub latency: Duration,
    /// Attempts made, the successful one included.
    pub attempts: u32,
}

/// Why a request failed for good.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("could not reach {url} after {attempts} attempts: {detail}")]
    Unreachable { url: String, attempts: u32, detail: String },
    #[error("{url} answered {status} after {attempts} attempts: {body}")]
    Status { url: String, status: u16, attempts: u32, body: String },
    #[error("model `{model}` is not served at {endpoint}; it serves: {}", available.join(", "))]
    UnknownModel { model: String, endpoint: String, available: Vec<String> },
    #[error("{url} answered something that is not a completion: {detail}")]
    Malformed { url: String, detail: String },
    #[error("failed to build the HTTP client: {0}")]
    Setup(String),
    #[error("the reward model could not score the candidates: {0}")]
    Reward(String),
}

/// A client for OpenAI-compatible servers, shared by every request of a run.
#[derive(Debug)]
pub struct Client {
    http: reqwest::Client,
    api_key: Option<String>,
    retry: RetryPolicy,
    retries: AtomicU64,
}

impl Client {
    /// A client whose requests give up after `timeout` each, retried by `retry`.
    pub fn new(api_key: Option<String>, timeout: Duration, retry: RetryPolicy) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(|error| ClientError::Setup(error.to_string()))?;
        Ok(Self { http, api_key, retry, retries: AtomicU64::new(0) })
    }

    /// Retries made so far, over all requests.
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// Fails with a clear message when the endpoint cannot be reached or does not serve the
    /// model. Servers without `GET /v1/models` are taken at their word.
    pub async fn check_model(&self, target: &Target) -> Result<(), ClientError> {
        let url = target.url("models");
        let reply = self.send(&url, None).await?;
        if reply.status == 404 || reply.status == 405 {
            return Ok(());
        }
        if !(200..300).contains(&reply.status) {
            return Err(ClientError::Status { url, status: reply.status, attempts: 1, body: excerpt(&reply.body) });
        }
        let listed: Value = serde_json::from_str(&reply.body).map_err(|error| ClientError::Malformed { url: url.clone(), detail: error.to_string() })?;
        let available: Vec<String> = listed["data"].as_array().into_iter().flatten().filter_map(|model| model["id"].as_str().map(str::to_owned)).collect();
        if available.is_empty() || available.iter().any(|id| id == &target.model) {
            return Ok(());
        }
        Err(ClientError::UnknownModel { model: target.model.clone(), endpoint: target.endpoint.clone(), available })
    }

    /// `n` completions of `prompt` (after an optional system message, for chat).
    pub async fn complete(&self, target: &Target, api: Api, system: Option<&str>, prompt: &str, sampling: &Sampling, n: u32) -> Result<Vec<Completion>, ClientError> {
        let mut body = sampling.to_json();
        body.insert("model".into(), json!(target.model));
        if n > 1 {
            body.insert("n".into(), json!(n));
        }
        let url = match api {
            Api::Chat => {
                let mut messages = Vec::new();
                if let Some(system) = system {
                    messages.push(json!({"role": "system", "content": system}));
                }
                messages.push(json!({"role": "user", "content": prompt}));
                body.insert("messages".into(), Value::Array(messages));
                target.url("chat/completions")
            }
            Api::Completions => {
                body.insert("prompt".into(), json!(prompt));
                target.url("completions")
            }
        };
        let body = Value::Object(body);
        let mut retry = 0;
        loop {
            let started = Instant::now();
            let (wait, failure) = match self.send(&url, Some(&body)).await {
                Ok(reply) if (200..300).contains(&reply.status) => return parse(&url, api, &reply.body, n, started.elapsed(), retry + 1),
                Ok(reply) => {
                    let failure = ClientError::Status { url: url.clone(), status: reply.status, attempts: retry + 1, body: excerpt(&reply.body) };
                    match classify(reply.status, reply.retry_after) {
                        Verdict::Fatal => return Err(failure),
                        Verdict::Retry => (None, failure),
                        Verdict::RetryAfter(after) => (after, failure),
                    }
                }
                Err(ClientError::Unreachable { url, detail, .. }) => (None, ClientError::Unreachable { url, attempts: retry + 1, detail }),
                Err(error) => return Err(error),
            };
            if retry >= self.retry.max_retries {
                return Err(failure);
            }
            self.retries.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(self.retry.delay(retry, wait, rand::random::<f64>())).await;
            retry += 1;
        }
    }

    /// One attempt: GET without a body, POST with one. Transport failures (refused, reset,
    /// timed out) are `Unreachable`.
    async fn send(&self, url: &str, body: Option<&Value>) -> Result<Reply, ClientError> {
        let request = match body {
            Some(body) => self.http.post(url).json(body),
            None => self.http.get(url),
        };
        let request = match &self.api_key {
            Some(key) => request.bearer_auth(key),
            None => request,
        };
        let unreachable = |error: reqwest::Error| ClientError::Unreachable { url: url.to_owned(), attempts: 1, detail: describe(&error) };
        let response = request.send().await.map_err(unreachable)?;
        let status = response.status().as_u16();
        let retry_after = response.headers().get("retry-after").and_then(|value| value.to_str().ok()).and_then(parse_retry_after);
        let body = response.text().await.map_err(unreachable)?;
        Ok(Reply { status, retry_after, body })
    }
}

/// What one attempt got back.
struct Reply {
    status: u16,
    retry_after: Option<Duration>,
    body: String,
}

/// The completions of a successful answer.
fn parse(url: &str, api: Api, body: &str, n: u32, latency: Duration, attempts: u32) -> Result<Vec<Completion>, ClientError> {
    let malformed = |detail: &str| ClientError::Malformed { url: url.to_owned(), detail: detail.to_owned() };
    let answer: Value = serde_json::from_str(body).map_err(|error| malformed(&error.to_string()))?;
    let usage = &answer["usage"];
    let choices = answer["choices"].as_array().filter(|choices| !choices.is_empty()).ok_or_else(|| malformed("no `choices`"))?;
    choices
        .iter()
        .map(|choice| {
            let text = match api {
                Api::Chat => choice["message"]["content"].as_str(),
                Api::Completions => choice["text"].as_str(),
            };
            Ok(Completion {
                text: text.ok_or_else(|| malformed("a choice without text"))?.to_owned(),
                finish_reason: choice["finish_reason"].as_str().map(str::to_owned),
                prompt_tokens: usage["prompt_tokens"].as_u64(),
                completion_tokens: usage["completion_tokens"].as_u64(),
                choices_in_request: n.max(1),
                latency,
                attempts,
            })
        })
        .collect()
}

/// A transport error with its causes, e.g. "error sending request: connection refused".
fn describe(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() { "timed out".to_owned() } else { error.to_string() };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    text
}

/// The start of a long error body.
fn excerpt(body: &str) -> String {
    let text: String = body.chars().take(300).collect();
    if body.chars().count() > 300 { format!("{text}…") } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_accept_a_base_with_or_without_v1() {
        let target = |endpoint: &str| Target { endpoint: endpoint.into(), model: "m".into() };
        assert_eq!(target("http://h:8080").url("models"), "http://h:8080/v1/models");
        assert_eq!(target("http://h:8080/v1/").url("chat/completions"), "http://h:8080/v1/chat/completions");
    }

    #[test]
    fn sampling_sends_only_what_is_set() {
        let sampling = Sampling { temperature: Some(0.7), top_k: Some(40), stop: vec!["\n\n".into()], ..Sampling::default() };
        assert_eq!(Value::Object(sampling.to_json()), json!({"temperature": 0.7, "top_k": 40, "stop": ["\n\n"]}));
    }

    #[test]
    fn answers_are_parsed_per_choice() {
        let body = r#"{"choices": [{"message": {"content": "a"}, "finish_reason": "stop"}, {"message": {"content": "b"}, "finish_reason": "length"}], "usage": {"prompt_tokens": 9, "completion_tokens": 20}}"#;
        let completions = parse("u", Api::Chat, body, 2, Duration::from_millis(5), 1).unwrap();
        assert_eq!(completions.len(), 2);
        assert_eq!((completions[1].text.as_str(), completions[1].finish_reason.as_deref()), ("b", Some("length")));
        assert_eq!((completions[0].prompt_tokens, completions[0].completion_tokens, completions[0].choices_in_request), (Some(9), Some(20), 2));
        let text = parse("u", Api::Completions, r#"{"choices": [{"text": " continued"}]}"#, 1, Duration::ZERO, 1).unwrap();
        assert_eq!(text[0].text, " continued");
        assert!(matches!(parse("u", Api::Chat, r#"{"choices": []}"#, 1, Duration::ZERO, 1), Err(ClientError::Malformed { .. })));
    }
}
