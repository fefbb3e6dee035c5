-- 产学研对接 (issue 4, second part): institutions, experts, technical problems, platforms and
-- carriers, 征集 campaigns with review, dockings through to technical contracts.

-- An enterprise or institution with accounts has a unit (kind 外部单位) holding its people.
ALTER TABLE enterprises ADD COLUMN unit_id INTEGER REFERENCES units(id);

CREATE TABLE institutions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    location TEXT NOT NULL DEFAULT '',
    unit_id INTEGER REFERENCES units(id),
    placeholder INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);

-- 征集: a period in which submissions of one library are collected, and how long what is
-- published from it stays valid.
CREATE TABLE campaigns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    target TEXT NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL,
    validity_days INTEGER NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- Review columns shared by the three reviewed libraries: status (submitted / formal_passed /
-- returned / published / expired), the campaign, who submitted, the last return reason, expiry.
ALTER TABLE achievements ADD COLUMN institution_id INTEGER REFERENCES institutions(id);
ALTER TABLE achievements ADD COLUMN transfer_modes TEXT NOT NULL DEFAULT '';
ALTER TABLE achievements ADD COLUMN price_min_wan REAL NOT NULL DEFAULT 0;
ALTER TABLE achievements ADD COLUMN price_max_wan REAL NOT NULL DEFAULT 0;
ALTER TABLE achievements ADD COLUMN campaign_id INTEGER REFERENCES campaigns(id);
ALTER TABLE achievements ADD COLUMN submitted_by INTEGER REFERENCES users(id);
ALTER TABLE achievements ADD COLUMN return_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE achievements ADD COLUMN expires_on TEXT;

CREATE TABLE experts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    institution_id INTEGER NOT NULL REFERENCES institutions(id),
    title TEXT NOT NULL DEFAULT '',
    disciplines TEXT NOT NULL DEFAULT '',
    fields TEXT NOT NULL DEFAULT '',
    keywords TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    -- 1: the contact may be shared with a matched enterprise once the expert consents in a docking.
    share_on_consent INTEGER NOT NULL DEFAULT 1,
    placeholder INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    campaign_id INTEGER REFERENCES campaigns(id),
    submitted_by INTEGER REFERENCES users(id),
    return_reason TEXT NOT NULL DEFAULT '',
    expires_on TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX experts_status ON experts(status);

CREATE TABLE expert_achievements (
    expert_id INTEGER NOT NULL REFERENCES experts(id),
    achievement_id INTEGER NOT NULL REFERENCES achievements(id),
    PRIMARY KEY (expert_id, achievement_id)
);

-- 难题库
CREATE TABLE tech_problems (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    keywords TEXT NOT NULL DEFAULT '',
    enterprise_id INTEGER NOT NULL REFERENCES enterprises(id),
    industry_code TEXT REFERENCES industries(code),
    budget_wan REAL NOT NULL DEFAULT 0,
    cooperation_mode TEXT NOT NULL DEFAULT '',
    wanted_by TEXT,
    -- 1: visible only to the 科技局, the enterprise itself and experts matched in a docking.
    confidential INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    campaign_id INTEGER REFERENCES campaigns(id),
    submitted_by INTEGER REFERENCES users(id),
    return_reason TEXT NOT NULL DEFAULT '',
    expires_on TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX tech_problems_status ON tech_problems(status);
CREATE INDEX tech_problems_enterprise ON tech_problems(enterprise_id);

-- Every review step of every library record (the audit log holds them too, hash-chained).
CREATE TABLE review_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    library TEXT NOT NULL,
    record_id INTEGER NOT NULL,
    action TEXT NOT NULL,
    from_status TEXT NOT NULL,
    to_status TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    actor TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX review_events_record ON review_events(library, record_id);

-- R&D platforms (level 国家/省/市), innovation carriers and school–enterprise bases.
CREATE TABLE platforms (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    level TEXT NOT NULL DEFAULT '',
    host TEXT NOT NULL DEFAULT '',
    enterprise_id INTEGER REFERENCES enterprises(id),
    institution_id INTEGER REFERENCES institutions(id),
    approved_year INTEGER,
    placeholder INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);

CREATE TABLE dockings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    problem_id INTEGER REFERENCES tech_problems(id),
    enterprise_id INTEGER NOT NULL REFERENCES enterprises(id),
    expert_id INTEGER REFERENCES experts(id),
    achievement_id INTEGER REFERENCES achievements(id),
    institution_id INTEGER REFERENCES institutions(id),
    stage TEXT NOT NULL,
    -- The furthest stage of the main line reached (a terminated docking keeps it), for the funnel.
    furthest TEXT NOT NULL,
    end_reason TEXT NOT NULL DEFAULT '',
    contact_shared INTEGER NOT NULL DEFAULT 0,
    placeholder INTEGER NOT NULL DEFAULT 0,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX dockings_stage ON dockings(stage);

CREATE TABLE docking_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    docking_id INTEGER NOT NULL REFERENCES dockings(id),
    from_stage TEXT NOT NULL,
    to_stage TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    task_id INTEGER REFERENCES tasks(id),
    actor TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX docking_events_docking ON docking_events(docking_id);

-- 对接洽谈 meetings and 对接活动 events, with attendees.
CREATE TABLE docking_activities (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    docking_id INTEGER REFERENCES dockings(id),
    title TEXT NOT NULL,
    kind TEXT NOT NULL,
    held_on TEXT NOT NULL,
    place TEXT NOT NULL DEFAULT '',
    attendees TEXT NOT NULL DEFAULT '',
    summary TEXT NOT NULL DEFAULT '',
    actor TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- 技术合同 (amounts in 万元).
CREATE TABLE contracts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    docking_id INTEGER REFERENCES dockings(id),
    contract_no TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    buyer TEXT NOT NULL,
    seller TEXT NOT NULL,
    amount_wan REAL NOT NULL,
    technical_income_wan REAL NOT NULL,
    signed_on TEXT NOT NULL,
    placeholder INTEGER NOT NULL DEFAULT 0,
    actor TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX contracts_signed ON contracts(signed_on);
