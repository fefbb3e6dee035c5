-- Concurrency (issue 11): the rules that must never break are constraints, and a task carries a
-- version so a form loaded before someone else's change is refused instead of applied blindly.

-- Every change to a task's row increments it; a page or API call may send the version it saw.
ALTER TABLE tasks ADD COLUMN version BIGINT NOT NULL DEFAULT 1;

-- At most one extension request in progress (待审核 or 待审批) per task.
CREATE UNIQUE INDEX extensions_one_open ON extensions(task_id) WHERE status IN ('pending', 'reviewed');

-- The weekly 催办 cap as a counter row whose increment carries the check in its WHERE.
CREATE TABLE urge_counts (
    task_id BIGINT NOT NULL REFERENCES tasks(id),
    week TEXT NOT NULL,
    manual BIGINT NOT NULL,
    PRIMARY KEY (task_id, week)
);
INSERT INTO urge_counts (task_id, week, manual)
    SELECT task_id, week, COUNT(*) FROM urges WHERE manual = 1 GROUP BY task_id, week;

