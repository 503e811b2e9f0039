//! The life of a match and of a need, as state machines. Every change goes through
//! [`MatchState::apply`] or [`NeedState::apply`]; anything else is refused with the reason.
//!
//! ```text
//!  proposed ──accept(one side)──▶ accepted_by_requester / accepted_by_volunteer
//!     │                                  │ accept(other side)
//!     │                                  ▼
//!     │                              accepted ──schedule──▶ scheduled
//!     │                                                       │ done(one side)
//!     │                                                       ▼
//!     │                                   done_by_requester / done_by_volunteer
//!     │                                                       │ done(other side)
//!     │                                                       ▼
//!     │                                                   confirmed ──schedule (recurring)──▶ scheduled
//!  decline / expire / cancel / no_show end a match that is not confirmed; its need re-opens.
//! ```
//!
//! An operator acting for a person in assisted mode acts as the requester's side.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::FieldError;

/// Which party of a match acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The person who needs help (or the operator acting for them).
    Requester,
    /// The person or organisation offering help.
    Volunteer,
}

impl Side {
    pub fn other(self) -> Side {
        match self {
            Side::Requester => Side::Volunteer,
            Side::Volunteer => Side::Requester,
        }
    }
}

macro_rules! string_enum {
    ($name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl FromStr for $name {
            type Err = FieldError;
            fn from_str(s: &str) -> Result<Self, FieldError> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s).ok_or_else(|| {
                    FieldError::new(stringify!($name), format!("'{s}' is not a known value"))
                })
            }
        }
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchState {
    Proposed,
    AcceptedByRequester,
    AcceptedByVolunteer,
    Accepted,
    Scheduled,
    DoneByRequester,
    DoneByVolunteer,
    Confirmed,
    Declined,
    Cancelled,
    NoShow,
    Expired,
}

string_enum!(MatchState {
    Proposed => "proposed",
    AcceptedByRequester => "accepted_by_requester",
    AcceptedByVolunteer => "accepted_by_volunteer",
    Accepted => "accepted",
    Scheduled => "scheduled",
    DoneByRequester => "done_by_requester",
    DoneByVolunteer => "done_by_volunteer",
    Confirmed => "confirmed",
    Declined => "declined",
    Cancelled => "cancelled",
    NoShow => "no_show",
    Expired => "expired",
});

/// Something that happens to a match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "event", content = "side")]
pub enum MatchEvent {
    Accept(Side),
    Decline(Side),
    /// A date is set (first occurrence, or the next one of a recurring need).
    Schedule,
    /// One side says the help was given.
    Done(Side),
    Cancel(Side),
    /// One side reports that the other did not come.
    NoShow(Side),
    /// Nobody answered in time.
    Expire,
}

/// Every event a side might send, with its name in the API.
pub const EVENT_NAMES: [&str; 7] = [
    "accept", "decline", "schedule", "done", "cancel", "no_show", "expire",
];

/// The event `side` sends under its API name (`expire` is the clock's, never a side's).
pub fn parse_event(name: &str, side: Side) -> Result<MatchEvent, FieldError> {
    Ok(match name {
        "accept" => MatchEvent::Accept(side),
        "decline" => MatchEvent::Decline(side),
        "schedule" => MatchEvent::Schedule,
        "done" => MatchEvent::Done(side),
        "cancel" => MatchEvent::Cancel(side),
        "no_show" => MatchEvent::NoShow(side),
        other => {
            return Err(FieldError::new(
                "event",
                format!("'{other}' is not one of accept, decline, schedule, done, cancel, no_show"),
            ));
        }
    })
}

/// Whether `viewer` may read a match: the parties (`side`, the side they act for, if any)
/// and auditors; for anyone else the match does not exist.
pub fn may_read_match(viewer: &crate::auth::Principal, side: Option<Side>) -> bool {
    side.is_some() || viewer.has_role(crate::auth::Role::Auditor)
}

