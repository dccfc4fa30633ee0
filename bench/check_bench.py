#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Checks smbx-bench's JSON output and exit status (meson test, suite bench).

usage: check_bench.py SMBX_BENCH

1. `--quick --json --filter core.`: valid JSON with the header fields, every
   selected metric with its fields, the anchor it needs pulled in, no broken
   invariant, exit 0.
2. `--quick --json --selftest --filter selftest.`: a broken invariant must
   exit 1 and print FAIL, a held one PASS, a missed value goal and a missed
   ratio goal MISS.
   A metric whose setup fails is SKIPped.
3. `--quick --selftest --filter selftest.value_miss`: a MISS alone exits 0;
   likewise a SKIP alone.
"""
import json
import subprocess
import sys

HEADER = ("smbx_version", "commit", "cpu", "cores", "compiler", "runs",
          "quick", "buildtype", "optimization", "sanitize", "metrics",
          "summary")
METRIC = ("name", "unit", "median", "min", "max", "values", "iters",
          "anchor", "ratio", "goal", "is_anchor", "invariant", "verdict")

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("not ok:", what)


def run(exe, *args):
    p = subprocess.run([exe, *args], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=50)
    return p.returncode, p.stdout, p.stderr


def load(out, what):
    try:
        return json.loads(out)
    except ValueError as e:
        check(False, f"{what}: invalid JSON ({e})")
        return None


def by_name(doc):
    return {m["name"]: m for m in doc["metrics"]}


def main():
    exe = sys.argv[1]

    rc, out, err = run(exe, "--quick", "--json", "--filter", "core.")
    check(rc == 0, f"core suite exits 0 (got {rc}: {err.strip()})")
    doc = load(out, "core suite")
    if doc is not None:
        for k in HEADER:
            check(k in doc, f"header field {k}")
        check(doc.get("runs") == 5 and doc.get("quick") is True,
              "--quick still runs 5 times")
        ms = by_name(doc)
        for m in doc["metrics"]:
            for k in METRIC:
                check(k in m, f"{m.get('name')}: field {k}")
            check(len(m["values"]) == 5, f"{m['name']}: 5 values")
        check("anchor.naive_parse" in ms, "filter pulls in the anchor used")
        check("anchor.memcpy_4k_hot" not in ms, "filter drops other anchors")
        a = ms.get("anchor.naive_parse", {})
        check(a.get("ratio") == 1 and a.get("goal") is None and
              a.get("is_anchor") is True, "anchor: ratio 1, no goal")
        d = ms.get("core.rd_decode_hdrs", {})
        check(d.get("anchor") == "anchor.naive_parse" and
              d.get("goal", {}).get("op") == "<=" and
              isinstance(d.get("ratio"), float) and d["ratio"] > 0,
              "rd_decode_hdrs has a ratio to naive_parse")
        inv = ms.get("core.rd_decode_allocs", {})
        check(inv.get("invariant") is True and inv.get("verdict") == "PASS"
              and inv.get("max") == 0, "decode allocations invariant holds")
        check(doc["summary"]["invariants_broken"] == 0, "nothing broken")

    rc, out, err = run(exe, "--quick", "--json", "--selftest",
                       "--filter", "selftest.")
    check(rc == 1, f"a broken invariant exits 1 (got {rc})")
    doc = load(out, "selftest suite")
    if doc is not None:
        ms = by_name(doc)
        verdicts = {n: m["verdict"] for n, m in ms.items()}
        check(verdicts.get("selftest.invariant_broken") == "FAIL",
              f"broken invariant FAILs ({verdicts})")
        check(verdicts.get("selftest.invariant_held") == "PASS",
              "held invariant PASSes")
        check(verdicts.get("selftest.value_miss") == "MISS",
              "value above its fixed goal MISSes")
        check(verdicts.get("selftest.ratio_miss") == "MISS",
              "two copies vs one copy <= 0.1x MISSes")
        check(verdicts.get("selftest.setup_fails") == "SKIP",
              "failed setup SKIPs")
        check(ms.get("selftest.setup_fails", {}).get("median", 0) is None,
              "a skipped metric has no median")
        check(doc["summary"]["invariants_broken"] == 1, "one broken")
        check(doc["summary"]["skipped"] == 1, "one skipped")

    rc, out, err = run(exe, "--quick", "--selftest",
                       "--filter", "selftest.value_miss")
    check(rc == 0, f"a MISS alone exits 0 (got {rc})")
    check("MISS" in out, "text output prints MISS")

    rc, out, err = run(exe, "--quick", "--selftest",
                       "--filter", "selftest.setup_fails")
    check(rc == 0 and "SKIP" in out, f"a SKIP alone exits 0 (got {rc})")

    rc, _, _ = run(exe, "--filter", "no-such-metric")
    check(rc == 2, "an empty selection exits 2")

    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
