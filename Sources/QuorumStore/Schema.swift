import GRDB

/// The project's schema, as GRDB migrations.
///
/// A migration that has shipped is never edited: later changes are new
/// migrations appended below. Migrations are plain SQL and use no app types.
enum Schema {
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1-foundation") { db in
            try db.execute(sql: """
                CREATE TABLE project (
                    key   TEXT PRIMARY KEY,
                    value TEXT NOT NULL
                );
                CREATE TABLE labels (
                    position INTEGER PRIMARY KEY,
                    name     TEXT NOT NULL UNIQUE
                );
                CREATE TABLE items (
                    key          INTEGER PRIMARY KEY,
                    id           TEXT NOT NULL UNIQUE,
                    kind         TEXT NOT NULL CHECK (kind IN ('pool','seed','test','gold')),
                    content_hash INTEGER NOT NULL,
                    text         TEXT,
                    vector       BLOB,
                    meta         TEXT,
                    label        TEXT,
                    CHECK (kind = 'pool' OR label IS NOT NULL)
                );
                CREATE INDEX items_by_content ON items(content_hash);
                CREATE TABLE annotators (
                    name       TEXT PRIMARY KEY,
                    role       TEXT NOT NULL CHECK (role IN ('annotator','adjudicator')),
                    created_at TEXT NOT NULL
                );
                CREATE TABLE model_versions (
                    id         TEXT PRIMARY KEY,
                    seq        INTEGER NOT NULL UNIQUE,
                    created_at TEXT NOT NULL,
                    kind       TEXT NOT NULL,
                    settings   TEXT NOT NULL,
                    trained_on INTEGER NOT NULL,
                    metrics    TEXT NOT NULL,
                    state      BLOB NOT NULL,
                    is_live    INTEGER NOT NULL DEFAULT 0
                );
                CREATE TABLE predictions (
                    model_id TEXT NOT NULL REFERENCES model_versions(id),
                    item_key INTEGER NOT NULL REFERENCES items(key),
                    probs    BLOB NOT NULL,
                    PRIMARY KEY (model_id, item_key)
                ) WITHOUT ROWID;
                CREATE TABLE rounds (
                    id            INTEGER PRIMARY KEY,
                    status        TEXT NOT NULL CHECK (status IN ('open','closed')),
                    created_at    TEXT NOT NULL,
                    closed_at     TEXT,
                    model_version TEXT REFERENCES model_versions(id),
                    overlap       INTEGER NOT NULL CHECK (overlap >= 1),
                    settings      TEXT NOT NULL,
                    metrics       TEXT
                );
                CREATE TABLE tasks (
                    id       INTEGER PRIMARY KEY,
                    round_id INTEGER NOT NULL REFERENCES rounds(id),
                    item_key INTEGER NOT NULL REFERENCES items(key),
                    strategy TEXT NOT NULL,
                    score    REAL NOT NULL,
                    rank     INTEGER NOT NULL,
                    UNIQUE (round_id, item_key)
                );
                CREATE INDEX tasks_by_item ON tasks(item_key);
                CREATE TABLE answers (
                    id         INTEGER PRIMARY KEY,
                    task_id    INTEGER NOT NULL REFERENCES tasks(id),
                    annotator  TEXT NOT NULL REFERENCES annotators(name),
                    label      TEXT,
                    seconds    REAL NOT NULL,
                    note       TEXT,
                    flagged    INTEGER NOT NULL DEFAULT 0,
                    created_at TEXT NOT NULL,
                    UNIQUE (task_id, annotator)
                );
                CREATE TABLE consensus (
                    item_key   INTEGER PRIMARY KEY REFERENCES items(key),
                    label      TEXT,
                    confidence REAL NOT NULL,
                    method     TEXT NOT NULL,
                    answers    INTEGER NOT NULL,
                    is_dispute INTEGER NOT NULL,
                    updated_at TEXT NOT NULL
                );
                CREATE TABLE snapshots (
                    number     INTEGER PRIMARY KEY,
                    parent     INTEGER REFERENCES snapshots(number),
                    hash       TEXT NOT NULL,
                    items      INTEGER NOT NULL,
                    created_at TEXT NOT NULL,
                    created_by TEXT NOT NULL,
                    message    TEXT NOT NULL,
                    model_version TEXT,
                    method     TEXT NOT NULL,
                    rounds     TEXT NOT NULL
                );
                CREATE TABLE snapshot_rows (
                    snapshot   INTEGER NOT NULL REFERENCES snapshots(number),
                    item_id    TEXT NOT NULL,
                    label      TEXT NOT NULL,
                    source     TEXT NOT NULL,
                    confidence REAL NOT NULL,
                    split      TEXT NOT NULL,
                    answers    TEXT NOT NULL,
                    PRIMARY KEY (snapshot, item_id)
                ) WITHOUT ROWID;
                CREATE TABLE events (
                    seq           INTEGER PRIMARY KEY,
                    at            TEXT NOT NULL,
                    kind          TEXT NOT NULL,
                    item_id       TEXT,
                    annotator     TEXT,
                    model_version TEXT,
                    confidence    REAL,
                    detail        TEXT NOT NULL,
                    prev_hash     TEXT NOT NULL,
                    hash          TEXT NOT NULL
                );
                CREATE INDEX events_by_item ON events(item_id);
                -- The event log and snapshots are append-only.
                CREATE TRIGGER events_no_update BEFORE UPDATE ON events
                    BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
                CREATE TRIGGER events_no_delete BEFORE DELETE ON events
                    BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
                CREATE TRIGGER snapshot_rows_no_update BEFORE UPDATE ON snapshot_rows
                    BEGIN SELECT RAISE(ABORT, 'snapshots are immutable'); END;
                CREATE TRIGGER snapshot_rows_no_delete BEFORE DELETE ON snapshot_rows
                    BEGIN SELECT RAISE(ABORT, 'snapshots are immutable'); END;
                """)
        }
        m.registerMigration("v2-engine") { db in
            try db.execute(sql: """
                -- What the engine measured per item, so the router and sampler need not rescore.
                ALTER TABLE predictions ADD COLUMN label INTEGER;
                ALTER TABLE predictions ADD COLUMN confidence REAL;
                ALTER TABLE predictions ADD COLUMN margin REAL;
                ALTER TABLE predictions ADD COLUMN entropy REAL;
                ALTER TABLE predictions ADD COLUMN vote_entropy REAL;
                ALTER TABLE predictions ADD COLUMN mean_kl REAL;
                ALTER TABLE predictions ADD COLUMN mutual_information REAL;
                -- A shadow model scores items without driving the routing.
                ALTER TABLE model_versions ADD COLUMN is_shadow INTEGER NOT NULL DEFAULT 0;
                -- Items the router labelled itself, and whether people audited them.
                CREATE TABLE auto_labels (
                    item_key      INTEGER PRIMARY KEY REFERENCES items(key),
                    label         TEXT NOT NULL,
                    confidence    REAL NOT NULL,
                    round_id      INTEGER NOT NULL REFERENCES rounds(id),
                    model_version TEXT NOT NULL REFERENCES model_versions(id),
                    audited       INTEGER NOT NULL DEFAULT 0
                );
                """)
        }
        m.registerMigration("v3-snapshot-row-hashes") { db in
            // Each row's own digest, so that verification can name the rows that changed.
            try db.execute(sql: "ALTER TABLE snapshot_rows ADD COLUMN row_hash TEXT")
        }
        m.registerMigration("v4-adjudications") { db in
            try db.execute(sql: """
                -- An adjudicator's ruling on a disputed item; it outranks any vote.
                CREATE TABLE adjudications (
                    item_key    INTEGER PRIMARY KEY REFERENCES items(key),
                    label       TEXT NOT NULL,
                    adjudicator TEXT NOT NULL REFERENCES annotators(name),
                    at          TEXT NOT NULL
                );
                """)
        }
        m.registerMigration("v5-task-queue") { db in
            try db.execute(sql: """
                -- The queue's order within a round: higher uncertainty first, then the
                -- earlier deadline (1e308 = none), then the task id.
                ALTER TABLE tasks ADD COLUMN uncertainty REAL NOT NULL DEFAULT 0;
                ALTER TABLE tasks ADD COLUMN deadline REAL NOT NULL DEFAULT 1e308;
                -- Blind tasks hide the model's suggestion from annotators.
                ALTER TABLE tasks ADD COLUMN blind INTEGER NOT NULL DEFAULT 0;
                -- Answers wanted (the round's overlap, plus any extra annotator asked
                -- for later) and answers counted so far: a label or a flag counts, a skip does not.
                ALTER TABLE tasks ADD COLUMN needed INTEGER NOT NULL DEFAULT 1;
                ALTER TABLE tasks ADD COLUMN done INTEGER NOT NULL DEFAULT 0;
                UPDATE tasks SET
                    needed = (SELECT overlap FROM rounds r WHERE r.id = tasks.round_id),
                    done = (SELECT COUNT(*) FROM answers a WHERE a.task_id = tasks.id
                                                            AND (a.label IS NOT NULL OR a.flagged = 1));
                -- Only unfinished tasks are in the queue's index, so finding the next
                -- task never walks past the finished ones; it carries done and needed,
                -- so the walk never reads the table. The progress line sums a round's
                -- slots from its own index.
                CREATE INDEX tasks_queue ON tasks(round_id, uncertainty DESC, deadline, id, done, needed) WHERE done < needed;
                CREATE INDEX tasks_progress ON tasks(round_id, done, needed);
                -- A claim holds one of a task's slots for one annotator until it expires (the lease).
                CREATE TABLE claims (
                    task_id    INTEGER NOT NULL REFERENCES tasks(id),
                    annotator  TEXT NOT NULL REFERENCES annotators(name),
                    expires_at REAL NOT NULL,
                    PRIMARY KEY (task_id, annotator)
                ) WITHOUT ROWID;
                CREATE INDEX claims_by_annotator ON claims(annotator);
                """)
        }
        m.registerMigration("v7-audit-anchors") { db in
            try db.execute(sql: """
                -- Each snapshot anchors the event log: the last event (seq and hash) when
                -- it was made. `audit verify` checks every anchor, so deleting the tail
                -- of the log (or rewriting it) is caught.
                ALTER TABLE snapshots ADD COLUMN audit_seq INTEGER;
                ALTER TABLE snapshots ADD COLUMN audit_hash TEXT;
                -- A round can be cancelled (withdrawn before anyone answered): the
                -- status check gains 'cancelled' (SQLite rebuilds the table for that).
                CREATE TABLE rounds_v7 (
                    id            INTEGER PRIMARY KEY,
                    status        TEXT NOT NULL CHECK (status IN ('open','closed','cancelled')),
                    created_at    TEXT NOT NULL,
                    closed_at     TEXT,
                    model_version TEXT REFERENCES model_versions(id),
                    overlap       INTEGER NOT NULL CHECK (overlap >= 1),
                    settings      TEXT NOT NULL,
                    metrics       TEXT
                );
                INSERT INTO rounds_v7 SELECT id, status, created_at, closed_at, model_version, overlap, settings, metrics FROM rounds;
                DROP TABLE rounds;
                ALTER TABLE rounds_v7 RENAME TO rounds;
                """)
        }
        m.registerMigration("v8-import-staging") { db in
            try db.execute(sql: """
                -- An import stages its items here in short transactions, then publishes
                -- them into items in one INSERT … SELECT: all or nothing, while the
                -- write lock is held only for the copy, not for reading the file.
                CREATE TABLE staged_items (
                    seq          INTEGER PRIMARY KEY,  -- the file's order
                    batch        INTEGER NOT NULL,
                    line         INTEGER NOT NULL,
                    id           TEXT NOT NULL,
                    kind         TEXT NOT NULL,
                    content_hash INTEGER NOT NULL,
                    text         TEXT,
                    vector       BLOB,
                    meta         TEXT,
                    label        TEXT,
                    staged_at    REAL NOT NULL,
                    UNIQUE (batch, id)
                );
                """)
        }
        m.registerMigration("v9-annotator-tokens") { db in
            try db.execute(sql: """
                -- Each person gets an API token for `quorum serve`; only its SHA-256 is
                -- stored. Leads join the roles (SQLite rebuilds the table for the check).
                CREATE TABLE annotators_v9 (
                    name       TEXT PRIMARY KEY,
                    role       TEXT NOT NULL CHECK (role IN ('annotator','adjudicator','lead')),
                    created_at TEXT NOT NULL,
                    token_hash TEXT
                );
                INSERT INTO annotators_v9(name, role, created_at) SELECT name, role, created_at FROM annotators;
                DROP TABLE annotators;
                ALTER TABLE annotators_v9 RENAME TO annotators;
                CREATE UNIQUE INDEX annotators_by_token ON annotators(token_hash) WHERE token_hash IS NOT NULL;
                """)
        }
        m.registerMigration("v10-queue-due-first") { db in
            try db.execute(sql: """
                -- A review queue serves what is due first: the earlier deadline
                -- (1e308 = none), then higher uncertainty, then the task id.
                DROP INDEX tasks_queue;
                CREATE INDEX tasks_queue ON tasks(round_id, deadline, uncertainty DESC, id, done, needed) WHERE done < needed;
                """)
        }
        m.registerMigration("v11-events-by-kind") { db in
            try db.execute(sql: """
                -- Open incidents, the last drift comparison and the KPIs' times read the
                -- events of a few kinds, not the whole log.
                CREATE INDEX events_by_kind ON events(kind, seq);
                """)
        }
        return m
    }
}
