-- SPDX-License-Identifier: Apache-2.0
-- qpki status database, schema version 2: the CA's next CRL number.
--
-- `qpki crl gen --db URL` numbers its CRLs here, as it does in a CA directory's
-- crlnumber file: RFC 5280 §5.2.3 "monotonically increasing sequence number",
-- shared by complete and delta CRLs (§5.2.4), at most 20 octets.  The column
-- holds the number the next CRL takes; one UPDATE ... RETURNING takes it, so two
-- CA hosts never issue the same number.  qpki_writer may update qpki.ca already.
ALTER TABLE qpki.ca
    ADD COLUMN crl_number numeric(49, 0) NOT NULL DEFAULT 1
        CHECK (crl_number >= 0 AND crl_number < 2 ^ 159);

-- Nodes read qpki.change_seq's last value to notice a database restored to an
-- older state.  Version 1 grants that since nodes follow the database; a
-- database made by an earlier version 1 lacks it: granting again changes nothing
-- where it is present.
GRANT SELECT ON SEQUENCE qpki.change_seq TO qpki_reader, qpki_writer;
