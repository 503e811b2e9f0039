//! Accounts: signing up, confirming, sessions and tokens, notifications, and one's data
//! (export and erasure).

pub mod api;
pub mod notifications;
pub mod pages;
pub mod privacy;
pub mod privacy_pages;
pub mod service;
