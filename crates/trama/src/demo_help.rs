//! The living part of the demo territory: hubs with rooms and help desks, people registered at
//! hubs by operators, open needs, offers of help, a history of completed matches (so there are
//! contributions to show), and a heatwave campaign. Deterministic from the seed.
//!
//! The Giambellino story of issue 3 is in it: Lucia Ferri, who has no smartphone, asks through
//! the hub operator for someone to do her shopping on Tuesday mornings; three volunteers within
//! a kilometre, free then and speaking Italian, are there to be suggested, the demo volunteer
//! (Luca Bianchi) among them.

use anyhow::Result;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use time::{Duration, OffsetDateTime};

use trama_core::areas::Area;
use trama_core::geo::Coordinates;
use trama_core::ids::{LocationId, OrganizationId, UserId};
use trama_core::matching::lifecycle::{MatchEvent, MatchState, Side};
use trama_core::matching::model::{Urgency, WeekWindow};
use trama_core::needs::{NewNeed, NewOffer, public_area};
use trama_core::taxonomy::term_id;
use trama_store::{HubRecord, MatchChange, NeedRecord, NewCampaign, NewMatch, Store};

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

fn window(rng: &mut ChaCha8Rng) -> WeekWindow {
    let day = rng.random_range(0..7u8);
    let from = rng.random_range(8..18u16);
    let len = rng.random_range(2..5u16);
    WeekWindow::on_day("w", day, from * 60, ((from + len).min(22)) * 60).expect("valid window")
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
    pub nil: &'a [Area],
    pub municipi: &'a [Area],
    pub point: &'a dyn Fn(&mut ChaCha8Rng) -> Coordinates,
}

