-- Telegram users known to tgfleet: Stars buyers, business owners, their customers, operators.
-- Telegram ids have up to 52 significant bits: bigint, never int.
CREATE TABLE users (
        telegram_id    bigint PRIMARY KEY CHECK (telegram_id > 0),
        username       text CHECK (username IS NULL OR length(username) BETWEEN 1 AND 64),
        first_name     text NOT NULL DEFAULT '' CHECK (length(first_name) <= 256),
        language_code  text CHECK (language_code IS NULL OR language_code ~ '^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{1,8})*$'),
        blocked_bot    boolean NOT NULL DEFAULT false,  -- 403 "bot was blocked by the user"
        created_at     timestamptz NOT NULL DEFAULT now(),
        updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX users_username_idx ON users (lower(username)) WHERE username IS NOT NULL;
