//! The demo territory's register: the confirmed help of the demo history, taken into the log
//! pseudonymous, and a year of commons flows (an energy community, a food bank, waste sorting,
//! water, shared mobility), then a signed checkpoint. Deterministic and idempotent.

use anyhow::Result;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use trama_server::AppState;
use trama_server::register::service::FlowRequest;
use trama_server::register::service::flow_event;

/// (action, resource, unit, monthly base quantity, what it is)
const FLOWS: &[(&str, &str, &str, f64, &str)] = &[
    (
        "produce",
        "energy",
        "kilowattHour",
        18_000.0,
        "CER Giambellino-Lorenteggio: fotovoltaico sui tetti",
    ),
    (
        "transfer",
        "energy",
        "kilowattHour",
        11_000.0,
        "CER: energia condivisa tra i membri",
    ),
    (
        "consume",
        "energy",
        "kilowattHour",
        6_500.0,
        "CER: autoconsumo delle case di quartiere",
    ),
    (
        "transfer",
        "food",
        "kilogram",
        4_200.0,
        "Banco alimentare di quartiere: eccedenze dei mercati",
    ),
    (
        "consume",
        "food",
        "kilogram",
        3_900.0,
        "Empori solidali: pacchi distribuiti",
    ),
    (
        "produce",
        "waste-sorted",
        "kilogram",
        26_000.0,
        "Isole ecologiche: raccolta differenziata",
    ),
    (
        "consume",
        "water",
        "litre",
        90_000.0,
        "Orti condivisi: irrigazione",
    ),
    (
        "use",
        "mobility",
        "kilometre",
        7_500.0,
        "Car sharing e cargo bike di quartiere",
    ),
];

pub async fn load(state: &AppState, seed: u64) -> Result<String> {
    let reg = state.register.clone();
    reg.start().await?;
    let taken = reg.take_contributions().await?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x7265_6769_7374_6572);
    let mut events = Vec::new();
    let (year, month) = (2026, 11u32);
    for back in (0..12u32).rev() {
        let m0 = (month as i32 - 1 - back as i32).rem_euclid(12) as u32 + 1;
        let y = if month as i32 - 1 - (back as i32) < 0 {
            year - 1
        } else {
            year
        };
        // Summer months produce more solar energy and use more water.
        let season = 1.0
            + 0.35
                * (((m0 as f64 - 1.0) / 12.0 * std::f64::consts::TAU) - std::f64::consts::PI).cos();
        // The descriptions say what each flow is here; the public register carries no free text.
        for (i, (action, resource, unit, base, _about)) in FLOWS.iter().enumerate() {
            let seasonal = matches!(*resource, "energy" | "water");
            let q = base * if seasonal { season } else { 1.0 } * rng.random_range(0.85..1.15);
            let req = FlowRequest {
                action: action.to_string(),
                resource: resource.to_string(),
                quantity: q.round(),
                unit: unit.to_string(),
                provider_organization: None,
                receiver_organization: None,
                at: Some(format!("{y}-{m0:02}-28T12:00:00Z")),
                note: None,
            };
            let mut e = flow_event(&req, reg.territory(), state.now())
                .map_err(|e| anyhow::anyhow!("demo flow: {e}"))?;
            e.id = format!("urn:trama:demo:{seed}:flow:{y}-{m0:02}:{i}");
            events.push(e);
        }
    }
    // The demo volunteer's two years: weekly help, 1 to 2 hours, in three neighbourhoods.
    let volunteer = trama_server::accounts::service::account_by_email(
        state,
        &trama_core::auth::Email::parse("volontario@demo.trama.it")?,
    )
    .await?;
    if let Some(v) = volunteer {
        let help = trama_server::register::log::Purpose::Help;
        let giver = reg
            .agent_iri(&format!("urn:trama:person:{v}"), help)
            .await?;
        let neighbours = [
            ("51", "H1"),
            ("51", "H2"),
            ("52", "H3"),
            ("53", "H1"),
            ("52", "H8"),
        ];
        let start = time::macros::datetime!(2024-12-03 09:00 UTC);
        for week in 0..100i64 {
            let (area, kind) = neighbours[rng.random_range(0..neighbours.len())];
            let receiver = reg
                .agent_iri(
                    &format!(
                        "urn:trama:person:00000000-0000-7000-8000-{:012}",
                        seed % 1000 * 1000 + rng.random_range(0..6u64)
                    ),
                    help,
                )
                .await?;
            let hours = [1.0, 1.5, 1.5, 2.0][rng.random_range(0..4)];
            events.push(trama_ledger::EconomicEvent {
                id: format!("urn:trama:demo:{seed}:volunteer:{week}"),
                action: trama_ledger::Action::Work,
                provider: giver.clone(),
                receiver,
                resource_conforms_to: Some(format!("urn:trama:taxonomy:{kind}")),
                resource_quantity: None,
                effort_quantity: Some(trama_ledger::Measure::hours(hours)?),
                has_point_in_time: trama_ledger::event::format_point_in_time(
                    start + time::Duration::weeks(week),
                ),
                in_scope_of: reg.territory().to_string(),
                at_location: Some(format!("urn:trama:area:{area}")),
                note: None,
            });
        }
    }
    let ids: Vec<String> = events.iter().map(|e| e.id.clone()).collect();
    let known = trama_server::register::service::known_ids(state, &ids).await?;
    events.retain(|e| !known.contains(&e.id));
    let flows = events.len();
    if !events.is_empty() {
        reg.append(events).await?;
    }
    reg.checkpoint().await?;
    Ok(format!(
        "Register: {taken} contribution events and {flows} demo entries (a year of commons flows, the demo volunteer's two years of help) appended; {} entries, checkpoint signed.",
        reg.size().await?
    ))
}
