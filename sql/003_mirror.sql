-- The mirror: what applications read. These four tables hold exactly the live directory data:
-- deleted objects are absent; tombstones, pending objects and the event log live in 004's tables.
-- version_at/version_event_id are the event version (created_at, event id) that last wrote the row.

CREATE TABLE directories (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workos_directory_id text        NOT NULL UNIQUE,
    organization_id     text,
    name                text,
    state               text        NOT NULL,
    directory_type      text,
    domains             text[]      NOT NULL DEFAULT '{}',
    version_at          timestamptz NOT NULL,
    version_event_id    text        NOT NULL,
    synced_at           timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE directory_users (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workos_user_id    text        NOT NULL UNIQUE,
    directory_id      bigint      NOT NULL REFERENCES directories (id) ON DELETE CASCADE,
    organization_id   text,
    idp_id            text,
    email             text,
    first_name        text,
    last_name         text,
    username          text,
    job_title         text,
    state             text        NOT NULL,
    role_slugs        text[]      NOT NULL DEFAULT '{}',
    app_roles         text[]      NOT NULL DEFAULT '{}',
    custom_attributes jsonb       NOT NULL DEFAULT '{}',
    raw_attributes    jsonb       NOT NULL DEFAULT '{}',
    version_at        timestamptz NOT NULL,
    version_event_id  text        NOT NULL,
    synced_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE directory_groups (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workos_group_id  text        NOT NULL UNIQUE,
    directory_id     bigint      NOT NULL REFERENCES directories (id) ON DELETE CASCADE,
    organization_id  text,
    idp_id           text,
    name             text,
    raw_attributes   jsonb       NOT NULL DEFAULT '{}',
    version_at       timestamptz NOT NULL,
    version_event_id text        NOT NULL,
    synced_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE directory_group_memberships (
    user_id          bigint      NOT NULL REFERENCES directory_users (id) ON DELETE CASCADE,
    group_id         bigint      NOT NULL REFERENCES directory_groups (id) ON DELETE CASCADE,
    version_at       timestamptz NOT NULL,
    version_event_id text        NOT NULL,
    synced_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, group_id)
);

-- The WorkOS-id lookups are served by the UNIQUE constraints above; these serve "everything in a directory"
-- and "every member of a group".
CREATE INDEX idx_users_directory ON directory_users (directory_id);
CREATE INDEX idx_groups_directory ON directory_groups (directory_id);
CREATE INDEX idx_memberships_group ON directory_group_memberships (group_id);
