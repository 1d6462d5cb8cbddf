// Broken: polls every 5 s whatever the answer; after a 429 or 503 it does not wait the
// Retry-After the server asked for.
const { PLANGREP_BASE_URL: base, PLANGREP_API_KEY: key, PLANGREP_JOB_ID: jobId } = process.env;
const scale = Number(process.env.PLANGREP_TIME_SCALE || "1");
const TERMINAL = new Set(["completed", "completed_with_errors", "failed", "cancelled", "expired"]);
for (;;) {
  const answer = await fetch(`${base}/jobs/${jobId}`, { headers: { Authorization: `Bearer ${key}` } });
  if (answer.ok) {
    const { job } = await answer.json();
    if (TERMINAL.has(job.status)) {
      console.log(JSON.stringify(job));
      break;
    }
  } else {
    console.error(`HTTP ${answer.status}, trying again in 5 s`);
    await answer.text();
  }
  await new Promise((resolve) => setTimeout(resolve, 5000 / scale));
}
