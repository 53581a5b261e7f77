-- Orleans reminders (Microsoft.Orleans.Reminders.AdoNet, Invariant "Npgsql"); queries live in 001's OrleansQuery.
-- @ServiceId scopes every row; @GrainHash/@BeginHash/@EndHash are the grain's uniform hash cast to a signed int.

-- etags come from one sequence rather than a per-row counter, so a reminder deleted and registered again never
-- reuses an etag a stale caller may still hold.
CREATE SEQUENCE orleans_reminder_etags AS int CYCLE;

CREATE TABLE orleans_reminders (
    service_id    text        NOT NULL,
    grain_id      text        NOT NULL,
    reminder_name text        NOT NULL,
    grain_hash    int         NOT NULL,
    start_time    timestamptz NOT NULL,
    period_ms     bigint      NOT NULL,
    etag          int         NOT NULL,
    PRIMARY KEY (service_id, grain_id, reminder_name)
);

-- Serves each silo's read of the reminders in its slice of the hash ring.
CREATE INDEX idx_orleans_reminders_hash ON orleans_reminders (service_id, grain_hash);

-- Reminders under the column names the provider reads, with the columns the queries filter on.
CREATE VIEW orleans_reminder_entries AS
SELECT service_id, grain_hash,
       grain_id AS "GrainId", reminder_name AS "ReminderName", start_time AS "StartTime",
       period_ms AS "Period", etag AS "Version"
FROM orleans_reminders;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES

('ReadReminderRowsKey', $q$
    SELECT * FROM orleans_reminder_entries
    WHERE service_id = @ServiceId AND "GrainId" = @GrainId
$q$),

('ReadReminderRowKey', $q$
    SELECT * FROM orleans_reminder_entries
    WHERE service_id = @ServiceId AND "GrainId" = @GrainId AND "ReminderName" = @ReminderName
$q$),

-- The ring slice (begin, end] when begin < end in signed order...
('ReadRangeRows1Key', $q$
    SELECT * FROM orleans_reminder_entries
    WHERE service_id = @ServiceId AND grain_hash > @BeginHash AND grain_hash <= @EndHash
$q$),

-- ...and the slice that wraps past the top of the ring otherwise (begin = end is the whole ring).
('ReadRangeRows2Key', $q$
    SELECT * FROM orleans_reminder_entries
    WHERE service_id = @ServiceId AND (grain_hash > @BeginHash OR grain_hash <= @EndHash)
$q$),

-- Registers or replaces a reminder in one atomic statement; answers its new etag.
('UpsertReminderRowKey', $q$
    INSERT INTO orleans_reminders (service_id, grain_id, reminder_name, grain_hash, start_time, period_ms, etag)
    VALUES (@ServiceId, @GrainId, @ReminderName, @GrainHash, @StartTime, @Period, nextval('orleans_reminder_etags'))
    ON CONFLICT (service_id, grain_id, reminder_name) DO UPDATE
    SET grain_hash = excluded.grain_hash, start_time = excluded.start_time, period_ms = excluded.period_ms,
        etag = excluded.etag
    RETURNING etag AS "Version"
$q$),

-- Deletes only the version the caller last saw; answers whether it did.
('DeleteReminderRowKey', $q$
    WITH removed AS (
        DELETE FROM orleans_reminders
        WHERE service_id = @ServiceId AND grain_id = @GrainId AND reminder_name = @ReminderName AND etag = @Version
        RETURNING 1
    )
    SELECT count(*) = 1 FROM removed
$q$),

('DeleteReminderRowsKey', $q$
    DELETE FROM orleans_reminders WHERE service_id = @ServiceId
$q$);
