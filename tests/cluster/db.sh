#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tests/cluster/db.sh - the status database from the CA side, against a real
# PostgreSQL 15: `qpki db init` (idempotent, roles, schema too new), the CA
# identifier (checked against openssl), `qpki db import` (counts, idempotent,
# one transaction), `qpki db export` (read back by `openssl ocsp -index`),
# `qpki cert issue|revoke|list --db` (exit 1 and nothing changed for an unknown
# or already revoked serial), a foreign writer's plain SQL, and the refusals:
# a password in the URL, a wrong role, a missing schema.
#
# usage: db.sh QPKI PLUGIN_DIR
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../server/lib.sh"
. "$here/lib.sh"
use_plugin_dir "${2:?usage: $0 QPKI PLUGIN_DIR}"

# DESIGN §11: neither the library nor the qpki binary depends on libpq; only the
# plugin does
libqpki=$(ldd "$QPKI" | awk '/libqpki-ocsp/ {print $3}')
[ -n "$libqpki" ] || fail "qpki does not link libqpki-ocsp.so?"
for bin in "$QPKI" "$libqpki"; do
    if ldd "$bin" | grep -q libpq; then fail "$bin links libpq"; fi
done
ldd "$QPKI_PLUGIN_DIR/qpki-db-pgsql.so" | grep -q 'libpq\.so' || fail "the plugin does not link libpq"
ok "ldd: qpki and libqpki-ocsp.so without libpq; qpki-db-pgsql.so with it"

pg_init p
pg_start p
pg_sql p -d postgres -c 'CREATE DATABASE qpki'
ADMIN="host=$(pg_sock p) port=$(pg_port p) user=$PG_SUPERUSER dbname=qpki"

# expect_exit CODE WHAT COMMAND...: run, keep stderr in err.txt, check the code
expect_exit() {
    want=$1
    what=$2
    shift 2
    set +e
    "$@" >out.txt 2>err.txt
    got=$?
    set -e
    [ "$got" = "$want" ] || fail "$what: exit $got, expected $want: $(cat err.txt)"
}

# ---- db init: created, then nothing to do; the roles exist -------------------------------
out=$("$QPKI" db init --db "$ADMIN")
expect_eq "first init" "$out" "Created the qpki schema, version 3"
out=$("$QPKI" db init --db "$ADMIN")
expect_eq "second init" "$out" "Schema version 3 is current; nothing to do"
expect_eq "group roles" "$(pg_sql p -c "SELECT string_agg(rolname, ',' ORDER BY rolname) FROM pg_roles WHERE rolname LIKE 'qpki\_%' AND NOT rolcanlogin")" \
    "qpki_reader,qpki_writer"
pg_login p ca_writer qpki_writer
pg_login p node_reader qpki_reader
WRITER=$(pg_url p ca_writer)
READER=$(pg_url p node_reader)
ok "db init creates schema version 3 and the roles, then is a no-op"

# ---- the CA identifier is the SHA-256 of the SubjectPublicKeyInfo -------------------------
make_pki ca
out=$("$QPKI" db init --db "$ADMIN" --ca-dir ca)
id=$(printf '%s\n' "$out" | sed -n 's/^Registered CA ca (ca): ca_id \([0-9a-f]*\)$/\1/p')
want=$(openssl x509 -in ca/ca.crt -noout -pubkey | openssl pkey -pubin -outform DER |
    openssl dgst -sha256 -r | cut -d' ' -f1)
expect_eq "ca_id" "$id" "$want"
expect_eq "qpki.ca row" "$(pg_sql p -c "SELECT name || '|' || subject FROM qpki.ca WHERE ca_id = decode('$id', 'hex')")" \
    "ca|CN=Test CA ca"
ok "CA identifier = SHA-256 of the SubjectPublicKeyInfo (openssl agrees): $id"

