//! The entries of the register: ValueFlows economic events, serialised canonically (RFC 8785)
//! so that the bytes hashed into the tree are the bytes stored and served.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::LedgerError;
use crate::tiles::MAX_ENTRY_LEN;

/// The ValueFlows vocabulary.
pub const VF_NS: &str = "https://w3id.org/valueflows/ont/vf#";
/// The Ontology of units of Measure, the namespace of VF units.
pub const OM_NS: &str = "http://www.ontology-of-units-of-measure.org/resource/om-2/";

/// How an action changes the quantity of the resource it is about (VF `accountingEffect` and
/// `onhandEffect`), reduced to what flow accounting needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Effect {
    /// The resource grows (produce, raise).
    Increment,
    /// The resource shrinks (consume, lower).
    Decrement,
    /// It moves from provider to receiver (transfer...).
    DecrementIncrement,
    /// A new resource may be created at the receiver (copy).
    IncrementTo,
    /// No change in quantity (work, use, cite, deliverService...).
    NotApplicable,
}

macro_rules! actions {
    ($($variant:ident = $name:literal, $input_output:literal, $accounting:ident, $onhand:ident;)*) => {
        /// The 19 ValueFlows actions.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum Action {
            $(#[serde(rename = $name)] $variant,)*
        }

        impl Action {
            pub const ALL: [Action; 19] = [$(Action::$variant,)*];

            pub fn name(&self) -> &'static str {
                match self { $(Action::$variant => $name,)* }
            }

            pub fn parse(s: &str) -> Option<Action> {
                match s { $($name => Some(Action::$variant),)* _ => None }
            }

            /// VF `inputOutput`: `input`, `output`, `outputInput` or `notApplicable`.
            pub fn input_output(&self) -> &'static str {
                match self { $(Action::$variant => $input_output,)* }
            }

            /// VF `accountingEffect`.
            pub fn accounting_effect(&self) -> Effect {
                match self { $(Action::$variant => Effect::$accounting,)* }
            }

            /// VF `onhandEffect`.
            pub fn onhand_effect(&self) -> Effect {
                match self { $(Action::$variant => Effect::$onhand,)* }
            }
        }
    };
}

// From the ValueFlows ontology (all_vf.TTL); a test checks this table against
// ../shared/data/valueflows/actions.json.
actions! {
    Accept = "accept", "input", NotApplicable, Decrement;
    Combine = "combine", "input", NotApplicable, Decrement;
    Consume = "consume", "input", Decrement, Decrement;
    Cite = "cite", "input", NotApplicable, NotApplicable;
    Copy = "copy", "notApplicable", IncrementTo, IncrementTo;
    DeliverService = "deliverService", "outputInput", NotApplicable, NotApplicable;
    Dropoff = "dropoff", "output", NotApplicable, Increment;
    Lower = "lower", "notApplicable", Decrement, Decrement;
    Modify = "modify", "output", NotApplicable, Increment;
    Move = "move", "notApplicable", DecrementIncrement, DecrementIncrement;
    Pickup = "pickup", "input", NotApplicable, Decrement;
    Produce = "produce", "output", Increment, Increment;
    Raise = "raise", "notApplicable", Increment, Increment;
    Separate = "separate", "output", NotApplicable, Increment;
    TransferAllRights = "transferAllRights", "notApplicable", DecrementIncrement, NotApplicable;
    Transfer = "transfer", "notApplicable", DecrementIncrement, DecrementIncrement;
    TransferCustody = "transferCustody", "notApplicable", NotApplicable, DecrementIncrement;
    Use = "use", "input", NotApplicable, NotApplicable;
    Work = "work", "input", NotApplicable, NotApplicable;
}

/// The units the register accepts (VF uses OM unit names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Unit {
    Hour,
    Kilogram,
    KilowattHour,
    Litre,
    Euro,
    One,
    Kilometre,
}

impl Unit {
    pub const ALL: [Unit; 7] = [
        Unit::Hour,
        Unit::Kilogram,
        Unit::KilowattHour,
        Unit::Litre,
        Unit::Euro,
        Unit::One,
        Unit::Kilometre,
    ];

