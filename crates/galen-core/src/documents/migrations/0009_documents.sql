CREATE TABLE documents (
            id                 INTEGER PRIMARY KEY,
            uuid               TEXT NOT NULL UNIQUE,
            kind               TEXT NOT NULL CHECK (kind IN ('prescription', 'birth', 'death', 'sick_leave', 'void')),
            patient_id         INTEGER NOT NULL REFERENCES patients (id),
            author_id          INTEGER NOT NULL REFERENCES staff (id),
            status             TEXT NOT NULL CHECK (status IN ('draft', 'signed')),
            body               TEXT NOT NULL,
            supersedes         INTEGER REFERENCES documents (id),
            superseded_by      INTEGER REFERENCES documents (id),
            voided_by          INTEGER REFERENCES documents (id),
            clinic_name        TEXT,
            patient_snapshot   TEXT,
            signer_id          INTEGER REFERENCES staff (id),
            signer_name        TEXT,
            signer_licence     TEXT,
            signer_fingerprint TEXT,
            signed_at          TEXT,
            canonical          TEXT,
            signature          TEXT,
            created_at         TEXT NOT NULL,
            updated_at         TEXT NOT NULL
          ) STRICT;
          CREATE INDEX documents_patient ON documents (patient_id);