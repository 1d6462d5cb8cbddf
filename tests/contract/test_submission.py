"""`Submission`: workflow mode's books over one program's calls, judged with the registry's
functions (the programs themselves are in tests/cli)."""

from __future__ import annotations

from mock_server.contract.rules import create_fingerprint
from mock_server.contract.submission import Answer, Submission

JOB = "/api/open/v1/jobs/job_1"
CREATE = "/api/open/v1/projects/proj_1/jobs"


def _polled(sub: Submission, at: float, status: str) -> None:
    assert sub.arrive("GET", JOB, "poll", at, status=status) is None
    sub.answered("GET", JOB, "poll", True, at, at, Answer(200, served=status))


def test_a_result_fetch_that_only_a_forged_delivery_explains_is_forged_webhook_trusted() -> None:
    sub = Submission([("a.pdf", 10)], job_id="job_1")
    sub.forged_sent("completed", 1.0)
    sub.forged_answered("completed", accepted=True)
    _polled(sub, 2.0, "preflighting")  # a non-terminal status does not settle the claim
    found = sub.arrive("GET", JOB + "/result", "result", 8.0, status="preflighting")
    assert found is not None and found.rule == "forged_webhook_trusted"


def test_a_refused_or_settled_forgery_leaves_the_result_rule_to_judge() -> None:
    refused = Submission([], job_id="job_1")
    refused.forged_sent("completed", 1.0)
    refused.forged_answered("completed", accepted=False)  # a 4xx: nothing was trusted
    found = refused.arrive("GET", JOB + "/result", "result", 8.0, status="processing")
    assert found is not None and found.rule == "result_not_available"
    settled = Submission([], job_id="job_1")
    settled.forged_sent("completed", 1.0)
    settled.forged_answered("completed", accepted=True)
    _polled(settled, 2.0, "failed")  # it was told the job ended: a fetch now is its own error
    found = settled.arrive("GET", JOB + "/result", "result", 8.0, status="failed")
    assert found is not None and found.rule == "result_not_available"
    # a genuine answer from before the forgery settles nothing
    early = Submission([], job_id="job_1")
    early.forged_sent("blocked_insufficient_credits", 5.0)
    early.told("blocked_insufficient_credits", 4.0)
    found = early.arrive("POST", JOB + "/resume", "resume", 8.0, status="processing")
    assert found is not None and found.rule == "forged_webhook_trusted"


def test_a_second_job_is_a_duplicate_and_a_repeat_after_a_lost_answer_says_so() -> None:
    sub = Submission([])
    what = create_fingerprint(None, "http://127.0.0.1:9/webhooks")
    assert sub.job_made("job_1", 0.0, what, lost=True) is None
    assert sub.job_id == "job_1"
    found = sub.job_made("job_2", 2.0, what, lost=False)
    assert found is not None and found.rule == "duplicate_job"
    assert found.facts == {"job": "job_2", "repeat": True}
    answered = Submission([])
    answered.job_made("job_1", 0.0, what, lost=False)
    found = answered.job_made("job_2", 2.0, what, lost=False)
    assert found is not None and found.facts["repeat"] is False


def test_retry_after_and_retry_pauses_allow_the_timing_tolerance_and_no_more() -> None:
    sub = Submission([], tolerance=0.4, job_id="job_1")
    sub.arrive("POST", CREATE, "create", 0.0, status=None)
    sub.answered("POST", CREATE, "create", False, 0.0, 0.0, Answer(429, retry_after=15.0))
    assert sub.arrive("POST", CREATE, "create", 14.7, status=None) is None  # 0.3 s early: jitter
    sub.answered("POST", CREATE, "create", False, 14.7, 14.7, Answer(429, retry_after=15.0))
    found = sub.arrive("POST", CREATE, "create", 29.0, status=None)  # 0.7 s early
    assert found is not None and found.rule == "retry_after_ignored"
    assert sub.checks["retry_after_ignored"] == 2  # a retry storm is judged after it


def test_a_complete_is_judged_against_the_files_given() -> None:
    sub = Submission([("a.pdf", 10), ("b.pdf", 20)], job_id="job_1")
    complete = JOB + "/uploads/complete"
    found = sub.arrive(
        "POST", complete, "complete", 1.0, status="uploading", stored=lambda: [("a.pdf", 10)]
    )
    assert found is not None and found.rule == "upload_incomplete"
    assert found.facts["missing"] == [("b.pdf", 20)]
    sub.answered("POST", complete, "complete", True, 1.0, 1.0, Answer(202, committed=202),
                 key="k1")  # fmt: skip
    again = sub.arrive("POST", complete, "complete", 3.0, status="preflighting", key=None)
    assert again is not None and again.rule == "complete_repeated"
    assert sub.arrive("POST", complete, "complete", 3.0, status="preflighting", key="k1") is None
