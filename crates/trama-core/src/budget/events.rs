//! The economic events of a spend, for the contribution register: the funder's euros
//! `transfer`red to the provider, and the provider's `deliverService` to the person (or, with no
//! provider, the euros transferred to the person). Agents are Trama IRIs here; the register
//! replaces people by pseudonyms before anything is published.

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::contribution::VF;
use crate::ids::{FunderId, OrganizationId, UserId};
use crate::money::Cents;

/// One event: its id, action, provider and receiver ids (as stored beside it), and the
/// ValueFlows document.
#[derive(Debug, Clone, PartialEq)]
pub struct SpendEvent {
    pub id: Uuid,
    pub action: &'static str,
    pub provider: String,
    pub receiver: String,
    pub doc: Value,
}

/// The events of one spend of `amount` from a funder's programme, for a service of
/// `category`. `spend` is the spend's own id (its postings' transaction), so the events' ids
/// are stable.
pub fn spend_events(
    spend: Uuid,
    funder: FunderId,
    provider: Option<OrganizationId>,
    person: UserId,
    category: &str,
    amount: Cents,
    at: OffsetDateTime,
) -> Vec<SpendEvent> {
    let at = at
        .replace_nanosecond(0)
        .unwrap_or(at)
        .to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_default();
    let funder_iri = format!("urn:trama:funder:{funder}");
    let person_iri = format!("urn:trama:person:{person}");
    let id = |n: u8| Uuid::new_v5(&spend, &[n]);
    let event = |id: Uuid, action: &str, provider: &str, receiver: &str, extra: Value| {
        let mut v = json!({
            "@context": { "@vocab": VF },
            "@id": format!("urn:trama:event:{id}"),
            "@type": "EconomicEvent",
            "action": action,
            "provider": provider,
            "receiver": receiver,
            "hasPointInTime": at,
        });
        if let (Value::Object(m), Value::Object(e)) = (&mut v, extra) {
            m.extend(e);
        }
        v
    };
    let euros = json!({
        "resourceConformsTo": "urn:trama:resource:euro",
        "resourceQuantity": { "hasUnit": "euro", "hasNumericalValue": amount.0 as f64 / 100.0 },
    });
    match provider {
        Some(org) => {
            let org_iri = format!("urn:trama:organization:{org}");
            vec![
                SpendEvent {
                    id: id(0),
                    action: "transfer",
                    provider: funder.to_string(),
                    receiver: org.to_string(),
                    doc: event(id(0), "transfer", &funder_iri, &org_iri, euros),
                },
                SpendEvent {
                    id: id(1),
                    action: "deliverService",
                    provider: org.to_string(),
                    receiver: person.to_string(),
                    doc: event(
                        id(1),
                        "deliverService",
                        &org_iri,
                        &person_iri,
                        json!({
                            "resourceConformsTo": format!("urn:trama:taxonomy:{category}"),
                            "resourceQuantity": { "hasUnit": "one", "hasNumericalValue": 1 },
                        }),
                    ),
                },
            ]
        }
        None => vec![SpendEvent {
            id: id(0),
            action: "transfer",
            provider: funder.to_string(),
            receiver: person.to_string(),
            doc: event(id(0), "transfer", &funder_iri, &person_iri, euros),
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spend_is_a_transfer_of_euros_and_a_delivered_service() {
        let (f, o, p) = (FunderId::new(), OrganizationId::new(), UserId::new());
        let at = time::macros::datetime!(2026-03-10 09:30:15.250 UTC);
        let evs = spend_events(Uuid::nil(), f, Some(o), p, "A1.1", Cents(12_345), at);
        assert_eq!(evs.len(), 2);
        let t = &evs[0].doc;
        assert_eq!(t["action"], "transfer");
        assert_eq!(t["provider"], format!("urn:trama:funder:{f}"));
        assert_eq!(t["receiver"], format!("urn:trama:organization:{o}"));
        assert_eq!(t["resourceQuantity"]["hasNumericalValue"], 123.45);
        assert_eq!(t["resourceQuantity"]["hasUnit"], "euro");
        assert_eq!(t["hasPointInTime"], "2026-03-10T09:30:15Z");
        let d = &evs[1].doc;
        assert_eq!(d["action"], "deliverService");
        assert_eq!(d["receiver"], format!("urn:trama:person:{p}"));
        assert_eq!(d["resourceConformsTo"], "urn:trama:taxonomy:A1.1");
        // Stable ids: the same spend gives the same events.
        assert_eq!(
            spend_events(Uuid::nil(), f, Some(o), p, "A1.1", Cents(12_345), at),
            evs
        );
        let cash = spend_events(Uuid::nil(), f, None, p, "A1.1", Cents(100), at);
        assert_eq!(cash.len(), 1);
        assert_eq!(cash[0].doc["receiver"], format!("urn:trama:person:{p}"));
    }
}
