//! `trama-core`: the domain of Trama. Types, rules and pure computations; no I/O, no database,
//! no HTTP. Every other crate depends on this one, never the other way round.

pub mod areas;
pub mod auth;
pub mod basemap;
pub mod bounded;
pub mod budget;
pub mod campaigns;
pub mod clock;
pub mod contribution;
pub mod error;
pub mod flows;
pub mod geo;
pub mod hsds;
pub mod hubs;
pub mod ids;
pub mod matching;
pub mod moment;
pub mod money;
pub mod needs;
pub mod places;
pub mod query;
pub mod schedule;
pub mod spreadsheet;
pub mod taxonomy;
pub mod text;
pub mod workplaces;

pub use error::{CoreError, FieldError};
