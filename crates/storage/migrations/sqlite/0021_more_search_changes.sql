-- The rest of what the search indexes follow (issue 15, item 5): an expert's linked achievements (part
-- of the expert's search text), technical problems and enterprises append to search_changes in the
-- same transaction as the write, as achievements and experts do since 0020.
CREATE TRIGGER expert_links_search_insert AFTER INSERT ON expert_achievements
BEGIN
    INSERT INTO search_changes (kind, record_key) VALUES ('expert', CAST(NEW.expert_id AS TEXT));
END;
CREATE TRIGGER expert_links_search_delete AFTER DELETE ON expert_achievements
BEGIN
    INSERT INTO search_changes (kind, record_key) VALUES ('expert', CAST(OLD.expert_id AS TEXT));
END;

CREATE TRIGGER problems_search_insert AFTER INSERT ON tech_problems
BEGIN
    INSERT INTO search_changes (kind, record_key) VALUES ('problem', CAST(NEW.id AS TEXT));
END;
CREATE TRIGGER problems_search_update AFTER UPDATE ON tech_problems
BEGIN
    INSERT INTO search_changes (kind, record_key) VALUES ('problem', CAST(NEW.id AS TEXT));
END;
CREATE TRIGGER problems_search_delete AFTER DELETE ON tech_problems
BEGIN
    INSERT INTO search_changes (kind, record_key) VALUES ('problem', CAST(OLD.id AS TEXT));
END;

CREATE TRIGGER enterprises_search_insert AFTER INSERT ON enterprises
BEGIN
    INSERT INTO search_changes (kind, record_key) VALUES ('enterprise', CAST(NEW.id AS TEXT));
END;
CREATE TRIGGER enterprises_search_update AFTER UPDATE ON enterprises
BEGIN
    INSERT INTO search_changes (kind, record_key) VALUES ('enterprise', CAST(NEW.id AS TEXT));
END;
CREATE TRIGGER enterprises_search_delete AFTER DELETE ON enterprises
BEGIN
    INSERT INTO search_changes (kind, record_key) VALUES ('enterprise', CAST(OLD.id AS TEXT));
END;
