// Broken: polls every second (Plangrep asks for at least 5 s between polls).
const { PLANGREP_BASE_URL: base, PLANGREP_API_KEY: key, PLANGREP_JOB_ID: jobId } = process.env;
const scale = Number(process.env.PLANGREP_TIME_SCALE || "1");
const TERMINAL = new Set(["completed", "completed_with_errors", "failed", "cancelled", "expired"]);
for (;;) {
  const answer = await fetch(`${base}/jobs/${jobId}`, { headers: { Authorization: `Bearer ${key}` } });
  const { job } = await answer.json();
  if (TERMINAL.has(job.status)) {
    console.log(JSON.stringify(job));
    break;
  }
  await new Promise((resolve) => setTimeout(resolve, 1000 / scale));
}
