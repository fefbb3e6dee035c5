-- The rest of what the search indexes follow (issue 15, item 5): an expert's linked achievements (part
-- of the expert's search text), technical problems and enterprises append to search_changes in the
-- same transaction as the write, as achievements and experts do since 0020.

-- One function for all three: the kind and the column holding the record's key are the trigger's arguments.
CREATE FUNCTION record_search_changed() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO search_changes (kind, record_key) VALUES (TG_ARGV[0], to_jsonb(OLD) ->> TG_ARGV[1]);
    ELSE
        INSERT INTO search_changes (kind, record_key) VALUES (TG_ARGV[0], to_jsonb(NEW) ->> TG_ARGV[1]);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER expert_links_search AFTER INSERT OR DELETE ON expert_achievements
FOR EACH ROW EXECUTE FUNCTION record_search_changed('expert', 'expert_id');
CREATE TRIGGER problems_search AFTER INSERT OR UPDATE OR DELETE ON tech_problems
FOR EACH ROW EXECUTE FUNCTION record_search_changed('problem', 'id');
CREATE TRIGGER enterprises_search AFTER INSERT OR UPDATE OR DELETE ON enterprises
FOR EACH ROW EXECUTE FUNCTION record_search_changed('enterprise', 'id');
