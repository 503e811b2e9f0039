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

-- The dashboard reads a period of bookings.
CREATE INDEX budget_bookings_month ON budget_bookings (month, allocation_id);
