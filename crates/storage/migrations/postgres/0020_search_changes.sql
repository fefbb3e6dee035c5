-- What every node's search index must follow (issue 15, item 5): each write to an achievement, an
-- expert or a stored sentence vector appends a row here in the same transaction (by trigger, so no
-- write path can forget it). A serving node applies the rows after the last one it applied to its own
-- index and vectors, instead of rebuilding them. Sequence numbers are taken before commit, so a reader
-- may see 7 before 6 commits: it keeps the gaps it saw and reads them again (search::follow::Cursor).
CREATE TABLE search_changes (
    seq BIGSERIAL PRIMARY KEY,
    -- achievement (record_key: external id) | expert (id) | embedding (kind:record_key)
    kind TEXT NOT NULL,
    record_key TEXT NOT NULL
);

CREATE FUNCTION achievements_search_changed() RETURNS trigger AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        INSERT INTO search_changes (kind, record_key) VALUES ('achievement', OLD.external_id);
    END IF;
    IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR OLD.external_id <> NEW.external_id) THEN
        INSERT INTO search_changes (kind, record_key) VALUES ('achievement', NEW.external_id);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER achievements_search AFTER INSERT OR UPDATE OR DELETE ON achievements
FOR EACH ROW EXECUTE FUNCTION achievements_search_changed();

CREATE FUNCTION experts_search_changed() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO search_changes (kind, record_key) VALUES ('expert', OLD.id::TEXT);
    ELSE
        INSERT INTO search_changes (kind, record_key) VALUES ('expert', NEW.id::TEXT);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER experts_search AFTER INSERT OR UPDATE OR DELETE ON experts
FOR EACH ROW EXECUTE FUNCTION experts_search_changed();

CREATE FUNCTION embeddings_search_changed() RETURNS trigger AS $$
BEGIN
    INSERT INTO search_changes (kind, record_key) VALUES ('embedding', NEW.kind || ':' || NEW.record_key);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER embeddings_search AFTER INSERT OR UPDATE ON embeddings
FOR EACH ROW EXECUTE FUNCTION embeddings_search_changed();
