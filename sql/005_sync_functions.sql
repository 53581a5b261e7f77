-- How decided changes reach the mirror. The service decides, per event, whether it wins (newest version per object,
-- tombstones, dedup: DirectorySync.Sync.SyncRules). These functions persist those decisions and own the one rule
-- that spans objects: an object is shown in the mirror only when what it belongs to is shown (a user or group needs
-- its directory, a membership its user and its group); until then it waits in sync_pending, and it moves in or out
-- as its counterparts come and go. Every write is still guarded by version, so no caller can put an older version
-- over a newer one.

-- Row shapes the service sends (as JSON arrays) and sync_pending.data stores.
CREATE TYPE sync_directory_row AS (
    workos_directory_id text, organization_id text, name text, state text, directory_type text, domains text[],
    version_at timestamptz, version_event_id text);

CREATE TYPE sync_user_row AS (
    workos_user_id text, workos_directory_id text, organization_id text, idp_id text, email text,
    first_name text, last_name text, username text, job_title text, state text, role_slugs text[], app_roles text[],
    custom_attributes jsonb, raw_attributes jsonb, version_at timestamptz, version_event_id text);

CREATE TYPE sync_group_row AS (
    workos_group_id text, workos_directory_id text, organization_id text, idp_id text, name text,
    raw_attributes jsonb, version_at timestamptz, version_event_id text);

CREATE TYPE sync_membership_row AS (
    workos_group_id text, workos_user_id text, workos_directory_id text, version_at timestamptz, version_event_id text);

-- A delete of a directory, user or group (object_id is its WorkOS id).
CREATE TYPE sync_delete_row AS (
    object_id text, workos_directory_id text, version_at timestamptz, version_event_id text);

