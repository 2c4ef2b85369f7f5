#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tests/package/run.sh - the Debian packages, built from this tree and used as a user
# would (scripts/test.sh runs it):
#   1. dpkg-buildpackage -us -uc -b in a copy of the tree (debian/, dh + meson);
#   2. lintian: no error and no warning on any package (a warning that stays is
#      overridden in debian/*.lintian-overrides with the reason next to it);
#   3. the packages installed on this machine with apt-get (as root, or through
#      sudo; without either, unpacked into a throwaway root and run from there);
#   4. the INSTALLED qpki: version report (library, plugin directory, the PKCS#11
#      plugin loads), the qpki-ocsp system user, the conffile, a demo PKI served by
#      `qpki ocsp serve` as qpki-ocsp with the example configuration and checked by
#      `openssl ocsp` (good, revoked), stop; completion and man pages in place;
#   5. the -dev package's examples built with pkg-config alone: parse_request.c
#      (its response verified by openssl), http_responder.c (answering openssl
#      ocsp) and staple_server.c (built only; tests/server/examples.sh runs it);
#   6. qpki-ocsp@.service started for real when systemd runs this machine
#      (start, Status, openssl ocsp, reload, a broken reload, stop); otherwise
#      said, not counted (tests/package/systemd_nspawn.sh runs this script in a
#      container booted with systemd);
#   7. qpki's maintainer scripts: reinstall, remove, purge (under systemd with an
#      instance running: restarted on upgrade, stopped on removal).
# Packages this script installed are removed at the end; the qpki-ocsp user stays
# (as after a purge).  Runs serialise on /tmp/qpki-package-test.lock.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PASS=0
ok() { PASS=$((PASS + 1)); echo "ok $PASS - $*"; }
fail() { echo "FAIL - $*" >&2; exit 1; }
note() { echo "NOT TESTED - $*"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# wait_for_line LOG PATTERN PID WHAT: until LOG has a line matching PATTERN (10 s), or PID exits
wait_for_line() {
    for _ in $(seq 100); do
        grep -q "$2" "$1" && return 0
        kill -0 "$3" 2>/dev/null || { cat "$1"; fail "$4 exited"; }
        sleep 0.1
    done
    cat "$1"
    fail "$4 did not start listening"
}
# ocsp_ask CA.crt CERT PORT -> openssl ocsp output (the response verified against CA.crt)
ocsp_ask() { openssl ocsp -issuer "$1" -cert "$2" -url "http://127.0.0.1:$3" -CAfile "$1" 2>&1; }

# as_root CMD...: root's commands run directly as root, through sudo otherwise.
# README.md lists what sudo is used for; a command not in that list is refused
# here, so the sentence and the script cannot part.
root_cmds=" apt-get mktemp chown rm runuser mkdir ln systemctl journalctl tee "
as_root_check() { # CMD... (env VAR=VALUE... CMD... checks CMD)
    local c=$1
    if [[ $c == env ]]; then
        shift
        while [[ $1 == *=* ]]; do shift; done
        c=$1
    fi
    [[ $root_cmds == *" $c "* ]] || fail "as_root $c: not among the commands README.md says sudo runs:$root_cmds"
}
if [[ $(id -u) == 0 ]]; then
    mode=machine
    as_root() { as_root_check "$@"; "$@"; }
elif command -v sudo >/dev/null 2>&1; then
    mode=machine
    as_root() { as_root_check "$@"; sudo "$@"; }
else
    mode=root-dir
    as_root() { "$@"; }
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/qpki-package.XXXXXX")
installed_here=()
links_made=()
server_pid=
cleanup() {
    local rc=$?
    [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null || true
    if [[ -n ${unit:-} ]]; then
        as_root systemctl stop "$unit" 2>/dev/null || true
        unit_conf=${unit#qpki-ocsp@}
        as_root rm -f "/etc/qpki/ocsp/${unit_conf%.service}.yaml"
    fi
    if ((${#installed_here[@]})); then
        as_root apt-get purge -y -qq -o DPkg::Lock::Timeout=300 "${installed_here[@]}" >/dev/null 2>&1 ||
            echo "warning: could not remove ${installed_here[*]}" >&2
    fi
    [[ -n ${pki:-} && $pki != "$work"* ]] && as_root rm -rf "$pki"
    ((${#links_made[@]})) && as_root rm -f "${links_made[@]}"
    # QPKI_PACKAGE_KEEP_DEBS=DIR: the packages built are kept there (systemd_nspawn.sh)
    if [[ $rc == 0 && -n ${QPKI_PACKAGE_KEEP_DEBS:-} ]]; then
        cp "$work"/*.deb "$QPKI_PACKAGE_KEEP_DEBS"/
    fi
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT

# ---- 1. build -----------------------------------------------------------------------------
src=$work/libqpki-ocsp
mkdir "$src"
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
    # tracked and new files, nothing ignored (no build directories)
    (cd "$top" && git ls-files -z -co --exclude-standard | tar --null -T - -cf -) | tar -xf - -C "$src"
else
    (cd "$top" && tar --exclude='./build*' --exclude='./obj-*' -cf - .) | tar -xf - -C "$src"
fi
start=$(date +%s)
(cd "$src" && DEB_BUILD_OPTIONS="nocheck noautodbgsym" \
    dpkg-buildpackage -us -uc -b -j"$(nproc)" >"$work/build.log" 2>&1) ||
    { tail -n 60 "$work/build.log"; fail "dpkg-buildpackage"; }
version=$(cd "$src" && dpkg-parsechangelog -SVersion)
mapfile -t debs < <(cd "$work" && ls ./*.deb)
packages=$(printf '%s\n' "${debs[@]}" | sed 's|^\./||; s|_.*||' | tr '\n' ' ')
ok "dpkg-buildpackage -us -uc -b: ${packages}($(($(date +%s) - start)) s)"
for p in libqpki-ocsp1 libqpki-ocsp-dev qpki qpki-pkcs11; do
    [[ -f $work/${p}_${version}_$(dpkg --print-architecture).deb ]] || fail "no package $p"
done
if grep -q "^option('pgsql'" "$top/meson_options.txt"; then
    [[ -f $work/qpki-db-pgsql_${version}_$(dpkg --print-architecture).deb ]] || fail "no package qpki-db-pgsql"
    dpkg-deb -c "$work"/qpki-db-pgsql_*.deb >"$work/pgsql.list"
    grep -q '/qpki/qpki-db-pgsql\.so$' "$work/pgsql.list" ||
        fail "qpki-db-pgsql has no qpki-db-pgsql.so"
    grep -q 'libpq5' <<<"$(dpkg-deb -f "$work"/qpki-db-pgsql_*.deb Depends)" || fail "qpki-db-pgsql does not depend on libpq5"
    # docs/OPERATIONS.md section 9 and examples/cluster/README.md name these files
    for f in README.md node.yaml haproxy.cfg systemd/database.conf systemd/node.env; do
        grep -q " \./usr/share/doc/qpki-db-pgsql/examples/cluster/$f$" "$work/pgsql.list" ||
            fail "qpki-db-pgsql does not ship examples/cluster/$f"
    done
    ok "qpki-db-pgsql: the plugin, depending on libpq5; examples/cluster in its examples"
else
    note "qpki-db-pgsql: this tree has no -Dpgsql option yet, so debian/rules leaves that package out"
fi
for p in libqpki-ocsp1 qpki qpki-pkcs11 libqpki-ocsp-dev; do
    if grep -q libpq <<<"$(dpkg-deb -f "$work/${p}_${version}_"*.deb Depends)"; then
        fail "$p depends on libpq"
    fi
done
ok "only qpki-db-pgsql may pull in libpq: libqpki-ocsp1, -dev, qpki, qpki-pkcs11 do not"

# ---- 2. lintian ------------------------------------------------------------------------------
lintian_args=(--fail-on error,warning)
[[ $(id -u) == 0 ]] && lintian_args+=(--allow-root)
if lintian "${lintian_args[@]}" "$work"/*.changes >"$work/lintian.txt" 2>&1; then
    ok "lintian: no error, no warning ($(grep -c '^[IP]:' "$work/lintian.txt" || true) info lines)"
else
    cat "$work/lintian.txt"
    fail "lintian"
fi

# ---- 3. install ----------------------------------------------------------------------------------
arch=$(dpkg --print-architecture)
pkgs=(libqpki-ocsp1 libqpki-ocsp-dev qpki qpki-pkcs11)
[[ -f $work/qpki-db-pgsql_${version}_${arch}.deb ]] && pkgs+=(qpki-db-pgsql)
main_debs=()
for p in "${pkgs[@]}"; do
    main_debs+=("$work/${p}_${version}_${arch}.deb")
done
# the lock file may belong to whoever ran first: created if missing, then opened
# for reading, which is all flock needs
lock=/tmp/qpki-package-test.lock
[[ -e $lock ]] || : >>"$lock" 2>/dev/null || true
exec 9<"$lock"
flock 9
if [[ $mode == machine ]]; then
    for p in "${pkgs[@]}"; do
        grep -q 'install ok installed' <<<"$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" ||
            installed_here+=("$p")
    done
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300 \
        --no-install-recommends "${main_debs[@]}" >"$work/install.log" 2>&1 ||
        { cat "$work/install.log"; fail "apt-get install"; }
    root=
    QPKI=/usr/bin/qpki
    for p in "${pkgs[@]}"; do
        [[ $(dpkg-query -W -f='${Version}' "$p") == "$version" ]] || fail "$p $version is not installed"
    done
    ok "apt-get install ${pkgs[*]}: installed, version $version"
else
    root=$work/root
    for d in "${main_debs[@]}"; do dpkg-deb -x "$d" "$root"; done
    QPKI=$root/usr/bin/qpki
    multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
    export LD_LIBRARY_PATH=$root/usr/lib/$multiarch
    export QPKI_PLUGIN_DIR=$root/usr/lib/$multiarch/qpki
    echo "note: neither root nor sudo: the packages are unpacked into $root and run from there"
fi

# ---- 4. the installed qpki ------------------------------------------------------------------------
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
"$QPKI" version --verbose >"$work/version.txt"
grep -q "^qpki $version (libqpki-ocsp $version)$" "$work/version.txt" || fail "qpki version: $(cat "$work/version.txt")"
if [[ $mode == machine ]]; then
    loaded=$(sed -n 's/^lib path: *//p' "$work/version.txt")
    [[ $(realpath "$loaded") == "$(realpath "/usr/lib/$multiarch/libqpki-ocsp.so.1")" ]] ||
        fail "the installed qpki does not load /usr/lib/$multiarch/libqpki-ocsp.so.1: $(cat "$work/version.txt")"
    grep -q "^plugin dir: /usr/lib/$multiarch/qpki$" "$work/version.txt" || fail "plugin dir: $(cat "$work/version.txt")"
fi
grep -q "qpki-pkcs11\.so loads (signer plugin pkcs11 $version)$" "$work/version.txt" ||
    fail "the PKCS#11 plugin does not load: $(cat "$work/version.txt")"
if [[ " ${pkgs[*]} " == *" qpki-db-pgsql "* ]]; then
    grep -q "qpki-db-pgsql\.so loads (" "$work/version.txt" ||
        fail "the PostgreSQL plugin does not load: $(cat "$work/version.txt")"
fi
ok "installed qpki version --verbose: $version, $(sed -n 's/^lib path: *//p' "$work/version.txt"), $(grep -c ' loads (' "$work/version.txt") plugins load"

if [[ $mode == machine ]]; then
    IFS=: read -r _ _ uid _ _ home shell < <(getent passwd qpki-ocsp) || fail "no user qpki-ocsp"
    [[ $uid -lt 1000 && $home == /nonexistent && $shell == */nologin ]] ||
        fail "qpki-ocsp: uid $uid home $home shell $shell"
    getent group qpki-ocsp >/dev/null || fail "no group qpki-ocsp"
    ok "system user qpki-ocsp (uid $uid, home $home, shell $shell) and its group"
    grep -q '^ /etc/qpki/ocsp/example.yaml ' <<<"$(dpkg-query -W -f='${Conffiles}\n' qpki)" ||
        fail "/etc/qpki/ocsp/example.yaml is not a conffile"
    [[ -f /lib/systemd/system/qpki-ocsp@.service ]] || fail "no /lib/systemd/system/qpki-ocsp@.service"
    ok "conffile /etc/qpki/ocsp/example.yaml, unit /lib/systemd/system/qpki-ocsp@.service"
fi
grep -q -- '-F _qpki qpki' <<<"$(bash -c ". '$root/usr/share/bash-completion/completions/qpki' && complete -p qpki")" ||
    fail "bash completion"
[[ -f $root/usr/share/zsh/vendor-completions/_qpki ]] || fail "zsh completion"
for m in qpki qpki-version qpki-ocsp-serve; do
    [[ -f $root/usr/share/man/man1/$m.1.gz ]] || fail "man page $m"
done
ok "bash and zsh completion, man pages (qpki, qpki-version, qpki-ocsp-serve) installed"

# a demo PKI outside /tmp and /home (the unit has PrivateTmp= and ProtectHome=)
if [[ $mode == machine ]]; then
    pki=$(as_root mktemp -d /var/lib/qpki-package-test.XXXXXX)
    as_root chown "$(id -u)" "$pki"
    chmod 755 "$pki"
else
    pki=$work/pki
    mkdir "$pki"
fi
(
    cd "$pki"
    "$QPKI" ca init --ca-dir ca --var cn="Package Test CA" >/dev/null
    "$QPKI" credential enroll --ca-dir ca --cred-dir credentials --profile ec/ocsp-responder \
        --var cn=ocsp.package.test --id ocsp-responder >/dev/null
    for leaf in good revoked; do
        "$QPKI" key gen --algo ecdsa-p256 --out "$leaf.key" >/dev/null 2>&1
        "$QPKI" csr create --key "$leaf.key" --cn "$leaf.package.test" --out "$leaf.csr" >/dev/null 2>&1
        "$QPKI" cert issue --ca-dir ca --profile ec/tls-server --csr "$leaf.csr" --out "$leaf.crt" >/dev/null 2>&1
    done
    serial=$(openssl x509 -in revoked.crt -noout -serial | cut -d= -f2)
    "$QPKI" cert revoke --ca-dir ca --serial "$serial" --reason keyCompromise >/dev/null
    sed "s|/var/lib/qpki|$pki|g" "$root/etc/qpki/ocsp/example.yaml" >demo.yaml
)
port=$(free_port)
mkdir -p "$pki/run"
if [[ $mode == machine ]]; then
    as_root chown -R qpki-ocsp:qpki-ocsp "$pki"
    run_as=(as_root runuser -u qpki-ocsp --)
    who="as qpki-ocsp"
else
    run_as=()
    who="as $(id -un)"
fi
"${run_as[@]}" "$QPKI" ocsp serve --config "$pki/demo.yaml" --addr "127.0.0.1:$port" \
    --pid-file "$pki/run/ocsp.pid" >"$work/serve.log" 2>&1 &
server_pid=$!
wait_for_line "$work/serve.log" 'msg=listening' "$server_pid" "the installed qpki ocsp serve"
query() { ocsp_ask "$pki/ca/ca.crt" "$pki/$1" "$port"; } # CERT of the demo PKI
out=$(query good.crt)
grep -q "good.crt: good" <<<"$out" && grep -q "Response verify OK" <<<"$out" || fail "good: $out"
out=$(query revoked.crt)
grep -q "revoked.crt: revoked" <<<"$out" && grep -q "Reason: keyCompromise" <<<"$out" &&
    grep -q "Response verify OK" <<<"$out" || fail "revoked: $out"
"${run_as[@]}" "$QPKI" ocsp stop --pid-file "$pki/run/ocsp.pid" >"$work/stop.txt" 2>&1 || fail "qpki ocsp stop: $(cat "$work/stop.txt")"
wait "$server_pid" || fail "qpki ocsp serve exit status $?"
server_pid=
ok "installed qpki: demo PKI, ocsp serve $who with the example configuration, openssl ocsp: good, revoked (keyCompromise), verified; ocsp stop"

# ---- 5. pkg-config consumer of the -dev package -----------------------------------------------------
example=$root/usr/share/doc/libqpki-ocsp-dev/examples/parse_request.c
[[ -f $example ]] || fail "no $example"
if [[ $mode == machine ]]; then
    flags=$(pkg-config --cflags --libs libqpki-ocsp)
else
    flags=$(PKG_CONFIG_PATH=$root/usr/lib/$multiarch/pkgconfig pkg-config --define-variable=prefix="$root/usr" \
        --cflags --libs libqpki-ocsp)
fi
# shellcheck disable=SC2086
cc -std=c11 -Wall -Wextra -Werror -o "$work/parse_request" "$example" $flags
resolved=$(ldd "$work/parse_request" | awk '/libqpki-ocsp\.so\.1 =>/ {print $3}')
if [[ $mode == machine && -n $resolved &&
      $(realpath "$resolved") == "$(realpath "/usr/lib/$multiarch/libqpki-ocsp.so.1")" ]]; then
    linked="runs with $resolved"
elif [[ $mode == root-dir ]]; then
    linked="linked against $root"
else
    fail "parse_request does not use the installed library: $(ldd "$work/parse_request")"
fi
"$work/parse_request" "$top/tests/data/ocsp/req-two.der" "$top/tests/data/ocsp/responder.crt" \
    "$top/tests/data/ocsp/responder.key" >"$work/resp.der"
out=$(openssl ocsp -respin "$work/resp.der" -CAfile "$top/tests/data/ocsp/ca.crt" \
    -issuer "$top/tests/data/ocsp/ca.crt" -serial 0x1001 -serial 0x1002 -no_nonce 2>&1)
grep -q "0x1001: good" <<<"$out" && grep -q "0x1002: good" <<<"$out" && grep -q "Response verify OK" <<<"$out" ||
    fail "parse_request response: $out"
ok "pkg-config --cflags --libs libqpki-ocsp: the -dev example builds ($flags), $linked; openssl verifies its response"

# the two server examples, with the libraries they name in their comments (libmicrohttpd,
# wolfSSL: the -dev package Suggests libmicrohttpd-dev and Depends on libwolfssl-dev)
pc() { # PKG-CONFIG ARGS for the installed (or unpacked) -dev package
    if [[ $mode == machine ]]; then
        pkg-config "$@"
    else
        PKG_CONFIG_PATH=$root/usr/lib/$multiarch/pkgconfig pkg-config --define-variable=prefix="$root/usr" "$@"
    fi
}
exdir=$root/usr/share/doc/libqpki-ocsp-dev/examples
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror -o "$work/http_responder" "$exdir/http_responder.c" \
    $(pc --cflags --libs libqpki-ocsp libmicrohttpd)
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror -o "$work/staple_server" "$exdir/staple_server.c" \
    $(pc --cflags --libs libqpki-ocsp wolfssl)
# http_responder answering openssl ocsp from tests/data/ocsp (ca.crt, ca.key, index.txt)
ex_port=$(free_port)
"$work/http_responder" "$ex_port" "$top/tests/data/ocsp" >"$work/http_responder.log" 2>&1 &
server_pid=$!
wait_for_line "$work/http_responder.log" 'serving' "$server_pid" "http_responder"
ex_query() { ocsp_ask "$top/tests/data/ocsp/ca.crt" "$top/tests/data/ocsp/$1" "$ex_port"; }
out=$(ex_query leaf1.crt)
grep -q "leaf1.crt: good" <<<"$out" && grep -q "Response verify OK" <<<"$out" || fail "http_responder, leaf1: $out"
out=$(ex_query leaf2.crt)
grep -q "leaf2.crt: revoked" <<<"$out" && grep -q "Reason: keyCompromise" <<<"$out" &&
    grep -q "Response verify OK" <<<"$out" || fail "http_responder, leaf2: $out"
kill "$server_pid"
wait "$server_pid" 2>/dev/null || true
server_pid=
ok "the -dev package's http_responder.c (with libmicrohttpd) and staple_server.c (with wolfssl) build with pkg-config; http_responder answers openssl ocsp: good, revoked (keyCompromise), verified"

# ---- 6. systemd -------------------------------------------------------------------------------------
systemd_runs=
[[ $mode == machine && -d /run/systemd/system ]] && systemd_runs=yes
show() { systemctl show -p "$1" --value "$unit"; }
# start_unit NAME: /etc/qpki/ocsp/NAME.yaml from the demo configuration, then systemctl start
start_unit() {
    unit=qpki-ocsp@$1.service
    sed "s|^addr: .*|addr: \"127.0.0.1:$port\"|" "$pki/demo.yaml" | as_root tee "/etc/qpki/ocsp/$1.yaml" >/dev/null
    as_root systemctl daemon-reload
    # Type=notify: start returns once the server said READY=1
    as_root systemctl start "$unit" || { as_root journalctl -u "$unit" --no-pager | tail -30; fail "systemctl start $unit"; }
}
if [[ $mode != machine ]]; then
    note "qpki-ocsp@.service: packages not installed on the machine (neither root nor sudo)"
elif [[ -z $systemd_runs ]]; then
    note "qpki-ocsp@.service was not started: systemd does not run this machine (PID 1 is '$(ps -o comm= -p 1)'); the readiness protocol is checked by tests/server/notify.sh, the unit under systemd by tests/package/systemd_nspawn.sh"
else
    name=pkgtest$$
    start_unit "$name"
    [[ $(show ActiveState) == active && $(show SubState) == running && $(show User) == qpki-ocsp ]] ||
        fail "$unit: $(show ActiveState)/$(show SubState) as $(show User)"
    [[ $(show StatusText) == "answering on 127.0.0.1:$port" ]] || fail "$unit status: $(show StatusText)"
    main_pid=$(show MainPID)
    [[ $(ps -o user= -p "$main_pid") == qpki-ocsp ]] || fail "$unit: MainPID $main_pid runs as $(ps -o user= -p "$main_pid")"
    out=$(query good.crt)
    grep -q "good.crt: good" <<<"$out" && grep -q "Response verify OK" <<<"$out" || fail "$unit: $out"
    out=$(query revoked.crt)
    grep -q "revoked.crt: revoked" <<<"$out" && grep -q "Response verify OK" <<<"$out" || fail "$unit: $out"
    # reload: RELOADING=1 then READY=1 with STATUS=reloaded; systemctl reload returns after READY=1
    as_root systemctl reload "$unit"
    [[ $(show StatusText) == reloaded && $(show ActiveState) == active && $(show MainPID) == "$main_pid" ]] ||
        fail "$unit after reload: $(show StatusText), $(show ActiveState), PID $(show MainPID) (was $main_pid)"
    out=$(query good.crt)
    grep -q "good.crt: good" <<<"$out" && grep -q "Response verify OK" <<<"$out" || fail "$unit after reload: $out"
    # a broken configuration: READY=1 with the failure named, the previous one serving
    as_root tee -a "/etc/qpki/ocsp/$name.yaml" <<<"no_such_key: 1" >/dev/null
    as_root systemctl reload "$unit"
    [[ $(show StatusText) == "reload failed; the previous configuration keeps serving" && $(show ActiveState) == active ]] ||
        fail "$unit after a broken reload: $(show StatusText), $(show ActiveState)"
    out=$(query good.crt)
    grep -q "good.crt: good" <<<"$out" || fail "$unit after a broken reload: $out"
    # stop: SIGTERM, STOPPING=1 with STATUS=draining requests in flight, exit 0.  systemd
    # forgets the status once the unit is inactive, so a request is kept in flight (a
    # POST whose body has not all come) while the stop is watched, then let go.
    exec 7<>"/dev/tcp/127.0.0.1/$port"
    printf 'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/ocsp-request\r\nContent-Length: 100\r\n\r\n0123456789' >&7
    sleep 1 # time for the server to read the headers: the request is then in flight
    as_root systemctl stop --no-block "$unit"
    draining=
    for _ in $(seq 100); do
        [[ $(show ActiveState) == deactivating && $(show StatusText) == "draining requests in flight" ]] && { draining=yes; break; }
        sleep 0.05
    done
    exec 7>&-
    for _ in $(seq 250); do [[ $(show ActiveState) == inactive ]] && break; sleep 0.1; done
    [[ -n $draining ]] || fail "$unit: no 'draining requests in flight' status while deactivating (STOPPING=1)"
    [[ $(show ActiveState) == inactive && $(show Result) == success ]] || fail "$unit after stop: $(show ActiveState), $(show Result)"
    ! kill -0 "$main_pid" 2>/dev/null || fail "$unit: PID $main_pid still runs after stop"
    as_root rm -f "/etc/qpki/ocsp/$name.yaml"
    ok "systemd: $unit started (READY=1: Status 'answering on 127.0.0.1:$port', PID $main_pid as qpki-ocsp), openssl ocsp good/revoked verified, reload (Status 'reloaded', same PID, answers), broken reload (Status names it, still active, answers), stop with a request in flight (STOPPING=1: deactivating, Status 'draining requests in flight'), inactive, Result=success, the process gone)"
    unit=
fi

# ---- 7. maintainer scripts: upgrade, remove, purge ---------------------------------------------------
# qpki.postinst/prerm/postrm handle the template unit themselves (dh_installsystemd
# skips templates): where systemd runs, an upgrade restarts the running instances
# and a removal stops them (checked here with an instance running); without
# systemd they must succeed doing nothing.  Purge removes the links `systemctl
# enable qpki-ocsp@NAME` makes and nothing else.
if [[ $mode != machine ]]; then
    note "qpki maintainer scripts: packages not installed on the machine (neither root nor sudo)"
elif [[ " ${installed_here[*]} " != *" qpki "* ]]; then
    note "qpki maintainer scripts: qpki was installed before this test, so it is not removed here"
else
    what=()
    if [[ -n $systemd_runs ]]; then
        start_unit "pkgtest$$-upgrade"
        pid_before=$(show MainPID)
    fi
    qpki_deb=$work/qpki_${version}_${arch}.deb
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300 \
        --reinstall "$qpki_deb" >"$work/reinstall.log" 2>&1 || { cat "$work/reinstall.log"; fail "reinstall of qpki"; }
    if [[ -n $systemd_runs ]]; then
        pid_after=$(show MainPID)
        [[ $(show ActiveState) == active && $pid_after != "$pid_before" && $pid_after != 0 &&
           $(show StatusText) == "answering on 127.0.0.1:$port" ]] ||
            fail "$unit after the upgrade: $(show ActiveState), PID $pid_after (was $pid_before), $(show StatusText)"
        out=$(query good.crt)
        grep -q "good.crt: good" <<<"$out" && grep -q "Response verify OK" <<<"$out" || fail "$unit after the upgrade: $out"
        what+=("upgrade restarted $unit (PID $pid_before -> $pid_after, answers)")
    else
        what+=("reinstall")
    fi
    # what `systemctl enable qpki-ocsp@NAME` leaves, and a link of another unit beside it
    wants=/etc/systemd/system/multi-user.target.wants
    as_root mkdir -p "$wants"
    as_root ln -sfn /lib/systemd/system/qpki-ocsp@.service "$wants/qpki-ocsp@pkgtest$$.service"
    as_root ln -sfn "/lib/systemd/system/pkgtest$$-other.service" "$wants/qpki-ocsp@pkgtest$$-other.service"
    links_made=("$wants/qpki-ocsp@pkgtest$$.service" "$wants/qpki-ocsp@pkgtest$$-other.service")
    as_root apt-get remove -y -qq -o DPkg::Lock::Timeout=300 qpki >"$work/remove.log" 2>&1 ||
        { cat "$work/remove.log"; fail "apt-get remove qpki"; }
    [[ $(dpkg-query -W -f='${Status}' qpki) == "deinstall ok config-files" ]] || fail "qpki after remove: $(dpkg-query -W -f='${Status}' qpki)"
    [[ -f /etc/qpki/ocsp/example.yaml && -L ${links_made[0]} ]] || fail "remove took the conffile or the enable link"
    if [[ -n $systemd_runs ]]; then
        [[ $(show ActiveState) == inactive ]] || fail "$unit after remove: $(show ActiveState)"
        ! kill -0 "$pid_after" 2>/dev/null || fail "$unit: PID $pid_after still runs after remove"
        as_root rm -f "/etc/qpki/ocsp/pkgtest$$-upgrade.yaml"
        unit=
        what+=("remove stopped it")
    else
        what+=("remove")
    fi
    as_root apt-get purge -y -qq -o DPkg::Lock::Timeout=300 qpki >"$work/purge.log" 2>&1 ||
        { cat "$work/purge.log"; fail "apt-get purge qpki"; }
    [[ -z $(dpkg-query -W -f='${Status}' qpki 2>/dev/null) || $(dpkg-query -W -f='${Status}' qpki) == "unknown ok not-installed" ]] ||
        fail "qpki after purge: $(dpkg-query -W -f='${Status}' qpki)"
    [[ ! -e /etc/qpki/ocsp/example.yaml ]] || fail "purge left /etc/qpki/ocsp/example.yaml"
    [[ ! -L ${links_made[0]} ]] || fail "purge left ${links_made[0]}"
    [[ -L ${links_made[1]} ]] || fail "purge removed ${links_made[1]}, a link to another unit"
    as_root rm -f "${links_made[1]}"
    links_made=()
    getent passwd qpki-ocsp >/dev/null || fail "purge removed the user qpki-ocsp"
    printf -v whats '%s, ' "${what[@]}"
    ok "qpki maintainer scripts (systemd ${systemd_runs:-absent}): ${whats%, }; purge: conffile and the qpki-ocsp@ enable link gone, another link and the user kept"
fi

echo "# package test: $PASS passed"
