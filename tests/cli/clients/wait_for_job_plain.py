"""A Plangrep client that knows nothing of time scales: Plangrep's docs-style loop (poll, stop
at a terminal status, else time.sleep(15); give up after 600 s), standard library only.
`plangrep-mock check --faketime` runs it at speed under libfaketime.

libfaketime speeds up socket timeouts too: a 30 s request timeout would be 0.15 s of wall time
at x200, too short on a busy machine; this client's is 600 s (3 wall s at x200)."""

import json
import os
import sys
import time
import urllib.request

TERMINAL = {"completed", "completed_with_errors", "failed", "cancelled", "expired"}
base = os.environ["PLANGREP_BASE_URL"]
key = os.environ["PLANGREP_API_KEY"]
job_id = os.environ["PLANGREP_JOB_ID"]
deadline = time.monotonic() + 600
while True:
    request = urllib.request.Request(
        f"{base}/jobs/{job_id}", headers={"Authorization": f"Bearer {key}"}
    )
    with urllib.request.urlopen(request, timeout=600) as answer:
        job = json.load(answer)["job"]
    if job["status"] in TERMINAL:
        print(json.dumps(job))
        break
    if time.monotonic() > deadline:
        sys.exit(f"gave up: {job_id} still {job['status']} after 600 s")
    time.sleep(15)
