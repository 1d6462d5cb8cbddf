// A whole Plangrep submission in Node 20 (fetch, FormData, node:http, node:crypto; no packages):
// create a job, upload the files, complete, wait, and print the result (or the terminal job).
//
// - Every call is tried again on no answer, 429 and 5xx after a doubling pause (2, 4, 8... s),
//   never shorter than Retry-After, at most 6 times. The create and the complete carry an
//   Idempotency-Key and each upload a clientUploadFlowId: a retry after a lost answer makes
//   nothing twice.
// - It waits webhook-first: it listens on PLANGREP_WEBHOOK_URL, gives it as the job's
//   webhookUrl, verifies every delivery (Standard Webhooks: HMAC-SHA256 of id.timestamp.body,
//   keyed with the base64-decoded bytes after "wss_") and ignores other jobs' events, duplicates
//   and older ones by `sequence`. It polls every 60 s anyway (a failed delivery is not sent
//   again), never twice within 5 s; a verified event saying the job ended or is blocked is
//   confirmed by a poll: the webhook says when, the API says what.
// - It fetches the result only of a completed or completed_with_errors job; it gives up after
//   waiting 900 s.
// Every sleep is divided by PLANGREP_TIME_SCALE, so `plangrep-mock check` can run it at x200.
import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const env = process.env;
const SCALE = Number(env.PLANGREP_TIME_SCALE || "1");
const TERMINAL = new Set(["completed", "completed_with_errors", "failed", "cancelled", "expired"]);
const RESULT = new Set(["completed", "completed_with_errors"]);
const BLOCKED = "blocked_insufficient_credits";

export const sleep = (seconds) =>
  new Promise((resolve) => setTimeout(resolve, (Math.max(0, seconds) * 1000) / SCALE));
export const now = () => (performance.now() * SCALE) / 1000; // virtual seconds
// a timer can fire a little early (more so on a busy machine): wait out the rest
export async function sleepUntil(t) {
  while (now() < t) await sleep(t - now());
}
const log = (message) => console.error(`[${now().toFixed(1)} s] ${message}`);

// Standard Webhooks: the payload if the delivery is signed with `secret`, else null.
export function verify(secret, headers, body) {
  const id = headers["webhook-id"];
  const timestamp = headers["webhook-timestamp"];
  const signatures = headers["webhook-signature"];
  if (!secret?.startsWith("wss_") || !id || !/^\d+$/.test(timestamp ?? "") || !signatures) {
    return null;
  }
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return null; // replayed, or forged
  const expected = createHmac("sha256", Buffer.from(secret.slice(4), "base64"))
    .update(`${id}.${timestamp}.`)
    .update(body)
    .digest();
  for (const signature of signatures.split(" ")) {
    const comma = signature.indexOf(",");
    if (comma < 0 || signature.slice(0, comma) !== "v1") continue;
    const given = Buffer.from(signature.slice(comma + 1), "base64");
    if (given.length === expected.length && timingSafeEqual(given, expected)) {
      return JSON.parse(body.toString("utf8"));
    }
  }
  return null;
}

// The deliveries to PLANGREP_WEBHOOK_URL, answered 204 at once and verified when taken (the
// first may come before the create's answer, with the secret, has been read).
class Inbox {
  constructor(url) {
    this.url = new URL(url);
    this.deliveries = [];
    this.wake = null;
    this.server = createServer((request, response) => {
      const chunks = [];
      request.on("data", (chunk) => chunks.push(chunk));
      request.on("end", () => {
        this.deliveries.push({ headers: request.headers, body: Buffer.concat(chunks) });
        response.writeHead(204).end();
        this.wake?.();
      });
    });
  }

  listen() {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(Number(this.url.port), this.url.hostname, resolve);
    });
  }

  // the next delivery, or null after `seconds` (virtual)
  async next(seconds) {
    if (!this.deliveries.length && seconds > 0) {
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, (seconds * 1000) / SCALE);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
    return this.deliveries.shift() ?? null;
  }

  close() {
    this.server.close();
  }
}

export class Submission {
  attempts = 6; // at one call, before giving up
  fallback = 60; // seconds between polls while webhooks say nothing
  patience = 900; // seconds of waiting before giving up

  constructor() {
    this.key = randomUUID(); // one submission, one set of idempotency keys
    this.started = now();
    this.secret = null;
    this.lastPoll = -Infinity;
    this.sequence = 0;
    this.inbox = new Inbox(env.PLANGREP_WEBHOOK_URL);
  }

  async run() {
    await this.inbox.listen();
    try {
      let job = await this.create();
      if (job.status === "provisioning") job = await this.wait(job, (s) => s !== "provisioning");
      if (!TERMINAL.has(job.status)) {
        await this.uploadAndComplete(job.id);
        job = await this.wait(job, (s) => TERMINAL.has(s));
      }
      return await this.finish(job);
    } finally {
      this.inbox.close();
    }
  }

  createHeaders() {
    return { "Idempotency-Key": `${this.key}-create` };
  }

  async create() {
    const { body } = await this.call("POST", `/projects/${env.PLANGREP_PROJECT_ID}/jobs`, {
      json: { webhookUrl: env.PLANGREP_WEBHOOK_URL },
      headers: this.createHeaders(),
    });
    this.secret = body.webhookSigningSecret ?? null; // not shown on a replay: poll only
    log(`created ${body.job.id} (${body.job.status})`);
    return body.job;
  }