    pub fn name(&self) -> &'static str {
        match self {
            Unit::Hour => "hour",
            Unit::Kilogram => "kilogram",
            Unit::KilowattHour => "kilowattHour",
            Unit::Litre => "litre",
            Unit::Euro => "euro",
            Unit::One => "one",
            Unit::Kilometre => "kilometre",
        }
    }

    /// A short symbol for tables and charts.
    pub fn symbol(&self) -> &'static str {
        match self {
            Unit::Hour => "h",
            Unit::Kilogram => "kg",
            Unit::KilowattHour => "kWh",
            Unit::Litre => "l",
            Unit::Euro => "€",
            Unit::One => "",
            Unit::Kilometre => "km",
        }
    }

    /// Accepts the VF/OM names, their common spellings, and `om2:` prefixed forms.
    pub fn parse(s: &str) -> Option<Unit> {
        let s = s
            .strip_prefix("om2:")
            .or_else(|| s.strip_prefix(OM_NS))
            .unwrap_or(s);
        Some(match s {
            "hour" | "hours" | "h" => Unit::Hour,
            "kilogram" | "kg" => Unit::Kilogram,
            "kilowattHour" | "kilowatt-hour" | "kWh" => Unit::KilowattHour,
            "litre" | "liter" | "l" => Unit::Litre,
            "euro" | "EUR" => Unit::Euro,
            "one" | "unit" => Unit::One,
            "kilometre" | "kilometer" | "km" => Unit::Kilometre,
            _ => return None,
        })
    }
}

/// A quantity with its unit. Values are non-negative and finite; euros are whole cents.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Measure {
    #[serde(rename = "hasNumericalValue")]
    pub value: f64,
    #[serde(rename = "hasUnit")]
    pub unit: Unit,
}

impl Measure {
    pub fn new(value: f64, unit: Unit) -> Result<Self, LedgerError> {
        if !value.is_finite() || value < 0.0 {
            return Err(invalid(
                "hasNumericalValue",
                "must be a finite number, zero or more",
            ));
        }
        if value > 1e12 {
            return Err(invalid("hasNumericalValue", "is implausibly large"));
        }
        if unit == Unit::Euro && ((value * 100.0).round() - value * 100.0).abs() > 1e-6 {
            return Err(invalid(
                "hasNumericalValue",
                "euros are counted in whole cents",
            ));
        }
        Ok(Self { value, unit })
    }

    pub fn hours(h: f64) -> Result<Self, LedgerError> {
        Self::new(h, Unit::Hour)
    }
}

fn invalid(field: &str, reason: &str) -> LedgerError {
    LedgerError::Invalid {
        field: field.to_string(),
        reason: reason.to_string(),
    }
}

/// One economic event of the register.
///
/// Agents are public IRIs for organisations and territories, and pseudonyms
/// (`urn:trama:pseudonym:...`) for people: nothing here names a person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EconomicEvent {
    /// A stable identifier (`urn:uuid:...`): appending the same event twice is refused.
    #[serde(rename = "@id")]
    pub id: String,
    pub action: Action,
    pub provider: String,
    pub receiver: String,
    /// The kind of resource: a taxonomy term, a resource specification IRI, a Wikidata item.
    #[serde(
        rename = "resourceConformsTo",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub resource_conforms_to: Option<String>,
    #[serde(
        rename = "resourceQuantity",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub resource_quantity: Option<Measure>,
    #[serde(
        rename = "effortQuantity",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub effort_quantity: Option<Measure>,
    /// RFC 3339, UTC, whole seconds.
    #[serde(rename = "hasPointInTime")]
    pub has_point_in_time: String,
    /// The territory.
    #[serde(rename = "inScopeOf")]
    pub in_scope_of: String,
    /// The public area (a NIL or a grid cell), never an address.
    #[serde(
        rename = "atLocation",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub at_location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub note: Option<String>,
}

/// The JSON-LD context that maps the entry fields to ValueFlows IRIs.
pub fn json_ld_context() -> Value {
    use serde_json::json;
    let mut ctx = Map::new();
    ctx.insert("vf".into(), json!(VF_NS));
    ctx.insert("om2".into(), json!(OM_NS));
    ctx.insert("xsd".into(), json!("http://www.w3.org/2001/XMLSchema#"));
    ctx.insert("EconomicEvent".into(), json!("vf:EconomicEvent"));
    let typed = [
        ("action", "vf:action", "@vocab"),
        ("provider", "vf:provider", "@id"),
        ("receiver", "vf:receiver", "@id"),
        ("resourceConformsTo", "vf:resourceConformsTo", "@id"),
        ("hasNumericalValue", "om2:hasNumericalValue", "xsd:double"),
        ("hasUnit", "om2:hasUnit", "@vocab"),
        ("hasPointInTime", "vf:hasPointInTime", "xsd:dateTime"),
        ("inScopeOf", "vf:inScopeOf", "@id"),
        ("atLocation", "vf:atLocation", "@id"),
    ];
    for (term, iri, ty) in typed {
        ctx.insert(term.into(), json!({ "@id": iri, "@type": ty }));
    }
    for (term, iri) in [
        ("resourceQuantity", "vf:resourceQuantity"),
        ("effortQuantity", "vf:effortQuantity"),
        ("note", "vf:note"),
    ] {
        ctx.insert(term.into(), json!(iri));
    }
    for u in Unit::ALL {
        ctx.insert(u.name().into(), json!(format!("om2:{}", u.name())));
    }
    for a in Action::ALL {
        ctx.insert(a.name().into(), json!(format!("vf:{}", a.name())));
    }
    json!({ "@context": ctx })
}

