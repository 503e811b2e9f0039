//! The menu every page carries: the places the reader's roles open (`trama_core::workplaces`),
//! with their addresses and names, and the public ones for everyone.

use crate::web::i18n::Lang;
use trama_core::workplaces::Workplace;

/// One entry of the menu.
pub struct MenuLink {
    pub href: &'static str,
    pub label: &'static str,
    /// The page being shown is this entry (`aria-current="page"`).
    pub current: bool,
}

/// Where a place is, and its name in Italian and English.
pub fn address(w: Workplace) -> (&'static str, &'static str, &'static str) {
    use Workplace as W;
    match w {
        W::Caseload => (
            "/sportello/budget",
            "Le persone che seguo",
            "People I follow",
        ),
        W::Desk => ("/sportello", "Sportello", "Desk"),
        W::Hub => ("/hub", "Hub", "Hubs"),
        W::Dashboard => (
            "/budget/cruscotto",
            "Cruscotto della spesa",
            "Spending dashboard",
        ),
        W::Campaigns => ("/campagne", "Campagne", "Campaigns"),
        W::Bookings => (
            "/gestione/prenotazioni",
            "Prestazioni da erogare",
            "Services to deliver",
        ),
        W::Organisation => ("/gestione", "La mia organizzazione", "My organisation"),
        W::Register => ("/registro", "Registro", "Register"),
        W::Help => ("/aiuto", "Aiuto tra vicini", "Neighbourly help"),
        W::MyBudget => ("/io/budget", "Il mio budget", "My budget"),
        W::MyContributions => ("/io/contributi", "I miei contributi", "My contributions"),
        W::MyData => ("/io/dati", "I miei dati", "My data"),
    }
}

/// Where a place is.
pub fn href(w: Workplace) -> &'static str {
    address(w).0
}

/// The menu for a reader with these places on the page at `path`: finding services first,
/// then their places in order, and the public register for whoever has not got it yet.
pub fn menu(places: &[Workplace], lang: Lang, path: &str, signed_in: bool) -> Vec<MenuLink> {
    let mut entries: Vec<(&'static str, &'static str)> = Vec::new();
    let pick = |it: &'static str, en: &'static str| if lang == Lang::En { en } else { it };
    entries.push(("/cerca", pick("Cerca servizi", "Find services")));
    if !signed_in {
        entries.push(("/aiuto", pick("Aiuto tra vicini", "Neighbourly help")));
    }
    for w in places {
        let (href, it, en) = address(*w);
        entries.push((href, pick(it, en)));
    }
    if !places.contains(&Workplace::Register) {
        entries.push(("/registro", pick("Registro", "Register")));
    }
    entries
        .into_iter()
        .map(|(href, label)| MenuLink {
            href,
            label,
            current: path == href,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_place_has_its_own_address() {
        use Workplace as W;
        let all = [
            W::Caseload,
            W::Desk,
            W::Hub,
            W::Dashboard,
            W::Campaigns,
            W::Bookings,
            W::Organisation,
            W::Register,
            W::Help,
            W::MyBudget,
            W::MyContributions,
            W::MyData,
        ];
        let hrefs: std::collections::HashSet<_> = all.iter().map(|w| href(*w)).collect();
        assert_eq!(hrefs.len(), all.len());
    }

    #[test]
    fn the_page_shown_is_marked_and_nothing_is_listed_twice() {
        let m = menu(
            &[Workplace::Register, Workplace::MyData],
            Lang::It,
            "/registro",
            true,
        );
        let hrefs: Vec<_> = m.iter().map(|l| l.href).collect();
        assert_eq!(hrefs, ["/cerca", "/registro", "/io/dati"]);
        assert!(m[1].current && !m[0].current);
    }
}
