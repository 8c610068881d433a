//! Preference pairs in the four training layouts, one JSON object per line.
//!
//! In `trl-implicit` a side is the prompt, a blank line (`"\n\n"`), then the response. TRL finds
//! the shared prefix of `chosen` and `rejected` itself, so any separator works for training; a
//! blank line keeps the two parts apart when a person reads the file, never glues the last word
//! of the prompt to the first of the response, and is how plain-text prompt templates usually end.

use std::io::Write;

use serde::Serialize;

use crate::error::ExportError;
use crate::format::PairFormat;
use crate::lines::JsonLines;

/// One resolved preference: a prompt, the better and the worse response, and how sure we are.
#[derive(Debug, Clone, PartialEq)]
pub struct PairRow {
    /// The record the pair comes from.
    pub item: String,
    /// The prompt as text; a chat prompt is rendered as `role: content` blocks.
    pub prompt: String,
    /// The prompt's messages when the prompt is a chat field, used by the message formats.
    pub prompt_messages: Option<Vec<Message>>,
    /// The better response's text.
    pub chosen: String,
    /// The worse response's text.
    pub rejected: String,
    /// P(chosen is better), from the resolution strategy.
    pub p_chosen: f64,
    /// How clearly chosen won, on the strategy's scale.
    pub margin: f64,
    /// How many judgments compared the two responses.
    pub judgments: usize,
    /// The share of those judgments that agree with the resolved verdict.
    pub agreement: f64,
}

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    /// `user`, `assistant`, `system`, ...
    pub role: String,
    /// The message text.
    pub content: String,
}

/// Which optional columns each line carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Columns {
    /// Add `margin` (TRL's reward trainer reads it).
    pub margin: bool,
    /// Add `p_chosen`, `margin`, `judgments` and `agreement`, to filter or weight pairs later.
    pub confidence: bool,
}

/// Writes pairs in one format to `out`, one line per pair, as they come.
pub struct PairWriter<W: Write> {
    lines: JsonLines<W>,
    format: PairFormat,
    columns: Columns,
}

impl<W: Write> PairWriter<W> {
    /// A writer of `format` lines with `columns` to `out`.
    pub fn new(out: W, format: PairFormat, columns: Columns) -> Self {
        Self { lines: JsonLines::new(out), format, columns }
    }

    /// Writes one pair as one line.
    pub fn write(&mut self, row: &PairRow) -> Result<(), ExportError> {
        let extra = Extra::of(row, self.columns);
        match self.format {
            PairFormat::Trl => self.lines.write(&Explicit { prompt: &row.prompt, chosen: &row.chosen, rejected: &row.rejected, extra }),
            PairFormat::TrlImplicit => {
                let chosen = format!("{}\n\n{}", row.prompt, row.chosen);
                let rejected = format!("{}\n\n{}", row.prompt, row.rejected);
                self.lines.write(&Implicit { chosen: &chosen, rejected: &rejected, extra })
            }
            PairFormat::TrlConversational => {
                let line = Conversational { prompt: prompt_messages(row), chosen: [assistant(&row.chosen)], rejected: [assistant(&row.rejected)], extra };
                self.lines.write(&line)
            }
            PairFormat::OpenAiDpo => {
                let line = OpenAiDpo {
                    input: OpenAiInput { messages: prompt_messages(row) },
                    preferred_output: [assistant(&row.chosen)],
                    non_preferred_output: [assistant(&row.rejected)],
                    extra,
                };
                self.lines.write(&line)
            }
        }
    }

    /// Flushes the output and returns how many lines were written.
    pub fn finish(self) -> Result<usize, ExportError> {
        self.lines.finish()
    }
}

/// A message borrowed from a row, as every message layout writes it.
#[derive(Serialize)]
pub(crate) struct BorrowedMessage<'a> {
    pub(crate) role: &'a str,
    pub(crate) content: &'a str,
}

#[derive(Serialize, Default)]
struct Extra {
    #[serde(skip_serializing_if = "Option::is_none")]
    p_chosen: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    margin: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    judgments: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    agreement: Option<f64>,
}

impl Extra {
    fn of(row: &PairRow, columns: Columns) -> Self {
        let confidence = columns.confidence;
        Self {
            p_chosen: confidence.then_some(row.p_chosen),
            margin: (confidence || columns.margin).then_some(row.margin),
            judgments: confidence.then_some(row.judgments),
            agreement: confidence.then_some(row.agreement),
        }
    }
}

#[derive(Serialize)]
struct Explicit<'a> {
    prompt: &'a str,
    chosen: &'a str,
    rejected: &'a str,
    #[serde(flatten)]
    extra: Extra,
}

#[derive(Serialize)]
struct Implicit<'a> {
    chosen: &'a str,
    rejected: &'a str,
    #[serde(flatten)]
    extra: Extra,
}

