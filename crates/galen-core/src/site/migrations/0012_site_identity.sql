CREATE TABLE site_identity (
            id          INTEGER PRIMARY KEY CHECK (id = 1),
            name        TEXT NOT NULL,
            ca_cert     TEXT NOT NULL,
            ca_key      TEXT NOT NULL,
            client_cert TEXT NOT NULL,
            client_key  TEXT NOT NULL,
            openpgp_key TEXT NOT NULL,
            created_at  TEXT NOT NULL
          ) STRICT;