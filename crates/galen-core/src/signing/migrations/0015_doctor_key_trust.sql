ALTER TABLE doctor_keys ADD COLUMN cause TEXT NOT NULL DEFAULT 'first_signature'
              CHECK (cause IN ('first_signature', 'after_reset', 'replaced'));
          ALTER TABLE doctor_keys ADD COLUMN reset_by TEXT;
          ALTER TABLE doctor_keys ADD COLUMN reset_at TEXT;
          ALTER TABLE doctor_keys ADD COLUMN told_doctor INTEGER NOT NULL DEFAULT 1 CHECK (told_doctor IN (0, 1));
          ALTER TABLE doctor_keys ADD COLUMN revocation_certificate TEXT;
          ALTER TABLE doctor_keys ADD COLUMN revoked_at TEXT;
          ALTER TABLE doctor_keys ADD COLUMN revoked_by TEXT;
          ALTER TABLE doctor_keys ADD COLUMN revocation_reason TEXT;
