-- Cheaper statements on the write path, same rules. A CPU profile of the Postgres backend during an initial sync
-- (perf and auto_explain, BENCHMARKS.md) found costs that grew with every row of every batch, or with the tables:
--  * sync_outdated was called once per row and kind (four times per membership). A SQL function whose body has a
--    sub-select is never inlined, so each call started and stopped an executor of its own. Each writer now checks a
--    row's tombstones in one sub-select of its own, and sync_outdated goes. The sub-selects end in OFFSET 0, which
--    keeps them per-row primary-key lookups: turned into a join, a plan made while sync_tombstones was nearly empty
--    read every tombstone of the kind for every batch.
--  * sync_read_state found a membership's version by walking every membership of its group and probing each member
--    (50 per group in a 10,000-user directory). It now looks the pair up by the primary key (user, group).
--  * Pending rows leaving sync_pending were found through the kind alone (every pending membership, for every batch);
--    they are now looked up by id, and pending memberships by user or group id.
-- The functions keep 006's planning settings (CREATE OR REPLACE would otherwise clear them).
-- SyncFunctionPlanTests checks the rows one membership and one user read with thousands of others around.

CREATE OR REPLACE FUNCTION sync_read_state(
    directory_ids text[], user_ids text[], group_ids text[], pair_group_ids text[], pair_user_ids text[])
RETURNS TABLE (object_kind text, object_id text, live_at timestamptz, live_event_id text,
               tombstone_at timestamptz, tombstone_event_id text)
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
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
        CROSS JOIN LATERAL (
            -- LIMIT keeps this a lookup per pair: flattened into a join, a plan made on small tables hashed them all.
            SELECT m.version_at, m.version_event_id FROM directory_group_memberships m
            WHERE m.user_id = (SELECT u.id FROM directory_users u WHERE u.workos_user_id = p.u)
              AND m.group_id = (SELECT g.id FROM directory_groups g WHERE g.workos_group_id = p.g)
            LIMIT 1) m
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

-- Memberships: shown when both sides are shown, otherwise pending.
CREATE OR REPLACE FUNCTION sync_write_memberships(rows sync_membership_row[]) RETURNS void
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
BEGIN
    WITH incoming AS (
        SELECT * FROM unnest(rows) i
        WHERE NOT EXISTS (
            SELECT 1 FROM sync_tombstones t
            WHERE (t.object_id, t.object_kind) IN (
                    (i.workos_group_id || '/' || i.workos_user_id, 'membership'), (i.workos_user_id, 'user'),
                    (i.workos_group_id, 'group'), (i.workos_directory_id, 'directory'))
              AND NOT sync_newer(i.version_at, i.version_event_id, t.version_at, t.version_event_id)
            OFFSET 0)),
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
        DELETE FROM sync_pending p
        WHERE p.object_kind = 'membership'
          AND p.object_id = ANY (ARRAY(SELECT s.workos_group_id || '/' || s.workos_user_id FROM shown s)))
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

-- Users: shown when their directory is shown, otherwise pending. Users that become shown bring their pending
-- memberships along.
CREATE OR REPLACE FUNCTION sync_write_users(rows sync_user_row[]) RETURNS void
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
DECLARE
    shown_ids text[];
BEGIN
    WITH incoming AS (
        SELECT * FROM unnest(rows) i
        WHERE NOT EXISTS (
            SELECT 1 FROM sync_tombstones t
            WHERE (t.object_id, t.object_kind) IN ((i.workos_user_id, 'user'), (i.workos_directory_id, 'directory'))
              AND NOT sync_newer(i.version_at, i.version_event_id, t.version_at, t.version_event_id)
            OFFSET 0)),
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
        DELETE FROM sync_pending p
        WHERE p.object_kind = 'user' AND p.object_id = ANY (ARRAY(SELECT s.workos_user_id FROM shown s))),
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

CREATE OR REPLACE FUNCTION sync_write_groups(rows sync_group_row[]) RETURNS void
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
DECLARE
    shown_ids text[];
BEGIN
    WITH incoming AS (
        SELECT * FROM unnest(rows) i
        WHERE NOT EXISTS (
            SELECT 1 FROM sync_tombstones t
            WHERE (t.object_id, t.object_kind) IN ((i.workos_group_id, 'group'), (i.workos_directory_id, 'directory'))
              AND NOT sync_newer(i.version_at, i.version_event_id, t.version_at, t.version_event_id)
            OFFSET 0)),
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
        DELETE FROM sync_pending p
        WHERE p.object_kind = 'group' AND p.object_id = ANY (ARRAY(SELECT s.workos_group_id FROM shown s))),
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

-- Pending memberships whose user and group are now both shown move into the mirror. Only pending memberships carry
-- user_id and group_id, so those alone select them: with object_kind as well, a plan made on an empty table read
-- every pending membership (by kind) for every user or group written.
CREATE OR REPLACE FUNCTION sync_promote_memberships(user_ids text[], group_ids text[]) RETURNS void
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
DECLARE
    ready sync_membership_row[];
BEGIN
    WITH moved AS (
        DELETE FROM sync_pending p
        WHERE (p.user_id = ANY (user_ids) OR p.group_id = ANY (group_ids))
          AND EXISTS (SELECT 1 FROM sync_visible_users u WHERE u.workos_user_id = p.user_id)
          AND EXISTS (SELECT 1 FROM sync_visible_groups g WHERE g.workos_group_id = p.group_id)
        RETURNING p.data)
    SELECT array_agg(jsonb_populate_record(NULL::sync_membership_row, data)) INTO ready FROM moved;
    IF ready IS NOT NULL THEN
        PERFORM sync_write_memberships(ready);
    END IF;
END
$$;

DROP FUNCTION sync_outdated(text, text, timestamptz, text);
