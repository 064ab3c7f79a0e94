-- Until when a busy partner (HTTP 429, Retry-After) asked not to be called again (RFC 3339): the background
-- sync waits at least that long, across restarts.
ALTER TABLE sync_partner ADD COLUMN busy_until TEXT;
