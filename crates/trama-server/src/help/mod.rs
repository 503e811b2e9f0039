//! Neighbourly help: needs, offers, suggestions and matches, the desk's assisted people.

pub mod api;
pub mod offer_pages;
pub mod pages;
pub mod service;
pub mod suggest_index;
pub mod words;
