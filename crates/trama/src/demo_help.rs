//! The living part of the demo territory: hubs with rooms and help desks, people registered at
//! hubs by operators, open needs, offers of help, a history of completed matches (so there are
//! contributions to show), and a seasonal campaign (heat in summer, cold and flu in winter).
//! Deterministic from the seed and the demo's today.
//!
//! The Giambellino story of issue 3 is in it: Lucia Ferri, who has no smartphone, asks through
//! the hub operator for someone to do her shopping on Tuesday mornings; three volunteers within
//! a kilometre, free then and speaking Italian, are there to be suggested, the demo volunteer
//! (Luca Bianchi) among them.

use anyhow::{Context, Result};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use time::Duration;

use trama_core::auth::Principal;
use trama_core::geo::Coordinates;
use trama_core::ids::{LocationId, OfferId, OrganizationId, UserId};
use trama_core::matching::instance::WindowSpec;
use trama_core::matching::model::Urgency;
use trama_core::needs::{NeedForm, OfferForm};
use trama_server::AppState;
use trama_server::accounts::service as accounts;
use trama_server::campaigns::service as campaigns;
use trama_server::help::service as help;
use trama_server::hubs::service as hubs;

/// Giambellino, by the Casa di quartiere where the story happens.
pub const GIAMBELLINO: (f64, f64) = (45.4531, 9.1402);

const HELP: [(&str, &str); 12] = [
    ("H1", "Mi serve aiuto per la spesa settimanale."),
    (
        "H2",
        "Vorrei qualcuno con cui fare due chiacchiere, anche al telefono.",
    ),
    (
        "H3",
        "Devo andare a una visita al Policlinico e non posso andare da sola.",
    ),
    (
        "H4",
        "Si è rotta la maniglia della finestra e perde il rubinetto.",
    ),
    (
        "H5",
        "Mio figlio fa la terza media e ha bisogno di aiuto con matematica.",
    ),
    (
        "H6",
        "Cerco qualcuno che tenga i bambini il giovedì pomeriggio.",
    ),
    (
        "H7",
        "Dopo l'operazione non riesco a cucinare: mi servono pasti portati a casa.",
    ),
    (
        "H8",
        "Non so prenotare le visite sul Fascicolo Sanitario e usare lo SPID.",
    ),
    ("H9", "Ho bisogno di un passaggio in auto per la dialisi."),
    ("H10", "Serve una mano per lavarmi e vestirmi la mattina."),
    (
        "H11",
        "Mi piacerebbe uscire a fare una passeggiata al parco.",
    ),
    (
        "H12",
        "Sono in ospedale qualche giorno: qualcuno può portare fuori il cane?",
    ),
];

const OFFER_TEXT: [&str; 6] = [
    "Ho qualche ora libera in settimana e abito in zona.",
    "Pensionato, ho la macchina e tanta pazienza.",
    "Studentessa universitaria, disponibile il pomeriggio.",
    "Lavoro da casa, posso dare una mano in pausa pranzo.",
    "Faccio parte del gruppo di volontari della parrocchia.",
    "Mi piace cucinare e fare compagnia.",
];

/// A weekly window as people write it: day, from, to (minutes from midnight).
fn spec(day: u8, from: u16, to: u16) -> WindowSpec {
    let clock = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
    WindowSpec {
        day: DAYS[usize::from(day)].into(),
        from: clock(from),
        to: clock(to),
    }
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn window(rng: &mut ChaCha8Rng) -> (u8, WindowSpec) {
    let day = rng.random_range(0..7u8);
    let from = rng.random_range(8..18u16);
    let len = rng.random_range(2..5u16);
    (day, spec(day, from * 60, ((from + len).min(22)) * 60))
}

/// What the community part of the demo loaded.
pub struct CommunityReport {
    pub hubs: usize,
    pub offers: usize,
    pub needs: usize,
    pub completed: usize,
}

pub struct Inputs<'a> {
    pub hubs: &'a [LocationId],
    pub hub_org: OrganizationId,
    pub people: &'a [UserId],
    pub volunteer: UserId,
    pub operator: UserId,
    pub territory_admin: UserId,
    pub point: &'a dyn Fn(&mut ChaCha8Rng) -> Coordinates,
}

/// Who a person is, to act as them.
async fn as_person(state: &AppState, id: UserId) -> Result<Principal> {
    accounts::principal(state, id)
        .await?
        .with_context(|| format!("no person {id}"))
}

