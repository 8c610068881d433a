//! JSON lines: one serialised value per line, counted, flushed at the end.

use std::io::Write;

use serde::Serialize;

use crate::error::ExportError;

/// Writes values to `out` as JSON lines.
pub(crate) struct JsonLines<W: Write> {
    out: W,
    rows: usize,
}

impl<W: Write> JsonLines<W> {
    pub(crate) fn new(out: W) -> Self {
        Self { out, rows: 0 }
    }

    /// Writes one value as one line.
    pub(crate) fn write(&mut self, value: &impl Serialize) -> Result<(), ExportError> {
        serde_json::to_writer(&mut self.out, value)?;
        self.out.write_all(b"\n")?;
        self.rows += 1;
        Ok(())
    }

    /// Flushes the output and returns how many lines were written.
    pub(crate) fn finish(mut self) -> Result<usize, ExportError> {
        self.out.flush()?;
        Ok(self.rows)
    }
}
