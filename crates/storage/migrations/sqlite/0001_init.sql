-- Xietong schema, SQLite flavour. Times are local (Asia/Shanghai) 'YYYY-MM-DD HH:MM:SS' text,
-- which sorts correctly and reads the same on both backends.

CREATE TABLE units (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    parent_id INTEGER REFERENCES units(id),
    head_person_id INTEGER,
    sort INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE people (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    post TEXT NOT NULL,
    unit_id INTEGER NOT NULL REFERENCES units(id),
    phone TEXT NOT NULL DEFAULT ''
);
CREATE INDEX people_unit ON people(unit_id);

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    person_id INTEGER NOT NULL REFERENCES people(id),
    role TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL
);

CREATE TABLE categories (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    sort INTEGER NOT NULL DEFAULT 0
);

-- 班子成员分包: a leader's supervision area is a set of units and/or categories.
CREATE TABLE leader_areas (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    leader_person_id INTEGER NOT NULL REFERENCES people(id),
    unit_id INTEGER REFERENCES units(id),
    category_id INTEGER REFERENCES categories(id)
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    csrf TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

CREATE TABLE login_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL,
    at TEXT NOT NULL,
    ok INTEGER NOT NULL,
    message TEXT NOT NULL
);

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE calendar_days (
    day TEXT PRIMARY KEY,
    off INTEGER NOT NULL,
    name TEXT NOT NULL,
    source TEXT NOT NULL
);

CREATE TABLE calendar_years (
    year INTEGER PRIMARY KEY,
    source TEXT NOT NULL
);

CREATE TABLE tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    source_kind TEXT NOT NULL,
    doc_no TEXT NOT NULL UNIQUE,
    source_title TEXT NOT NULL DEFAULT '',
    source_date TEXT NOT NULL,
    category_id INTEGER REFERENCES categories(id),
    lead_unit_id INTEGER NOT NULL REFERENCES units(id),
    leader_person_id INTEGER REFERENCES people(id),
    status TEXT NOT NULL,
    report_cycle TEXT NOT NULL,
    round INTEGER NOT NULL DEFAULT 1,
    progress INTEGER NOT NULL DEFAULT 0,
    received_at TEXT NOT NULL,
    assigned_at TEXT,
    signed_at TEXT,
    decomposed_at TEXT,
    closed_at TEXT,
    deadline TEXT NOT NULL,
    last_report_at TEXT,
    next_check_at TEXT,
    created_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX tasks_lead_status ON tasks(lead_unit_id, status);
CREATE INDEX tasks_status_deadline ON tasks(status, deadline);
CREATE INDEX tasks_next_check ON tasks(next_check_at);

CREATE TABLE task_co_units (
    task_id INTEGER NOT NULL REFERENCES tasks(id),
    unit_id INTEGER NOT NULL REFERENCES units(id),
    PRIMARY KEY (task_id, unit_id)
);
CREATE INDEX task_co_units_unit ON task_co_units(unit_id);

CREATE TABLE subtasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id INTEGER NOT NULL REFERENCES tasks(id),
    title TEXT NOT NULL,
    dept_unit_id INTEGER NOT NULL REFERENCES units(id),
    person_id INTEGER NOT NULL REFERENCES people(id),
    deadline TEXT NOT NULL,
    progress INTEGER NOT NULL DEFAULT 0,
    last_report TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX subtasks_task ON subtasks(task_id);
CREATE INDEX subtasks_person ON subtasks(person_id);

-- The timeline: every transition with actor, time and comment.
CREATE TABLE task_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id INTEGER NOT NULL REFERENCES tasks(id),
    action TEXT NOT NULL,
    actor_user_id INTEGER REFERENCES users(id),
    actor_name TEXT NOT NULL,
    at TEXT NOT NULL,
    from_status TEXT NOT NULL,
    to_status TEXT NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    data TEXT NOT NULL DEFAULT ''
);
CREATE INDEX task_events_task ON task_events(task_id);

CREATE TABLE extensions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id INTEGER NOT NULL REFERENCES tasks(id),
    requested_by INTEGER NOT NULL REFERENCES users(id),
    requested_at TEXT NOT NULL,
    reason TEXT NOT NULL,
    old_deadline TEXT NOT NULL,
    new_deadline TEXT NOT NULL,
    status TEXT NOT NULL,
    reviewed_by INTEGER REFERENCES users(id),
    reviewed_at TEXT,
    review_comment TEXT NOT NULL DEFAULT '',
    decided_by INTEGER REFERENCES users(id),
    decided_at TEXT,
    decision_comment TEXT NOT NULL DEFAULT ''
);
CREATE INDEX extensions_task ON extensions(task_id);

-- One row per escalation step per deadline: the unique key is what makes a step fire once,
-- whichever process sweeps and however often.
CREATE TABLE escalations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id INTEGER NOT NULL REFERENCES tasks(id),
    step TEXT NOT NULL,
    deadline TEXT NOT NULL,
    fired_at TEXT NOT NULL,
    fired_by TEXT NOT NULL,
    UNIQUE (task_id, step, deadline)
);

-- Every 催办, automatic or by hand; the weekly cap counts the manual ones.
CREATE TABLE urges (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id INTEGER NOT NULL REFERENCES tasks(id),
    manual INTEGER NOT NULL,
    by_user_id INTEGER REFERENCES users(id),
    at TEXT NOT NULL,
    week TEXT NOT NULL,
    comment TEXT NOT NULL DEFAULT ''
);
CREATE INDEX urges_task_week ON urges(task_id, week);

CREATE TABLE notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    unit_id INTEGER REFERENCES units(id),
    person_id INTEGER REFERENCES people(id),
    task_id INTEGER REFERENCES tasks(id),
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX notifications_unit ON notifications(unit_id);

CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    before TEXT NOT NULL,
    after TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    count INTEGER NOT NULL,
    last_hash TEXT NOT NULL
);
INSERT INTO audit_head (id, count, last_hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Append-only: the database itself refuses edits and deletes of audit rows.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, '审计日志只能追加，不能修改'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, '审计日志只能追加，不能删除'); END;
