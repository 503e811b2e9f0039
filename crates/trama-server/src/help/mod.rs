//! Neighbourly help: needs, offers, suggestions and matches, the desk's assisted people, and
//! the shared services the desk can arrange (`shared_pages`).

pub mod api;
pub mod offer_pages;
pub mod pages;
pub mod service;
pub mod shared_pages;
pub mod suggest_index;
pub mod words;
