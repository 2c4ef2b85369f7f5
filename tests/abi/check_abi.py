#!/usr/bin/env python3
"""ABI check: the exported symbols of libqpki-ocsp.so, the linker version script,
the QPKI_API declarations in include/qpki/*.h, the checked-in list
tests/abi/symbols.txt and the table in docs/ABI.md must be the same set; every public
header must compile on its own as C11 (-Wall -Wextra -pedantic -Werror) and as C++
(the extern "C" guards).

usage: check_abi.py LIBRARY.so MAPFILE INCLUDE_DIR SYMBOLS_TXT CC
"""
import glob, os, re, shutil, subprocess, sys, tempfile

lib, mapfile, incdir, symfile, cc = sys.argv[1:6]

def exported():
    out = subprocess.run(["nm", "-D", "--defined-only", lib], check=True,
                         capture_output=True, text=True).stdout
    syms = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[1] in "TDBRVW":
            name = parts[2].split("@")[0]
            syms.add(name)
    return syms

def in_map():
    text = open(mapfile).read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return set(re.findall(r"^\s*(qpki_[A-Za-z0-9_]+)\s*;", text, flags=re.M))

def declared():
    names = set()
    for h in glob.glob(os.path.join(incdir, "qpki", "*.h")):
        text = open(h).read()
        text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
        for m in re.finditer(r"QPKI_API\b([^;{]*?)\b(qpki_[A-Za-z0-9_]+)\s*\(", text, flags=re.S):
            names.add(m.group(2))
    return names

def listed():
    return set(l.strip() for l in open(symfile) if l.strip() and not l.startswith("#"))

def documented():
    """Symbols in the table of docs/ABI.md (| `name` | node |)."""
    doc = os.path.join(os.path.dirname(os.path.abspath(symfile)), "..", "..", "docs", "ABI.md")
    return set(re.findall(r"^\| `(qpki_[A-Za-z0-9_]+)` \|", open(doc).read(), flags=re.M))

sets = {"exported from the .so": exported(), "in the version script": in_map(),
        "declared QPKI_API in headers": declared(), "in tests/abi/symbols.txt": listed(),
        "documented in docs/ABI.md": documented()}
ok = True
ref_name, ref = "in tests/abi/symbols.txt", sets["in tests/abi/symbols.txt"]
for name, s in sets.items():
    if s != ref:
        ok = False
        print(f"MISMATCH: {name} vs {ref_name}")
        for x in sorted(s - ref):
            print(f"  only {name}: {x}")
        for x in sorted(ref - s):
            print(f"  only {ref_name}: {x}")
non_qpki = [s for s in sets["exported from the .so"] if not s.startswith("qpki_")]
if non_qpki:
    ok = False
    print("symbols without the qpki_ prefix are exported:", sorted(non_qpki))

headers = sorted(glob.glob(os.path.join(incdir, "qpki", "*.h")))
with tempfile.TemporaryDirectory() as d:
    for h in headers:
        src = os.path.join(d, "t.c")
        with open(src, "w") as f:
            f.write(f"#include <qpki/{os.path.basename(h)}>\nint qpki_abi_probe(void);\nint qpki_abi_probe(void) {{ return 0; }}\n")
        r = subprocess.run([cc, "-std=c11", "-Wall", "-Wextra", "-pedantic", "-Werror",
                            "-fsyntax-only", "-I", incdir, src], capture_output=True, text=True)
        if r.returncode != 0:
            ok = False
            print(f"header {os.path.basename(h)} does not compile alone:\n{r.stderr}")
        cxx = shutil.which("c++") or shutil.which("g++")
        if cxx:
            r = subprocess.run([cxx, "-std=c++17", "-Wall", "-Wextra", "-Werror", "-fsyntax-only",
                                "-x", "c++", "-I", incdir, src], capture_output=True, text=True)
            if r.returncode != 0:
                ok = False
                print(f"header {os.path.basename(h)} does not compile as C++:\n{r.stderr}")
print(f"{len(ref)} symbols; {len(headers)} public headers compile alone" if ok else "ABI check FAILED")
sys.exit(0 if ok else 1)
