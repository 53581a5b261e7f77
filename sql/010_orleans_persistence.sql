-- Orleans grain state (Microsoft.Orleans.Persistence.AdoNet, Invariant "Npgsql"); queries live in 001's OrleansQuery.
-- The provider's contract (10.4.2):
-- * It loads ReadFromStorageKey, WriteToStorageKey, ClearStorageKey, and DeleteStorageKey only for DeleteStateOnClear.
--   We define no DeleteStorageKey: a deleted row would start again at version 1 and let an old ETag write, so that
--   setting fails at silo start instead.
-- * Every query gets @ServiceId; @GrainTypeString, which since Orleans 7 is the state's name from [PersistentState]
--   (not the grain type); the grain key as @GrainIdN0/@GrainIdN1 (bigint: a Guid's two halves, an integer key in N1,
--   both 0 for a string key) and @GrainIdExtensionString (a string key, or an integer/Guid key's extension, null if
--   none); and int hashes of both, @GrainTypeHash and @GrainIdHash. Hashes collide: they narrow the search, the full
--   identity decides.
-- * Read answers no row, or one of "PayloadBinary" (null: no state) and "Version" (int, the ETag).
-- * Write and clear get @GrainStateVersion (the caller's ETag; null when it read no row), write also @PayloadBinary.
--   Each answers one row whose first column (a write's is named "NewGrainStateVersion") is the new version; null or
--   no row means the caller's version was stale, and the provider throws InconsistentStateException.
-- The silo hands the provider each grain's whole id as a string key (DirectorySync.Silo.FullGrainIdStorage), so
-- grain_n0 and grain_n1 are 0 in practice and grain_key is "~<grain type>/<key>"; the table holds any key the provider
-- sends.

-- One row per grain and state name. A clear keeps the row with a null payload and moves its version on, so an ETag
-- from before the clear stays stale. The identity is indexed whole: a btree entry holds about 2,700 bytes, so an
-- identity longer than that (service id, state name and grain id together) fails its write.
CREATE TABLE orleans_grain_state (
    service_id      text        NOT NULL,
    state_name      text        NOT NULL,
    state_name_hash int         NOT NULL,
    grain_n0        bigint      NOT NULL,
    grain_n1        bigint      NOT NULL,
    grain_key       text,
    grain_key_hash  int         NOT NULL,
    version         int         NOT NULL,
    payload         bytea,
    changed_at      timestamptz NOT NULL DEFAULT now(),
    -- The hashes lead so a lookup finds its row in one probe; the rest make the identity whole. A null grain_key is
    -- a key of its own (an integer key without extension), not "unknown".
    CONSTRAINT orleans_grain_state_identity UNIQUE NULLS NOT DISTINCT
        (grain_key_hash, state_name_hash, service_id, state_name, grain_n0, grain_n1, grain_key)
);

-- Stores a payload (null to clear) if the caller holds the current version: a caller without one creates the row at
-- version 1, a caller with one moves it on by one. Answers the new version, or null when the caller was stale.
-- Concurrent writers of one version queue on the row (or on the identity, when creating it) and only the first wins.
CREATE FUNCTION orleans_grain_state_write(
    service          text,
    state            text,
    state_hash       int,
    key_n0           bigint,
    key_n1           bigint,
    key_string       text,
    key_hash         int,
    expected_version int,
    new_payload      bytea)
RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    written int;
BEGIN
    IF expected_version IS NULL THEN
        INSERT INTO orleans_grain_state (service_id, state_name, state_name_hash, grain_n0, grain_n1, grain_key,
                                         grain_key_hash, version, payload)
        VALUES (service, state, state_hash, key_n0, key_n1, key_string, key_hash, 1, new_payload)
        ON CONFLICT DO NOTHING
        RETURNING version INTO written;
    ELSE
        UPDATE orleans_grain_state
        SET payload = new_payload, version = version + 1, changed_at = now()
        WHERE grain_key_hash = key_hash AND state_name_hash = state_hash AND service_id = service AND state_name = state
          AND grain_n0 = key_n0 AND grain_n1 = key_n1 AND grain_key IS NOT DISTINCT FROM key_string
          AND version = expected_version
        RETURNING version INTO written;
    END IF;
    RETURN written;
END;
$$;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES

('ReadFromStorageKey', $q$
    SELECT payload AS "PayloadBinary", version AS "Version" FROM orleans_grain_state
    WHERE grain_key_hash = @GrainIdHash AND state_name_hash = @GrainTypeHash AND service_id = @ServiceId
      AND state_name = @GrainTypeString AND grain_n0 = @GrainIdN0 AND grain_n1 = @GrainIdN1
      AND grain_key IS NOT DISTINCT FROM @GrainIdExtensionString
$q$),

('WriteToStorageKey', $q$
    SELECT orleans_grain_state_write(@ServiceId, @GrainTypeString, @GrainTypeHash, @GrainIdN0, @GrainIdN1,
                                     @GrainIdExtensionString, @GrainIdHash, @GrainStateVersion, @PayloadBinary)
           AS "NewGrainStateVersion"
$q$),

-- The provider reads the first column: the new version, or null when the caller was stale.
('ClearStorageKey', $q$
    SELECT orleans_grain_state_write(@ServiceId, @GrainTypeString, @GrainTypeHash, @GrainIdN0, @GrainIdN1,
                                     @GrainIdExtensionString, @GrainIdHash, @GrainStateVersion, NULL)
$q$);
