//! The directory: organisations, services and places, read as HSDS 3.0 (`hsds`), written by
//! their organisations (`api`, `service`), searched in the browser (`pages`) and managed there
//! by the organisations (`manage_pages`, `words`).

pub mod api;
pub mod hsds;
pub mod manage_pages;
pub mod pages;
pub mod service;
pub mod words;
