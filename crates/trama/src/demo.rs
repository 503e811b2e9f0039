//! The demo territory: a synthetic Milan, the same every time for the same seed.
//!
//! Areas come from Milan's open data when `../shared/data/italy/milano-opendata` (or
//! `$TRAMA_SHARED_DATA/italy/milano-opendata`) is there: the 88 NIL and the 9 Municipi with their
//! polygons, and places are drawn inside the NIL. Otherwise the 9 Municipi that Trama carries
//! (centroids and residents) are used, and places are drawn around the centroids.

use anyhow::{Context, Result};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::PathBuf;
use std::time::Instant;
use uuid::Uuid;

use trama_core::areas::{Area, areas_from_geojson, milano_municipi};
use trama_core::auth::{Email, NewPassword, Role, RoleGrant};
use trama_core::geo::Coordinates;
use trama_core::hsds::{
    Accessibility, Address, Attribute, Bundle, CostOption, Funding, Language, Location,
    Organization, Phone, RequiredDocument, Schedule, Service, ServiceArea, ServiceAtLocation,
};
use trama_core::ids::{LocationId, OrganizationId, UserId};
use trama_core::taxonomy::term_id;
use trama_server::AppState;
use trama_server::accounts::service::{self as accounts, NewUser};
use trama_server::directory::service as directory;
use trama_server::territory;

pub const DEFAULT_SEED: u64 = 2026;
pub const DEMO_PASSWORD: &str = "trama-demo-2026";
const SETTING: &str = "demo.loaded";

/// The demo's named people: one login per role.
pub const DEMO_LOGINS: &[(&str, &str, Role)] = &[
    ("cittadino@demo.trama.it", "Maria Rossi", Role::Citizen),
    ("volontario@demo.trama.it", "Luca Bianchi", Role::Volunteer),
    ("operatore@demo.trama.it", "Giulia Ferrari", Role::Operator),
    (
        "casemanager@demo.trama.it",
        "Paola Esposito",
        Role::CaseManager,
    ),
    ("hub@demo.trama.it", "Ahmed Benali", Role::HubManager),
    (
        "fornitore@demo.trama.it",
        "Francesca Colombo",
        Role::OrganizationAdmin,
    ),
    (
        "territorio@demo.trama.it",
        "Marco Ricci",
        Role::TerritoryAdmin,
    ),
    ("revisore@demo.trama.it", "Elena Gallo", Role::Auditor),
    ("beneficiario@demo.trama.it", "Mario Rossi", Role::Citizen),
];

pub const LOGINS_HELP: &str = "Demo logins (password: trama-demo-2026):
  cittadino@demo.trama.it    citizen
  volontario@demo.trama.it   volunteer
  operatore@demo.trama.it    operator (Casa di quartiere network)
  casemanager@demo.trama.it  case manager (Comune di Milano, Municipio 6)
  hub@demo.trama.it          hub manager (Casa di quartiere network)
  fornitore@demo.trama.it    organisation admin (Cooperativa Sociale Il Melograno)
  territorio@demo.trama.it   territory admin
  revisore@demo.trama.it     auditor
  beneficiario@demo.trama.it Mario Rossi, 82, with a care budget
Mails are printed here, not sent (set mail.smtp_url to send them): a sign-up's link to
confirm its address is among them.";

/// The demo provider's organisation, and the place of its home-care service by Piazza Duomo.
pub const PROVIDER_NAME: &str = "Cooperativa Sociale Il Melograno";

/// The demo's address gazetteer: Milan streets from one end to the other (approximate, as
/// (lat, lon)); house numbers 1 to 180 are spread along each, odd and even on either side.
/// A street and its two ends, each (lat, lon).
type StreetEnds = (&'static str, (f64, f64), (f64, f64));

const STREET_ENDS: &[StreetEnds] = &[
    ("Via Torino", (45.4635, 9.1885), (45.4570, 9.1800)),
    ("Corso Buenos Aires", (45.4745, 9.2045), (45.4855, 9.2150)),
    ("Via Padova", (45.4875, 9.2200), (45.5080, 9.2480)),
    ("Viale Monza", (45.4870, 9.2160), (45.5150, 9.2290)),
    ("Via Lorenteggio", (45.4560, 9.1500), (45.4460, 9.1150)),
    ("Via Giambellino", (45.4540, 9.1540), (45.4490, 9.1250)),
    ("Corso Lodi", (45.4520, 9.2030), (45.4390, 9.2200)),
    ("Via Ripamonti", (45.4500, 9.1980), (45.4200, 9.2050)),
    ("Viale Certosa", (45.4880, 9.1540), (45.5010, 9.1360)),
    ("Via Novara", (45.4700, 9.1250), (45.4730, 9.0900)),
    ("Via dei Missaglia", (45.4330, 9.1870), (45.4100, 9.1890)),
    (
        "Corso di Porta Romana",
        (45.4600, 9.1920),
        (45.4540, 9.2010),
    ),
    ("Via Mecenate", (45.4450, 9.2300), (45.4400, 9.2550)),
    ("Viale Forlanini", (45.4610, 9.2400), (45.4600, 9.2700)),
    ("Via Palmanova", (45.4960, 9.2300), (45.5080, 9.2550)),
    ("Via Imbonati", (45.4980, 9.1830), (45.5150, 9.1760)),
    ("Via Farini", (45.4870, 9.1870), (45.4950, 9.1800)),
    ("Corso Sempione", (45.4760, 9.1710), (45.4870, 9.1560)),
    ("Via Washington", (45.4680, 9.1540), (45.4580, 9.1560)),
    ("Viale Famagosta", (45.4400, 9.1550), (45.4340, 9.1700)),
    (
        "Via Anselmo da Baggio",
        (45.4650, 9.0900),
        (45.4560, 9.0850),
    ),
    ("Via Gallarate", (45.4930, 9.1440), (45.5120, 9.1150)),
    ("Via Console Marcello", (45.4990, 9.1420), (45.5080, 9.1350)),
    ("Via Ornato", (45.5150, 9.1950), (45.5250, 9.2000)),
    ("Via Valassina", (45.4990, 9.1870), (45.5060, 9.1920)),
];

/// Every house number of [`STREET_ENDS`], for `places import` as a territory's open data would
/// give them.
pub fn gazetteer() -> Vec<trama_core::places::Address> {
    let mut out = Vec::new();
    for (street, a, b) in STREET_ENDS {
        for n in 1..=180u32 {
            let t = f64::from(n - 1) / 179.0;
            // Odd numbers on one side, even on the other, some ten metres apart.
            let side = if n % 2 == 0 { 0.0001 } else { -0.0001 };
            let lat = a.0 + (b.0 - a.0) * t + side;
            let lon = a.1 + (b.1 - a.1) * t;
            out.push(trama_core::places::Address {
                street: (*street).to_string(),
                number: n.to_string(),
                point: Coordinates::new((lat * 1e6).round() / 1e6, (lon * 1e6).round() / 1e6)
                    .expect("in Milan"),
            });
        }
    }
    out
}

/// The gazetteer's address nearest to `c`: a place's street and number agree with where it is
/// (as near as the demo's streets allow).
fn nearest_address(c: &Coordinates) -> &'static trama_core::places::Address {
    // Built once: a city-sized demo places tens of thousands of locations.
    static GAZETTEER: std::sync::OnceLock<Vec<trama_core::places::Address>> =
        std::sync::OnceLock::new();
    GAZETTEER
        .get_or_init(gazetteer)
        .iter()
        .min_by(|a, b| a.point.distance_km(c).total_cmp(&b.point.distance_km(c)))
        .expect("the gazetteer has streets")
}

