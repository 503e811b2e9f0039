-- An offer's categories looked up by the offer (issue 14): rewriting an offer deletes its rows
-- here by `offer_id`, which the primary key (category first) cannot find without reading the
-- whole table. At 300,000 offers (`trama bench-help --writes-per-second 50`) owners' changes
-- managed 26 a second on SQLite, and the suggestions served beside them fell from 1,653 to
-- 129 requests a second.
CREATE INDEX offer_categories_by_offer ON offer_categories (offer_id);
