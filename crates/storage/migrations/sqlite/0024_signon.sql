-- 统一身份认证 (issue 16, item 3): identity providers (OpenID Connect, 钉钉 免登) registered by the
-- 安全管理员, with their configuration SM4-sealed; the link between a provider's subject and an
-- existing account, made at the first sign-in; and sign-ins under way (state → nonce, PKCE).
CREATE TABLE sso_providers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('oidc', 'dingtalk')),
    config TEXT NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- One subject is one account, and an account has at most one subject per provider.
CREATE TABLE sso_links (
    provider_id INTEGER NOT NULL REFERENCES sso_providers(id),
    subject TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id),
    linked_at TEXT NOT NULL,
    last_login_at TEXT,
    PRIMARY KEY (provider_id, subject),
    UNIQUE (provider_id, user_id)
);

-- A sign-in sent to a provider, until it returns (single use; only the state's digest is kept).
CREATE TABLE sso_pending (
    state_hash TEXT PRIMARY KEY,
    provider_id INTEGER NOT NULL REFERENCES sso_providers(id),
    nonce TEXT NOT NULL,
    verifier TEXT NOT NULL,
    next TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sso_pending_expiry ON sso_pending(expires_at);
