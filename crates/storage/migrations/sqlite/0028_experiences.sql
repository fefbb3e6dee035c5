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
