CREATE TABLE break_glass (
            id         INTEGER PRIMARY KEY,
            user_id    INTEGER NOT NULL REFERENCES staff (id),
            patient_id INTEGER NOT NULL REFERENCES patients (id),
            reason     TEXT NOT NULL,
            at         TEXT NOT NULL,
            until      TEXT NOT NULL
          ) STRICT;