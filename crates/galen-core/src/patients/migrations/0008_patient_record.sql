ALTER TABLE patients ADD COLUMN mrn TEXT;
          ALTER TABLE patients ADD COLUMN sex TEXT NOT NULL DEFAULT 'unknown'
              CHECK (sex IN ('female', 'male', 'other', 'unknown'));
          ALTER TABLE patients ADD COLUMN dob_estimated INTEGER NOT NULL DEFAULT 0;
          ALTER TABLE patients ADD COLUMN national_id TEXT;
          ALTER TABLE patients ADD COLUMN phones TEXT NOT NULL DEFAULT '[]';
          ALTER TABLE patients ADD COLUMN email TEXT NOT NULL DEFAULT '';
          ALTER TABLE patients ADD COLUMN address TEXT NOT NULL DEFAULT '';
          ALTER TABLE patients ADD COLUMN emergency_contact TEXT NOT NULL DEFAULT '{}';
          ALTER TABLE patients ADD COLUMN consent_share INTEGER NOT NULL DEFAULT 0;
          ALTER TABLE patients ADD COLUMN blood_type TEXT NOT NULL DEFAULT '';
          ALTER TABLE patients ADD COLUMN allergies TEXT NOT NULL DEFAULT '[]';
          ALTER TABLE patients ADD COLUMN conditions TEXT NOT NULL DEFAULT '[]';
          ALTER TABLE patients ADD COLUMN pregnancy_status TEXT NOT NULL DEFAULT 'unknown';
          ALTER TABLE patients ADD COLUMN pregnancy_as_of TEXT NOT NULL DEFAULT '';
          ALTER TABLE patients ADD COLUMN deceased INTEGER NOT NULL DEFAULT 0;
          ALTER TABLE patients ADD COLUMN merged_into INTEGER REFERENCES patients (id);
          CREATE UNIQUE INDEX patients_mrn ON patients (mrn);
          CREATE UNIQUE INDEX patients_national_id ON patients (national_id)
              WHERE national_id IS NOT NULL AND merged_into IS NULL;
          CREATE INDEX patients_dob ON patients (date_of_birth);
          CREATE TABLE patient_identifiers (
              kind       TEXT NOT NULL CHECK (kind IN ('mrn', 'phone')),
              value      TEXT NOT NULL,
              patient_id INTEGER NOT NULL REFERENCES patients (id),
              PRIMARY KEY (kind, value, patient_id)
          ) STRICT, WITHOUT ROWID;
          CREATE INDEX patient_identifiers_patient ON patient_identifiers (patient_id);
          CREATE VIRTUAL TABLE patient_search USING fts5 (
              names, tokenize = 'unicode61 remove_diacritics 2', prefix = '1 2 3'
          );