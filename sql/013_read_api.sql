-- The WorkOS-compatible read API (src/Gateway/ReadApi): shapes cheap enough for pages of 100, the indexes its keyset
-- pagination walks, and when each directory was last confirmed current.

-- The shapes as json, with what the row does not hold passed in (its directory's WorkOS id; a user's groups). Each type
-- below is one REST object's fields in WorkOS's order, and row_to_json writes a row of it as the object. Each function is
-- a single expression with no sub-select, so Postgres inlines it into the query that calls it: a page of 100 users with
-- 500 memberships is one plan, groups are shaped once per page (not once per member), and json is written once as text
-- where jsonb would be taken apart and built again at every level (measured: 3-4 ms of Postgres CPU per such page, 17 ms
-- with 012's functions; a row type is about a fifth cheaper than json_build_object, which looks up each value's type on
-- every call).
CREATE TYPE workos_directory_shape AS (
    object text, id text, organization_id text, external_key text, type text, state text, name text, domain text,
    created_at text, updated_at text);

CREATE TYPE workos_group_shape AS (
    object text, id text, idp_id text, directory_id text, organization_id text, name text, raw_attributes jsonb,
    created_at text, updated_at text);

CREATE TYPE workos_role_shape AS (slug text);

CREATE TYPE workos_user_shape AS (
    object text, id text, directory_id text, organization_id text, idp_id text, email text, first_name text,
    last_name text, state text, custom_attributes jsonb, raw_attributes jsonb, role workos_role_shape,
    roles workos_role_shape[], groups json, created_at text, updated_at text);

CREATE FUNCTION workos_directory_object(d directories) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE
RETURN row_to_json(ROW(
    'directory', d.workos_directory_id, d.organization_id, d.external_key, d.directory_type,
    CASE d.state WHEN 'active' THEN 'linked' WHEN 'inactive' THEN 'unlinked' ELSE d.state END,
    d.name, d.domains[1],
    workos_time(coalesce(d.created_at, d.version_at)), workos_time(coalesce(d.updated_at, d.version_at)))::workos_directory_shape);

CREATE FUNCTION workos_group_object(g directory_groups, workos_directory_id text) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE
RETURN row_to_json(ROW(
    'directory_group', g.workos_group_id, g.idp_id, workos_directory_id, g.organization_id, g.name, g.raw_attributes,
    workos_time(coalesce(g.created_at, g.version_at)), workos_time(coalesce(g.updated_at, g.version_at)))::workos_group_shape);

-- role_slugs as roles, in order (the payload's role first). A loop, not a sub-select, so callers stay inlinable.
CREATE FUNCTION workos_roles(slugs text[]) RETURNS workos_role_shape[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    roles workos_role_shape[] := '{}';
    slug text;
BEGIN
    FOREACH slug IN ARRAY slugs LOOP
        roles := roles || ROW(slug)::workos_role_shape;
    END LOOP;
    RETURN roles;
END
$$;

CREATE FUNCTION workos_user_object(u directory_users, workos_directory_id text, groups json) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE
RETURN row_to_json(ROW(
    'directory_user', u.workos_user_id, workos_directory_id, u.organization_id, u.idp_id, u.email, u.first_name,
    u.last_name, u.state, u.custom_attributes, u.raw_attributes,
    CASE WHEN cardinality(u.role_slugs) > 0 THEN ROW(u.role_slugs[1])::workos_role_shape END,
    workos_roles(u.role_slugs), groups,
    workos_time(coalesce(u.created_at, u.version_at)), workos_time(coalesce(u.updated_at, u.version_at)))::workos_user_shape);

-- A user's groups as its object lists them: the memberships in the mirror now, ordered as lists are (created_at, then
-- id). A membership never crosses directories (sync_refuse_foreign), so the groups are in the user's directory.
-- The read API's list query builds the same for a whole page at once (ReadQuery.cs).
CREATE FUNCTION workos_user_groups(u directory_users, workos_directory_id text) RETURNS json
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    RETURN (SELECT coalesce(json_agg(workos_group_object(g, workos_directory_id)
                                     ORDER BY coalesce(g.created_at, g.version_at), g.workos_group_id COLLATE "C"), '[]')
            FROM directory_group_memberships m JOIN directory_groups g ON g.id = m.group_id
            WHERE m.user_id = u.id);
END
$$;

-- 012's functions, same names and results, now built from the shapes above (one definition of each shape). One row at a
-- time, as the change feed calls them inside a write. The sub-selects are in PL/pgSQL, which plans each once per
-- connection (a LANGUAGE sql function with one is planned again by every statement that calls it).
CREATE OR REPLACE FUNCTION workos_directory_json(d directories) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
RETURN workos_directory_object(d)::jsonb;

CREATE OR REPLACE FUNCTION workos_group_json(g directory_groups) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    RETURN (SELECT workos_group_object(g, d.workos_directory_id) FROM directories d WHERE d.id = g.directory_id)::jsonb;
END
$$;

CREATE OR REPLACE FUNCTION workos_user_json(u directory_users) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    RETURN (SELECT workos_user_object(u, d.workos_directory_id, workos_user_groups(u, d.workos_directory_id))
            FROM directories d WHERE d.id = u.directory_id)::jsonb;
END
$$;

-- Lists are sorted by created_at (the version's time for rows that have none), then id in byte order; these indexes
-- give each list's first page and every page after a cursor without sorting. Users and groups are listed per
-- directory; a group's users and a user's groups are found through the memberships' indexes and sorted (bounded by
-- the group's or user's size).
CREATE INDEX idx_users_list ON directory_users (directory_id, (coalesce(created_at, version_at)), workos_user_id COLLATE "C");
CREATE INDEX idx_groups_list ON directory_groups (directory_id, (coalesce(created_at, version_at)), workos_group_id COLLATE "C");
CREATE INDEX idx_directories_list ON directories ((coalesce(created_at, version_at)), workos_directory_id COLLATE "C");
-- The users list's idp_id and email filters (both need directory); email matches case-insensitively.
CREATE INDEX idx_users_idp_id ON directory_users (directory_id, idp_id);
CREATE INDEX idx_users_email ON directory_users (directory_id, lower(email));

-- When each directory was last confirmed current: by the Events API tail having caught up, or by a reconciliation.
-- The read API sends it as X-DirectorySync-Synced-At, so an application can fall back to WorkOS when it is old.
CREATE TABLE directory_freshness (
    workos_directory_id text        PRIMARY KEY,
    confirmed_at        timestamptz NOT NULL
);
