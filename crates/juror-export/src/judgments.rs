//! Raw judgments: one line per labeler response, submitted, discarded or draft.

use std::io::Write;

use serde::Serialize;

use crate::error::ExportError;
use crate::lines::JsonLines;

/// One labeler's response to one record, as exported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JudgmentRow {
    /// The record's id.
    pub record_id: String,
    /// The record's external id, when it has one.
    pub external_id: Option<String>,
    /// The labeler's username.
    pub user: String,
    /// `submitted`, `discarded` or `draft`.
    pub status: String,
    /// The response's values by question name, as stored (`null` for a discard without values).
    pub values: serde_json::Value,
    /// Per ranking question, the option values in the order the web UI showed them; `None` for
    /// answers given through the API.
    pub shown_order: Option<std::collections::BTreeMap<String, Vec<String>>>,
    /// Milliseconds from the page's first render to the answer, for web UI answers.
    pub time_on_task_ms: Option<u64>,
    /// When the response was first written, ISO-8601 in UTC.
    pub inserted_at: String,
}

/// Writes judgment rows to `out`, one line each, as they come.
pub struct JudgmentWriter<W: Write> {
    lines: JsonLines<W>,
}

impl<W: Write> JudgmentWriter<W> {
    /// A writer to `out`.
    pub fn new(out: W) -> Self {
        Self { lines: JsonLines::new(out) }
    }

    /// Writes one row as one line.
    pub fn write(&mut self, row: &JudgmentRow) -> Result<(), ExportError> {
        self.lines.write(row)
    }

    /// Flushes the output and returns how many lines were written.
    pub fn finish(self) -> Result<usize, ExportError> {
        self.lines.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_response_with_every_column() {
        let row = JudgmentRow {
            record_id: "r1".into(),
            external_id: None,
            user: "natalia".into(),
            status: "submitted".into(),
            values: serde_json::json!({"rating": {"value": 2}}),
            shown_order: Some([("rank".to_owned(), vec!["b".to_owned(), "a".to_owned()])].into()),
            time_on_task_ms: Some(5300),
            inserted_at: "2026-01-02T03:04:05.000006".into(),
        };
        let mut out = Vec::new();
        let mut writer = JudgmentWriter::new(&mut out);
        writer.write(&row).unwrap();
        writer.write(&JudgmentRow { external_id: Some("e1".into()), status: "discarded".into(), values: serde_json::Value::Null, shown_order: None, time_on_task_ms: None, ..row }).unwrap();
        assert_eq!(writer.finish().unwrap(), 2);
        let expect = concat!(
            r#"{"record_id":"r1","external_id":null,"user":"natalia","status":"submitted","values":{"rating":{"value":2}},"shown_order":{"rank":["b","a"]},"time_on_task_ms":5300,"inserted_at":"2026-01-02T03:04:05.000006"}"#,
            "\n",
            r#"{"record_id":"r1","external_id":"e1","user":"natalia","status":"discarded","values":null,"shown_order":null,"time_on_task_ms":null,"inserted_at":"2026-01-02T03:04:05.000006"}"#,
            "\n"
        );
        assert_eq!(String::from_utf8(out).unwrap(), expect);
    }
}