const NAME_ROOTS: &[&str] = &[
    "Il Melograno",
    "La Cordata",
    "Il Sorriso",
    "La Bussola",
    "Il Ponte",
    "L'Arcobaleno",
    "La Rete",
    "Il Glicine",
    "La Tenda",
    "Il Filo",
    "La Quercia",
    "Il Cammino",
    "La Piazza",
    "Il Faro",
    "La Meridiana",
    "La Fonte",
    "L'Albero",
    "Il Seme",
    "La Lanterna",
    "Il Portico",
    "La Corte",
    "Il Mosaico",
    "La Ginestra",
    "Il Tiglio",
    "La Torre",
    "Il Naviglio",
    "La Darsena",
    "Il Cortile",
    "La Cascina",
    "Il Grappolo",
];
const NAME_SUFFIXES: &[&str] = &[
    "",
    " Milano",
    " Insieme",
    " Nord",
    " Sud",
    " Due",
    " Solidale",
    " Aperta",
    " Ovest",
    " Est",
];

const FIRST_NAMES: &[&str] = &[
    "Maria",
    "Giuseppe",
    "Anna",
    "Giovanni",
    "Rosa",
    "Antonio",
    "Francesca",
    "Luigi",
    "Lucia",
    "Mario",
    "Chiara",
    "Paolo",
    "Sara",
    "Marco",
    "Elena",
    "Andrea",
    "Giulia",
    "Luca",
    "Martina",
    "Matteo",
    "Fatima",
    "Mohamed",
    "Wei",
    "Li",
    "Ana",
    "José",
    "Ioana",
    "Andrei",
    "Maricel",
    "Samuel",
    "Amina",
    "Omar",
    "Valentina",
    "Alessandro",
    "Federica",
    "Stefano",
];
const LAST_NAMES: &[&str] = &[
    "Rossi",
    "Russo",
    "Ferrari",
    "Esposito",
    "Bianchi",
    "Romano",
    "Colombo",
    "Ricci",
    "Marino",
    "Greco",
    "Bruno",
    "Gallo",
    "Conti",
    "De Luca",
    "Mancini",
    "Costa",
    "Giordano",
    "Rizzo",
    "Lombardi",
    "Moretti",
    "El Amrani",
    "Chen",
    "Hu",
    "Popescu",
    "Santos",
    "Garcia",
    "Reyes",
    "Diallo",
    "Fontana",
    "Barbieri",
    "Villa",
    "Cattaneo",
    "Brambilla",
];

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Municipal,
    Health,
    Coop,
    Association,
    Company,
    Foundation,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Municipal => "municipal",
            Kind::Health => "health_authority",
            Kind::Coop => "social_cooperative",
            Kind::Association => "association",
            Kind::Company => "company",
            Kind::Foundation => "foundation",
        }
    }
    /// The categories such an organisation offers.
    fn terms(self) -> &'static [&'static str] {
        match self {
            Kind::Municipal => &[
                "A1", "A2", "A4", "C1", "C6", "F1", "F2", "F3", "F4", "D4", "D5", "C3",
            ],
            Kind::Health => &["C2", "D1", "D2", "E1", "A4", "A2"],
            Kind::Coop => &[
                "C1", "C1", "C4", "C5", "C7", "D1", "D2", "D3", "E2", "E4", "B4", "B5", "C3",
            ],
            Kind::Association => &["B1", "B2", "B3", "B5", "B6", "D3", "A3", "E3", "C5"],
            Kind::Company => &["F2", "C1", "D4", "B6"],
            Kind::Foundation => &["B2", "B3", "E3", "F1", "D3", "B6"],
        }
    }
    fn funders(self) -> &'static [&'static str] {
        match self {
            Kind::Municipal => &[
                "Comune di Milano",
                "Fondo Nazionale Politiche Sociali",
                "Regione Lombardia",
            ],
            Kind::Health => &[
                "ATS Città Metropolitana di Milano",
                "Regione Lombardia",
                "Fondo per le Non Autosufficienze (FNA)",
            ],
            Kind::Coop => &[
                "Comune di Milano",
                "ATS Città Metropolitana di Milano",
                "Fondo per le Non Autosufficienze (FNA)",
                "Welfare aziendale",
                "Fondazione Cariplo",
            ],
            Kind::Association => &[
                "Comune di Milano",
                "Fondazione Cariplo",
                "Donazioni private",
                "Regione Lombardia",
            ],
            Kind::Company => &["Welfare aziendale"],
            Kind::Foundation => &[
                "Fondazione Cariplo",
                "Donazioni private",
                "Comune di Milano",
            ],
        }
    }
}

