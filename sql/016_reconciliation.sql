-- Reconciliation with WorkOS's REST API (backfill is a reconciliation of a directory the mirror lacks). A run lists
-- the directory page by page; what it listed is written here as it goes, so a run resumes where it stopped after a
-- crash and its deletions (what the mirror holds and the listing did not show) are found only once the listing ended.

-- One row per run: what it found, repaired and held back, for the operator (GET /admin/directories/{id}/sync).
CREATE TABLE reconcile_runs (
    run_id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workos_directory_id text        NOT NULL,
    kind                text        NOT NULL CHECK (kind IN ('backfill', 'reconcile')),
    reason              text        NOT NULL,
    forced              boolean     NOT NULL DEFAULT false,
    -- When the listing began: what it shows is WorkOS at that time, so every change made after it wins over it.
    listed_at           timestamptz NOT NULL,
    finished_at         timestamptz,
    status              text        NOT NULL DEFAULT 'running'
                        CHECK (status IN ('running', 'completed', 'held', 'superseded')),
    report              jsonb       NOT NULL DEFAULT '{}'
);

CREATE INDEX idx_reconcile_runs_directory ON reconcile_runs (workos_directory_id, run_id DESC);

-- The ids a run's listing showed (users and groups): the mirror's rows not among them are deletion candidates.
CREATE TABLE reconcile_listed (
    run_id      bigint NOT NULL REFERENCES reconcile_runs (run_id) ON DELETE CASCADE,
    object_kind text   NOT NULL CHECK (object_kind IN ('user', 'group')),
    object_id   text   NOT NULL,
    PRIMARY KEY (run_id, object_kind, object_id)
);

-- A run's deletions: found when its listing ended, applied unless a guard held them (then kept for the operator, who
-- can force them). Memberships are planned per group as soon as that group's members were listed.
CREATE TABLE reconcile_plan (
    run_id      bigint NOT NULL REFERENCES reconcile_runs (run_id) ON DELETE CASCADE,
    object_kind text   NOT NULL CHECK (object_kind IN ('user', 'group', 'membership')),
    object_id   text   NOT NULL,
    group_id    text,
    user_id     text,
    PRIMARY KEY (run_id, object_kind, object_id)
);

-- The newest event a directory's flushes applied (webhook or Events API), for the operator: the fence row is locked by
-- every flush anyway, so keeping it here costs no extra row.
ALTER TABLE sync_fences
    ADD COLUMN last_event_id text,
    ADD COLUMN last_event_created_at timestamptz,
    ADD COLUMN last_applied_at timestamptz;
