CREATE TABLE sync_partner (
            id            INTEGER PRIMARY KEY CHECK (id = 1),
            name          TEXT NOT NULL,
            url           TEXT NOT NULL,
            ca_cert       TEXT NOT NULL,
            openpgp_key   TEXT NOT NULL,
            safety_number TEXT NOT NULL,
            paired_at     TEXT NOT NULL,
            cursor        INTEGER NOT NULL DEFAULT 0,
            last_attempt  TEXT,
            last_success  TEXT,
            last_error    TEXT,
            failures      INTEGER NOT NULL DEFAULT 0
          ) STRICT;
          -- The newest version of each shared or received record, and the hash of its contents.
          CREATE TABLE sync_records (
            kind    TEXT NOT NULL,
            uuid    TEXT NOT NULL,
            version INTEGER NOT NULL,
            hash    TEXT NOT NULL,
            origin  TEXT NOT NULL,
            PRIMARY KEY (kind, uuid)
          ) STRICT;
          CREATE TABLE sync_outbox (
            seq        INTEGER PRIMARY KEY,
            kind       TEXT NOT NULL,
            uuid       TEXT NOT NULL,
            version    INTEGER NOT NULL,
            payload    TEXT NOT NULL,
            queued_at  TEXT NOT NULL,
            attempts   INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            UNIQUE (kind, uuid, version)
          ) STRICT;
          CREATE TABLE sync_conflicts (
            id               INTEGER PRIMARY KEY,
            kind             TEXT NOT NULL,
            uuid             TEXT NOT NULL,
            local            TEXT NOT NULL,
            incoming         TEXT NOT NULL,
            incoming_origin  TEXT NOT NULL,
            incoming_version INTEGER NOT NULL,
            found_at         TEXT NOT NULL,
            resolved_at      TEXT,
            resolution       TEXT CHECK (resolution IN ('kept_local', 'took_incoming'))
          ) STRICT;
          CREATE TABLE received_documents (
            uuid         TEXT PRIMARY KEY,
            kind         TEXT NOT NULL,
            patient_uuid TEXT NOT NULL,
            canonical    TEXT NOT NULL,
            signature    TEXT NOT NULL,
            signer_key   TEXT NOT NULL,
            origin       TEXT NOT NULL,
            received_at  TEXT NOT NULL
          ) STRICT;
          CREATE TABLE sync_nonces (
            nonce   TEXT PRIMARY KEY,
            seen_at TEXT NOT NULL
          ) STRICT;
          CREATE INDEX sync_nonces_seen ON sync_nonces (seen_at);