# ---- import: counts, idempotent ----------------------------------------------------------
out=$("$QPKI" db import --db "$WRITER" --ca-dir ca)
expect_match "first import" "$out" "^Imported 3 rows .*: 3 inserted, 0 updated, 0 unchanged$"
out=$("$QPKI" db import --db "$WRITER" --ca-dir ca)
expect_match "second import" "$out" ": 0 inserted, 0 updated, 3 unchanged$"
good_serial=$(openssl x509 -in ca-good.crt -noout -serial | cut -d= -f2)
"$QPKI" cert revoke --ca-dir ca --serial "$good_serial" --reason superseded >/dev/null
out=$("$QPKI" db import --db "$WRITER" --ca-dir ca)
expect_match "import after a revocation in index.txt" "$out" ": 0 inserted, 1 updated, 2 unchanged$"
seq_before=$(pg_sql p -c "SELECT max(change_seq) FROM qpki.cert_status")
"$QPKI" db import --db "$WRITER" --ca-dir ca >/dev/null
expect_eq "an unchanged import numbers no change" \
    "$(pg_sql p -c "SELECT max(change_seq) FROM qpki.cert_status")" "$seq_before"
ok "db import: 3 inserted; again 3 unchanged; a revoked row 1 updated; unchanged rows keep their change number"

# ---- export: identical to index.txt, read by openssl ocsp -index ----------------------------
"$QPKI" db export --db "$READER" --ca-dir ca --out exported.txt 2>/dev/null
cmp ca/index.txt exported.txt || fail "export differs from index.txt: $(diff ca/index.txt exported.txt)"
# openssl ocsp as a responder over the exported index, then as the client
for cert in ca-good.crt ca-revoked.crt; do
    openssl ocsp -issuer ca/ca.crt -cert "$cert" -no_nonce -reqout req.der 2>/dev/null
    openssl ocsp -index exported.txt -CA ca/ca.crt -rsigner ca/ca.crt -rkey ca/ca.key \
        -reqin req.der -respout resp.der >/dev/null 2>&1
    st=$(openssl ocsp -respin resp.der -issuer ca/ca.crt -cert "$cert" -CAfile ca/ca.crt \
        -no_nonce 2>/dev/null | sed -n "s/^$cert: //p")
    expect_eq "openssl ocsp -index on the export ($cert)" "$st" revoked
done
# a database row with a hold instruction and one with an invalidity date: their
# index.txt spelling, which openssl reads back
pg_sql p -c "INSERT INTO qpki.cert_status (ca_id, serial, status, not_after, revocation_time, reason, hold_instruction)
             VALUES (decode('$id', 'hex'), '\\x00ab01', 'R', '2031-01-01Z', '2025-06-01 12:00:00Z', 6, 3),
                    (decode('$id', 'hex'), '\\xab02', 'R', '2031-01-01Z', '2025-06-01 12:00:00Z', 1, NULL)"
pg_sql p -c "UPDATE qpki.cert_status SET invalidity_date = '2025-05-30 08:00:00Z' WHERE serial = '\\xab02'"
"$QPKI" db export --db "$READER" --ca-dir ca --out exported.txt 2>/dev/null
expect_eq "hold instruction row" "$(grep -P '\tAB01\t' exported.txt)" \
    "$(printf 'R\t310101000000Z\t250601120000Z,holdInstruction,holdInstructionReject\tAB01\tunknown\t')"
expect_eq "invalidity date row" "$(grep -P '\tAB02\t' exported.txt)" \
    "$(printf 'R\t310101000000Z\t250601120000Z,keyTime,20250530080000Z\tAB02\tunknown\t')"
openssl ocsp -issuer ca/ca.crt -serial 0xAB01 -no_nonce -reqout req.der 2>/dev/null
openssl ocsp -index exported.txt -CA ca/ca.crt -rsigner ca/ca.crt -rkey ca/ca.key \
    -reqin req.der -respout resp.der >/dev/null 2>&1
text=$(openssl ocsp -respin resp.der -issuer ca/ca.crt -serial 0xAB01 -CAfile ca/ca.crt \
    -no_nonce -resp_text 2>/dev/null)
expect_match "openssl reads the hold row" "$text" "Revocation Reason: certificateHold \\(0x6\\)"
expect_match "openssl reads the hold instruction" "$(printf '%s' "$text" | tr -d '\n')" "Hold Instruction Code: +Hold Instruction Reject"
ok "db export = index.txt byte for byte; openssl ocsp -index answers from it (revoked, hold, keyTime)"

