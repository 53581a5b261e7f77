-- The login role the running silos and gateways use: it reads and writes rows and calls the sync guards, and
-- can change no schema. Migrations stay with the owner role (the `migrate` command, or a silo with the owner's
-- connection string); run the service as this role with Database__Migrate=false.
--
-- Not applied by the migrator. Run it as the schema owner (or a superuser) in the service's database, after the
-- migrations and again after each migration that adds a table, view, sequence or function:
--     psql "<owner connection string>" -f sql/roles/least_privilege.sql
--     psql "<owner connection string>" -c "ALTER ROLE directorysync_app PASSWORD '<password>'"
-- Idempotent. The role is cluster-wide; the grants are per database.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'directorysync_app') THEN
        CREATE ROLE directorysync_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
    END IF;
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO directorysync_app', current_database());
END
$$;

-- Its objects, never CREATE. (PostgreSQL 15 took CREATE on public from PUBLIC; on an older server also run
-- REVOKE CREATE ON SCHEMA public FROM PUBLIC.)
GRANT USAGE ON SCHEMA public TO directorysync_app;

-- Orleans clustering, reminders and grain state (001, 002, 010). OrleansQuery holds the SQL the silos run: read, never
-- written. Grain state is never deleted (a clear keeps the row, to keep its version).
GRANT SELECT ON OrleansQuery TO directorysync_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON orleans_membership_versions, orleans_membership, orleans_reminders TO directorysync_app;
GRANT SELECT ON orleans_reminder_entries TO directorysync_app;
GRANT SELECT, INSERT, UPDATE ON orleans_grain_state TO directorysync_app;

-- The mirror and its bookkeeping (003, 004, 008, 009), written by the directory grains.
GRANT SELECT, INSERT, UPDATE, DELETE ON
    directories, directory_users, directory_groups, directory_group_memberships,
    sync_tombstones, sync_pending, directory_cleanups, event_log, sync_fences, unreadable_webhooks
TO directorysync_app;

-- Reconciliation with WorkOS's REST API (016): runs, what they listed, their deletion plans.
GRANT SELECT, INSERT, UPDATE, DELETE ON reconcile_runs, reconcile_listed, reconcile_plan TO directorysync_app;

-- When each directory was last confirmed current (013): written by the sync, read by the gateway's read API.
GRANT SELECT, INSERT, UPDATE, DELETE ON directory_freshness TO directorysync_app;

-- The change feed (014): written by the directory grains' flushes, read by GET /changes and the webhook endpoints,
-- purged hourly (the horizon moves with the purge).
GRANT SELECT, INSERT, DELETE ON change_feed TO directorysync_app;
GRANT SELECT, UPDATE ON change_feed_horizon TO directorysync_app;

-- The reminder etags and the mirror's identity columns: nextval only (USAGE), never setval.
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO directorysync_app;

-- Every sync_*, orleans_*, workos_* and change_feed_* function (001, 005, 008, 010, 012, 013, 014), whatever its arguments:
-- this role's, no longer everyone's (they run with the caller's rights, so PUBLIC's default EXECUTE gave nothing, but the
-- grants here should be the whole truth).
DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN
        SELECT p.oid::regprocedure FROM pg_proc p
        WHERE p.pronamespace = 'public'::regnamespace AND (p.proname LIKE 'sync\_%' OR p.proname LIKE 'orleans\_%' OR p.proname LIKE 'workos\_%' OR p.proname LIKE 'change\_feed\_%')
    LOOP
        EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO directorysync_app', f);
    END LOOP;
END
$$;
