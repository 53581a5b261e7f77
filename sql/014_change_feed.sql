-- The change feed: one entry per effective change of the mirror, written by the directory grain's flush in the same
-- transaction as the change itself (src/Grains/Feed/ChangeFeedWrites.cs), read by GET /changes and the outbound webhooks.
--
-- An entry's position is (xact, ordinal): the id of the transaction that wrote it (pg_current_xact_id) and its place
-- in that transaction. Readers serve only entries whose transaction id is below their snapshot's xmin, i.e. entries of
-- transactions that had all ended, as had every transaction with a smaller id: an entry that commits later always has a
-- larger position than every entry already served, so a reader resuming after a position never skips one (a plain
-- sequence would: its values commit out of order, FACTS §10). Per directory, positions are commit order: a flush's
-- first statement is sync_fence, which can only update the fence row once the directory's previous flush committed,
-- so each flush's transaction id is assigned after its predecessor's commit.
CREATE TABLE change_feed (
    xact         bigint      NOT NULL,
    ordinal      integer     NOT NULL,
    directory_id text        NOT NULL,
    event        text        NOT NULL,
    data         jsonb       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (xact, ordinal)
);
CREATE INDEX idx_change_feed_directory ON change_feed (directory_id, xact, ordinal);
CREATE INDEX idx_change_feed_created ON change_feed (created_at);

-- The newest position purged for retention (0, 0 while nothing was): a reader resuming before it missed entries and
-- is told so (410).
CREATE TABLE change_feed_horizon (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    xact     bigint  NOT NULL,
    ordinal  integer NOT NULL
);
INSERT INTO change_feed_horizon (xact, ordinal) VALUES (0, 0);

-- Entries of transaction ids below this are final: every such transaction has ended. Taken from the snapshot of the
-- statement that calls it; a later statement may read up to it too (its later snapshot sees every such transaction's
-- rows), never a bound taken later than its own snapshot.
CREATE FUNCTION change_feed_settled_below() RETURNS bigint
LANGUAGE sql STABLE
RETURN pg_snapshot_xmin(pg_current_snapshot())::text::bigint;

-- A user as an entry tells it: its WorkOS REST shape (sql/012) without `groups`, which the REST API deprecates and the
-- feed tells as entries of their own (user_added, user_removed), and which would be stale in the entry the moment a
-- membership changed. Shaped from the row without its key, so its memberships are not even looked up: they were three
-- quarters of the cost of shaping a user.
CREATE FUNCTION change_feed_user_json(u directory_users) RETURNS jsonb
LANGUAGE sql STABLE
RETURN workos_user_json(jsonb_populate_record(u, '{"id": null}')) - 'groups';

-- A membership as an entry tells it, like WorkOS's user_added and user_removed: {directory_id, user, group}, from its
-- user and group as entries shape them (each shaped once per flush, however many memberships name it).
CREATE FUNCTION change_feed_membership_json(directory text, shaped_user jsonb, shaped_group jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE
RETURN jsonb_build_object('directory_id', directory, 'user', shaped_user, 'group', shaped_group);