# ---- cert issue / revoke / list --db --------------------------------------------------------------
"$QPKI" key gen --algo ecdsa-p256 --out leaf.key >/dev/null 2>&1
"$QPKI" csr create --key leaf.key --cn leaf.db.example --out leaf.csr >/dev/null 2>&1
cp ca/index.txt index.before
"$QPKI" cert issue --ca-dir ca --profile ec/tls-server --csr leaf.csr --out leaf.crt \
    --db "$WRITER" 2>err.txt || fail "cert issue --db: $(cat err.txt)"
expect_match "issue message" "$(cat err.txt)" "recorded in the status database"
cmp ca/index.txt index.before || fail "cert issue --db changed index.txt"
leaf_serial=$(openssl x509 -in leaf.crt -noout -serial | cut -d= -f2)
[ -f "ca/certs/$leaf_serial.pem" ] || fail "certs/$leaf_serial.pem not written"
row=$(pg_sql p -c "SELECT status || '|' || filename || '|' || subject || '|' || to_char(not_after AT TIME ZONE 'UTC', 'YYYYMMDDHH24MISS') FROM qpki.cert_status WHERE serial = decode('$leaf_serial', 'hex')")
want_after=$(date -u -d "$(openssl x509 -in leaf.crt -noout -enddate | cut -d= -f2)" +%Y%m%d%H%M%S)
expect_eq "issued row" "$row" "V|certs/$leaf_serial.pem|/CN=leaf.db.example|$want_after"
ok "cert issue --db: V row (filename, one-line subject, notAfter) in the database, PEM in certs/, index.txt untouched"

out=$("$QPKI" cert revoke --ca-dir ca --serial "$leaf_serial" --reason keyCompromise \
    --time 2026-01-02T03:04:05Z --db "$WRITER")
