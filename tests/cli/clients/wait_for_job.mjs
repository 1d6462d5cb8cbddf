// A Plangrep client in Node 20 (global fetch, no packages): wait for a job and print it.
//
// Poll GET /jobs/{jobId} every POLL_SECONDS (default 15), stop at the first terminal status,
// honour Retry-After on 429 and 503, back off on other 5xx, give up after 600 s. Every sleep is
// divided by PLANGREP_TIME_SCALE, so `plangrep-mock check` can run it at x200.
const base = process.env.PLANGREP_BASE_URL;
const key = process.env.PLANGREP_API_KEY;
const jobId = process.env.PLANGREP_JOB_ID;
const scale = Number(process.env.PLANGREP_TIME_SCALE || "1");
const every = Number(process.env.POLL_SECONDS || "15");
const TERMINAL = new Set(["completed", "completed_with_errors", "failed", "cancelled", "expired"]);

const sleep = (seconds) => new Promise((resolve) => setTimeout(resolve, (seconds * 1000) / scale));

let waited = 0;
while (waited <= 600) {
  const answer = await fetch(`${base}/jobs/${jobId}`, {
    headers: { Authorization: `Bearer ${key}` },
  });
  let delay = every;
  if (answer.ok) {
    const { job } = await answer.json();
    console.error(`${job.id}: ${job.status}`);
    if (TERMINAL.has(job.status)) {
      console.log(JSON.stringify(job));
      process.exit(0);
    }
  } else if (answer.status === 429 || answer.status >= 500) {
    await answer.text();
    delay = Math.max(every, Number(answer.headers.get("retry-after") || "30"));
  } else {
    throw new Error(`GET /jobs/${jobId}: HTTP ${answer.status} ${await answer.text()}`);
  }
  await sleep(delay);
  waited += delay;
}
console.error(`gave up: ${jobId} did not finish within 600 s`);
process.exit(1);
