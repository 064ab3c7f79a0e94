-- The newest trust list each other site shared: which keys are its doctors' (documents/trust.rs). A received
          -- document counts as vouched for only if the list of the site it came from vouches for its key.
          CREATE TABLE received_trust_lists (
            origin      TEXT PRIMARY KEY,
            clinic      TEXT NOT NULL,
            issued_at   TEXT NOT NULL,
            list        TEXT NOT NULL,
            received_at TEXT NOT NULL
          ) STRICT;
