-- Audit retention (等保: at least 180 days). Entries older than that may be purged, oldest first;
-- the head keeps the last purged entry's sequence number and hash, so the rest of the chain still
-- verifies from there. The database refuses any other delete: a row that is not yet marked purged,
-- or is younger than 180 days by the database's own clock.
ALTER TABLE audit_head ADD COLUMN purged_through BIGINT NOT NULL DEFAULT 0;
ALTER TABLE audit_head ADD COLUMN purged_hash TEXT NOT NULL DEFAULT '';
DROP TRIGGER audit_log_no_change ON audit_log;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE FUNCTION audit_log_retained() RETURNS trigger AS $$
BEGIN
    IF OLD.seq > (SELECT purged_through FROM audit_head WHERE id = 1)
       OR OLD.at >= to_char(now() - interval '180 days', 'YYYY-MM-DD HH24:MI:SS') THEN
        RAISE EXCEPTION '审计日志只能追加：保留期（180 天）内的记录不能删除';
    END IF;
    RETURN OLD;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_retained();
CREATE INDEX login_log_at ON login_log(at);