  files() {
    return JSON.parse(readFileSync(env.PLANGREP_FILES_MANIFEST, "utf8")).files;
  }

  async uploadAndComplete(jobId) {
    for (const [i, file] of this.files().entries()) {
      const form = () => {
        const metadata = {
          clientUploadFlowId: `${this.key}-file${i}`, // a retried upload is stored once
          files: [{ partName: "file0", fileName: file.fileName, contentType: file.contentType }],
        };
        if (file.classification) metadata.files[0].classification = file.classification;
        const data = new FormData();
        data.append("metadata", JSON.stringify(metadata));
        const bytes = readFileSync(join(env.PLANGREP_FILES_DIR, file.fileName));
        data.append("file0", new Blob([bytes], { type: file.contentType }), file.fileName);
        return data;
      };
      const { status } = await this.call("POST", `/jobs/${jobId}/files`, { form, ok: [409] });
      if (status === 409) return; // cancelled or expired meanwhile: the wait tells
    }
    await this.call("POST", `/jobs/${jobId}/uploads/complete`, {
      json: {},
      headers: this.completeHeaders(),
      ok: [409],
    });
  }

  completeHeaders() {
    return { "Idempotency-Key": `${this.key}-complete` };
  }

  async finish(job) {
    if (!RESULT.has(job.status)) return job;
    return (await this.call("GET", `/jobs/${job.id}/result`)).body;
  }

  // one request: {status, headers, body}, or null when no answer came
  async send(method, path, { json, form, headers = {} } = {}) {
    const init = { method, headers: { Authorization: `Bearer ${env.PLANGREP_API_KEY}`, ...headers } };
    if (json !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(json);
    } else if (form !== undefined) {
      init.body = form();
    }
    let answer;
    try {
      answer = await fetch(`${env.PLANGREP_BASE_URL}${path}`, init);
    } catch (error) {
      log(`${method} ${path}: no answer (${error.cause?.code ?? error.message})`);
      return null;
    }
    const text = await answer.text();
    let body = null;
    try {
      body = JSON.parse(text);
    } catch {
      body = { text };
    }
    return { status: answer.status, headers: answer.headers, body };
  }

  // seconds to wait before trying a call again after its `attempt`-th failure
  pause(attempt, answer) {
    const asked = Number(answer?.headers.get("retry-after") || "0");
    return Math.max(2 ** attempt, asked);
  }

  async call(method, path, { ok = [], ...options } = {}) {
    for (let attempt = 1; ; attempt++) {
      const answer = await this.send(method, path, options);
      if (answer && answer.status !== 429 && answer.status < 500) {
        if (answer.status >= 400 && !ok.includes(answer.status)) {
          throw new Error(`${method} ${path}: HTTP ${answer.status} ${JSON.stringify(answer.body)}`);
        }
        return answer;
      }
      if (attempt >= this.attempts) throw new Error(`${method} ${path} failed ${attempt} times`);
      const pause = this.pause(attempt, answer);
      log(`${method} ${path}: ${answer ? `HTTP ${answer.status}` : "no answer"}, again in ${pause} s`);
      await sleepUntil(now() + pause);
    }
  }

  // one poll, at least 5 s after the last one's answer
  async poll(jobId) {
    await sleepUntil(this.lastPoll + 5);
    const answer = await this.send("GET", `/jobs/${jobId}`);
    this.lastPoll = now();
    return answer;
  }

  // the job once done(status) holds; webhook-first, polling as the fallback
  async wait(job, done) {
    let due = now();
    let failures = 0;
    while (now() - this.started < this.patience) {
      if (now() >= due) {
        const answer = await this.poll(job.id);
        if (answer?.status === 200) {
          failures = 0;
          job = answer.body.job;
          log(`${job.id}: ${job.status}`);
          if (done(job.status)) return job;
          due = now() + this.fallback;
        } else if (!answer || answer.status === 429 || answer.status >= 500) {
          failures += 1;
          if (failures >= this.attempts) throw new Error(`polling ${job.id} failed ${failures} times`);
          due = now() + this.pause(failures, answer);
        } else {
          throw new Error(`GET /jobs/${job.id}: HTTP ${answer.status} ${JSON.stringify(answer.body)}`);
        }
        continue;
      }
      const event = await this.nextEvent(job.id, due - now());
      if (event && (done(event.status) || event.status === BLOCKED) && failures === 0) {
        due = now(); // confirm by a poll, as soon as one is allowed
      }
    }
    throw new Error(`${job.id} still ${job.status} after ${this.patience} s`);
  }

  // the job of the next verified event of this job that is newer than what we know, or null
  async nextEvent(jobId, seconds) {
    const delivery = await this.inbox.next(seconds);
    if (!delivery) return null;
    const payload = this.verify(delivery.headers, delivery.body);
    if (!payload) return null; // not signed with this job's secret: never acted on
    const { job, sequence } = payload.data;
    if (job.id !== jobId || sequence <= this.sequence) return null;
    this.sequence = sequence;
    log(`webhook: ${job.id} is ${job.status}`);
    return job;
  }

  verify(headers, body) {
    return verify(this.secret, headers, body);
  }
}

export async function main(submission = new Submission()) {
  try {
    console.log(JSON.stringify(await submission.run()));
    process.exit(0);
  } catch (error) {
    console.error(`gave up: ${error.message}`);
    process.exit(1);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await main();
