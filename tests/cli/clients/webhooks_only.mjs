// workflow.mjs with one mistake: it waits on webhooks alone, never polling
import { Submission, main } from "./workflow.mjs";

class WebhooksOnly extends Submission {
  async wait(job, done) {
    for (;;) {
      const event = await this.nextEvent(job.id, 3600);
      if (event && done(event.status)) return event;
    }
  }
}

await main(new WebhooksOnly());
