-- Bookkeeping that is not live directory data: tombstones, objects waiting for their directory, user or group,
-- directory deletions still being cleaned up, and the event log.

-- The newest delete of each object (kind: directory | user | group | membership; a membership's id is
-- "<group id>/<user id>"). An event older than its object's tombstone, or than its directory's, changes nothing.
CREATE TABLE sync_tombstones (
    object_kind      text        NOT NULL,
    object_id        text        NOT NULL,
    directory_id     text        NOT NULL,
    version_at       timestamptz NOT NULL,
    version_event_id text        NOT NULL,
    deleted_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (object_id, object_kind)
);
CREATE INDEX idx_tombstones_deleted_at ON sync_tombstones (deleted_at);

-- Live objects that cannot be shown yet: a user or group whose directory is not active in the mirror, a membership
-- whose user or group is not. data holds the object as it will be written once its counterpart exists.
CREATE TABLE sync_pending (
    object_kind      text        NOT NULL,
    object_id        text        NOT NULL,
    directory_id     text        NOT NULL,
    user_id          text,
    group_id         text,
    version_at       timestamptz NOT NULL,
    version_event_id text        NOT NULL,
    data             jsonb       NOT NULL,
    pending_since    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (object_id, object_kind)
);
CREATE INDEX idx_pending_directory ON sync_pending (directory_id, object_kind);
CREATE INDEX idx_pending_user ON sync_pending (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX idx_pending_group ON sync_pending (group_id) WHERE group_id IS NOT NULL;

-- Directory deletions whose rows are still being removed (DirectoryGrain works through them, driven by a reminder).
CREATE TABLE directory_cleanups (
    workos_directory_id text        PRIMARY KEY,
    requested_at        timestamptz NOT NULL DEFAULT now()
);

-- Every signed event received: dedup across restarts, audit trail, dead letters and replay.
-- outcome: applied | stale | dead_letter.
CREATE TABLE event_log (
    event_id     text        PRIMARY KEY,
    event_type   text        NOT NULL,
    object_id    text,
    directory_id text,
    created_at   timestamptz,
    received_at  timestamptz NOT NULL DEFAULT now(),
    applied_at   timestamptz,
    outcome      text        NOT NULL,
    reason       text,
    payload      jsonb
);
CREATE INDEX idx_event_log_received ON event_log (received_at);
CREATE INDEX idx_event_log_dead_letters ON event_log (received_at) WHERE outcome = 'dead_letter';
