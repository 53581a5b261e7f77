-- Orleans cluster membership (Microsoft.Orleans.Clustering.AdoNet, Invariant "Npgsql").
-- The provider reads its SQL from OrleansQuery ("SELECT QueryKey, QueryText FROM OrleansQuery") and binds
-- parameters by name (@DeploymentId is the cluster id); result columns are aliased to the names it reads.

CREATE TABLE OrleansQuery (
    QueryKey  text PRIMARY KEY,
    QueryText text NOT NULL
);

-- One row per cluster. version is the membership table's etag: every change to a member row bumps it, so a silo
-- that read an older version cannot overwrite a newer view.
CREATE TABLE orleans_membership_versions (
    deployment_id text        PRIMARY KEY,
    version       int         NOT NULL DEFAULT 0,
    changed_at    timestamptz NOT NULL DEFAULT now()
);

-- One row per silo incarnation. status is Orleans' SiloStatus (3 Active, 6 Dead); suspect_times is the provider's
-- own "address,date|address,date" text.
CREATE TABLE orleans_membership (
    deployment_id   text        NOT NULL REFERENCES orleans_membership_versions (deployment_id) ON DELETE CASCADE,
    address         text        NOT NULL,
    port            int         NOT NULL,
    generation      int         NOT NULL,
    silo_name       text        NOT NULL,
    host_name       text        NOT NULL,
    status          int         NOT NULL,
    proxy_port      int         NOT NULL,
    suspect_times   text,
    start_time      timestamptz NOT NULL,
    i_am_alive_time timestamptz NOT NULL,
    PRIMARY KEY (deployment_id, address, port, generation)
);

-- The gate of every versioned write: locks the cluster's version row if it is still at the version the caller
-- read, so concurrent writers of one cluster queue here and all but the first find the version moved on.
CREATE FUNCTION orleans_membership_lock_version(cluster text, expected_version int)
RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM orleans_membership_versions
    WHERE deployment_id = cluster AND version = expected_version
    FOR UPDATE;
    RETURN FOUND;
END;
$$;

-- Adds a member if the caller's view is current, bumping the version with it; changes nothing otherwise.
CREATE FUNCTION orleans_membership_insert(
    cluster          text,
    expected_version int,
    silo_address     text,
    silo_port        int,
    silo_generation  int,
    silo             text,
    host             text,
    silo_status      int,
    gateway_port     int,
    started_at       timestamptz,
    alive_at         timestamptz)
RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT orleans_membership_lock_version(cluster, expected_version) THEN
        RETURN false;
    END IF;

    INSERT INTO orleans_membership (deployment_id, address, port, generation, silo_name, host_name, status,
                                    proxy_port, start_time, i_am_alive_time)
    VALUES (cluster, silo_address, silo_port, silo_generation, silo, host, silo_status,
            gateway_port, started_at, alive_at)
    ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        RETURN false;
    END IF;

    UPDATE orleans_membership_versions SET version = version + 1, changed_at = now() WHERE deployment_id = cluster;
    RETURN true;
END;
$$;

-- Changes a member's status, suspicions and heartbeat if the caller's view is current (same rules as insert).
CREATE FUNCTION orleans_membership_update(
    cluster          text,
    expected_version int,
    silo_address     text,
    silo_port        int,
    silo_generation  int,
    silo_status      int,
    suspicions       text,
    alive_at         timestamptz)
RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT orleans_membership_lock_version(cluster, expected_version) THEN
        RETURN false;
    END IF;

    UPDATE orleans_membership
    SET status = silo_status, suspect_times = suspicions, i_am_alive_time = alive_at
    WHERE deployment_id = cluster AND address = silo_address AND port = silo_port AND generation = silo_generation;
    IF NOT FOUND THEN
        RETURN false;
    END IF;

    UPDATE orleans_membership_versions SET version = version + 1, changed_at = now() WHERE deployment_id = cluster;
    RETURN true;
END;
$$;