/// Italian service names per category, in the words people search with.
fn service_name(code: &str) -> &'static [&'static str] {
    match code {
        "A1" => &[
            "Segretariato sociale",
            "Punto unico di accesso ai servizi sociali",
        ],
        "A2" => &[
            "Servizio sociale professionale",
            "Colloqui con l'assistente sociale",
        ],
        "A3" => &[
            "Sportello informativo",
            "Sportello di orientamento ai servizi",
            "Sportello di comunità",
        ],
        "A4" => &["Pronto intervento sociale", "Linea telefonica di ascolto"],
        "B1" => &[
            "Mediazione linguistico-culturale",
            "Corsi di italiano per stranieri",
        ],
        "B2" => &["Mensa sociale", "Pranzo solidale"],
        "B3" => &["Emporio solidale", "Distribuzione pacchi alimentari"],
        "B4" => &["Inserimento lavorativo", "Tirocini di inclusione"],
        "B5" => &["Doposcuola", "Sostegno educativo ai ragazzi"],
        "B6" => &["Banca del tempo", "Volontariato di quartiere"],
        "C1" => &[
            "Assistenza domiciliare anziani",
            "Assistenza domiciliare (SAD)",
            "Aiuto a domicilio per persone fragili",
        ],
        "C2" => &[
            "Assistenza domiciliare integrata (ADI)",
            "Infermiere a domicilio",
        ],
        "C3" => &["Telesoccorso", "Teleassistenza per anziani soli"],
        "C4" => &["Pasti a domicilio", "Lavanderia a domicilio"],
        "C5" => &["Trasporto sociale", "Accompagnamento a visite mediche"],
        "C6" => &["Custode sociale", "Portierato sociale"],
        "C7" => &[
            "Assistenza domiciliare educativa per minori",
            "Educativa domiciliare",
        ],
        "D1" => &[
            "Centro diurno integrato per anziani",
            "Centro diurno anziani",
        ],
        "D2" => &[
            "Centro diurno disabili (CDD)",
            "Centro socio educativo (CSE)",
        ],
        "D3" => &[
            "Centro di aggregazione giovanile",
            "Centro sociale anziani",
            "Laboratori di quartiere",
        ],
        "D4" => &["Asilo nido", "Spazio gioco per bambini"],
        "D5" => &["Centro per le famiglie", "Sostegno alla genitorialità"],
        "E1" => &["Residenza sanitaria assistenziale (RSA)", "RSA aperta"],
        "E2" => &["Comunità alloggio", "Appartamenti protetti"],
        "E3" => &["Dormitorio", "Accoglienza notturna"],
        "E4" => &["Comunità per minori"],
        "F1" => &["Contributo economico", "Contributo per caregiver familiari"],
        "F2" => &["Voucher per servizi di cura", "Buono servizi welfare"],
        "F3" => &["Contributo affitto", "Sostegno alle bollette"],
        "F4" => &["Buoni spesa"],
        _ => &["Servizio"],
    }
}

fn user_area(code: &str, rng: &mut ChaCha8Rng) -> &'static str {
    match code.as_bytes()[0] {
        b'C' | b'E' if code != "C7" && code != "E4" => {
            ["U4", "U4", "U2"].choose(rng).copied().unwrap_or("U4")
        }
        b'D' if code == "D1" => "U4",
        b'D' if code == "D2" => "U2",
        b'D' if code == "D4" || code == "D5" => "U1",
        _ if code == "C7" || code == "E4" || code == "B5" => "U1",
        _ if code == "B1" => "U5",
        _ if code.starts_with('F') || code == "B2" || code == "B3" || code == "E3" => "U6",
        _ => "U7",
    }
}

fn uid(rng: &mut ChaCha8Rng) -> Uuid {
    uuid::Builder::from_random_bytes(rng.random()).into_uuid()
}

/// Places drawn inside Milan.
struct Sampler {
    nil: Vec<Area>,
    municipi: Vec<Area>,
}

impl Sampler {
    fn point(&self, rng: &mut ChaCha8Rng) -> Coordinates {
        if !self.nil.is_empty() {
            loop {
                let lat = rng.random_range(45.39..45.54);
                let lon = rng.random_range(9.04..9.28);
                let c = Coordinates::new(lat, lon).expect("in range");
                if self.nil.iter().any(|a| a.contains(&c)) {
                    return c;
                }
            }
        }
        let total: i64 = self.municipi.iter().filter_map(|m| m.population).sum();
        let mut pick = rng.random_range(0..total.max(1));
        let mut centre = self.municipi[0].centroid.expect("fallback has centroids");
        for m in &self.municipi {
            let p = m.population.unwrap_or(0);
            if pick < p {
                centre = m.centroid.expect("fallback has centroids");
                break;
            }
            pick -= p;
        }
        // Box-Muller: about 1.3 km of spread around the centre.
        let (u1, u2): (f64, f64) = (rng.random_range(1e-9..1.0), rng.random());
        let r = (-2.0 * u1.ln()).sqrt();
        let (dy, dx) = (
            r * (2.0 * std::f64::consts::PI * u2).cos(),
            r * (2.0 * std::f64::consts::PI * u2).sin(),
        );
        Coordinates::new(centre.lat() + dy * 0.012, centre.lon() + dx * 0.017).expect("near Milan")
    }

