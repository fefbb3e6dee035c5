-- A person's private calendar subscription (issue 16, item 4): the iCalendar feed of their tasks'
-- and sub-tasks' deadlines at a URL holding a random token; only its digest is stored, and a
-- revoked or replaced token stops working at once.
CREATE TABLE calendar_feeds (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT NOT NULL UNIQUE,
    user_id INTEGER NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    last_used_at TEXT
);
-- At most one live feed per account.
CREATE UNIQUE INDEX calendar_feeds_live ON calendar_feeds(user_id) WHERE revoked_at IS NULL;