#[derive(Serialize)]
struct Conversational<'a> {
    prompt: Vec<BorrowedMessage<'a>>,
    chosen: [BorrowedMessage<'a>; 1],
    rejected: [BorrowedMessage<'a>; 1],
    #[serde(flatten)]
    extra: Extra,
}

#[derive(Serialize)]
struct OpenAiDpo<'a> {
    input: OpenAiInput<'a>,
    preferred_output: [BorrowedMessage<'a>; 1],
    non_preferred_output: [BorrowedMessage<'a>; 1],
    #[serde(flatten)]
    extra: Extra,
}

#[derive(Serialize)]
struct OpenAiInput<'a> {
    messages: Vec<BorrowedMessage<'a>>,
}

/// The chat prompt's messages, or the text prompt as one user message.
pub(crate) fn prompt_messages(row: &PairRow) -> Vec<BorrowedMessage<'_>> {
    match &row.prompt_messages {
        Some(messages) => messages.iter().map(|message| BorrowedMessage { role: &message.role, content: &message.content }).collect(),
        None => vec![BorrowedMessage { role: "user", content: &row.prompt }],
    }
}

/// A response as the one assistant message of a side.
pub(crate) fn assistant(content: &str) -> BorrowedMessage<'_> {
    BorrowedMessage { role: "assistant", content }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> PairRow {
        PairRow {
            item: "r1".into(),
            prompt: "Why?".into(),
            prompt_messages: None,
            chosen: "Because.".into(),
            rejected: "No.".into(),
            p_chosen: 0.75,
            margin: 0.5,
            judgments: 4,
            agreement: 0.75,
        }
    }

    fn check(format: PairFormat, columns: Columns, row: &PairRow, expect: &str) {
        let mut out = Vec::new();
        let mut writer = PairWriter::new(&mut out, format, columns);
        writer.write(row).unwrap();
        writer.write(row).unwrap();
        assert_eq!(writer.finish().unwrap(), 2);
        assert_eq!(String::from_utf8(out).unwrap(), format!("{expect}\n{expect}\n"));
    }

    const CONFIDENCE: Columns = Columns { margin: false, confidence: true };

    #[test]
    fn trl_has_an_explicit_prompt() {
        check(PairFormat::Trl, Columns::default(), &row(), r#"{"prompt":"Why?","chosen":"Because.","rejected":"No."}"#);
    }

    #[test]
    fn trl_adds_the_margin_when_asked() {
        let columns = Columns { margin: true, confidence: false };
        check(PairFormat::Trl, columns, &row(), r#"{"prompt":"Why?","chosen":"Because.","rejected":"No.","margin":0.5}"#);
    }

    #[test]
    fn confidence_columns_follow_the_pair() {
        let expect = r#"{"prompt":"Why?","chosen":"Because.","rejected":"No.","p_chosen":0.75,"margin":0.5,"judgments":4,"agreement":0.75}"#;
        check(PairFormat::Trl, CONFIDENCE, &row(), expect);
    }

    #[test]
    fn trl_implicit_joins_prompt_and_response_with_a_blank_line() {
        check(PairFormat::TrlImplicit, Columns::default(), &row(), r#"{"chosen":"Why?\n\nBecause.","rejected":"Why?\n\nNo."}"#);
        let expect = r#"{"chosen":"Why?\n\nBecause.","rejected":"Why?\n\nNo.","p_chosen":0.75,"margin":0.5,"judgments":4,"agreement":0.75}"#;
        check(PairFormat::TrlImplicit, CONFIDENCE, &row(), expect);
    }

    #[test]
    fn trl_conversational_wraps_text_in_messages() {
        let expect = r#"{"prompt":[{"role":"user","content":"Why?"}],"chosen":[{"role":"assistant","content":"Because."}],"rejected":[{"role":"assistant","content":"No."}]}"#;
        check(PairFormat::TrlConversational, Columns::default(), &row(), expect);
    }

    #[test]
    fn a_chat_prompt_keeps_its_messages() {
        let messages = vec![
            Message { role: "system".into(), content: "Be brief.".into() },
            Message { role: "user".into(), content: "Why?".into() },
        ];
        let chat = PairRow { prompt_messages: Some(messages), ..row() };
        let expect = r#"{"prompt":[{"role":"system","content":"Be brief."},{"role":"user","content":"Why?"}],"chosen":[{"role":"assistant","content":"Because."}],"rejected":[{"role":"assistant","content":"No."}],"p_chosen":0.75,"margin":0.5,"judgments":4,"agreement":0.75}"#;
        check(PairFormat::TrlConversational, CONFIDENCE, &chat, expect);
        let expect = r#"{"input":{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Why?"}]},"preferred_output":[{"role":"assistant","content":"Because."}],"non_preferred_output":[{"role":"assistant","content":"No."}]}"#;
        check(PairFormat::OpenAiDpo, Columns::default(), &chat, expect);
    }

    #[test]
    fn openai_dpo_has_input_and_outputs() {
        let expect = r#"{"input":{"messages":[{"role":"user","content":"Why?"}]},"preferred_output":[{"role":"assistant","content":"Because."}],"non_preferred_output":[{"role":"assistant","content":"No."}]}"#;
        check(PairFormat::OpenAiDpo, Columns::default(), &row(), expect);
        let expect = r#"{"input":{"messages":[{"role":"user","content":"Why?"}]},"preferred_output":[{"role":"assistant","content":"Because."}],"non_preferred_output":[{"role":"assistant","content":"No."}],"p_chosen":0.75,"margin":0.5,"judgments":4,"agreement":0.75}"#;
        check(PairFormat::OpenAiDpo, CONFIDENCE, &row(), expect);
    }
}
