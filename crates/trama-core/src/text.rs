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
    "o", "non", "si", "chi", "come", // English
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
