-- The rest of what the search indexes follow (issue 15, item 5): an expert's linked achievements (part
-- of the expert's search text), technical problems and enterprises append to search_changes in the
-- same transaction as the write, as achievements and experts do since 0020.
CREATE FUNCTION expert_links_search_changed() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO search_changes (kind, record_key) VALUES ('expert', OLD.expert_id::TEXT);
    ELSE
        INSERT INTO search_changes (kind, record_key) VALUES ('expert', NEW.expert_id::TEXT);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER expert_links_search AFTER INSERT OR DELETE ON expert_achievements
FOR EACH ROW EXECUTE FUNCTION expert_links_search_changed();

-- One function for the tables keyed by id: the kind is the trigger's argument.
CREATE FUNCTION record_search_changed() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO search_changes (kind, record_key) VALUES (TG_ARGV[0], OLD.id::TEXT);
    ELSE
        INSERT INTO search_changes (kind, record_key) VALUES (TG_ARGV[0], NEW.id::TEXT);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER problems_search AFTER INSERT OR UPDATE OR DELETE ON tech_problems
FOR EACH ROW EXECUTE FUNCTION record_search_changed('problem');
CREATE TRIGGER enterprises_search AFTER INSERT OR UPDATE OR DELETE ON enterprises
FOR EACH ROW EXECUTE FUNCTION record_search_changed('enterprise');
