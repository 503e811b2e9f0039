//! Emergency campaigns and batch assignment.

pub mod api;
pub mod pages;
pub mod service;
pub mod words;
