"""A Plangrep client that knows nothing of time scales: Plangrep's docs-style loop (poll, stop
at a terminal status, else time.sleep(15); give up after 600 s), standard library only.
`plangrep-mock check --faketime` runs it at speed under libfaketime."""

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
    with urllib.request.urlopen(request, timeout=30) as answer:
        job = json.load(answer)["job"]
    if job["status"] in TERMINAL:
        print(json.dumps(job))
        break
    if time.monotonic() > deadline:
        sys.exit(f"gave up: {job_id} still {job['status']} after 600 s")
    time.sleep(15)
