//! Full-text search terms, the same on every database.
//!
//! Text is cut into words, lower-cased, stop words dropped, and each word reduced to its
//! Italian and its English Snowball stem, with accents folded. A document is indexed under every
//! stem of every word; a query word matches a document holding either of its stems. The store
//! keeps the terms in an ordinary indexed table, so SQLite and PostgreSQL answer identically.

use rust_stemmers::{Algorithm, Stemmer};
use std::collections::BTreeSet;

/// The most frequent Italian and English words, which carry no meaning for search.
const STOP_WORDS: &[&str] = &[
    // Italian
    "a", "ad", "al", "alla", "alle", "agli", "ai", "all", "con", "da", "dal", "dalla", "dei",
    "degli", "del", "della", "delle", "di", "e", "ed", "gli", "i", "il", "in", "la", "le", "lo",
    "nel", "nella", "nelle", "per", "su", "sul", "sulla", "tra", "fra", "un", "una", "uno", "che",
    "o", "non", "si", "chi", "come", "dove", "cerco", "mi", "serve", // English
    "an", "and", "are", "as", "at", "be", "by", "for", "from", "is", "it", "of", "on", "or", "the",
    "to", "with", "who", "this", "that",
];

/// Stems text for indexing and for queries. Cheap to build; hold one per thread or clone it.
pub struct Analyzer {
    it: Stemmer,
    en: Stemmer,
}

impl Default for Analyzer {
    fn default() -> Self {
        Self::new()
    }
}

impl Analyzer {
    pub fn new() -> Self {
        Self {
            it: Stemmer::create(Algorithm::Italian),
            en: Stemmer::create(Algorithm::English),
        }
    }

    /// The meaningful words of `text`, lower-cased, in order, stop words removed.
    pub fn words(text: &str) -> Vec<String> {
        text.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(|w| w.to_lowercase())
            .filter(|w| !STOP_WORDS.contains(&w.as_str()) && w.chars().count() > 1)
            .collect()
    }

    /// The stems of one word: the Italian Snowball stem, a light Italian stem (the word without
    /// its final vowel, which joins singular and plural, masculine and feminine: anziano,
    /// anziani, anziana), and the English Snowball stem; each once.
    pub fn stems(&self, word: &str) -> Vec<String> {
        let folded = fold_accents(word);
        let light = match folded.strip_suffix(['a', 'e', 'i', 'o']) {
            Some(rest) if rest.chars().count() >= 4 => rest.to_string(),
            _ => folded.clone(),
        };
        let mut out = vec![
            fold_accents(&self.it.stem(word)),
            light,
            fold_accents(&self.en.stem(word)),
        ];
        let mut seen = Vec::with_capacity(3);
        out.retain(|s| {
            let fresh = !seen.contains(s);
            seen.push(s.clone());
            fresh
        });
        out
    }

    /// Every term a document is indexed under.
    pub fn index_terms<'a>(&self, texts: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for t in texts {
            for w in Self::words(t) {
                out.extend(self.stems(&w));
            }
        }
        out
    }

    /// The query as groups of alternatives: a document matches when, for every group, it holds
    /// at least one of the group's terms. Empty when the query has no meaningful word.
    pub fn query_groups(&self, query: &str) -> Vec<Vec<String>> {
        let mut groups: Vec<Vec<String>> = Vec::new();
        for w in Self::words(query) {
            let g = self.stems(&w);
            if !groups.contains(&g) {
                groups.push(g);
            }
        }
        groups
    }
}

