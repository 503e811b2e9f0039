//! What went wrong, in the reader's language. The rules speak English (`FieldError`: a field
//! and a reason, the API's envelope); a page says it in Italian: the field by its label and the
//! reason in words. A reason this table does not know is shown as the rules wrote it, never
//! lost.

use trama_core::FieldError;

use crate::error::ApiError;
use crate::web::i18n::Lang;

/// A wait in words: "1 secondo", "40 secondi", "1 minuto", "59 minuti", "2 ore".
fn wait_words(secs: u64) -> String {
    let (n, one, many) = match secs {
        0..60 => (secs.max(1), "secondo", "secondi"),
        60..3600 => (secs.div_ceil(60), "minuto", "minuti"),
        _ => (secs.div_ceil(3600), "ora", "ore"),
    };
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The label of a field as the forms show it (`windows[0].from` → "Dalle").
pub fn field_label(lang: Lang, field: &str) -> String {
    // The last part of a path names the field (`services[2].name` → `name`).
    let last = field.rsplit('.').next().unwrap_or(field);
    let last = last.split('[').next().unwrap_or(last);
    if let Some((day, span, closes)) = trama_core::hsds::form::parse_span_field(last) {
        return span_label(lang, day, span, closes);
    }
    let (it, en) = match last {
        "name" => ("Nome", "Name"),
        "display_name" => ("Nome", "Name"),
        "email" => ("Email", "E-mail"),
        "password" => ("Password", "Password"),
        "description" => ("Descrizione", "Description"),
        "address" => ("Indirizzo", "Address"),
        "category" | "categories" => ("Categoria", "Category"),
        "date" => ("Data", "Date"),
        "until" => ("Fino al", "Until"),
        "start" => ("Inizio", "Start"),
        "from" => ("Dalle", "From"),
        "to" => ("Alle", "To"),
        "day" => ("Giorno", "Day"),
        "windows" | "availability" => ("Orari", "Times"),
        "duration" | "duration_minutes" => ("Durata", "Duration"),
        "people" => ("Persone", "People"),
        "capacity" => ("Posti", "Places"),
        "radius" | "radius_km" => ("Distanza", "Distance"),
        "hours" | "hours_per_week" => ("Ore alla settimana", "Hours a week"),
        "phone" => ("Telefono", "Phone"),
        "opens" | "opens_at" => ("Apertura", "Opening"),
        "closes" | "closes_at" => ("Chiusura", "Closing"),
        "location" | "location_id" => ("Luogo", "Place"),
        "hourly_rate" => ("Tariffa oraria", "Hourly rate"),
        "extra_percent" => ("Maggiorazione", "Surcharge"),
        "organization" | "organization_id" => ("Organizzazione", "Organisation"),
        "amount" => ("Importo", "Amount"),
        "month" => ("Mese", "Month"),
        "purpose" => ("Motivo", "Purpose"),
        "consent_reference" => ("Protocollo del consenso", "Consent reference"),
        "token" => ("Collegamento", "Link"),
        "event" => ("Azione", "Action"),
        "status" => ("Stato", "Status"),
        "language" | "languages" => ("Lingua", "Language"),
        "skill" | "skills" => ("Capacità", "Skills"),
        "urgency" => ("Urgenza", "Urgency"),
        "area" => ("Zona", "Area"),
        "lat" | "latitude" => ("Latitudine", "Latitude"),
        "lon" | "longitude" => ("Longitudine", "Longitude"),
        "page" => ("Pagina", "Page"),
        "per_page" => ("Risultati per pagina", "Results per page"),
        "taxonomy_term_id" | "taxonomy_id" => ("Categoria", "Category"),
        "funder" | "funder_id" => ("Finanziatore", "Funder"),
        "search" | "q" => ("Cosa cerchi", "What you are looking for"),
        "id" => ("Identificativo", "Identifier"),
        "place" => ("Vicino a", "Near"),
        "days" => ("Giorni", "Days"),
        "azione" => ("Azione", "Action"),
        "current_password" => ("Password attuale", "Current password"),
        "state" => ("Stato", "State"),
        "goals" => ("Obiettivi", "Goals"),
        "items" => ("Servizi", "Services"),
        "unit_cost" => ("Costo unitario", "Unit cost"),
        "per_month" => ("Volte al mese", "Times a month"),
        "review_on" => ("Da rivedere il", "Review on"),
        "signed_on" => ("Firmato il", "Signed on"),
        "reference" => ("Protocollo", "Reference"),
        "parties" => ("Chi ha firmato", "Who signed"),
        "locale" => ("Lingua", "Language"),
        "decision_reference" => ("Decisione", "Decision"),
        "expires" => ("Ultimo mese", "Last month"),
        "area_code" => ("Municipio", "Municipio"),
        "programme_id" => ("Programma", "Programme"),
        "kind" => ("Tipo", "Kind"),
        "starts_on" => ("Primo giorno", "First day"),
        "ends_on" => ("Ultimo giorno", "Last day"),
        "areas" => ("Municipi", "Districts"),
        "campaign_id" | "campagna" => ("Campagna", "Campaign"),
        "functions" => ("Che luogo è", "What kind of place"),
        "opening_hours" => ("Orari di apertura", "Opening hours"),
        "slot_minutes" => ("Turni", "Slots"),
        "help_desk" => ("Sportello", "Help desk"),
        "valid_from" => ("Primo mese", "First month"),
        "valid_to" => ("Ultimo mese", "Last month"),
        "monthly_cap" => ("Massimo al mese", "Most a month"),
        "amount_per_beneficiary" => ("Assegnato a una persona", "Granted to one person"),
        "isee_max" => ("ISEE fino a", "ISEE up to"),
        "copay" => ("La persona paga", "The person pays"),
        "copay_bands" | "bands" => ("Compartecipazione", "Co-payment"),
        "fees_description" => ("Costi in parole", "Costs in words"),
        "cost_amount" => ("Prezzo", "Price"),
        "cost_option" => ("Per che cosa", "For what"),
        "eligibility" | "eligibility_description" => ("A chi si rivolge", "Who can use it"),
        "minimum_age" => ("Età minima", "Minimum age"),
        "maximum_age" => ("Età massima", "Maximum age"),
        "application_process" => ("Come si accede", "How to apply"),
        _ => return field.to_string(),
    };
    if lang == Lang::En { en } else { it }.to_string()
}

/// A span of a service's opening hours, by its day and place: "Lunedì, apertura (2ª fascia)".
fn span_label(lang: Lang, day: usize, span: usize, closes: bool) -> String {
    let d = lang.msg().days[day];
    match (lang, closes) {
        (Lang::It, false) => format!("{d}, apertura ({}ª fascia)", span + 1),
        (Lang::It, true) => format!("{d}, chiusura ({}ª fascia)", span + 1),
        (Lang::En, false) => format!("{d}, opening (span {})", span + 1),
        (Lang::En, true) => format!("{d}, closing (span {})", span + 1),
    }
}

/// The reason in the reader's language (English as written).
pub fn reason(lang: Lang, reason: &str) -> String {
    if lang == Lang::En {
        return reason.to_string();
    }
    let exact = match reason {
        "must not be empty" => Some("non può essere vuoto"),
        "is required" => Some("è obbligatorio"),
        "is not your current password" => Some("non è la tua password attuale"),
        "cancel its live matches first" => Some("prima annulla l'aiuto in corso"),
        "an amount in euros, such as 120,50" => Some("un importo in euro, come 120,50"),
        "an amount in euros with at most two decimals, such as 120,50" => {
            Some("un importo in euro con al massimo due decimali, come 120,50")
        }
        "must be above 0" => Some("deve essere maggiore di zero"),
        "the period starts after it ends" => Some("il periodo comincia dopo la sua fine"),
        "choose at least one kind of service the programme pays for" => {
            Some("scegli almeno un tipo di servizio che il programma paga")
        }
        "choose at least one kind of help" => Some("scegli almeno un tipo di aiuto"),
        "choose a kind of service" => Some("scegli un tipo di servizio"),
        "a plan needs at least one goal, none empty" => Some("un piano ha almeno un obiettivo"),
        "a plan has 1 to 50 services" => Some("un piano ha da 1 a 50 servizi"),
        "is unknown, used or expired (a link lasts 2 hours; ask for a new one)" => {
            Some("è sconosciuto, già usato o scaduto (un link vale 2 ore: chiedine uno nuovo)")
        }
        "must be one line of plain text (no line breaks or control characters)" => {
            Some("deve stare su una riga di testo semplice (senza a capo né caratteri speciali)")
        }
        "is missing" => Some("manca"),
        "must not be before the first day" => Some("non può venire prima del primo giorno"),
        "is not a district code" => Some("non è un municipio"),
        "the campaign has not started yet" => Some("la campagna non è ancora cominciata"),
        "the campaign is over" => Some("la campagna è finita"),
        "the campaign is closed" => Some("la campagna è chiusa"),
        "the campaign is already closed" => Some("la campagna è già chiusa"),
        "must be heatwave, flu_season or other" => Some("scegli un tipo tra quelli elencati"),
        "no such campaign" => Some("questa campagna non esiste"),
        "choose the neighbourhood" => Some("scegli il quartiere"),
        "is not among the kinds of help the campaign gathers" => {
            Some("non è tra gli aiuti che la campagna raccoglie")
        }
        "is outside the districts the campaign covers" => {
            Some("è fuori dai municipi che la campagna copre")
        }
        "must be within a year of today" => Some("deve cadere entro un anno da oggi"),
        "a campaign lasts at most a year" => Some("una campagna dura al massimo un anno"),
        "is in the past" => Some("è già passato"),
        "is outside the territory" => Some("è fuori dal territorio"),
        "is already registered" => Some("è già registrata: accedi, o recupera la password"),
        "is not an e-mail address" => Some("non è un indirizzo e-mail"),
        "contains control characters" => Some("contiene caratteri non ammessi"),
        "must be more than zero" | "must be more than zero (cents)" => {
            Some("deve essere maggiore di zero")
        }
        "is not a number" => Some("non è un numero"),
        "is not a phone number" => Some("non è un numero di telefono"),
        "choose a category" | "a category is required" => Some("scegli una categoria"),
        "choose a place" => Some("scegli un luogo"),
        "choose an organisation" => Some("scegli un'organizzazione"),
        "a one-off need needs a date" => Some("una richiesta non ripetuta ha bisogno di una data"),
        "a weekly need needs at least one time window" => {
            Some("una richiesta settimanale ha bisogno di almeno un orario")
        }
        "a hub has at least one function" => Some("un hub ha almeno una funzione"),
        "the window is empty" => Some("l'orario è vuoto"),
        "is missing or is not a link's token" => {
            Some("manca, o non è il collegamento che ti abbiamo mandato")
        }
        "is one of the passwords everybody tries first; choose another (a few words of your own make a good one)" => {
            Some(
                "è una delle password che tutti provano per prime: scegline un'altra (qualche parola tua va bene)",
            )
        }
        _ => None,
    };
    if let Some(it) = exact {
        return it.to_string();
    }
    // "location 0190… does not exist": what was named is not there.
    if reason.ends_with(" does not exist") {
        return "non esiste (o non è più disponibile): scegli tra quelli elencati".to_string();
    }
    // Reasons with a value in them.
    let patterns: [(&str, &str, &str); 13] = [
        (
            "one person may hold at most ",
            " offers: withdraw one first",
            "una persona può avere al massimo {} offerte: ritirane prima una",
        ),
        (
            "one person may have at most ",
            " requests open at once",
            "una persona può avere al massimo {} richieste aperte insieme",
        ),
        (
            "must come after the first span closes ",
            "",
            "deve venire dopo la chiusura della prima fascia {}",
        ),
        (
            "must not be below the minimum age ",
            "",
            "non può essere sotto l'età minima {}",
        ),
        (
            "is longer than ",
            " characters",
            "è più lungo di {} caratteri",
        ),
        (
            "must be at least ",
            " characters",
            "deve avere almeno {} caratteri",
        ),
        (
            "must be at most ",
            " characters",
            "può avere al massimo {} caratteri",
        ),
        (
            "must be 1 to ",
            " characters",
            "deve avere da 1 a {} caratteri",
        ),
        ("must be between ", "", "deve essere tra {}"),
        ("is not a date like ", "", "non è una data (come {})"),
        ("is not a time like ", "", "non è un orario (come {})"),
        (
            "cannot confirm as done",
            "",
            "si può confermare solo dopo l'appuntamento",
        ),
        ("closing time ", "", "l'orario di chiusura {}"),
    ];
    for (head, tail, it) in patterns {
        if let Some(rest) = reason.strip_prefix(head)
            && let Some(value) = rest.strip_suffix(tail)
        {
            let value = match head {
                "must be between " => value.replacen(" and ", " e ", 1),
                "closing time " => value.replacen(
                    " must come after opening time ",
                    " deve venire dopo quello di apertura ",
                    1,
                ),
                "cannot confirm as done" => return it.to_string(),
                _ => value.to_string(),
            };
            return it.replacen("{}", &value, 1);
        }
    }
    // A value quoted, then what it is not: "'abc' is not a number".
    if let Some(rest) = reason.strip_prefix('\'')
        && let Some((value, what)) = rest.split_once("' is not ")
    {
        let it = match what {
            "an e-mail address" => Some("un indirizzo e-mail".to_string()),
            "a number" => Some("un numero".to_string()),
            "a whole number" => Some("un numero intero".to_string()),
            "a UUID" => Some("un identificativo valido".to_string()),
            "a day (MO..SU)" => Some("un giorno della settimana".to_string()),
            "a code of the nomenclature" => Some("un codice del nomenclatore".to_string()),
            "a day of the week (mon…sun)" => Some("un giorno della settimana".to_string()),
            "a language Trama knows" => Some("una lingua che Trama conosce".to_string()),
            w if w.starts_with("a kind of help") => {
                Some("un tipo di aiuto tra quelli elencati".to_string())
            }
            w if w.starts_with("a kind of funder") => {
                Some("un tipo di ente tra quelli elencati".to_string())
            }
            w if w.starts_with("a time of day like ") => Some(format!(
                "un orario (come {})",
                w.trim_start_matches("a time of day like ")
            )),
            w if w.starts_with("a date and time like ") => Some(format!(
                "una data e un'ora (come {})",
                w.trim_start_matches("a date and time like ")
            )),
            w if w.starts_with("a date like ") => Some(format!(
                "una data (come {})",
                w.trim_start_matches("a date like ")
            )),
            w if w.starts_with("one of: ") => Some(format!(
                "tra i valori ammessi ({})",
                w.trim_start_matches("one of: ")
            )),
            _ => None,
        };
        if let Some(it) = it {
            return format!("«{value}» non è {it}");
        }
    }
    // A closed list the form itself offers: only a form altered by hand sends anything else.
    if reason.starts_with("the programme gives one person at most ") {
        return "supera quanto il programma dà a una persona (vedi quanto resta, accanto al programma)".into();
    }
    if let Some(months) = reason.strip_prefix("must be within the programme's validity, ") {
        return format!(
            "deve cadere nei mesi del programma ({})",
            months.replacen(" to ", " – ", 1)
        );
    }
    if let Some(n) = reason
        .strip_prefix("more seats than the hub holds (")
        .and_then(|r| r.strip_suffix(')'))
    {
        return format!("più posti di quanti l'hub ne accolga ({n})");
    }
    if let Some(code) = reason
        .strip_prefix("no kind of help '")
        .and_then(|r| r.strip_suffix('\''))
    {
        return format!("«{code}» non è un tipo di aiuto");
    }
    if reason.starts_with("no Municipio with code ") {
        return "non è un Municipio del territorio".into();
    }
    if reason == "bands must be in increasing order of ISEE" {
        return "le fasce vanno in ordine di ISEE crescente".into();
    }
    if reason == "only the last band may have no maximum" {
        return "solo l'ultima fascia può non avere un ISEE massimo".into();
    }
    // A change the state of a match or a need does not allow ("cannot reopen a match that
    // is matched"): said plainly, with the state in words.
    if let Some(rest) = reason.strip_prefix("cannot ")
        && let Some((_, state)) = rest.split_once(" a match that is ")
    {
        let now = match state {
            "open" => "è aperta",
            "matched" => "ha già trovato aiuto",
            "fulfilled" => "è già completata",
            "cancelled" => "è annullata",
            "expired" => "è scaduta",
            "confirmed" => "è già confermato",
            "declined" => "è stato rifiutato",
            _ => "è in uno stato che non lo consente",
        };
        return format!("non si può fare ora: {now}");
    }
    if let Some(rest) = reason.strip_prefix("must be after from (")
        && let Some((to, rest)) = rest.split_once(" is not after ")
        && let Some((from, _)) = rest.split_once(')')
    {
        return format!(
            "deve venire dopo l'inizio ({to} non viene dopo {from}); un orario oltre la mezzanotte sono due righe, fino alle 24:00 e dalle 00:00 del giorno dopo"
        );
    }
    if reason == "no such category" {
        return "questa categoria non esiste".into();
    }
    if let Some(n) = reason
        .strip_prefix("at most ")
        .and_then(|r| r.strip_suffix(" time windows"))
    {
        return format!("al massimo {n} orari");
    }
    if let Some(rest) = reason.strip_prefix('\'')
        && let Some((value, what)) = rest.split_once("' is not a known ")
    {
        let what = what.split(" (").next().unwrap_or(what);
        let it = match what {
            "language" => "una lingua tra quelle elencate",
            "skill" => "una capacità tra quelle elencate",
            _ => "tra i valori ammessi",
        };
        return format!("«{value}» non è {it}");
    }
    if reason == "suggestions are for open needs" {
        return "i volontari si suggeriscono solo per le richieste aperte".into();
    }
    if reason.starts_with("a need that is ") {
        return "la richiesta, nel suo stato attuale, non si può modificare".into();
    }
    if reason == "the need is no longer open, or someone took it meanwhile" {
        return "la richiesta non è più aperta, o qualcuno l'ha appena presa".into();
    }
    if reason == "the offer was withdrawn, or more people count on it than its places" {
        return "l'offerta è stata ritirata, o ci contano più persone dei suoi posti".into();
    }
    if reason.starts_with("an offer that is ") {
        return "l'offerta, nel suo stato attuale, non lo consente".into();
    }
    if let Some((n, _)) = reason.split_once(" people are counting on this offer: at least ") {
        return format!("{n} persone contano su questa offerta: servono almeno {n} posti");
    }
    if let Some(n) =
        reason.strip_suffix(" people are counting on this offer: confirm or cancel that help first")
    {
        return format!(
            "{n} persone contano su questa offerta: prima conferma o annulla quell'aiuto"
        );
    }
    if let Some(rest) = reason.strip_prefix('\'')
        && let Some(value) = rest.strip_suffix("' is not it or en")
    {
        return format!("«{value}» non è una lingua del sito (it, en)");
    }
    if reason.starts_with("one of ") {
        return "non è tra le scelte che il modulo offre: ricarica la pagina e riprova".into();
    }
    if reason == "is not one of the places listed" {
        return "non è tra i luoghi dell'elenco".into();
    }
    if reason == "needs lat and lon" {
        return "servono sia la latitudine sia la longitudine".into();
    }
    if reason.contains(" is outside [") {
        return "è fuori dall'intervallo ammesso".into();
    }
    if reason.contains("must be a number of kilometres above 0 and at most ") {
        let max = reason.rsplit(' ').next().unwrap_or("100");
        return format!("deve essere un numero di chilometri oltre 0 e fino a {max}");
    }
    if let Some(rest) = reason.strip_prefix("page ")
        && let Some((n, last)) = rest.split_once(" is past the last page (")
    {
        return format!(
            "la pagina {n} non c'è: le pagine sono {}",
            last.trim_end_matches(')')
        );
    }
    if reason.contains("is out of range: pages count from 1 to ") {
        return "le pagine si contano da 1".into();
    }
    reason.to_string()
}

/// A field error as one line: "Email: è già registrata…".
pub fn field_error(lang: Lang, e: &FieldError) -> String {
    // What was typed comes back in the message: never its invisible control characters.
    format!(
        "{}: {}",
        field_label(lang, &e.field),
        reason(lang, &e.reason)
    )
    .chars()
    .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
    .collect()
}

/// Any error of a request as a page says it.
pub fn api_error(lang: Lang, e: &ApiError) -> String {
    if let Some(f) = field_of(e) {
        return field_error(lang, f);
    }
    if lang == Lang::En {
        return e.to_string();
    }
    match e {
        ApiError::Unauthenticated => "Accedi prima di continuare.".into(),
        ApiError::BadCredentials => "Email o password non corretti.".into(),
        ApiError::Unverified => {
            "Conferma prima il tuo indirizzo email: segui il collegamento che ti abbiamo mandato."
                .into()
        }
        ApiError::Forbidden(_) => "Non hai il permesso di farlo.".into(),
        ApiError::CsrfFailed => {
            "Il modulo è scaduto o non è stato inviato da questa pagina: ricaricala e riprova."
                .into()
        }
        ApiError::NotFound(_) => "Quello che cerchi non c'è (o non puoi vederlo).".into(),
        ApiError::RateLimited(s) => format!("Troppi tentativi: riprova tra {}.", wait_words(*s)),
        ApiError::PayloadTooLarge | ApiError::UriTooLong => {
            "Quello che hai inviato è troppo lungo.".into()
        }
        ApiError::MethodNotAllowed => "Questa pagina non si apre così.".into(),
        ApiError::UnsupportedMediaType(_) | ApiError::MalformedJson(_) => {
            "Il modulo non è arrivato come la pagina lo invia: ricaricala e riprova.".into()
        }
        ApiError::Unavailable => {
            "Il servizio non è raggiungibile in questo momento: riprova tra poco.".into()
        }
        ApiError::Internal => "Qualcosa non ha funzionato da parte nostra: riprova.".into(),
        other => other.to_string(),
    }
}

fn field_of(e: &ApiError) -> Option<&FieldError> {
    match e {
        ApiError::InvalidParameter(f)
        | ApiError::InvalidBody(f)
        | ApiError::Conflict(f)
        | ApiError::InvalidReference(f) => Some(f),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_change_of_state_reads_in_italian() {
        assert_eq!(
            reason(Lang::It, "cannot reopen a match that is matched"),
            "non si può fare ora: ha già trovato aiuto"
        );
        assert_eq!(
            reason(Lang::It, "an offer that is withdrawn cannot resume"),
            "l'offerta, nel suo stato attuale, non lo consente"
        );
        assert_eq!(
            reason(Lang::En, "cannot reopen a match that is matched"),
            "cannot reopen a match that is matched"
        );
    }

    #[test]
    fn a_wait_is_said_in_the_unit_people_use() {
        assert_eq!(wait_words(1), "1 secondo");
        assert_eq!(wait_words(40), "40 secondi");
        assert_eq!(wait_words(61), "2 minuti");
        assert_eq!(wait_words(3536), "59 minuti");
        assert_eq!(wait_words(3600), "1 ora");
        assert_eq!(wait_words(7300), "3 ore");
    }

    #[test]
    fn field_errors_read_in_italian() {
        let it = |f: &str, r: &str| field_error(Lang::It, &FieldError::new(f, r));
        assert_eq!(
            it("name", "must not be empty"),
            "Nome: non può essere vuoto"
        );
        assert_eq!(
            it("email", "is already registered"),
            "Email: è già registrata: accedi, o recupera la password"
        );
        assert_eq!(it("start", "is in the past"), "Inizio: è già passato");
        assert_eq!(
            it(
                "capacity",
                "2 people are counting on this offer: at least 2 places"
            ),
            "Posti: 2 persone contano su questa offerta: servono almeno 2 posti"
        );
        assert_eq!(
            it("categories[0]", "no kind of help 'H99'"),
            "Categoria: «H99» non è un tipo di aiuto"
        );
        assert_eq!(
            it("id", "'\0' is not a UUID"),
            "Identificativo: «\u{FFFD}» non è un identificativo valido"
        );
        assert_eq!(
            it(
                "availability[0].to",
                "must be after from (08:00 is not after 13:00); a window past midnight is two windows, until 24:00 and from 00:00 the next day"
            ),
            "Alle: deve venire dopo l'inizio (08:00 non viene dopo 13:00); un orario oltre la mezzanotte sono due righe, fino alle 24:00 e dalle 00:00 del giorno dopo"
        );
        assert_eq!(
            it("skills[0]", "'hacking' is not a known skill (driving, diy)"),
            "Capacità: «hacking» non è una capacità tra quelle elencate"
        );
        assert_eq!(
            it("ends_on", "must not be before the first day"),
            "Ultimo giorno: non può venire prima del primo giorno"
        );
        assert_eq!(
            it("areas[1]", "no Municipio with code 42"),
            "Municipi: non è un Municipio del territorio"
        );
        assert_eq!(
            it("windows[0].from", "is not a time like 09:00"),
            "Dalle: non è un orario (come 09:00)"
        );
        assert_eq!(
            it("people", "must be between 1 and 10"),
            "Persone: deve essere tra 1 e 10"
        );
        assert_eq!(
            it("description", "is longer than 2000 characters"),
            "Descrizione: è più lungo di 2000 caratteri"
        );
        assert_eq!(
            it("email", "'x@' is not an e-mail address"),
            "Email: «x@» non è un indirizzo e-mail"
        );
        assert_eq!(
            it(
                "closes",
                "closing time (08:00) must come after opening time (12:00)"
            ),
            "Chiusura: l'orario di chiusura (08:00) deve venire dopo quello di apertura (12:00)"
        );
        assert_eq!(
            it("lat", "'NaN' is not a number"),
            "Latitudine: «NaN» non è un numero"
        );
        assert_eq!(
            it("page", "page 999 is past the last page (21)"),
            "Pagina: la pagina 999 non c'è: le pagine sono 21"
        );
        assert_eq!(
            it("taxonomy_term_id", "'xyz' is not a UUID"),
            "Categoria: «xyz» non è un identificativo valido"
        );
        assert_eq!(
            it("opens", "'25:00' is not a time of day like 09:30"),
            "Apertura: «25:00» non è un orario (come 09:30)"
        );
        assert_eq!(
            it("lat", "latitude 91 is outside [-90, 90]"),
            "Latitudine: è fuori dall'intervallo ammesso"
        );
        // What the table does not know stays as the rules wrote it.
        assert_eq!(it("x_y", "is odd"), "x_y: is odd");
        // English is as written, with the field's label.
        assert_eq!(
            field_error(Lang::En, &FieldError::new("name", "must not be empty")),
            "Name: must not be empty"
        );
    }

    #[test]
    fn other_errors_read_in_italian() {
        assert_eq!(
            api_error(Lang::It, &ApiError::Forbidden("only admins".into())),
            "Non hai il permesso di farlo."
        );
        assert!(api_error(Lang::It, &ApiError::RateLimited(30)).contains("30 secondi"));
    }
}
