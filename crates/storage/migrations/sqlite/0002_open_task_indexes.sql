-- 待办 for a liaison reads the open tasks of one unit in deadline order: a partial index serves
-- it without sorting the unit's whole history (the query repeats this status list verbatim,
-- which SQLite needs to use a partial index).
CREATE INDEX tasks_open_lead_deadline ON tasks(lead_unit_id, deadline) WHERE status IN ('assigned','received','in_progress');

-- The sweep walks due tasks in (next_check_at, id) order, so it reads only what is due.
DROP INDEX tasks_next_check;
CREATE INDEX tasks_next_check ON tasks(next_check_at, id);
