CREATE TABLE galen_meta (
            singleton  INTEGER PRIMARY KEY CHECK (singleton = 1),
            app        TEXT NOT NULL CHECK (app = 'galen'),
            db_id      TEXT NOT NULL,
            created_at TEXT NOT NULL
          ) STRICT;