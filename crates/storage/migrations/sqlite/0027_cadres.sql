-- 优秀年轻干部 选育管用 (issue 18): the 组织部's cadre records. The ID number is sealed like every
-- personal field; the birth date is kept for the age, which is computed, never stored.
CREATE TABLE cadres (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    person_id INTEGER NOT NULL UNIQUE REFERENCES people(id),
    id_number TEXT NOT NULL,
    birth_date TEXT NOT NULL,
    education TEXT NOT NULL,
    major TEXT NOT NULL,
    rank TEXT NOT NULL,
    entry_route TEXT NOT NULL,
    work_start TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK (work_start > birth_date)
);

-- Pool membership by level, with the date and reason of entry and of exit.
CREATE TABLE cadre_pool_entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    cadre_id INTEGER NOT NULL REFERENCES cadres(id),
    level TEXT NOT NULL CHECK (level IN ('section', 'stock')),
    entered_on TEXT NOT NULL,
    entry_reason TEXT NOT NULL,
    exited_on TEXT,
    exit_reason TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    CHECK (exited_on IS NULL OR exited_on >= entered_on)
);
-- In a level's pool once at a time: a second open entry is refused by the database itself.
CREATE UNIQUE INDEX cadre_pool_open ON cadre_pool_entries (cadre_id, level) WHERE exited_on IS NULL;

-- 班子: who sits on a unit's leadership team, by post.
CREATE TABLE team_seats (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    unit_id INTEGER NOT NULL REFERENCES units(id),
    person_id INTEGER NOT NULL REFERENCES people(id),
    post TEXT NOT NULL,
    UNIQUE (unit_id, person_id)
);
