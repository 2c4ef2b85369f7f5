# SPDX-License-Identifier: Apache-2.0
# tests/cli/zsh_complete.zsh - drive zsh's real completion (compinit, a zsh on a
# pseudo-terminal through zpty): for each INPUT EXPECT pair, type INPUT and TAB and
# wait until the line shows EXPECT.  Prints "ok INPUT -> EXPECT" or "FAIL ...".
# usage: zsh -f zsh_complete.zsh COMPLETION_DIR BIN_DIR INPUT EXPECT [INPUT EXPECT]...
zmodload zsh/zpty
local dir=$1 bin=$2
shift 2
zpty z zsh -f -i
zpty -w z "PS1='> '; fpath=($dir \$fpath); autoload -U compinit; compinit -u -D; path=($bin \$path)"
local input expect out chunk i rc=0
while (( $# >= 2 )); do
    input=$1 expect=$2
    shift 2
    zpty -n -w z "$input"$'\t'
    out=""
    for i in {1..50}; do
        if zpty -r -t z chunk; then out+=$chunk; else sleep 0.1; fi
        [[ ${out//$'\r'/} == *"$expect"* ]] && break
    done
    if [[ ${out//$'\r'/} == *"$expect"* ]]; then
        print -r -- "ok $input<TAB> -> $expect"
    else
        print -r -- "FAIL $input<TAB>: '$expect' not seen in: ${${out//$'\r'/}[-300,-1]}"
        rc=1
    fi
    zpty -n -w z $'\x15'   # ^U: kill the line for the next one
done
zpty -d z
return $rc
