//! Preference pairs as a Parquet file, in every pair format.
//!
//! The flat layouts (`trl`, `trl-implicit`) are string columns; the message layouts
//! (`trl-conversational`, `openai-dpo`) are lists of `role`/`content` structs (see `columns`).
//! `p_chosen`, `margin` and `agreement` are `DOUBLE`, `judgments` is `INT64`, `adjudicated` is
//! `BOOLEAN`; everything is
//! snappy-compressed. Rows are buffered one row group at a time
//! ([`ParquetPairWriter::ROW_GROUP_ROWS`] rows), so memory stays bounded by a row group, not the
//! file.

mod columns;

use std::io::Write;
use std::sync::Arc;

use parquet::basic::Compression;
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;

use crate::error::ExportError;
use crate::format::PairFormat;
use crate::pairs::{Columns, PairRow};
use crate::shared::SharedTexts;
use columns::{layout, schema, Column, Values};

/// Writes pairs in one format to `out` as one Parquet file.
pub struct ParquetPairWriter<W: Write + Send> {
    writer: SerializedFileWriter<W>,
    layout: Vec<Column>,
    /// The current row group's values, one entry per column of `layout`.
    buffer: Vec<Values>,
    buffered: usize,
    /// The bytes of the texts the current record's rows share.
    bytes: SharedTexts<ByteArray>,
    group_rows: usize,
    rows: usize,
}

impl<W: Write + Send> ParquetPairWriter<W> {
    /// Rows per row group: what the writer holds in memory at most.
    pub const ROW_GROUP_ROWS: usize = 10_000;

    /// A writer of `format` rows with `columns` to `out`, row groups of [`Self::ROW_GROUP_ROWS`].
    pub fn new(out: W, format: PairFormat, columns: Columns) -> Result<Self, ExportError> {
        Self::with_row_group_rows(out, format, columns, Self::ROW_GROUP_ROWS)
    }

    /// As [`Self::new`], with `group_rows` rows per row group (at least 1).
    pub fn with_row_group_rows(out: W, format: PairFormat, columns: Columns, group_rows: usize) -> Result<Self, ExportError> {
        let layout = layout(format, columns);
        let schema = Arc::new(parse_message_type(&schema(format, &layout))?);
        let properties = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(group_rows.max(1)))
            .set_created_by(format!("juror {}", env!("CARGO_PKG_VERSION")))
            .build();
        let writer = SerializedFileWriter::new(out, schema, Arc::new(properties))?;
        let buffer = layout.iter().map(|column| Values::for_source(column.source)).collect();
        Ok(Self { writer, layout, buffer, buffered: 0, bytes: SharedTexts::default(), group_rows: group_rows.max(1), rows: 0 })
    }

    /// Buffers one pair; writes a row group when the buffer is full.
    pub fn write(&mut self, row: &PairRow) -> Result<(), ExportError> {
        for (column, values) in self.layout.iter().zip(&mut self.buffer) {
            values.push(column.source, row, &mut self.bytes);
        }
        self.buffered += 1;
        self.rows += 1;
        if self.buffered >= self.group_rows {
            self.flush_group()?;
        }
        Ok(())
    }

    /// Writes the buffered rows as one row group, leaf column by leaf column.
    fn flush_group(&mut self) -> Result<(), ExportError> {
        if self.buffered == 0 {
            return Ok(());
        }
        let fresh = self.layout.iter().map(|column| Values::for_source(column.source)).collect();
        let buffer = std::mem::replace(&mut self.buffer, fresh);
        self.buffered = 0;
        let mut group = self.writer.next_row_group()?;
        for values in &buffer {
            match values {
                Values::Text(values) => write_leaf::<ByteArrayType>(&mut group, values, None)?,
                Values::Double(values) => write_leaf::<DoubleType>(&mut group, values, None)?,
                Values::Int(values) => write_leaf::<Int64Type>(&mut group, values, None)?,
                Values::Flag(values) => write_leaf::<BoolType>(&mut group, values, None)?,
                Values::Messages { roles, contents, definition, repetition } => {
                    write_leaf::<ByteArrayType>(&mut group, roles, Some((definition, repetition)))?;
                    write_leaf::<ByteArrayType>(&mut group, contents, Some((definition, repetition)))?;
                }
            }
        }
        group.close()?;
        Ok(())
    }

    /// Writes the last row group and the footer, and returns how many rows were written.
    pub fn finish(mut self) -> Result<usize, ExportError> {
        self.flush_group()?;
        let mut out = self.writer.into_inner()?;
        out.flush()?;
        Ok(self.rows)
    }
}

