//! Contribution events: the record that someone gave hours of some kind of help to someone,
//! in the shape of ValueFlows economic events (`work` with an effort in hours, and the
//! `deliverService` it produced). The register appends them to the verifiable log; here they
//! are only values.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::FieldError;

/// The ValueFlows vocabulary IRI prefix.
pub const VF: &str = "https://w3id.org/valueflows/ont/vf#";

/// Minutes of effort; shown as hours in ValueFlows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EffortMinutes(u32);

impl EffortMinutes {
    /// At most one day per confirmed occurrence.
    pub fn new(field: &str, minutes: u32) -> Result<Self, FieldError> {
        if minutes == 0 || minutes > 24 * 60 {
            return Err(FieldError::new(
                field,
                "effort must be between 1 minute and 24 hours",
            ));
        }
        Ok(Self(minutes))
    }
    pub fn minutes(&self) -> u32 {
        self.0
    }
    /// Hours with two decimals, as ValueFlows `hasNumericalValue`.
    pub fn hours(&self) -> f64 {
        (self.0 as f64 / 60.0 * 100.0).round() / 100.0
    }
}

/// The two ValueFlows actions a completed match produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ContributionAction {
    #[serde(rename = "work")]
    Work,
    #[serde(rename = "deliverService")]
    DeliverService,
}

impl ContributionAction {
    pub fn as_str(&self) -> &'static str {
        match self {
            ContributionAction::Work => "work",
            ContributionAction::DeliverService => "deliverService",
        }
    }
}

/// An agent in an event: a person or an organisation, by its Trama identifier. The register
/// replaces these with pseudonyms before anything is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Agent {
    Person(Uuid),
    Organization(Uuid),
}

impl Agent {
    pub fn iri(&self) -> String {
        match self {
            Agent::Person(id) => format!("urn:trama:person:{id}"),
            Agent::Organization(id) => format!("urn:trama:organization:{id}"),
        }
    }
}

/// One economic event of a confirmed contribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContributionEvent {
    pub id: Uuid,
    pub action: ContributionAction,
    pub provider: Agent,
    pub receiver: Agent,
    /// The taxonomy term of the help given (a code like `A2`).
    pub resource_conforms_to: String,
    /// For `work`: the effort. For `deliverService`: none (the quantity is one service).
    pub effort: Option<EffortMinutes>,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The territory the event belongs to.
    pub scope: String,
    /// The match and occurrence this came from.
    pub match_id: Uuid,
    pub note: Option<String>,
}

impl ContributionEvent {
    /// The `work` and `deliverService` events of one confirmed occurrence of help.
    #[allow(clippy::too_many_arguments)]
    pub fn pair_for_completion(
        match_id: Uuid,
        provider: Agent,
        receiver: Agent,
        category: &str,
        effort: EffortMinutes,
        at: OffsetDateTime,
        scope: &str,
    ) -> [ContributionEvent; 2] {
        let event = |action, effort| ContributionEvent {
            id: Uuid::now_v7(),
            action,
            provider,
            receiver,
            resource_conforms_to: category.to_string(),
            effort,
            at,
            scope: scope.to_string(),
            match_id,
            note: None,
        };
        [
            event(ContributionAction::Work, Some(effort)),
            event(ContributionAction::DeliverService, None),
        ]
    }

    /// The event as ValueFlows JSON-LD.
    pub fn to_valueflows(&self) -> Value {
        let mut v = json!({
            "@context": { "@vocab": VF },
            "@id": format!("urn:trama:event:{}", self.id),
            "@type": "EconomicEvent",
            "action": self.action.as_str(),
            "provider": self.provider.iri(),
            "receiver": self.receiver.iri(),
            "resourceConformsTo": format!("urn:trama:taxonomy:{}", self.resource_conforms_to),
            "hasPointInTime": self.at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            "inScopeOf": format!("urn:trama:territory:{}", self.scope),
        });
        match self.effort {
            Some(e) => {
                v["effortQuantity"] = json!({ "hasUnit": "hour", "hasNumericalValue": e.hours() });
            }
            None => {
                v["resourceQuantity"] = json!({ "hasUnit": "one", "hasNumericalValue": 1 });
            }
        }
        if let Some(n) = &self.note {
            v["note"] = json!(n);
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_completion_is_work_and_a_delivered_service() {
        let [work, delivered] = ContributionEvent::pair_for_completion(
            Uuid::nil(),
            Agent::Person(Uuid::from_u128(1)),
            Agent::Person(Uuid::from_u128(2)),
            "A2",
            EffortMinutes::new("effort", 90).unwrap(),
            time::macros::datetime!(2026-11-24 10:30 UTC),
            "milano",
        );
        let w = work.to_valueflows();
        assert_eq!(w["action"], "work");
        assert_eq!(w["effortQuantity"]["hasNumericalValue"], 1.5);
        assert_eq!(w["effortQuantity"]["hasUnit"], "hour");
        assert_eq!(w["hasPointInTime"], "2026-11-24T10:30:00Z");
        let d = delivered.to_valueflows();
        assert_eq!(d["action"], "deliverService");
        assert_eq!(d["resourceQuantity"]["hasNumericalValue"], 1);
        assert!(d.get("effortQuantity").is_none());
        assert!(EffortMinutes::new("e", 0).is_err());
    }
}
