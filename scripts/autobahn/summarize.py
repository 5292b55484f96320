"""Prints an Autobahn|Testsuite index.json as counts per verdict and every case not OK.

    python3 scripts/autobahn/summarize.py reports/servers/index.json
"""

import collections
import json
import sys


def case_key(case_id):
    return [int(part) for part in case_id.split(".")]


for agent, cases in json.load(open(sys.argv[1])).items():
    behavior = collections.Counter(result["behavior"] for result in cases.values())
    close = collections.Counter(result["behaviorClose"] for result in cases.values())
    print(f"{agent}: {len(cases)} cases; behavior {dict(behavior)}; behaviorClose {dict(close)}")
    for case_id in sorted(cases, key=case_key):
        result = cases[case_id]
        if result["behavior"] != "OK" or result["behaviorClose"] != "OK":
            print(f"  {case_id}: {result['behavior']} / {result['behaviorClose']}")