    fn municipio_of(&self, c: &Coordinates) -> &Area {
        if let Some(m) = self.municipi.iter().find(|m| m.contains(c)) {
            return m;
        }
        self.municipi
            .iter()
            .min_by(|a, b| {
                let da = a.centroid.map(|x| x.distance_km(c)).unwrap_or(f64::MAX);
                let db = b.centroid.map(|x| x.distance_km(c)).unwrap_or(f64::MAX);
                da.total_cmp(&db)
            })
            .expect("nine municipi")
    }
}

fn shared_milan_dir() -> Option<PathBuf> {
    let base = std::env::var("TRAMA_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from("../shared/data"));
    let d = base.join("italy/milano-opendata");
    d.join("ds964.nil_wm.geojson").exists().then_some(d)
}

/// Milan's areas: open data when present (with the carried residents table merged in), else the table.
fn milan_areas() -> Result<(Vec<Area>, Vec<Area>, &'static str)> {
    let table = milano_municipi();
    let Some(dir) = shared_milan_dir() else {
        return Ok((vec![], table, "the 9 Municipi table carried by Trama"));
    };
    let read = |f: &str| -> Result<serde_json::Value> {
        let p = dir.join(f);
        Ok(serde_json::from_str(
            &std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))?,
        )?)
    };
    let nil = areas_from_geojson(&read("ds964.nil_wm.geojson")?, Some("nil"))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut municipi =
        areas_from_geojson(&read("ds379_municipi_label.geojson")?, Some("municipio"))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    for m in &mut municipi {
        if let Some(t) = table.iter().find(|t| t.code == m.code) {
            m.name = t.name.clone();
            m.population = t.population;
            m.facts = t.facts.clone();
        }
    }
    let mut nil = nil;
    for n in &mut nil {
        n.name = titlecase(&n.name);
        if let Some(c) = n.centroid
            && let Some(m) = municipi.iter().find(|m| m.contains(&c))
        {
            n.parent_code = Some(m.code.clone());
        }
    }
    Ok((nil, municipi, "Milan's open data (88 NIL, 9 Municipi)"))
}

