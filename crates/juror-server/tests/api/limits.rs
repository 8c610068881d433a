//! The server's limits: body sizes by route, slow clients, and search requests that would cost a
//! pass over the dataset per sort or query word.

use std::time::Duration;

use juror_server::{ServerConfig, MAX_API_BODY_BYTES, MAX_LOGIN_BODY_BYTES};
use reqwest::Method;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{bulk_path, TestApp, MAX_BODY_BYTES};

#[tokio::test]
async fn each_route_takes_bodies_up_to_its_own_limit() {
    let app = TestApp::spawn().await;
    let dataset = app.owner_dataset().await;
    // Settings and other small writes: 4 MiB, whatever the record routes take.
    let padding = "x".repeat(MAX_API_BODY_BYTES);
    let oversized = serde_json::to_vec(&json!({"guidelines": padding})).unwrap();
    let answer = app.owner().send_raw(Method::PATCH, &format!("/api/v1/datasets/{dataset}"), oversized).await;
    assert_eq!(answer.status, 413, "{answer:?}");
    // The record routes take what the server was started with (1 MiB here), nothing more.
    let record = json!({"fields": {"prompt": "p".repeat(MAX_BODY_BYTES / 2), "response-1": "a", "response-2": "b"}});
    let answer = app.owner().post(&bulk_path(&dataset), &json!({"items": [record]})).await;
    assert_eq!(answer.status, 201, "{answer:?}");
    // The login form: 16 KiB.
    let http = reqwest::Client::new();
    let login = |size: usize| {
        let form = format!("username=argilla&password={}", "p".repeat(size));
        http.post(format!("{}/login", app.base_url)).header("content-type", "application/x-www-form-urlencoded").body(form).send()
    };
    assert_eq!(login(MAX_LOGIN_BODY_BYTES).await.unwrap().status(), 413);
    assert_ne!(login(100).await.unwrap().status(), 413);
}

#[tokio::test]
async fn a_client_too_slow_to_send_its_request_is_answered_408() {
    let app = TestApp::spawn_with(ServerConfig { request_timeout: Duration::from_millis(300), ..TestApp::config() }).await;
    let address = app.base_url.trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&address).await.unwrap();
    // Headers promise a body that never comes.
    let head = "POST /api/v1/workspaces HTTP/1.1\r\nhost: juror\r\nx-argilla-api-key: argilla.apikey\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{";
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 1024];
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut answer)).await.expect("no answer before the test's own timeout").unwrap();
    let answer = String::from_utf8_lossy(&answer[..read]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    // The server goes on serving others.
    assert_eq!(app.owner().get("/api/v1/me").await.status, 200);
}

#[tokio::test]
async fn connections_that_send_no_request_head_in_time_are_closed() {
    let app = TestApp::spawn_with(ServerConfig { idle_timeout: Duration::from_millis(300), ..TestApp::config() }).await;
    let address = app.base_url.trim_start_matches("http://").to_owned();
    // A client that opens a connection and says nothing, and one that trickles half a head.
    let mut idle = TcpStream::connect(&address).await.unwrap();
    let mut slow = TcpStream::connect(&address).await.unwrap();
    slow.write_all(b"GET /api/v1/me HTTP/1.1\r\nhost: juror\r\n").await.unwrap();
    for stream in [&mut idle, &mut slow] {
        let mut buffer = [0u8; 256];
        let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buffer)).await.expect("the server kept the connection open");
        // Closed (0 bytes), reset, or answered with a 408 before closing.
        match read {
            Ok(0) | Err(_) => {}
            Ok(count) => assert!(String::from_utf8_lossy(&buffer[..count]).starts_with("HTTP/1.1 408"), "{}", String::from_utf8_lossy(&buffer[..count])),
        }
    }
    // A keep-alive connection that goes on asking is served across the idle limit.
    let client = reqwest::Client::new();
    for _ in 0..4 {
        let answer = client.get(format!("{}/api/v1/me", app.base_url)).header("x-argilla-api-key", "argilla.apikey").send().await.unwrap();
        assert_eq!(answer.status(), 200);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn searches_past_the_limits_are_refused_with_the_reason() {
    let app = TestApp::spawn().await;
    let dataset = app.owner_dataset().await;
    let path = format!("/api/v1/me/datasets/{dataset}/records/search");
    let sort = json!({"scope": {"entity": "record", "property": "inserted_at"}});
    let answer = app.owner().post(&path, &json!({"sort": vec![sort.clone(); 11]})).await;
    assert_eq!(answer.status, 422, "{answer:?}");
    assert_eq!(answer.body["detail"], "at most 10 sorts are allowed, got 11");
    assert_eq!(app.owner().post(&path, &json!({"sort": vec![sort; 10]})).await.status, 200);
    let long_query = json!({"query": {"text": {"q": "word ".repeat(401)}}});
    let answer = app.owner().post(&path, &long_query).await;
    assert_eq!(answer.status, 422, "{answer:?}");
    assert_eq!(answer.body["detail"], "a text query may have at most 2000 characters, got 2005");
}
