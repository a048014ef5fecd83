/// The PostgreSQL project schema, as numbered steps.
///
/// It is SQLite's final schema (after every step of `QuorumStore`'s `Schema`)
/// in PostgreSQL's types:
/// - integers are BIGINT (SQLite's INTEGER is 64-bit). Keys that SQLite gives
///   out as rowids (items, rounds, tasks, answers, events, staged items) are
///   plain BIGINT keys that the store assigns as the largest so far plus one,
///   under the writer lock, exactly as SQLite does: no sequence, so a rolled-back
///   write (a `--dry-run`) leaves no gap and the event log's `seq` stays contiguous;
/// - REAL is DOUBLE PRECISION, BLOB is BYTEA (vectors keep SQLite's bytes);
/// - SQLite's 0/1 flags are BOOLEAN (the Swift side reads them as `Bool` either way);
/// - every text column is `COLLATE "C"`, so that ORDER BY sorts by bytes as
///   SQLite's BINARY collation does, whatever the database's locale;
/// - timestamps stay ISO 8601 text, as the event chain hashes them.
///
/// A step that has shipped is never edited: later changes are new steps
/// appended below. Each step runs in its own transaction and is recorded in
/// `quorum_migrations`; a database with a step this build does not know was
/// written by a newer Quorum and is refused.
enum PostgresSchema {
    struct Step {
        let identifier: String
        let sql: [String]
    }

    /// This build's schema version: the number of steps it knows.
    static var version: Int { steps.count }

    /// The table that records applied steps.
    static let migrationsTable = """
        CREATE TABLE quorum_migrations (
            step       BIGINT PRIMARY KEY,
            identifier TEXT COLLATE "C" NOT NULL UNIQUE,
            applied_at TEXT COLLATE "C" NOT NULL
        )
        """