/// Why a change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {event} a match that is {state}")]
pub struct IllegalTransition {
    pub state: &'static str,
    pub event: String,
}

impl MatchEvent {
    pub fn name(&self) -> String {
        let side = |s: &Side| match s {
            Side::Requester => "requester",
            Side::Volunteer => "volunteer",
        };
        match self {
            MatchEvent::Accept(s) => format!("accept (as {})", side(s)),
            MatchEvent::Decline(s) => format!("decline (as {})", side(s)),
            MatchEvent::Schedule => "schedule".into(),
            MatchEvent::Done(s) => format!("confirm as done (as {})", side(s)),
            MatchEvent::Cancel(s) => format!("cancel (as {})", side(s)),
            MatchEvent::NoShow(s) => format!("report a no-show (as {})", side(s)),
            MatchEvent::Expire => "expire".into(),
        }
    }
}

impl MatchState {
    /// The match holds a place in its need and in its offer (counts as covering the need).
    pub fn is_active(&self) -> bool {
        !self.is_ended() || *self == MatchState::Confirmed
    }

    /// No further event changes it, except scheduling the next occurrence of a recurring need
    /// after `confirmed`.
    pub fn is_ended(&self) -> bool {
        matches!(
            self,
            MatchState::Confirmed
                | MatchState::Declined
                | MatchState::Cancelled
                | MatchState::NoShow
                | MatchState::Expired
        )
    }

    /// Ended without the help being given: the need goes back to open.
    pub fn reopens_need(&self) -> bool {
        self.is_ended() && *self != MatchState::Confirmed
    }

    /// Both parties have accepted.
    pub fn is_agreed(&self) -> bool {
        matches!(
            self,
            MatchState::Accepted
                | MatchState::Scheduled
                | MatchState::DoneByRequester
                | MatchState::DoneByVolunteer
                | MatchState::Confirmed
        )
    }

    /// The next state, or why not. `recurring` says whether the need repeats (so a confirmed
    /// match can be scheduled again).
    pub fn apply(
        self,
        event: MatchEvent,
        recurring: bool,
    ) -> Result<MatchState, IllegalTransition> {
        use MatchEvent as E;
        use MatchState as S;
        let accepted_by = |s: Side| match s {
            Side::Requester => S::AcceptedByRequester,
            Side::Volunteer => S::AcceptedByVolunteer,
        };
        let done_by = |s: Side| match s {
            Side::Requester => S::DoneByRequester,
            Side::Volunteer => S::DoneByVolunteer,
        };
        let next = match (self, event) {
            (S::Proposed, E::Accept(s)) => Some(accepted_by(s)),
            (S::AcceptedByRequester, E::Accept(Side::Volunteer))
            | (S::AcceptedByVolunteer, E::Accept(Side::Requester)) => Some(S::Accepted),
            (S::Proposed | S::AcceptedByRequester | S::AcceptedByVolunteer, E::Decline(_)) => {
                Some(S::Declined)
            }
            (S::Proposed | S::AcceptedByRequester | S::AcceptedByVolunteer, E::Expire) => {
                Some(S::Expired)
            }
            (S::Accepted, E::Schedule) => Some(S::Scheduled),
            (S::Confirmed, E::Schedule) if recurring => Some(S::Scheduled),
            (S::Scheduled, E::Done(s)) => Some(done_by(s)),
            (S::DoneByRequester, E::Done(Side::Volunteer))
            | (S::DoneByVolunteer, E::Done(Side::Requester)) => Some(S::Confirmed),
            (S::Accepted | S::Scheduled, E::Cancel(_)) => Some(S::Cancelled),
            (S::Confirmed, E::Cancel(_)) if recurring => Some(S::Cancelled),
            (S::Scheduled, E::NoShow(_)) => Some(S::NoShow),
            _ => None,
        };
        next.ok_or_else(|| IllegalTransition {
            state: self.as_str(),
            event: event.name(),
        })
    }
}

