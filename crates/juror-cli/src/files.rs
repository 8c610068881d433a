//! Reading record files: JSONL, CSV and Parquet rows as JSON objects, each with its line number
//! (for Parquet, its row number).

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use anyhow::{bail, Context};
use serde_json::{Map, Value};

/// One row of an input file.
pub struct Row {
    /// 1-based line number (for CSV, of the row's first line).
    pub line: u64,
    pub values: Map<String, Value>,
}

/// The formats `juror import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jsonl,
    Csv,
    Parquet,
}

impl Format {
    /// The format implied by the file's extension.
    pub fn from_path(path: &Path) -> anyhow::Result<Self> {
        match path.extension().and_then(|extension| extension.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("jsonl" | "ndjson" | "json") => Ok(Self::Jsonl),
            Some("csv") => Ok(Self::Csv),
            Some("parquet" | "pq") => Ok(Self::Parquet),
            other => bail!("cannot import `{}`: unknown extension {other:?} (expected .jsonl, .csv or .parquet)", path.display()),
        }
    }
}

/// Rows of a file, read lazily; `counter` reports bytes read so far for progress.
pub fn rows(path: &Path, format: Format, counter: impl Fn(u64) + 'static) -> anyhow::Result<Box<dyn Iterator<Item = anyhow::Result<Row>>>> {
    let file = File::open(path).with_context(|| format!("failed to open {}", path.display()))?;
    let reader = CountingReader { inner: file, count: 0, report: Box::new(counter) };
    Ok(match format {
        Format::Jsonl => Box::new(jsonl_rows(BufReader::with_capacity(1 << 20, reader))),
        Format::Csv => Box::new(csv_rows(reader)?),
        Format::Parquet => Box::new(parquet_rows(path)?),
    })
}

fn parquet_rows(path: &Path) -> anyhow::Result<impl Iterator<Item = anyhow::Result<Row>>> {
    use parquet::file::reader::SerializedFileReader;
    let file = File::open(path).with_context(|| format!("failed to open {}", path.display()))?;
    let reader = SerializedFileReader::new(file).with_context(|| format!("{} is not a readable Parquet file", path.display()))?;
    let rows = reader.into_iter();
    Ok(rows.enumerate().map(|(index, row)| {
        let number = index as u64 + 1;
        let row = row.map_err(|error| anyhow::anyhow!("row {number}: {error}"))?;
        match row.to_json_value() {
            Value::Object(values) => Ok(Row { line: number, values }),
            _ => Err(anyhow::anyhow!("row {number}: not a record")),
        }
    }))
}

fn jsonl_rows(reader: impl BufRead) -> impl Iterator<Item = anyhow::Result<Row>> {
    reader.lines().enumerate().filter_map(|(index, line)| {
        let line_number = index as u64 + 1;
        let text = match line {
            Ok(text) => text,
            Err(error) => return Some(Err(anyhow::Error::new(error).context(format!("line {line_number}: failed to read")))),
        };
        if text.trim().is_empty() {
            return None;
        }
        Some(match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(values)) => Ok(Row { line: line_number, values }),
            Ok(_) => Err(anyhow::anyhow!("line {line_number}: expected a JSON object")),
            Err(error) => Err(anyhow::anyhow!("line {line_number}: invalid JSON: {error}")),
        })
    })
}

fn csv_rows(reader: impl Read + 'static) -> anyhow::Result<impl Iterator<Item = anyhow::Result<Row>>> {
    let mut csv = csv::ReaderBuilder::new().flexible(false).from_reader(reader);
    let headers: Vec<String> = csv.headers().context("failed to read the CSV header")?.iter().map(str::to_owned).collect();
    Ok(csv.into_records().map(move |record| {
        let record = record.map_err(|error| {
            let line = error.position().map_or(0, |position| position.line());
            anyhow::anyhow!("line {line}: {error}")
        })?;
        let line = record.position().map_or(0, |position| position.line());
        let values = headers.iter().zip(record.iter()).map(|(name, value)| (name.clone(), Value::String(value.to_owned()))).collect();
        Ok(Row { line, values })
    }))
}

struct CountingReader<R> {
    inner: R,
    count: u64,
    report: Box<dyn Fn(u64)>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buffer)?;
        self.count += read as u64;
        (self.report)(self.count);
        Ok(read)
    }
}

/// A row's id cell as text: strings as they are, other values as JSON; `None` for a null or an
/// empty string.
pub(crate) fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(text) if text.is_empty() => None,
        Value::String(text) => Some(text.clone()),
        other => Some(other.to_string()),
    }
}
