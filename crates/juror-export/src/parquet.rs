//! Preference pairs as a Parquet file, for the flat layouts (`trl`, `trl-implicit`).
//!
//! Every column is required: strings are `BYTE_ARRAY (STRING)`, `p_chosen`, `margin` and
//! `agreement` are `DOUBLE`, `judgments` is `INT64`, all snappy-compressed. Rows are buffered one
//! row group at a time ([`ParquetPairWriter::ROW_GROUP_ROWS`] rows), so memory stays bounded by a
//! row group, not the file. The message layouts (`trl-conversational`, `openai-dpo`) hold nested
//! lists of messages and are refused: write them as JSON lines.

use std::io::Write;
use std::sync::Arc;

use parquet::basic::Compression;
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;

use crate::error::ExportError;
use crate::format::{Format, PairFormat};
use crate::pairs::{Columns, PairRow};

/// Writes pairs in a flat format to `out` as one Parquet file.
pub struct ParquetPairWriter<W: Write + Send> {
    writer: SerializedFileWriter<W>,
    format: PairFormat,
    names: Vec<&'static str>,
    buffer: Buffer,
    group_rows: usize,
    rows: usize,
}

/// One row group's values, column by column.
#[derive(Default)]
struct Buffer {
    prompt: Vec<ByteArray>,
    chosen: Vec<ByteArray>,
    rejected: Vec<ByteArray>,
    p_chosen: Vec<f64>,
    margin: Vec<f64>,
    judgments: Vec<i64>,
    agreement: Vec<f64>,
    rows: usize,
}

impl<W: Write + Send> ParquetPairWriter<W> {
    /// Rows per row group: what the writer holds in memory at most.
    pub const ROW_GROUP_ROWS: usize = 10_000;

    /// Whether `format` can be written as Parquet (only the flat pair layouts can).
    pub fn supports(format: PairFormat) -> bool {
        matches!(format, PairFormat::Trl | PairFormat::TrlImplicit)
    }

    /// A writer of `format` rows with `columns` to `out`, row groups of [`Self::ROW_GROUP_ROWS`].
    pub fn new(out: W, format: PairFormat, columns: Columns) -> Result<Self, ExportError> {
        Self::with_row_group_rows(out, format, columns, Self::ROW_GROUP_ROWS)
    }

    /// As [`Self::new`], with `group_rows` rows per row group (at least 1).
    pub fn with_row_group_rows(out: W, format: PairFormat, columns: Columns, group_rows: usize) -> Result<Self, ExportError> {
        if !Self::supports(format) {
            return Err(ExportError::ParquetUnsupported { format: Format::Pairs(format).as_str() });
        }
        let mut names = match format {
            PairFormat::Trl => vec!["prompt", "chosen", "rejected"],
            _ => vec!["chosen", "rejected"],
        };
        if columns.confidence {
            names.extend(["p_chosen", "margin", "judgments", "agreement"]);
        } else if columns.margin {
            names.push("margin");
        }
        let fields: String = names
            .iter()
            .map(|name| match *name {
                "judgments" => format!("  REQUIRED INT64 {name};\n"),
                "p_chosen" | "margin" | "agreement" => format!("  REQUIRED DOUBLE {name};\n"),
                _ => format!("  REQUIRED BYTE_ARRAY {name} (STRING);\n"),
            })
            .collect();
        let schema = Arc::new(parse_message_type(&format!("message preference_pairs {{\n{fields}}}"))?);
        let properties = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(group_rows.max(1)))
            .set_created_by(format!("juror {}", env!("CARGO_PKG_VERSION")))
            .build();
        let writer = SerializedFileWriter::new(out, schema, Arc::new(properties))?;
        Ok(Self { writer, format, names, buffer: Buffer::default(), group_rows: group_rows.max(1), rows: 0 })
    }

    /// Buffers one pair; writes a row group when the buffer is full.
    pub fn write(&mut self, row: &PairRow) -> Result<(), ExportError> {
        let buffer = &mut self.buffer;
        match self.format {
            PairFormat::Trl => {
                buffer.prompt.push(ByteArray::from(row.prompt.as_str()));
                buffer.chosen.push(ByteArray::from(row.chosen.as_str()));
                buffer.rejected.push(ByteArray::from(row.rejected.as_str()));
            }
            _ => {
                buffer.chosen.push(ByteArray::from(format!("{}\n\n{}", row.prompt, row.chosen).into_bytes()));
                buffer.rejected.push(ByteArray::from(format!("{}\n\n{}", row.prompt, row.rejected).into_bytes()));
            }
        }
        buffer.p_chosen.push(row.p_chosen);
        buffer.margin.push(row.margin);
        buffer.judgments.push(i64::try_from(row.judgments).unwrap_or(i64::MAX));
        buffer.agreement.push(row.agreement);
        buffer.rows += 1;
        self.rows += 1;
        if buffer.rows >= self.group_rows {
            self.flush_group()?;
        }
        Ok(())
    }

    /// Writes the buffered rows as one row group.
    fn flush_group(&mut self) -> Result<(), ExportError> {
        if self.buffer.rows == 0 {
            return Ok(());
        }
        let buffer = std::mem::take(&mut self.buffer);
        let mut group = self.writer.next_row_group()?;
        for name in &self.names {
            let Some(mut column) = group.next_column()? else { break };
            match *name {
                "prompt" => column.typed::<ByteArrayType>().write_batch(&buffer.prompt, None, None)?,
                "chosen" => column.typed::<ByteArrayType>().write_batch(&buffer.chosen, None, None)?,
                "rejected" => column.typed::<ByteArrayType>().write_batch(&buffer.rejected, None, None)?,
                "p_chosen" => column.typed::<DoubleType>().write_batch(&buffer.p_chosen, None, None)?,
                "margin" => column.typed::<DoubleType>().write_batch(&buffer.margin, None, None)?,
                "agreement" => column.typed::<DoubleType>().write_batch(&buffer.agreement, None, None)?,
                _ => column.typed::<Int64Type>().write_batch(&buffer.judgments, None, None)?,
            };
            column.close()?;
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

#[cfg(test)]
mod tests {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use serde_json::{json, Value};

    use super::*;

    fn row(index: usize) -> PairRow {
        PairRow {
            item: format!("r{index}"),
            prompt: format!("Why {index}?"),
            prompt_messages: None,
            chosen: "Because.".into(),
            rejected: "No.".into(),
            p_chosen: 0.75,
            margin: 0.5,
            judgments: index,
            agreement: 1.0,
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
        assert_eq!(rows[3], json!({"prompt": "Why 3?", "chosen": "Because.", "rejected": "No.", "p_chosen": 0.75, "margin": 0.5, "judgments": 3, "agreement": 1.0}));
        for expect in ["REQUIRED BYTE_ARRAY prompt (STRING)", "REQUIRED DOUBLE p_chosen", "REQUIRED INT64 judgments", "REQUIRED DOUBLE agreement"] {
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
    fn message_formats_are_refused() {
        for format in [PairFormat::TrlConversational, PairFormat::OpenAiDpo] {
            let error = ParquetPairWriter::new(Vec::new(), format, Columns::default()).err().unwrap();
            assert!(error.to_string().contains("only `trl` and `trl-implicit`"), "{error}");
        }
    }
}
