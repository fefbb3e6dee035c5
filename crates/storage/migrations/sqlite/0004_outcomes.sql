-- Supervision outcomes (issue 3): 分包督导 visits, 通报 and the records they feed, monthly rankings
-- (frozen when published), indicators, the 问题台账 with its meetings, 督查统筹 inspections and
-- merges, key projects with bid sections, and imported lists.

-- Each work category (五大行动) has a lead department that ranks the units carrying its tasks.
ALTER TABLE categories ADD COLUMN lead_unit_id INTEGER REFERENCES units(id);

-- 分包督导: a leader's visit to a unit in their area, with findings and follow-up tasks.
CREATE TABLE supervision_visits (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    leader_person_id INTEGER NOT NULL REFERENCES people(id),
    unit_id INTEGER REFERENCES units(id),
    visited_on TEXT NOT NULL,
    place TEXT NOT NULL,
    findings TEXT NOT NULL,
    follow_up TEXT NOT NULL DEFAULT '',
    created_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL
);
CREATE INDEX supervision_visits_leader ON supervision_visits(leader_person_id, visited_on);
CREATE TABLE visit_tasks (
    visit_id INTEGER NOT NULL REFERENCES supervision_visits(id),
    task_id INTEGER NOT NULL REFERENCES tasks(id),
    PRIMARY KEY (visit_id, task_id)
);

-- Monthly league table per category; a published month is a frozen copy of the rows.
CREATE TABLE rankings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    category_id INTEGER NOT NULL REFERENCES categories(id),
    month TEXT NOT NULL,
    formula TEXT NOT NULL,
    formula_text TEXT NOT NULL,
    published_by INTEGER REFERENCES users(id),
    published_at TEXT NOT NULL,
    UNIQUE (category_id, month)
);
CREATE TABLE ranking_rows (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ranking_id INTEGER NOT NULL REFERENCES rankings(id),
    rank INTEGER NOT NULL,
    unit_id INTEGER NOT NULL REFERENCES units(id),
    score REAL NOT NULL,
    facts TEXT NOT NULL,
    task_ids TEXT NOT NULL,
    tie_note TEXT NOT NULL DEFAULT '',
    UNIQUE (ranking_id, unit_id)
);

-- 督查通报 (表扬 / 批评 / 预警 / 月度排名) and what they name.
CREATE TABLE notices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    doc_no TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    issued_on TEXT NOT NULL,
    ranking_id INTEGER REFERENCES rankings(id),
    issued_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL
);
-- One row per unit (and person) a notice names: the unit's 业绩 record and the person's 政绩 record.
CREATE TABLE notice_records (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    notice_id INTEGER NOT NULL REFERENCES notices(id),
    unit_id INTEGER NOT NULL REFERENCES units(id),
    person_id INTEGER REFERENCES people(id),
    task_id INTEGER REFERENCES tasks(id),
    kind TEXT NOT NULL,
    issued_on TEXT NOT NULL
);
CREATE INDEX notice_records_unit ON notice_records(unit_id, issued_on);
CREATE INDEX notice_records_person ON notice_records(person_id, issued_on);

-- Numeric indicators on a task ("时间过半、任务过半").
CREATE TABLE indicators (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id INTEGER NOT NULL REFERENCES tasks(id),
    name TEXT NOT NULL,
    unit_label TEXT NOT NULL,
    target REAL NOT NULL,
    period_start TEXT NOT NULL,
    period_end TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (task_id, name)
);
CREATE TABLE indicator_reports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    indicator_id INTEGER NOT NULL REFERENCES indicators(id),
    as_of TEXT NOT NULL,
    actual REAL NOT NULL,
    reported_percent REAL,
    note TEXT NOT NULL DEFAULT '',
    reported_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL
);
CREATE INDEX indicator_reports_indicator ON indicator_reports(indicator_id, as_of);

-- 问题台账 and its 协调会 / 研判会.
CREATE TABLE problems (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    source_task_id INTEGER REFERENCES tasks(id),
    lead_unit_id INTEGER NOT NULL REFERENCES units(id),
    status TEXT NOT NULL,
    holder TEXT NOT NULL,
    raised_by INTEGER REFERENCES users(id),
    raised_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    resolved_at TEXT
);
CREATE INDEX problems_status ON problems(status);
CREATE TABLE problem_units (
    problem_id INTEGER NOT NULL REFERENCES problems(id),
    unit_id INTEGER NOT NULL REFERENCES units(id),
    PRIMARY KEY (problem_id, unit_id)
);
CREATE TABLE problem_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    problem_id INTEGER NOT NULL REFERENCES problems(id),
    action TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    at TEXT NOT NULL,
    from_status TEXT NOT NULL,
    to_status TEXT NOT NULL,
    comment TEXT NOT NULL DEFAULT ''
);
CREATE INDEX problem_events_problem ON problem_events(problem_id);
CREATE TABLE meetings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    problem_id INTEGER NOT NULL REFERENCES problems(id),
    kind TEXT NOT NULL,
    held_at TEXT NOT NULL,
    place TEXT NOT NULL,
    attendees TEXT NOT NULL,
    decisions TEXT NOT NULL,
    created_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL
);
CREATE TABLE meeting_tasks (
    meeting_id INTEGER NOT NULL REFERENCES meetings(id),
    task_id INTEGER NOT NULL REFERENCES tasks(id),
    PRIMARY KEY (meeting_id, task_id)
);

-- 督查统筹: planned inspections and assessments, and merges that keep every origin.
CREATE TABLE inspection_merges (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL
);
CREATE TABLE inspections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    issuing_unit_id INTEGER NOT NULL REFERENCES units(id),
    subject TEXT NOT NULL,
    start_on TEXT NOT NULL,
    end_on TEXT NOT NULL,
    merge_id INTEGER REFERENCES inspection_merges(id),
    created_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL
);
CREATE TABLE inspection_targets (
    inspection_id INTEGER NOT NULL REFERENCES inspections(id),
    unit_id INTEGER NOT NULL REFERENCES units(id),
    PRIMARY KEY (inspection_id, unit_id)
);

-- Key projects (重点项目) and government-invested projects are supervised tasks underneath.
CREATE TABLE projects (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id INTEGER NOT NULL UNIQUE REFERENCES tasks(id),
    kind TEXT NOT NULL,
    owner_unit_id INTEGER NOT NULL REFERENCES units(id),
    location TEXT NOT NULL,
    planned_investment REAL NOT NULL,
    completed_investment REAL NOT NULL DEFAULT 0,
    annual_output REAL,
    annual_tax REAL,
    approvals_pending TEXT NOT NULL DEFAULT '',
    problems TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE TABLE bid_sections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    name TEXT NOT NULL,
    contractor TEXT NOT NULL,
    start_on TEXT NOT NULL,
    due_on TEXT NOT NULL,
    progress INTEGER NOT NULL DEFAULT 0,
    subtask_id INTEGER REFERENCES subtasks(id),
    updated_at TEXT NOT NULL,
    UNIQUE (project_id, name)
);

-- 清单: sets of items imported from Excel, each item a supervised task.
CREATE TABLE task_lists (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    category_id INTEGER REFERENCES categories(id),
    created_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL
);
CREATE TABLE task_list_items (
    list_id INTEGER NOT NULL REFERENCES task_lists(id),
    task_id INTEGER NOT NULL UNIQUE REFERENCES tasks(id),
    row_no INTEGER NOT NULL,
    PRIMARY KEY (list_id, task_id)
);
