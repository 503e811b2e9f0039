//! The contribution register: the signed transparency log of ValueFlows events (`log`), its
//! operations (`service`), its HTTP API (`api`) and pages (`pages`).

pub mod api;
pub mod log;
pub mod pages;
pub mod service;
pub mod words;
