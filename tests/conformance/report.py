#!/usr/bin/env python3
"""report.py - turn a conformance results directory into one test case per scenario.

    report.py RESULTS_DIR SCENARIOS_FILE NEEDS_FEDERATION_FILE [--all-must-pass]

RESULTS_DIR is the -o directory of `conformance server`: one
server-<scenario>-<ISO time>/checks.json per scenario, each a JSON array of
checks {id, status: SUCCESS|FAILURE|WARNING|SKIPPED|INFO, errorMessage?}.
(The layout and the pass rule follow ../shared/conformance/summarize-checks.py,
written for this project: a scenario passes when none of its checks is a
FAILURE, which is also the CLI's own rule.)

SCENARIOS_FILE lists the scenarios the run was asked for (`conformance list
--server`), so a scenario that wrote no checks.json is a failure, not a gap.

Prints, per scenario:
    ok - scenario NAME (N checks passed[; warnings: ID, ...][; no check scored: WHY])
    skip - NAME: needs the federation issue (upstream MCP server): REASON
    not ok - scenario NAME        followed by the failing checks, indented
A scenario listed in NEEDS_FEDERATION_FILE that passes is "not ok" (a stale
entry); with --all-must-pass (a run against the Node fixture server) the list
is ignored and every scenario must pass.  Exit 0 when nothing is "not ok".
"""
import glob
import json
import os
import re
import sys


def load_list(path):
    """Names (first word of each non-comment line) mapped to the rest of the line."""
    out = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, _, rest = line.partition(" ")
            out[name] = rest.strip()
    return out


def load_results(root):
    runs = {}
    for path in sorted(glob.glob(os.path.join(root, "*", "checks.json"))):
        d = os.path.basename(os.path.dirname(path))
        m = re.match(r"^server-(.*)-\d{4}-\d{2}-\d{2}T[\d-]+Z$", d)
        name = m.group(1) if m else d
        try:
            with open(path) as f:
                runs[name] = json.load(f)
        except (OSError, ValueError) as e:
            runs[name] = [{"id": "checks.json", "status": "FAILURE",
                           "errorMessage": f"unreadable: {e}"}]
    return runs


def main(argv):
    if len(argv) < 4:
        sys.stderr.write(__doc__)
        return 2
    root, scen_file, fed_file = argv[1:4]
    all_must_pass = "--all-must-pass" in argv[4:]
    scenarios = list(load_list(scen_file))
    federation = {} if all_must_pass else load_list(fed_file)
    runs = load_results(root)
    bad = 0
    counts = {"pass": 0, "fail": 0, "federation": 0}

    for name in sorted(set(federation) - set(scenarios)):
        print(f"not ok - needs-federation.txt names '{name}', which the suite does not have")
        bad += 1
    for name in scenarios:
        checks = runs.get(name)
        if checks is None:
            if name in federation:
                counts["federation"] += 1
                print(f"skip - {name}: needs the federation issue (upstream MCP server): "
                      f"{federation[name]} (and it wrote no results)")
                continue
            print(f"not ok - scenario {name}")
            print("    no checks.json: the scenario did not run or did not finish")
            bad += 1
            counts["fail"] += 1
            continue
        failures = [c for c in checks if c.get("status") == "FAILURE"]
        warnings = [c.get("id", "?") for c in checks if c.get("status") == "WARNING"]
        scored = sum(1 for c in checks if c.get("status") in ("SUCCESS", "FAILURE"))
        if name in federation:
            if failures:
                counts["federation"] += 1
                print(f"skip - {name}: needs the federation issue (upstream MCP server): "
                      f"{federation[name]}")
            else:
                print(f"not ok - scenario {name}")
                print("    passes, but needs-federation.txt lists it: remove its line")
                bad += 1
                counts["fail"] += 1
            continue
        if failures:
            print(f"not ok - scenario {name}")
            for c in failures:
                msg = (c.get("errorMessage") or "").replace("\n", " ")[:300]
                print(f"    FAILURE {c.get('id', '?')}: {msg}")
            for w in warnings:
                print(f"    WARNING {w}")
            bad += 1
            counts["fail"] += 1
        else:
            extra = f"; warnings: {', '.join(warnings)}" if warnings else ""
            if scored == 0:
                # Passing on the CLI's rule without a scored check: say why.
                why = next((str(c["details"]["message"]) for c in checks
                            if c.get("status") == "INFO" and isinstance(c.get("details"), dict)
                            and c["details"].get("message")), "")
                extra += "; no check scored" + (f": {why[:120]}" if why else "")
            print(f"ok - scenario {name} ({scored} checks passed{extra})")
            counts["pass"] += 1
    for name in sorted(set(runs) - set(scenarios)):
        print(f"# note: results for '{name}', which was not asked for")
    print(f"# conformance: {counts['pass']} scenarios pass, {counts['fail']} fail, "
          f"{counts['federation']} need federation (of {len(scenarios)})")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
