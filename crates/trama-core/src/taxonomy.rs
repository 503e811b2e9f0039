//! The taxonomy Trama seeds into every territory: the areas and main entries of the Italian
//! *Nomenclatore interregionale degli interventi e servizi sociali* (CISIS), with English labels,
//! and the user areas (*aree di utenza*) of the ISTAT survey of municipal social services.
//!
//! Identifiers are UUID v5 of the code, so every installation gives the same term the same id
//! and exported data from two territories can be compared.

use uuid::Uuid;

use crate::hsds::{Taxonomy, TaxonomyTerm};
use crate::ids::{TaxonomyId, TaxonomyTermId};

/// The namespace of Trama's stable identifiers (UUID v5).
pub const TRAMA_NAMESPACE: Uuid = Uuid::from_u128(0x5f1c_2a8e_7b3d_4c6f_9e0a_1b2c_3d4e_5f60);

/// One entry of a seeded taxonomy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedTerm {
    pub code: &'static str,
    pub parent: Option<&'static str>,
    pub it: &'static str,
    pub en: &'static str,
}

const fn t(
    code: &'static str,
    parent: Option<&'static str>,
    it: &'static str,
    en: &'static str,
) -> SeedTerm {
    SeedTerm {
        code,
        parent,
        it,
        en,
    }
}

/// The nomenclature: six areas (A–F) and their main entries.
pub const NOMENCLATORE: &[SeedTerm] = &[
    t(
        "A",
        None,
        "Accesso, valutazione e progettazione",
        "Access, assessment and care planning",
    ),
    t(
        "A1",
        Some("A"),
        "Segretariato sociale",
        "Social secretariat (information and access point)",
    ),
    t(
        "A2",
        Some("A"),
        "Servizio sociale professionale",
        "Professional social work",
    ),
    t(
        "A3",
        Some("A"),
        "Sportelli informativi e di orientamento",
        "Information and guidance desks",
    ),
    t(
        "A4",
        Some("A"),
        "Pronto intervento sociale e telefonia sociale",
        "Social emergency response and helplines",
    ),
    t(
        "B",
        None,
        "Sostegno e inclusione sociale",
        "Social support and inclusion",
    ),
    t(
        "B1",
        Some("B"),
        "Mediazione culturale e linguistica",
        "Cultural and language mediation",
    ),
    t("B2", Some("B"), "Mensa sociale", "Social canteen"),
    t(
        "B3",
        Some("B"),
        "Emporio solidale e beni di prima necessità",
        "Solidarity grocery and basic goods",
    ),
    t(
        "B4",
        Some("B"),
        "Inserimento lavorativo",
        "Work inclusion and job placement",
    ),
    t(
        "B5",
        Some("B"),
        "Sostegno socio-educativo",
        "Social and educational support",
    ),
    t(
        "B6",
        Some("B"),
        "Banca del tempo e volontariato",
        "Time bank and volunteering",
    ),
    t(
        "C",
        None,
        "Interventi per la domiciliarità",
        "Home-based care",
    ),
    t(
        "C1",
        Some("C"),
        "Assistenza domiciliare socio-assistenziale (SAD)",
        "Home care (SAD)",
    ),
    t(
        "C2",
        Some("C"),
        "Assistenza domiciliare integrata (ADI)",
        "Integrated home health care (ADI)",
    ),
    t(
        "C3",
        Some("C"),
        "Telesoccorso e teleassistenza",
        "Telecare and personal alarms",
    ),
    t(
        "C4",
        Some("C"),
        "Pasti e lavanderia a domicilio",
        "Meals and laundry at home",
    ),
    t("C5", Some("C"), "Trasporto sociale", "Social transport"),
    t("C6", Some("C"), "Custode sociale", "Social concierge"),
    t(
        "C7",
        Some("C"),
        "Assistenza domiciliare educativa per minori",
        "Home educational support for children",
    ),
    t(
        "D",
        None,
        "Servizi diurni e semiresidenziali",
        "Day and semi-residential services",
    ),
    t(
        "D1",
        Some("D"),
        "Centro diurno integrato per anziani (CDI)",
        "Integrated day centre for older people",
    ),
    t(
        "D2",
        Some("D"),
        "Centro diurno per persone con disabilità (CDD, CSE)",
        "Day centre for people with disabilities",
    ),
    t(
        "D3",
        Some("D"),
        "Centro di aggregazione e socializzazione",
        "Community and social centre",
    ),
    t(
        "D4",
        Some("D"),
        "Asilo nido e servizi per la prima infanzia",
        "Nursery and early childhood services",
    ),
    t("D5", Some("D"), "Centro per le famiglie", "Family centre"),
    t("E", None, "Servizi residenziali", "Residential services"),
    t(
        "E1",
        Some("E"),
        "Residenza sanitaria assistenziale (RSA)",
        "Nursing home (RSA)",
    ),
    t("E2", Some("E"), "Comunità alloggio", "Supported housing"),
    t(
        "E3",
        Some("E"),
        "Accoglienza notturna e dormitorio",
        "Night shelter",
    ),
    t(
        "E4",
        Some("E"),
        "Comunità per minori",
        "Residential community for children",
    ),
    t("F", None, "Sostegno economico", "Economic support"),
    t("F1", Some("F"), "Contributi economici", "Cash benefits"),
    t(
        "F2",
        Some("F"),
        "Voucher e buoni servizio",
        "Service vouchers",
    ),
    t(
        "F3",
        Some("F"),
        "Contributi per affitto e utenze",
        "Rent and utility-bill support",
    ),
    t("F4", Some("F"), "Buoni spesa", "Food vouchers"),
];

