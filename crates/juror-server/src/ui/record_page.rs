//! The annotation page of one record: guidelines, fields (responses in counterbalanced order),
//! and one form input per question. Rendering is pure: everything comes in as arguments.

use juror_app::LabelingRecord;
use juror_core::field::{Field, FieldSettings};
use juror_core::ids::RecordId;
use juror_core::presentation::Layout;
use juror_core::question::{Question, QuestionSettings};
use juror_core::response::ResponseStatus;
use maud::{html, Markup};
use serde_json::{Map, Value};

use super::home::guidelines;
use super::layout;
use super::markdown;
use super::session::Web;

/// What the record page shows besides the record itself.
pub(crate) struct PageState<'a> {
    /// The answers to pre-fill: the saved response's, or what was just posted.
    pub values: Option<&'a Map<String, Value>>,
    /// The status of my saved response, if any.
    pub status: Option<ResponseStatus>,
    /// The record I answered before this one, for "Back".
    pub back: Option<RecordId>,
    /// A message above the form.
    pub flash: Option<(&'a str, &'a str)>,
}

/// The whole page.
pub(crate) fn render(web: &Web, data: &LabelingRecord, layout: &Layout, state: &PageState) -> Markup {
    let schema = &data.schema;
    let record = &data.record;
    let status = state.status.map_or("pending", ResponseStatus::as_str);
    let autosave = matches!(state.status, None | Some(ResponseStatus::Draft));
    let letter = |position: usize| char::from(b'A' + (position % 26) as u8);
    layout::page(
        &schema.dataset.name,
        "record",
        web,
        html! {
            div.annotate {
                nav.record-nav {
                    @if let Some(back) = state.back { a #back href=(format!("/records/{back}")) { "← Back" } }
                    a href=(format!("/datasets/{}", schema.dataset.id)) { (schema.dataset.name) }
                    span.position { "Status: " span #record-status class=(format!("status {status}")) { (status) } }
                    button #help type="button" aria-haspopup="dialog" { kbd { "?" } " Shortcuts" }
                }
                (guidelines(&schema.dataset))
                @if let Some((kind, message)) = state.flash { p class=(format!("flash {kind}")) role="alert" { (message) } }
                section.fields {
                    @for &index in &layout.context {
                        @let field = &schema.fields[index];
                        article.field data-field=(field.name) {
                            h2 { (field.title) }
                            (field_value(field, record.fields.get(&field.name)))
                        }
                    }
                    @if !layout.responses.is_empty() {
                        div.responses data-count=(layout.responses.len()) {
                            @for (position, &index) in layout.responses.iter().enumerate() {
                                @let field = &schema.fields[index];
                                article.field.response data-field=(field.name) data-shown=(letter(position)) {
                                    h2 { "Response " (letter(position)) }
                                    (field_value(field, record.fields.get(&field.name)))
                                }
                            }
                        }
                        @if layout.responses.len() >= 2 {
                            button #toggle-diff type="button" data-diff-url=(format!("/records/{}/diff", record.id)) aria-expanded="false" { "Show differences" }
                            div #diff.diff hidden {}
                        }
                    }
                }
                form #answer method="post" action=(format!("/records/{}", record.id)) data-autosave=(autosave) {
                    input type="hidden" name="csrf" value=(web.csrf);
                    input type="hidden" name="time_on_task_ms" value="";
                    input type="hidden" name="settings_version" value=(super::record::settings_version(data));
                    @for (index, question) in schema.questions.iter().enumerate() {
                        (question_input(index, question, &layout.options[index], responses_ranked(layout, question, schema, index), state.values.and_then(|values| values.get(&question.name)).and_then(|answer| answer.get("value"))))
                    }
                    div.actions {
                        // First in the form, so that Enter in a field submits (CSS shows it last).
                        button.primary type="submit" name="action" value="submit" { "Submit" }
                        button type="submit" name="action" value="skip" formnovalidate { "Skip" }
                        button type="submit" name="action" value="discard" formnovalidate { "Discard" }
                        button type="submit" name="action" value="draft" formnovalidate { "Save draft" }
                        span #save-status role="status" aria-live="polite" {}
                    }
                }
                (shortcuts())
            }
        },
    )
}

/// Whether this ranking question orders the response fields, so its options read "Response A".
fn responses_ranked(layout: &Layout, question: &Question, schema: &juror_core::record::DatasetSchema, index: usize) -> bool {
    let QuestionSettings::Ranking { options } = &question.settings else { return false };
    !layout.responses.is_empty()
        && layout.options[index].iter().zip(&layout.responses).all(|(&option, &field)| options[option].value == schema.fields[field].name)
}

pub(super) fn field_value(field: &Field, value: Option<&Value>) -> Markup {
    match (&field.settings, value) {
        (_, None | Some(Value::Null)) => html! { p.muted { "(empty)" } },
        (FieldSettings::Text { use_markdown: true }, Some(Value::String(text))) => html! { div.md { (markdown::render(text)) } },
        (FieldSettings::Text { .. }, Some(Value::String(text))) => markdown::plain(text),
        (FieldSettings::Image, Some(Value::String(url))) if url.starts_with("data:image/") => html! { img src=(url) alt=(field.title); },
        (FieldSettings::Image, Some(Value::String(url))) if url.starts_with("https://") || url.starts_with("http://") => {
            html! { a href=(url) rel="noopener noreferrer nofollow" { "Open image" } }
        }
        (FieldSettings::Chat { use_markdown }, Some(Value::Array(messages))) => html! {
            div.chat {
                @for message in messages {
                    @let role = message.get("role").and_then(Value::as_str).unwrap_or("?");
                    @let content = message.get("content").and_then(Value::as_str).unwrap_or_default();
                    div class=(format!("message {}", css_token(role))) {
                        strong.role { (role) }
                        @if *use_markdown { div.md { (markdown::render(content)) } } @else { (markdown::plain(content)) }
                    }
                }
            }
        },
        (_, Some(other)) => html! { pre { (serde_json::to_string_pretty(other).unwrap_or_default()) } },
    }
}

fn css_token(text: &str) -> String {
    text.chars().filter(|character| character.is_ascii_alphanumeric()).take(20).collect()
}

fn question_input(index: usize, question: &Question, order: &[usize], responses_ranked: bool, value: Option<&Value>) -> Markup {
    html! {
        fieldset.question data-type=(question.settings.type_name()) data-required=(question.required) data-name=(question.name) {
            legend { (question.title) @if question.required { " " span.required title="required" { "*" } } }
            @if let Some(description) = &question.description { div.description { (markdown::render(description)) } }
            @match &question.settings {
                QuestionSettings::Ranking { options } => (ranking(index, question, options, order, responses_ranked, value)),
                QuestionSettings::Rating { values } => {
                    div.choices {
                        @for rating in values {
                            label.choice {
                                input type="radio" name=(format!("q.{index}")) value=(rating) required[question.required] checked[value.and_then(Value::as_i64) == Some(*rating)];
                                @if let Some(key) = rating_key(*rating) { kbd { (key) } " " } (rating)
                            }
                        }
                    }
                }
                QuestionSettings::LabelSelection { options, .. } => {
                    div.choices {
                        @for (position, option) in options.iter().enumerate() {
                            label.choice title=[option.description.as_deref()] {
                                input type="radio" name=(format!("q.{index}")) value=(option.value) required[question.required] checked[value.and_then(Value::as_str) == Some(option.value.as_str())];
                                @if position < 9 { kbd { (position + 1) } " " } (option.text)
                            }
                        }
                    }
                }
                QuestionSettings::MultiLabelSelection { options, .. } => {
                    @let chosen: Vec<&str> = value.and_then(Value::as_array).map(|items| items.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
                    div.choices {
                        @for (position, option) in options.iter().enumerate() {
                            label.choice title=[option.description.as_deref()] {
                                input type="checkbox" name=(format!("q.{index}")) value=(option.value) checked[chosen.contains(&option.value.as_str())];
                                @if position < 9 { kbd { (position + 1) } " " } (option.text)
                            }
                        }
                    }
                }
                QuestionSettings::Text { .. } => {
                    textarea name=(format!("q.{index}")) rows="4" required[question.required] aria-label=(question.title) { (value.and_then(Value::as_str).unwrap_or_default()) }
                }
                QuestionSettings::Span { .. } => p.muted { "Span questions are answered through the SDK." },
            }
        }
    }
}

/// The key that picks a rating value: the digit itself, 0 for 10; none for 0.
fn rating_key(rating: i64) -> Option<char> {
    match rating {
        1..=9 => char::from_digit(rating as u32, 10),
        10 => Some('0'),
        _ => None,
    }
}

fn ranking(index: usize, question: &Question, options: &[juror_core::question::QuestionOption], order: &[usize], responses_ranked: bool, value: Option<&Value>) -> Markup {
    let rank_of = |option_value: &str| -> Option<u64> {
        value?.as_array()?.iter().find(|entry| entry.get("value").and_then(Value::as_str) == Some(option_value))?.get("rank")?.as_u64()
    };
    let letter = |position: usize| char::from(b'A' + (position % 26) as u8);
    let label = |position: usize, option: usize| if responses_ranked { format!("Response {}", letter(position)) } else { options[option].text.clone() };
    let pressed = |choice: &str| -> &'static str {
        let (first, second) = (rank_of(&options[order[0]].value), rank_of(&options[order[1]].value));
        let current = match (first, second) {
            (Some(a), Some(b)) if a < b => "first",
            (Some(a), Some(b)) if a > b => "second",
            (Some(_), Some(_)) => "tie",
            _ => "",
        };
        if current == choice { "true" } else { "false" }
    };
    html! {
        @if options.len() == 2 {
            div.pairwise {
                button type="button" data-choice="first" aria-pressed=(pressed("first")) { kbd { "1" } " " (label(0, order[0])) " is better" }
                button type="button" data-choice="tie" aria-pressed=(pressed("tie")) { kbd { "0" } " Tie" }
                button type="button" data-choice="second" aria-pressed=(pressed("second")) { kbd { "2" } " " (label(1, order[1])) " is better" }
            }
        }
        ol.ranking {
            @for (position, &option) in order.iter().enumerate() {
                @let current = rank_of(&options[option].value);
                li.option draggable="true" {
                    span.shown { (letter(position)) }
                    " "
                    span.text { (label(position, option)) }
                    label {
                        " Rank "
                        select.rank name=(format!("r.{index}.{option}")) required[question.required] {
                            option value="" {}
                            @for rank in 1..=options.len() as u64 {
                                option value=(rank) selected[current == Some(rank)] { (rank) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn shortcuts() -> Markup {
    const KEYS: &[(&str, &str)] = &[
        ("1 / 2 / 0", "Two responses: the first is better / the second is better / tie"),
        ("1 … 9, 0", "Ranking: give the highlighted option this rank (0 = 10) and move on; rating: choose this value (0 = 10); labels: choose or toggle the n-th"),
        ("↑ ↓ or j k", "Ranking: move between options"),
        ("Enter, Ctrl+Enter", "Submit"),
        ("Ctrl+S", "Save a draft"),
        ("Shift+S", "Skip"),
        ("Shift+D", "Discard"),
        ("Shift+B", "Back to the previous record"),
        ("d", "Show or hide the differences between responses"),
        ("?", "Show this help"),
        ("Esc", "Close this help, or leave a text field so the keys work again"),
    ];
    html! {
        dialog #shortcuts aria-labelledby="shortcuts-title" {
            h2 #shortcuts-title { "Keyboard shortcuts" }
            table {
                @for (keys, action) in KEYS { tr { th { kbd { (keys) } } td { (action) } } }
            }
            form method="dialog" { button type="submit" { "Close" } }
        }
    }
}
