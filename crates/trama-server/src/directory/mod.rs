//! The directory: organisations, services and places, read as HSDS 3.0 (`hsds`), written by
//! their organisations (`api`, `service`), searched and managed in the browser (`pages`).

pub mod api;
pub mod hsds;
pub mod pages;
pub mod service;
