-- SPDX-License-Identifier: Apache-2.0
-- sql/001_init.sql - the qpki status database, schema version 1.
--
-- A published contract (docs/DATABASE.md): any CA software may write these rows
-- with plain SQL; `qpki ocsp serve --db` nodes read them.  Applied by
-- `qpki db init` inside one transaction, which then records the version in
-- qpki.schema_version.  Never edit a released migration: add the next number.

CREATE SCHEMA qpki;
COMMENT ON SCHEMA qpki IS 'qpki OCSP status database (docs/DATABASE.md)';

CREATE TABLE qpki.schema_version (
    version    integer     PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
);

-- Every change to a status row gets the next number of this sequence (the
-- triggers below set it, whatever the writer sent), so a node asks for "rows
-- with change_seq > the last one I applied".
CREATE SEQUENCE qpki.change_seq AS bigint;

-- The CAs whose status lives here.  ca_id is the SHA-256 of the CA
-- certificate's DER SubjectPublicKeyInfo: it names the key, not a file path,
-- and stays the same when the CA certificate is renewed with the same key.
CREATE TABLE qpki.ca (
    ca_id       bytea       PRIMARY KEY CHECK (octet_length(ca_id) = 32),
    name        text,
    subject     text,
    certificate bytea,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per certificate: what a row of index.txt carries.
--   serial            unsigned big-endian magnitude, 0..32 octets; leading zero
--                     octets are removed by the trigger
--   status            'V' valid, 'R' revoked, 'E' expired
--   not_after         the certificate's notAfter
--   revocation_time   R rows only
--   reason            RFC 5280 §5.3.1 CRLReason code (0-6, 8-10); NULL = none recorded
--   hold_instruction  with reason 6 (certificateHold): 1 none, 2 callIssuer, 3 reject
--   invalidity_date   with reason 1 or 2 (OpenSSL's keyTime / CAkeyTime)
--   filename, subject the index.txt text fields (informative)
--   change_seq        set by the database (trigger): never write it
CREATE TABLE qpki.cert_status (
    ca_id            bytea       NOT NULL CHECK (octet_length(ca_id) = 32),
    serial           bytea       NOT NULL CHECK (octet_length(serial) <= 32),
    status           char(1)     NOT NULL CHECK (status IN ('V', 'R', 'E')),
    not_after        timestamptz NOT NULL,
    revocation_time  timestamptz,
    reason           smallint    CHECK (reason BETWEEN 0 AND 10 AND reason <> 7),
    hold_instruction smallint    CHECK (hold_instruction BETWEEN 1 AND 3),
    invalidity_date  timestamptz,
    filename         text,
    subject          text,
    change_seq       bigint      NOT NULL DEFAULT 0,
    PRIMARY KEY (ca_id, serial),
    CONSTRAINT revoked_has_time CHECK ((status = 'R') = (revocation_time IS NOT NULL)),
    CONSTRAINT details_only_when_revoked CHECK (status = 'R' OR
        (reason IS NULL AND hold_instruction IS NULL AND invalidity_date IS NULL)),
    CONSTRAINT hold_instruction_needs_hold CHECK (hold_instruction IS NULL OR reason = 6),
    CONSTRAINT invalidity_needs_compromise CHECK (invalidity_date IS NULL OR reason IN (1, 2))
);
CREATE INDEX cert_status_changes ON qpki.cert_status (ca_id, change_seq);

-- Deleted rows, so that followers learn about them (deleting a row is unusual: a
-- CA keeps revoked certificates; an E row is the way to retire a V row).
CREATE TABLE qpki.cert_status_deleted (
    ca_id      bytea  NOT NULL,
    serial     bytea  NOT NULL,
    change_seq bigint NOT NULL,
    PRIMARY KEY (ca_id, change_seq)
);

-- Changes are numbered in commit order.  A sequence alone does not give that:
-- transaction A may take number 10, B number 11, and B commit first; a node that
-- read up to 11 would never see 10.  Every statement that writes status rows
-- therefore first takes this transaction-level advisory lock (key 0x71706b69,
-- "qpki"), held until commit: writers of status rows run one after the other,
-- and a number is only handed out after every smaller one is committed or gone.
CREATE FUNCTION qpki.serialise_writers() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(1903192937);
    RETURN NULL;
END
$$;

CREATE FUNCTION qpki.stamp_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO qpki.cert_status_deleted (ca_id, serial, change_seq)
            VALUES (OLD.ca_id, OLD.serial, nextval('qpki.change_seq'));
        RETURN OLD;
    END IF;
    NEW.serial := ltrim(NEW.serial, '\x00'::bytea);
    IF TG_OP = 'UPDATE' THEN
        IF NEW.ca_id <> OLD.ca_id OR NEW.serial <> OLD.serial THEN
            -- a moved row: the old key is gone
            INSERT INTO qpki.cert_status_deleted (ca_id, serial, change_seq)
                VALUES (OLD.ca_id, OLD.serial, nextval('qpki.change_seq'));
        ELSIF (NEW.status, NEW.not_after, NEW.revocation_time, NEW.reason,
               NEW.hold_instruction, NEW.invalidity_date)
              IS NOT DISTINCT FROM
              (OLD.status, OLD.not_after, OLD.revocation_time, OLD.reason,
               OLD.hold_instruction, OLD.invalidity_date) THEN
            -- nothing an OCSP answer depends on changed (filename, subject)
            NEW.change_seq := OLD.change_seq;
            RETURN NEW;
        END IF;
    END IF;
    NEW.change_seq := nextval('qpki.change_seq');
    RETURN NEW;
END
$$;

CREATE FUNCTION qpki.notify_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- delivered at commit, once per transaction (identical payloads fold)
    PERFORM pg_notify('qpki_status', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER a_serialise_writers BEFORE INSERT OR UPDATE OR DELETE ON qpki.cert_status
    FOR EACH STATEMENT EXECUTE FUNCTION qpki.serialise_writers();
CREATE TRIGGER b_stamp_change BEFORE INSERT OR UPDATE OR DELETE ON qpki.cert_status
    FOR EACH ROW EXECUTE FUNCTION qpki.stamp_change();
CREATE TRIGGER c_notify_change AFTER INSERT OR UPDATE OR DELETE ON qpki.cert_status
    FOR EACH STATEMENT EXECUTE FUNCTION qpki.notify_change();
-- TRUNCATE bypasses row triggers: followers would never learn that the rows are
-- gone.  Refuse it (DELETE records what it removes).
CREATE FUNCTION qpki.refuse_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'qpki.cert_status: TRUNCATE is not allowed (followers would not see it); use DELETE';
END
$$;
CREATE TRIGGER d_refuse_truncate BEFORE TRUNCATE ON qpki.cert_status
    FOR EACH STATEMENT EXECUTE FUNCTION qpki.refuse_truncate();

-- Roles: nodes (qpki ocsp serve) read; CA software writes.  Group roles without
-- LOGIN; grant them to login roles (docs/OPERATIONS.md "Several nodes").
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'qpki_reader') THEN
        CREATE ROLE qpki_reader NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'qpki_writer') THEN
        CREATE ROLE qpki_writer NOLOGIN;
    END IF;
END
$$;
GRANT USAGE ON SCHEMA qpki TO qpki_reader, qpki_writer;
GRANT SELECT ON qpki.schema_version, qpki.ca, qpki.cert_status, qpki.cert_status_deleted
    TO qpki_reader, qpki_writer;
GRANT INSERT, UPDATE, DELETE ON qpki.ca, qpki.cert_status TO qpki_writer;
GRANT INSERT ON qpki.cert_status_deleted TO qpki_writer;
GRANT USAGE ON SEQUENCE qpki.change_seq TO qpki_writer;
-- nodes read the sequence's last value to notice a database restored to an
-- older state (it went backwards)
GRANT SELECT ON SEQUENCE qpki.change_seq TO qpki_reader, qpki_writer;
