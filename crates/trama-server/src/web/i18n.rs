//! The UI's words in Italian (first) and English. A struct, not a lookup table: a missing
//! translation is a compile error, not a blank on the page.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    It,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::It => "it",
            Lang::En => "en",
        }
    }
    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().get(..2)? {
            "it" => Some(Lang::It),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
    /// The preferred of Italian and English in an `Accept-Language` header (Italian when neither).
    pub fn from_accept_language(h: &str) -> Lang {
        let mut best: Option<(f32, Lang)> = None;
        for part in h.split(',') {
            let mut it = part.split(';');
            let tag = it.next().unwrap_or("").trim();
            let q = it
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            if let Some(l) = Lang::parse(tag)
                && best.is_none_or(|(bq, _)| q > bq)
            {
                best = Some((q, l));
            }
        }
        best.map(|b| b.1).unwrap_or(Lang::It)
    }
    pub fn msg(self) -> &'static Msg {
        match self {
            Lang::It => &IT,
            Lang::En => &EN,
        }
    }
    pub fn other(self) -> Lang {
        match self {
            Lang::It => Lang::En,
            Lang::En => Lang::It,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Lang::It => "Italiano",
            Lang::En => "English",
        }
    }
}

pub struct Msg {
    pub tagline: &'static str,
    pub skip_to_content: &'static str,
    pub nav_search: &'static str,
    pub nav_login: &'static str,
    pub nav_signup: &'static str,
    pub nav_logout: &'static str,
    pub search_heading: &'static str,
    pub search_label: &'static str,
    pub search_placeholder: &'static str,
    pub search_button: &'static str,
    pub near_label: &'static str,
    pub address_label: &'static str,
    pub address_hint: &'static str,
    pub my_position: &'static str,
    pub my_position_name: &'static str,
    pub position_denied: &'static str,
    pub address_unknown: &'static str,
    pub near_anywhere: &'static str,
    pub radius_label: &'static str,
    pub category_label: &'static str,
    pub category_any: &'static str,
    pub open_now_label: &'static str,
    pub funder_label: &'static str,
    pub funder_hint: &'static str,
    pub categories_heading: &'static str,
    pub results_heading: &'static str,
    pub results_count: &'static str,
    pub results_count_one: &'static str,
    pub no_results: &'static str,
    pub list_heading: &'static str,
    pub map_heading: &'static str,
    pub map_note: &'static str,
    pub open_now: &'static str,
    pub closed_now: &'static str,
    pub at_a_hub: &'static str,
    pub km_away: &'static str,
    pub previous: &'static str,
    pub next: &'static str,
    pub page: &'static str,
    pub of: &'static str,
    pub provided_by: &'static str,
    pub status: &'static str,
    pub hours: &'static str,
    pub no_hours: &'static str,
    pub where_: &'static str,
    pub contacts: &'static str,
    pub costs: &'static str,
    pub free: &'static str,
    pub funded_by: &'static str,
    pub languages: &'static str,
    pub documents: &'static str,
    pub eligibility: &'static str,
    pub how_to_apply: &'static str,
    pub categories: &'static str,
    pub edit: &'static str,
    pub services: &'static str,
    pub places: &'static str,
    pub email: &'static str,
    pub password: &'static str,
    pub display_name: &'static str,
    pub login_heading: &'static str,
    pub login_button: &'static str,
    pub signup_heading: &'static str,
    pub signup_button: &'static str,
    pub password_hint: &'static str,
    pub no_account: &'static str,
    pub manage_heading: &'static str,
    pub manage_intro: &'static str,
    pub manage_none: &'static str,
    pub new_service: &'static str,
    pub edit_heading: &'static str,
    pub new_heading: &'static str,
    pub field_name: &'static str,
    pub field_description: &'static str,
    pub field_status: &'static str,
    pub field_category: &'static str,
    pub field_funder: &'static str,
    pub field_phone: &'static str,
    pub field_email: &'static str,
    pub field_place: &'static str,
    pub field_days: &'static str,
    pub field_opens: &'static str,
    pub field_closes: &'static str,
    pub save: &'static str,
    pub delete: &'static str,
    pub saved: &'static str,
    pub deleted: &'static str,
    pub error_heading: &'static str,
    /// The heading of a refusal (no permission, an expired form), not a form to correct.
    pub refused_heading: &'static str,
    pub not_found_heading: &'static str,
    pub not_found_text: &'static str,
    pub wrong_method_heading: &'static str,
    pub wrong_method_text: &'static str,
    pub forbidden_text: &'static str,
    pub csrf_text: &'static str,
    pub auditor_text: &'static str,
    pub signup_sent_heading: &'static str,
    pub signup_sent_text: &'static str,
    pub verify_heading: &'static str,
    pub verify_text: &'static str,
    pub verify_button: &'static str,
    pub verified_heading: &'static str,
    pub verified_text: &'static str,
    pub verify_failed_text: &'static str,
    pub unverified_text: &'static str,
    pub back_home: &'static str,
    pub days: [&'static str; 7],
    pub status_names: [&'static str; 4],
    pub language_switch: &'static str,
    pub footer: &'static str,
}

/// The days of the week, Monday first, as a label or a choice shows them.
pub const DAYS_IT: [&str; 7] = [
    "Lunedì",
    "Martedì",
    "Mercoledì",
    "Giovedì",
    "Venerdì",
    "Sabato",
    "Domenica",
];
pub const DAYS_EN: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// The months, January first, as a date in words writes them.
pub const MONTHS_IT: [&str; 12] = [
    "gennaio",
    "febbraio",
    "marzo",
    "aprile",
    "maggio",
    "giugno",
    "luglio",
    "agosto",
    "settembre",
    "ottobre",
    "novembre",
    "dicembre",
];
pub const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// A day in words: "1 marzo 2027", "1 March 2027".
pub fn date_words(d: time::Date, lang: Lang) -> String {
    let names = if lang == Lang::En {
        MONTHS_EN
    } else {
        MONTHS_IT
    };
    format!(
        "{} {} {}",
        d.day(),
        names[usize::from(u8::from(d.month())) - 1],
        d.year()
    )
}

/// A month as a `YYYY-MM` text says it, in words; the text as it is when it is not one.
pub fn month_text(s: &str, lang: Lang) -> String {
    trama_core::budget::programme::YearMonth::parse("month", s)
        .map(|m| month_name(m, lang))
        .unwrap_or_else(|_| s.to_string())
}

/// A month of a year in words: "marzo 2026", "March 2026".
pub fn month_name(m: trama_core::budget::programme::YearMonth, lang: Lang) -> String {
    let names = if lang == Lang::En {
        MONTHS_EN
    } else {
        MONTHS_IT
    };
    let i = usize::from(m.month().clamp(1, 12)) - 1;
    format!("{} {}", names[i], m.year())
}

/// A moment as people read it: in the territory's time, in words ("martedì 8 dicembre 2026,
/// 09:30"; "Tuesday 8 December 2026, 09:30"). An instant that does not parse is shown as it is.
pub fn moment(lang: Lang, tz: &trama_core::schedule::TimeZone, rfc3339: &str) -> String {
    let Ok(utc) =
        time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
    else {
        return rfc3339.to_string();
    };
    let t = tz.local(utc);
    let day = t.weekday().number_days_from_monday() as usize;
    let month = t.month() as usize - 1;
    let (days, months) = match lang {
        Lang::It => (DAYS_IT, MONTHS_IT),
        Lang::En => (DAYS_EN, MONTHS_EN),
    };
    let weekday = match lang {
        Lang::It => days[day].to_lowercase(),
        Lang::En => days[day].to_string(),
    };
    format!(
        "{weekday} {} {} {}, {:02}:{:02}",
        t.day(),
        months[month],
        t.year(),
        t.hour(),
        t.minute()
    )
}

pub static IT: Msg = Msg {
    tagline: "Servizi, aiuto e risorse del territorio, vicino a te",
    skip_to_content: "Vai al contenuto",
    nav_search: "Cerca servizi",
    nav_login: "Accedi",
    nav_signup: "Registrati",
    nav_logout: "Esci",
    search_heading: "Trova un servizio",
    search_label: "Cosa cerchi",
    search_placeholder: "es. assistenza domiciliare, mensa, doposcuola",
    search_button: "Cerca",
    near_label: "Vicino a",
    address_label: "Oppure un indirizzo o un quartiere",
    address_hint: "es. Via Torino 43, Giambellino",
    my_position: "Usa la mia posizione",
    my_position_name: "la tua posizione",
    position_denied: "Il browser non ha dato la posizione: scegli un luogo o scrivi un indirizzo.",
    address_unknown: "non lo troviamo tra gli indirizzi e i quartieri del territorio: prova con la via e il numero, o il nome del quartiere",
    near_anywhere: "Ovunque",
    radius_label: "Entro",
    category_label: "Categoria",
    category_any: "Tutte le categorie",
    open_now_label: "Solo aperti ora",
    funder_label: "Finanziatore accettato",
    funder_hint: "es. Comune di Milano, Welfare aziendale",
    categories_heading: "Categorie",
    results_heading: "Risultati",
    results_count: "servizi trovati",
    results_count_one: "servizio trovato",
    no_results: "Nessun servizio corrisponde alla ricerca. Prova ad allargare la distanza o a togliere un filtro.",
    list_heading: "Elenco",
    map_heading: "Mappa",
    map_note: "La mappa mostra i luoghi dei servizi in questa pagina; l'elenco contiene le stesse informazioni.",
    open_now: "Aperto ora",
    closed_now: "Chiuso ora",
    at_a_hub: "In un hub di comunità",
    km_away: "km",
    previous: "Precedente",
    next: "Successiva",
    page: "Pagina",
    of: "di",
    provided_by: "Offerto da",
    status: "Stato",
    hours: "Orari",
    no_hours: "Orari non indicati: contattare il servizio.",
    where_: "Dove",
    contacts: "Contatti",
    costs: "Costi",
    free: "Gratuito",
    funded_by: "Finanziato da",
    languages: "Lingue",
    documents: "Documenti richiesti",
    eligibility: "A chi è rivolto",
    how_to_apply: "Come accedere",
    categories: "Categorie",
    edit: "Modifica",
    services: "Servizi",
    places: "Sedi",
    email: "Email",
    password: "Password",
    display_name: "Nome e cognome",
    login_heading: "Accedi",
    login_button: "Accedi",
    signup_heading: "Crea un account",
    signup_button: "Registrati",
    password_hint: "Almeno 10 caratteri, non una delle password più usate.",
    no_account: "Non hai un account?",
    manage_heading: "I servizi della tua organizzazione",
    manage_intro: "Qui aggiorni i servizi che la tua organizzazione offre. Le modifiche sono subito visibili a tutti.",
    manage_none: "Il tuo account non amministra nessuna organizzazione.",
    new_service: "Nuovo servizio",
    edit_heading: "Modifica servizio",
    new_heading: "Nuovo servizio",
    field_name: "Nome del servizio",
    field_description: "Descrizione",
    field_status: "Stato",
    field_category: "Categoria",
    field_funder: "Finanziatore",
    field_phone: "Telefono",
    field_email: "Email del servizio",
    field_place: "Sede",
    field_days: "Giorni di apertura",
    field_opens: "Apre alle",
    field_closes: "Chiude alle",
    save: "Salva",
    delete: "Elimina il servizio",
    saved: "Servizio salvato.",
    deleted: "Servizio eliminato.",
    error_heading: "Correggi questi campi",
    refused_heading: "Non è possibile",
    not_found_heading: "Pagina non trovata",
    not_found_text: "La pagina che cerchi non esiste o è stata spostata.",
    wrong_method_heading: "Questa pagina non si apre così",
    wrong_method_text: "Questo indirizzo riceve i dati di un modulo e non si apre da solo. \
                        Torna alla pagina del modulo, o alla pagina iniziale.",
    forbidden_text: "Non hai i permessi per questa azione.",
    csrf_text: "Il modulo è scaduto o non è stato inviato da questo sito. Ricarica la pagina e riprova.",
    auditor_text: "Chi fa la revisione consulta e non modifica nulla.",
    signup_sent_heading: "Controlla la tua e-mail",
    signup_sent_text: "Ti abbiamo scritto all'indirizzo che hai dato: apri il link del messaggio entro 48 ore per confermarlo, poi accedi. Se non arriva nulla, guarda nella posta indesiderata o registrati di nuovo.",
    verify_heading: "Conferma il tuo indirizzo",
    verify_text: "Scrivi la password che hai scelto registrandoti e premi il pulsante: l'indirizzo è confermato e l'account attivo.",
    verify_button: "Confermo il mio indirizzo",
    verified_heading: "Indirizzo confermato",
    verified_text: "Il tuo account è attivo: ora puoi accedere.",
    verify_failed_text: "Il link non è valido o è scaduto (vale 48 ore), oppure la password non è quella scelta registrandoti. Registrati di nuovo con lo stesso indirizzo per ricevere un nuovo link.",
    unverified_text: "Prima conferma il tuo indirizzo: apri il link che ti abbiamo mandato per e-mail.",
    back_home: "Torna alla pagina iniziale",
    days: DAYS_IT,
    status_names: ["attivo", "non attivo", "cessato", "temporaneamente chiuso"],
    language_switch: "Language",
    footer: "Trama: piattaforma aperta per territori contributivi. Dati del servizio nel formato Open Referral HSDS 3.0.",
};

pub static EN: Msg = Msg {
    tagline: "Services, help and resources near you",
    skip_to_content: "Skip to content",
    nav_search: "Find services",
    nav_login: "Log in",
    nav_signup: "Register",
    nav_logout: "Log out",
    search_heading: "Find a service",
    search_label: "What are you looking for",
    search_placeholder: "e.g. home care, canteen, after-school",
    search_button: "Search",
    near_label: "Near",
    address_label: "Or an address or a neighbourhood",
    address_hint: "e.g. Via Torino 43, Giambellino",
    my_position: "Use my position",
    my_position_name: "your position",
    position_denied: "The browser gave no position: choose a place or type an address.",
    address_unknown: "is not among the territory's addresses and neighbourhoods: try the street and number, or the neighbourhood's name",
    near_anywhere: "Anywhere",
    radius_label: "Within",
    category_label: "Category",
    category_any: "All categories",
    open_now_label: "Open now only",
    funder_label: "Funder accepted",
    funder_hint: "e.g. Comune di Milano, Welfare aziendale",
    categories_heading: "Categories",
    results_heading: "Results",
    results_count: "services found",
    results_count_one: "service found",
    no_results: "No service matches. Try a larger distance or fewer filters.",
    list_heading: "List",
    map_heading: "Map",
    map_note: "The map shows the places of the services on this page; the list holds the same information.",
    open_now: "Open now",
    closed_now: "Closed now",
    at_a_hub: "At a community hub",
    km_away: "km",
    previous: "Previous",
    next: "Next",
    page: "Page",
    of: "of",
    provided_by: "Provided by",
    status: "Status",
    hours: "Opening hours",
    no_hours: "No opening hours given: contact the service.",
    where_: "Where",
    contacts: "Contacts",
    costs: "Costs",
    free: "Free",
    funded_by: "Funded by",
    languages: "Languages",
    documents: "Required documents",
    eligibility: "Who it is for",
    how_to_apply: "How to apply",
    categories: "Categories",
    edit: "Edit",
    services: "Services",
    places: "Places",
    email: "E-mail",
    password: "Password",
    display_name: "Full name",
    login_heading: "Log in",
    login_button: "Log in",
    signup_heading: "Create an account",
    signup_button: "Register",
    password_hint: "At least 10 characters, not one of the most common passwords.",
    no_account: "No account yet?",
    manage_heading: "Your organisation's services",
    manage_intro: "Update the services your organisation offers here. Changes are visible to everyone at once.",
    manage_none: "Your account does not administer any organisation.",
    new_service: "New service",
    edit_heading: "Edit service",
    new_heading: "New service",
    field_name: "Service name",
    field_description: "Description",
    field_status: "Status",
    field_category: "Category",
    field_funder: "Funder",
    field_phone: "Phone",
    field_email: "Service e-mail",
    field_place: "Place",
    field_days: "Opening days",
    field_opens: "Opens at",
    field_closes: "Closes at",
    save: "Save",
    delete: "Delete the service",
    saved: "Service saved.",
    deleted: "Service deleted.",
    error_heading: "Please correct these fields",
    refused_heading: "Not possible",
    not_found_heading: "Page not found",
    not_found_text: "The page you are looking for does not exist or has moved.",
    wrong_method_heading: "This page does not open this way",
    wrong_method_text: "This address receives a form's data and does not open on its own. \
                        Go back to the form's page, or to the home page.",
    forbidden_text: "You are not allowed to do this.",
    csrf_text: "The form has expired or was not sent from this site. Reload the page and try again.",
    auditor_text: "An auditor reads and changes nothing.",
    signup_sent_heading: "Check your e-mail",
    signup_sent_text: "We wrote to the address you gave: open the link in the message within 48 hours to confirm it, then sign in. If nothing arrives, look in your spam folder or sign up again.",
    verify_heading: "Confirm your address",
    verify_text: "Type the password you chose when signing up and press the button: your address is confirmed and your account active.",
    verify_button: "I confirm my address",
    verified_heading: "Address confirmed",
    verified_text: "Your account is active: you can sign in now.",
    verify_failed_text: "The link is not valid or has expired (it lasts 48 hours), or the password is not the one you chose when signing up. Sign up again with the same address to get a new link.",
    unverified_text: "Confirm your address first: open the link we sent you by e-mail.",
    back_home: "Back to the home page",
    days: DAYS_EN,
    status_names: ["active", "inactive", "defunct", "temporarily closed"],
    language_switch: "Lingua",
    footer: "Trama: an open platform for contributory territories. Service data in the Open Referral HSDS 3.0 format.",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language() {
        assert_eq!(
            Lang::from_accept_language("en-GB,en;q=0.9,it;q=0.8"),
            Lang::En
        );
        assert_eq!(
            Lang::from_accept_language("fr-FR,it;q=0.5,en;q=0.4"),
            Lang::It
        );
        assert_eq!(Lang::from_accept_language("de"), Lang::It);
        assert_eq!(Lang::from_accept_language(""), Lang::It);
    }

    #[test]
    fn a_moment_reads_in_the_territorys_time_and_words() {
        let rome = trama_core::schedule::TimeZone::EuropeRome;
        // 08:30 UTC in December is 09:30 in Milan; in July, 10:30.
        assert_eq!(
            moment(Lang::It, &rome, "2026-12-08T08:30:00Z"),
            "martedì 8 dicembre 2026, 09:30"
        );
        assert_eq!(
            moment(Lang::En, &rome, "2026-07-08T08:30:00Z"),
            "Wednesday 8 July 2026, 10:30"
        );
        assert_eq!(moment(Lang::It, &rome, "domani"), "domani");
    }
}
