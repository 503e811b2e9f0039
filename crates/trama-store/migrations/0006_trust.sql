-- Trust (issue 12): consent as the person's act, and the right to grant as the funder's.

-- A consent names the organisation it is given to and its purpose, how it reached Trama
-- (online by the person, or at a desk from the signed form) and who recorded it. `state` is
-- active, pending (recorded at a desk after the person withdrew it: waits for the person) or
-- revoked; `revoked_by` says who withdrew it.
ALTER TABLE budget_followers ADD COLUMN organization_id TEXT;
ALTER TABLE budget_followers ADD COLUMN purpose TEXT NOT NULL DEFAULT 'care_budget';
ALTER TABLE budget_followers ADD COLUMN channel TEXT NOT NULL DEFAULT 'desk';
ALTER TABLE budget_followers ADD COLUMN recorded_by TEXT;
ALTER TABLE budget_followers ADD COLUMN state TEXT NOT NULL DEFAULT 'active';
ALTER TABLE budget_followers ADD COLUMN revoked_by TEXT;
UPDATE budget_followers SET state = 'revoked' WHERE revoked_at IS NOT NULL;
-- Consents recorded before: given to the organisation the case manager works for.
UPDATE budget_followers SET organization_id = (
    SELECT MIN(g.organization_id) FROM role_grants g
    WHERE g.user_id = budget_followers.case_manager_id AND g.role = 'case_manager'
);

-- A funder delegates the right to grant from one of its programmes to an organisation (its
-- case managers then grant to the people they follow with consent), by a decision.
CREATE TABLE programme_delegations (
    programme_id TEXT NOT NULL REFERENCES programmes (id),
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    decision_ref TEXT NOT NULL,
    granted_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    PRIMARY KEY (programme_id, organization_id)
);

-- What each person has received from each programme: a grant raises it by a conditional
-- update, so two grants at once never go beyond the programme's amount_per_beneficiary.
CREATE TABLE programme_grants (
    programme_id TEXT NOT NULL REFERENCES programmes (id),
    beneficiary_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    granted BIGINT NOT NULL,
    PRIMARY KEY (programme_id, beneficiary_id)
);
INSERT INTO programme_grants (programme_id, beneficiary_id, granted)
    SELECT programme_id, beneficiary_id, SUM(granted) FROM allocations
    GROUP BY programme_id, beneficiary_id;

-- Erasure (GDPR Art. 17): when a person's account was erased. The row stays, nameless, for the
-- accounting records the law requires (allocations, bookings).
ALTER TABLE users ADD COLUMN erased_at BIGINT;
