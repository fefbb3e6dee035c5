-- Sign-in that cannot be turned against its users (issue 12): wrong passwords are counted per
-- (account name, network address) pair, and per account name over all addresses (address '*'),
-- for names that exist and names that do not alike, so neither the lock nor its message tells
-- which accounts exist. users.failed_logins and users.locked_until are no longer used.
CREATE TABLE login_failures (
    username TEXT NOT NULL,
    address TEXT NOT NULL,
    -- The first failure counted (the pair: since the last success or lock; the account: its window).
    window_start TEXT NOT NULL,
    failures BIGINT NOT NULL DEFAULT 0,
    locked_until TEXT,
    PRIMARY KEY (username, address)
);
CREATE INDEX login_failures_window ON login_failures(window_start);