/// Writes the next leaf column of `group`: `values`, with (definition, repetition) levels for a
/// column inside a list.
fn write_leaf<T: parquet::data_type::DataType>(
    group: &mut parquet::file::writer::SerializedRowGroupWriter<'_, impl Write + Send>,
    values: &[T::T],
    levels: Option<(&Vec<i16>, &Vec<i16>)>,
) -> Result<(), ExportError> {
    let mut column = group.next_column()?.ok_or_else(|| parquet::errors::ParquetError::General("the schema has fewer columns than the layout".into()))?;
    let (definition, repetition) = levels.map_or((None, None), |(definition, repetition)| (Some(definition.as_slice()), Some(repetition.as_slice())));
    column.typed::<T>().write_batch(values, definition, repetition)?;
    column.close()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use serde_json::{json, Value};

    use super::*;
    use crate::format::Format;
    use crate::pairs::Message;

    fn row(index: usize) -> PairRow {
        PairRow {
            item: format!("r{index}").into(),
            prompt: format!("Why {index}?").into(),
            prompt_messages: None,
            chosen: "Because.".into(),
            rejected: "No.".into(),
            p_chosen: 0.75,
            margin: 0.5,
            judgments: index,
            agreement: 1.0,
            adjudicated: index == 2,
        }
    }

    /// Writes `count` rows and reads them back as JSON, with the number of row groups.
    fn round_trip(format: PairFormat, columns: Columns, count: usize, group_rows: usize) -> (Vec<Value>, usize, String) {
        let dir = std::env::temp_dir().join(format!("juror-export-parquet-{}-{count}-{group_rows}-{}", std::process::id(), Format::Pairs(format).as_str()));
        let file = std::fs::File::create(&dir).unwrap();
        let mut writer = ParquetPairWriter::with_row_group_rows(file, format, columns, group_rows).unwrap();
        for index in 0..count {
            writer.write(&row(index)).unwrap();
        }
        assert_eq!(writer.finish().unwrap(), count);
        let reader = SerializedFileReader::new(std::fs::File::open(&dir).unwrap()).unwrap();
        let groups = reader.metadata().num_row_groups();
        let mut schema = Vec::new();
        parquet::schema::printer::print_schema(&mut schema, reader.metadata().file_metadata().schema());
        let rows = reader.into_iter().map(|row| row.unwrap().to_json_value()).collect();
        std::fs::remove_file(&dir).unwrap();
        (rows, groups, String::from_utf8(schema).unwrap())
    }

    #[test]
    fn trl_rows_read_back_with_typed_columns() {
        let confidence = Columns { margin: false, confidence: true };
        let (rows, groups, schema) = round_trip(PairFormat::Trl, confidence, 5, 2);
        assert_eq!(groups, 3);
        assert_eq!(rows.len(), 5);
        assert_eq!(rows[3], json!({"prompt": "Why 3?", "chosen": "Because.", "rejected": "No.", "p_chosen": 0.75, "margin": 0.5, "judgments": 3, "agreement": 1.0, "adjudicated": false}));
        for expect in ["REQUIRED BYTE_ARRAY prompt (STRING)", "REQUIRED DOUBLE p_chosen", "REQUIRED INT64 judgments", "REQUIRED DOUBLE agreement", "REQUIRED BOOLEAN adjudicated"] {
            assert!(schema.contains(expect), "{schema}");
        }
    }

    #[test]
    fn plain_and_margin_columns() {
        let (rows, groups, _) = round_trip(PairFormat::Trl, Columns::default(), 1, 10_000);
        assert_eq!(groups, 1);
        assert_eq!(rows, vec![json!({"prompt": "Why 0?", "chosen": "Because.", "rejected": "No."})]);
        let (rows, _, _) = round_trip(PairFormat::TrlImplicit, Columns { margin: true, confidence: false }, 1, 10_000);
        assert_eq!(rows, vec![json!({"chosen": "Why 0?\n\nBecause.", "rejected": "Why 0?\n\nNo.", "margin": 0.5})]);
    }

    #[test]
    fn an_empty_export_is_a_valid_file() {
        let (rows, groups, schema) = round_trip(PairFormat::TrlImplicit, Columns::default(), 0, 10);
        assert_eq!((rows.len(), groups), (0, 0));
        assert!(schema.contains("REQUIRED BYTE_ARRAY chosen (STRING)"), "{schema}");
    }

    #[test]
    fn message_formats_read_back_as_lists_of_structs() {
        let confidence = Columns { margin: false, confidence: true };
        let (rows, groups, schema) = round_trip(PairFormat::TrlConversational, confidence, 3, 2);
        assert_eq!((rows.len(), groups), (3, 2));
        let expect = json!({
            "prompt": [{"role": "user", "content": "Why 2?"}],
            "chosen": [{"role": "assistant", "content": "Because."}],
            "rejected": [{"role": "assistant", "content": "No."}],
            "p_chosen": 0.75, "margin": 0.5, "judgments": 2, "agreement": 1.0, "adjudicated": true,
        });
        assert_eq!(rows[2], expect);
        assert!(schema.contains("REQUIRED group prompt (LIST)") && schema.contains("REPEATED group list"), "{schema}");
        let (rows, _, _) = round_trip(PairFormat::OpenAiDpo, Columns::default(), 1, 10);
        let expect = json!({
            "input": {"messages": [{"role": "user", "content": "Why 0?"}]},
            "preferred_output": [{"role": "assistant", "content": "Because."}],
            "non_preferred_output": [{"role": "assistant", "content": "No."}],
        });
        assert_eq!(rows, vec![expect]);
    }

    #[test]
    fn a_chat_prompt_keeps_every_message() {
        let dir = std::env::temp_dir().join(format!("juror-export-parquet-chat-{}", std::process::id()));
        let mut writer = ParquetPairWriter::new(std::fs::File::create(&dir).unwrap(), PairFormat::TrlConversational, Columns::default()).unwrap();
        let messages = vec![Message { role: "system".into(), content: "Be brief.".into() }, Message { role: "user".into(), content: "Why?".into() }];
        writer.write(&PairRow { prompt_messages: Some(messages.into()), ..row(0) }).unwrap();
        writer.write(&row(1)).unwrap();
        writer.finish().unwrap();
        let reader = SerializedFileReader::new(std::fs::File::open(&dir).unwrap()).unwrap();
        let prompts: Vec<Value> = reader.into_iter().map(|row| row.unwrap().to_json_value()["prompt"].clone()).collect();
        std::fs::remove_file(&dir).unwrap();
        assert_eq!(prompts, [json!([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Why?"}]), json!([{"role": "user", "content": "Why 1?"}])]);
    }
}