expect_match "revoke --db" "$out" "^Revoked serial $leaf_serial at 2026-01-02T03:04:05Z, reason keyCompromise$"
expect_eq "revoked row" "$(pg_sql p -c "SELECT status || '|' || reason || '|' || to_char(revocation_time AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') FROM qpki.cert_status WHERE serial = decode('$leaf_serial', 'hex')")" \
    "R|1|2026-01-02 03:04:05"
seq_before=$(pg_sql p -c "SELECT max(change_seq) FROM qpki.cert_status")
expect_exit 1 "revoking it again" "$QPKI" cert revoke --ca-dir ca --serial "$leaf_serial" --db "$WRITER"
expect_match "already revoked" "$(cat err.txt)" "already revoked; nothing changed"
expect_exit 1 "revoking an unknown serial" "$QPKI" cert revoke --ca-dir ca --serial 0DEADBEEF --db "$WRITER"
expect_match "unknown serial" "$(cat err.txt)" "DEADBEEF is not recorded .*nothing changed"
expect_eq "nothing changed" "$(pg_sql p -c "SELECT max(change_seq) FROM qpki.cert_status")" "$seq_before"
expect_eq "still keyCompromise" "$(pg_sql p -c "SELECT reason FROM qpki.cert_status WHERE serial = decode('$leaf_serial', 'hex')")" 1
ok "cert revoke --db: R row with time and reason; again or unknown serial: exit 1, nothing changed"

list=$("$QPKI" cert list --ca-dir ca --db "$READER" --status R)
expect_match "list --db" "$list" "R +$leaf_serial +[^ ]+ +2026-01-02T03:04:05Z +keyCompromise +/CN=leaf.db.example"
expect_match "list --db counts" "$list" "^5 certificates"
json=$("$QPKI" cert list --ca-dir ca --db "$READER" --json)
n=$(printf '%s' "$json" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
expect_eq "list --db --json rows" "$n" 6
ok "cert list --db: the database's rows (table and JSON)"

# ---- crl gen --db: the database's rows and CRL numbers --------------------------------------------
CRLCHECK="/usr/bin/python3 $here/../cli/crl_check.py"
"$QPKI" crl gen --ca-dir ca --db "$WRITER" --out db1.crl >out.txt 2>err.txt || fail "crl gen --db: $(cat err.txt)"
expect_match "crl gen --db: number 1" "$(cat out.txt)" "^Complete CRL number 01: "
expect_eq "the next number in qpki.ca" "$(pg_sql p -c "SELECT crl_number FROM qpki.ca WHERE ca_id = decode('$id', 'hex')")" 2
# the database's rows as index.txt (db export), read by Python: the CRL lists exactly its revocations
"$QPKI" db export --db "$READER" --ca-dir ca --out dbrows.txt 2>/dev/null
$CRLCHECK db1.crl ca/ca.crt dbrows.txt >out.txt 2>&1 || fail "crl_check: $(cat out.txt)"
expect_match "Python: signature and entries against the database" "$(cat out.txt)" "^match: [0-9]+ entries, cRLNumber 1$"
openssl crl -in db1.crl -noout -text >crl.txt
expect_match "the hold instruction of a database row" "$(cat crl.txt)" "Hold Instruction Reject"
expect_match "a database row's invalidity date" "$(tr -d '\n' < crl.txt)" "Serial Number: AB02.*Invalidity Date"
cp db1.crl db1-base.crl
"$QPKI" cert issue --ca-dir ca --profile ec/tls-server --csr leaf.csr --out leaf2.crt --db "$WRITER" >/dev/null 2>&1 ||
    fail "cert issue --db"
leaf2=$(openssl x509 -in leaf2.crt -noout -serial | cut -d= -f2)
"$QPKI" cert revoke --ca-dir ca --serial "$leaf2" --reason superseded --db "$WRITER" >/dev/null
"$QPKI" crl gen --ca-dir ca --db "$WRITER" --delta --out db2.crl >out.txt 2>err.txt || fail "crl gen --db --delta: $(cat err.txt)"
expect_match "delta number 2" "$(cat out.txt)" "^Delta CRL number 02: 1 entry"
"$QPKI" db export --db "$READER" --ca-dir ca --out dbrows.txt 2>/dev/null
$CRLCHECK db2.crl ca/ca.crt dbrows.txt --base db1-base.crl >out.txt 2>&1 || fail "crl_check delta: $(cat out.txt)"
expect_match "Python: the delta against the base and the database" "$(cat out.txt)" "^match: 1 entries, cRLNumber 2$"
expect_eq "the next number in qpki.ca" "$(pg_sql p -c "SELECT crl_number FROM qpki.ca WHERE ca_id = decode('$id', 'hex')")" 3
expect_exit 2 "crl gen --db with the reader role" "$QPKI" crl gen --ca-dir ca --db "$READER" --out x.crl
expect_match "... permission denied" "$(cat err.txt)" "cannot take the next CRL number.*permission denied"
ok "crl gen --db: rows and CRL numbers from the database (complete, delta), checked by Python against db export"

# ---- a version-1 schema: crl gen --db asks for a migration; db init migrates it --------------------
pg_sql p -d postgres -c 'CREATE DATABASE v1'
V1="host=$(pg_sock p) port=$(pg_port p) user=$PG_SUPERUSER dbname=v1"
pg_sql p -d v1 -f "$here/../../sql/001_init.sql" >/dev/null
pg_sql p -d v1 -c "INSERT INTO qpki.schema_version (version) VALUES (1)"
# a version-1 database made before nodes read the change sequence
pg_sql p -d v1 -c "REVOKE SELECT ON SEQUENCE qpki.change_seq FROM qpki_reader, qpki_writer"
expect_exit 2 "crl gen --db on schema 1" "$QPKI" crl gen --ca-dir ca --db "$V1" --out x.crl
expect_match "... asks for db init" "$(cat err.txt)" "no CRL numbers: run .qpki db init"
out=$("$QPKI" db init --db "$V1")
expect_eq "migration" "$out" "Migrated the qpki schema from version 1 to 3"
expect_eq "the readers may read the change sequence after the migration" \
    "$(pg_sql p -d v1 -c "SELECT has_sequence_privilege('qpki_reader', 'qpki.change_seq', 'SELECT')")" t
"$QPKI" db init --db "$V1" --ca-dir ca >/dev/null
"$QPKI" crl gen --ca-dir ca --db "$V1" --out v1.crl >out.txt 2>err.txt || fail "crl gen after the migration: $(cat err.txt)"
expect_match "numbered from 1 there" "$(cat out.txt)" "^Complete CRL number 01: "
ok "schema 1: crl gen --db refused with the way out; db init migrates to 2; numbers start at 1"

# ---- a foreign writer: plain SQL, the database numbers the change --------------------------------
pg_sql p -c "INSERT INTO qpki.cert_status (ca_id, serial, status, not_after, change_seq)
             VALUES (decode('$id', 'hex'), '\\x0000c0ffee', 'V', '2030-01-01Z', -5)"
expect_eq "serial normalised, change numbered by the trigger" \
    "$(pg_sql p -c "SELECT encode(serial, 'hex') || '|' || (change_seq > $seq_before) FROM qpki.cert_status WHERE serial = '\\xc0ffee'")" \
    "c0ffee|true"
# schema 3 numbers an insert with the column default; the row trigger runs only
# for a leading zero octet (above) or a number the writer sent: each row still
# gets a number of its own from the sequence
seq_before=$(pg_sql p -c "SELECT last_value FROM qpki.change_seq")
psql "$WRITER" -v ON_ERROR_STOP=1 -qAtX -c "INSERT INTO qpki.cert_status (ca_id, serial, status, not_after)
    VALUES (decode('$id', 'hex'), '\\xc0ff01', 'V', '2030-01-01Z'), (decode('$id', 'hex'), '\\xc0ff02', 'V', '2030-01-01Z')" ||
    fail "plain INSERT as the writer role"
pg_sql p -c "INSERT INTO qpki.cert_status (ca_id, serial, status, not_after, change_seq)
             VALUES (decode('$id', 'hex'), '\\xc0ff03', 'V', '2030-01-01Z', -7),
                    (decode('$id', 'hex'), '\\xc0ff04', 'V', '2030-01-01Z', 0)"
# the writer role may not send a number at all (column privileges, schema 3)
psql "$WRITER" -v ON_ERROR_STOP=1 -qAtX -c "INSERT INTO qpki.cert_status (ca_id, serial, status, not_after, change_seq)
    VALUES (decode('$id', 'hex'), '\\xc0ff05', 'V', '2030-01-01Z', 1)" 2>err.txt && fail "the writer role set change_seq"
expect_match "writer refused change_seq" "$(cat err.txt)" "permission denied for table cert_status"
psql "$WRITER" -v ON_ERROR_STOP=1 -qAtX -c "UPDATE qpki.cert_status SET change_seq = 1 WHERE serial = '\\xc0ff01'" 2>err.txt &&
    fail "the writer role updated change_seq"
expect_match "writer refused change_seq (update)" "$(cat err.txt)" "permission denied for table cert_status"
expect_eq "plain and numbered INSERTs: consecutive numbers of the sequence, never the writer's" \
    "$(pg_sql p -c "SELECT string_agg(encode(serial, 'hex') || '=' || (change_seq - $seq_before), ' ' ORDER BY serial) FROM qpki.cert_status WHERE serial BETWEEN '\\xc0ff01' AND '\\xc0ff04'")" \
    "c0ff01=1 c0ff02=2 c0ff03=3 c0ff04=4"
expect_eq "the sequence's last value is the last row's" \
    "$(pg_sql p -c "SELECT last_value - $seq_before FROM qpki.change_seq")" 4
pg_sql p -c "UPDATE qpki.cert_status SET status = 'R', revocation_time = now(), reason = 4 WHERE serial = '\\xc0ff01'"
expect_eq "an UPDATE takes the next number" \
    "$(pg_sql p -c "SELECT change_seq - $seq_before FROM qpki.cert_status WHERE serial = '\\xc0ff01'")" 5
pg_sql p -c "DELETE FROM qpki.cert_status WHERE serial BETWEEN '\\xc0ff01' AND '\\xc0ff04'"
expect_exit 0 "list after the foreign row" "$QPKI" cert list --ca-dir ca --db "$READER"
expect_match "foreign row listed" "$(cat out.txt)" "V +C0FFEE "
pg_sql p -c "TRUNCATE qpki.cert_status" 2>err.txt && fail "TRUNCATE was allowed"
expect_match "TRUNCATE refused" "$(cat err.txt)" "TRUNCATE is not allowed"
ok "foreign INSERT: serial normalised, change_seq set by the database (default or trigger, never the writer's; the writer role may not send one); TRUNCATE refused"

# ---- refusals: exit 2 with the cause --------------------------------------------------------------------
expect_exit 2 "password in the URL" "$QPKI" db import --db \
    "postgresql://ca_writer:hunter2secret@127.0.0.1:$(pg_port p)/qpki" --ca-dir ca
expect_match "password refused" "$(cat err.txt)" "carries a password.*PGPASSFILE.*PGPASSWORD"
grep -q hunter2secret err.txt && fail "the password was repeated in the message"
expect_exit 2 "read-only role writing" "$QPKI" cert revoke --ca-dir ca --serial "$good_serial" --db "$READER"
expect_match "wrong role" "$(cat err.txt)" "permission denied for table cert_status.*qpki_writer"
expect_exit 2 "unknown role" "$QPKI" db export --db "postgresql://nosuchrole@127.0.0.1:$(pg_port p)/qpki" \
    --ca-dir ca --out x.txt
expect_match "unknown role names the server" "$(cat err.txt)" "cannot connect to the status database at 127.0.0.1:$(pg_port p): .*"
[ ! -e x.txt ] || fail "a failed export left x.txt"
expect_exit 2 "unreachable server" "$QPKI" cert list --ca-dir ca --db "postgresql://ca_writer@127.0.0.1:1/qpki"
expect_match "unreachable names host and cause" "$(cat err.txt)" "at 127.0.0.1:1: .*Connection refused"
pg_sql p -d postgres -c 'CREATE DATABASE empty'
expect_exit 2 "missing schema" "$QPKI" db export --db "host=$(pg_sock p) port=$(pg_port p) user=$PG_SUPERUSER dbname=empty" \
    --ca-dir ca --out x.txt
expect_match "missing schema" "$(cat err.txt)" "has no qpki schema .*qpki db init"
pg_sql p -d postgres -c 'CREATE DATABASE newer'
NEWER="host=$(pg_sock p) port=$(pg_port p) user=$PG_SUPERUSER dbname=newer"
"$QPKI" db init --db "$NEWER" >/dev/null
pg_sql p -d newer -c "INSERT INTO qpki.schema_version (version) VALUES (99)"
expect_exit 2 "schema too new (init)" "$QPKI" db init --db "$NEWER"
expect_match "too new" "$(cat err.txt)" "schema version 99, newer than this qpki knows \\(3\\)"
expect_exit 2 "schema too new (import)" "$QPKI" db import --db "$NEWER" --ca-dir ca
expect_match "too new (import)" "$(cat err.txt)" "newer than this qpki knows"
expect_eq "too new: nothing imported" "$(pg_sql p -d newer -c 'SELECT count(*) FROM qpki.cert_status')" 0
ok "exit 2 with the cause: password in URL (not repeated), read-only role writing, unknown role, unreachable server, missing schema, schema too new"

# ---- import is one transaction: a bad row leaves nothing ------------------------------------------------
make_pki ca3
printf 'V\t300101000000Z\t\t0A0B\tunknown\t/CN=dup\nV\t300101000000Z\t\t0A0B\tunknown\t/CN=dup\n' >>ca3/index.txt
expect_exit 2 "import with a serial twice" "$QPKI" db import --db "$WRITER" --ca-dir ca3
expect_match "duplicate named" "$(cat err.txt)" "nothing was imported: serial 0a0b appears twice in the import"
ca3id=$("$QPKI" db init --db "$ADMIN" --ca-dir ca3 | sed -n 's/.*ca_id \([0-9a-f]*\)$/\1/p')
expect_eq "nothing imported for ca3" "$(pg_sql p -c "SELECT count(*) FROM qpki.cert_status WHERE ca_id = decode('$ca3id', 'hex')")" 0
ok "an import that fails leaves no row"
