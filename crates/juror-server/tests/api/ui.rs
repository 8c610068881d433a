//! The labeling web UI over HTTP, as a browser without JavaScript uses it: log in with a cookie,
//! answer through the record page's form, and the safety rules (form tokens, throttled logins,
//! sanitized markdown, security headers). The real-browser run is `tests/sdk/test_web_ui.py`.

use std::collections::HashMap;
use std::time::Duration;

use reqwest::header::{HeaderMap, COOKIE, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use serde_json::{json, Value};

use crate::helpers::{comparison_record, id_of, TestApp};

/// A browser without JavaScript: follows nothing by itself, keeps cookies.
struct Browser {
    base: String,
    http: reqwest::Client,
    cookies: HashMap<String, String>,
}

/// A page: status, headers and HTML.
struct Page {
    status: u16,
    headers: HeaderMap,
    html: String,
}

impl Page {
    fn location(&self) -> &str {
        self.headers.get(LOCATION).and_then(|value| value.to_str().ok()).unwrap_or_default()
    }

    /// The value of the first hidden input with this name.
    fn hidden(&self, name: &str) -> String {
        let marker = format!(r#"name="{name}" value=""#);
        let start = self.html.find(&marker).unwrap_or_else(|| panic!("no input `{name}` in {}", self.html)) + marker.len();
        self.html[start..].split('"').next().unwrap_or_default().to_owned()
    }
}

impl Browser {
    fn new(app: &TestApp) -> Self {
        let http = reqwest::Client::builder().redirect(Policy::none()).timeout(Duration::from_secs(30)).build().unwrap();
        Self { base: app.base_url.clone(), http, cookies: HashMap::new() }
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> Page {
        let cookie = self.cookies.iter().map(|(name, value)| format!("{name}={value}")).collect::<Vec<_>>().join("; ");
        let response = request.header(COOKIE, cookie).send().await.unwrap();
        for value in response.headers().get_all(SET_COOKIE) {
            let pair = value.to_str().unwrap().split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let (status, headers) = (response.status().as_u16(), response.headers().clone());
        Page { status, headers, html: response.text().await.unwrap() }
    }

    async fn get(&mut self, path: &str) -> Page {
        let request = self.http.get(format!("{}{path}", self.base));
        self.send(request).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let body: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let request = self.http.post(format!("{}{path}", self.base)).header("content-type", "application/x-www-form-urlencoded").body(body);
        self.send(request).await
    }

    /// Presses "Start labeling" on the dataset's page: a POST with the page's form token.
    async fn start(&mut self, dataset_id: &str) -> Page {
        let page = self.get(&format!("/datasets/{dataset_id}")).await;
        assert_eq!(page.status, 200);
        let token = page.hidden("csrf");
        self.post(&format!("/datasets/{dataset_id}/next"), &[("csrf", &token)]).await
    }

    async fn login(&mut self, username: &str, password: &str) -> Page {
        let form = self.get("/login").await;
        assert_eq!(form.status, 200);
        let token = form.hidden("csrf");
        self.post("/login", &[("username", username), ("password", password), ("csrf", &token), ("next", "/")]).await
    }
}

/// The dataset's raw judgments export, one JSON object a line, read as the owner.
async fn judgment_rows(app: &TestApp, dataset_id: &str) -> Vec<Value> {
    let answer = app.owner().get(&format!("/api/v1/datasets/{dataset_id}/preferences/export?format=judgments")).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    // The test client reads a body that parses as JSON (a single line does) as JSON.
    match answer.body {
        Value::String(text) => text.lines().map(|line| serde_json::from_str(line).unwrap()).collect(),
        Value::Null => Vec::new(),
        row => vec![row],
    }
}

#[tokio::test]
async fn pages_need_a_login_and_a_wrong_password_or_form_token_is_refused() {
    let (app, annotator, _, dataset_id) = TestApp::with_annotator().await;
    let mut browser = Browser::new(&app);
    let page = browser.get(&format!("/datasets/{dataset_id}")).await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location(), format!("/login?next=%2Fdatasets%2F{dataset_id}"));

    let page = browser.post("/login", &[("username", &annotator.username), ("password", "password1234"), ("csrf", "forged")]).await;
    assert_eq!(page.status, 403, "a login without the form's token is refused");
    let page = browser.login(&annotator.username, "wrong password").await;
    assert_eq!(page.status, 401);
    assert!(page.html.contains("Wrong username or password"));
    assert!(!browser.cookies.contains_key("juror_session"));

    let page = browser.login(&annotator.username, "password1234").await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location(), "/");
    let set_cookie = page.headers.get_all(SET_COOKIE).iter().map(|value| value.to_str().unwrap().to_owned()).find(|value| value.starts_with("juror_session=")).unwrap();
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    let home = browser.get("/").await;
    assert_eq!(home.status, 200);
    assert!(home.html.contains("comparisons"));
    let policy = home.headers.get("content-security-policy").unwrap().to_str().unwrap();
    assert!(policy.contains("script-src 'self'") && !policy.contains("unsafe-inline"), "{policy}");

    let csrf = home.hidden("csrf");
    assert_eq!(browser.post("/logout", &[("csrf", "forged")]).await.status, 403);
    assert_eq!(browser.post("/logout", &[("csrf", &csrf)]).await.status, 303);
    assert_eq!(browser.get("/").await.status, 303, "the session ended at logout");
}

#[tokio::test]
async fn repeated_failed_logins_are_slowed_down() {
    let app = TestApp::spawn().await;
    let mut browser = Browser::new(&app);
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(browser.login("argilla", "not the password").await.status);
    }
    assert_eq!(statuses, vec![401, 401, 401, 401, 401, 429]);
    let page = browser.login("argilla", "12345678").await;
    assert_eq!(page.status, 429, "even the right password waits while the lockout lasts");
    assert!(page.headers.get("retry-after").is_some());
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(browser.login("argilla", "12345678").await.status, 303);
}

#[tokio::test]
async fn the_record_form_stores_canonical_values_with_the_shown_order_and_time() {
    let (app, annotator, _, dataset_id) = TestApp::with_annotator().await;
    let record_ids = app.create_records(&dataset_id, vec![comparison_record("first"), comparison_record("second")]).await;
    let mut browser = Browser::new(&app);
    browser.login(&annotator.username, "password1234").await;

    // Following a link takes nothing (another site could link there); the page's button does.
    let linked = browser.get(&format!("/datasets/{dataset_id}/next")).await;
    assert_eq!((linked.status, linked.location()), (303, format!("/datasets/{dataset_id}").as_str()));
    assert_eq!(browser.post(&format!("/datasets/{dataset_id}/next"), &[("csrf", "forged")]).await.status, 403);
    let leases = app.owner().get(&format!("/api/v1/datasets/{dataset_id}/leases")).await;
    assert_eq!(leases.body["items"], json!([]), "neither the link nor the forged form took a record: {leases:?}");
    let next = browser.start(&dataset_id).await;
    assert_eq!(next.status, 303);
    let record_path = next.location().to_owned();
    let record_id = record_path.trim_start_matches("/records/").to_owned();
    assert!(record_ids.contains(&record_id));
    let page = browser.get(&record_path).await;
    assert_eq!(page.status, 200);
    // The responses are shown in this labeler's order; the form names options by canonical index.
    let first_shown = if page.html.find(r#"data-field="response-1""#) < page.html.find(r#"data-field="response-2""#) { "response-1" } else { "response-2" };
    let csrf = page.hidden("csrf");

    // A partial ranking is refused with the page shown again, and nothing is stored.
    let refused = browser.post(&record_path, &[("csrf", &csrf), ("r.0.0", "1"), ("action", "submit")]).await;
    assert_eq!(refused.status, 422);
    assert!(refused.html.contains("give every option a rank"));
    assert!(app.responses_of(&record_id).await.is_empty());
    // A wrong form token is refused.
    let forged = browser.post(&record_path, &[("csrf", "forged"), ("r.0.0", "1"), ("r.0.1", "2"), ("action", "submit")]).await;
    assert_eq!(forged.status, 403);

    // response-2 better than response-1 (canonical indexes 1 and 0), a rating of 4.
    let done = browser.post(&record_path, &[("csrf", &csrf), ("time_on_task_ms", "5321"), ("r.0.0", "2"), ("r.0.1", "1"), ("q.1", "4"), ("action", "submit")]).await;
    // A submit goes straight on to the next record.
    assert_eq!(done.status, 303);
    let other_path = done.location().to_owned();
    assert!(other_path.starts_with("/records/") && other_path != record_path, "{other_path}");
    let responses = app.responses_of(&record_id).await;
    assert_eq!(responses.len(), 1);
    assert_eq!(responses[0]["status"], "submitted");
    assert_eq!(responses[0]["values"]["preference"]["value"], json!([{"value": "response-1", "rank": 2}, {"value": "response-2", "rank": 1}]));
    assert_eq!(responses[0]["values"]["quality"]["value"], 4);
    assert!(responses[0].get("shown_order").is_none(), "Argilla's response shape is unchanged");

    // The raw judgments export carries the shown order and the time on task.
    let row = judgment_rows(&app, &dataset_id).await.remove(0);
    assert_eq!(row["time_on_task_ms"], 5321);
    assert_eq!(row["shown_order"]["preference"][0], first_shown, "{row}");
    assert_eq!(row["shown_order"]["preference"].as_array().unwrap().len(), 2);

    // The next record is the other one; a draft saved from the script answers JSON and stays.
    let other_id = other_path.trim_start_matches("/records/");
    let script_post = |body: String| {
        reqwest::Client::new()
            .post(format!("{}{other_path}", app.base_url))
            .header(COOKIE, format!("juror_session={}", browser.cookies["juror_session"]))
            .header("x-requested-with", "fetch")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    // An autosave keeps a partial ranking as a draft; the time on task adds up over saves.
    let draft = script_post(format!("csrf={csrf}&r.0.0=1&r.0.1=&action=draft&autosave=1&time_on_task_ms=1000")).await.unwrap();
    assert_eq!(draft.status(), 200);
    assert_eq!(draft.json::<Value>().await.unwrap()["status"], "draft");
    assert_eq!(app.responses_of(other_id).await[0]["values"]["preference"]["value"], json!([{"value": "response-1", "rank": 1}]));
    let draft = browser.post(&other_path, &[("csrf", &csrf), ("q.1", "2"), ("action", "draft"), ("time_on_task_ms", "500")]).await;
    assert_eq!(draft.status, 303);
    assert_eq!(draft.location(), format!("{other_path}?saved=1"));
    assert_eq!(app.responses_of(other_id).await[0]["status"], "draft");
    let reloaded = browser.get(&other_path).await;
    assert!(reloaded.html.contains(r#"value="2" checked"#), "the draft's rating is pre-filled");
    assert!(reloaded.html.contains(&format!(r#"href="{record_path}""#)), "Back leads to the record answered before");
    // A page rendered before the questions changed cannot post into the new ones.
    let stale = browser.post(&other_path, &[("csrf", &csrf), ("settings_version", "0-2"), ("q.1", "3"), ("action", "draft")]).await;
    assert_eq!(stale.status, 409);

    // The submitted record keeps its answer against a late autosave (another tab, a slow save).
    let late = browser.post(&record_path, &[("csrf", &csrf), ("r.0.0", "1"), ("action", "draft"), ("autosave", "1")]).await;
    assert_eq!(late.status, 409);
    assert_eq!(app.responses_of(&record_id).await[0]["status"], "submitted");

    // Discard, then the dataset page lists each status.
    // Discarding the last record leads to the page saying nothing is left.
    let discarded = browser.post(&other_path, &[("csrf", &csrf), ("action", "discard"), ("time_on_task_ms", "250")]).await;
    assert_eq!(discarded.status, 200);
    assert!(discarded.html.contains("Nothing left for you"));
    let discarded_row = judgment_rows(&app, &dataset_id).await.into_iter().find(|row| row["status"] == "discarded").unwrap();
    assert_eq!(discarded_row["time_on_task_ms"], 1750, "draft times add up until the final answer");
    assert_eq!(app.responses_of(other_id).await[0]["status"], "discarded");
    let listed = browser.get(&format!("/datasets/{dataset_id}?view=discarded")).await;
    assert!(listed.html.contains(&other_path));
    assert!(!listed.html.contains(&record_path));
    let finished = browser.start(&dataset_id).await;
    assert_eq!(finished.status, 200);
    assert!(finished.html.contains("Nothing left for you"));
}

#[tokio::test]
async fn skip_hands_the_record_back_and_serves_another() {
    let (app, annotator, _, dataset_id) = TestApp::with_annotator().await;
    app.create_records(&dataset_id, vec![comparison_record("one"), comparison_record("two")]).await;
    let mut browser = Browser::new(&app);
    browser.login(&annotator.username, "password1234").await;
    let first = browser.start(&dataset_id).await.location().to_owned();
    let csrf = browser.get(&first).await.hidden("csrf");
    let skipped = browser.post(&first, &[("csrf", &csrf), ("action", "skip")]).await;
    assert_eq!(skipped.status, 303);
    let second = skipped.location().to_owned();
    assert!(second.starts_with("/records/") && first != second, "the skipped record goes behind the others: {second}");
}

#[tokio::test]
async fn untrusted_markdown_is_rendered_inert() {
    let app = TestApp::spawn().await;
    let owner = app.owner();
    let workspace_id = app.owner_workspace_id().await;
    let dataset = owner.post("/api/v1/datasets", &json!({"name": "unsafe", "workspace_id": workspace_id, "guidelines": "Rank <script>alert('guidelines')</script> well."})).await;
    let dataset_id = id_of(&dataset.body);
    for name in ["prompt", "answer"] {
        let field = json!({"name": name, "title": name, "required": true, "settings": {"type": "text", "use_markdown": true}});
        assert_eq!(owner.post(&format!("/api/v1/datasets/{dataset_id}/fields"), &field).await.status, 201);
    }
    let question = json!({"name": "ok", "title": "OK?", "required": true, "settings": {"type": "label_selection", "options": [{"value": "yes", "text": "Yes"}, {"value": "no", "text": "No"}]}});
    assert_eq!(owner.post(&format!("/api/v1/datasets/{dataset_id}/questions"), &question).await.status, 201);
    assert_eq!(owner.put(&format!("/api/v1/datasets/{dataset_id}/publish"), &json!({})).await.status, 200);
    let hostile = "**bold** <script>alert('x')</script> <img src=x onerror=\"alert('img')\"> [click](javascript:alert('link')) <a href=\"javascript:alert(1)\">a</a> ![remote](https://example.com/track.png)";
    let record = app.create_records(&dataset_id, vec![json!({"fields": {"prompt": "Say hi", "answer": hostile}})]).await.remove(0);

    let mut browser = Browser::new(&app);
    browser.login("argilla", "12345678").await;
    let page = browser.get(&format!("/records/{record}")).await;
    assert_eq!(page.status, 200);
    assert!(page.html.contains("<strong>bold</strong>"), "markdown still renders");
    for forbidden in ["<script>alert", "onerror", "javascript:", "<img", "alert('guidelines')"] {
        assert!(!page.html.contains(forbidden), "`{forbidden}` reached the page");
    }
    assert_eq!(page.html.matches("<script").count(), 1, "only the page's own script tag");
    assert!(page.html.contains(r#"<script src="/assets/app.js" defer>"#));
}

#[tokio::test]
async fn admin_pages_are_for_managers_and_show_each_labelers_progress() {
    let (app, annotator, _, dataset_id) = TestApp::with_annotator().await;
    let record = app.create_record(&dataset_id).await;
    let answer = app.with_key(&annotator.api_key).post(&format!("/api/v1/records/{record}/responses"), &json!({"values": {"preference": {"value": [{"value": "response-1", "rank": 1}, {"value": "response-2", "rank": 2}]}}, "status": "submitted"})).await;
    assert_eq!(answer.status, 201, "{answer:?}");

    let mut labeler = Browser::new(&app);
    labeler.login(&annotator.username, "password1234").await;
    assert_eq!(labeler.get("/admin").await.status, 403);

    let mut owner = Browser::new(&app);
    owner.login("argilla", "12345678").await;
    let page = owner.get("/admin").await;
    assert_eq!(page.status, 200);
    assert!(page.html.contains(&format!("/admin/datasets/{dataset_id}")));
    let page = owner.get(&format!("/admin/datasets/{dataset_id}")).await;
    assert_eq!(page.status, 200);
    let row = page.html.split("<tr>").find(|row| row.contains(&format!("<td>{}</td>", annotator.username))).expect("a row for the annotator");
    assert!(row.starts_with(&format!("<td>{}</td><td>1</td><td>0</td><td>0</td>", annotator.username)), "{row}");
    assert!(page.html.contains("<strong>1</strong> of 1 records completed"), "{}", page.html);
    let quality_link = format!("/admin/datasets/{dataset_id}/quality");
    assert!(page.html.contains(&quality_link), "the quality report is a link away");
    assert!(!page.html.contains("Krippendorff"), "and not computed on the progress page");
    let quality = owner.get(&quality_link).await;
    assert_eq!(quality.status, 200);
    assert!(quality.html.contains("1 submitted judgments on 1 records"), "{}", quality.html);
    assert!(quality.html.contains("Krippendorff's alpha"), "{}", quality.html);
    assert_eq!(labeler.get(&quality_link).await.status, 403);
}

#[tokio::test]
async fn changing_the_password_ends_the_other_sessions() {
    let (app, annotator, _, _) = TestApp::with_annotator().await;
    let (mut desk, mut phone) = (Browser::new(&app), Browser::new(&app));
    desk.login(&annotator.username, "password1234").await;
    phone.login(&annotator.username, "password1234").await;
    let account = desk.get("/account").await;
    assert!(account.html.contains(&annotator.api_key), "the account page shows the API key");
    let csrf = account.hidden("csrf");
    let wrong = desk.post("/account/password", &[("csrf", &csrf), ("current", "nope"), ("new", "a-new-password")]).await;
    assert_eq!(wrong.status, 422);
    let changed = desk.post("/account/password", &[("csrf", &csrf), ("current", "password1234"), ("new", "a-new-password")]).await;
    assert_eq!(changed.status, 200);
    assert_eq!(desk.get("/").await.status, 200, "this session goes on");
    assert_eq!(phone.get("/").await.status, 303, "the other session ended");
    assert_eq!(Browser::new(&app).login(&annotator.username, "a-new-password").await.status, 303);
}

#[tokio::test]
async fn back_walks_through_my_earlier_answers() {
    let (app, annotator, _, dataset_id) = TestApp::with_annotator().await;
    let records = app.create_records(&dataset_id, (0..3).map(|index| comparison_record(&format!("prompt {index}"))).collect()).await;
    let labeler = app.with_key(&annotator.api_key);
    for record in &records {
        let answer = json!({"values": {"preference": {"value": [{"value": "response-1", "rank": 1}, {"value": "response-2", "rank": 2}]}}, "status": "submitted"});
        assert_eq!(labeler.post(&format!("/api/v1/records/{record}/responses"), &answer).await.status, 201);
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let mut browser = Browser::new(&app);
    browser.login(&annotator.username, "password1234").await;
    let back_of = |html: &str| html.split(r#"id="back" href="/records/"#).nth(1).map(|rest| rest.split('"').next().unwrap().to_owned());
    assert_eq!(back_of(&browser.get(&format!("/records/{}", records[2])).await.html).as_ref(), Some(&records[1]));
    assert_eq!(back_of(&browser.get(&format!("/records/{}", records[1])).await.html).as_ref(), Some(&records[0]));
    assert_eq!(back_of(&browser.get(&format!("/records/{}", records[0])).await.html), None, "nothing before the first answer");
}

#[tokio::test]
async fn the_audit_log_page_is_for_owners() {
    let app = TestApp::spawn().await;
    let workspace = app.owner_workspace_id().await;
    app.create_member(&workspace, "admin", "admin").await;
    let mut owner = Browser::new(&app);
    assert_eq!(owner.login("argilla", "12345678").await.status, 303);
    let page = owner.get("/admin").await;
    assert!(page.html.contains(r#"href="/admin/audit""#), "{}", page.html);
    let page = owner.get("/admin/audit").await;
    assert_eq!(page.status, 200);
    assert!(page.html.contains("workspace.member_added") && page.html.contains("user.created"), "{}", page.html);
    assert!(page.html.contains("juror command line"), "the first owner was made at start: {}", page.html);

    let mut admin = Browser::new(&app);
    assert_eq!(admin.login("admin", "password1234").await.status, 303);
    assert!(!admin.get("/admin").await.html.contains("/admin/audit"));
    assert_eq!(admin.get("/admin/audit").await.status, 403);
}

#[tokio::test]
async fn a_labeler_paused_by_gold_answers_is_told_so_and_an_owner_lets_them_go_on() {
    let (app, annotator, _, dataset_id) = TestApp::with_annotator().await;
    let ids = app.create_records(&dataset_id, vec![comparison_record("gold"), comparison_record("ordinary")]).await;
    let gold = json!({"items": [{"record_id": ids[0], "verdict": {"question": "preference", "chosen": "response-2", "rejected": "response-1"}}]});
    assert_eq!(app.owner().put(&format!("/api/v1/datasets/{dataset_id}/gold"), &gold).await.status, 200);
    let settings = json!({"gold": {"rate": 0.2, "min_answers": 1, "certainty": 0.5, "pause": true}});
    assert_eq!(app.owner().put(&format!("/api/v1/datasets/{dataset_id}/quality"), &settings).await.status, 200);
    let wrong = json!({"status": "submitted", "values": {"preference": {"value": [{"value": "response-1", "rank": 1}, {"value": "response-2", "rank": 2}]}}});
    assert_eq!(app.with_key(&annotator.api_key).post(&format!("/api/v1/records/{}/responses", ids[0]), &wrong).await.status, 201);

    let mut labeler = Browser::new(&app);
    labeler.login(&annotator.username, "password1234").await;
    let paused = labeler.start(&dataset_id).await;
    assert_eq!(paused.status, 403);
    assert!(paused.html.contains("You are paused in this dataset"), "{}", paused.html);

    let mut owner = Browser::new(&app);
    owner.login("argilla", "12345678").await;
    let quality_page = format!("/admin/datasets/{dataset_id}/quality");
    let page = owner.get(&quality_page).await;
    assert!(page.html.contains("1 gold records, served at 20%"), "{}", page.html);
    let row = page.html.split("<tr>").find(|row| row.contains(&format!("<td>{}</td>", annotator.username))).expect("a row for the labeler");
    assert!(row.contains("<td>0 of 1</td>") && row.contains("paused"), "{row}");
    let resume = format!("/admin/datasets/{dataset_id}/labelers/{}/resume", annotator.id);
    assert!(row.contains(&resume), "{row}");
    assert_eq!(owner.post(&resume, &[("csrf", "wrong")]).await.status, 403, "the form token is checked");
    let resumed = owner.post(&resume, &[("csrf", &page.hidden("csrf"))]).await;
    assert_eq!((resumed.status, resumed.location()), (303, quality_page.as_str()));
    assert!(!owner.get(&quality_page).await.html.contains("Let go on"));

    let next = labeler.start(&dataset_id).await;
    assert_eq!((next.status, next.location()), (303, format!("/records/{}", ids[1]).as_str()), "back to work, on the ordinary record");
}

#[tokio::test]
async fn swapped_repeats_come_back_the_other_way_round_and_are_kept_apart() {
    let (app, annotator, _, dataset_id) = TestApp::with_annotator().await;
    let items = (0..40).map(|index| comparison_record(&format!("prompt {index}"))).collect();
    let ids = app.create_records(&dataset_id, items).await;
    let settings = json!({"repeats": {"rate": 0.3}});
    assert_eq!(app.owner().put(&format!("/api/v1/datasets/{dataset_id}/quality"), &settings).await.status, 200);

    let mut browser = Browser::new(&app);
    browser.login(&annotator.username, "password1234").await;
    let mut first_shown: HashMap<String, String> = HashMap::new();
    let (mut repeats, mut visits) = (0, 0);
    let mut next = browser.start(&dataset_id).await;
    while next.status == 303 && next.location().starts_with("/records/") {
        visits += 1;
        assert!(visits <= 80, "the loop ends");
        let path = next.location().to_owned();
        let record = path.trim_start_matches("/records/").to_owned();
        let page = browser.get(&path).await;
        assert_eq!(page.status, 200);
        let shown = if page.html.find(r#"data-field="response-1""#) < page.html.find(r#"data-field="response-2""#) { "response-1" } else { "response-2" };
        match first_shown.get(&record) {
            Some(before) => {
                repeats += 1;
                assert_ne!(before, shown, "a repeat shows the responses the other way round");
                assert!(!page.html.contains("Draft saved") && !page.html.contains(r#"value="1" checked"#), "and not my earlier answer");
            }
            None => {
                first_shown.insert(record.clone(), shown.to_owned());
            }
        }
        // Always response-1 first: a perfectly consistent labeler.
        let csrf = page.hidden("csrf");
        next = browser.post(&path, &[("csrf", &csrf), ("time_on_task_ms", "1200"), ("r.0.0", "1"), ("r.0.1", "2"), ("q.1", "3"), ("action", "submit")]).await;
    }
    assert_eq!(first_shown.len(), 40, "every record once");
    assert!(repeats >= 1, "at 30%, some of 40 records come back");
    // The repeats are not responses: one per record, and the export has 40 judgments.
    for id in &ids {
        assert_eq!(app.responses_of(id).await.len(), 1);
    }
    assert_eq!(judgment_rows(&app, &dataset_id).await.len(), 40);
    let metrics = app.owner().get(&format!("/api/v1/datasets/{dataset_id}/preferences/metrics")).await;
    assert_eq!(metrics.body["judgments"], 40, "{metrics:?}");
    let consistency = &metrics.body["quality"]["consistency"][0];
    assert_eq!((consistency["username"].as_str(), consistency["repeats"].as_u64(), consistency["consistency"].as_f64()), (Some(annotator.username.as_str()), Some(repeats), Some(1.0)), "{metrics:?}");
    assert_eq!(metrics.body["quality"]["overall_consistency"], 1.0);
}

#[tokio::test]
async fn a_named_reviewer_settles_a_disputed_record_in_the_browser() {
    let (app, reviewer, workspace, dataset_id) = TestApp::with_annotator().await;
    let ids = app.create_records(&dataset_id, vec![comparison_record("disputed")]).await;
    for (index, name) in ["first", "second"].iter().enumerate() {
        let labeler = app.create_member(&workspace, name, "annotator").await;
        let best = if index == 0 { "response-1" } else { "response-2" };
        let worst = if index == 0 { "response-2" } else { "response-1" };
        let ranking = json!({"status": "submitted", "values": {"preference": {"value": [{"value": best, "rank": 1}, {"value": worst, "rank": 2}]}}});
        assert_eq!(app.with_key(&labeler.api_key).post(&format!("/api/v1/records/{}/responses", ids[0]), &ranking).await.status, 201);
    }
    let mut browser = Browser::new(&app);
    browser.login(&reviewer.username, "password1234").await;
    let queue_path = format!("/review/datasets/{dataset_id}");
    assert_eq!(browser.get(&queue_path).await.status, 403, "not a reviewer yet");
    assert!(!browser.get(&format!("/datasets/{dataset_id}")).await.html.contains(&queue_path));
    assert_eq!(app.owner().put(&format!("/api/v1/datasets/{dataset_id}/reviewers/{}", reviewer.id), &json!({})).await.status, 204);
    assert!(browser.get(&format!("/datasets/{dataset_id}")).await.html.contains(&queue_path), "the dataset page links the queue");

    let queue = browser.get(&queue_path).await;
    assert!(queue.html.contains("1 waiting for a verdict") && queue.html.contains("split verdict"), "{}", queue.html);
    let record_path = format!("/review/records/{}", ids[0]);
    let page = browser.get(&record_path).await;
    assert_eq!(page.status, 200);
    assert!(page.html.contains("<td>first</td>") && page.html.contains("response-1 &gt; response-2") && page.html.contains("response-2 &gt; response-1"), "every answer side by side: {}", page.html);
    let csrf = page.hidden("csrf");
    assert_eq!(browser.post(&record_path, &[("csrf", "forged"), ("rank.response-1", "2"), ("rank.response-2", "1")]).await.status, 403);
    let partial = browser.post(&record_path, &[("csrf", &csrf), ("rank.response-2", "1")]).await;
    assert_eq!(partial.status, 422, "{}", partial.html);
    let decided = browser.post(&record_path, &[("csrf", &csrf), ("rank.response-1", "2"), ("rank.response-2", "1"), ("note", "the second cites a source")]).await;
    assert_eq!((decided.status, decided.location()), (303, queue_path.as_str()));
    let queue = browser.get(&queue_path).await;
    assert!(queue.html.contains("0 waiting for a verdict, 1 settled") && queue.html.contains(&format!("by {}", reviewer.username)), "{}", queue.html);
    let verdict = app.owner().get(&format!("/api/v1/records/{}/adjudication", ids[0])).await;
    assert_eq!((&verdict.body["value"][1]["rank"], &verdict.body["note"]), (&json!(1), &json!("the second cites a source")), "{verdict:?}");
}

#[tokio::test]
async fn an_owner_turns_quality_control_on_from_the_quality_page() {
    let (app, _, _, dataset_id) = TestApp::with_annotator().await;
    let mut owner = Browser::new(&app);
    owner.login("argilla", "12345678").await;
    let quality_page = format!("/admin/datasets/{dataset_id}/quality");
    let page = owner.get(&quality_page).await;
    assert!(page.html.contains("Adaptive overlap is off") && page.html.contains(r#"<option value="preference" selected>"#), "{}", page.html);
    let csrf = page.hidden("csrf");
    let form = [
        ("csrf", csrf.as_str()),
        ("adaptive", "on"),
        ("adaptive.question", "preference"),
        ("adaptive.min", "2"),
        ("adaptive.max", "4"),
        ("adaptive.confidence", "0.9"),
        ("gold", "on"),
        ("gold.rate", "0.2"),
        ("gold.threshold", "0.7"),
        ("gold.certainty", "0.8"),
        ("gold.min_answers", "10"),
        ("gold.pause", "on"),
        ("repeats.rate", "0.1"),
    ];
    let saved = owner.post(&quality_page, &form).await;
    assert_eq!((saved.status, saved.location()), (303, quality_page.as_str()));
    let stored = app.owner().get(&format!("/api/v1/datasets/{dataset_id}/quality")).await.body;
    assert_eq!(stored["adaptive"], json!({"question": "preference", "min": 2, "max": 4, "confidence": 0.9}));
    assert_eq!(stored["gold"], json!({"rate": 0.2, "threshold": 0.7, "min_answers": 10, "certainty": 0.8, "pause": true}));
    assert_eq!(stored["repeats"], Value::Null, "its box was not ticked");
    assert!(owner.get(&quality_page).await.html.contains("Adaptive overlap on “preference”: 2 to 4 judgments"));
    let inverted = owner.post(&quality_page, &[("csrf", csrf.as_str()), ("adaptive", "on"), ("adaptive.question", "preference"), ("adaptive.min", "5"), ("adaptive.max", "2")]).await;
    assert_eq!(inverted.status, 422);
    assert!(inverted.html.contains("adaptive.max"), "{}", inverted.html);
}
