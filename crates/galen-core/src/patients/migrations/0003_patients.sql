CREATE TABLE patients (
            id            INTEGER PRIMARY KEY,
            uuid          TEXT NOT NULL UNIQUE,
            given_names   TEXT NOT NULL,
            family_name   TEXT NOT NULL,
            date_of_birth TEXT,
            notes         TEXT NOT NULL DEFAULT '',
            created_at    TEXT NOT NULL,
            updated_at    TEXT NOT NULL
          ) STRICT;