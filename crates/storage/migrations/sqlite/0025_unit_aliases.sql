-- 单位别名 (issue 17): the names documents use for units (区住建局 → 建设和交通局), kept by the 系统管理员
-- and the 督查局 for 从文件立项; the built-in forms (区X, X without 区) need no row.
CREATE TABLE unit_aliases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    words TEXT NOT NULL UNIQUE,
    unit_id INTEGER NOT NULL REFERENCES units(id),
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
