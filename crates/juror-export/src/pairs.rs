//! Preference pairs in the four training layouts, one JSON object per line.
//!
//! In `trl-implicit` a side is the prompt, a blank line (`"\n\n"`), then the response. TRL finds
//! the shared prefix of `chosen` and `rejected` itself, so any separator works for training; a
//! blank line keeps the two parts apart when a person reads the file, never glues the last word
//! of the prompt to the first of the response, and is how plain-text prompt templates usually end.

use std::fmt::Write as _;
use std::io::Write;
use std::sync::Arc;

use serde::Serialize;

use crate::error::ExportError;
use crate::format::PairFormat;
use crate::shared::SharedTexts;

/// One resolved preference: a prompt, the better and the worse response, and how sure we are.
///
/// The texts are shared: the rows of one record hold the same prompt and responses (a ranking of
/// five gives ten rows), so a row costs reference counts, not copies, and the writers can encode
/// each text once per record instead of once per row.
#[derive(Debug, Clone, PartialEq)]
pub struct PairRow {
    /// The record the pair comes from.
    pub item: Arc<str>,
    /// The prompt as text; a chat prompt is rendered as `role: content` blocks.
    pub prompt: Arc<str>,
    /// The prompt's messages when the prompt is a chat field, used by the message formats.
    pub prompt_messages: Option<Arc<[Message]>>,
    /// The better response's text.
    pub chosen: Arc<str>,
    /// The worse response's text.
    pub rejected: Arc<str>,
    /// P(chosen is better), from the resolution strategy.
    pub p_chosen: f64,
    /// How clearly chosen won, on the strategy's scale.
    pub margin: f64,
    /// How many judgments compared the two responses.
    pub judgments: usize,
    /// The share of those judgments that agree with the resolved verdict.
    pub agreement: f64,
    /// The pair is a reviewer's final verdict on a disputed record, not the labelers' resolved one.
    pub adjudicated: bool,
}

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    /// `user`, `assistant`, `system`, ...
    pub role: String,
    /// The message text.
    pub content: String,
}

/// Which columns besides the texts a pair row carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Columns {
    /// Add `margin` (TRL's reward trainer reads it).
    pub margin: bool,
    /// Add `p_chosen`, `margin`, `judgments`, `agreement` and `adjudicated`, to filter or weight
    /// pairs later.
    pub confidence: bool,
}

/// Writes pairs in one format to `out`, one line per pair, as they come.
///
/// Each line is put together from JSON string literals: a text shared by consecutive rows (the
/// record's prompt and responses) is escaped once and its literal reused, which is most of the
/// work of a line.
pub struct PairWriter<W: Write> {
    out: W,
    format: PairFormat,
    columns: Columns,
    literals: SharedTexts<String>,
    line: String,
    rows: usize,
}

impl<W: Write> PairWriter<W> {
    /// A writer of `format` lines with `columns` to `out`.
    pub fn new(out: W, format: PairFormat, columns: Columns) -> Self {
        Self { out, format, columns, literals: SharedTexts::default(), line: String::new(), rows: 0 }
    }

    /// Writes one pair as one line.
    pub fn write(&mut self, row: &PairRow) -> Result<(), ExportError> {
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        self.compose(&mut line, row);
        extra(&mut line, row, self.columns);
        line.push_str("}\n");
        let written = self.out.write_all(line.as_bytes());
        self.line = line;
        written?;
        self.rows += 1;
        Ok(())
    }

