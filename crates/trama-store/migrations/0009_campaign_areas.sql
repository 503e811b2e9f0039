-- The districts a campaign covers (issue 14): a JSON list of Municipio codes, empty for the
-- whole territory. Its days were already there (`starts_at`, `ends_at`); a campaign's days are
-- stored as the UTC midnight of each day.
ALTER TABLE campaigns ADD COLUMN areas TEXT NOT NULL DEFAULT '[]';
