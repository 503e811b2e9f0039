//! Community hubs: places, rooms to book, services shared by open needs.

pub mod api;
pub mod pages;
pub mod service;
