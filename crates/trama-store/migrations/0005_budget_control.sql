-- Care budgets, second step: expenditure control at city scale.
-- The area (a Municipio's code) whose social services decided an allocation: its spending is
-- counted there. NULL for allocations decided before this migration or outside any area.
ALTER TABLE allocations ADD COLUMN area_code TEXT;

-- A provider billed a delivery beyond what its booking held: the money did not move (the
-- call was refused), and the bill is kept here for the funder's control. One row per booking
-- and billed amount: the same bill sent twice is one exception.
CREATE TABLE budget_billing_exceptions (
    booking_id TEXT NOT NULL REFERENCES budget_bookings (id) ON DELETE CASCADE,
    billed BIGINT NOT NULL,
    held BIGINT NOT NULL,
    billed_by TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (booking_id, billed)
);

-- What expenditure control groups bookings by, kept on each booking: an allocation's
-- beneficiary, programme, funder and area never change once granted, so the dashboard reads
-- one table from covering indexes instead of joining every booking to its allocation.
ALTER TABLE budget_bookings ADD COLUMN beneficiary_id TEXT;
ALTER TABLE budget_bookings ADD COLUMN programme_id TEXT;
ALTER TABLE budget_bookings ADD COLUMN funder_id TEXT;
ALTER TABLE budget_bookings ADD COLUMN area_code TEXT;
-- The need a booking answers (trama_core::budget::control::need_of: the category's first two
-- levels); filled for older bookings by Store::migrate, in Rust, the same function for both.
ALTER TABLE budget_bookings ADD COLUMN need TEXT;
UPDATE budget_bookings SET
    beneficiary_id = (SELECT a.beneficiary_id FROM allocations a WHERE a.id = budget_bookings.allocation_id),
    programme_id = (SELECT a.programme_id FROM allocations a WHERE a.id = budget_bookings.allocation_id),
    funder_id = (SELECT p.funder_id FROM allocations a JOIN programmes p ON p.id = a.programme_id
                 WHERE a.id = budget_bookings.allocation_id);

-- Totals of a period: every column the sums need, in the index.
CREATE INDEX budget_bookings_totals
    ON budget_bookings (month, funder_id, programme_id, area_code, category, held, spent);
-- People whose one need is paid by two programmes in a month.
CREATE INDEX budget_bookings_person_month
    ON budget_bookings (month, beneficiary_id, need, programme_id, funder_id, held, spent);
-- A person's bookings (the alerts read them for the few people they concern).
CREATE INDEX budget_bookings_beneficiary ON budget_bookings (beneficiary_id, month);