-- Membership rows as the provider reads them. Every row carries the cluster's version, and the version row comes
-- back alone (member columns null) when no member matches, because the provider takes the table version from the
-- first row. Without a silo address: every member.
CREATE FUNCTION orleans_membership_read(
    cluster         text,
    silo_address    text = NULL,
    silo_port       int = NULL,
    silo_generation int = NULL)
RETURNS TABLE ("Version" int, "Address" text, "Port" int, "Generation" int, "SiloName" text, "HostName" text,
               "Status" int, "ProxyPort" int, "SuspectTimes" text, "StartTime" timestamptz, "IAmAliveTime" timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT v.version, m.address, m.port, m.generation, m.silo_name, m.host_name, m.status, m.proxy_port,
           m.suspect_times, m.start_time, m.i_am_alive_time
    FROM orleans_membership_versions v
    LEFT JOIN orleans_membership m
           ON m.deployment_id = v.deployment_id
          AND (silo_address IS NULL
               OR (m.address = silo_address AND m.port = silo_port AND m.generation = silo_generation))
    WHERE v.deployment_id = cluster
$$;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES

-- Creates the cluster's version row once; answers whether this call created it.
('InsertMembershipVersionKey', $q$
    WITH created AS (
        INSERT INTO orleans_membership_versions (deployment_id) VALUES (@DeploymentId)
        ON CONFLICT (deployment_id) DO NOTHING
        RETURNING 1
    )
    SELECT count(*) = 1 FROM created
$q$),

('InsertMembershipKey', $q$
    SELECT orleans_membership_insert(@DeploymentId, @Version, @Address, @Port, @Generation, @SiloName, @HostName,
                                     @Status, @ProxyPort, @StartTime, @IAmAliveTime)
$q$),

('UpdateMembershipKey', $q$
    SELECT orleans_membership_update(@DeploymentId, @Version, @Address, @Port, @Generation, @Status, @SuspectTimes,
                                     @IAmAliveTime)
$q$),

-- Heartbeats are not membership changes: they do not bump the version.
('UpdateIAmAlivetimeKey', $q$
    UPDATE orleans_membership SET i_am_alive_time = @IAmAliveTime
    WHERE deployment_id = @DeploymentId AND address = @Address AND port = @Port AND generation = @Generation
$q$),

('MembershipReadRowKey', $q$
    SELECT * FROM orleans_membership_read(@DeploymentId, @Address, @Port, @Generation)
$q$),

('MembershipReadAllKey', $q$
    SELECT * FROM orleans_membership_read(@DeploymentId)
$q$),

-- Clients list gateways with @Status = Active.
('GatewaysQueryKey', $q$
    SELECT address AS "Address", proxy_port AS "ProxyPort", generation AS "Generation"
    FROM orleans_membership
    WHERE deployment_id = @DeploymentId AND status = @Status AND proxy_port > 0
$q$),

-- Removes the whole cluster: the version row and, by cascade, its members.
('DeleteMembershipTableEntriesKey', $q$
    DELETE FROM orleans_membership_versions WHERE deployment_id = @DeploymentId
$q$),

-- Removes one dead silo only if its row is still exactly what the provider judged defunct (6 = Dead); the provider
-- prefers this to the bulk query below when it is present.
('CleanupDefunctSiloEntryKey', $q$
    DELETE FROM orleans_membership
    WHERE deployment_id = @DeploymentId AND address = @Address AND port = @Port AND generation = @Generation
      AND status = 6
      AND start_time = @StartTime AND i_am_alive_time = @IAmAliveTime
      AND coalesce(suspect_times, '') = coalesce(@SuspectTimes, '')
$q$),

('CleanupDefunctSiloEntriesKey', $q$
    DELETE FROM orleans_membership
    WHERE deployment_id = @DeploymentId AND status = 6
      AND i_am_alive_time < @IAmAliveTime AND start_time < @IAmAliveTime
$q$);