/// What people type, and the words the services are written in (the field's vocabulary, see
/// GLOSSARY): each phrase on the left also searches for each phrase on the right. A phrase is
/// matched on the query's words (stop words dropped, accents folded, light stems compared).
pub const SYNONYMS: &[(&str, &[&str])] = &[
    (
        "badante",
        &[
            "assistenza domiciliare",
            "assistente familiare",
            "aiuto a domicilio",
        ],
    ),
    (
        "assistente familiare",
        &["assistenza domiciliare", "aiuto a domicilio"],
    ),
    ("colf", &["assistenza domiciliare", "aiuto a domicilio"]),
    ("telesoccorso", &["teleassistenza"]),
    ("teleassistenza", &["telesoccorso"]),
    ("a casa", &["domiciliare", "domicilio"]),
    ("infermiere", &["assistenza domiciliare integrata"]),
    ("poveri", &["sociale", "solidale"]),
    ("mangiare", &["mensa", "pranzo", "pasti"]),
    ("gratis", &["solidale", "sociale"]),
    ("spesa solidale", &["emporio solidale", "buoni spesa"]),
    ("pacco alimentare", &["pacchi alimentari"]),
    ("posto letto notte", &["dormitorio", "accoglienza notturna"]),
    ("posto letto", &["dormitorio", "accoglienza notturna"]),
    ("dormire stanotte", &["dormitorio", "accoglienza notturna"]),
    ("dormire", &["dormitorio", "accoglienza notturna"]),
    (
        "senzatetto",
        &["dormitorio", "accoglienza notturna", "mensa sociale"],
    ),
    (
        "senza fissa dimora",
        &["dormitorio", "accoglienza notturna", "mensa sociale"],
    ),
    ("casa riposo", &["rsa", "residenza sanitaria assistenziale"]),
    ("ospizio", &["rsa", "residenza sanitaria assistenziale"]),
    ("mediatore", &["mediazione"]),
    ("trovare lavoro", &["inserimento lavorativo", "tirocini"]),
    ("lavoro", &["inserimento lavorativo", "tirocini"]),
    ("portinaio", &["portierato", "custode"]),
    ("aiuto affitto", &["contributo affitto"]),
    ("genitori", &["genitorialita", "famiglie"]),
    ("disabili", &["disabilita"]),
    ("baby sitter", &["spazio gioco", "asilo nido"]),
];

/// The light stem of a word: folded, without its final vowel (joins singular and plural).
fn light(word: &str) -> String {
    let folded = fold_accents(word);
    match folded.strip_suffix(['a', 'e', 'i', 'o']) {
        Some(rest) if rest.chars().count() >= 4 => rest.to_string(),
        _ => folded,
    }
}

impl Analyzer {
    /// The query's alternatives, each a list of words: the words typed first, then the same
    /// with a phrase of [`SYNONYMS`] replaced by what the services call it (each rule applied
    /// to what the earlier ones gave, at most 24 alternatives).
    pub fn query_alternatives(&self, query: &str) -> Vec<Vec<String>> {
        let base = Self::words(query);
        if base.is_empty() {
            return vec![];
        }
        let mut alts = vec![base];
        for (phrase, replacements) in SYNONYMS {
            let key: Vec<String> = Self::words(phrase).iter().map(|w| light(w)).collect();
            let mut grown = Vec::new();
            for alt in &alts {
                let lights: Vec<String> = alt.iter().map(|w| light(w)).collect();
                let Some(at) = lights.windows(key.len()).position(|w| w == key.as_slice()) else {
                    continue;
                };
                for r in *replacements {
                    let mut next = alt[..at].to_vec();
                    next.extend(Self::words(r));
                    next.extend_from_slice(&alt[at + key.len()..]);
                    if !alts.contains(&next) && !grown.contains(&next) {
                        grown.push(next);
                    }
                }
            }
            alts.extend(grown);
            alts.truncate(24);
        }
        alts
    }

    /// The groups of each alternative (see [`Analyzer::query_groups`]).
    pub fn alternative_groups(&self, query: &str) -> Vec<Vec<Vec<String>>> {
        self.query_alternatives(query)
            .iter()
            .map(|words| {
                let mut groups: Vec<Vec<String>> = Vec::new();
                for w in words {
                    let g = self.stems(w);
                    if !groups.contains(&g) {
                        groups.push(g);
                    }
                }
                groups
            })
            .collect()
    }