    /// The line up to its confidence columns.
    fn compose(&mut self, line: &mut String, row: &PairRow) {
        match self.format {
            PairFormat::Trl => {
                line.push_str("{\"prompt\":");
                line.push_str(self.literals.get_or_insert_with(&row.prompt, literal));
                line.push_str(",\"chosen\":");
                line.push_str(self.literals.get_or_insert_with(&row.chosen, literal));
                line.push_str(",\"rejected\":");
                line.push_str(self.literals.get_or_insert_with(&row.rejected, literal));
            }
            PairFormat::TrlImplicit => {
                for (key, response) in [("{\"chosen\":", &row.chosen), (",\"rejected\":", &row.rejected)] {
                    // The literal of "prompt\n\nresponse" is the two literals joined inside one
                    // pair of quotes: JSON escapes each character on its own.
                    line.push_str(key);
                    let prompt = self.literals.get_or_insert_with(&row.prompt, literal);
                    line.push_str(&prompt[..prompt.len() - 1]);
                    line.push_str("\\n\\n");
                    line.push_str(&self.literals.get_or_insert_with(response, literal)[1..]);
                }
            }
            PairFormat::TrlConversational => self.message_sides(line, row, ["{\"prompt\":", ",\"chosen\":", ",\"rejected\":"]),
            PairFormat::OpenAiDpo => self.message_sides(line, row, ["{\"input\":{\"messages\":", "},\"preferred_output\":", ",\"non_preferred_output\":"]),
        }
    }

    /// The message layouts: the prompt's messages, then each side as one assistant message, each
    /// after its opening in `openings`.
    fn message_sides(&mut self, line: &mut String, row: &PairRow, openings: [&str; 3]) {
        line.push_str(openings[0]);
        self.prompt_messages(line, row);
        line.push_str(openings[1]);
        self.assistant(line, &row.chosen);
        line.push_str(openings[2]);
        self.assistant(line, &row.rejected);
    }

    /// The chat prompt's messages, or the text prompt as one user message, as a JSON list.
    fn prompt_messages(&mut self, line: &mut String, row: &PairRow) {
        match &row.prompt_messages {
            Some(messages) => {
                line.push('[');
                for (index, message) in messages.iter().enumerate() {
                    if index > 0 {
                        line.push(',');
                    }
                    line.push_str("{\"role\":");
                    line.push_str(&literal(&message.role));
                    line.push_str(",\"content\":");
                    line.push_str(&literal(&message.content));
                    line.push('}');
                }
                line.push(']');
            }
            None => {
                line.push_str("[{\"role\":\"user\",\"content\":");
                line.push_str(self.literals.get_or_insert_with(&row.prompt, literal));
                line.push_str("}]");
            }
        }
    }

    /// A response as the one assistant message of a side.
    fn assistant(&mut self, line: &mut String, response: &Arc<str>) {
        line.push_str("[{\"role\":\"assistant\",\"content\":");
        line.push_str(self.literals.get_or_insert_with(response, literal));
        line.push_str("}]");
    }

    /// Flushes the output and returns how many lines were written.
    pub fn finish(mut self) -> Result<usize, ExportError> {
        self.out.flush()?;
        Ok(self.rows)
    }
}

/// `text` as a JSON string literal, quotes included.
fn literal(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| String::from("\"\""))
}

/// The confidence columns `columns` asks for, each as `,"name":value` (a number that is not
/// finite as `null`, as serde_json writes it).
fn extra(line: &mut String, row: &PairRow, columns: Columns) {
    let number = |line: &mut String, name: &str, value: f64| {
        let _ = write!(line, ",\"{name}\":{}", serde_json::to_string(&value).unwrap_or_else(|_| String::from("null")));
    };
    if columns.confidence {
        number(line, "p_chosen", row.p_chosen);
    }
    if columns.confidence || columns.margin {
        number(line, "margin", row.margin);
    }
    if columns.confidence {
        let _ = write!(line, ",\"judgments\":{}", row.judgments);
        number(line, "agreement", row.agreement);
        let _ = write!(line, ",\"adjudicated\":{}", row.adjudicated);
    }
}

