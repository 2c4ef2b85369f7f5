#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tests/cli/completion.sh - the generated shell completion (cli/completion/): for
# every command `qpki --help` lists (and `qpki version`), bash completes exactly the
# options its --help prints, no more, no fewer; groups, commands and option values
# (files, directories, variables, fixed words) complete as they should; the zsh file
# parses and offers the same options.
# usage: completion.sh QPKI BASH_COMPLETION ZSH_COMPLETION
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BASH_FILE=$(realpath "$2")
ZSH_FILE=$(realpath "$3")
. "$HERE/lib.sh"
# shellcheck source=/dev/null
. "$BASH_FILE"

# complete WORDS...: COMPREPLY for the last word (may be ""), sorted, one per line
complete_words() {
    COMP_WORDS=("$@")
    COMP_CWORD=$(($# - 1))
    COMPREPLY=()
    _qpki
    printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | LC_ALL=C sort -u
}
# options of a --help text: lines indented by 1-4 spaces starting with '-'; the
# left column ends at two spaces; every word in it that starts with '-'
help_options() {
    grep -E '^ {1,4}-' | sed -E 's/^ +//; s/  .*//' | tr ', ' '\n\n' | grep -E '^-' | LC_ALL=C sort -u
}

cmds=$(qpki --help | awk '/^Commands:/ {on = 1; next} on && /^  [a-z]/ {print $1 " " $2}')
groups=$(echo "$cmds" | awk '{print $1}' | LC_ALL=C sort -u)
checked=0
while read -r words; do
    # shellcheck disable=SC2086
    qpki $words --help | help_options >want.txt
    # shellcheck disable=SC2086
    complete_words qpki $words - >got.txt
    [ -s want.txt ] || fail "qpki $words --help lists no option"
    if cmp -s want.txt got.txt; then
        checked=$((checked + 1))
    else
        fail "qpki $words: --help and completion differ (< help only, > completion only)"
        diff want.txt got.txt | grep '^[<>]' | sed 's/^/    | /'
    fi
    # nothing typed yet: the options too
    # shellcheck disable=SC2086
    complete_words qpki $words "" >got-empty.txt
    cmp -s want.txt got-empty.txt || fail "qpki $words <TAB>: not the option list"
done < <(echo "$cmds"; echo version)
[ "$checked" -ge 18 ] && ok "$checked commands (all of qpki --help, and version): bash completes exactly the options --help prints" \
    || fail "only $checked commands checked"

# first word: the groups, version, and the top-level words
{ echo "$groups"; printf '%s\n' version help --help -h --version; } | LC_ALL=C sort -u >want.txt
complete_words qpki "" >got.txt
cmp -s want.txt got.txt && ok "qpki <TAB>: $(tr '\n' ' ' <got.txt)" || { fail "qpki <TAB>"; diff want.txt got.txt || true; }
for g in $groups; do
    { echo "$cmds" | awk -v g="$g" '$1 == g {print $2}'; printf '%s\n' --help -h; } | LC_ALL=C sort >want.txt
    complete_words qpki "$g" "" >got.txt
    cmp -s want.txt got.txt || { fail "qpki $g <TAB>"; diff want.txt got.txt || true; }
done
ok "qpki GROUP <TAB>: each group's commands as qpki --help lists them"
[ "$(complete_words qpki oc)" = ocsp ] && ok "qpki oc<TAB> -> ocsp" || fail "qpki oc<TAB>"
[ "$(complete_words qpki ocsp si)" = sign ] && ok "qpki ocsp si<TAB> -> sign" || fail "qpki ocsp si<TAB>"
[ "$(complete_words qpki ocsp sign --rev)" = "$(printf '%s\n' --revocation-reason --revocation-time)" ] &&
    ok "qpki ocsp sign --rev<TAB> -> --revocation-reason --revocation-time" || fail "--rev<TAB>"

# values
mkdir -p sub/dir1 sub/dir2
touch sub/ca.crt sub/key.pem
[ "$(complete_words qpki ocsp sign --hash "")" = "$(printf 'sha1\nsha256')" ] &&
    ok "--hash <TAB> -> sha1 sha256 (from the value name sha1|sha256)" || fail "--hash <TAB>"
[ "$(complete_words qpki ocsp sign --ca sub/)" = "$(printf 'sub/ca.crt\nsub/dir1\nsub/dir2\nsub/key.pem')" ] &&
    ok "--ca sub/<TAB> -> files (FILE)" || fail "--ca sub/<TAB>: $(complete_words qpki ocsp sign --ca sub/ | tr '\n' ' ')"
[ "$(complete_words qpki ocsp sign -o sub/c)" = sub/ca.crt ] && ok "-o sub/c<TAB> -> a file (the value of --out)" || fail "-o <TAB>"
[ "$(complete_words qpki ocsp sign --out=sub/k)" = sub/key.pem ] && ok "--out=sub/k<TAB> -> a file" || fail "--out=<TAB>"
[ "$(complete_words qpki ocsp serve --ca-dir sub/)" = "$(printf 'sub/dir1\nsub/dir2')" ] &&
    ok "--ca-dir sub/<TAB> -> directories only (DIR)" || fail "--ca-dir <TAB>"
export QPKI_TEST_PASSPHRASE_VAR=x
[ "$(complete_words qpki ocsp sign --passphrase-env QPKI_TEST_PASS)" = QPKI_TEST_PASSPHRASE_VAR ] &&
    ok "--passphrase-env <TAB> -> environment variables (VAR)" || fail "--passphrase-env <TAB>"
[ -z "$(complete_words qpki ocsp sign --serial "")" ] && ok "--serial <TAB> -> nothing (a free value)" || fail "--serial <TAB>"
[ "$(complete_words qpki ocsp sign --no-certs --ser)" = --serial ] && ok "after a flag (--no-certs), options again" || fail "after --no-certs"
[ "$(complete_words qpki ocsp info sub/c)" = sub/ca.crt ] && ok "qpki ocsp info sub/c<TAB> -> a file (an argument)" || fail "argument <TAB>"
[ "$(complete_words qpki --version --v)" = --verbose ] && ok "qpki --version --v<TAB> -> --verbose" || fail "--version --v<TAB>"
[ -z "$(complete_words qpki ocsp frobnicate --)" ] && ok "unknown command: nothing" || fail "unknown command"

# zsh: the file parses and each command's function lists the same options
if command -v zsh >/dev/null 2>&1; then
    zsh -n "$ZSH_FILE" && ok "zsh -n _qpki" || fail "zsh -n _qpki"
    n=0
    while read -r words; do
        # shellcheck disable=SC2086
        qpki $words --help | help_options >want.txt
        fn="_qpki_$(echo "$words" | tr ' -' '__')"
        sed -n "/^$fn() {/,/^}/p" "$ZSH_FILE" | sed -n "s/^ *'\*\(-[-a-zA-Z0-9]*\)\[.*/\1/p" |
            LC_ALL=C sort -u >got.txt
        cmp -s want.txt got.txt && n=$((n + 1)) || { fail "zsh $fn differs from --help"; diff want.txt got.txt || true; }
    done < <(echo "$cmds"; echo version)
    ok "zsh: $n command functions list exactly the options --help prints"
    # compinit loads it and completes for real: a zsh on a pseudo-terminal (zpty)
    if zsh -f "$HERE/zsh_complete.zsh" "$(dirname "$ZSH_FILE")" "$TMP/.bin" \
        "qpki ocsp ser" "qpki ocsp serve" \
        "qpki ocsp sign --no-c" "--no-certs" \
        "qpki ocsp sign --hash sha2" "--hash sha256" \
        "qpki ocsp serve --log-f" "--log-format" \
        "qpki ver" "qpki version" \
        "qpki version --verb" "--verbose" >zsh.txt 2>&1; then
        ok "zsh (compinit on a pseudo-terminal): $(grep -c '^ok' zsh.txt) completions typed with TAB"
    else
        fail "zsh completion on a pseudo-terminal"
        sed 's/^/    | /' zsh.txt
    fi
else
    fail "zsh is missing (install-deps.sh installs it)"
fi

finish
