// Broken on purpose: the submission of workflow.mjs with one mistake each, the kind a first
// draft makes. `node workflow_broken.mjs MISTAKE`; each must be caught by `plangrep-mock check
// --mode workflow` with the rule tests/cli names (webhooks_only.mjs, on docs/ci.md, is another).
import { Submission, main } from "./workflow.mjs";

const MISTAKES = {
  // fetches the result of every terminal job, failed and cancelled ones too
  "result-of-any-job": class extends Submission {
    async finish(job) {
      const answer = await this.call("GET", `/jobs/${job.id}/result`, { ok: [409] });
      return answer.status === 409 ? job : answer.body;
    }
  },

  // tries again after its own doubling pause, whatever Retry-After says
  "ignores-retry-after": class extends Submission {
    pause(attempt) {
      return 2 ** attempt;
    }
  },

  // takes every delivery at its word (no signature check), and believes the event's job
  // instead of confirming it by a poll
  "trusts-any-webhook": class extends Submission {
    verify(headers, body) {
      return JSON.parse(body.toString("utf8"));
    }

    async wait(job, done) {
      for (;;) {
        const event = await this.nextEvent(job.id, 10);
        if (event && done(event.status)) return event;
        const answer = await this.poll(job.id);
        if (answer?.status === 200 && done(answer.body.job.status)) return answer.body.job;
      }
    }
  },

  // completes once the first file is up
  "uploads-one-file": class extends Submission {
    files() {
      return super.files().slice(0, 1);
    }
  },

  // completes without an Idempotency-Key: a retry after a lost answer completes again
  "complete-without-key": class extends Submission {
    completeHeaders() {
      return {};
    }
  },

  // polls every second, and no sooner than that
  "polls-every-second": class extends Submission {
    fallback = 1;

    async poll(jobId) {
      return await this.send("GET", `/jobs/${jobId}`);
    }
  },
};

const mistake = process.argv[2];
if (!(mistake in MISTAKES)) {
  console.error(`usage: node workflow_broken.mjs ${Object.keys(MISTAKES).join("|")}`);
  process.exit(2);
}
await main(new MISTAKES[mistake]());
