-- Sentence vectors for matching (issue 15): one per record and model, computed once from the record's
-- passage and kept here, so every node reads them instead of computing them again. `digest` is the
-- SM3 of the passage the vector was computed from: after an edit it no longer matches and the vector is
-- computed anew.
CREATE TABLE embeddings (
    -- achievement | expert | problem
    kind TEXT NOT NULL,
    -- an achievement's external id; an expert's or a problem's id
    record_key TEXT NOT NULL,
    model TEXT NOT NULL,
    digest TEXT NOT NULL,
    dim INTEGER NOT NULL,
    -- dim little-endian f32
    vector BLOB NOT NULL,
    computed_at TEXT NOT NULL,
    PRIMARY KEY (kind, record_key, model),
    CHECK (kind IN ('achievement', 'expert', 'problem')),
    CHECK (dim > 0 AND length(vector) = dim * 4)
);
