//! The territory's address gazetteer: streets and house numbers with their coordinates, from
//! the territory's own open data (`trama places import FILE`), so a person can search "near Via
//! Torino 43" with no external geocoding service. Addresses are compared as people write them:
//! case, accents, punctuation and the usual abbreviations ("V.le", "C.so", "P.za") do not matter.

use crate::FieldError;
use crate::geo::Coordinates;

/// One address of the gazetteer.
#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    /// The street as the open data names it ("Via Torino").
    pub street: String,
    /// The house number as written ("43", "12/A"); empty for the street as a whole.
    pub number: String,
    pub point: Coordinates,
}

impl Address {
    /// The street's key: how a typed street is compared (see [`street_key`]).
    pub fn key(&self) -> String {
        street_key(&self.street)
    }
}

/// A street written as people write it, reduced to a comparable key: lower case, accents
/// folded, punctuation dropped, the usual abbreviations spelt out.
pub fn street_key(s: &str) -> String {
    let folded = crate::text::fold_accents(&s.to_lowercase());
    let spaced: String = folded
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    let words: Vec<&str> = spaced.split_whitespace().collect();
    let mut out: Vec<&str> = Vec::with_capacity(words.len());
    for (i, w) in words.iter().enumerate() {
        // Abbreviations only as the street's first word (the kind of street).
        let full = if i == 0 {
            match *w {
                "v" => "via",
                "vle" | "v le" => "viale",
                "c" | "cso" => "corso",
                "p" | "pza" | "pzza" | "p za" => "piazza",
                "ple" => "piazzale",
                "l" | "lgo" => "largo",
                "vco" => "vicolo",
                other => other,
            }
        } else {
            w
        };
        out.push(full);
    }
    // "V.le" spaced as "v le", "C.so" as "c so", "P.za" as "p za": join them.
    let joined = out.join(" ");
    const JOINS: [(&str, &str); 5] = [
        ("via le ", "viale "),
        ("corso so ", "corso "),
        ("piazza za ", "piazza "),
        ("piazza zza ", "piazza "),
        ("piazza le ", "piazzale "),
    ];
    for (spaced, whole) in JOINS {
        if let Some(rest) = joined.strip_prefix(spaced) {
            return format!("{whole}{rest}");
        }
    }
    joined
}

/// A name compared loosely (places and neighbourhoods by name): the street key without the
/// little words ("Piazza del Duomo" and "piazza duomo" meet).
pub fn loose_key(s: &str) -> String {
    crate::text::Analyzer::words(&street_key(s)).join(" ")
}

/// What someone typed, as a street key and a house number when there is one ("Via Torino 43",
/// "via torino, 43", "Via Torino 43, Milano", "Viale Monza 100 20127" → the street and the
/// number; the city and the postcode are left out).
pub fn parse_typed(s: &str) -> (String, Option<String>) {
    let parts: Vec<&str> = s
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    let Some(first) = parts.first() else {
        return (String::new(), None);
    };
    let mut words: Vec<&str> = first.split_whitespace().collect();
    // A postcode (five digits) at the end is not a house number.
    if words.len() > 2
        && words
            .last()
            .is_some_and(|w| w.len() == 5 && w.chars().all(|c| c.is_ascii_digit()))
    {
        words.pop();
    }
    let is_number = |w: &str| w.chars().next().is_some_and(|c| c.is_ascii_digit());
    match words.last() {
        Some(last) if words.len() > 1 && is_number(last) => (
            street_key(&words[..words.len() - 1].join(" ")),
            Some(last.to_uppercase()),
        ),
        _ => {
            let number = parts.get(1).filter(|p| is_number(p) && p.len() < 5);
            (
                street_key(&words.join(" ")),
                number.map(|n| n.to_uppercase()),
            )
        }
    }
}

