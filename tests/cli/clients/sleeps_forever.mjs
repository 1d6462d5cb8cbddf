// Broken: looks at the job once, then waits forever (no timeout of its own).
const { PLANGREP_BASE_URL: base, PLANGREP_API_KEY: key, PLANGREP_JOB_ID: jobId } = process.env;
await fetch(`${base}/jobs/${jobId}`, { headers: { Authorization: `Bearer ${key}` } });
setInterval(() => {}, 1 << 30);
