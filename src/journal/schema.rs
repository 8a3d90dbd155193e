//! The journal's schema, as the migrations that build it: `PRAGMA user_version` is how many
//! have run, so a journal from any earlier booth is brought up to date when it opens.

/// Schema migrations, in order; `PRAGMA user_version` is how many have run.
pub(super) const MIGRATIONS: &[&str] = &[
    // 1: the first schema.
    "CREATE TABLE tickets (
        id TEXT PRIMARY KEY,
        first_seen INTEGER NOT NULL,
        attempts_used INTEGER NOT NULL DEFAULT 0 CHECK (attempts_used BETWEEN 0 AND 3),
        orders INTEGER NOT NULL DEFAULT 0,
        finished_at INTEGER
    );
    CREATE TABLE attempts (
        ticket_id TEXT NOT NULL REFERENCES tickets(id),
        n INTEGER NOT NULL CHECK (n BETWEEN 1 AND 3),
        started_at INTEGER NOT NULL,
        voided INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (ticket_id, n)
    );
    CREATE TABLE reviews (
        ticket_id TEXT NOT NULL REFERENCES tickets(id),
        attempt INTEGER NOT NULL,
        at INTEGER NOT NULL,
        passed INTEGER NOT NULL,
        reasons TEXT NOT NULL
    );
    CREATE TABLE visits (
        ticket_id TEXT NOT NULL REFERENCES tickets(id),
        ended_at INTEGER NOT NULL,
        outcome TEXT NOT NULL
    );
    CREATE TABLE audit (
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        detail TEXT NOT NULL
    );",
    // 2: photo files, payment orders, the outbox, and which visits are open (for recovery).
    "CREATE TABLE photos (
        file TEXT PRIMARY KEY,
        ticket_id TEXT NOT NULL REFERENCES tickets(id),
        attempt INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('capture', 'standard')),
        created_at INTEGER NOT NULL,
        chosen_at INTEGER,
        deleted_at INTEGER
    );
    CREATE TABLE orders (
        out_trade_no TEXT PRIMARY KEY,
        ticket_id TEXT NOT NULL REFERENCES tickets(id),
        photo TEXT REFERENCES photos(file),
        amount_fen INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('creating', 'open', 'paid', 'closed', 'unreachable')),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE TABLE outbox (
        photo TEXT PRIMARY KEY REFERENCES photos(file),
        out_trade_no TEXT NOT NULL UNIQUE REFERENCES orders(out_trade_no),
        queued_at INTEGER NOT NULL,
        sent_at INTEGER
    );
    ALTER TABLE tickets ADD COLUMN visit_open_since INTEGER;",
    // 3: WeChat Pay and the upload. Orders keep their transaction id and expiry and may be
    // 'disputed' (a signed answer that does not match the order); the outbox holds sealed
    // (age) files with their SHA-256 and upload tries; reviews keep their measures for the
    // manifest. SQLite cannot change a CHECK, so `orders` is rebuilt.
    "CREATE TABLE orders_v3 (
        out_trade_no TEXT PRIMARY KEY,
        ticket_id TEXT NOT NULL REFERENCES tickets(id),
        photo TEXT REFERENCES photos(file),
        amount_fen INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('creating', 'open', 'paid', 'closed', 'unreachable', 'disputed')),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        expires_at INTEGER,
        transaction_id TEXT
    );
    INSERT INTO orders_v3 (out_trade_no, ticket_id, photo, amount_fen, state, created_at, updated_at)
        SELECT out_trade_no, ticket_id, photo, amount_fen, state, created_at, updated_at FROM orders;
    DROP TABLE orders;
    ALTER TABLE orders_v3 RENAME TO orders;
    ALTER TABLE outbox ADD COLUMN sealed_sha256 TEXT;
    ALTER TABLE outbox ADD COLUMN tries INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE reviews ADD COLUMN measures TEXT NOT NULL DEFAULT '{}';",
    // 4: order numbers from one counter of the booth's (`payment::out_trade_no`: booth id and
    // counter), no longer from the ticket; the orders made under the old scheme keep theirs.
    // Outbox entries keep their last upload error, and whether the store or the files refuse
    // them for good (a person must look).
    "CREATE TABLE counters (
        name TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    );
    ALTER TABLE outbox ADD COLUMN last_error TEXT;
    ALTER TABLE outbox ADD COLUMN refused INTEGER NOT NULL DEFAULT 0;",
    // 5: orders no longer keep their expiry: the payer and WeChat Pay's `time_expire` carry
    // it, and nothing ever read it back.
    "ALTER TABLE orders DROP COLUMN expires_at;",
];
