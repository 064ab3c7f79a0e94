CREATE TABLE login_throttle (
            username_hash TEXT PRIMARY KEY NOT NULL,
            failures      INTEGER NOT NULL,
            locked_until  TEXT
          ) STRICT;