-- Event versions compare by time, then by event id in byte order (the same order as the service's EventVersion).
CREATE FUNCTION sync_newer(a_at timestamptz, a_event text, b_at timestamptz, b_event text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT a_at > b_at OR (a_at = b_at AND a_event COLLATE "C" > b_event COLLATE "C")
$$;

-- True when a delete of (kind, id) at or after the given version is recorded: such a write was undone by it.
CREATE FUNCTION sync_outdated(kind text, id text, at timestamptz, event text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (
        SELECT 1 FROM sync_tombstones t
        WHERE t.object_id = id AND t.object_kind = kind AND NOT sync_newer(at, event, t.version_at, t.version_event_id))
$$;

-- A directory is shown while no delete newer than its row exists (during a deletion's cleanup its row stays,
-- marked 'deleting', but nothing new attaches to it).
CREATE VIEW sync_visible_directories AS
SELECT d.id, d.workos_directory_id
FROM directories d
WHERE NOT EXISTS (
    SELECT 1 FROM sync_tombstones t
    WHERE t.object_id = d.workos_directory_id AND t.object_kind = 'directory'
      AND NOT sync_newer(d.version_at, d.version_event_id, t.version_at, t.version_event_id));

CREATE VIEW sync_visible_users AS
SELECT u.id, u.workos_user_id FROM directory_users u JOIN sync_visible_directories d ON d.id = u.directory_id;

CREATE VIEW sync_visible_groups AS
SELECT g.id, g.workos_group_id FROM directory_groups g JOIN sync_visible_directories d ON d.id = g.directory_id;

-- Memberships with the WorkOS ids of both sides.
CREATE VIEW sync_membership_rows AS
SELECT g.workos_group_id, u.workos_user_id, d.workos_directory_id, m.version_at, m.version_event_id
FROM directory_group_memberships m
JOIN directory_users u ON u.id = m.user_id
JOIN directory_groups g ON g.id = m.group_id
JOIN directories d ON d.id = u.directory_id;

-- What the service needs to decide a batch: per object, the version of its live row (mirror or pending) and of
-- its newest delete. Memberships are named by the pair (group id, user id) and reported as "<group>/<user>".
CREATE FUNCTION sync_read_state(
    directory_ids text[], user_ids text[], group_ids text[], pair_group_ids text[], pair_user_ids text[])
RETURNS TABLE (object_kind text, object_id text, live_at timestamptz, live_event_id text,
               tombstone_at timestamptz, tombstone_event_id text)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN QUERY
    WITH pairs AS (
        SELECT g || '/' || u AS pair_id, g, u FROM unnest(pair_group_ids, pair_user_ids) AS p (g, u)),
    wanted AS (
        SELECT 'directory' AS kind, unnest(directory_ids) AS id
        UNION ALL SELECT 'user', unnest(user_ids)
        UNION ALL SELECT 'group', unnest(group_ids)
        UNION ALL SELECT 'membership', pair_id FROM pairs),
    live AS (
        SELECT 'directory' AS kind, workos_directory_id AS id, version_at, version_event_id
        FROM directories WHERE workos_directory_id = ANY (directory_ids)
        UNION ALL
        SELECT 'user', workos_user_id, version_at, version_event_id
        FROM directory_users WHERE workos_user_id = ANY (user_ids)
        UNION ALL
        SELECT 'group', workos_group_id, version_at, version_event_id
        FROM directory_groups WHERE workos_group_id = ANY (group_ids)
        UNION ALL
        SELECT 'membership', p.pair_id, m.version_at, m.version_event_id
        FROM pairs p
        JOIN directory_users u ON u.workos_user_id = p.u
        JOIN directory_groups g ON g.workos_group_id = p.g
        JOIN directory_group_memberships m ON m.user_id = u.id AND m.group_id = g.id
        UNION ALL
        SELECT s.object_kind, s.object_id, s.version_at, s.version_event_id
        FROM sync_pending s JOIN wanted w ON w.id = s.object_id AND w.kind = s.object_kind),
    newest_live AS (
        SELECT DISTINCT ON (kind, id) kind, id, version_at, version_event_id
        FROM live ORDER BY kind, id, version_at DESC, version_event_id COLLATE "C" DESC)
    SELECT w.kind, w.id, l.version_at, l.version_event_id, t.version_at, t.version_event_id
    FROM (SELECT DISTINCT kind, id FROM wanted) w
    LEFT JOIN newest_live l ON l.kind = w.kind AND l.id = w.id
    LEFT JOIN sync_tombstones t ON t.object_id = w.id AND t.object_kind = w.kind
    WHERE l.id IS NOT NULL OR t.object_id IS NOT NULL;
END
$$;

CREATE FUNCTION sync_write_tombstones(kind text, rows sync_delete_row[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO sync_tombstones AS t (object_id, object_kind, directory_id, version_at, version_event_id)
    SELECT r.object_id, kind, r.workos_directory_id, r.version_at, r.version_event_id FROM unnest(rows) r
    ON CONFLICT (object_id, object_kind) DO UPDATE
        SET directory_id = excluded.directory_id, version_at = excluded.version_at,
            version_event_id = excluded.version_event_id, deleted_at = now()
        WHERE sync_newer(excluded.version_at, excluded.version_event_id, t.version_at, t.version_event_id);
END
$$;

-- Memberships: shown when both sides are shown, otherwise pending.
CREATE FUNCTION sync_write_memberships(rows sync_membership_row[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    WITH incoming AS (
        SELECT * FROM unnest(rows) i
        WHERE NOT sync_outdated('membership', i.workos_group_id || '/' || i.workos_user_id, i.version_at, i.version_event_id)
          AND NOT sync_outdated('user', i.workos_user_id, i.version_at, i.version_event_id)
          AND NOT sync_outdated('group', i.workos_group_id, i.version_at, i.version_event_id)
          AND NOT sync_outdated('directory', i.workos_directory_id, i.version_at, i.version_event_id)),
    shown AS (
        SELECT i.*, u.id AS user_pk, g.id AS group_pk
        FROM incoming i
        JOIN sync_visible_users u ON u.workos_user_id = i.workos_user_id
        JOIN sync_visible_groups g ON g.workos_group_id = i.workos_group_id),
    upserted AS (
        INSERT INTO directory_group_memberships AS m (user_id, group_id, version_at, version_event_id)
        SELECT user_pk, group_pk, version_at, version_event_id FROM shown
        ON CONFLICT (user_id, group_id) DO UPDATE
            SET version_at = excluded.version_at, version_event_id = excluded.version_event_id, synced_at = now()
            WHERE sync_newer(excluded.version_at, excluded.version_event_id, m.version_at, m.version_event_id)),
    unpended AS (
        DELETE FROM sync_pending p USING shown s
        WHERE p.object_id = s.workos_group_id || '/' || s.workos_user_id AND p.object_kind = 'membership')
    INSERT INTO sync_pending AS p (object_id, object_kind, directory_id, user_id, group_id, version_at, version_event_id, data)
    SELECT i.workos_group_id || '/' || i.workos_user_id, 'membership', i.workos_directory_id, i.workos_user_id,
           i.workos_group_id, i.version_at, i.version_event_id, to_jsonb(i)
    FROM incoming i
    WHERE NOT EXISTS (SELECT 1 FROM shown s WHERE s.workos_user_id = i.workos_user_id AND s.workos_group_id = i.workos_group_id)
    ON CONFLICT (object_id, object_kind) DO UPDATE
        SET directory_id = excluded.directory_id, version_at = excluded.version_at,
            version_event_id = excluded.version_event_id, data = excluded.data
        WHERE sync_newer(excluded.version_at, excluded.version_event_id, p.version_at, p.version_event_id);
END
$$;

-- Pending memberships whose user and group are now both shown move into the mirror.
CREATE FUNCTION sync_promote_memberships(user_ids text[], group_ids text[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    ready sync_membership_row[];
BEGIN
    WITH moved AS (
        DELETE FROM sync_pending p
        WHERE p.object_kind = 'membership'
          AND (p.user_id = ANY (user_ids) OR p.group_id = ANY (group_ids))
          AND EXISTS (SELECT 1 FROM sync_visible_users u WHERE u.workos_user_id = p.user_id)
          AND EXISTS (SELECT 1 FROM sync_visible_groups g WHERE g.workos_group_id = p.group_id)
        RETURNING p.data)
    SELECT array_agg(jsonb_populate_record(NULL::sync_membership_row, data)) INTO ready FROM moved;
    IF ready IS NOT NULL THEN
        PERFORM sync_write_memberships(ready);
    END IF;
END
$$;

-- Users: shown when their directory is shown, otherwise pending. Users that become shown bring their pending
-- memberships along.
CREATE FUNCTION sync_write_users(rows sync_user_row[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    shown_ids text[];
BEGIN
    WITH incoming AS (
        SELECT * FROM unnest(rows) i
        WHERE NOT sync_outdated('user', i.workos_user_id, i.version_at, i.version_event_id)
          AND NOT sync_outdated('directory', i.workos_directory_id, i.version_at, i.version_event_id)),
    shown AS (
        SELECT i.*, d.id AS directory_pk
        FROM incoming i JOIN sync_visible_directories d ON d.workos_directory_id = i.workos_directory_id),
    upserted AS (
        INSERT INTO directory_users AS u (
            workos_user_id, directory_id, organization_id, idp_id, email, first_name, last_name, username, job_title,
            state, role_slugs, app_roles, custom_attributes, raw_attributes, version_at, version_event_id)
        SELECT workos_user_id, directory_pk, organization_id, idp_id, email, first_name, last_name, username, job_title,
               state, coalesce(role_slugs, '{}'), coalesce(app_roles, '{}'), coalesce(custom_attributes, '{}'),
               coalesce(raw_attributes, '{}'), version_at, version_event_id
        FROM shown
        ON CONFLICT (workos_user_id) DO UPDATE
            SET directory_id = excluded.directory_id, organization_id = excluded.organization_id,
                idp_id = excluded.idp_id, email = excluded.email, first_name = excluded.first_name,
                last_name = excluded.last_name, username = excluded.username, job_title = excluded.job_title,
                state = excluded.state, role_slugs = excluded.role_slugs, app_roles = excluded.app_roles,
                custom_attributes = excluded.custom_attributes, raw_attributes = excluded.raw_attributes,
                version_at = excluded.version_at, version_event_id = excluded.version_event_id, synced_at = now()
            WHERE sync_newer(excluded.version_at, excluded.version_event_id, u.version_at, u.version_event_id)),
    unpended AS (
        DELETE FROM sync_pending p USING shown s WHERE p.object_id = s.workos_user_id AND p.object_kind = 'user'),
    pended AS (
        INSERT INTO sync_pending AS p (object_id, object_kind, directory_id, version_at, version_event_id, data)
        SELECT i.workos_user_id, 'user', i.workos_directory_id, i.version_at, i.version_event_id, to_jsonb(i)
        FROM incoming i
        WHERE NOT EXISTS (SELECT 1 FROM shown s WHERE s.workos_user_id = i.workos_user_id)
        ON CONFLICT (object_id, object_kind) DO UPDATE
            SET directory_id = excluded.directory_id, version_at = excluded.version_at,
                version_event_id = excluded.version_event_id, data = excluded.data
            WHERE sync_newer(excluded.version_at, excluded.version_event_id, p.version_at, p.version_event_id))
    SELECT array_agg(workos_user_id) INTO shown_ids FROM shown;
    IF shown_ids IS NOT NULL THEN
        PERFORM sync_promote_memberships(shown_ids, '{}');
    END IF;
END
$$;

CREATE FUNCTION sync_write_groups(rows sync_group_row[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    shown_ids text[];
BEGIN
    WITH incoming AS (
        SELECT * FROM unnest(rows) i
        WHERE NOT sync_outdated('group', i.workos_group_id, i.version_at, i.version_event_id)
          AND NOT sync_outdated('directory', i.workos_directory_id, i.version_at, i.version_event_id)),
    shown AS (
        SELECT i.*, d.id AS directory_pk
        FROM incoming i JOIN sync_visible_directories d ON d.workos_directory_id = i.workos_directory_id),
    upserted AS (
        INSERT INTO directory_groups AS g (
            workos_group_id, directory_id, organization_id, idp_id, name, raw_attributes, version_at, version_event_id)
        SELECT workos_group_id, directory_pk, organization_id, idp_id, name, coalesce(raw_attributes, '{}'),
               version_at, version_event_id
        FROM shown
        ON CONFLICT (workos_group_id) DO UPDATE
            SET directory_id = excluded.directory_id, organization_id = excluded.organization_id,
                idp_id = excluded.idp_id, name = excluded.name, raw_attributes = excluded.raw_attributes,
                version_at = excluded.version_at, version_event_id = excluded.version_event_id, synced_at = now()
            WHERE sync_newer(excluded.version_at, excluded.version_event_id, g.version_at, g.version_event_id)),
    unpended AS (
        DELETE FROM sync_pending p USING shown s WHERE p.object_id = s.workos_group_id AND p.object_kind = 'group'),
    pended AS (
        INSERT INTO sync_pending AS p (object_id, object_kind, directory_id, version_at, version_event_id, data)
        SELECT i.workos_group_id, 'group', i.workos_directory_id, i.version_at, i.version_event_id, to_jsonb(i)
        FROM incoming i
        WHERE NOT EXISTS (SELECT 1 FROM shown s WHERE s.workos_group_id = i.workos_group_id)
        ON CONFLICT (object_id, object_kind) DO UPDATE
            SET directory_id = excluded.directory_id, version_at = excluded.version_at,
                version_event_id = excluded.version_event_id, data = excluded.data
            WHERE sync_newer(excluded.version_at, excluded.version_event_id, p.version_at, p.version_event_id))
    SELECT array_agg(workos_group_id) INTO shown_ids FROM shown;
    IF shown_ids IS NOT NULL THEN
        PERFORM sync_promote_memberships('{}', shown_ids);
    END IF;
END
$$;

-- Directories are the root: always shown once activated. Activation brings pending users and groups along.
CREATE FUNCTION sync_write_directories(rows sync_directory_row[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    ids text[];
    users sync_user_row[];
    groups sync_group_row[];
BEGIN
    INSERT INTO directories AS d (
        workos_directory_id, organization_id, name, state, directory_type, domains, version_at, version_event_id)
    SELECT r.workos_directory_id, r.organization_id, r.name, r.state, r.directory_type, coalesce(r.domains, '{}'),
           r.version_at, r.version_event_id
    FROM unnest(rows) r
    ON CONFLICT (workos_directory_id) DO UPDATE
        SET organization_id = excluded.organization_id, name = excluded.name, state = excluded.state,
            directory_type = excluded.directory_type, domains = excluded.domains,
            version_at = excluded.version_at, version_event_id = excluded.version_event_id, synced_at = now()
        WHERE sync_newer(excluded.version_at, excluded.version_event_id, d.version_at, d.version_event_id);

    ids := ARRAY(SELECT r.workos_directory_id FROM unnest(rows) r);
    WITH moved AS (
        DELETE FROM sync_pending p
        WHERE p.object_kind = 'user' AND p.directory_id = ANY (ids)
          AND EXISTS (SELECT 1 FROM sync_visible_directories v WHERE v.workos_directory_id = p.directory_id)
        RETURNING p.data)
    SELECT array_agg(jsonb_populate_record(NULL::sync_user_row, data)) INTO users FROM moved;
    WITH moved AS (
        DELETE FROM sync_pending p
        WHERE p.object_kind = 'group' AND p.directory_id = ANY (ids)
          AND EXISTS (SELECT 1 FROM sync_visible_directories v WHERE v.workos_directory_id = p.directory_id)
        RETURNING p.data)
    SELECT array_agg(jsonb_populate_record(NULL::sync_group_row, data)) INTO groups FROM moved;
    IF users IS NOT NULL THEN
        PERFORM sync_write_users(users);
    END IF;
    IF groups IS NOT NULL THEN
        PERFORM sync_write_groups(groups);
    END IF;
END
$$;

-- Deleting a user or group takes its older memberships with it, even when the object itself was re-created by a
-- newer event (in-order delivery would have removed them); the row itself goes only if it is older than the delete.
-- Memberships newer than the delete are written again: shown if both sides still are, else pending.
CREATE FUNCTION sync_delete_users(rows sync_delete_row[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    newer sync_membership_row[];
BEGIN
    newer := ARRAY(
        SELECT ROW(m.workos_group_id, m.workos_user_id, m.workos_directory_id, m.version_at, m.version_event_id)::sync_membership_row
        FROM sync_membership_rows m JOIN unnest(rows) r ON m.workos_user_id = r.object_id
        WHERE sync_newer(m.version_at, m.version_event_id, r.version_at, r.version_event_id));
    DELETE FROM directory_group_memberships dm USING directory_users u, unnest(rows) r
    WHERE u.workos_user_id = r.object_id AND dm.user_id = u.id
      AND NOT sync_newer(dm.version_at, dm.version_event_id, r.version_at, r.version_event_id);
    DELETE FROM directory_users u USING unnest(rows) r
    WHERE u.workos_user_id = r.object_id AND sync_newer(r.version_at, r.version_event_id, u.version_at, u.version_event_id);
    DELETE FROM sync_pending p USING unnest(rows) r
    WHERE p.object_kind = 'user' AND p.object_id = r.object_id
      AND sync_newer(r.version_at, r.version_event_id, p.version_at, p.version_event_id);
    DELETE FROM sync_pending p USING unnest(rows) r
    WHERE p.object_kind = 'membership' AND p.user_id = r.object_id
      AND sync_newer(r.version_at, r.version_event_id, p.version_at, p.version_event_id);
    PERFORM sync_write_tombstones('user', rows);
    IF cardinality(newer) > 0 THEN
        PERFORM sync_write_memberships(newer);
    END IF;
END
$$;

CREATE FUNCTION sync_delete_groups(rows sync_delete_row[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    newer sync_membership_row[];
BEGIN
    newer := ARRAY(
        SELECT ROW(m.workos_group_id, m.workos_user_id, m.workos_directory_id, m.version_at, m.version_event_id)::sync_membership_row
        FROM sync_membership_rows m JOIN unnest(rows) r ON m.workos_group_id = r.object_id
        WHERE sync_newer(m.version_at, m.version_event_id, r.version_at, r.version_event_id));
    DELETE FROM directory_group_memberships dm USING directory_groups g, unnest(rows) r
    WHERE g.workos_group_id = r.object_id AND dm.group_id = g.id
      AND NOT sync_newer(dm.version_at, dm.version_event_id, r.version_at, r.version_event_id);
    DELETE FROM directory_groups g USING unnest(rows) r
    WHERE g.workos_group_id = r.object_id AND sync_newer(r.version_at, r.version_event_id, g.version_at, g.version_event_id);
    DELETE FROM sync_pending p USING unnest(rows) r
    WHERE p.object_kind = 'group' AND p.object_id = r.object_id
      AND sync_newer(r.version_at, r.version_event_id, p.version_at, p.version_event_id);
    DELETE FROM sync_pending p USING unnest(rows) r
    WHERE p.object_kind = 'membership' AND p.group_id = r.object_id
      AND sync_newer(r.version_at, r.version_event_id, p.version_at, p.version_event_id);
    PERFORM sync_write_tombstones('group', rows);
    IF cardinality(newer) > 0 THEN
        PERFORM sync_write_memberships(newer);
    END IF;
END
$$;

CREATE FUNCTION sync_delete_memberships(rows sync_membership_row[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM directory_group_memberships m
    USING unnest(rows) r, directory_users u, directory_groups g
    WHERE u.workos_user_id = r.workos_user_id AND g.workos_group_id = r.workos_group_id
      AND m.user_id = u.id AND m.group_id = g.id
      AND sync_newer(r.version_at, r.version_event_id, m.version_at, m.version_event_id);
    DELETE FROM sync_pending p USING unnest(rows) r
    WHERE p.object_id = r.workos_group_id || '/' || r.workos_user_id AND p.object_kind = 'membership'
      AND sync_newer(r.version_at, r.version_event_id, p.version_at, p.version_event_id);
    PERFORM sync_write_tombstones('membership', ARRAY(
        SELECT ROW(r.workos_group_id || '/' || r.workos_user_id, r.workos_directory_id, r.version_at, r.version_event_id)::sync_delete_row
        FROM unnest(rows) r));
END
$$;

-- A directory delete is recorded at once (tombstone, 'deleting' state, a cleanup job); the rows go in
-- sync_cleanup_directory's chunks, so the webhook is acknowledged without waiting for thousands of deletes.
CREATE FUNCTION sync_delete_directories(rows sync_delete_row[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM sync_write_tombstones('directory', rows);
    UPDATE directories d SET state = 'deleting', synced_at = now()
    FROM unnest(rows) r
    WHERE d.workos_directory_id = r.object_id AND sync_newer(r.version_at, r.version_event_id, d.version_at, d.version_event_id);
    INSERT INTO directory_cleanups (workos_directory_id)
    SELECT r.object_id FROM unnest(rows) r
    ON CONFLICT (workos_directory_id) DO NOTHING;
END
$$;

-- One chunk of a directory deletion's cleanup; true once nothing is left to do. Everything of the directory
-- older than its delete goes. Newer rows (events created after the delete, rare) stay shown if the directory was
-- re-activated after the delete, else they move to pending, as in-order delivery would have left them.
CREATE FUNCTION sync_cleanup_directory(directory text, chunk integer) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    tomb sync_tombstones;
    dir_pk bigint;
    reactivated boolean;
    removed integer;
BEGIN
    SELECT * INTO tomb FROM sync_tombstones t WHERE t.object_id = directory AND t.object_kind = 'directory';
    IF NOT FOUND THEN
        DELETE FROM directory_cleanups WHERE workos_directory_id = directory;
        RETURN true;
    END IF;
    SELECT d.id, sync_newer(d.version_at, d.version_event_id, tomb.version_at, tomb.version_event_id)
    INTO dir_pk, reactivated
    FROM directories d WHERE d.workos_directory_id = directory;

    IF dir_pk IS NOT NULL THEN
        IF NOT reactivated THEN
            PERFORM sync_write_memberships(ARRAY(
                SELECT ROW(m.workos_group_id, m.workos_user_id, m.workos_directory_id, m.version_at, m.version_event_id)::sync_membership_row
                FROM sync_membership_rows m
                WHERE m.workos_directory_id = directory
                  AND sync_newer(m.version_at, m.version_event_id, tomb.version_at, tomb.version_event_id)));
            PERFORM sync_write_users(ARRAY(
                SELECT ROW(u.workos_user_id, directory, u.organization_id, u.idp_id, u.email, u.first_name, u.last_name,
                           u.username, u.job_title, u.state, u.role_slugs, u.app_roles, u.custom_attributes,
                           u.raw_attributes, u.version_at, u.version_event_id)::sync_user_row
                FROM directory_users u
                WHERE u.directory_id = dir_pk AND sync_newer(u.version_at, u.version_event_id, tomb.version_at, tomb.version_event_id)));
            PERFORM sync_write_groups(ARRAY(
                SELECT ROW(g.workos_group_id, directory, g.organization_id, g.idp_id, g.name, g.raw_attributes,
                           g.version_at, g.version_event_id)::sync_group_row
                FROM directory_groups g
                WHERE g.directory_id = dir_pk AND sync_newer(g.version_at, g.version_event_id, tomb.version_at, tomb.version_event_id)));
        END IF;

        DELETE FROM directory_group_memberships m
        WHERE (m.user_id, m.group_id) IN (
            SELECT m2.user_id, m2.group_id FROM directory_group_memberships m2
            JOIN directory_users u ON u.id = m2.user_id
            WHERE u.directory_id = dir_pk
              AND NOT (reactivated AND sync_newer(m2.version_at, m2.version_event_id, tomb.version_at, tomb.version_event_id))
            LIMIT chunk);
        GET DIAGNOSTICS removed = ROW_COUNT;
        IF removed >= chunk THEN RETURN false; END IF;

        DELETE FROM directory_users u WHERE u.id IN (
            SELECT id FROM directory_users
            WHERE directory_id = dir_pk
              AND NOT (reactivated AND sync_newer(version_at, version_event_id, tomb.version_at, tomb.version_event_id))
            LIMIT chunk);
        GET DIAGNOSTICS removed = ROW_COUNT;
        IF removed >= chunk THEN RETURN false; END IF;

        DELETE FROM directory_groups g WHERE g.id IN (
            SELECT id FROM directory_groups
            WHERE directory_id = dir_pk
              AND NOT (reactivated AND sync_newer(version_at, version_event_id, tomb.version_at, tomb.version_event_id))
            LIMIT chunk);
        GET DIAGNOSTICS removed = ROW_COUNT;
        IF removed >= chunk THEN RETURN false; END IF;

        IF NOT reactivated THEN
            DELETE FROM directories WHERE id = dir_pk;
        END IF;
    END IF;

    DELETE FROM sync_pending p
    WHERE p.directory_id = directory
      AND NOT sync_newer(p.version_at, p.version_event_id, tomb.version_at, tomb.version_event_id);
    DELETE FROM directory_cleanups WHERE workos_directory_id = directory;
    RETURN true;
END
$$;

-- Signed events that cannot be applied are kept with their reason. A payload Postgres cannot hold as jsonb
-- (an escaped U+0000, broken JSON) is kept as a JSON string of the body, so the record itself never fails.
CREATE FUNCTION sync_record_dead_letter(
    p_event_id text, p_event_type text, p_object_id text, p_directory_id text, p_created_at timestamptz,
    p_reason text, p_payload text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    body jsonb;
BEGIN
    BEGIN
        body := p_payload::jsonb;
    EXCEPTION WHEN others THEN
        body := to_jsonb(p_payload);
    END;
    INSERT INTO event_log (event_id, event_type, object_id, directory_id, created_at, outcome, reason, payload)
    VALUES (p_event_id, p_event_type, p_object_id, p_directory_id, p_created_at, 'dead_letter', p_reason, body)
    ON CONFLICT (event_id) DO NOTHING;
END
$$;