pub async fn load(
    state: &AppState,
    seed: u64,
    scale: f64,
    i: Inputs<'_>,
) -> Result<CommunityReport> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xc0_ffee);
    let n = |x: f64| ((x * scale).round() as usize).max(1);
    let admin = as_person(state, i.territory_admin).await?;
    let operator = as_person(state, i.operator).await?;

    // Hubs: functions, hours, help desk, rooms, set by the territory admin.
    let functions = [
        "social_centre",
        "library",
        "bar",
        "coworking",
        "parish",
        "cultural_centre",
    ];
    for (k, h) in i.hubs.iter().enumerate() {
        let f1 = functions[k % functions.len()];
        let f2 = *functions.choose(&mut rng).expect("functions");
        let mut f = vec![f1.to_string()];
        if f2 != f1 {
            f.push(f2.to_string());
        }
        let mut hours = Vec::new();
        for day in 0..6u8 {
            hours.push(spec(day, 9 * 60, 13 * 60));
            if day < 5 {
                hours.push(spec(day, 14 * 60 + 30, 19 * 60));
            }
        }
        let capacity = rng.random_range(20..120);
        hubs::put_hub(
            state,
            &admin,
            *h,
            &hubs::HubRequest {
                functions: f,
                capacity,
                opening_hours: hours,
                help_desk: "Sportello di aiuto: martedì e giovedì 9:30–12:30, senza appuntamento. \
                            Si aiuta a chiedere e offrire aiuto, anche a chi non ha lo smartphone."
                    .into(),
            },
        )
        .await?;
        let room = |name: &str, capacity: u32, slot_minutes: u16| hubs::RoomRequest {
            name: name.into(),
            capacity,
            slot_minutes,
        };
        hubs::add_room(
            state,
            &admin,
            *h,
            // A room holds no more people than its hub.
            &room("Sala riunioni", rng.random_range(8..30).min(capacity), 60),
        )
        .await?;
        if rng.random_bool(0.5) {
            hubs::add_room(
                state,
                &admin,
                *h,
                &room("Sala grande", rng.random_range(30..80).min(capacity), 120),
            )
            .await?;
        }
    }

    // Offers by people of the territory, each made by its owner.
    let offers_n = n(600.0);
    let mut offers = Vec::with_capacity(offers_n + 3);
    let story_offers = [
        (i.volunteer, (45.4556, 9.1385)),
        (i.people[1 % i.people.len()], (45.4505, 9.1448)),
        (i.people[2 % i.people.len()], (45.4547, 9.1335)),
    ];
    for (owner, at) in story_offers {
        let offer = OfferForm {
            categories: vec!["H1".into(), "H2".into(), "H11".into()],
            description: "Abito al Giambellino, il martedì mattina sono libero.".into(),
            lat: at.0,
            lon: at.1,
            radius_km: 1.0,
            availability: vec![spec(1, 8 * 60 + 30, 13 * 60), window(&mut rng).1],
            hours_per_week: 4.0,
            capacity: 2,
            languages: vec!["it".into(), "en".into()],
            skills: vec![],
            organization_id: None,
        };
        let who = as_person(state, owner).await?;
        offers.push(help::create_offer(state, &who, &offer).await?);
    }
    let langs = ["it", "en", "es", "ar", "ro", "zh"];
    let skills = ["driving", "first_aid", "digital", "diy", "cooking"];
    for k in 0..offers_n {
        let owner = i.people[(k * 7 + 11) % i.people.len()];
        let p = (i.point)(&mut rng);
        let mut cats: Vec<String> = (0..rng.random_range(1..=3))
            .map(|_| HELP.choose(&mut rng).expect("help").0.to_string())
            .collect();
        cats.sort();
        cats.dedup();
        let mut l = vec!["it".to_string()];
        if rng.random_bool(0.4) {
            l.push(langs.choose(&mut rng).expect("langs").to_string());
        }
        l.dedup();
        let offer = OfferForm {
            categories: cats,
            description: OFFER_TEXT.choose(&mut rng).expect("texts").to_string(),
            lat: p.lat(),
            lon: p.lon(),
            radius_km: *[0.5, 1.0, 1.0, 1.5, 2.0, 3.0]
                .choose(&mut rng)
                .expect("radii"),
            availability: (0..rng.random_range(1..=3))
                .map(|_| window(&mut rng).1)
                .collect(),
            hours_per_week: rng.random_range(2..=8) as f64,
            capacity: rng.random_range(1..=3),
            languages: l,
            skills: skills
                .iter()
                .filter(|_| rng.random_bool(0.15))
                .map(|s| s.to_string())
                .collect(),
            organization_id: None,
        };
        let who = as_person(state, owner).await?;
        offers.push(help::create_offer(state, &who, &offer).await?);
    }

    // Lucia Ferri, registered at the Giambellino hub by its operator, and her Tuesday
    // shopping, entered for her.
    let lucia = help::register_person(
        state,
        &operator,
        &help::PersonRequest {
            display_name: "Lucia Ferri".into(),
            consent_reference: "Prot. 2026/1187 (modulo firmato in sede)".into(),
            phone: Some("02 4879 1187".into()),
            organization_id: Some(i.hub_org.to_string()),
            locale: Some("it".into()),
        },
    )
    .await?;
    let need = |category: &str, description: &str, address: String, at: Coordinates| NeedForm {
        category: category.into(),
        description: description.into(),
        address,
        lat: at.lat(),
        lon: at.lon(),
        windows: vec![],
        recurring: true,
        date: None,
        until: None,
        duration_minutes: 60,
        urgency: Urgency::Normal,
        languages: vec!["it".into()],
        skills: vec![],
        people: 1,
        on_behalf_of: None,
        campaign_id: None,
    };
    let g = Coordinates::new(GIAMBELLINO.0, GIAMBELLINO.1)?;
    help::create_need(
        state,
        &operator,
        &NeedForm {
            windows: vec![spec(1, 9 * 60, 12 * 60)],
            duration_minutes: 90,
            on_behalf_of: Some(lucia.to_string()),
            ..need(
                "H1",
                "Fare la spesa il martedì mattina: pane, frutta, latte, le medicine in farmacia.",
                "Via Giambellino 58, scala B, 2° piano (citofono Ferri)".into(),
                g,
            )
        },
    )
    .await?;

    // Open needs across the city, each asked by the person who needs the help.
    let needs_n = n(400.0);
    let today = state.now_local().date();
    let mut needs = Vec::with_capacity(needs_n);
    for k in 0..needs_n {
        let requester = as_person(state, i.people[(k * 13 + 5) % i.people.len()]).await?;
        let p = (i.point)(&mut rng);
        let (code, text) = *HELP.choose(&mut rng).expect("help");
        let recurring = rng.random_bool(0.6);
        let (day, w) = window(&mut rng);
        let date = (!recurring).then(|| {
            let ahead = (i64::from(day) - i64::from(today.weekday().number_days_from_monday()))
                .rem_euclid(7)
                + 7;
            (today + Duration::days(ahead)).to_string()
        });
        let urgency = match rng.random_range(0..100) {
            0..=14 => Urgency::Low,
            15..=69 => Urgency::Normal,
            70..=91 => Urgency::High,
            _ => Urgency::Critical,
        };
        let address = format!(
            "Via {} {}",
            [
                "Padova",
                "Lorenteggio",
                "Novara",
                "Ripamonti",
                "Mecenate",
                "Imbonati"
            ]
            .choose(&mut rng)
            .expect("streets"),
            rng.random_range(1..200)
        );
        let id = help::create_need(
            state,
            &requester,
            &NeedForm {
                windows: vec![w],
                recurring,
                date,
                duration_minutes: *[60, 60, 90, 120].choose(&mut rng).expect("durations"),
                urgency,
                ..need(code, text, address, p)
            },
        )
        .await?;
        needs.push((id, requester));
    }

    // A history: some people chose a volunteer among their suggestions, who accepted, came
    // and was thanked (contributions to show).
    let completed_n = n(120.0).min(needs.len());
    let mut completed = 0;
    for (k, (need, requester)) in needs.iter().take(completed_n).enumerate() {
        let (row, _, _) = help::load_need(state, Some(requester), *need).await?;
        let suggested = help::suggestions_for(state, requester, &row, 3).await?;
        let Some(s) = suggested.first() else {
            continue;
        };
        let m = help::propose(state, requester, *need, OfferId(s.offer_id)).await?;
        let volunteer = as_person(state, m.volunteer).await?;
        let when = state.now() - Duration::days(rng_days(k));
        for (who, event, next_at) in [
            (&volunteer, "accept", None),
            (&volunteer, "schedule", Some(when)),
            (&volunteer, "done", None),
            (requester, "done", None),
        ] {
            help::match_event(state, who, m.id, event, next_at, None, None).await?;
        }
        completed += 1;
    }

    // A seasonal campaign around the demo's today: a heatwave in summer, cold and flu in
    // winter; elderly people living alone, called by the hub's operators, who register them
    // and enter their urgent needs.
    let month = state.now_local().month() as usize;
    let summer = (6..=9).contains(&month);
    let (title, kind, description, short) = if summer {
        (
            "Ondata di calore",
            "heatwave",
            "Telefonate, spesa e acqua per le persone anziane sole durante l'ondata di calore.",
            "caldo",
        )
    } else {
        (
            "Freddo e influenza",
            "flu_season",
            "Telefonate, spesa e farmaci per le persone anziane sole nei giorni di freddo e di influenza.",
            "freddo",
        )
    };
    // The campaign's people live along Via Padova, each at a house of the gazetteer; the
    // campaign covers the Municipi those houses are in.
    let padova: Vec<_> = crate::demo::gazetteer()
        .into_iter()
        .filter(|a| a.street == "Via Padova")
        .collect();
    let homes: Vec<_> = (0..n(40.0))
        .map(|k| padova[(k * 7) % padova.len()].clone())
        .collect();
    let mut districts: Vec<String> = Vec::new();
    for h in &homes {
        if let (_, Some(m)) = help::area_of(state, &h.point).await?
            && !districts.contains(&m)
        {
            districts.push(m);
        }
    }
    districts.sort();
    let campaign = campaigns::create_campaign(
        state,
        &admin,
        &campaigns::CampaignRequest {
            name: format!(
                "{title} – {} {}",
                trama_server::web::i18n::MONTHS_IT[month - 1],
                state.now_local().year()
            ),
            kind: kind.into(),
            description: description.into(),
            categories: vec!["H1".into(), "H2".into(), "H7".into()],
            // Two weeks back and six ahead.
            starts_on: Some(trama_core::moment::format_date(
                state.now_local().date() - time::Duration::days(14),
            )),
            ends_on: Some(trama_core::moment::format_date(
                state.now_local().date() + time::Duration::weeks(6),
            )),
            areas: districts,
        },
    )
    .await?;
    for k in 0..n(40.0) {
        let name = format!(
            "{} {}",
            ELDERLY_FIRST[k % ELDERLY_FIRST.len()],
            ELDERLY_LAST[(k * 7) % ELDERLY_LAST.len()]
        );
        let person = help::register_person(
            state,
            &operator,
            &help::PersonRequest {
                display_name: name,
                consent_reference: format!("Campagna {short}, telefonata n. {}", 101 + k),
                phone: None,
                organization_id: Some(i.hub_org.to_string()),
                locale: Some("it".into()),
            },
        )
        .await?;
        let home = &homes[k];
        help::create_need(
            state,
            &operator,
            &NeedForm {
                windows: vec![spec((k % 7) as u8, 9 * 60, 12 * 60)],
                urgency: if k % 3 == 0 {
                    Urgency::Critical
                } else {
                    Urgency::High
                },
                on_behalf_of: Some(person.to_string()),
                campaign_id: Some(campaign.to_string()),
                ..need(
                    ["H1", "H2", "H7"][k % 3],
                    &format!("Campagna {short}: persona anziana sola, da chiamare e aiutare."),
                    format!("{} {}", home.street, home.number),
                    home.point,
                )
            },
        )
        .await?;
    }
    Ok(CommunityReport {
        hubs: i.hubs.len(),
        offers: offers.len(),
        needs: needs.len() + 1 + n(40.0),
        completed,
    })
}

const ELDERLY_FIRST: [&str; 8] = [
    "Ernesto", "Iolanda", "Gino", "Elvira", "Osvaldo", "Rina", "Cesare", "Luisa",
];
const ELDERLY_LAST: [&str; 7] = [
    "Bassi", "Crippa", "Mariani", "Sironi", "Vergani", "Zanetti", "Arosio",
];

fn rng_days(k: usize) -> i64 {
    (k as i64 * 3) % 300 + 1
}