/// Whether the event may happen now, for a match whose appointment is at `scheduled_at`: the
/// help is confirmed as given, or a no-show reported, only once the appointment has begun
/// (hours given tomorrow are not in the register today).
pub fn check_timing(
    event: MatchEvent,
    scheduled_at: Option<time::OffsetDateTime>,
    now: time::OffsetDateTime,
) -> Result<(), TooEarly> {
    match (event, scheduled_at) {
        (MatchEvent::Done(_) | MatchEvent::NoShow(_), Some(at)) if now < at => Err(TooEarly {
            event: event.name(),
            at: at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_else(|_| at.to_string()),
        }),
        _ => Ok(()),
    }
}

/// An event that may happen only once the appointment has begun.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {event} before the appointment at {at}")]
pub struct TooEarly {
    pub event: String,
    pub at: String,
}

/// The state of a need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NeedState {
    /// Waiting for helpers.
    Open,
    /// Every helper wanted has been found (matches proposed or agreed).
    Matched,
    /// The help was given and confirmed (one-off needs).
    Fulfilled,
    Cancelled,
    Expired,
}

string_enum!(NeedState {
    Open => "open",
    Matched => "matched",
    Fulfilled => "fulfilled",
    Cancelled => "cancelled",
    Expired => "expired",
});

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NeedEvent {
    /// The active matches now cover every helper wanted.
    Covered,
    /// A match ended without help; a place is free again.
    Uncovered,
    /// A one-off need's help was confirmed.
    Fulfil,
    Cancel,
    Expire,
    /// The requester (or their operator) opens a cancelled or expired need again.
    Reopen,
}

impl NeedState {
    pub fn apply(self, event: NeedEvent) -> Result<NeedState, IllegalTransition> {
        use NeedEvent as E;
        use NeedState as S;
        let next = match (self, event) {
            (S::Open, E::Covered) => Some(S::Matched),
            (S::Matched, E::Uncovered) => Some(S::Open),
            (S::Open, E::Uncovered) => Some(S::Open),
            (S::Matched, E::Fulfil) => Some(S::Fulfilled),
            (S::Open | S::Matched, E::Cancel) => Some(S::Cancelled),
            (S::Open, E::Expire) => Some(S::Expired),
            (S::Cancelled | S::Expired, E::Reopen) => Some(S::Open),
            _ => None,
        };
        next.ok_or_else(|| IllegalTransition {
            state: self.as_str(),
            event: format!("{event:?}").to_lowercase(),
        })
    }

    /// Volunteers may still be suggested and accept.
    pub fn is_open(&self) -> bool {
        *self == NeedState::Open
    }

    /// What the requester (or their operator) does with their need: cancel it (only once no
    /// helper is engaged: `live` matches are cancelled first, so nobody is left waiting) or
    /// reopen it.
    /// Whether the requester (or an operator for them) may rewrite the need: while it is open
    /// and nobody has been proposed or agreed to help (`live`), so no helper finds a different
    /// request from the one they took.
    pub fn check_edit(self, live: i64) -> Result<(), FieldError> {
        if self != NeedState::Open {
            return Err(FieldError::new(
                "state",
                format!("a need that is {} cannot be changed", self.as_str()),
            ));
        }
        if live > 0 {
            return Err(FieldError::new("state", "cancel its live matches first"));
        }
        Ok(())
    }

    pub fn by_requester(self, event: NeedEvent, live: i64) -> Result<NeedState, FieldError> {
        let next = self
            .apply(event)
            .map_err(|e| FieldError::new("state", e.to_string()))?;
        if event == NeedEvent::Cancel && live > 0 {
            return Err(FieldError::new("state", "cancel its live matches first"));
        }
        Ok(next)
    }
}

