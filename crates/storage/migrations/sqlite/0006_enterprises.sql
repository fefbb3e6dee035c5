-- 企业库 (issue 4): enterprises with validated credit codes, GB/T 4754-2017 industries, and
-- qualifications the district counts (国家高新技术企业, 科技型中小企业, 专精特新, 上市培育).
CREATE TABLE industries (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    parent TEXT NOT NULL DEFAULT '',
    level INTEGER NOT NULL
);

CREATE TABLE enterprises (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    credit_code TEXT UNIQUE,
    industry_code TEXT REFERENCES industries(code),
    location TEXT NOT NULL DEFAULT '',
    contact_name TEXT NOT NULL DEFAULT '',
    contact_phone TEXT NOT NULL DEFAULT '',
    -- A record standing in for one the district's report only counts (demo data), shown as such.
    placeholder INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE enterprise_qualifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    enterprise_id INTEGER NOT NULL REFERENCES enterprises(id),
    kind TEXT NOT NULL,
    cert_no TEXT NOT NULL DEFAULT '',
    expires_on TEXT,
    UNIQUE (enterprise_id, kind)
);
CREATE INDEX enterprise_qualifications_kind ON enterprise_qualifications(kind, expires_on);
