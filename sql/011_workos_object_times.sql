-- WorkOS's own times of each object (its created_at and updated_at as the payload or REST listing carried them) and a
-- directory's external_key: what a WorkOS-compatible read of the mirror returns, and what a snapshot from the REST API
-- is versioned by (an object's updated_at). Null for rows written before this script, until their object changes.
ALTER TABLE directories
    ADD COLUMN external_key text,
    ADD COLUMN created_at timestamptz,
    ADD COLUMN updated_at timestamptz;

ALTER TABLE directory_users
    ADD COLUMN created_at timestamptz,
    ADD COLUMN updated_at timestamptz;

ALTER TABLE directory_groups
    ADD COLUMN created_at timestamptz,
    ADD COLUMN updated_at timestamptz;
