#!/usr/bin/env python3
"""report.py - turn a conformance results directory into one test case per scenario.

    report.py RESULTS_DIR SCENARIOS_FILE LABEL [--checks N]

RESULTS_DIR is the -o directory of `conformance server`: one
server-<scenario>-<ISO time>/checks.json per scenario, each a JSON array of
checks {id, status: SUCCESS|FAILURE|WARNING|SKIPPED|INFO, errorMessage?}.
(The layout and the pass rule follow ../shared/conformance/summarize-checks.py,
written for this project: a scenario passes when none of its checks is a
FAILURE, which is also the CLI's own rule.)

SCENARIOS_FILE lists the scenarios the run was asked for (`conformance list
--server`), so a scenario that wrote no checks.json is a failure, not a gap.

Prints, per scenario (LABEL names the run, so two runs in one suite keep
their case names apart):
    ok - LABEL: scenario NAME (N checks passed[; warnings: ID, ...][; no check scored: WHY])
    not ok - LABEL: scenario NAME        followed by the failing checks, indented
Every scenario must pass: there is no expected-failures list.  With
--checks N, one more case says whether exactly N checks passed (0.1.16
--suite all scores 44 on the fixture server, which leaves the priming and
retry checks of server-sse-polling as warnings; they count once they pass).  Exit 0 when nothing is "not ok".
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
    root, scen_file, label = argv[1:4]
    want_checks = None
    if "--checks" in argv[4:]:
        want_checks = int(argv[argv.index("--checks") + 1])
    scenarios = list(load_list(scen_file))
    runs = load_results(root)
    bad = 0
    counts = {"pass": 0, "fail": 0, "checks_ok": 0, "checks_failed": 0}

    for name in scenarios:
        checks = runs.get(name)
        if checks is None:
            print(f"not ok - {label}: scenario {name}")
            print("    no checks.json: the scenario did not run or did not finish")
            bad += 1
            counts["fail"] += 1
            continue
        failures = [c for c in checks if c.get("status") == "FAILURE"]
        warnings = [c.get("id", "?") for c in checks if c.get("status") == "WARNING"]
        scored = sum(1 for c in checks if c.get("status") == "SUCCESS")
        counts["checks_ok"] += scored
        counts["checks_failed"] += len(failures)
        if failures:
            print(f"not ok - {label}: scenario {name}")
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
            print(f"ok - {label}: scenario {name} ({scored} checks passed{extra})")
            counts["pass"] += 1
    for name in sorted(set(runs) - set(scenarios)):
        print(f"# note: results for '{name}', which was not asked for")
    if want_checks is not None:
        got = f"{counts['checks_ok']} passed, {counts['checks_failed']} failed"
        if counts["checks_ok"] == want_checks and counts["checks_failed"] == 0:
            print(f"ok - {label}: {want_checks}/{want_checks} checks pass")
        else:
            print(f"not ok - {label}: {want_checks}/{want_checks} checks pass")
            print(f"    {got}")
            bad += 1
    print(f"# {label}: {counts['pass']} scenarios pass, {counts['fail']} fail "
          f"(of {len(scenarios)}); checks {counts['checks_ok']} passed, "
          f"{counts['checks_failed']} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