pub async fn load(store: &Store, seed: u64, scale: f64, i: Inputs<'_>) -> Result<CommunityReport> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xc0_ffee);
    let n = |x: f64| ((x * scale).round() as usize).max(1);
    let area = |c: &Coordinates| public_area(c, i.nil, i.municipi);

    // Hubs: functions, hours, help desk, rooms.
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
            hours.push(WeekWindow::on_day("h", day, 9 * 60, 13 * 60)?);
            if day < 5 {
                hours.push(WeekWindow::on_day("h", day, 14 * 60 + 30, 19 * 60)?);
            }
        }
        store
            .put_hub(&HubRecord {
                location: *h,
                functions: f,
                capacity: rng.random_range(20..120),
                opening_hours: hours,
                help_desk: "Sportello di aiuto: martedì e giovedì 9:30–12:30, senza appuntamento. \
                            Si aiuta a chiedere e offrire aiuto, anche a chi non ha lo smartphone."
                    .into(),
            })
            .await?;
        store
            .add_room(*h, "Sala riunioni", rng.random_range(8..30), 60)
            .await?;
        if rng.random_bool(0.5) {
            store
                .add_room(*h, "Sala grande", rng.random_range(30..80), 120)
                .await?;
        }
    }

    // Offers by people of the territory.
    let offers_n = n(600.0);
    let mut offers = Vec::with_capacity(offers_n + 3);
    let story_offers = [
        (i.volunteer, (45.4556, 9.1385)),
        (i.people[1 % i.people.len()], (45.4505, 9.1448)),
        (i.people[2 % i.people.len()], (45.4547, 9.1335)),
    ];
    for (owner, at) in story_offers {
        let p = Coordinates::new(at.0, at.1)?;
        let offer = NewOffer {
            categories: vec![term_id("H1"), term_id("H2"), term_id("H11")],
            description: "Abito al Giambellino, il martedì mattina sono libero.".into(),
            point: p,
            radius_km: 1.0,
            availability: vec![
                WeekWindow::on_day("a", 1, 8 * 60 + 30, 13 * 60)?,
                window(&mut rng),
            ],
            hours_per_week: 4.0,
            capacity: 2,
            languages: vec!["it".into(), "en".into()],
            skills: vec![],
            organization: None,
        };
        offers.push(store.create_offer(owner, &offer, &area(&p).0).await?);
    }
    let langs = ["it", "en", "es", "ar", "ro", "zh"];
    let skills = ["driving", "first_aid", "digital", "diy", "cooking"];
    for k in 0..offers_n {
        let owner = i.people[(k * 7 + 11) % i.people.len()];
        let p = (i.point)(&mut rng);
        let mut cats: Vec<_> = (0..rng.random_range(1..=3))
            .map(|_| term_id(HELP.choose(&mut rng).expect("help").0))
            .collect();
        cats.sort();
        cats.dedup();
        let mut l = vec!["it".to_string()];
        if rng.random_bool(0.4) {
            l.push(langs.choose(&mut rng).expect("langs").to_string());
        }
        l.dedup();
        let offer = NewOffer {
            categories: cats,
            description: OFFER_TEXT.choose(&mut rng).expect("texts").to_string(),
            point: p,
            radius_km: *[0.5, 1.0, 1.0, 1.5, 2.0, 3.0]
                .choose(&mut rng)
                .expect("radii"),
            availability: (0..rng.random_range(1..=3))
                .map(|_| window(&mut rng))
                .collect(),
            hours_per_week: rng.random_range(2..=8) as f64,
            capacity: rng.random_range(1..=3),
            languages: l,
            skills: skills
                .iter()
                .filter(|_| rng.random_bool(0.15))
                .map(|s| s.to_string())
                .collect(),
            organization: None,
        };
        offers.push(store.create_offer(owner, &offer, &area(&p).0).await?);
    }

    // Lucia Ferri, registered at the Giambellino hub, and her Tuesday shopping.
    let lucia = store
        .register_assisted(
            "Lucia Ferri",
            "it",
            i.operator,
            i.hub_org,
            "Prot. 2026/1187 (modulo firmato in sede)",
            Some("02 4879 1187"),
        )
        .await?;
    let g = Coordinates::new(GIAMBELLINO.0, GIAMBELLINO.1)?;
    let (a, muni) = area(&g);
    store
        .create_need(&NeedRecord {
            need: NewNeed {
                category: term_id("H1"),
                description: "Fare la spesa il martedì mattina: pane, frutta, latte, le medicine in farmacia.".into(),
                address: "Via Giambellino 58, scala B, 2° piano (citofono Ferri)".into(),
                point: g,
                windows: vec![WeekWindow::on_day("w", 1, 9 * 60, 12 * 60)?],
                recurring: true,
                date: None,
                until: None,
                duration_minutes: 90,
                urgency: Urgency::Normal,
                languages: vec!["it".into()],
                skills: vec![],
                people: 1,
                on_behalf_of: Some(lucia),
                campaign: None,
            },
            requester: lucia,
            entered_by: i.operator,
            organization: Some(i.hub_org),
            area: a,
            municipio: muni,
        })
        .await?;

    // Open needs across the city.
    let needs_n = n(400.0);
    let today = OffsetDateTime::now_utc().date();
    let mut needs = Vec::with_capacity(needs_n);
    for k in 0..needs_n {
        let requester = i.people[(k * 13 + 5) % i.people.len()];
        let p = (i.point)(&mut rng);
        let (code, text) = *HELP.choose(&mut rng).expect("help");
        let recurring = rng.random_bool(0.6);
        let w = window(&mut rng);
        let date = (!recurring).then(|| {
            let ahead = (w.day() as i64 - today.weekday().number_days_from_monday() as i64)
                .rem_euclid(7)
                + 7;
            today + Duration::days(ahead)
        });
        let urgency = match rng.random_range(0..100) {
            0..=14 => Urgency::Low,
            15..=69 => Urgency::Normal,
            70..=91 => Urgency::High,
            _ => Urgency::Critical,
        };
        let (a, muni) = area(&p);
        let id = store
            .create_need(&NeedRecord {
                need: NewNeed {
                    category: term_id(code),
                    description: text.into(),
                    address: format!(
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
                    ),
                    point: p,
                    windows: vec![w],
                    recurring,
                    date,
                    until: None,
                    duration_minutes: *[60, 60, 90, 120].choose(&mut rng).expect("durations"),
                    urgency,
                    languages: vec!["it".into()],
                    skills: vec![],
                    people: 1,
                    on_behalf_of: None,
                    campaign: None,
                },
                requester,
                entered_by: requester,
                organization: None,
                area: a,
                municipio: muni,
            })
            .await?;
        needs.push((id, requester, code));
    }

    // A history: some needs were matched and the help confirmed (contributions to show).
    let completed_n = n(120.0).min(needs.len());
    let mut completed = 0;
    for (k, (need, requester, _)) in needs.iter().take(completed_n).enumerate() {
        let offer = offers[k % offers.len()];
        let Ok(m) = store
            .create_match(&NewMatch {
                need: *need,
                offer,
                state: MatchState::Proposed,
                score: rng.random_range(55..95),
                distance_km: rng.random_range(0.1..1.5),
                origin: "batch".into(),
                actor: Some(i.territory_admin),
                on_behalf_of: None,
                waiting_limit: None,
            })
            .await
        else {
            continue;
        };
        let ch = |event, actor| MatchChange {
            event,
            actor,
            on_behalf_of: None,
            next_at: Some(OffsetDateTime::now_utc() - Duration::days(rng_days(k))),
            minutes: None,
            note: None,
            scope: "Milano".into(),
        };
        let v = m.volunteer;
        for (event, actor) in [
            (MatchEvent::Accept(Side::Volunteer), v),
            (MatchEvent::Accept(Side::Requester), *requester),
            (MatchEvent::Schedule, v),
            (MatchEvent::Done(Side::Volunteer), v),
            (MatchEvent::Done(Side::Requester), *requester),
        ] {
            store.apply_match_event(m.id, &ch(event, actor)).await?;
        }
        completed += 1;
    }

    // A heatwave campaign with urgent needs entered by phone operators.
    let campaign = store
        .create_campaign(&NewCampaign {
            name: "Ondata di calore – luglio".into(),
            kind: "heatwave".into(),
            description:
                "Telefonate, spesa e acqua per le persone anziane sole durante l'ondata di calore."
                    .into(),
            categories: vec![term_id("H1"), term_id("H2"), term_id("H7")],
            created_by: i.territory_admin,
            ends_at: None,
        })
        .await?;
    for k in 0..n(40.0) {
        let requester = i.people[(k * 17 + 3) % i.people.len()];
        let p = (i.point)(&mut rng);
        let (a, muni) = area(&p);
        store
            .create_need(&NeedRecord {
                need: NewNeed {
                    category: term_id(["H1", "H2", "H7"][k % 3]),
                    description: "Campagna caldo: persona anziana sola, da chiamare e aiutare."
                        .into(),
                    address: format!("Via Padova {}", 1 + k),
                    point: p,
                    windows: vec![WeekWindow::on_day("w", (k % 7) as u8, 9 * 60, 12 * 60)?],
                    recurring: true,
                    date: None,
                    until: None,
                    duration_minutes: 60,
                    urgency: if k % 3 == 0 {
                        Urgency::Critical
                    } else {
                        Urgency::High
                    },
                    languages: vec!["it".into()],
                    skills: vec![],
                    people: 1,
                    on_behalf_of: None,
                    campaign: Some(campaign),
                },
                requester,
                entered_by: i.operator,
                organization: Some(i.hub_org),
                area: a,
                municipio: muni,
            })
            .await?;
    }
    Ok(CommunityReport {
        hubs: i.hubs.len(),
        offers: offers.len(),
        needs: needs.len() + 1 + n(40.0),
        completed,
    })
}

fn rng_days(k: usize) -> i64 {
    (k as i64 * 3) % 300 + 1
}
