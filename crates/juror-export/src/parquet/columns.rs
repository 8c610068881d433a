//! Which Parquet columns each pair format has, their schema, and one row group's values.
//!
//! Text columns are `BYTE_ARRAY (STRING)`, the confidence columns `DOUBLE`, `INT64` and `BOOLEAN`. A list of
//! messages is the standard three-level Parquet `LIST` of a `role`/`content` struct, so pyarrow
//! reads it as `list<struct<role: string, content: string>>` and the `datasets` library as a list
//! of `{"role", "content"}` dicts, the shape TRL's conversational format and OpenAI's DPO format
//! take. Every column is required; a message list holds at least the prompt's messages or the one
//! response, and an empty list is written as such.

use std::sync::Arc;

use parquet::data_type::ByteArray;

use crate::format::PairFormat;
use crate::pairs::{assistant, prompt_messages, BorrowedMessage, Columns, PairRow};
use crate::shared::SharedTexts;

/// What one top-level column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    Prompt,
    Chosen,
    Rejected,
    /// The prompt, a blank line, then the chosen response (`trl-implicit`).
    PromptThenChosen,
    PromptThenRejected,
    PromptMessages,
    ChosenMessage,
    RejectedMessage,
    PChosen,
    Margin,
    Judgments,
    Agreement,
    Adjudicated,
}

/// A top-level column: its name and what it holds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Column {
    pub(crate) name: &'static str,
    pub(crate) source: Source,
}

/// The columns of `format` with `columns`, in file order.
pub(crate) fn layout(format: PairFormat, columns: Columns) -> Vec<Column> {
    let column = |name, source| Column { name, source };
    let mut layout = match format {
        PairFormat::Trl => vec![column("prompt", Source::Prompt), column("chosen", Source::Chosen), column("rejected", Source::Rejected)],
        PairFormat::TrlImplicit => vec![column("chosen", Source::PromptThenChosen), column("rejected", Source::PromptThenRejected)],
        PairFormat::TrlConversational => {
            vec![column("prompt", Source::PromptMessages), column("chosen", Source::ChosenMessage), column("rejected", Source::RejectedMessage)]
        }
        PairFormat::OpenAiDpo => vec![
            column("input", Source::PromptMessages),
            column("preferred_output", Source::ChosenMessage),
            column("non_preferred_output", Source::RejectedMessage),
        ],
    };
    if columns.confidence {
        layout.extend([column("p_chosen", Source::PChosen), column("margin", Source::Margin), column("judgments", Source::Judgments), column("agreement", Source::Agreement), column("adjudicated", Source::Adjudicated)]);
    } else if columns.margin {
        layout.push(column("margin", Source::Margin));
    }
    layout
}

/// The Parquet schema (message type) of `layout`; in `openai-dpo` the prompt's messages sit in an
/// `input` struct, as `input.messages`.
pub(crate) fn schema(format: PairFormat, layout: &[Column]) -> String {
    let fields: String = layout
        .iter()
        .map(|column| match column.source {
            Source::PChosen | Source::Margin | Source::Agreement => format!("  REQUIRED DOUBLE {};\n", column.name),
            Source::Judgments => format!("  REQUIRED INT64 {};\n", column.name),
            Source::Adjudicated => format!("  REQUIRED BOOLEAN {};\n", column.name),
            Source::PromptMessages if format == PairFormat::OpenAiDpo => format!("  REQUIRED GROUP {} {{\n{}  }}\n", column.name, message_list("messages")),
            Source::PromptMessages | Source::ChosenMessage | Source::RejectedMessage => message_list(column.name),
            _ => format!("  REQUIRED BYTE_ARRAY {} (STRING);\n", column.name),
        })
        .collect();
    format!("message preference_pairs {{\n{fields}}}")
}

/// A required list of `{role, content}` structs named `name`.
fn message_list(name: &str) -> String {
    format!(
        "  REQUIRED GROUP {name} (LIST) {{\n    REPEATED GROUP list {{\n      REQUIRED GROUP element {{\n        REQUIRED BYTE_ARRAY role (STRING);\n        REQUIRED BYTE_ARRAY content (STRING);\n      }}\n    }}\n  }}\n"
    )
}

/// One column's values for the current row group.
#[derive(Debug)]
pub(crate) enum Values {
    Text(Vec<ByteArray>),
    Double(Vec<f64>),
    Int(Vec<i64>),
    Flag(Vec<bool>),
    /// A message list: its two leaf columns (`role`, `content`) share the levels. The definition
    /// level is 1 for a message and 0 for an empty list; the repetition level is 0 at a row's
    /// first entry and 1 after.
    Messages { roles: Vec<ByteArray>, contents: Vec<ByteArray>, definition: Vec<i16>, repetition: Vec<i16> },
}

