-- Mirror rows as the WorkOS REST API shapes them (FACTS §8): what the read API serves and what the change feed sends,
-- from one definition. Each takes a row of its table and returns the object, reading only by primary key, so a page
-- or a write transaction calls them per row. PL/pgSQL keeps each function's query planned once per connection
-- (a LANGUAGE sql function with a sub-select is planned again in every statement that calls it).

-- WorkOS writes times as ISO-8601 UTC with milliseconds and Z: 2026-01-15T12:00:00.000Z.
CREATE FUNCTION workos_time(t timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
RETURN to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');

-- The REST vocabulary of a directory's state: the events' active and inactive are linked and unlinked.
-- No metadata counts: they cost a scan of the directory's users per call, and the object is shaped inside writes.
-- created_at and updated_at are null for rows written before 011 (and payloads without them): the version's time is
-- the closest the mirror knows.
CREATE FUNCTION workos_directory_json(d directories) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
RETURN jsonb_build_object(
    'object', 'directory',
    'id', d.workos_directory_id,
    'organization_id', d.organization_id,
    'external_key', d.external_key,
    'type', d.directory_type,
    'state', CASE d.state WHEN 'active' THEN 'linked' WHEN 'inactive' THEN 'unlinked' ELSE d.state END,
    'name', d.name,
    'domain', d.domains[1],
    'created_at', workos_time(coalesce(d.created_at, d.version_at)),
    'updated_at', workos_time(coalesce(d.updated_at, d.version_at)));

CREATE FUNCTION workos_group_json(g directory_groups) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    RETURN jsonb_build_object(
        'object', 'directory_group',
        'id', g.workos_group_id,
        'idp_id', g.idp_id,
        'directory_id', (SELECT d.workos_directory_id FROM directories d WHERE d.id = g.directory_id),
        'organization_id', g.organization_id,
        'name', g.name,
        'raw_attributes', g.raw_attributes,
        'created_at', workos_time(coalesce(g.created_at, g.version_at)),
        'updated_at', workos_time(coalesce(g.updated_at, g.version_at)));
END
$$;

-- role is the first slug (the payload's role comes first in role_slugs), roles all of them; groups are the user's
-- memberships in the mirror now, in the lists' order (created_at, then id).
CREATE FUNCTION workos_user_json(u directory_users) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    RETURN jsonb_build_object(
        'object', 'directory_user',
        'id', u.workos_user_id,
        'directory_id', (SELECT d.workos_directory_id FROM directories d WHERE d.id = u.directory_id),
        'organization_id', u.organization_id,
        'idp_id', u.idp_id,
        'email', u.email,
        'first_name', u.first_name,
        'last_name', u.last_name,
        'state', u.state,
        'custom_attributes', u.custom_attributes,
        'raw_attributes', u.raw_attributes,
        'role', CASE WHEN cardinality(u.role_slugs) > 0 THEN jsonb_build_object('slug', u.role_slugs[1]) END,
        'roles', (SELECT coalesce(jsonb_agg(jsonb_build_object('slug', r.slug) ORDER BY r.n), '[]')
                  FROM unnest(u.role_slugs) WITH ORDINALITY AS r (slug, n)),
        'groups', (SELECT coalesce(jsonb_agg(workos_group_json(g) ORDER BY coalesce(g.created_at, g.version_at), g.workos_group_id), '[]')
                   FROM directory_group_memberships m JOIN directory_groups g ON g.id = m.group_id
                   WHERE m.user_id = u.id),
        'created_at', workos_time(coalesce(u.created_at, u.version_at)),
        'updated_at', workos_time(coalesce(u.updated_at, u.version_at)));
END
$$;
