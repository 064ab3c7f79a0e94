CREATE TABLE staff (
            id                   INTEGER PRIMARY KEY,
            username             TEXT NOT NULL UNIQUE,
            display_name         TEXT NOT NULL,
            role                 TEXT NOT NULL CHECK (role IN ('admin', 'doctor', 'nurse', 'receptionist')),
            licence_number       TEXT,
            active               INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            password_hash        TEXT NOT NULL,
            must_change_password INTEGER NOT NULL DEFAULT 0 CHECK (must_change_password IN (0, 1)),
            created_at           TEXT NOT NULL,
            updated_at           TEXT NOT NULL
          ) STRICT;