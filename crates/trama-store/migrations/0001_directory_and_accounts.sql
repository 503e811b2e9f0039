-- Trama's first schema. Portable SQL: the same file runs on SQLite and PostgreSQL.
-- Column types are limited to TEXT, BIGINT and DOUBLE PRECISION (see docs/ARCHITECTURE.md):
-- ids are UUID text, times are BIGINT microseconds since 1970 UTC, booleans BIGINT 0/1,
-- documents JSON text. No triggers: derived tables are written by trama-store itself.

CREATE TABLE organizations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    -- Trama's kind of organisation (municipal, health_authority, social_cooperative, ...).
    kind TEXT,
    -- The HSDS organization object, without its locations and services (stored apart).
    doc TEXT NOT NULL,
    modified_at BIGINT NOT NULL
);
CREATE INDEX organizations_name ON organizations (name);

CREATE TABLE locations (
    id TEXT PRIMARY KEY,
    organization_id TEXT REFERENCES organizations (id) ON DELETE CASCADE,
    name TEXT,
    -- Only valid WGS84 points; NULL when absent or out of range in the document.
    latitude DOUBLE PRECISION,
    longitude DOUBLE PRECISION,
    -- The grid cell of the point (see service_points.cell).
    cell BIGINT,
    -- A community hub (set by Trama, not part of HSDS).
    is_hub BIGINT NOT NULL DEFAULT 0,
    doc TEXT NOT NULL,
    modified_at BIGINT NOT NULL
);
CREATE INDEX locations_organization ON locations (organization_id);

CREATE TABLE services (
    id TEXT PRIMARY KEY,
    organization_id TEXT REFERENCES organizations (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    -- The HSDS service object without organization and service_at_locations.
    doc TEXT NOT NULL,
    -- The weekly opening intervals read from the schedules (JSON), for "open now".
    weekly_hours TEXT NOT NULL,
    modified_at BIGINT NOT NULL
);
CREATE INDEX services_organization ON services (organization_id);
CREATE INDEX services_modified ON services (modified_at);
CREATE INDEX services_name ON services (name, id);

CREATE TABLE service_at_locations (
    id TEXT PRIMARY KEY,
    service_id TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    location_id TEXT REFERENCES locations (id) ON DELETE CASCADE,
    doc TEXT NOT NULL,
    modified_at BIGINT NOT NULL
);
CREATE INDEX service_at_locations_service ON service_at_locations (service_id);
CREATE INDEX service_at_locations_location ON service_at_locations (location_id);

CREATE TABLE taxonomies (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    doc TEXT NOT NULL
);

CREATE TABLE taxonomy_terms (
    id TEXT PRIMARY KEY,
    taxonomy_id TEXT REFERENCES taxonomies (id) ON DELETE CASCADE,
    parent_id TEXT,
    code TEXT,
    name TEXT NOT NULL,
    -- English label, for the UI and for English search (HSDS has one name per term).
    name_en TEXT,
    doc TEXT NOT NULL
);
CREATE INDEX taxonomy_terms_parent ON taxonomy_terms (parent_id);
CREATE INDEX taxonomy_terms_taxonomy ON taxonomy_terms (taxonomy_id);

-- Derived search tables, rewritten with each service in the same transaction.
CREATE TABLE service_terms (
    service_id TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    term_id TEXT NOT NULL,
    PRIMARY KEY (service_id, term_id)
);
CREATE INDEX service_terms_term ON service_terms (term_id, service_id);

CREATE TABLE service_funders (
    service_id TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    funder TEXT NOT NULL,
    PRIMARY KEY (service_id, funder)
);
CREATE INDEX service_funders_funder ON service_funders (funder, service_id);

CREATE TABLE service_words (
    service_id TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    term TEXT NOT NULL,
    PRIMARY KEY (service_id, term)
);
CREATE INDEX service_words_term ON service_words (term, service_id);

-- Where each service is delivered, with the point and a grid cell for radius search.
CREATE TABLE service_points (
    service_id TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    location_id TEXT NOT NULL,
    latitude DOUBLE PRECISION NOT NULL,
    longitude DOUBLE PRECISION NOT NULL,
    -- floor(latitude * 100) * 100000 + floor(longitude * 100): cells of about 1.1 x 0.8 km.
    cell BIGINT NOT NULL,
    -- Copies of the service's name and weekly hours, so a search reads no other table.
    name TEXT NOT NULL,
    weekly_hours TEXT NOT NULL,
    PRIMARY KEY (service_id, location_id)
);
CREATE INDEX service_points_cell ON service_points (cell, service_id);
CREATE INDEX service_points_location ON service_points (location_id);
CREATE INDEX service_points_latitude ON service_points (latitude);

-- The same points by category: the search near a point in a category reads only its rows.
CREATE TABLE service_term_points (
    term_id TEXT NOT NULL,
    cell BIGINT NOT NULL,
    service_id TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    location_id TEXT NOT NULL,
    latitude DOUBLE PRECISION NOT NULL,
    longitude DOUBLE PRECISION NOT NULL,
    name TEXT NOT NULL,
    weekly_hours TEXT NOT NULL,
    PRIMARY KEY (term_id, cell, service_id, location_id)
);
CREATE INDEX service_term_points_service ON service_term_points (service_id);
CREATE INDEX service_term_points_location ON service_term_points (location_id);

-- Territorial areas: Municipi, NIL.
CREATE TABLE areas (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    parent_code TEXT,
    population BIGINT,
    latitude DOUBLE PRECISION,
    longitude DOUBLE PRECISION,
    -- GeoJSON geometry, when imported from open data.
    geometry TEXT,
    facts TEXT,
    UNIQUE (kind, code)
);

-- People and their access.
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    -- NULL for people registered by an operator who have no e-mail (assisted mode).
    email TEXT UNIQUE,
    display_name TEXT NOT NULL,
    -- Argon2id PHC string; NULL when the person cannot log in.
    password_hash TEXT,
    locale TEXT NOT NULL DEFAULT 'it',
    created_at BIGINT NOT NULL
);

CREATE TABLE role_grants (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    -- The organisation for scoped roles, '' for territory-wide ones.
    organization_id TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, role, organization_id)
);

CREATE TABLE sessions (
    -- SHA-256 of the cookie's secret, hex; the secret itself is never stored.
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE audit_log (
    id TEXT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor_id TEXT,
    action TEXT NOT NULL,
    subject_type TEXT NOT NULL,
    subject_id TEXT,
    detail TEXT
);
CREATE INDEX audit_log_subject ON audit_log (subject_type, subject_id, at);
CREATE INDEX audit_log_actor ON audit_log (actor_id, at);

-- Node-wide settings and facts (for example what the demo loaded and how long it took).
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Every directory write bumps this counter and lists the services it touched ('*': all), so
-- each server process can bring its in-memory search index up to date (see search_cache.rs).
CREATE TABLE directory_version (
    id BIGINT PRIMARY KEY,
    version BIGINT NOT NULL
);
INSERT INTO directory_version (id, version) VALUES (1, 0);

CREATE TABLE directory_changes (
    version BIGINT NOT NULL,
    service_id TEXT NOT NULL,
    PRIMARY KEY (version, service_id)
);
