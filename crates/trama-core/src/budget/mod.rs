//! Care budgets (MISSION M5): every resource a person can use, from every funder.
//!
//! - `programme`: funders, programmes and their rules (eligible categories, validity, monthly
//!   caps, co-payment by ISEE band, whether they combine with other programmes), allocations.
//! - `plan`: personal plans (goals, services, review date, agreement).
//! - `funding`: the rule engine that funds a personal plan from a person's allocations at the
//!   least cost to the person, explaining where each euro comes from.
//! - `book`: the book of account (grant, hold, spend, release as balanced postings).
//! - `booking`: a booking asked for, parsed (`BookingForm`), and what an allocation pays for.
//! - `control`: expenditure totals and alerts (double funding, money expiring unused).
//! - `events`: the register's events of a spend (`transfer` of euros, `deliverService`).
//! - `access`: who may see and do what with a person's budget (roles, caseload, consent).
//! - `consent`: consent as the person's act, and who may grant money from a programme.

pub mod access;
pub mod book;
pub mod booking;
pub mod consent;
pub mod control;
pub mod events;
pub mod funding;
pub mod plan;
pub mod programme;

pub use book::{Account, AllocationBalance, Book, BudgetError, Movement, Posting, Transaction};