    static let steps: [Step] = [
        Step(identifier: "pg1-tables", sql: [
            """
            CREATE TABLE project (
                key   TEXT COLLATE "C" PRIMARY KEY,
                value TEXT COLLATE "C" NOT NULL
            )
            """,
            """
            CREATE TABLE labels (
                position BIGINT PRIMARY KEY,
                name     TEXT COLLATE "C" NOT NULL UNIQUE
            )
            """,
            """
            CREATE TABLE items (
                key          BIGINT PRIMARY KEY,
                id           TEXT COLLATE "C" NOT NULL UNIQUE,
                kind         TEXT COLLATE "C" NOT NULL CHECK (kind IN ('pool','seed','test','gold')),
                content_hash BIGINT NOT NULL,
                text         TEXT COLLATE "C",
                vector       BYTEA,
                meta         TEXT COLLATE "C",
                label        TEXT COLLATE "C",
                CHECK (kind = 'pool' OR label IS NOT NULL)
            )
            """,
            "CREATE INDEX items_by_content ON items(content_hash)",
            """
            CREATE TABLE annotators (
                name       TEXT COLLATE "C" PRIMARY KEY,
                role       TEXT COLLATE "C" NOT NULL CHECK (role IN ('annotator','adjudicator','lead')),
                created_at TEXT COLLATE "C" NOT NULL,
                token_hash TEXT COLLATE "C"
            )
            """,
            "CREATE UNIQUE INDEX annotators_by_token ON annotators(token_hash) WHERE token_hash IS NOT NULL",
            """
            CREATE TABLE model_versions (
                id         TEXT COLLATE "C" PRIMARY KEY,
                seq        BIGINT NOT NULL UNIQUE,
                created_at TEXT COLLATE "C" NOT NULL,
                kind       TEXT COLLATE "C" NOT NULL,
                settings   TEXT COLLATE "C" NOT NULL,
                trained_on BIGINT NOT NULL,
                metrics    TEXT COLLATE "C" NOT NULL,
                state      BYTEA NOT NULL,
                is_live    BOOLEAN NOT NULL DEFAULT FALSE,
                is_shadow  BOOLEAN NOT NULL DEFAULT FALSE
            )
            """,
            """
            CREATE TABLE predictions (
                model_id           TEXT COLLATE "C" NOT NULL REFERENCES model_versions(id),
                item_key           BIGINT NOT NULL REFERENCES items(key),
                probs              BYTEA NOT NULL,
                label              BIGINT,
                confidence         DOUBLE PRECISION,
                margin             DOUBLE PRECISION,
                entropy            DOUBLE PRECISION,
                vote_entropy       DOUBLE PRECISION,
                mean_kl            DOUBLE PRECISION,
                mutual_information DOUBLE PRECISION,
                PRIMARY KEY (model_id, item_key)
            )
            """,
            """
            CREATE TABLE rounds (
                id            BIGINT PRIMARY KEY,
                status        TEXT COLLATE "C" NOT NULL CHECK (status IN ('open','closed','cancelled')),
                created_at    TEXT COLLATE "C" NOT NULL,
                closed_at     TEXT COLLATE "C",
                model_version TEXT COLLATE "C" REFERENCES model_versions(id),
                overlap       BIGINT NOT NULL CHECK (overlap >= 1),
                settings      TEXT COLLATE "C" NOT NULL,
                metrics       TEXT COLLATE "C"
            )
            """,
            // The queue's order within a round: higher uncertainty first, then the
            // earlier deadline (1e308 = none), then the task id. Answers wanted
            // (`needed`) and counted (`done`: a label or a flag, not a skip).
            """
            CREATE TABLE tasks (
                id          BIGINT PRIMARY KEY,
                round_id    BIGINT NOT NULL REFERENCES rounds(id),
                item_key    BIGINT NOT NULL REFERENCES items(key),
                strategy    TEXT COLLATE "C" NOT NULL,
                score       DOUBLE PRECISION NOT NULL,
                rank        BIGINT NOT NULL,
                uncertainty DOUBLE PRECISION NOT NULL DEFAULT 0,
                deadline    DOUBLE PRECISION NOT NULL DEFAULT 1e308,
                blind       BOOLEAN NOT NULL DEFAULT FALSE,
                needed      BIGINT NOT NULL DEFAULT 1,
                done        BIGINT NOT NULL DEFAULT 0,
                UNIQUE (round_id, item_key)
            )
            """,
            "CREATE INDEX tasks_by_item ON tasks(item_key)",
            "CREATE INDEX tasks_queue ON tasks(round_id, uncertainty DESC, deadline, id) INCLUDE (done, needed) WHERE done < needed",
            "CREATE INDEX tasks_progress ON tasks(round_id, done, needed)",
            """
            CREATE TABLE answers (
                id         BIGINT PRIMARY KEY,
                task_id    BIGINT NOT NULL REFERENCES tasks(id),
                annotator  TEXT COLLATE "C" NOT NULL REFERENCES annotators(name),
                label      TEXT COLLATE "C",
                seconds    DOUBLE PRECISION NOT NULL,
                note       TEXT COLLATE "C",
                flagged    BOOLEAN NOT NULL DEFAULT FALSE,
                created_at TEXT COLLATE "C" NOT NULL,
                UNIQUE (task_id, annotator)
            )
            """,
            // A claim holds one of a task's slots for one annotator until it expires (the lease).
            """
            CREATE TABLE claims (
                task_id    BIGINT NOT NULL REFERENCES tasks(id),
                annotator  TEXT COLLATE "C" NOT NULL REFERENCES annotators(name),
                expires_at DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (task_id, annotator)
            )
            """,
            "CREATE INDEX claims_by_annotator ON claims(annotator)",
            """
            CREATE TABLE consensus (
                item_key   BIGINT PRIMARY KEY REFERENCES items(key),
                label      TEXT COLLATE "C",
                confidence DOUBLE PRECISION NOT NULL,
                method     TEXT COLLATE "C" NOT NULL,
                answers    BIGINT NOT NULL,
                is_dispute BOOLEAN NOT NULL,
                updated_at TEXT COLLATE "C" NOT NULL
            )
            """,
            """
            CREATE TABLE auto_labels (
                item_key      BIGINT PRIMARY KEY REFERENCES items(key),
                label         TEXT COLLATE "C" NOT NULL,
                confidence    DOUBLE PRECISION NOT NULL,
                round_id      BIGINT NOT NULL REFERENCES rounds(id),
                model_version TEXT COLLATE "C" NOT NULL REFERENCES model_versions(id),
                audited       BOOLEAN NOT NULL DEFAULT FALSE
            )
            """,
            // An adjudicator's ruling on a disputed item; it outranks any vote.
            """
            CREATE TABLE adjudications (
                item_key    BIGINT PRIMARY KEY REFERENCES items(key),
                label       TEXT COLLATE "C" NOT NULL,
                adjudicator TEXT COLLATE "C" NOT NULL REFERENCES annotators(name),
                at          TEXT COLLATE "C" NOT NULL
            )
            """,
            """
            CREATE TABLE snapshots (
                number        BIGINT PRIMARY KEY,
                parent        BIGINT REFERENCES snapshots(number),
                hash          TEXT COLLATE "C" NOT NULL,
                items         BIGINT NOT NULL,
                created_at    TEXT COLLATE "C" NOT NULL,
                created_by    TEXT COLLATE "C" NOT NULL,
                message       TEXT COLLATE "C" NOT NULL,
                model_version TEXT COLLATE "C",
                method        TEXT COLLATE "C" NOT NULL,
                rounds        TEXT COLLATE "C" NOT NULL,
                audit_seq     BIGINT,
                audit_hash    TEXT COLLATE "C"
            )
            """,
            """
            CREATE TABLE snapshot_rows (
                snapshot   BIGINT NOT NULL REFERENCES snapshots(number),
                item_id    TEXT COLLATE "C" NOT NULL,
                label      TEXT COLLATE "C" NOT NULL,
                source     TEXT COLLATE "C" NOT NULL,
                confidence DOUBLE PRECISION NOT NULL,
                split      TEXT COLLATE "C" NOT NULL,
                answers    TEXT COLLATE "C" NOT NULL,
                row_hash   TEXT COLLATE "C",
                PRIMARY KEY (snapshot, item_id)
            )
            """,
            """
            CREATE TABLE events (
                seq           BIGINT PRIMARY KEY,
                at            TEXT COLLATE "C" NOT NULL,
                kind          TEXT COLLATE "C" NOT NULL,
                item_id       TEXT COLLATE "C",
                annotator     TEXT COLLATE "C",
                model_version TEXT COLLATE "C",
                confidence    DOUBLE PRECISION,
                detail        TEXT COLLATE "C" NOT NULL,
                prev_hash     TEXT COLLATE "C" NOT NULL,
                hash          TEXT COLLATE "C" NOT NULL
            )
            """,
            "CREATE INDEX events_by_item ON events(item_id)",
            // An import stages its items here in short transactions, then publishes
            // them into items in one INSERT … SELECT: all or nothing.
            """
            CREATE TABLE staged_items (
                seq          BIGINT PRIMARY KEY,
                batch        BIGINT NOT NULL,
                line         BIGINT NOT NULL,
                id           TEXT COLLATE "C" NOT NULL,
                kind         TEXT COLLATE "C" NOT NULL,
                content_hash BIGINT NOT NULL,
                text         TEXT COLLATE "C",
                vector       BYTEA,
                meta         TEXT COLLATE "C",
                label        TEXT COLLATE "C",
                staged_at    DOUBLE PRECISION NOT NULL,
                UNIQUE (batch, id)
            )
            """,
        ]),
        // The event log and snapshots are append-only, as in SQLite (whose triggers
        // raise the same messages); PostgreSQL also has TRUNCATE to refuse. Each
        // event has at most one successor, so the chain cannot fork even if a
        // writer bypassed the store's lock.
        Step(identifier: "pg2-append-only", sql: [
            """
            CREATE FUNCTION quorum_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'restrict_violation';
            END
            $$
            """,
            """
            CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
                FOR EACH ROW EXECUTE FUNCTION quorum_refuse('the event log is append-only')
            """,
            """
            CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
                FOR EACH STATEMENT EXECUTE FUNCTION quorum_refuse('the event log is append-only')
            """,
            """
            CREATE TRIGGER snapshot_rows_immutable BEFORE UPDATE OR DELETE ON snapshot_rows
                FOR EACH ROW EXECUTE FUNCTION quorum_refuse('snapshots are immutable')
            """,
            """
            CREATE TRIGGER snapshot_rows_no_truncate BEFORE TRUNCATE ON snapshot_rows
                FOR EACH STATEMENT EXECUTE FUNCTION quorum_refuse('snapshots are immutable')
            """,
            "CREATE UNIQUE INDEX events_one_successor ON events(prev_hash)",
        ]),
        // An annotator's answers, found without reading the whole table: their
        // count in the open round comes with every item they are given.
        Step(identifier: "pg3-answers-by-annotator", sql: [
            "CREATE INDEX answers_by_annotator ON answers(annotator)",
        ]),
        // A review queue serves what is due first: the earlier deadline, then
        // higher uncertainty, then the task id.
        Step(identifier: "pg4-queue-due-first", sql: [
            "DROP INDEX tasks_queue",
            "CREATE INDEX tasks_queue ON tasks(round_id, deadline, uncertainty DESC, id) INCLUDE (done, needed) WHERE done < needed",
        ]),
        // Open incidents, the last drift comparison and the KPIs' times read the
        // events of a few kinds, not the whole log.
        Step(identifier: "pg5-events-by-kind", sql: [
            "CREATE INDEX events_by_kind ON events(kind, seq)",
        ]),
    ]
}
