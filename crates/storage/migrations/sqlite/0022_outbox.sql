-- Notifications leave the product (issue 16): every message the inbox gets is also written, in the
-- same transaction, into the outbox for each configured channel that should carry it; a worker on
-- any node claims due rows (SKIP LOCKED), sends them and logs every attempt.

-- A channel: a group robot of one unit, or a personal channel (工作通知, SMS, e-mail) for everyone or for
-- one unit's people. `config` is the adapter's JSON, SM4-sealed (it holds secrets).
CREATE TABLE notify_channels (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('dingtalk_robot', 'wecom_robot', 'dingtalk_work', 'sms', 'email')),
    config TEXT NOT NULL,
    unit_id INTEGER REFERENCES units(id),
    per_minute INTEGER NOT NULL CHECK (per_minute BETWEEN 1 AND 600),
    daily_cap INTEGER NOT NULL CHECK (daily_cap BETWEEN 0 AND 1000),
    office_hours_only INTEGER NOT NULL DEFAULT 0,
    enabled INTEGER NOT NULL DEFAULT 1,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK (unit_id IS NOT NULL OR kind NOT IN ('dingtalk_robot', 'wecom_robot'))
);

-- A person's addresses (mobile, 钉钉 user id, e-mail), SM4-sealed.
CREATE TABLE notify_addresses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    person_id INTEGER NOT NULL REFERENCES people(id),
    kind TEXT NOT NULL CHECK (kind IN ('mobile', 'dingtalk_user', 'email')),
    value TEXT NOT NULL,
    UNIQUE (person_id, kind)
);

-- What a person takes on a channel: each message, a daily digest, or nothing; `kinds` lists the
-- message kinds taken (comma-separated; empty: all).
CREATE TABLE notify_prefs (
    person_id INTEGER NOT NULL REFERENCES people(id),
    channel_id INTEGER NOT NULL REFERENCES notify_channels(id),
    mode TEXT NOT NULL CHECK (mode IN ('each', 'digest', 'off')),
    kinds TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (person_id, channel_id)
);

-- One message for one destination of one channel. `idem_key` is what receivers see; `once_key`
-- holds "one 催办 per task per day per channel per destination" whatever the sweep does;
-- `batch_id` fixes a digest's members before its first attempt, so a retry resends the same digest;
-- 'withheld': about a task the person may no longer see (数据范围), so never sent.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    notification_id INTEGER REFERENCES notifications(id),
    channel_id INTEGER NOT NULL REFERENCES notify_channels(id),
    person_id INTEGER REFERENCES people(id),
    unit_id INTEGER REFERENCES units(id),
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    link TEXT,
    task_id INTEGER REFERENCES tasks(id),
    due TEXT,
    urgent INTEGER NOT NULL DEFAULT 0,
    digest INTEGER NOT NULL DEFAULT 0,
    idem_key TEXT NOT NULL UNIQUE,
    once_key TEXT UNIQUE,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'dead', 'withheld')),
    attempts INTEGER NOT NULL DEFAULT 0,
    batch_id INTEGER,
    next_at TEXT NOT NULL,
    claimed_by TEXT,
    claimed_until TEXT,
    last_error TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    sent_at TEXT
);
CREATE INDEX outbox_due ON outbox(state, next_at);
CREATE INDEX outbox_destination ON outbox(channel_id, person_id, unit_id, state);

-- Every attempt: which messages it carried, whether it arrived, what the receiver said.
CREATE TABLE outbox_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id INTEGER NOT NULL REFERENCES notify_channels(id),
    person_id INTEGER,
    unit_id INTEGER,
    first_id INTEGER,
    messages INTEGER NOT NULL,
    idem_key TEXT NOT NULL,
    ok INTEGER NOT NULL,
    answer TEXT NOT NULL,
    node TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX outbox_log_channel_at ON outbox_log(channel_id, at);
CREATE INDEX outbox_log_person_at ON outbox_log(person_id, at);
