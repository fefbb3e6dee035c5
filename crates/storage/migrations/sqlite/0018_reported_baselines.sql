-- 上报数 (issue 14, item 2): the figures the district reported (end-2020: 101 国家高新技术企业 …)
-- are kept as what they are — a reported figure with its source — beside the records in the
-- system (在库数), not as invented records. One row per figure of the 科技统计 page; every change
-- is audited and bumps `version`, so a stale form is refused instead of overwriting.
CREATE TABLE reported_baselines (
    figure TEXT PRIMARY KEY,
    value REAL NOT NULL,
    -- 统计截至: the day a stock was counted, or the end of the year an amount covers.
    as_of TEXT NOT NULL,
    -- 来源文件 and its date (the date may be unknown).
    source TEXT NOT NULL,
    source_date TEXT,
    note TEXT NOT NULL DEFAULT '',
    version INTEGER NOT NULL DEFAULT 1,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK (value >= 0)
);

-- Placeholder records (rows standing in for ones a report only counted) are no longer made:
-- nothing writes or reads the flag any more.
ALTER TABLE enterprises DROP COLUMN placeholder;
ALTER TABLE institutions DROP COLUMN placeholder;
ALTER TABLE experts DROP COLUMN placeholder;
ALTER TABLE platforms DROP COLUMN placeholder;
ALTER TABLE dockings DROP COLUMN placeholder;
ALTER TABLE contracts DROP COLUMN placeholder;