/// Reads a gazetteer in CSV: a header naming at least `street`, `number`, `lat` and `lon` (in
/// any order; other columns are ignored), then one address a row. All or nothing: the first
/// bad row is the error, naming its line.
pub fn parse_gazetteer(text: &str) -> Result<Vec<Address>, FieldError> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = rdr
        .headers()
        .map_err(|e| FieldError::new("line 1", e.to_string()))?
        .clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h.eq_ignore_ascii_case(name))
            .ok_or_else(|| FieldError::new("line 1", format!("no `{name}` column")))
    };
    let (street, number, lat, lon) = (col("street")?, col("number")?, col("lat")?, col("lon")?);
    let mut out = Vec::new();
    for (i, row) in rdr.records().enumerate() {
        let line = i + 2;
        let at = |what: &str| format!("line {line}: {what}");
        let row = row.map_err(|e| FieldError::new(format!("line {line}"), e.to_string()))?;
        let get = |k: usize| row.get(k).unwrap_or("").to_string();
        let s = get(street);
        if s.is_empty() {
            return Err(FieldError::new(at("street"), "must not be empty"));
        }
        let num = |k: usize, name: &str| -> Result<f64, FieldError> {
            get(k)
                .replace(',', ".")
                .parse::<f64>()
                .map_err(|_| FieldError::new(at(name), format!("'{}' is not a number", get(k))))
        };
        let point = Coordinates::named(num(lat, "lat")?, num(lon, "lon")?, "lat", "lon")
            .map_err(|e| FieldError::new(at(&e.field), e.reason))?;
        out.push(Address {
            street: s,
            number: get(number).to_uppercase(),
            point,
        });
    }
    if out.is_empty() {
        return Err(FieldError::new("line 2", "no addresses after the header"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streets_compare_as_people_write_them() {
        assert_eq!(street_key("Via Torino"), "via torino");
        assert_eq!(street_key("V. Torino"), "via torino");
        assert_eq!(street_key("V.le Monza"), "viale monza");
        assert_eq!(street_key("C.so Buenos Aires"), "corso buenos aires");
        assert_eq!(street_key("P.za del Duomo"), "piazza del duomo");
        assert_eq!(street_key("Piazzale Loreto"), "piazzale loreto");
        assert_eq!(street_key("VIA SANT'AMBROGIO"), "via sant ambrogio");
        assert_eq!(street_key("Via Cà Granda"), "via ca granda");
    }

    #[test]
    fn names_meet_without_their_little_words() {
        assert_eq!(loose_key("Piazza del Duomo"), loose_key("piazza duomo"));
        assert_eq!(loose_key("Città Studi"), "citta studi");
    }

    #[test]
    fn a_typed_address_splits_into_street_and_number() {
        assert_eq!(
            parse_typed("Via Torino 43"),
            ("via torino".into(), Some("43".into()))
        );
        assert_eq!(
            parse_typed("via torino, 12/a"),
            ("via torino".into(), Some("12/A".into()))
        );
        assert_eq!(parse_typed("Corso Como"), ("corso como".into(), None));
        assert_eq!(
            parse_typed("Via Torino 43, Milano"),
            ("via torino".into(), Some("43".into()))
        );
        assert_eq!(
            parse_typed("Viale Monza 100 20127"),
            ("viale monza".into(), Some("100".into()))
        );
        assert_eq!(
            parse_typed("Via XX Settembre"),
            ("via xx settembre".into(), None)
        );
    }

    #[test]
    fn a_gazetteer_is_read_whole_or_refused_naming_the_line() {
        let ok =
            "street,number,lat,lon\nVia Torino,43,45.4612,9.1830\nVia Torino,45,45.4610,9.1828\n";
        let a = parse_gazetteer(ok).unwrap();
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].key(), "via torino");
        let bad = "street,number,lat,lon\nVia Torino,43,45.4612,9.1830\nVia Roma,1,north,9.1\n";
        let e = parse_gazetteer(bad).unwrap_err();
        assert_eq!(e.field, "line 3: lat", "{e}");
        let e = parse_gazetteer("street,number,lat,lon\nVia Roma,1,95,9\n").unwrap_err();
        assert!(e.field.starts_with("line 2"), "{e}");
        let e = parse_gazetteer("via,numero\nVia Roma,1\n").unwrap_err();
        assert_eq!(e.field, "line 1");
        assert!(parse_gazetteer("street,number,lat,lon\n").is_err());
    }
}
