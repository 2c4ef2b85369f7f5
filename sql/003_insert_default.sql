-- SPDX-License-Identifier: Apache-2.0
-- qpki status database, schema version 3: inserts numbered by a column default.
--
-- Version 1 ran the PL/pgSQL row trigger qpki.stamp_change() for every inserted
-- row, which made large imports slow (docs/PERFORMANCE.md "Nodes on
-- PostgreSQL").  An insert now takes its number from the column default
-- nextval('qpki.change_seq'), evaluated in C, and the trigger runs for an
-- inserted row only when there is something to fix:
--   * the serial has a leading zero octet (the trigger removes it), or
--   * change_seq is not the number the sequence handed out last, that is the
--     writer sent a value of its own (the trigger replaces it, as before).
-- Every statement that writes qpki.cert_status still first takes the advisory
-- lock (trigger a_serialise_writers, before any row is made), so while a row is
-- inserted no other writer takes numbers: the default's number is the
-- sequence's last value.  UPDATE and DELETE keep the row trigger of version 1,
-- and the NOTIFY statement trigger is unchanged: a foreign writer's plain
-- INSERT or UPDATE is numbered and announced exactly as before.
ALTER TABLE qpki.cert_status
    ALTER COLUMN change_seq SET DEFAULT nextval('qpki.change_seq');

DROP TRIGGER b_stamp_change ON qpki.cert_status;
CREATE TRIGGER b_stamp_change BEFORE UPDATE OR DELETE ON qpki.cert_status
    FOR EACH ROW EXECUTE FUNCTION qpki.stamp_change();
CREATE TRIGGER b_stamp_insert BEFORE INSERT ON qpki.cert_status
    FOR EACH ROW
    WHEN (substring(NEW.serial FROM 1 FOR 1) = '\x00'::bytea
          OR NEW.change_seq IS DISTINCT FROM pg_sequence_last_value('qpki.change_seq'))
    EXECUTE FUNCTION qpki.stamp_change();

-- The writer role may not send a number of its own at all: it may insert and
-- update every column but change_seq (the triggers set it; column privileges do
-- not bind triggers).  A superuser or the owner is not bound by privileges: for
-- them the trigger replaces any number other than the sequence's last value.
REVOKE INSERT, UPDATE ON qpki.cert_status FROM qpki_writer;
GRANT INSERT (ca_id, serial, status, not_after, revocation_time, reason, hold_instruction,
              invalidity_date, filename, subject),
      UPDATE (ca_id, serial, status, not_after, revocation_time, reason, hold_instruction,
              invalidity_date, filename, subject)
    ON qpki.cert_status TO qpki_writer;
