-- What every node's search index must follow (issue 15, item 5): each write to an achievement, an
-- expert or a stored sentence vector appends a row here in the same transaction (by trigger, so no
-- write path can forget it). A serving node applies the rows after the last one it applied to its own
-- index and vectors, instead of rebuilding them.
CREATE TABLE search_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    -- achievement (record_key: external id) | expert (id) | embedding (kind:record_key)
    kind TEXT NOT NULL,
    record_key TEXT NOT NULL
);

CREATE TRIGGER achievements_search_insert AFTER INSERT ON achievements
BEGIN
    INSERT INTO search_changes (kind, record_key) VALUES ('achievement', NEW.external_id);
END;
CREATE TRIGGER achievements_search_update AFTER UPDATE ON achievements
BEGIN
    INSERT INTO search_changes (kind, record_key) VALUES ('achievement', NEW.external_id);
    INSERT INTO search_changes (kind, record_key)
        SELECT 'achievement', OLD.external_id WHERE OLD.external_id <> NEW.external_id;
END;
CREATE TRIGGER achievements_search_delete AFTER DELETE ON achievements
BEGIN
    INSERT INTO search_changes (kind, record_key) VALUES ('achievement', OLD.external_id);
END;

CREATE TRIGGER experts_search_insert AFTER INSERT ON experts
BEGIN
    INSERT INTO search_changes (kind, record_key) VALUES ('expert', CAST(NEW.id AS TEXT));
END;
CREATE TRIGGER experts_search_update AFTER UPDATE ON experts
BEGIN
    INSERT INTO search_changes (kind, record_key) VALUES ('expert', CAST(NEW.id AS TEXT));
END;
CREATE TRIGGER experts_search_delete AFTER DELETE ON experts
BEGIN
    INSERT INTO search_changes (kind, record_key) VALUES ('expert', CAST(OLD.id AS TEXT));
END;

CREATE TRIGGER embeddings_search_insert AFTER INSERT ON embeddings
BEGIN
    INSERT INTO search_changes (kind, record_key) VALUES ('embedding', NEW.kind || ':' || NEW.record_key);
END;
CREATE TRIGGER embeddings_search_update AFTER UPDATE ON embeddings
BEGIN
    INSERT INTO search_changes (kind, record_key) VALUES ('embedding', NEW.kind || ':' || NEW.record_key);
END;
