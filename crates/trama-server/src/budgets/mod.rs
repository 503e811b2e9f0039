//! Care budgets: funders, programmes, allocations, consent, plans and bookings.

pub mod api;
pub mod pages;
pub mod service;
pub mod words;
