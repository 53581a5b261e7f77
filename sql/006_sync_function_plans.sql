-- How the sync functions' statements are planned. They run thousands of times a minute with different arrays, and
-- were planned afresh on every call: measured with pg_stat_statements over an initial sync, planning was about a
-- third of Postgres's time per batch (1 ms of every sync_read_state call). Each session now plans them once and keeps
-- the generic plan. A plan kept for the session must stay right as the tables grow: one made at the start of an initial
-- sync, when the tables are empty, chose sequential scans (cheapest on an empty table) and kept scanning the whole
-- user table for every batch afterwards. Every lookup these functions make is by id or directory through an index, so
-- sequential scans are ruled out for them.
ALTER FUNCTION sync_read_state(text[], text[], text[], text[], text[]) SET plan_cache_mode = force_generic_plan SET enable_seqscan = off;
ALTER FUNCTION sync_write_tombstones(text, sync_delete_row[]) SET plan_cache_mode = force_generic_plan SET enable_seqscan = off;
ALTER FUNCTION sync_write_memberships(sync_membership_row[]) SET plan_cache_mode = force_generic_plan SET enable_seqscan = off;
ALTER FUNCTION sync_promote_memberships(text[], text[]) SET plan_cache_mode = force_generic_plan SET enable_seqscan = off;
ALTER FUNCTION sync_write_users(sync_user_row[]) SET plan_cache_mode = force_generic_plan SET enable_seqscan = off;
ALTER FUNCTION sync_write_groups(sync_group_row[]) SET plan_cache_mode = force_generic_plan SET enable_seqscan = off;
ALTER FUNCTION sync_write_directories(sync_directory_row[]) SET plan_cache_mode = force_generic_plan SET enable_seqscan = off;
ALTER FUNCTION sync_delete_users(sync_delete_row[]) SET plan_cache_mode = force_generic_plan SET enable_seqscan = off;
ALTER FUNCTION sync_delete_groups(sync_delete_row[]) SET plan_cache_mode = force_generic_plan SET enable_seqscan = off;
ALTER FUNCTION sync_delete_memberships(sync_membership_row[]) SET plan_cache_mode = force_generic_plan SET enable_seqscan = off;
ALTER FUNCTION sync_delete_directories(sync_delete_row[]) SET plan_cache_mode = force_generic_plan SET enable_seqscan = off;
ALTER FUNCTION sync_cleanup_directory(text, integer) SET plan_cache_mode = force_generic_plan SET enable_seqscan = off;
