-- The territory's address gazetteer (issue 14): streets and house numbers with their
-- coordinates, from its own open data (`trama places import FILE`), so that "near Via Torino 43"
-- needs no external geocoding service. `street_key` is the street as `places::street_key`
-- compares it (lower case, accents folded, abbreviations spelt out); `number` is '' for none.
CREATE TABLE places (
    street_key TEXT NOT NULL,
    number TEXT NOT NULL,
    street TEXT NOT NULL,
    latitude DOUBLE PRECISION NOT NULL,
    longitude DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (street_key, number)
);
