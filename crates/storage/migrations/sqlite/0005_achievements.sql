-- 成果库 (issue 4, first part): research achievements, imported or submitted, searchable.
-- The external id is the id the source gave the record (e.g. a CSL paper id), kept for matching runs.
CREATE TABLE achievements (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    external_id TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    abstract TEXT NOT NULL,
    keywords TEXT NOT NULL,
    discipline TEXT NOT NULL DEFAULT '',
    category TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL,
    patent_no TEXT,
    institution TEXT NOT NULL DEFAULT '',
    maturity TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX achievements_updated ON achievements(updated_at);