impl Values {
    /// Empty values for a column holding `source`.
    pub(crate) fn for_source(source: Source) -> Self {
        match source {
            Source::PChosen | Source::Margin | Source::Agreement => Values::Double(Vec::new()),
            Source::Judgments => Values::Int(Vec::new()),
            Source::Adjudicated => Values::Flag(Vec::new()),
            Source::PromptMessages | Source::ChosenMessage | Source::RejectedMessage => {
                Values::Messages { roles: Vec::new(), contents: Vec::new(), definition: Vec::new(), repetition: Vec::new() }
            }
            _ => Values::Text(Vec::new()),
        }
    }

    /// Appends `row`'s value for `source`; `bytes` keeps each shared text's bytes, so the rows of
    /// one record copy their prompt and responses once.
    pub(crate) fn push(&mut self, source: Source, row: &PairRow, bytes: &mut SharedTexts<ByteArray>) {
        let mut shared = |text: &Arc<str>| bytes.get_or_insert_with(text, |text: &str| ByteArray::from(text)).clone();
        match (self, source) {
            (Values::Text(values), Source::Prompt) => values.push(shared(&row.prompt)),
            (Values::Text(values), Source::Chosen) => values.push(shared(&row.chosen)),
            (Values::Text(values), Source::Rejected) => values.push(shared(&row.rejected)),
            (Values::Text(values), Source::PromptThenChosen) => values.push(ByteArray::from(format!("{}\n\n{}", row.prompt, row.chosen).into_bytes())),
            (Values::Text(values), Source::PromptThenRejected) => values.push(ByteArray::from(format!("{}\n\n{}", row.prompt, row.rejected).into_bytes())),
            (Values::Double(values), Source::PChosen) => values.push(row.p_chosen),
            (Values::Double(values), Source::Margin) => values.push(row.margin),
            (Values::Double(values), Source::Agreement) => values.push(row.agreement),
            (Values::Int(values), Source::Judgments) => values.push(i64::try_from(row.judgments).unwrap_or(i64::MAX)),
            (Values::Flag(values), Source::Adjudicated) => values.push(row.adjudicated),
            (messages @ Values::Messages { .. }, Source::PromptMessages) => messages.push_messages(&prompt_messages(row)),
            (messages @ Values::Messages { .. }, Source::ChosenMessage) => messages.push_messages(&[assistant(&row.chosen)]),
            (messages @ Values::Messages { .. }, Source::RejectedMessage) => messages.push_messages(&[assistant(&row.rejected)]),
            (values, source) => unreachable!("{source:?} does not go in {values:?}: `Values::for_source` made them together"),
        }
    }

    /// Appends one row's message list.
    fn push_messages(&mut self, messages: &[BorrowedMessage<'_>]) {
        let Values::Messages { roles, contents, definition, repetition } = self else { return };
        if messages.is_empty() {
            definition.push(0);
            repetition.push(0);
        }
        for (index, message) in messages.iter().enumerate() {
            roles.push(ByteArray::from(message.role));
            contents.push(ByteArray::from(message.content));
            definition.push(1);
            repetition.push(i16::from(index > 0));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pairs::Message;

    #[test]
    fn message_lists_carry_levels_per_message() {
        let row = PairRow {
            item: "r".into(),
            prompt: "system: Be brief.\n\nuser: Why?".into(),
            prompt_messages: Some(vec![Message { role: "system".into(), content: "Be brief.".into() }, Message { role: "user".into(), content: "Why?".into() }].into()),
            chosen: "Because.".into(),
            rejected: "No.".into(),
            p_chosen: 1.0,
            margin: 1.0,
            judgments: 1,
            agreement: 1.0,
            adjudicated: false,
        };
        let mut values = Values::for_source(Source::PromptMessages);
        let mut bytes = SharedTexts::default();
        values.push(Source::PromptMessages, &row, &mut bytes);
        values.push(Source::PromptMessages, &row, &mut bytes);
        values.push_messages(&[]);
        let Values::Messages { roles, definition, repetition, .. } = values else { panic!("not a message list") };
        assert_eq!((roles.len(), definition, repetition), (4, vec![1, 1, 1, 1, 0], vec![0, 1, 0, 1, 0]));
    }

    #[test]
    fn openai_wraps_the_prompt_messages_in_input() {
        let schema = schema(PairFormat::OpenAiDpo, &layout(PairFormat::OpenAiDpo, Columns::default()));
        assert!(schema.contains("REQUIRED GROUP input {\n  REQUIRED GROUP messages (LIST) {"), "{schema}");
        assert!(schema.contains("REQUIRED GROUP preferred_output (LIST)"), "{schema}");
    }
}
