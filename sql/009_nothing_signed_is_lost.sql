-- A dead letter can be replayed: an event whose id is logged as a dead letter is applied when it arrives again (if it
-- now can be), and the log keeps every earlier attempt's outcome, reason and time. Only applied or stale events count
-- as already seen.
ALTER TABLE event_log ADD COLUMN earlier_attempts jsonb NOT NULL DEFAULT '[]';

CREATE OR REPLACE FUNCTION sync_record_dead_letter(
    p_event_id text, p_event_type text, p_object_id text, p_directory_id text, p_created_at timestamptz,
    p_reason text, p_payload text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    body jsonb;
BEGIN
    BEGIN
        body := p_payload::jsonb;
    EXCEPTION WHEN others THEN
        body := to_jsonb(p_payload);
    END;
    INSERT INTO event_log AS l (event_id, event_type, object_id, directory_id, created_at, outcome, reason, payload)
    VALUES (p_event_id, p_event_type, p_object_id, p_directory_id, p_created_at, 'dead_letter', p_reason, body)
    ON CONFLICT (event_id) DO UPDATE
        SET reason = excluded.reason, received_at = now(),
            earlier_attempts = l.earlier_attempts || jsonb_build_array(jsonb_build_object(
                'outcome', l.outcome, 'reason', l.reason, 'received_at', l.received_at))
        WHERE l.outcome = 'dead_letter';
END
$$;

-- Signed requests that are not events at all (not JSON, no id or type…): kept as received, once per distinct body,
-- before they are answered 400, so nothing correctly signed is lost. The event log needs an event id; these have none.
CREATE TABLE unreadable_webhooks (
    body_sha256      bytea       PRIMARY KEY,
    body             bytea       NOT NULL,
    reason           text        NOT NULL,
    signed_at        timestamptz NOT NULL,
    received_at      timestamptz NOT NULL DEFAULT now(),
    last_received_at timestamptz NOT NULL DEFAULT now(),
    attempts         integer     NOT NULL DEFAULT 1
);