fn titlecase(s: &str) -> String {
    s.split(' ')
        .map(|w| {
            let lower = w.to_lowercase();
            let mut c = lower.chars();
            match c.next() {
                Some(f) if w.len() > 2 || w == "S." => {
                    f.to_uppercase().collect::<String>() + c.as_str()
                }
                Some(f) => f.to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

struct Generated {
    bundle: Bundle,
    kinds: Vec<(Organization, Option<String>)>,
    hubs: Vec<LocationId>,
    provider: OrganizationId,
    hub_org: OrganizationId,
    municipio6: OrganizationId,
}

fn weekly(rng: &mut ChaCha8Rng, code: &str) -> Vec<Schedule> {
    let mk = |rng: &mut ChaCha8Rng, days: &str, o: &str, c: &str| Schedule {
        id: uid(rng),
        freq: Some("WEEKLY".into()),
        byday: Some(days.into()),
        opens_at: Some(o.into()),
        closes_at: Some(c.into()),
        description: None,
        ..Default::default()
    };
    if code.starts_with('E') || code == "C3" {
        return vec![mk(rng, "MO,TU,WE,TH,FR,SA,SU", "00:00", "24:00")];
    }
    if code.starts_with('F') {
        return vec![mk(rng, "MO,WE", "09:00", "12:30")];
    }
    match rng.random_range(0..5) {
        0 => vec![
            mk(rng, "MO,TU,WE,TH,FR", "09:00", "13:00"),
            mk(rng, "MO,TU,WE,TH,FR", "14:00", "17:30"),
        ],
        1 => vec![mk(rng, "MO,TU,WE,TH,FR,SA", "08:00", "20:00")],
        2 => vec![
            mk(rng, "TU,TH", "15:00", "19:00"),
            mk(rng, "SA", "09:30", "12:30"),
        ],
        3 => vec![mk(rng, "MO,TU,WE,TH,FR", "08:30", "16:30")],
        _ => vec![mk(rng, "MO,WE,FR", "10:00", "18:00")],
    }
}

fn generate(seed: u64, scale: f64, s: &Sampler) -> Generated {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = |base: f64| ((base * scale).round() as usize).max(1);
    let mut b = Bundle::default();
    let mut kinds = Vec::new();
    let mut hubs = Vec::new();

    // Organisations.
    let mut orgs: Vec<(Organization, Kind)> = Vec::new();
    let mut add_org = |rng: &mut ChaCha8Rng, name: String, kind: Kind, description: String| {
        let o = Organization {
            id: uid(rng),
            name,
            description,
            email: None,
            legal_status: Some(
                match kind {
                    Kind::Municipal | Kind::Health => "Ente pubblico",
                    Kind::Coop => "Cooperativa sociale di tipo A",
                    Kind::Association => "Ente del Terzo Settore (ODV/APS)",
                    Kind::Company => "Società per azioni",
                    Kind::Foundation => "Fondazione",
                }
                .into(),
            ),
            ..Default::default()
        };
        orgs.push((o, kind));
    };
    add_org(&mut rng, PROVIDER_NAME.into(), Kind::Coop, "Cooperativa sociale di tipo A: assistenza domiciliare e servizi per anziani nel centro di Milano.".into());
    add_org(
        &mut rng,
        "Rete Case di Quartiere Milano APS".into(),
        Kind::Association,
        "Associazione che gestisce case di quartiere, sportelli di comunità e spazi condivisi."
            .into(),
    );
    for m in 1..=9 {
        add_org(
            &mut rng,
            format!("Comune di Milano – Municipio {m} – Servizi sociali territoriali"),
            Kind::Municipal,
            format!(
                "Servizi sociali del Municipio {m}: accesso, assistenza sociale, domiciliarità."
            ),
        );
    }
    for name in [
        "Comune di Milano – Area Domiciliarità e Cultura della Salute",
        "Comune di Milano – Area Inclusione e Politiche per il Lavoro",
        "Comune di Milano – Area Infanzia e Famiglia",
        "Comune di Milano – Area Residenzialità",
    ] {
        add_org(
            &mut rng,
            name.into(),
            Kind::Municipal,
            "Direzione Welfare e Salute del Comune di Milano.".into(),
        );
    }
    for name in [
        "ATS Città Metropolitana di Milano",
        "ASST Fatebenefratelli Sacco",
        "ASST Santi Paolo e Carlo",
        "ASST Grande Ospedale Metropolitano Niguarda",
        "ASST Nord Milano",
        "ASST Pini-CTO",
    ] {
        add_org(
            &mut rng,
            name.into(),
            Kind::Health,
            "Sistema sociosanitario lombardo.".into(),
        );
    }
    let mut used = std::collections::HashSet::new();
    used.insert(PROVIDER_NAME.to_string());
    // A name not used yet: a root and a suffix; once the few hundred combinations of a prefix are
    // taken (large --scale), a district number makes it unique ("... Milano 2", "... Milano 3").
    let mut unique = |rng: &mut ChaCha8Rng, prefix: &str, suffix: &str| {
        let root = NAME_ROOTS.choose(rng).expect("roots");
        let tail = NAME_SUFFIXES.choose(rng).expect("suffixes");
        let base = format!("{prefix} {root}{tail}");
        let mut name = format!("{base}{suffix}");
        let mut n = 2;
        while !used.insert(name.clone()) {
            name = format!("{base} {n}{suffix}");
            n += 1;
        }
        name
    };
    for _ in 0..n(139.0) {
        let name = unique(&mut rng, "Cooperativa Sociale", "");
        add_org(&mut rng, name, Kind::Coop, "Cooperativa sociale che gestisce servizi alla persona in convenzione con il Comune e l'ATS.".into());
    }
    for i in 0..n(109.0) {
        let (p, s) = if i % 2 == 0 {
            ("Associazione", " ODV")
        } else {
            ("Associazione", " APS")
        };
        let name = unique(&mut rng, p, s);
        add_org(
            &mut rng,
            name,
            Kind::Association,
            "Associazione di volontariato e promozione sociale attiva nei quartieri.".into(),
        );
    }
    for _ in 0..n(30.0) {
        let name = unique(&mut rng, "Gruppo", " S.p.A. – Piano di welfare aziendale");
        add_org(
            &mut rng,
            name,
            Kind::Company,
            "Impresa con un piano di welfare aziendale aperto al territorio.".into(),
        );
    }
    for _ in 0..n(20.0) {
        let name = unique(&mut rng, "Fondazione", "");
        add_org(
            &mut rng,
            name,
            Kind::Foundation,
            "Fondazione filantropica milanese.".into(),
        );
    }

    let mut provider = OrganizationId::new();
    let mut hub_org = OrganizationId::new();
    let mut municipio6 = OrganizationId::new();
    let target_services = n(1500.0);
    let target_hubs = n(120.0);
    let weights: Vec<usize> = orgs
        .iter()
        .map(|(_, k)| match k {
            Kind::Municipal => 25,
            Kind::Health => 20,
            Kind::Coop => 5,
            Kind::Association => 3,
            Kind::Company => 2,
            Kind::Foundation => 3,
        })
        .collect();
    let weight_sum: usize = weights.iter().sum();
    let mut services_made = 0usize;

    for (i, (org, kind)) in orgs.iter().enumerate() {
        let oid = OrganizationId(org.id);
        if org.name == PROVIDER_NAME {
            provider = oid;
        } else if org.name.starts_with("Rete Case di Quartiere") {
            hub_org = oid;
        } else if org.name.starts_with("Comune di Milano – Municipio 6") {
            municipio6 = oid;
        }
        let mut org = org.clone();
        org.email = Some(format!("info@org{}.demo.trama.it", i + 1));
        org.website = Some(format!("https://org{}.demo.trama.it", i + 1));
        org.phones = vec![Phone {
            id: uid(&mut rng),
            number: format!("+39 02 {:07}", rng.random_range(1_000_000..9_999_999)),
            r#type: Some("voice".into()),
            ..Default::default()
        }];
        kinds.push((org.clone(), Some(kind.as_str().to_string())));
        b.add_organization(org.clone());

        // Places: the provider's first place is by Piazza Duomo; municipal offices sit in their Municipio.
        let places = if *kind == Kind::Municipal || *kind == Kind::Health {
            rng.random_range(2..=4)
        } else {
            rng.random_range(1..=3)
        };
        let mut locs = Vec::new();
        for p in 0..places {
            let c = if org.id == provider.as_uuid() && p == 0 {
                Coordinates::new(45.4627, 9.1872).expect("valid")
            } else if let Some(m) = org
                .name
                .strip_prefix("Comune di Milano – Municipio ")
                .and_then(|r| r.chars().next())
                .and_then(|d| d.to_digit(10))
            {
                let area = s.municipi.iter().find(|a| a.code == m.to_string());
                match area.and_then(|a| a.centroid) {
                    Some(c) if p == 0 => c,
                    _ => s.point(&mut rng),
                }
            } else {
                s.point(&mut rng)
            };
            let muni = s.municipio_of(&c);
            // The street is the one nearest the place, so its address and its point agree.
            let near = nearest_address(&c);
            let (street, number) = (near.street.as_str(), near.number.as_str());
            let lid = uid(&mut rng);
            locs.push((
                Location {
                    id: lid,
                    location_type: "physical".into(),
                    organization_id: Some(org.id),
                    name: Some(format!(
                        "{} – {street}",
                        if p == 0 { "Sede" } else { "Sede operativa" }
                    )),
                    latitude: Some((c.lat() * 1e6).round() / 1e6),
                    longitude: Some((c.lon() * 1e6).round() / 1e6),
                    addresses: vec![Address {
                        id: uid(&mut rng),
                        location_id: Some(lid),
                        address_1: format!("{street} {number}"),
                        city: "Milano".into(),
                        region: Some("Lombardia".into()),
                        state_province: "MI".into(),
                        postal_code: format!("201{:02}", rng.random_range(21..62)),
                        country: "IT".into(),
                        address_type: "physical".into(),
                        ..Default::default()
                    }],
                    accessibility: if rng.random_bool(0.7) {
                        vec![Accessibility {
                            id: uid(&mut rng),
                            location_id: Some(lid),
                            description: Some(
                                "Ingresso senza barriere architettoniche, ascensore".into(),
                            ),
                            ..Default::default()
                        }]
                    } else {
                        vec![]
                    },
                    ..Default::default()
                },
                muni.name.clone(),
            ));
        }

        // Community hubs, run by the hub network and by associations.
        if (org.id == hub_org.as_uuid() || (*kind == Kind::Association && rng.random_bool(0.35)))
            && hubs.len() < target_hubs
        {
            let count = if org.id == hub_org.as_uuid() {
                (target_hubs / 4).max(1)
            } else {
                1
            };
            for _ in 0..count {
                if hubs.len() >= target_hubs {
                    break;
                }
                let (loc, muni) = hub_location(&mut rng, s, org.id);
                hubs.push(LocationId(loc.id));
                locs.push((loc, muni));
            }
        }
        for (l, _) in &locs {
            b.add_location(l.clone());
        }

        // Services, in proportion to the organisation's weight.
        let mut count =
            ((weights[i] as f64 / weight_sum as f64) * target_services as f64).round() as usize;
        count = count.max(1);
        if services_made + count > target_services && i > 0 {
            count = target_services.saturating_sub(services_made).max(
                if services_made < target_services {
                    1
                } else {
                    0
                },
            );
        }
        for k in 0..count {
            let code = if org.id == provider.as_uuid() && k == 0 {
                "C1"
            } else {
                kind.terms().choose(&mut rng).expect("terms")
            };
            let names = service_name(code);
            let (loc, muni_name) = if org.id == provider.as_uuid() && k == 0 {
                locs[0].clone()
            } else {
                locs.choose(&mut rng).expect("a place").clone()
            };
            let base = if org.id == provider.as_uuid() && k == 0 {
                "Assistenza domiciliare anziani"
            } else {
                names.choose(&mut rng).expect("names")
            };
            let short_muni = muni_name
                .split(" – ")
                .next()
                .unwrap_or(&muni_name)
                .to_string();
            // Named as places name their services: by the street they are in, by the
            // neighbourhood, or plainly (no random draw: the territory stays the same).
            let street = loc
                .addresses
                .first()
                .and_then(|a| a.address_1.rsplit_once(' '))
                .map(|(s, _)| {
                    let mut w = s.split_whitespace();
                    let kind = w.next().unwrap_or("").to_lowercase();
                    format!("{kind} {}", w.collect::<Vec<_>>().join(" "))
                });
            let title = match ((i + k) % 3, &street) {
                (0, Some(s)) => format!("{base} di {s}"),
                (1, _) => format!("{base} – {short_muni}"),
                _ => base.to_string(),
            };
            let sid = uid(&mut rng);
            let funder = kind.funders().choose(&mut rng).expect("funders");
            let mut langs = vec!["it"];
            if rng.random_bool(0.3) {
                langs.push(
                    ["en", "es", "ar", "zh", "ro", "tl", "fr"]
                        .choose(&mut rng)
                        .expect("langs"),
                );
            }
            let free = code.starts_with('A')
                || code.starts_with('F')
                || code.starts_with('B')
                || rng.random_bool(0.3);
            let service = Service {
                id: sid,
                organization_id: Some(org.id),
                name: title,
                description: Some(format!(
                    "{base}. Servizio di {} rivolto a chi abita nel {short_muni}; sede in {}. {}",
                    org.name,
                    loc.addresses.first().map(|a| a.address_1.as_str()).unwrap_or("Milano"),
                    if free { "Gratuito." } else { "Con compartecipazione al costo in base all'ISEE." }
                )),
                status: if rng.random_bool(0.97) { "active".into() } else { "temporarily closed".into() },
                email: Some(format!("servizi{}@org{}.demo.trama.it", k + 1, i + 1)),
                application_process: Some("Rivolgersi allo sportello o telefonare; per i cittadini non autonomi può chiamare un familiare o l'assistente sociale.".into()),
                eligibility_description: Some("Residenti a Milano.".into()),
                attributes: vec![
                    Attribute { id: uid(&mut rng), link_id: Some(sid), taxonomy_term_id: Some(term_id(code).0), link_type: Some("category".into()), link_entity: Some("service".into()), ..Default::default() },
                    Attribute { id: uid(&mut rng), link_id: Some(sid), taxonomy_term_id: Some(term_id(user_area(code, &mut rng)).0), link_type: Some("audience".into()), link_entity: Some("service".into()), ..Default::default() },
                ],
                funding: vec![Funding { id: uid(&mut rng), service_id: Some(sid), source: Some((*funder).into()), ..Default::default() }],
                cost_options: if free {
                    vec![]
                } else {
                    vec![CostOption {
                        id: uid(&mut rng),
                        service_id: Some(sid),
                        option: Some("Tariffa oraria (compartecipazione secondo ISEE)".into()),
                        currency: Some("EUR".into()),
                        amount: Some(f64::from(rng.random_range(1200..2600u32)) / 100.0),
                        ..Default::default()
                    }]
                },
                languages: langs.iter().map(|c| Language { id: uid(&mut rng), service_id: Some(sid), code: Some((*c).into()), ..Default::default() }).collect(),
                phones: vec![Phone { id: uid(&mut rng), service_id: Some(sid), number: format!("+39 02 {:07}", rng.random_range(1_000_000..9_999_999)), ..Default::default() }],
                required_documents: if code.starts_with('F') || code == "C1" || code == "E1" {
                    vec![RequiredDocument { id: uid(&mut rng), service_id: Some(sid), document: Some("Attestazione ISEE in corso di validità".into()), ..Default::default() }]
                } else {
                    vec![]
                },
                service_areas: vec![ServiceArea { id: uid(&mut rng), service_id: Some(sid), name: Some(short_muni.clone()), extent_type: Some("municipio".into()), ..Default::default() }],
                schedules: if org.id == provider.as_uuid() && k == 0 { weekly_all_day() } else { weekly(&mut rng, code) },
                service_at_locations: vec![ServiceAtLocation { id: uid(&mut rng), service_id: Some(sid), location_id: Some(loc.id), ..Default::default() }],
                last_modified: Some("2026-11-01T09:00:00.000Z".into()),
                ..Default::default()
            };
            b.add_service(service);
            services_made += 1;
        }
    }
    // The hub network runs the hubs the associations did not open.
    while hubs.len() < target_hubs {
        let (loc, _) = hub_location(&mut rng, s, hub_org.as_uuid());
        hubs.push(LocationId(loc.id));
        b.add_location(loc);
    }
    Generated {
        bundle: b,
        kinds,
        hubs,
        provider,
        hub_org,
        municipio6,
    }
}

const HUB_KINDS: [(&str, &str); 6] = [
    ("Casa di quartiere", "centro sociale"),
    ("Biblioteca rionale", "biblioteca"),
    ("Bar", "bar"),
    ("Coworking di comunità", "coworking"),
    ("Oratorio della parrocchia di San", "parrocchia"),
    ("Centro culturale", "centro culturale"),
];
const SAINTS: [&str; 10] = [
    "Vittore", "Ambrogio", "Carlo", "Lorenzo", "Siro", "Gottardo", "Martino", "Giovanni", "Marco",
    "Pietro",
];

/// A community hub: a place with a help desk and rooms, run by `org`.
fn hub_location(rng: &mut ChaCha8Rng, s: &Sampler, org: Uuid) -> (Location, String) {
    // A hub stands at a house of the territory's streets: its address and its point agree.
    let near = nearest_address(&s.point(rng));
    let c = near.point;
    let (prefix, function) = HUB_KINDS.choose(rng).expect("hub kinds");
    let muni = s.municipio_of(&c);
    let name = if prefix.ends_with("San") {
        format!("{prefix} {}", SAINTS.choose(rng).expect("saints"))
    } else {
        format!("{prefix} {}", NAME_ROOTS.choose(rng).expect("roots"))
    };
    let lid = uid(rng);
    let loc = Location {
        id: lid,
        location_type: "physical".into(),
        organization_id: Some(org),
        name: Some(name.clone()),
        description: Some(format!(
            "Hub di comunità ({function}): sportello di aiuto, sale prenotabili, attività di quartiere."
        )),
        latitude: Some((c.lat() * 1e6).round() / 1e6),
        longitude: Some((c.lon() * 1e6).round() / 1e6),
        addresses: vec![Address {
            id: uid(rng),
            location_id: Some(lid),
            address_1: format!("{} {}", near.street, near.number),
            city: "Milano".into(),
            state_province: "MI".into(),
            postal_code: format!("201{:02}", rng.random_range(21..62)),
            country: "IT".into(),
            address_type: "physical".into(),
            ..Default::default()
        }],
        schedules: weekly(rng, "D3"),
        ..Default::default()
    };
    (loc, muni.name.clone())
}

fn weekly_all_day() -> Vec<Schedule> {
    vec![Schedule {
        id: Uuid::from_u128(0x7a3d_0000_0000_4000_8000_0000_0000_0001),
        freq: Some("WEEKLY".into()),
        byday: Some("MO,TU,WE,TH,FR,SA".into()),
        opens_at: Some("07:00".into()),
        closes_at: Some("21:00".into()),
        ..Default::default()
    }]
}

/// Builds the demo into the territory (unless it is there already) and says what was loaded.
pub async fn load(state: &AppState, seed: u64, scale: f64, reset: bool) -> Result<String> {
    let key = format!("seed={seed} scale={scale}");
    if let Some(done) = territory::setting(state, SETTING).await? {
        if done == key && !reset {
            return Ok(format!(
                "The demo territory ({key}) is already in this database; --reset rebuilds it."
            ));
        }
        anyhow::ensure!(
            reset,
            "this database holds another demo ({done}); run with --reset to rebuild it"
        );
    }
    if reset {
        territory::wipe(state).await?;
    } else {
        let counts = territory::directory_counts(state).await?;
        anyhow::ensure!(
            counts
                .iter()
                .find(|(k, _)| *k == "services")
                .map(|(_, n)| *n)
                == Some(0),
            "this database already holds a directory; use an empty data dir for the demo, or --reset to wipe it"
        );
    }
    let started = Instant::now();
    let (nil, municipi, source) = milan_areas()?;
    directory::import_areas(state, &municipi).await?;
    directory::import_areas(state, &nil).await?;
    directory::import_places(state, &gazetteer()).await?;
    let sampler = Sampler { nil, municipi };
    let g = generate(seed, scale, &sampler);

    let bar = indicatif::ProgressBar::new(g.bundle.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len}")
            .expect("template")
            .progress_chars("=> "),
    );
    bar.set_message("directory");
    let b = bar.clone();
    directory::import_bundle(state, &g.bundle, &mut move |p| {
        b.set_position(p.done as u64)
    })
    .await?;
    bar.finish_and_clear();
    directory::import_organization_kinds(state, &g.kinds).await?;
    directory::mark_hubs(state, &g.hubs).await?;

    // People: 20,000 at scale 1, none of whom can log in, and one login per role.
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
    let people_count = ((20_000.0 * scale).round() as usize).max(1);
    let people: Vec<(UserId, String, Option<String>)> = (0..people_count)
        .map(|i| {
            let first = FIRST_NAMES.choose(&mut rng).expect("names");
            let last = LAST_NAMES.choose(&mut rng).expect("names");
            let email = rng
                .random_bool(0.7)
                .then(|| format!("persona{i}@esempio.demo.trama.it"));
            (UserId(uid(&mut rng)), format!("{first} {last}"), email)
        })
        .collect();
    accounts::create_people(state, &people).await?;
    let password = NewPassword::parse(DEMO_PASSWORD).map_err(|e| anyhow::anyhow!("{e}"))?;
    let hash = trama_server::auth::hash_password(password)
        .await
        .map_err(|e| anyhow::anyhow!("hashing the demo password: {e}"))?;
    let mut login_ids: Vec<(Role, UserId)> = Vec::new();
    for (email, name, role) in DEMO_LOGINS {
        let org = match role {
            Role::OrganizationAdmin => Some(g.provider),
            Role::Operator | Role::HubManager => Some(g.hub_org),
            Role::CaseManager => Some(g.municipio6),
            _ => None,
        };
        let mut roles = vec![RoleGrant::new(*role, org).map_err(|e| anyhow::anyhow!("{e}"))?];
        // Everyone may also ask for help as a citizen, except the auditor, who changes nothing.
        if !matches!(role, Role::Citizen | Role::Auditor) {
            roles.push(RoleGrant::new(Role::Citizen, None).expect("unscoped"));
        }
        let id = accounts::create_account(
            state,
            &NewUser {
                email: Some(Email::parse(email).map_err(|e| anyhow::anyhow!("{e}"))?),
                display_name: (*name).into(),
                password_hash: Some(hash.clone()),
                locale: "it".into(),
            },
            &roles,
        )
        .await?;
        login_ids.push((*role, id));
    }
    let login = |r: Role| {
        login_ids
            .iter()
            .find(|(x, _)| *x == r)
            .map(|(_, id)| *id)
            .expect("one login per role")
    };
    let person_ids: Vec<UserId> = people.iter().map(|p| p.0).collect();
    let point = |rng: &mut ChaCha8Rng| sampler.point(rng);
    let community = crate::demo_help::load(
        state,
        seed,
        scale,
        crate::demo_help::Inputs {
            hubs: &g.hubs,
            hub_org: g.hub_org,
            people: &person_ids,
            volunteer: login(Role::Volunteer),
            operator: login(Role::Operator),
            territory_admin: login(Role::TerritoryAdmin),
            point: &point,
        },
    )
    .await?;
    // Needs posted by people of a Municipio go to its operators: Municipio 6's social services.
    territory::set_setting(state, "route.municipio.6", &g.municipio6.to_string()).await?;
    territory::optimize(state).await?;
    let elapsed = started.elapsed().as_secs_f64();
    territory::set_setting(state, SETTING, &key).await?;
    territory::set_setting(state, "demo.load_seconds", &format!("{elapsed:.2}")).await?;
    let counts = territory::directory_counts(state).await?;
    let summary: Vec<String> = counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
    Ok(format!(
        "Demo territory of Milan ({key}) built in {elapsed:.1} s from {source}: {}, {} people; \
         {} hubs with rooms, {} offers of help, {} needs, {} completed matches.",
        summary.join(", "),
        accounts::count_accounts(state).await?,
        community.hubs,
        community.offers,
        community.needs,
        community.completed
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fallback() -> Sampler {
        Sampler {
            nil: vec![],
            municipi: milano_municipi(),
        }
    }

    #[test]
    fn the_same_seed_builds_the_same_territory() {
        let a = generate(7, 0.2, &fallback());
        let b = generate(7, 0.2, &fallback());
        let ids = |g: &Generated| g.bundle.services.iter().map(|s| s.id).collect::<Vec<_>>();
        assert_eq!(ids(&a), ids(&b));
        assert_ne!(ids(&a), ids(&generate(8, 0.2, &fallback())));
    }

    #[test]
    fn scale_one_has_what_the_demo_promises() {
        let g = generate(DEFAULT_SEED, 1.0, &fallback());
        assert!(
            g.bundle.organizations.len() >= 300,
            "{}",
            g.bundle.organizations.len()
        );
        assert!(
            g.bundle.services.len() >= 1_490,
            "{}",
            g.bundle.services.len()
        );
        assert_eq!(g.hubs.len(), 120);
        // Every service has a category and a place inside Milan (links are taken apart into the bundle's own list).
        let place_of = |sid: Uuid| {
            let link = g
                .bundle
                .service_at_locations
                .iter()
                .find(|l| l.service_id == Some(sid))
                .expect("every service has a place");
            let loc = g.bundle.locations.get(&link.location_id.unwrap()).unwrap();
            Coordinates::new(loc.latitude.unwrap(), loc.longitude.unwrap()).unwrap()
        };
        for s in g.bundle.services.iter() {
            assert!(!s.attributes.is_empty(), "{}", s.name);
            let p = place_of(s.id);
            assert!(
                (45.3..45.6).contains(&p.lat()) && (9.0..9.35).contains(&p.lon()),
                "{p:?}"
            );
        }
        // The demo provider has its home-care service by Piazza del Duomo.
        let provider = g
            .bundle
            .organizations
            .iter()
            .find(|o| o.name == PROVIDER_NAME)
            .unwrap();
        let duomo = Coordinates::new(45.4642, 9.19).unwrap();
        let near = g
            .bundle
            .services
            .iter()
            .filter(|s| s.organization_id == Some(provider.id))
            .any(|s| {
                s.name.starts_with("Assistenza domiciliare")
                    && place_of(s.id).distance_km(&duomo) < 0.5
            });
        assert!(near);
    }
}