/// A requester's act on their need by its name in a form (`cancel`, `reopen`): the state it
/// asks for.
pub fn requester_target(field: &str, s: &str) -> Result<NeedState, FieldError> {
    match s.trim() {
        "cancel" => Ok(NeedState::Cancelled),
        "reopen" => Ok(NeedState::Open),
        _ => Err(FieldError::new(field, "one of cancel, reopen")),
    }
}

/// An owner's act on their offer by its name in a form (`pause`, `resume`, `withdraw`).
pub fn offer_action(field: &str, s: &str) -> Result<OfferAction, FieldError> {
    s.trim()
        .parse()
        .map_err(|_| FieldError::new(field, "one of pause, resume, withdraw"))
}

/// The state of an offer of help.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OfferState {
    /// Suggested to people who need it.
    Active,
    /// Kept, but suggested to nobody until resumed (holidays, a busy month).
    Paused,
    /// Closed for good.
    Withdrawn,
}

string_enum!(OfferState {
    Active => "active",
    Paused => "paused",
    Withdrawn => "withdrawn",
});

/// What a volunteer does with their own offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OfferAction {
    Pause,
    Resume,
    Withdraw,
}

string_enum!(OfferAction {
    Pause => "pause",
    Resume => "resume",
    Withdraw => "withdraw",
});

impl OfferState {
    /// The offer's next state. Withdrawing waits until the help already promised is given or
    /// called off (`live` matches): the people counting on it are not left alone.
    pub fn apply(self, action: OfferAction, live: u16) -> Result<OfferState, FieldError> {
        use OfferAction as A;
        use OfferState as S;
        let next = match (self, action) {
            (S::Active, A::Pause) => S::Paused,
            (S::Paused, A::Resume) => S::Active,
            (S::Active | S::Paused, A::Withdraw) if live > 0 => {
                return Err(FieldError::new(
                    "state",
                    format!(
                        "{live} people are counting on this offer: confirm or cancel that help first"
                    ),
                ));
            }
            (S::Active | S::Paused, A::Withdraw) => S::Withdrawn,
            (s, a) => {
                return Err(FieldError::new(
                    "state",
                    format!("an offer that is {} cannot {}", s.as_str(), a.as_str()),
                ));
            }
        };
        Ok(next)
    }

