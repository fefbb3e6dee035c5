-- 历练 (issue 18): 工作专班, 调训, 挂职 and 一线 records, each with its members (a 挂职 member's
-- assessment beside them) and, for a 专班, the supervised tasks it carries.
CREATE TABLE experiences (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('task_force', 'training', 'secondment', 'frontline')),
    name TEXT NOT NULL,
    place TEXT NOT NULL DEFAULT '',
    purpose TEXT NOT NULL DEFAULT '',
    hours REAL,
    started_on TEXT NOT NULL,
    ended_on TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK (ended_on IS NULL OR ended_on >= started_on),
    CHECK (kind <> 'training' OR hours > 0)
);

CREATE TABLE experience_members (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    experience_id INTEGER NOT NULL REFERENCES experiences(id),
    person_id INTEGER NOT NULL REFERENCES people(id),
    duty TEXT NOT NULL DEFAULT '',
    assessment TEXT NOT NULL DEFAULT '',
    UNIQUE (experience_id, person_id)
);
CREATE INDEX experience_members_person ON experience_members (person_id);

CREATE TABLE experience_tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    experience_id INTEGER NOT NULL REFERENCES experiences(id),
    task_id INTEGER NOT NULL REFERENCES tasks(id),
    UNIQUE (experience_id, task_id)
);

-- Evidence on a 历练 record (a 专班's set-up notice, a 调训 certificate, a 挂职 assessment form).
-- SQLite cannot change a CHECK, so the table is rebuilt with the wider list, as in 0017.
CREATE TABLE attachments_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    mime TEXT NOT NULL,
    original_name TEXT NOT NULL,
    record_kind TEXT NOT NULL,
    record_id BIGINT NOT NULL,
    task_id BIGINT REFERENCES tasks(id),
    uploaded_by BIGINT REFERENCES users(id),
    uploaded_at TEXT NOT NULL,
    has_thumbnail BIGINT NOT NULL DEFAULT 0,
    taken_at TEXT,
    gps_lat REAL,
    gps_lon REAL,
    CHECK (size >= 0),
    CHECK (record_kind IN ('task_event', 'task', 'visit', 'notice', 'problem', 'docking_activity', 'contract',
        'experience')),
    CHECK ((record_kind IN ('task_event', 'task')) = (task_id IS NOT NULL))
);
INSERT INTO attachments_new SELECT id, sha256, size, mime, original_name, record_kind, record_id, task_id, uploaded_by,
    uploaded_at, has_thumbnail, taken_at, gps_lat, gps_lon FROM attachments;
DROP TABLE attachments;
ALTER TABLE attachments_new RENAME TO attachments;
CREATE INDEX attachments_record ON attachments(record_kind, record_id);
CREATE INDEX attachments_task ON attachments(task_id);
