//! Flows of commons as an operator records them in the public register (`POST
//! /api/register/flows`, a CSV import): what a flow must say, and the ValueFlows event it
//! becomes. The register is public and permanent, so a flow carries no free text and names
//! its resource from a closed list.

use serde::Deserialize;
use time::OffsetDateTime;
use trama_ledger::LedgerError;
use trama_ledger::event::{
    Action, EconomicEvent, Measure, Unit, format_point_in_time, parse_point_in_time,
};
use uuid::Uuid;

use crate::FieldError;

/// A flow of commons recorded by an operator.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FlowRequest {
    /// A ValueFlows action: produce, consume, transfer, use...
    pub action: String,
    /// The resource kind, e.g. `energy`, `food`, `waste-sorted`, `water`, `mobility`, or an IRI.
    pub resource: String,
    pub quantity: f64,
    /// hour, kilogram, kilowattHour, litre, euro, one, kilometre
    pub unit: String,
    /// The organisation that provides (default: the territory).
    pub provider_organization: Option<String>,
    /// The organisation that receives (default: the territory).
    pub receiver_organization: Option<String>,
    /// RFC 3339 (default: now).
    pub at: Option<String>,
    /// Refused when not empty: the public register carries no free text.
    pub note: Option<String>,
}

/// The kinds of commons a flow may name: the register is public and permanent, so a resource
/// is a word from this list or a term of the seeded taxonomies (`urn:trama:taxonomy:H1`),
/// never free text (in an IRI's clothes or not).
pub const RESOURCE_KINDS: [&str; 16] = [
    "energy",
    "food",
    "water",
    "waste",
    "waste-sorted",
    "waste-organic",
    "mobility",
    "clothes",
    "books",
    "toys",
    "tools",
    "furniture",
    "electronics",
    "medicines",
    "space",
    "time",
];

/// The IRI of a flow's resource: a word of [`RESOURCE_KINDS`] or a seeded taxonomy term.
pub fn resource_iri(r: &str) -> Result<String, FieldError> {
    let r = r.trim();
    let refuse = || {
        FieldError::new(
            "resource",
            format!(
                "one of {} (or urn:trama:resource: and one of them), or a term of the taxonomies (urn:trama:taxonomy:CODE)",
                RESOURCE_KINDS.join(", ")
            ),
        )
    };
    if r.is_empty() {
        return Err(FieldError::new("resource", "is required"));
    }
    let kind = r
        .strip_prefix("urn:trama:resource:")
        .unwrap_or(r)
        .to_lowercase();
    if RESOURCE_KINDS.contains(&kind.as_str()) {
        return Ok(format!("urn:trama:resource:{kind}"));
    }
    if let Some(code) = r.strip_prefix("urn:trama:taxonomy:")
        && crate::taxonomy::is_seeded_code(code)
    {
        return Ok(r.to_string());
    }
    Err(refuse())
}

/// The IRI of a flow's organisation (its id), or the territory's when none is named.
pub fn org_iri(field: &str, v: Option<&str>, territory: &str) -> Result<String, FieldError> {
    match v {
        None | Some("") => Ok(territory.to_string()),
        Some(s) => Uuid::parse_str(s)
            .map(|u| format!("urn:trama:organization:{u}"))
            .map_err(|_| FieldError::new(field, "must be an organisation id")),
    }
}

