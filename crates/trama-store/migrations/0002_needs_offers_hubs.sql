-- Needs, offers, matches, community hubs, assisted people, campaigns, notifications and
-- contribution events. Same portable rules as 0001: TEXT, BIGINT, DOUBLE PRECISION; times in
-- microseconds UTC; lists as JSON text; booleans 0/1.

-- Actions taken for someone else (assisted mode) name that person.
ALTER TABLE audit_log ADD COLUMN on_behalf_of TEXT;
CREATE INDEX audit_log_on_behalf_of ON audit_log (on_behalf_of, at);

-- Community hubs: what a location marked is_hub offers besides its HSDS record.
CREATE TABLE hubs (
    location_id TEXT PRIMARY KEY REFERENCES locations (id) ON DELETE CASCADE,
    organization_id TEXT NOT NULL,
    -- JSON list: cultural_centre, library, bar, coworking, parish, social_centre.
    functions TEXT NOT NULL,
    capacity BIGINT NOT NULL,
    -- JSON list of {day, from, to}.
    opening_hours TEXT NOT NULL,
    -- When and how the help desk works, in words.
    help_desk TEXT NOT NULL,
    modified_at BIGINT NOT NULL
);
CREATE INDEX hubs_organization ON hubs (organization_id);

CREATE TABLE hub_rooms (
    id TEXT PRIMARY KEY,
    location_id TEXT NOT NULL REFERENCES hubs (location_id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    capacity BIGINT NOT NULL,
    -- Rooms are booked in slots of this many minutes, within the hub's opening hours.
    slot_minutes BIGINT NOT NULL
);
CREATE INDEX hub_rooms_location ON hub_rooms (location_id);

-- One row per booked slot: the primary key makes double booking impossible on both databases.
CREATE TABLE room_bookings (
    room_id TEXT NOT NULL REFERENCES hub_rooms (id) ON DELETE CASCADE,
    slot_start BIGINT NOT NULL,
    slot_end BIGINT NOT NULL,
    booked_by TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (room_id, slot_start)
);

-- People registered by an operator (no e-mail or phone of their own), with their consent.
CREATE TABLE assisted_people (
    user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    registered_by TEXT NOT NULL REFERENCES users (id),
    -- The organisation whose operators act for the person.
    organization_id TEXT NOT NULL,
    -- Where the signed consent is filed (protocol number, folder).
    consent_reference TEXT NOT NULL,
    -- A landline to call, if any (private).
    phone TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX assisted_people_organization ON assisted_people (organization_id);

CREATE TABLE campaigns (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    -- heatwave, flu_season, other
    kind TEXT NOT NULL,
    description TEXT NOT NULL,
    -- The categories of its minimal intake form (JSON list of term ids).
    categories TEXT NOT NULL,
    state TEXT NOT NULL,
    created_by TEXT NOT NULL,
    starts_at BIGINT NOT NULL,
    ends_at BIGINT,
    created_at BIGINT NOT NULL
);

CREATE TABLE needs (
    id TEXT PRIMARY KEY,
    requester_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- Who typed it: the person, or an operator for them.
    entered_by TEXT NOT NULL,
    -- The organisation whose operators follow it (the hub's, or the Municipio's).
    organization_id TEXT,
    category_id TEXT NOT NULL,
    description TEXT NOT NULL,
    -- Private: the exact address and point.
    address TEXT NOT NULL,
    latitude DOUBLE PRECISION NOT NULL,
    longitude DOUBLE PRECISION NOT NULL,
    -- Public: the neighbourhood or coarse cell.
    area_kind TEXT NOT NULL,
    area_code TEXT NOT NULL,
    area_name TEXT NOT NULL,
    municipio TEXT,
    -- JSON list of {start, end} minutes of the week.
    windows TEXT NOT NULL,
    recurring BIGINT NOT NULL,
    -- Day of a one-off need / last day of a recurring one, as days since 1970.
    on_day BIGINT,
    until_day BIGINT,
    duration_minutes BIGINT NOT NULL,
    urgency TEXT NOT NULL,
    languages TEXT NOT NULL,
    skills TEXT NOT NULL,
    people BIGINT NOT NULL,
    -- Live matches holding a place; a volunteer takes a place with
    -- UPDATE ... SET covered = covered + 1 WHERE covered < people, so two cannot take the last one.
    covered BIGINT NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    campaign_id TEXT REFERENCES campaigns (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    modified_at BIGINT NOT NULL
);
CREATE INDEX needs_state ON needs (state, category_id);
CREATE INDEX needs_requester ON needs (requester_id);
CREATE INDEX needs_organization ON needs (organization_id, state);
CREATE INDEX needs_campaign ON needs (campaign_id, state);
CREATE INDEX needs_area ON needs (area_code, state);

CREATE TABLE offers (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    organization_id TEXT,
    -- JSON list of term ids.
    categories TEXT NOT NULL,
    description TEXT NOT NULL,
    -- Private: the home point.
    latitude DOUBLE PRECISION NOT NULL,
    longitude DOUBLE PRECISION NOT NULL,
    area_code TEXT NOT NULL,
    area_name TEXT NOT NULL,
    radius_km DOUBLE PRECISION NOT NULL,
    availability TEXT NOT NULL,
    hours_per_week DOUBLE PRECISION NOT NULL,
    capacity BIGINT NOT NULL,
    -- Live matches; taken like needs.covered.
    active BIGINT NOT NULL DEFAULT 0,
    languages TEXT NOT NULL,
    skills TEXT NOT NULL,
    -- active, paused, withdrawn
    state TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    modified_at BIGINT NOT NULL
);
CREATE INDEX offers_owner ON offers (owner_id);
CREATE INDEX offers_state ON offers (state);

-- One row per offer category, so "offers of category X" is an index lookup.
CREATE TABLE offer_categories (
    offer_id TEXT NOT NULL REFERENCES offers (id) ON DELETE CASCADE,
    category_id TEXT NOT NULL,
    PRIMARY KEY (category_id, offer_id)
);

CREATE TABLE matches (
    id TEXT PRIMARY KEY,
    need_id TEXT NOT NULL REFERENCES needs (id) ON DELETE CASCADE,
    offer_id TEXT NOT NULL REFERENCES offers (id) ON DELETE CASCADE,
    volunteer_id TEXT NOT NULL,
    state TEXT NOT NULL,
    -- 1 while the match holds a place in its need and offer.
    live BIGINT NOT NULL,
    -- 'need_id/offer_id' while live, NULL once ended: at most one live match per pair.
    live_pair TEXT UNIQUE,
    score BIGINT NOT NULL,
    distance_km DOUBLE PRECISION NOT NULL,
    -- engine, batch, volunteer, requester
    origin TEXT NOT NULL,
    next_at BIGINT,
    occurrences BIGINT NOT NULL DEFAULT 0,
    minutes_confirmed BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    modified_at BIGINT NOT NULL
);
CREATE INDEX matches_need ON matches (need_id, live);
CREATE INDEX matches_offer ON matches (offer_id, live);
CREATE INDEX matches_volunteer ON matches (volunteer_id, state);

-- Every change of a match, who made it, and for whom (assisted mode).
CREATE TABLE match_events (
    id TEXT PRIMARY KEY,
    match_id TEXT NOT NULL REFERENCES matches (id) ON DELETE CASCADE,
    at BIGINT NOT NULL,
    actor_id TEXT,
    on_behalf_of TEXT,
    event TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    note TEXT
);
CREATE INDEX match_events_match ON match_events (match_id, at);

-- ValueFlows events of confirmed help, waiting for the register (appended_at set when it has
-- taken them).
CREATE TABLE contribution_events (
    id TEXT PRIMARY KEY,
    match_id TEXT NOT NULL,
    action TEXT NOT NULL,
    provider_id TEXT NOT NULL,
    receiver_id TEXT NOT NULL,
    category_id TEXT NOT NULL,
    effort_minutes BIGINT,
    at BIGINT NOT NULL,
    -- The event as ValueFlows JSON-LD.
    doc TEXT NOT NULL,
    appended_at BIGINT
);
CREATE INDEX contribution_events_provider ON contribution_events (provider_id, at);
CREATE INDEX contribution_events_pending ON contribution_events (appended_at);

CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    -- What it is about (need, offer, match) and its id, for the link.
    subject_type TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    text_it TEXT NOT NULL,
    text_en TEXT NOT NULL,
    read_at BIGINT,
    -- NULL: not to be mailed or not mailed yet; see email_state.
    emailed_at BIGINT,
    -- none (no address or mail off), pending, sent, failed
    email_state TEXT NOT NULL
);
CREATE INDEX notifications_user ON notifications (user_id, at);
CREATE INDEX notifications_email ON notifications (email_state, at);
