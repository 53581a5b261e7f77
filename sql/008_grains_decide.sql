-- The directory grains decide every event from the index they hold in memory (src/Grains/Sync/DirectoryIndex.cs) and
-- write their decisions with plain statements (src/Grains/Storage/DirectoryStore.cs). Postgres persists and guards:
-- no decision functions, no advisory locks. What 005-007 decided in SQL goes, with the planner settings it needed.

DROP FUNCTION sync_read_state(text[], text[], text[], text[], text[]);
DROP FUNCTION sync_cleanup_directory(text, integer);
DROP FUNCTION sync_delete_directories(sync_delete_row[]);
DROP FUNCTION sync_delete_memberships(sync_membership_row[]);
DROP FUNCTION sync_delete_groups(sync_delete_row[]);
DROP FUNCTION sync_delete_users(sync_delete_row[]);
DROP FUNCTION sync_write_directories(sync_directory_row[]);
DROP FUNCTION sync_write_groups(sync_group_row[]);
DROP FUNCTION sync_write_users(sync_user_row[]);
DROP FUNCTION sync_promote_memberships(text[], text[]);
DROP FUNCTION sync_write_memberships(sync_membership_row[]);
DROP FUNCTION sync_write_tombstones(text, sync_delete_row[]);
DROP VIEW sync_membership_rows;
DROP VIEW sync_visible_groups;
DROP VIEW sync_visible_users;
DROP VIEW sync_visible_directories;
DROP TYPE sync_delete_row;
DROP TYPE sync_membership_row;
DROP TYPE sync_group_row;
DROP TYPE sync_user_row;
DROP TYPE sync_directory_row;

-- sync_newer stays: the guard every write uses (a plain SQL function, inlined where it is called).

-- Memberships are named by their two ids in their own columns; object_id only makes the primary key unique, in a
-- form no pair of ids can collide in (DirectorySync.MembershipKey: the group id's length, ':', group id, '/', user id).
-- Existing keys are rewritten assuming ids with one '/' between them and no character above U+FFFF (length() counts
-- code points, the service UTF-16 units): WorkOS ids are ASCII. A key that does not match expires with its retention.
ALTER TABLE sync_tombstones ADD COLUMN user_id text, ADD COLUMN group_id text;
UPDATE sync_tombstones
SET group_id = split_part(object_id, '/', 1), user_id = substr(object_id, strpos(object_id, '/') + 1)
WHERE object_kind = 'membership';
UPDATE sync_tombstones SET object_id = length(group_id) || ':' || group_id || '/' || user_id WHERE object_kind = 'membership';
UPDATE sync_pending SET object_id = length(group_id) || ':' || group_id || '/' || user_id WHERE object_kind = 'membership';

-- A directory grain loads its index with these.
CREATE INDEX idx_tombstones_directory ON sync_tombstones (directory_id);

-- Fences a directory's writes against a second activation of its grain (a silo declared dead that still runs).
-- Each activation takes the next epoch when it loads; each flush names its epoch and how many flushes of that epoch
-- came before it, and sync_fence refuses it unless both are current: only the newest activation writes (DS001), and a
-- flush never lands without the one before it (DS002; a flush sent while the one before it commits waits for that
-- commit on this row's lock).
CREATE TABLE sync_fences (
    workos_directory_id text   PRIMARY KEY,
    epoch               bigint NOT NULL,
    flushes             bigint NOT NULL DEFAULT 0
);

CREATE FUNCTION sync_fence(directory text, expected_epoch bigint, expected_flushes bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE sync_fences SET flushes = flushes + 1
    WHERE workos_directory_id = directory AND epoch = expected_epoch AND flushes = expected_flushes;
    IF NOT FOUND THEN
        IF EXISTS (SELECT 1 FROM sync_fences WHERE workos_directory_id = directory AND epoch = expected_epoch) THEN
            RAISE EXCEPTION 'directory %: flush % of epoch % is not the next one', directory, expected_flushes, expected_epoch
                USING ERRCODE = 'DS002';
        END IF;
        RAISE EXCEPTION 'directory % is owned by a newer activation than epoch %', directory, expected_epoch
            USING ERRCODE = 'DS001';
    END IF;
END
$$;

-- An object belongs to one directory: a flush naming a user or group that another directory holds (in the mirror,
-- pending, or deleted there) is refused as a check violation, so the grain dead-letters the event that named it. Only the ids a
-- directory's index had never seen are checked.
CREATE FUNCTION sync_refuse_foreign(directory text, user_ids text[], group_ids text[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    found_kind text;
    found_id text;
    owner_directory text;
BEGIN
    SELECT x.kind, x.id, x.owner INTO found_kind, found_id, owner_directory FROM (
        SELECT 'user' AS kind, u.workos_user_id AS id, d.workos_directory_id AS owner
        FROM directory_users u JOIN directories d ON d.id = u.directory_id
        WHERE u.workos_user_id = ANY (user_ids) AND d.workos_directory_id <> directory
        UNION ALL
        SELECT 'group', g.workos_group_id, d.workos_directory_id
        FROM directory_groups g JOIN directories d ON d.id = g.directory_id
        WHERE g.workos_group_id = ANY (group_ids) AND d.workos_directory_id <> directory
        UNION ALL
        SELECT p.object_kind, p.object_id, p.directory_id
        FROM sync_pending p
        WHERE ((p.object_kind = 'user' AND p.object_id = ANY (user_ids)) OR (p.object_kind = 'group' AND p.object_id = ANY (group_ids)))
          AND p.directory_id <> directory
        UNION ALL
        SELECT t.object_kind, t.object_id, t.directory_id
        FROM sync_tombstones t
        WHERE ((t.object_kind = 'user' AND t.object_id = ANY (user_ids)) OR (t.object_kind = 'group' AND t.object_id = ANY (group_ids)))
          AND t.directory_id <> directory
        LIMIT 1) AS x;
    IF FOUND THEN
        RAISE EXCEPTION '% % belongs to directory %, not %', found_kind, found_id, owner_directory, directory USING ERRCODE = 'check_violation';
    END IF;
END
$$;
