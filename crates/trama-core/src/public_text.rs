//! Free text bound for a public record that cannot be erased (a note on a flow in the signed
//! register): short, and refused when it looks like it names or reaches a person. The screen
//! is a net, not a proof: a bare name passes it, which is why the documentation and the form
//! say never to name a person.

use crate::FieldError;

/// The longest note a public record may carry.
pub const MAX_PUBLIC_NOTE_CHARS: usize = 140;

const STREET_WORDS: [&str; 10] = [
    "via", "viale", "piazza", "piazzale", "corso", "largo", "vicolo", "strada", "street", "road",
];

/// Checks a note for a public, permanent record; `field` names it in the error.
pub fn check_public_note(field: &str, note: &str) -> Result<(), FieldError> {
    let refuse = |why: &str| {
        Err(FieldError::new(
            field,
            format!(
                "the register is public and nothing in it can be erased: {why}; describe the flow, never a person"
            ),
        ))
    };
    if note.chars().count() > MAX_PUBLIC_NOTE_CHARS {
        return refuse(&format!("at most {MAX_PUBLIC_NOTE_CHARS} characters"));
    }
    if note.chars().any(|c| c.is_control()) {
        return refuse("no control characters");
    }
    let words: Vec<&str> = note
        .split(|c: char| c.is_whitespace() || c == ',' || c == ';' || c == ':')
        .filter(|w| !w.is_empty())
        .collect();
    if words.iter().any(|w| {
        let at = w.find('@');
        at.is_some_and(|i| i > 0 && w[i + 1..].contains('.'))
    }) {
        return refuse("an e-mail address");
    }
    // A phone number: seven digits or more, spaces, dots, dashes and a leading + between them.
    let mut run = 0;
    let mut longest = 0;
    for c in note.chars() {
        if c.is_ascii_digit() {
            run += 1;
            longest = longest.max(run);
        } else if !matches!(c, ' ' | '.' | '-' | '/' | '+' | '(' | ')') {
            run = 0;
        }
    }
    if longest >= 7 {
        return refuse("a phone number");
    }
    // An Italian tax code (codice fiscale): 6 letters, 2 digits, a letter, 2 digits, a
    // letter, 3 digits, a letter.
    if words.iter().any(|w| looks_like_tax_code(w)) {
        return refuse("a tax code");
    }
    // An address: a street word followed, within four words, by a house number.
    let lower: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
    for (i, w) in lower.iter().enumerate() {
        if STREET_WORDS.contains(&w.trim_matches('.')) {
            let near = lower.iter().skip(i + 1).take(4);
            if near
                .clone()
                .any(|x| x.chars().next().is_some_and(|c| c.is_ascii_digit()))
            {
                return refuse("an address");
            }
        }
    }
    Ok(())
}

fn looks_like_tax_code(w: &str) -> bool {
    let b: Vec<char> = w
        .trim_matches(|c: char| !c.is_alphanumeric())
        .chars()
        .collect();
    if b.len() != 16 {
        return false;
    }
    let shape = "LLLLLLDDLDDLDDDL";
    b.iter().zip(shape.chars()).all(|(c, s)| match s {
        'L' => c.is_ascii_alphabetic(),
        _ => c.is_ascii_digit(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flows_pass_and_people_do_not() {
        for ok in [
            "CER Giambellino-Lorenteggio: fotovoltaico sui tetti",
            "Banco alimentare di quartiere: eccedenze dei mercati",
            "18000 kWh in marzo 2026",
            "client 3 append 12",
            "",
        ] {
            assert!(check_public_note("note", ok).is_ok(), "{ok}");
        }
        for bad in [
            "Consegnato a Maria Bianchi, via Roma 3, diabetica",
            "chiamare 02 4879 1187",
            "scrivere a maria.bianchi@example.it",
            "per RSSMRA80A01F205X",
            "Piazza Duomo 1",
            &"x".repeat(141),
        ] {
            assert_eq!(
                check_public_note("note", bad).unwrap_err().field,
                "note",
                "{bad}"
            );
        }
    }
}
