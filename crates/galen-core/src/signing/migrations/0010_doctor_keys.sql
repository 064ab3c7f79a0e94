CREATE TABLE doctor_keys (
            id          INTEGER PRIMARY KEY,
            staff_id    INTEGER NOT NULL REFERENCES staff (id),
            fingerprint TEXT NOT NULL UNIQUE,
            secret_key  TEXT NOT NULL,
            active      INTEGER NOT NULL CHECK (active IN (0, 1)),
            created_at  TEXT NOT NULL
          ) STRICT;
          CREATE INDEX doctor_keys_staff ON doctor_keys (staff_id);