/// Parses a point in time: RFC 3339, plus the single-digit hour offsets (`-5:00`) found in
/// the ValueFlows examples, which are read as the two-digit offset they mean (`-05:00`).
pub fn parse_point_in_time(s: &str) -> Result<OffsetDateTime, LedgerError> {
    let bad = || {
        invalid(
            "hasPointInTime",
            &format!("'{s}' is not an RFC 3339 date-time"),
        )
    };
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Ok(t);
    }
    // `...T08:30:08-5:00`: pad the hour of the offset.
    let b = s.as_bytes();
    if b.len() >= 5 && s.is_char_boundary(b.len() - 5) {
        let cut = b.len() - 5;
        let (head, tail) = s.split_at(cut);
        let t = tail.as_bytes();
        if (t[0] == b'+' || t[0] == b'-')
            && t[1].is_ascii_digit()
            && t[2] == b':'
            && t[3].is_ascii_digit()
            && t[4].is_ascii_digit()
        {
            let fixed = format!("{head}{}0{}", &tail[..1], &tail[1..]);
            return OffsetDateTime::parse(&fixed, &Rfc3339).map_err(|_| bad());
        }
    }
    Err(bad())
}

/// The stored form of a time: UTC, whole seconds, `Z`.
pub fn format_point_in_time(t: OffsetDateTime) -> String {
    let t = t
        .to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .expect("zero is a valid nanosecond");
    t.format(&Rfc3339).expect("UTC times format")
}

fn check_iri(field: &str, s: &str) -> Result<(), LedgerError> {
    if s.is_empty() || s.len() > 512 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid(field, "must be a non-empty IRI without spaces"));
    }
    if !s.contains(':') {
        return Err(invalid(field, "must be an IRI (scheme:...)"));
    }
    Ok(())
}

impl EconomicEvent {
    /// Checks every rule an entry must follow before it is appended.
    pub fn validate(&self) -> Result<(), LedgerError> {
        check_iri("@id", &self.id)?;
        check_iri("provider", &self.provider)?;
        check_iri("receiver", &self.receiver)?;
        check_iri("inScopeOf", &self.in_scope_of)?;
        if let Some(r) = &self.resource_conforms_to {
            check_iri("resourceConformsTo", r)?;
        }
        if let Some(l) = &self.at_location {
            check_iri("atLocation", l)?;
        }
        for (field, m) in [
            ("resourceQuantity", self.resource_quantity),
            ("effortQuantity", self.effort_quantity),
        ] {
            if let Some(m) = m {
                Measure::new(m.value, m.unit).map_err(|e| match e {
                    LedgerError::Invalid { reason, .. } => invalid(field, &reason),
                    e => e,
                })?;
            }
        }
        if self.resource_quantity.is_none() && self.effort_quantity.is_none() {
            return Err(invalid(
                "resourceQuantity",
                "an event needs a resource quantity or an effort quantity",
            ));
        }
        if self.action == Action::Work && self.effort_quantity.is_none() {
            return Err(invalid(
                "effortQuantity",
                "a work event needs its effort in hours",
            ));
        }
        if let Some(e) = self.effort_quantity
            && e.unit != Unit::Hour
        {
            return Err(invalid("effortQuantity", "effort is measured in hours"));
        }
        let t = OffsetDateTime::parse(&self.has_point_in_time, &Rfc3339)
            .map_err(|_| invalid("hasPointInTime", "must be RFC 3339"))?;
        if format_point_in_time(t) != self.has_point_in_time {
            return Err(invalid(
                "hasPointInTime",
                "must be UTC with whole seconds, as 2026-01-31T10:00:00Z",
            ));
        }
        if let Some(n) = &self.note
            && n.chars().count() > 1000
        {
            return Err(invalid("note", "at most 1000 characters"));
        }
        Ok(())
    }

    /// The canonical bytes (RFC 8785 JSON of the event): what is hashed, stored and served.
    pub fn canonical_bytes(&self) -> Result<Vec<u8>, LedgerError> {
        self.validate()?;
        let mut v = serde_json::to_value(self).map_err(|e| invalid("event", &e.to_string()))?;
        v["@type"] = Value::String("EconomicEvent".into());
        let bytes =
            serde_json_canonicalizer::to_vec(&v).map_err(|e| invalid("event", &e.to_string()))?;
        if bytes.len() > MAX_ENTRY_LEN {
            return Err(invalid("event", "the serialised event is too long"));
        }
        Ok(bytes)
    }