/// A message borrowed from a row, as the Parquet message columns take it.
pub(crate) struct BorrowedMessage<'a> {
    pub(crate) role: &'a str,
    pub(crate) content: &'a str,
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
            adjudicated: false,
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
        let expect = r#"{"prompt":"Why?","chosen":"Because.","rejected":"No.","p_chosen":0.75,"margin":0.5,"judgments":4,"agreement":0.75,"adjudicated":false}"#;
        check(PairFormat::Trl, CONFIDENCE, &row(), expect);
    }

    #[test]
    fn trl_implicit_joins_prompt_and_response_with_a_blank_line() {
        check(PairFormat::TrlImplicit, Columns::default(), &row(), r#"{"chosen":"Why?\n\nBecause.","rejected":"Why?\n\nNo."}"#);
        let expect = r#"{"chosen":"Why?\n\nBecause.","rejected":"Why?\n\nNo.","p_chosen":0.75,"margin":0.5,"judgments":4,"agreement":0.75,"adjudicated":false}"#;
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
        let chat = PairRow { prompt_messages: Some(messages.into()), ..row() };
        let expect = r#"{"prompt":[{"role":"system","content":"Be brief."},{"role":"user","content":"Why?"}],"chosen":[{"role":"assistant","content":"Because."}],"rejected":[{"role":"assistant","content":"No."}],"p_chosen":0.75,"margin":0.5,"judgments":4,"agreement":0.75,"adjudicated":false}"#;
        check(PairFormat::TrlConversational, CONFIDENCE, &chat, expect);
        let expect = r#"{"input":{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Why?"}]},"preferred_output":[{"role":"assistant","content":"Because."}],"non_preferred_output":[{"role":"assistant","content":"No."}]}"#;
        check(PairFormat::OpenAiDpo, Columns::default(), &chat, expect);
    }

    /// Lines are put together by hand: whatever the texts hold, each line must parse back to them.
    #[test]
    fn any_text_survives_every_format() {
        let awkward = PairRow {
            prompt: "He said \"hi\"\n\tand\u{1} left: é 😀 \\ </script>".into(),
            chosen: "\u{7f}\"\\".into(),
            rejected: "".into(),
            ..row()
        };
        for format in [PairFormat::Trl, PairFormat::TrlImplicit, PairFormat::TrlConversational, PairFormat::OpenAiDpo] {
            let mut out = Vec::new();
            let mut writer = PairWriter::new(&mut out, format, CONFIDENCE);
            writer.write(&awkward).unwrap();
            writer.finish().unwrap();
            let line: serde_json::Value = serde_json::from_slice(&out).unwrap();
            let (prompt, chosen, rejected) = match format {
                PairFormat::Trl => (line["prompt"].clone(), line["chosen"].clone(), line["rejected"].clone()),
                PairFormat::TrlImplicit => {
                    let joined = |side: &str| serde_json::Value::from(format!("{}\n\n{side}", awkward.prompt));
                    assert_eq!((&line["chosen"], &line["rejected"]), (&joined(&awkward.chosen), &joined(&awkward.rejected)));
                    continue;
                }
                PairFormat::TrlConversational => (line["prompt"][0]["content"].clone(), line["chosen"][0]["content"].clone(), line["rejected"][0]["content"].clone()),
                PairFormat::OpenAiDpo => {
                    (line["input"]["messages"][0]["content"].clone(), line["preferred_output"][0]["content"].clone(), line["non_preferred_output"][0]["content"].clone())
                }
            };
            assert_eq!((prompt.as_str(), chosen.as_str(), rejected.as_str()), (Some(&*awkward.prompt), Some(&*awkward.chosen), Some(&*awkward.rejected)), "{format:?}");
            assert_eq!(line["judgments"], 4, "{format:?}");
        }
    }

    #[test]
    fn openai_dpo_has_input_and_outputs() {
        let expect = r#"{"input":{"messages":[{"role":"user","content":"Why?"}]},"preferred_output":[{"role":"assistant","content":"Because."}],"non_preferred_output":[{"role":"assistant","content":"No."}]}"#;
        check(PairFormat::OpenAiDpo, Columns::default(), &row(), expect);
        let expect = r#"{"input":{"messages":[{"role":"user","content":"Why?"}]},"preferred_output":[{"role":"assistant","content":"Because."}],"non_preferred_output":[{"role":"assistant","content":"No."}],"p_chosen":0.75,"margin":0.5,"judgments":4,"agreement":0.75,"adjudicated":false}"#;
        check(PairFormat::OpenAiDpo, CONFIDENCE, &row(), expect);
    }
}
