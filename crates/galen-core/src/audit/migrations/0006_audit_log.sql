CREATE TABLE audit_log (
            id          INTEGER PRIMARY KEY,
            at          TEXT NOT NULL,
            user_id     INTEGER,
            username    TEXT NOT NULL,
            role        TEXT NOT NULL,
            action      TEXT NOT NULL,
            entity_type TEXT NOT NULL,
            entity_id   TEXT NOT NULL,
            outcome     TEXT NOT NULL,
            break_glass INTEGER NOT NULL CHECK (break_glass IN (0, 1)),
            prev_hash   TEXT NOT NULL,
            hash        TEXT NOT NULL
          ) STRICT;