/// Builds the event of a recorded flow.
/// `now` bounds `at` (nothing recorded in the future) and is the time of a flow given none.
pub fn flow_event(
    req: &FlowRequest,
    territory: &str,
    now: OffsetDateTime,
) -> Result<EconomicEvent, FieldError> {
    let action = Action::parse(req.action.trim()).ok_or_else(|| {
        FieldError::new(
            "action",
            format!("'{}' is not a ValueFlows action", req.action),
        )
    })?;
    let unit = Unit::parse(req.unit.trim()).ok_or_else(|| {
        FieldError::new(
            "unit",
            "one of hour, kilogram, kilowattHour, litre, euro, one, kilometre",
        )
    })?;
    let measure = Measure::new(req.quantity, unit).map_err(|e| match e {
        LedgerError::Invalid { reason, .. } => FieldError::new("quantity", reason),
        _ => FieldError::new("quantity", e.to_string()),
    })?;
    // The register is public and nothing in it can be erased: it carries no free text, where
    // a careless word could name a person for ever (a screen for names and addresses is a
    // net with holes: an independent tester got phones, e-mails and addresses through one).
    if req.note.as_deref().is_some_and(|n| !n.trim().is_empty()) {
        return Err(FieldError::new(
            "note",
            "the register is public and nothing in it can be erased, so it carries no free text: say what flowed with action, resource, quantity and the organisations",
        ));
    }
    if req.quantity.is_nan() || req.quantity <= 0.0 {
        return Err(FieldError::new(
            "quantity",
            "a flow moves more than nothing: must be above zero",
        ));
    }
    let at = match req.at.as_deref() {
        Some(s) => parse_point_in_time(s)
            .map_err(|_| FieldError::new("at", "must be an RFC 3339 date-time"))?,
        None => now,
    };
    // The register records what happened: not before 2000, not in the future (five minutes
    // of clocks' disagreement allowed).
    let earliest = time::macros::datetime!(2000-01-01 0:00 UTC);
    if at < earliest || at > now + time::Duration::minutes(5) {
        return Err(FieldError::new(
            "at",
            "must be a moment that has passed, from the year 2000 on",
        ));
    }
    let (resource_quantity, effort_quantity) = if action == Action::Work {
        if unit != Unit::Hour {
            return Err(FieldError::new("unit", "work is measured in hours"));
        }
        (None, Some(measure))
    } else {
        (Some(measure), None)
    };
    Ok(EconomicEvent {
        id: format!("urn:uuid:{}", Uuid::now_v7()),
        action,
        provider: org_iri(
            "provider_organization",
            req.provider_organization.as_deref(),
            territory,
        )?,
        receiver: org_iri(
            "receiver_organization",
            req.receiver_organization.as_deref(),
            territory,
        )?,
        resource_conforms_to: Some(resource_iri(&req.resource)?),
        resource_quantity,
        effort_quantity,
        has_point_in_time: format_point_in_time(at),
        in_scope_of: territory.to_string(),
        at_location: None,
        note: None,
    })
}

/// Reads a CSV of flows (`action,resource,quantity,unit,provider_organization,
/// receiver_organization,at,note`, with that header). All or nothing: the first bad line is
/// named and nothing is appended.
pub fn parse_flows_csv(
    data: &[u8],
    territory: &str,
    now: OffsetDateTime,
) -> Result<Vec<EconomicEvent>, FieldError> {
    // A file saved by a spreadsheet may start with a byte-order mark.
    let data = data.strip_prefix("\u{feff}".as_bytes()).unwrap_or(data);
    let mut rdr = csv::ReaderBuilder::new().flexible(false).from_reader(data);
    let headers = rdr
        .headers()
        .map_err(|e| FieldError::new("line 1", e.to_string()))?
        .clone();
    let want = ["action", "resource", "quantity", "unit"];
    for w in want {
        if !headers.iter().any(|h| h == w) {
            return Err(FieldError::new(
                "line 1",
                format!("the header lacks the column '{w}'"),
            ));
        }
    }
    let col = |name: &str| headers.iter().position(|h| h == name);
    let mut out = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let line = i + 2;
        let rec = rec.map_err(|e| FieldError::new(format!("line {line}"), e.to_string()))?;
        let get = |name: &str| {
            col(name)
                .and_then(|c| rec.get(c))
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        let at_line = |f: FieldError| {
            FieldError::new(format!("line {line}"), format!("{}: {}", f.field, f.reason))
        };
        let quantity =
            crate::bounded::decimal("quantity", get("quantity").unwrap_or("")).map_err(at_line)?;
        let req = FlowRequest {
            action: get("action").unwrap_or("").to_string(),
            resource: get("resource").unwrap_or("").to_string(),
            quantity,
            unit: get("unit").unwrap_or("").to_string(),
            provider_organization: get("provider_organization").map(str::to_string),
            receiver_organization: get("receiver_organization").map(str::to_string),
            at: get("at").map(str::to_string),
            note: get("note").map(str::to_string),
        };
        let ev = flow_event(&req, territory, now).map_err(at_line)?;
        out.push(ev);
    }
    if out.is_empty() {
        return Err(FieldError::new("file", "no rows after the header"));
    }
    Ok(out)
}
