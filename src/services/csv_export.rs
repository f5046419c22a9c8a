//! Every CSV file Bulletin writes (exports, reports) is built here, with the `csv` crate:
//! UTF-8, CRLF line ends, RFC 4180 quoting where needed, spreadsheet formulas defused.
//! It only formats rows it is given; it reads nothing.

/// A CSV table of `N` columns, written to memory row by row.
pub struct CsvTable<const N: usize> {
    writer: csv::Writer<Vec<u8>>,
}

impl<const N: usize> CsvTable<N> {
    /// A table whose first line is `header`.
    pub fn new(header: [&str; N]) -> Self {
        let writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .quote_style(csv::QuoteStyle::Necessary)
            .from_writer(Vec::new());
        let mut table = Self { writer };
        table.row(header);
        table
    }

    /// Appends one line; each field is defused (see [`defuse`]) and quoted if needed.
    pub fn row<S: AsRef<str>>(&mut self, fields: [S; N]) -> &mut Self {
        let record = fields.each_ref().map(|f| defuse(f.as_ref()));
        #[expect(
            clippy::expect_used,
            reason = "writing to a Vec cannot fail, and every row has the same N fields"
        )]
        self.writer
            .write_record(record.iter().map(|f| f.as_bytes()))
            .expect("BUG: a CSV row could not be written to memory");
        self
    }

    /// The table as text.
    pub fn into_string(self) -> String {
        #[expect(clippy::expect_used, reason = "flushing into a Vec cannot fail")]
        let bytes = self
            .writer
            .into_inner()
            .expect("BUG: a CSV table could not be flushed to memory");
        // Only `&str` fields and ASCII punctuation went in, so this is always UTF-8.
        String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }
}

/// A field a spreadsheet would run as a formula (it starts with `=`, `+`, `-`, `@`, a tab or
/// a carriage return) gets a leading `'`, so that it shows as text (OWASP "CSV Injection",
/// CWE-1236).
pub fn defuse(field: &str) -> std::borrow::Cow<'_, str> {
    match field.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        true => format!("'{field}").into(),
        false => field.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One field written alone, without its line end.
    fn field(raw: &str) -> String {
        let mut table = CsvTable::new(["a", "b"]);
        table.row([raw, "x"]);
        let text = table.into_string();
        let line = text.strip_prefix("a,b\r\n").unwrap();
        line.strip_suffix(",x\r\n").unwrap().to_owned()
    }

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=SUM(A1)"), "'=SUM(A1)");
    }

    #[test]
    fn line_breaks_are_quoted_and_lines_end_in_crlf() {
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
        assert_eq!(field("two\r\nlines"), "\"two\r\nlines\"");
        let mut table = CsvTable::new(["id", "name"]);
        table.row(["1", "Jane"]).row(["2", ""]);
        assert_eq!(table.into_string(), "id,name\r\n1,Jane\r\n2,\r\n");
    }

    #[test]
    fn every_formula_lead_is_defused_and_nothing_else() {
        for lead in ["=", "+", "-", "@", "\t"] {
            assert_eq!(field(&format!("{lead}1")), format!("'{lead}1"));
        }
        assert_eq!(
            field("\r1"),
            "\"'\r1\"",
            "defused, then quoted for the line break"
        );
        assert_eq!(field("a=b"), "a=b");
        assert_eq!(
            field("2024-05-01T10:00:00+00:00"),
            "2024-05-01T10:00:00+00:00"
        );
        assert_eq!(field(""), "");
    }

    #[test]
    fn text_stays_utf8() {
        assert_eq!(field("Grüße, 東京"), "\"Grüße, 東京\"");
        assert_eq!(field("Zoë"), "Zoë");
    }

    #[test]
    fn the_header_is_the_first_line_and_a_table_without_rows_is_just_it() {
        assert_eq!(
            CsvTable::new(["section", "item"]).into_string(),
            "section,item\r\n"
        );
    }
}
