//! How the command-line clients write their answers: aligned text for people by default,
//! one JSON object per answer with `--json` for machines.

use std::io::{self, Write};

use clap::Args;
use serde::Serialize;

use crate::cli::CliError;

/// How to write the answer.
#[derive(Args, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutputArgs {
    /// Write the answer as one JSON object, for programs, instead of text.
    #[arg(long)]
    pub json: bool,
}

/// An answer that can be written both ways.
pub(crate) trait Report: Serialize {
    /// The answer for a person.
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()>;
}

impl OutputArgs {
    /// Writes `report` as these arguments say.
    pub(crate) fn write(&self, report: &impl Report, out: &mut dyn Write) -> Result<(), CliError> {
        if self.json {
            serde_json::to_writer(&mut *out, report).map_err(io::Error::from)?;
            writeln!(out)?;
        } else {
            report.write_text(out)?;
        }
        out.flush()?;
        Ok(())
    }
}

/// Writes `rows` under `header` in columns, each as wide as its widest cell, indented by two
/// spaces; `right` says which columns hold numbers (aligned right).
pub(crate) fn table(
    out: &mut dyn Write,
    header: &[&str],
    right: &[bool],
    rows: &[Vec<String>],
) -> io::Result<()> {
    let width = |column: usize| {
        rows.iter()
            .map(|row| row[column].chars().count())
            .chain([header[column].chars().count()])
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..header.len()).map(width).collect();
    let header: Vec<String> = header.iter().map(|cell| (*cell).to_owned()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::from(" ");
        for (column, cell) in row.iter().enumerate() {
            let pad = widths[column] - cell.chars().count();
            line.push(' ');
            if right.get(column).copied().unwrap_or(false) {
                line.extend(std::iter::repeat_n(' ', pad));
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.extend(std::iter::repeat_n(' ', pad));
            }
            line.push(' ');
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up_whatever_the_characters() {
        let mut out = Vec::new();
        let rows = vec![
            vec!["1".into(), "Dune".into()],
            vec!["12".into(), "Ficciones — Borges".into()],
        ];
        table(&mut out, &["ID", "TITLE"], &[true, false], &rows).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "  ID  TITLE\n   1  Dune\n  12  Ficciones — Borges\n"
        );
    }
}
