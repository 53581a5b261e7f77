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
ALTER TABLE sync_tombstones ADD COLUMN user_id text, ADD COLUMN group_id text;
UPDATE sync_tombstones
SET group_id = split_part(object_id, '/', 1), user_id = substr(object_id, strpos(object_id, '/') + 1)
WHERE object_kind = 'membership';
UPDATE sync_tombstones SET object_id = length(group_id) || ':' || group_id || '/' || user_id WHERE object_kind = 'membership';
UPDATE sync_pending SET object_id = length(group_id) || ':' || group_id || '/' || user_id WHERE object_kind = 'membership';

-- A directory grain loads its index with these.
CREATE INDEX idx_tombstones_directory ON sync_tombstones (directory_id);

-- Fences a directory's writes against a second activation of its grain (a silo declared dead that still runs).
-- Each activation takes the next epoch when it loads; each flush names its epoch and the flush it follows, and
-- sync_fence refuses it unless both are still current, so only the newest activation writes and a flush never lands
-- after one that failed.
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
        RAISE EXCEPTION 'directory % was written by another activation (epoch %, flush %)', directory, expected_epoch, expected_flushes
            USING ERRCODE = 'DS001';
    END IF;
END
$$;
