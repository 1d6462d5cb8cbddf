// A whole Plangrep workflow in Node 20 (global fetch, FormData, Blob; no packages): create a
// job, upload the files, complete, wait, and print the result (or the terminal job).
//
// Retries 429 and 5xx after Retry-After (at least 5 s), with Idempotency-Key on the POSTs that
// create something; polls every POLL_SECONDS (default 15); sleeps divided by PLANGREP_TIME_SCALE.
import { readFileSync } from "node:fs";
import { join } from "node:path";

const env = process.env;
const base = env.PLANGREP_BASE_URL;
const scale = Number(env.PLANGREP_TIME_SCALE || "1");
const every = Number(env.POLL_SECONDS || "15");
const TERMINAL = new Set(["completed", "completed_with_errors", "failed", "cancelled", "expired"]);
const auth = { Authorization: `Bearer ${env.PLANGREP_API_KEY}` };

const sleep = (seconds) => new Promise((resolve) => setTimeout(resolve, (seconds * 1000) / scale));

async function call(method, path, { json, form, key } = {}) {
  for (let attempt = 1; ; attempt++) {
    const headers = { ...auth };
    let body;
    if (json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(json);
    } else if (form !== undefined) {
      body = form();
    }
    if (key) headers["Idempotency-Key"] = key;
    const answer = await fetch(`${base}${path}`, { method, headers, body });
    const text = await answer.text();
    if (answer.ok) return JSON.parse(text);
    if ((answer.status === 429 || answer.status >= 500) && attempt < 5) {
      await sleep(Math.max(5, Number(answer.headers.get("retry-after") || "10")));
      continue;
    }
    throw new Error(`${method} ${path}: HTTP ${answer.status} ${text}`);
  }
}

const runId = `${process.pid}-${Date.now()}`;
let { job } = await call("POST", `/projects/${env.PLANGREP_PROJECT_ID}/jobs`, {
  json: { externalId: `ci-${runId}` },
  key: `create-${runId}`,
});
let lastPoll = -Infinity;
async function poll() {
  const now = performance.now();
  const wait = every - ((now - lastPoll) * scale) / 1000;
  if (wait > 0) await sleep(wait);
  lastPoll = performance.now();
  return (await call("GET", `/jobs/${job.id}`)).job;
}
while (job.status === "provisioning") job = await poll();

if (!TERMINAL.has(job.status)) {
  const files = JSON.parse(readFileSync(env.PLANGREP_FILES_MANIFEST, "utf8")).files;
  await call("POST", `/jobs/${job.id}/files`, {
    form: () => {
      const form = new FormData();
      const metadata = files.map((f, i) => ({
        partName: `file${i}`,
        fileName: f.fileName,
        contentType: f.contentType,
        classification: f.classification,
      }));
      form.append("metadata", JSON.stringify({ files: metadata }));
      files.forEach((f, i) => {
        const bytes = readFileSync(join(env.PLANGREP_FILES_DIR, f.fileName));
        form.append(`file${i}`, new Blob([bytes], { type: f.contentType }), f.fileName);
      });
      return form;
    },
  });
  job = (await call("POST", `/jobs/${job.id}/uploads/complete`, { json: {}, key: `complete-${runId}` })).job;
}
while (!TERMINAL.has(job.status)) job = await poll();

if (job.status === "completed" || job.status === "completed_with_errors") {
  console.log(JSON.stringify(await call("GET", `/jobs/${job.id}/result`)));
} else {
  console.log(JSON.stringify(job));
}