/// The user areas of the ISTAT survey of municipal social services.
pub const AREE_UTENZA: &[SeedTerm] = &[
    t("U1", None, "Famiglia e minori", "Families and children"),
    t("U2", None, "Disabilità", "Disability"),
    t("U3", None, "Dipendenze", "Addictions"),
    t("U4", None, "Anziani", "Older people"),
    t(
        "U5",
        None,
        "Immigrati, Rom, Sinti e Caminanti",
        "Migrants, Roma and Sinti",
    ),
    t(
        "U6",
        None,
        "Povertà e disagio adulti",
        "Poverty and adult hardship",
    ),
    t("U7", None, "Multiutenza", "Everyone"),
];

/// Neighbourly help: what people ask of and offer to each other (needs and offers). Codes H1…
pub const AIUTI: &[SeedTerm] = &[
    t("H1", None, "Spesa e commissioni", "Shopping and errands"),
    t(
        "H2",
        None,
        "Compagnia e telefonate",
        "Company and phone calls",
    ),
    t(
        "H3",
        None,
        "Accompagnamento a visite e uffici",
        "Going along to appointments",
    ),
    t(
        "H4",
        None,
        "Piccole riparazioni in casa",
        "Small repairs at home",
    ),
    t("H5", None, "Aiuto compiti e doposcuola", "Homework help"),
    t("H6", None, "Custodia dei bambini", "Childminding"),
    t(
        "H7",
        None,
        "Pasti e consegne a domicilio",
        "Meals and deliveries at home",
    ),
    t(
        "H8",
        None,
        "Aiuto digitale e pratiche",
        "Digital help and paperwork",
    ),
    t("H9", None, "Trasporto in auto", "Lifts by car"),
    t(
        "H10",
        None,
        "Cura leggera della persona",
        "Light personal care",
    ),
    t("H11", None, "Passeggiate e uscite", "Walks and outings"),
    t("H12", None, "Cura degli animali", "Pet care"),
];

/// A seeded taxonomy and its terms, with the English label of each term beside it.
pub struct SeedTaxonomy {
    pub taxonomy: Taxonomy,
    pub terms: Vec<(TaxonomyTerm, &'static str)>,
}

fn stable(kind: &str, code: &str) -> Uuid {
    Uuid::new_v5(&TRAMA_NAMESPACE, format!("{kind}:{code}").as_bytes())
}

/// Whether `code` is a term of the seeded taxonomies (the nomenclature, the user areas, the
/// kinds of neighbourly help).
pub fn is_seeded_code(code: &str) -> bool {
    NOMENCLATORE
        .iter()
        .chain(AREE_UTENZA)
        .chain(AIUTI)
        .any(|t| t.code == code)
}

/// The stable id of a nomenclature or user-area term, by its code.
pub fn term_id(code: &str) -> TaxonomyTermId {
    TaxonomyTermId(stable("taxonomy_term", code))
}

fn build(
    code: &str,
    name: &str,
    description: &str,
    uri: &str,
    entries: &[SeedTerm],
) -> SeedTaxonomy {
    let id = TaxonomyId(stable("taxonomy", code));
    let taxonomy = Taxonomy {
        id: id.0,
        name: name.into(),
        description: description.into(),
        uri: Some(uri.into()),
        version: Some("2013".into()),
        metadata: vec![],
    };
    let terms = entries
        .iter()
        .map(|e| {
            (
                TaxonomyTerm {
                    id: term_id(e.code).0,
                    code: Some(e.code.into()),
                    name: e.it.into(),
                    description: e.en.into(),
                    parent_id: e.parent.map(|p| term_id(p).0),
                    taxonomy: Some(name.into()),
                    taxonomy_detail: None,
                    language: Some("it".into()),
                    taxonomy_id: Some(id.0),
                    term_uri: None,
                    metadata: vec![],
                },
                e.en,
            )
        })
        .collect();
    SeedTaxonomy { taxonomy, terms }
}

/// The taxonomies every new territory starts with.
pub fn seed_taxonomies() -> Vec<SeedTaxonomy> {
    vec![
        build(
            "nomenclatore",
            "Nomenclatore interregionale degli interventi e servizi sociali",
            "Le aree e le voci principali del nomenclatore CISIS degli interventi e servizi sociali.",
            "https://www.cisis.it/",
            NOMENCLATORE,
        ),
        build(
            "aree-utenza",
            "Aree di utenza",
            "Le aree di utenza dell'indagine ISTAT sugli interventi e i servizi sociali dei comuni.",
            "https://www.istat.it/",
            AREE_UTENZA,
        ),
        build(
            "aiuti",
            "Aiuti tra vicini",
            "Le forme di aiuto che le persone si chiedono e si offrono nel territorio.",
            "https://trama.example/taxonomy/aiuti",
            AIUTI,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_and_parents_exist() {
        let all: Vec<&SeedTerm> = NOMENCLATORE
            .iter()
            .chain(AREE_UTENZA)
            .chain(AIUTI)
            .collect();
        let codes: HashSet<&str> = all.iter().map(|t| t.code).collect();
        assert_eq!(codes.len(), all.len());
        for t in &all {
            if let Some(p) = t.parent {
                assert!(codes.contains(p), "{} has unknown parent {p}", t.code);
            }
        }
        // The main entries a user looks for are there.
        for code in ["A1", "C1", "D1", "E1", "F1"] {
            assert!(codes.contains(code));
        }
    }

    #[test]
    fn ids_are_stable() {
        assert_eq!(term_id("C1"), term_id("C1"));
        assert_ne!(term_id("C1"), term_id("C2"));
        let seeds = seed_taxonomies();
        assert_eq!(seeds[0].terms.len(), NOMENCLATORE.len());
    }
}
