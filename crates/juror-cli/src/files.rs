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
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let damaged = || format!("{} is not a readable Parquet file", path.display());
    let file = File::open(path).with_context(|| format!("failed to open {}", path.display()))?;
    let length = file.metadata().with_context(|| format!("failed to read {}", path.display()))?.len();
    let reader = without_panics(|| SerializedFileReader::new(file)).with_context(damaged)?.with_context(damaged)?;
    // The reader trusts the footer's offsets (and panics on negative ones): check them first.
    for row_group in reader.metadata().row_groups() {
        for column in row_group.columns() {
            let start = column.dictionary_page_offset().unwrap_or_else(|| column.data_page_offset());
            let size = column.compressed_size();
            let inside = start >= 0 && size >= 0 && (start as u64).checked_add(size as u64).is_some_and(|end| end <= length);
            if !inside {
                bail!("{}: a column chunk lies outside the file", damaged());
            }
        }
    }
    let mut rows = reader.into_iter().enumerate();
    let mut failed = false;
    Ok(std::iter::from_fn(move || {
        if failed {
            return None;
        }
        let (index, row) = match without_panics(|| rows.next()) {
            Ok(next) => next?,
            Err(error) => {
                failed = true;
                return Some(Err(error));
            }
        };
        let number = index as u64 + 1;
        Some(row.map_err(|error| anyhow::anyhow!("row {number}: {error}")).and_then(|row| match row.to_json_value() {
            Value::Object(values) => Ok(Row { line: number, values }),
            _ => Err(anyhow::anyhow!("row {number}: not a record")),
        }))
    }))
}

/// Runs a step of the Parquet reader, turning a panic (it has some on damaged files) into an
/// error, so a bad file ends the import with a message instead of a crash.
fn without_panics<T>(step: impl FnOnce() -> T) -> anyhow::Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(step)).map_err(|cause| {
        let detail = cause.downcast_ref::<String>().map(String::as_str).or_else(|| cause.downcast_ref::<&str>().copied()).unwrap_or("unknown cause");
        anyhow::anyhow!("the Parquet file is damaged ({detail})")
    })
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use juror_export::{Columns, PairFormat, PairRow, ParquetPairWriter};
    use proptest::prelude::*;

    use super::*;

    /// Reads every row of `bytes` written to a file with `extension`: rows and errors are both
    /// fine, a panic is not. At most `limit` rows are read.
    fn read_all(bytes: &[u8], extension: &str, limit: usize) -> usize {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(format!("input.{extension}"));
        std::fs::write(&path, bytes).unwrap();
        let format = Format::from_path(&path).unwrap();
        match rows(&path, format, |_| {}) {
            Ok(rows) => rows.take(limit).count(),
            Err(_) => 0,
        }
    }

    /// A small Parquet file as `juror export` writes them.
    fn valid_parquet() -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pairs.parquet");
        let mut writer = ParquetPairWriter::new(File::create(&path).unwrap(), PairFormat::Trl, Columns::default()).unwrap();
        for index in 0..20 {
            let text = |prefix: &str| -> Arc<str> { Arc::from(format!("{prefix} {index}")) };
            let row = PairRow { item: text("item"), prompt: text("prompt"), prompt_messages: None, chosen: text("chosen"), rejected: text("rejected"), p_chosen: 0.75, margin: 1.0, judgments: 2, agreement: 1.0, adjudicated: false };
            writer.write(&row).unwrap();
        }
        writer.finish().unwrap();
        std::fs::read(&path).unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

        #[test]
        fn any_bytes_read_as_rows_or_errors_never_a_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048), extension in prop::sample::select(vec!["jsonl", "csv", "parquet"])) {
            read_all(&bytes, extension, 10_000);
        }

        #[test]
        fn text_shaped_like_the_formats_never_panics(lines in proptest::collection::vec("[{}\\[\\]\",:a-z0-9 \\\\é\r]{0,40}", 0..20), extension in prop::sample::select(vec!["jsonl", "csv"])) {
            read_all(lines.join("\n").as_bytes(), extension, 10_000);
        }

        #[test]
        fn a_damaged_parquet_file_is_an_error_never_a_panic(flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8), cut in any::<prop::sample::Index>(), truncate in any::<bool>()) {
            let mut bytes = valid_parquet();
            for (at, value) in flips {
                let index = at.index(bytes.len());
                bytes[index] ^= value | 1;
            }
            if truncate {
                let keep = cut.index(bytes.len());
                bytes.truncate(keep);
            }
            read_all(&bytes, "parquet", 10_000);
        }
    }

    #[test]
    fn the_valid_parquet_file_reads_back_whole() {
        assert_eq!(read_all(&valid_parquet(), "parquet", 100), 20);
    }
}