    /// Whether its owner may rewrite the offer (what, where, when, how much): while it is
    /// active or paused, and never with fewer places than the people already counting on it
    /// (`live`).
    pub fn check_edit(self, capacity: u16, live: u16) -> Result<(), FieldError> {
        if self == OfferState::Withdrawn {
            return Err(FieldError::new(
                "state",
                "an offer that is withdrawn cannot be changed",
            ));
        }
        if capacity < live {
            return Err(FieldError::new(
                "capacity",
                format!("{live} people are counting on this offer: at least {live} places"),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_offer_is_rewritten_while_open_and_never_below_its_commitments() {
        use OfferState as S;
        assert!(S::Active.check_edit(2, 2).is_ok());
        assert!(S::Paused.check_edit(1, 0).is_ok());
        assert_eq!(S::Active.check_edit(1, 2).unwrap_err().field, "capacity");
        assert_eq!(S::Withdrawn.check_edit(5, 0).unwrap_err().field, "state");
    }

    #[test]
    fn an_offer_pauses_resumes_and_is_withdrawn_once_nobody_counts_on_it() {
        use OfferAction as A;
        use OfferState as S;
        assert_eq!(S::Active.apply(A::Pause, 0).unwrap(), S::Paused);
        assert_eq!(S::Paused.apply(A::Resume, 3).unwrap(), S::Active);
        assert_eq!(S::Paused.apply(A::Withdraw, 0).unwrap(), S::Withdrawn);
        assert!(S::Active.apply(A::Withdraw, 1).is_err());
        assert!(S::Active.apply(A::Resume, 0).is_err());
        assert!(S::Withdrawn.apply(A::Resume, 0).is_err());
        assert!(S::Withdrawn.apply(A::Pause, 0).is_err());
        assert_eq!("paused".parse::<S>().unwrap(), S::Paused);
        assert_eq!("withdraw".parse::<A>().unwrap(), A::Withdraw);
    }

    #[test]
    fn a_need_is_rewritten_only_while_open_and_unclaimed() {
        assert!(NeedState::Open.check_edit(0).is_ok());
        assert!(NeedState::Open.check_edit(1).is_err());
        assert!(NeedState::Matched.check_edit(0).is_err());
        assert!(NeedState::Cancelled.check_edit(0).is_err());
    }

    #[test]
    fn a_need_with_helpers_engaged_is_not_cancelled() {
        assert!(
            NeedState::Matched
                .by_requester(NeedEvent::Cancel, 1)
                .is_err()
        );
        assert_eq!(
            NeedState::Open.by_requester(NeedEvent::Cancel, 0).unwrap(),
            NeedState::Cancelled
        );
        assert_eq!(
            NeedState::Cancelled
                .by_requester(NeedEvent::Reopen, 0)
                .unwrap(),
            NeedState::Open
        );
    }
    use proptest::prelude::*;

    #[test]
    fn help_is_confirmed_only_once_the_appointment_has_begun() {
        let at = time::macros::datetime!(2026-12-08 08:30 UTC);
        let before = at - time::Duration::minutes(1);
        for e in [
            MatchEvent::Done(Side::Volunteer),
            MatchEvent::Done(Side::Requester),
            MatchEvent::NoShow(Side::Requester),
        ] {
            let err = check_timing(e, Some(at), before).unwrap_err();
            assert!(err.to_string().contains("2026-12-08T08:30:00Z"), "{err}");
            assert_eq!(check_timing(e, Some(at), at), Ok(()));
        }
        // Cancelling ahead is what cancelling is for; an unscheduled match has no time yet.
        assert_eq!(
            check_timing(MatchEvent::Cancel(Side::Requester), Some(at), before),
            Ok(())
        );
        assert_eq!(
            check_timing(MatchEvent::Done(Side::Volunteer), None, before),
            Ok(())
        );
    }

    fn event() -> impl Strategy<Value = MatchEvent> {
        let side = prop_oneof![Just(Side::Requester), Just(Side::Volunteer)];
        prop_oneof![
            side.clone().prop_map(MatchEvent::Accept),
            side.clone().prop_map(MatchEvent::Decline),
            Just(MatchEvent::Schedule),
            side.clone().prop_map(MatchEvent::Done),
            side.clone().prop_map(MatchEvent::Cancel),
            side.prop_map(MatchEvent::NoShow),
            Just(MatchEvent::Expire),
        ]
    }

    /// An independent model of the rules: what each party has said so far.
    #[derive(Default, Debug)]
    struct Model {
        accepted: [bool; 2],
        scheduled: bool,
        done: [bool; 2],
        ended: bool,
        confirmed: bool,
        occurrences: u32,
    }

    fn idx(s: Side) -> usize {
        match s {
            Side::Requester => 0,
            Side::Volunteer => 1,
        }
    }

    impl Model {
        /// Whether the model allows the event, updating itself if so.
        fn step(&mut self, e: MatchEvent, recurring: bool) -> bool {
            let both_accepted = self.accepted == [true, true];
            match e {
                _ if self.ended && !(self.confirmed && recurring) => false,
                MatchEvent::Accept(s)
                    if !both_accepted && !self.accepted[idx(s)] && !self.confirmed =>
                {
                    self.accepted[idx(s)] = true;
                    true
                }
                MatchEvent::Decline(_) | MatchEvent::Expire if !both_accepted => {
                    self.ended = true;
                    true
                }
                MatchEvent::Schedule
                    if both_accepted && !self.scheduled && (!self.ended || self.confirmed) =>
                {
                    self.scheduled = true;
                    self.ended = false;
                    self.confirmed = false;
                    self.done = [false, false];
                    true
                }
                MatchEvent::Done(s) if self.scheduled && !self.done[idx(s)] => {
                    self.done[idx(s)] = true;
                    if self.done == [true, true] {
                        self.ended = true;
                        self.confirmed = true;
                        self.scheduled = false;
                        self.occurrences += 1;
                    }
                    true
                }
                MatchEvent::Cancel(_)
                    if both_accepted && self.done == [false, false] && !self.confirmed =>
                {
                    self.ended = true;
                    true
                }
                MatchEvent::Cancel(_) if self.confirmed && recurring => {
                    self.ended = true;
                    self.confirmed = false;
                    true
                }
                MatchEvent::NoShow(_) if self.scheduled && self.done == [false, false] => {
                    self.ended = true;
                    self.scheduled = false;
                    true
                }
                _ => false,
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn random_event_sequences_follow_the_rules(
            events in proptest::collection::vec(event(), 0..40),
            recurring in any::<bool>(),
        ) {
            let mut state = MatchState::Proposed;
            let mut model = Model::default();
            let mut confirmations = 0;
            for e in events {
                let allowed = model.step(e, recurring);
                match state.apply(e, recurring) {
                    Ok(next) => {
                        prop_assert!(allowed, "{state} accepted {e:?}, the model refuses it");
                        if next == MatchState::Confirmed {
                            confirmations += 1;
                            prop_assert!(model.accepted == [true, true]);
                        }
                        if state.is_ended() && !(state == MatchState::Confirmed && recurring) {
                            prop_assert!(false, "an ended match moved on: {state} -> {next}");
                        }
                        state = next;
                    }
                    Err(err) => {
                        prop_assert!(!allowed, "{state} refused {e:?} ({err}), the model allows it");
                    }
                }
                prop_assert_eq!(state.is_agreed() && !state.is_ended(), model.accepted == [true, true] && !model.ended);
            }
            prop_assert_eq!(confirmations, model.occurrences);
            if !recurring {
                prop_assert!(confirmations <= 1);
            }
        }
    }

    #[test]
    fn the_story_of_a_tuesday_shopping() {
        let mut s = MatchState::Proposed;
        for e in [
            MatchEvent::Accept(Side::Volunteer),
            MatchEvent::Accept(Side::Requester),
            MatchEvent::Schedule,
            MatchEvent::Done(Side::Volunteer),
            MatchEvent::Done(Side::Requester),
        ] {
            s = s.apply(e, true).unwrap();
        }
        assert_eq!(s, MatchState::Confirmed);
        assert_eq!(
            s.apply(MatchEvent::Schedule, true).unwrap(),
            MatchState::Scheduled
        );
        assert!(s.apply(MatchEvent::Schedule, false).is_err());
        let err = MatchState::Declined
            .apply(MatchEvent::Accept(Side::Requester), false)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot accept (as requester) a match that is declined"
        );
    }

    #[test]
    fn needs_reopen_only_from_cancelled_or_expired() {
        use NeedEvent as E;
        use NeedState as S;
        assert_eq!(S::Open.apply(E::Covered).unwrap(), S::Matched);
        assert_eq!(S::Matched.apply(E::Uncovered).unwrap(), S::Open);
        assert_eq!(S::Cancelled.apply(E::Reopen).unwrap(), S::Open);
        assert_eq!(S::Expired.apply(E::Reopen).unwrap(), S::Open);
        assert!(S::Fulfilled.apply(E::Reopen).is_err());
        assert!(S::Open.apply(E::Fulfil).is_err());
        for s in NeedState::ALL {
            assert_eq!(s.as_str().parse::<NeedState>().unwrap(), *s);
        }
        for s in MatchState::ALL {
            assert_eq!(s.as_str().parse::<MatchState>().unwrap(), *s);
        }
    }
}
