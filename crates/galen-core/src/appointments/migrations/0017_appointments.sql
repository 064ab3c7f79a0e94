CREATE TABLE appointment_series (
            id          INTEGER PRIMARY KEY,
            every_weeks INTEGER NOT NULL CHECK (every_weeks BETWEEN 1 AND 52),
            created_at  TEXT NOT NULL
          ) STRICT;
CREATE TABLE appointments (
            id              INTEGER PRIMARY KEY,
            patient_id      INTEGER NOT NULL REFERENCES patients (id),
            doctor_id       INTEGER NOT NULL REFERENCES staff (id),
            series_id       INTEGER REFERENCES appointment_series (id),
            starts          TEXT NOT NULL,
            ends            TEXT NOT NULL,
            reason          TEXT NOT NULL,
            reason_clinical INTEGER NOT NULL DEFAULT 0,
            status          TEXT NOT NULL DEFAULT 'booked'
                            CHECK (status IN ('booked', 'arrived', 'in_progress', 'done', 'cancelled', 'no_show')),
            cancel_reason   TEXT NOT NULL DEFAULT '',
            arrived_at      TEXT,
            started_at      TEXT,
            finished_at     TEXT,
            created_at      TEXT NOT NULL,
            updated_at      TEXT NOT NULL
          ) STRICT;
CREATE INDEX appointments_by_start ON appointments (starts);
CREATE INDEX appointments_by_doctor ON appointments (doctor_id, starts);
CREATE INDEX appointments_by_patient ON appointments (patient_id, starts);
CREATE INDEX appointments_by_series ON appointments (series_id) WHERE series_id IS NOT NULL;