    /// Reads an entry back from its stored bytes, refusing bytes that are not the canonical
    /// serialisation of what they say (so no two byte strings can mean the same event).
    pub fn from_canonical_bytes(bytes: &[u8]) -> Result<Self, LedgerError> {
        let ev: EconomicEvent = serde_json::from_slice(bytes).map_err(|e| {
            if e.is_data() {
                invalid("entry", &format!("not an economic event: {e}"))
            } else {
                invalid("entry", &format!("not JSON: {e}"))
            }
        })?;
        if ev.canonical_bytes()? != bytes {
            return Err(invalid("entry", "not in canonical (RFC 8785) form"));
        }
        Ok(ev)
    }

    /// The time as a value.
    pub fn time(&self) -> OffsetDateTime {
        OffsetDateTime::parse(&self.has_point_in_time, &Rfc3339)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// Hours of effort, if any.
    pub fn effort_hours(&self) -> f64 {
        self.effort_quantity.map(|m| m.value).unwrap_or(0.0)
    }
}

/// Reads the economic events of a ValueFlows JSON-LD document (a single node, a `@graph`, or
/// a list). Only top-level nodes typed `EconomicEvent` are taken; nested events (inputs and
/// outputs of a process) are not. `scope` is the territory the events are recorded in;
/// `fallback_time` dates events with no `hasPointInTime`, `hasBeginning` or `hasEnd`.
///
/// Agents are taken as the document names them (IRIs); the caller pseudonymises people.
pub fn events_from_valueflows(
    doc: &Value,
    scope: &str,
    fallback_time: OffsetDateTime,
) -> Result<Vec<EconomicEvent>, LedgerError> {
    let nodes: Vec<&Value> = match doc {
        Value::Array(a) => a.iter().collect(),
        Value::Object(o) => match o.get("@graph") {
            Some(Value::Array(g)) => g.iter().collect(),
            _ => vec![doc],
        },
        _ => return Err(invalid("document", "not a JSON-LD object or list")),
    };
    let mut out = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        let Some(obj) = node.as_object() else {
            continue;
        };
        let ty = obj.get("@type").and_then(Value::as_str).unwrap_or("");
        if ty != "EconomicEvent" && ty != "vf:EconomicEvent" {
            continue;
        }
        out.push(
            event_from_node(obj, scope, fallback_time).map_err(|e| match e {
                LedgerError::Invalid { field, reason } => LedgerError::Invalid {
                    field: format!("@graph[{i}].{field}"),
                    reason,
                },
                e => e,
            })?,
        );
    }
    Ok(out)
}

fn event_from_node(
    obj: &Map<String, Value>,
    scope: &str,
    fallback_time: OffsetDateTime,
) -> Result<EconomicEvent, LedgerError> {
    let s = |k: &str| obj.get(k).and_then(Value::as_str).map(str::to_string);
    let id = s("@id").ok_or_else(|| invalid("@id", "missing"))?;
    let action = s("action").ok_or_else(|| invalid("action", "missing"))?;
    let action = Action::parse(action.trim_start_matches("vf:"))
        .ok_or_else(|| invalid("action", &format!("'{action}' is not a ValueFlows action")))?;
    let measure = |k: &str| -> Result<Option<Measure>, LedgerError> {
        let Some(m) = obj.get(k) else { return Ok(None) };
        let unit = m
            .get("hasUnit")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid(k, "hasUnit missing"))?;
        let unit =
            Unit::parse(unit).ok_or_else(|| invalid(k, &format!("unknown unit '{unit}'")))?;
        let value = m
            .get("hasNumericalValue")
            .and_then(Value::as_f64)
            .ok_or_else(|| invalid(k, "hasNumericalValue missing"))?;
        Measure::new(value, unit).map(Some).map_err(|e| match e {
            LedgerError::Invalid { reason, .. } => invalid(k, &reason),
            e => e,
        })
    };
    let time = match s("hasPointInTime")
        .or_else(|| s("hasEnd"))
        .or_else(|| s("hasBeginning"))
    {
        Some(t) => parse_point_in_time(&t)?,
        None => fallback_time,
    };
    // The examples' prefixed ids (`alice:57f1...`) stay as written: they are IRIs in compact form.
    let ev = EconomicEvent {
        id,
        action,
        provider: s("provider").ok_or_else(|| invalid("provider", "missing"))?,
        receiver: s("receiver").ok_or_else(|| invalid("receiver", "missing"))?,
        // One ValueFlows example misspells the key (`resourceconformsTo`): accepted as the
        // same property, since JSON-LD terms are case-sensitive only by accident there.
        resource_conforms_to: s("resourceConformsTo").or_else(|| s("resourceconformsTo")),
        resource_quantity: measure("resourceQuantity")?,
        effort_quantity: measure("effortQuantity")?,
        has_point_in_time: format_point_in_time(time),
        in_scope_of: scope.to_string(),
        at_location: None,
        note: s("note"),
    };
    ev.validate()?;
    Ok(ev)
}
