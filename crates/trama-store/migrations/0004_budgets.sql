-- Care budgets: funders, programmes (their rules as JSON, read by trama-core's funding
-- engine), allocations to beneficiaries with their balances, bookings paid from them, the
-- double-entry postings that moved the money, and idempotency keys for calls that move money.
-- Amounts are integer euro cents. Same portable types as 0001-0003.

CREATE TABLE funders (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    -- national, regional, municipal, health_authority, corporate_welfare, community_fund,
    -- family_self
    kind TEXT NOT NULL,
    -- The organisation whose admins act for the funder (none: the territory admin does).
    organization_id TEXT,
    created_at BIGINT NOT NULL
);

CREATE TABLE programmes (
    id TEXT PRIMARY KEY,
    funder_id TEXT NOT NULL REFERENCES funders (id),
    name TEXT NOT NULL,
    -- trama_core::budget::programme::ProgrammeRules as JSON.
    rules TEXT NOT NULL,
    amount_per_beneficiary BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

-- available + held + spent = granted, always; the checks make the database itself refuse a
-- negative balance, whatever the code above it does.
CREATE TABLE allocations (
    id TEXT PRIMARY KEY,
    programme_id TEXT NOT NULL REFERENCES programmes (id),
    beneficiary_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    decision_ref TEXT NOT NULL,
    granted BIGINT NOT NULL,
    available BIGINT NOT NULL CHECK (available >= 0),
    held BIGINT NOT NULL CHECK (held >= 0),
    spent BIGINT NOT NULL CHECK (spent >= 0),
    -- Last month it can be spent in, YYYY-MM.
    expires TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX allocations_beneficiary ON allocations (beneficiary_id);

CREATE TABLE budget_bookings (
    id TEXT PRIMARY KEY,
    allocation_id TEXT NOT NULL REFERENCES allocations (id) ON DELETE CASCADE,
    provider_id TEXT,
    service_id TEXT,
    category TEXT NOT NULL,
    month TEXT NOT NULL,
    amount BIGINT NOT NULL,
    held BIGINT NOT NULL CHECK (held >= 0),
    spent BIGINT NOT NULL CHECK (spent >= 0),
    -- held, delivered (nothing held any more), cancelled
    state TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    modified_at BIGINT NOT NULL
);
CREATE INDEX budget_bookings_allocation ON budget_bookings (allocation_id);

-- Every posting of every transaction; the postings of one transaction (tx_id) sum to zero.
CREATE TABLE budget_postings (
    id TEXT PRIMARY KEY,
    tx_id TEXT NOT NULL,
    -- grant, hold, spend, release
    movement TEXT NOT NULL,
    -- funder, available, held, spent
    account TEXT NOT NULL,
    allocation_id TEXT NOT NULL REFERENCES allocations (id) ON DELETE CASCADE,
    booking_id TEXT,
    amount BIGINT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX budget_postings_allocation ON budget_postings (allocation_id);

-- A call that moves money, by its client's key: the same key and request give the same answer
-- and move the money once; the same key with another request is refused.
CREATE TABLE idempotency_keys (
    actor TEXT NOT NULL,
    key TEXT NOT NULL,
    request TEXT NOT NULL,
    response TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (actor, key)
);

-- Case managers who follow a person, with the person's consent: recorded with its reference
-- (a signed form's protocol number), revoked by the person or the case manager. Access to a
-- person's budget by a case manager needs a row here with no revocation.
CREATE TABLE budget_followers (
    person_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    case_manager_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    consent_ref TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    revoked_at BIGINT,
    PRIMARY KEY (person_id, case_manager_id)
);

-- Personal plans (budget di salute): the plan as JSON (trama_core::budget::plan::Plan).
CREATE TABLE budget_plans (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_by TEXT NOT NULL,
    doc TEXT NOT NULL,
    review_on TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX budget_plans_person ON budget_plans (person_id, created_at);

-- "Help received" in a person's consolidated view reads contribution events by receiver (the
-- spends of budgets add two events each, so without it the read grows with the city).
CREATE INDEX contribution_events_receiver ON contribution_events (receiver_id, action);