    /// How well a service's name answers the query's alternatives: the words typed, in order,
    /// in the name weigh most; then how many of an alternative's words the name holds; the
    /// words typed a little more than their synonyms. Higher is better; 0 when the name holds
    /// none (the match is in the description or the categories).
    pub fn name_score(&self, name: &str, alternatives: &[Vec<String>]) -> f64 {
        let name_words = Self::words(name);
        let name_terms = self.index_terms([name]);
        let name_lights: Vec<String> = name_words.iter().map(|w| light(w)).collect();
        let mut best: f64 = 0.0;
        for (k, alt) in alternatives.iter().enumerate() {
            if alt.is_empty() {
                continue;
            }
            let held = alt
                .iter()
                .filter(|w| self.stems(w).iter().any(|s| name_terms.contains(s)))
                .count() as f64;
            let lights: Vec<String> = alt.iter().map(|w| light(w)).collect();
            let phrase = name_lights
                .windows(lights.len())
                .any(|w| w == lights.as_slice());
            let mut score = 2.0 * held / alt.len() as f64 + if phrase { 3.0 } else { 0.0 };
            // A name that is the phrase itself and little more ranks first.
            if phrase {
                score += lights.len() as f64 / name_lights.len().max(1) as f64;
            }
            if k == 0 {
                score += 0.5;
            }
            best = best.max(score);
        }
        best
    }
}

/// Replaces the accented letters of Italian (and the common Latin ones) with their bare letter.
pub fn fold_accents(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'à' | 'á' | 'â' | 'ä' | 'ã' => 'a',
            'è' | 'é' | 'ê' | 'ë' => 'e',
            'ì' | 'í' | 'î' | 'ï' => 'i',
            'ò' | 'ó' | 'ô' | 'ö' | 'õ' => 'o',
            'ù' | 'ú' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            'ñ' => 'n',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(doc: &str, query: &str) -> bool {
        let a = Analyzer::new();
        let terms = a.index_terms([doc]);
        let groups = a.query_groups(query);
        !groups.is_empty() && groups.iter().all(|g| g.iter().any(|t| terms.contains(t)))
    }

    fn matches_any(doc: &str, query: &str) -> bool {
        let a = Analyzer::new();
        let terms = a.index_terms([doc]);
        a.alternative_groups(query)
            .iter()
            .any(|groups| groups.iter().all(|g| g.iter().any(|t| terms.contains(t))))
    }

    #[test]
    fn what_people_type_finds_what_services_are_called() {
        assert!(matches_any("Assistenza domiciliare anziani", "badante"));
        assert!(matches_any(
            "Teleassistenza per anziani soli",
            "telesoccorso"
        ));
        assert!(matches_any(
            "Residenza sanitaria assistenziale (RSA)",
            "casa di riposo"
        ));
        assert!(matches_any(
            "Assistenza domiciliare anziani",
            "assistenza anziani a casa"
        ));
        assert!(matches_any("Dormitorio", "posto letto per la notte"));
        assert!(matches_any(
            "Sostegno alla genitorialità",
            "sostegno ai genitori"
        ));
        // The words typed still find what holds them.
        assert!(matches_any("Badante di condominio", "badante"));
        // A synonym is not a licence to find anything.
        assert!(!matches_any("Asilo nido", "badante"));
    }

    #[test]
    fn the_name_that_is_the_phrase_ranks_first() {
        let a = Analyzer::new();
        let alts = a.query_alternatives("pasti a domicilio");
        let pasti = a.name_score("Pasti a domicilio – Municipio 1", &alts);
        let laundry = a.name_score("Lavanderia a domicilio – Municipio 1", &alts);
        assert!(pasti > laundry, "{pasti} {laundry}");
        let alts = a.query_alternatives("assistente sociale");
        assert!(
            a.name_score("Colloqui con l'assistente sociale", &alts)
                > a.name_score("Aiuto a domicilio per persone fragili", &alts)
        );
    }

    #[test]
    fn italian_inflections_meet() {
        assert!(matches(
            "Servizio di assistenza domiciliare per anziani",
            "assistenza domiciliare"
        ));
        assert!(matches(
            "Assistenze domiciliari integrate",
            "assistenza domiciliare"
        ));
        assert!(matches("Centro diurno per anziani", "anziano"));
        assert!(matches("Attività per la città", "attivita citta"));
    }

    #[test]
    fn english_inflections_meet() {
        assert!(matches("Home care for elderly people", "caring home"));
        assert!(matches("Counselling services", "service"));
    }

    #[test]
    fn every_word_must_match() {
        assert!(!matches(
            "Servizio di assistenza domiciliare",
            "assistenza mensa"
        ));
        assert!(
            !matches("anything", "il la di"),
            "a query of stop words matches nothing"
        );
    }
}
