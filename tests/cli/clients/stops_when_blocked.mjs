// Broken: takes blocked_insufficient_credits for the end of the job (it is not terminal: the
// job resumes once the organisation has credits again).
const { PLANGREP_BASE_URL: base, PLANGREP_API_KEY: key, PLANGREP_JOB_ID: jobId } = process.env;
const scale = Number(process.env.PLANGREP_TIME_SCALE || "1");
const DONE = new Set([
  "completed", "completed_with_errors", "failed", "cancelled", "expired",
  "blocked_insufficient_credits",
]);
for (;;) {
  const answer = await fetch(`${base}/jobs/${jobId}`, { headers: { Authorization: `Bearer ${key}` } });
  const { job } = await answer.json();
  if (DONE.has(job.status)) {
    console.log(JSON.stringify(job));
    break;
  }
  await new Promise((resolve) => setTimeout(resolve, 15000 / scale));
}
