/* plangrep-mock dashboard. Plain JavaScript, no build step, nothing fetched from elsewhere.
 *
 * It reads and acts through the control API (/_mock/...) and listens to the live feed
 * (/_mock/ui/events, server-sent events). Views: #/jobs, #/jobs/<jobId>, #/clock, #/violations.
 */
"use strict";

(function () {
  const API = "/_mock";
  const PAGE = 100;
  const REQUESTS = 200; // a job's latest requests shown on its page
  const JOB_GAP = 250; // ms between two refreshes of a job's page (a client may poll hard)

  const ui = {
    view: null,
    jobId: null,
    jobStatus: null,
    machine: null,
    rules: {},
    projects: new Map(),
    query: { status: "", q: "", projectId: "", offset: 0 },
    rows: new Map(), // job id -> <tr> shown in the jobs table
    shown: [], // rows of the jobs table, as the server sent them
    counts: {},
    totalJobs: 0,
    violations: 0,
    faults: [],
    faultsPushed: 0, // how many fault lists the feed has pushed: a fetch older than one loses
    feed: null,
    feedJob: undefined,
    results: new Map(), // job id -> result document (a finished job's never changes)
    rendered: false,
  };

  // ------------------------------------------------------------------ small helpers

  function $(id) {
    return document.getElementById(id);
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  function shortTime(iso) {
    // "2024-11-02T09:00:05.000Z" -> "2024-11-02 09:00:05"
    return iso ? iso.replace("T", " ").replace(/\.\d+Z$/, "") : "";
  }

  function timeEl(iso) {
    return el("time", { datetime: iso || "", title: iso || "" }, shortTime(iso) || "-");
  }

  function statusEl(status) {
    return el("span", { class: "status s-" + status }, status);
  }

  function jobLink(id) {
    return el("a", { href: "#/jobs/" + encodeURIComponent(id), class: "mono" }, id);
  }

  function fmt(n) {
    return typeof n === "number" ? n.toLocaleString("en-US") : "-";
  }

  function emptyRow(cols, text) {
    return el("tr", {}, el("td", { colspan: cols, class: "empty" }, text));
  }

  function say(id, text, bad) {
    const node = $(id);
    node.textContent = text;
    node.classList.toggle("bad", !!bad);
  }

  function announce(text) {
    $("announce").textContent = text;
  }

  function showError(text) {
    const node = $("error");
    node.textContent = text;
    node.hidden = !text;
  }

  async function call(method, path, body) {
    // never throws: {ok, status, body}; a network failure is status 0
    const init = { method, headers: {} };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    try {
      const resp = await fetch(path, init);
      let data = null;
      try {
        data = await resp.json();
      } catch (_) {
        data = null;
      }
      if (resp.status >= 500) showError(`${method} ${path} answered ${resp.status}`);
      return { ok: resp.ok, status: resp.status, body: data };
    } catch (err) {
      showError(`cannot reach the mock server (${method} ${path}): ${err.message}`);
      return { ok: false, status: 0, body: null };
    }
  }

  function errorText(res) {
    const e = res.body && res.body.error;
    return e ? `${e.code}: ${e.message}` : `HTTP ${res.status}`;
  }

  // Run `fn` soon, once, however often it is asked for; one run at a time.
  // `gap`: at least that many ms between the starts of two runs.
  const pending = new Map();
  function soon(key, fn, delay, gap) {
    const slot = pending.get(key) || { timer: null, running: false, again: false, last: 0 };
    pending.set(key, slot);
    if (slot.running) {
      slot.again = true;
      return;
    }
    if (slot.timer !== null) return;
    const wait = Math.max(delay || 0, gap ? slot.last + gap - performance.now() : 0);
    slot.timer = setTimeout(async () => {
      slot.timer = null;
      slot.running = true;
      slot.last = performance.now();
      try {
        await fn();
      } catch (err) {
        showError(String(err));
      } finally {
        slot.running = false;
        if (slot.again) {
          slot.again = false;
          soon(key, fn, delay, gap);
        }
      }
    }, wait);
  }

  // ------------------------------------------------------------------ routing

  function route() {
    const hash = location.hash || "#/jobs";
    const m = hash.match(/^#\/jobs\/(.+)$/);
    if (m) return { view: "job", jobId: decodeURIComponent(m[1]) };
    if (hash === "#/clock") return { view: "clock" };
    if (hash === "#/violations") return { view: "violations" };
    return { view: "jobs" };
  }

  function show(focus) {
    const r = route();
    ui.view = r.view;
    ui.jobId = r.jobId || null;
    for (const v of ["jobs", "job", "clock", "violations"]) {
      $("view-" + v).hidden = v !== r.view;
    }
    const tab = r.view === "job" ? "jobs" : r.view;
    for (const a of document.querySelectorAll(".tabs a")) {
      if (a.dataset.view === tab) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
    connect(r.view === "job" ? ui.jobId : null);
    refresh();
    if (focus) {
      const h = $(r.view + "-title");
      if (h) h.focus();
    }
  }

  function refresh() {
    if (ui.view === "jobs") {
      soon("jobs", loadJobs);
      soon("projects", loadProjects);
    } else if (ui.view === "job") {
      soon("job", loadJob);
    } else if (ui.view === "clock") {
      soon("clock", loadClock);
    } else if (ui.view === "violations") {
      soon("violations", loadViolations);
    }
  }

  // ------------------------------------------------------------------ the live feed

  function connect(jobId) {
    if (ui.feed && ui.feedJob === jobId) return;
    if (ui.feed) ui.feed.close();
    ui.feedJob = jobId;
    const url = API + "/ui/events" + (jobId ? "?job=" + encodeURIComponent(jobId) : "");
    const feed = new EventSource(url);
    ui.feed = feed;
    feed.onopen = () => live("live", "Live updates on");
    feed.onerror = () => {
      if (ui.feed === feed) live("down", "Live updates lost; reconnecting...");
    };
    feed.onmessage = (ev) => {
      if (ui.feed !== feed) return;
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch (_) {
        return;
      }
      onMessage(msg);
    };
  }

  function live(state, text) {
    const node = $("live");
    if (node.dataset.state === state) return;
    node.dataset.state = state;
    node.textContent = text;
  }

  function setClock(iso) {
    for (const id of ["clock-now", "clock-big"]) {
      const t = $(id);
      t.textContent = shortTime(iso) + (iso ? "Z" : "");
      t.setAttribute("datetime", iso || "");
    }
  }

  function setTotal(total) {
    ui.totalJobs = total;
    $("badge-jobs").textContent = total ? fmt(total) : "";
  }

  function setCounts(counts, total) {
    // per status, of the jobs the project and search filters leave (the server's own counts
    // when nothing filters)
    setTotal(total);
    ui.counts = counts || {};
    const all = Object.values(ui.counts).reduce((a, b) => a + b, 0);
    const sel = $("filter-status");
    for (const opt of sel.options) {
      if (!opt.value) {
        opt.textContent = `Every status (${fmt(all)})`;
      } else {
        opt.textContent = `${opt.value} (${fmt(ui.counts[opt.value] || 0)})`;
      }
    }
  }

  function setViolations(n) {
    ui.violations = n;
    $("badge-violations").textContent = n ? fmt(n) : "";
  }

  function unfiltered() {
    return !ui.query.q && !ui.query.projectId;
  }

  function onMessage(msg) {
    switch (msg.type) {
      case "hello":
      case "reset":
        $("clock-mode").textContent = msg.clock;
        setClock(msg.now);
        if (unfiltered()) setCounts(msg.counts, msg.totalJobs);
        else setTotal(msg.totalJobs);
        setViolations(msg.violations);
        ui.faults = msg.faults || [];
        ui.faultsPushed += 1;
        if (msg.type === "reset") {
          ui.results.clear();
          announce("The mock server was reset");
        }
        refresh();
        break;
      case "jobs":
        if (unfiltered()) setCounts(msg.counts, msg.totalJobs);
        else setTotal(msg.totalJobs);
        if (msg.now) setClock(msg.now);
        onJobs(msg);
        break;
      case "clock":
        setClock(msg.now);
        onClock();
        break;
      case "projects":
        if (ui.view === "jobs") soon("projects", loadProjects, 100);
        break;
      case "violations":
        setViolations(msg.count);
        if (ui.view === "violations") soon("violations", loadViolations, 50);
        if (ui.view === "job") soon("job", loadJob, 50);
        break;
      case "faults":
        ui.faults = msg.faults || [];
        ui.faultsPushed += 1;
        if (ui.view === "violations") renderFaults();
        break;
      case "job":
        if (ui.view === "job" && msg.id === ui.jobId) soon("job", loadJob, 20, JOB_GAP);
        break;
      case "resync":
        refresh();
        break;
      default:
        break;
    }
  }

  function onJobs(msg) {
    if (ui.view === "clock") soon("clock", loadClock, 100);
    if (ui.view !== "jobs") return;
    const q = ui.query;
    // a filtered view's counts come from the list itself
    let reload = msg.overflow || msg.added > 0 || !unfiltered();
    for (const row of msg.rows) {
      const tr = ui.rows.get(row.id);
      if (tr) {
        fillJobRow(tr, row);
        flash(tr);
      }
      // a status filter: a job may have entered or left the list
      if (q.status) reload = true;
    }
    if (reload) soon("jobs", loadJobs, 100);
  }

  function onClock() {
    if (ui.view === "jobs" && ui.shown.some((r) => r.status === "processing")) {
      soon("jobs", loadJobs, 100); // pages and credits move with the clock while processing
    } else if (ui.view === "job" && ui.jobStatus === "processing") {
      soon("job", loadJob, 50, JOB_GAP); // its pages and credits move with the clock
    } else if (ui.view === "clock") {
      soon("clock", loadClock, 100);
    }
  }

  function flash(tr) {
    tr.classList.remove("flash");
    void tr.offsetWidth; // restart the animation
    tr.classList.add("flash");
  }

  // ------------------------------------------------------------------ jobs view

  function jobsUrl() {
    const p = new URLSearchParams();
    const q = ui.query;
    if (q.status) p.set("status", q.status);
    if (q.q) p.set("q", q.q);
    if (q.projectId) p.set("projectId", q.projectId);
    p.set("offset", String(q.offset));
    p.set("limit", String(PAGE));
    return API + "/jobs?" + p.toString();
  }

  async function loadJobs() {
    const res = await call("GET", jobsUrl());
    if (!res.ok) {
      if (res.status) say("jobs-range", errorText(res), true);
      return;
    }
    renderJobs(res.body);
  }

  function fillJobRow(tr, row) {
    const project = ui.projects.get(row.projectId);
    const cells = [
      jobLink(row.id),
      el("span", { title: row.projectId }, project ? project.name : row.projectId),
      row.externalId === null ? el("span", { class: "muted" }, "-") : row.externalId,
      row.scenario,
      statusEl(row.status),
      `${fmt(row.pagesDone)} / ${fmt(row.pageCount)}`,
      `${fmt(row.creditsDebited)} / ${fmt(row.creditsReserved)}`,
      timeEl(row.updatedAt),
    ];
    tr.replaceChildren(
      ...cells.map((c, i) => (i === 0 ? el("th", { scope: "row" }, c) : el("td", {}, c)))
    );
    for (const i of [5, 6]) tr.children[i].classList.add("num");
    tr.dataset.status = row.status;
    const idx = ui.shown.findIndex((r) => r.id === row.id);
    if (idx >= 0) ui.shown[idx] = row;
  }

  function renderJobs(body) {
    const tbody = $("jobs-body");
    ui.rows.clear();
    ui.shown = body.jobs.slice();
    const trs = body.jobs.map((row) => {
      const tr = el("tr", { "data-job": row.id });
      fillJobRow(tr, row);
      ui.rows.set(row.id, tr);
      return tr;
    });
    if (!trs.length) {
      trs.push(emptyRow(8, body.totalJobs ? "No job matches these filters." : "No jobs yet."));
    }
    tbody.replaceChildren(...trs);
    setCounts(body.counts, body.totalJobs);
    const first = body.total ? body.offset + 1 : 0;
    const last = body.offset + body.jobs.length;
    $("jobs-caption").textContent =
      `Jobs, newest first: ${fmt(body.total)} matching of ${fmt(body.totalJobs)}`;
    say("jobs-range", `Rows ${fmt(first)}-${fmt(last)} of ${fmt(body.total)}`);
    $("jobs-prev").disabled = body.offset <= 0;
    $("jobs-next").disabled = last >= body.total;
    if (!ui.rendered) {
      ui.rendered = true;
      performance.mark("jobs-rendered");
    }
  }

  async function loadProjects() {
    const res = await call("GET", API + "/projects");
    if (!res.ok) return;
    ui.projects = new Map(res.body.projects.map((p) => [p.id, p]));
    const sel = $("filter-project");
    const chosen = ui.query.projectId;
    sel.replaceChildren(
      el("option", { value: "" }, "Every project"),
      ...res.body.projects.map((p) =>
        el("option", { value: p.id, selected: p.id === chosen }, `${p.name} (${p.id})`)
      )
    );
    const rows = res.body.projects.map((p) =>
      el(
        "tr",
        {},
        el(
          "th",
          { scope: "row" },
          el(
            "button",
            {
              type: "button",
              class: "linkish",
              "aria-label": `Show the jobs of project ${p.name}`,
              onclick: () => {
                ui.query.projectId = p.id;
                ui.query.offset = 0;
                sel.value = p.id;
                soon("jobs", loadJobs);
                $("jobs-title").focus();
              },
            },
            p.id
          )
        ),
        el("td", {}, p.name),
        el("td", { class: "mono" }, p.organisation),
        el("td", {}, el("span", { class: "status" }, p.status)),
        el("td", { class: "num" }, fmt(p.jobs)),
        el("td", {}, timeEl(p.createdAt))
      )
    );
    $("projects-body").replaceChildren(...(rows.length ? rows : [emptyRow(6, "No projects yet.")]));
  }

  function setupJobsView() {
    const sel = $("filter-status");
    sel.addEventListener("change", () => {
      ui.query.status = sel.value;
      ui.query.offset = 0;
      soon("jobs", loadJobs);
    });
    $("filter-project").addEventListener("change", (ev) => {
      ui.query.projectId = ev.target.value;
      ui.query.offset = 0;
      soon("jobs", loadJobs);
    });
    let typing = null;
    $("filter-q").addEventListener("input", (ev) => {
      clearTimeout(typing);
      typing = setTimeout(() => {
        ui.query.q = ev.target.value.trim();
        ui.query.offset = 0;
        soon("jobs", loadJobs);
      }, 150);
    });
    $("jobs-filter").addEventListener("submit", (ev) => ev.preventDefault());
    $("jobs-prev").addEventListener("click", () => {
      ui.query.offset = Math.max(0, ui.query.offset - PAGE);
      soon("jobs", loadJobs);
    });
    $("jobs-next").addEventListener("click", () => {
      ui.query.offset += PAGE;
      soon("jobs", loadJobs);
    });
  }

  // ------------------------------------------------------------------ a job's page

  async function loadJob() {
    const id = ui.jobId;
    if (!id || !(await ready)) return;
    const enc = encodeURIComponent(id);
    const [job, reqs, viol] = await Promise.all([
      call("GET", `${API}/jobs/${enc}`),
      call("GET", `${API}/requests?jobId=${enc}&limit=${REQUESTS}`),
      call("GET", `${API}/violations`),
    ]);
    if (ui.jobId !== id) return; // the page moved on meanwhile
    $("job-title").textContent = "Job " + id;
    if (job.status === 404) {
      $("job-missing").textContent = `No job ${id} on this server (a reset forgets every job).`;
      $("job-missing").hidden = false;
      $("job-content").hidden = true;
      return;
    }
    if (!job.ok) return;
    $("job-missing").hidden = true;
    $("job-content").hidden = false;
    const detail = job.body;
    ui.jobStatus = detail.job.status;
    const violations = viol.ok ? viol.body.violations.filter((v) => v.jobId === id) : [];
    renderFacts(detail);
    renderForce(detail.job);
    renderDiagram(detail.job.status, detail.history);
    renderTimeline(detail.history);
    renderRequests(reqs.ok ? reqs.body.requests : [], violations);
    renderWebhooks(detail.deliveries);
    $("job-json").textContent = JSON.stringify(detail.job, null, 2);
    await renderResult(detail.job);
  }

  function renderFacts(detail) {
    const j = detail.job;
    const project = ui.projects.get(j.projectId);
    const facts = [
      ["Status", statusEl(j.status)],
      ["Scenario", detail.scenario],
      ["Project", el("span", { class: "mono" }, j.projectId, project ? ` (${project.name})` : "")],
      ["External id", j.externalId === null ? "-" : j.externalId],
      ["Pages", `${fmt(j.successfulPageCount)} successful of ${fmt(j.pageCount)}`],
      ["Credits", `${fmt(j.billing.creditsDebited)} debited, ${fmt(j.billing.creditsReserved)} reserved`],
      ["Created", timeEl(j.createdAt)],
      ["Updated", timeEl(j.updatedAt)],
      ["Completed", j.completedAt ? timeEl(j.completedAt) : "-"],
      ["Expires", timeEl(j.expiresAt)],
      ["Files", String(j.files.length)],
      ["Error", j.error ? `${j.error.code}: ${j.error.message}` : "-"],
    ];
    $("job-facts").replaceChildren(...facts.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
    const node = $("job-facts");
    if (node.dataset.status && node.dataset.status !== j.status) {
      announce(`Job ${j.id} is now ${j.status}`);
    }
    node.dataset.status = j.status;
  }

  function renderForce(job) {
    const allowed = (ui.machine.allowed[job.status] || []).slice();
    const box = $("force-buttons");
    if (!allowed.length) {
      box.replaceChildren(
        el("p", { class: "muted" }, `${job.status} is terminal: the machine allows no event.`)
      );
      return;
    }
    box.replaceChildren(
      ...allowed.map((event) =>
        el(
          "button",
          {
            type: "button",
            "data-event": event,
            onclick: (ev) => force(job.id, event, ev.currentTarget),
          },
          event
        )
      )
    );
  }

  async function force(jobId, event, button) {
    button.disabled = true;
    const res = await call("POST", `${API}/jobs/${encodeURIComponent(jobId)}/events`, { event });
    if (res.ok) {
      const t = res.body.transition;
      say("force-result", `Forced ${event}: ${t.from} -> ${t.to} at ${shortTime(t.at)}`);
    } else {
      say("force-result", `Could not force ${event}: ${errorText(res)}`, true);
    }
    soon("job", loadJob);
  }

  function renderTimeline(history) {
    const rows = history.map((h) =>
      el(
        "tr",
        {},
        el("td", { class: "num" }, h.sequence),
        el("td", {}, timeEl(h.at)),
        el("td", { class: "mono" }, h.event),
        el("td", {}, statusEl(h.from)),
        el("td", {}, statusEl(h.to)),
        el("td", {}, h.forced ? el("span", { class: "tag" }, "forced") : "scheduled")
      )
    );
    $("timeline-body").replaceChildren(...(rows.length ? rows : [emptyRow(6, "No transition yet.")]));
  }

  const RULE_METHOD = {
    polling_too_fast: "GET",
    poll_after_terminal: "GET",
    resume_not_blocked: "POST",
    cancel_not_cancellable: "POST",
  };

  function shortPath(path) {
    // the public prefix and this job's id say nothing on the job's own page
    return path.replace(/^\/api\/open\/v1/, "").split(ui.jobId).join("{jobId}");
  }

  function renderRequests(requests, violations) {
    // A violation is recorded by the request that broke the rule: same key, same virtual time.
    // Polls at one virtual time are matched from the last: the first of them was in time.
    const broke = requests.map(() => []);
    for (const v of violations.slice().reverse()) {
      const method = RULE_METHOD[v.rule];
      for (let i = requests.length - 1; i >= 0; i--) {
        const r = requests[i];
        if (r.apiKey !== v.apiKey || r.at !== v.at || (method && r.method !== method)) continue;
        if (broke[i].includes(v.rule)) continue;
        broke[i].push(v.rule);
        break;
      }
    }
    requests.forEach((r, i) => {
      // a 429 names its rule itself, recorded or not (the journal may hold more than the log)
      if (r.errorCode && ui.rules[r.errorCode] && !broke[i].includes(r.errorCode)) {
        broke[i].push(r.errorCode);
      }
    });
    const rows = requests.map((r, i) => {
      const rules = broke[i];
      return el(
        "tr",
        { class: rules.length ? "broke" : null },
        el("td", {}, timeEl(r.at)),
        el(
          "td",
          { class: "mono", title: `${r.method} ${r.path}` },
          `${r.method} ${shortPath(r.path)}`
        ),
        el("td", { class: "num" }, r.status, r.errorCode ? ` ${r.errorCode}` : ""),
        el("td", { class: "mono" }, r.apiKey || "-"),
        el("td", { class: "num" }, r.durationMs.toFixed(1)),
        el(
          "td",
          { class: "wrap" },
          rules.map((rule) => [
            el("span", { class: "tag bad" }, rule),
            " ",
            ui.rules[rule] ? ui.rules[rule].text : "",
            " ",
          ])
        )
      );
    });
    rows.reverse(); // newest first
    $("requests-body").replaceChildren(
      ...(rows.length ? rows : [emptyRow(6, "No public API request for this job yet.")])
    );
  }

  function renderWebhooks(deliveries) {
    const box = $("webhooks");
    if (!deliveries.length) {
      box.replaceChildren(
        el("p", { class: "muted" }, "No webhook for this job (created without a webhookUrl, or no status change yet).")
      );
      return;
    }
    box.replaceChildren(
      ...deliveries
        .slice()
        .reverse()
        .map((d) => {
          const attempts = d.attempts.map((a) => {
            const faulted = a.faults.length > 0;
            const ok = a.outcome === "delivered";
            return el(
              "tr",
              {},
              el("td", { class: "num" }, a.attempt),
              el("td", {}, a.kind),
              el("td", { class: "num" }, a.httpStatus === null ? "-" : a.httpStatus),
              el("td", { class: "num" }, a.latencyMs.toFixed(1)),
              el("td", {}, el("span", { class: "tag " + (ok ? "good" : "bad") }, a.outcome)),
              el(
                "td",
                { class: "wrap" },
                faulted
                  ? [
                      el("span", { class: "tag bad" }, "faulted: " + a.faults.join(", ")),
                      ok ? " the receiver accepted a faulted delivery" : "",
                    ]
                  : el("span", { class: "tag good" }, "signed correctly"),
                a.error ? ` ${a.error}${a.errorDetail ? ": " + a.errorDetail : ""}` : ""
              ),
              el("td", {}, timeEl(a.wallTime))
            );
          });
          const title = `#${d.sequence} ${d.previousStatus} -> ${d.jobStatus}`;
          return el(
            "article",
            { class: "delivery", "aria-label": `Delivery ${title}` },
            el(
              "header",
              {},
              el("h3", {}, title),
              el("span", { class: "tag" }, d.state),
              d.faults.length ? el("span", { class: "tag bad" }, d.faults.join(", ")) : null,
              el("span", { class: "mono muted" }, d.id),
              el(
                "button",
                {
                  type: "button",
                  "data-delivery": d.id,
                  "aria-label": `Redeliver ${title}`,
                  onclick: (ev) => redeliver(d.id, ev.currentTarget),
                },
                "Redeliver"
              )
            ),
            el("p", { class: "muted mono" }, `POST ${d.url}`),
            el(
              "table",
              { class: "grid" },
              el(
                "thead",
                {},
                el(
                  "tr",
                  {},
                  el("th", { scope: "col", class: "num" }, "Attempt"),
                  el("th", { scope: "col" }, "Kind"),
                  el("th", { scope: "col", class: "num" }, "HTTP status"),
                  el("th", { scope: "col", class: "num" }, "Latency ms"),
                  el("th", { scope: "col" }, "Outcome"),
                  el("th", { scope: "col" }, "Signature"),
                  el("th", { scope: "col" }, "Sent (wall clock)")
                )
              ),
              el("tbody", {}, attempts.length ? attempts : [emptyRow(7, "Not sent yet (" + d.state + ").")])
            )
          );
        })
    );
  }

  async function redeliver(id, button) {
    button.disabled = true;
    const res = await call("POST", `${API}/webhooks/deliveries/${encodeURIComponent(id)}/redeliver`);
    if (!res.ok) showError(`Redeliver ${id}: ${errorText(res)}`);
    else announce(`Delivery ${id} queued again`);
    soon("job", loadJob, 50);
  }

  async function renderResult(job) {
    const box = $("result");
    if (!job.resultUrl) {
      box.replaceChildren(
        el("p", { class: "muted" }, "A result exists once the job is completed or completed_with_errors.")
      );
      return;
    }
    let doc = ui.results.get(job.id);
    if (!doc) {
      // the signed URL is served by this same server: fetch its path, whatever host it names
      const u = new URL(job.resultUrl, location.href);
      const res = await call("GET", u.pathname + u.search);
      if (!res.ok) {
        box.replaceChildren(el("p", { class: "bad" }, `The result could not be read: ${errorText(res)}`));
        return;
      }
      doc = res.body;
      ui.results.set(job.id, doc);
    }
    const usage = doc.usage || {};
    const docs = (doc.documents || []).map((d) => {
      const sheets = d.sheets || [];
      return el(
        "tr",
        {},
        el("th", { scope: "row" }, d.fileName),
        el("td", {}, d.classification),
        el("td", {}, el("span", { class: "tag" }, d.status)),
        el("td", { class: "num" }, `${fmt(d.successfulPageCount)} / ${fmt(d.pageCount)}`),
        el(
          "td",
          { class: "wrap" },
          sheets.length
            ? sheets
                .map((s) => `${s.sheetNumber || "?"} ${s.sheetName || ""} (p. ${s.pageNumber})`)
                .join("; ")
            : el("span", { class: "muted" }, "no sheets")
        )
      );
    });
    const parts = [
      el(
        "p",
        {},
        `${fmt(usage.successfulPageCount)} of ${fmt(usage.pageCount)} pages successful, `,
        `${fmt(usage.creditsDebited)} credits debited, ${fmt((doc.errors || []).length)} errors, `,
        `${fmt((doc.warnings || []).length)} warnings.`
      ),
      el(
        "table",
        { class: "grid" },
        el(
          "thead",
          {},
          el(
            "tr",
            {},
            el("th", { scope: "col" }, "Document"),
            el("th", { scope: "col" }, "Classification"),
            el("th", { scope: "col" }, "Status"),
            el("th", { scope: "col", class: "num" }, "Pages ok / total"),
            el("th", { scope: "col" }, "Sheets")
          )
        ),
        el("tbody", {}, docs.length ? docs : [emptyRow(5, "No documents.")])
      ),
      (doc.errors || []).length
        ? el(
            "ul",
            {},
            doc.errors.map((e) => el("li", {}, `${e.code || "error"}: ${e.message || JSON.stringify(e)}`))
          )
        : null,
    ];
    box.replaceChildren(...parts.filter(Boolean));
  }

  // ------------------------------------------------------------------ the state diagram

  // Where each status sits (centres in the 1100 x 370 drawing); unknown statuses go on a last row.
  const LAYOUT = {
    provisioning: [80, 40],
    awaiting_uploads: [290, 40],
    uploading: [500, 40],
    preflighting: [500, 145],
    processing: [715, 145],
    blocked_insufficient_credits: [620, 250],
    completed: [1000, 60],
    completed_with_errors: [1000, 145],
    failed: [1000, 230],
    cancelled: [250, 340],
    expired: [640, 340],
  };
  const SVG = "http://www.w3.org/2000/svg";

  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return node;
  }

  function boxOf(status, i) {
    const [x, y] = LAYOUT[status] || [100 + 160 * (i % 6), 360];
    const w = Math.max(90, status.length * 7.4 + 18);
    return { x, y, w, h: 30 };
  }

  function border(b, tx, ty) {
    // where the line from b's centre towards (tx, ty) leaves the box
    const dx = tx - b.x;
    const dy = ty - b.y;
    if (!dx && !dy) return [b.x, b.y];
    const sx = dx ? b.w / 2 / Math.abs(dx) : Infinity;
    const sy = dy ? b.h / 2 / Math.abs(dy) : Infinity;
    const s = Math.min(sx, sy);
    return [b.x + dx * s, b.y + dy * s];
  }

  function renderDiagram(current, history) {
    const m = ui.machine;
    const boxes = new Map(m.statuses.map((s, i) => [s, boxOf(s, i)]));
    const taken = new Set(history.map((h) => h.from + ">" + h.to + ">" + h.event));
    const visited = new Set([m.initial, ...history.map((h) => h.to)]);
    const edges = [];
    for (const t of m.transitions) {
      for (const from of t.from) edges.push({ from, to: t.to, event: t.event });
    }
    const pairs = new Set(edges.map((e) => e.from + ">" + e.to));
    const any = new Set(["cancel", "expire"]);
    const gEdges = svg("g", {});
    const gTaken = svg("g", {});
    for (const e of edges) {
      const a = boxes.get(e.from);
      const b = boxes.get(e.to);
      // a pair of opposite edges: bend each to its side so both stay readable
      const bend = pairs.has(e.to + ">" + e.from) ? 18 : 0;
      const mx = (a.x + b.x) / 2;
      const my = (a.y + b.y) / 2;
      const len = Math.hypot(b.x - a.x, b.y - a.y) || 1;
      const cx = mx + (bend * (b.y - a.y)) / len;
      const cy = my - (bend * (b.x - a.x)) / len;
      const [x1, y1] = border(a, cx, cy);
      const [x2, y2] = border(b, cx, cy);
      const isTaken = taken.has(e.from + ">" + e.to + ">" + e.event);
      const cls = "edge" + (any.has(e.event) ? " any" : "") + (isTaken ? " taken" : "");
      const g = svg(
        "g",
        { class: cls, "data-edge": `${e.from}>${e.to}` },
        svg("title", {}, `${e.event}: ${e.from} -> ${e.to}`),
        svg("path", {
          d: `M${x1.toFixed(1)},${y1.toFixed(1)} Q${cx.toFixed(1)},${cy.toFixed(1)} ${x2.toFixed(1)},${y2.toFixed(1)}`,
          "marker-end": isTaken ? "url(#arrow-taken)" : "url(#arrow)",
        })
      );
      if (!any.has(e.event) || isTaken) {
        const lx = (x1 + 2 * cx + x2) / 4;
        const ly = (y1 + 2 * cy + y2) / 4;
        g.append(svg("text", { x: lx.toFixed(1), y: (ly - 4).toFixed(1), "text-anchor": "middle" }, e.event));
      }
      (isTaken ? gTaken : gEdges).append(g);
    }
    const terminal = new Set(m.terminal);
    const gNodes = svg("g", {});
    for (const [s, b] of boxes) {
      const cls =
        "node" +
        (visited.has(s) ? " visited" : "") +
        (s === current ? " current" : "") +
        (terminal.has(s) ? " terminal" : "");
      gNodes.append(
        svg(
          "g",
          { class: cls, "data-status": s },
          svg("rect", {
            x: b.x - b.w / 2,
            y: b.y - b.h / 2,
            width: b.w,
            height: b.h,
            rx: terminal.has(s) ? 15 : 4,
          }),
          svg("text", { x: b.x, y: b.y + 4, "text-anchor": "middle" }, s)
        )
      );
    }
    const start = boxes.get(m.initial);
    const path = [m.initial, ...history.map((h) => h.to)].join(" -> ");
    const root = svg(
      "svg",
      {
        viewBox: "0 0 1100 370",
        role: "img",
        "aria-labelledby": "diagram-svg-title",
      },
      svg("title", { id: "diagram-svg-title" }, `Job state machine; current status ${current}; path taken: ${path}`),
      svg(
        "defs",
        {},
        svg(
          "marker",
          { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" },
          svg("path", { d: "M0,0 L10,5 L0,10 z", fill: "#afb8c1" })
        ),
        svg(
          "marker",
          { id: "arrow-taken", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 6, markerHeight: 6, orient: "auto-start-reverse" },
          svg("path", { d: "M0,0 L10,5 L0,10 z", fill: "#0b57d0" })
        )
      ),
      svg("circle", { cx: start.x - start.w / 2 - 16, cy: start.y, r: 6, fill: "#24292f" }),
      gEdges,
      gTaken,
      gNodes
    );
    $("diagram").replaceChildren(root);
  }

  // ------------------------------------------------------------------ clock and scenarios

  async function loadClock() {
    const [clock, scenarios, accounts] = await Promise.all([
      call("GET", API + "/clock"),
      call("GET", API + "/scenarios"),
      call("GET", API + "/accounts"),
    ]);
    if (clock.ok) {
      setClock(clock.body.now);
      $("clock-info").textContent =
        clock.body.mode === "manual"
          ? "Manual clock: it moves only when advanced."
          : `Realtime clock at x${clock.body.speed}: it moves on its own.`;
    }
    if (scenarios.ok) renderScenarios(scenarios.body);
    if (accounts.ok) renderAccounts(accounts.body.accounts);
  }

  function renderScenarios(body) {
    const sel = $("scenario-pick");
    const chosen = sel.value;
    const names = body.scenarios.map((s) => s.name);
    if (sel.options.length !== names.length || names.some((n, i) => sel.options[i].value !== n)) {
      sel.replaceChildren(...names.map((n) => el("option", { value: n }, n)));
      if (names.includes(chosen)) sel.value = chosen;
    }
    $("scenario-default").textContent = body.default;
    $("scenario-queued").textContent = body.queued.length ? body.queued.join(", ") : "none";
  }

  function renderAccounts(accounts) {
    const body = $("credits-body");
    const orgs = accounts.map((a) => a.organisation).join("\n");
    if (body.dataset.orgs === orgs && accounts.length) {
      // the same organisations: update in place, so focus and a balance being typed stay
      accounts.forEach((a, i) => {
        const tr = body.children[i];
        tr.children[1].textContent = fmt(a.balance);
        const input = tr.querySelector("input");
        if (input && document.activeElement !== input) input.value = a.balance;
      });
      return;
    }
    body.dataset.orgs = orgs;
    const rows = accounts.map((a, i) => {
      const inputId = "credits-" + i;
      const key = a.apiKeys[0];
      const form = el(
        "form",
        {
          class: "inline",
          onsubmit: async (ev) => {
            ev.preventDefault();
            const value = Number(ev.currentTarget.elements.balance.value);
            const res = await call("PUT", `${API}/accounts/${encodeURIComponent(key)}/credits`, { balance: value });
            if (res.ok) say("credits-result", `${a.organisation} now has ${fmt(res.body.balance)} credits.`);
            else say("credits-result", `Could not set the balance: ${errorText(res)}`, true);
            soon("clock", loadClock);
          },
        },
        el("label", { for: inputId, class: "sr-only" }, `New balance for ${a.organisation}`),
        el("input", { id: inputId, name: "balance", type: "number", min: 0, step: 1, value: a.balance, required: true, disabled: !key }),
        el("button", { type: "submit", disabled: !key }, "Set")
      );
      return el(
        "tr",
        {},
        el("th", { scope: "row", class: "mono" }, a.organisation),
        el("td", { class: "num" }, fmt(a.balance)),
        el("td", {}, `${a.profile.drawingCreditsPerPage} / ${a.profile.documentCreditsPerPage}`),
        el("td", {}, form)
      );
    });
    body.replaceChildren(...(rows.length ? rows : [emptyRow(4, "No organisation has acted yet.")]));
  }

  function setupClockView() {
    $("advance-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const seconds = Number($("advance-seconds").value);
      const button = ev.currentTarget.querySelector("button");
      button.disabled = true;
      const res = await call("POST", API + "/clock/advance", { seconds });
      button.disabled = false;
      if (res.ok) {
        setClock(res.body.now);
        const n = res.body.fired.length;
        say("advance-result", `Advanced ${seconds} s to ${shortTime(res.body.now)}; ${n} transition${n === 1 ? "" : "s"} fired.`);
      } else {
        say("advance-result", `Could not advance: ${errorText(res)}`, true);
      }
    });
    $("scenario-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const scenario = $("scenario-pick").value;
      const res = await call("POST", API + "/scenarios/next", { scenario });
      if (res.ok) say("scenario-result", `Queued ${scenario} for the next job.`);
      else say("scenario-result", `Could not queue ${scenario}: ${errorText(res)}`, true);
      soon("clock", loadClock);
    });
  }

  // ------------------------------------------------------------------ violations and faults

  async function loadViolations() {
    await ready; // the rules' texts
    const res = await call("GET", API + "/violations");
    if (res.ok) {
      const rows = res.body.violations
        .slice()
        .reverse()
        .map((v) => {
          const rule = ui.rules[v.rule];
          return el(
            "tr",
            {},
            el("td", {}, timeEl(v.at)),
            el(
              "td",
              { class: "wrap" },
              el("span", { class: "tag bad" }, v.rule),
              rule ? [" ", rule.text, " ", el("span", { class: "muted" }, rule.source === "plangrep" ? "(documented by Plangrep)" : "(defined by the mock)")] : ""
            ),
            el("td", {}, v.jobId ? jobLink(v.jobId) : v.projectId ? el("span", { class: "mono" }, v.projectId) : "-"),
            el("td", { class: "mono" }, v.apiKey || "-"),
            el("td", { class: "wrap" }, v.message)
          );
        });
      setViolations(res.body.violations.length);
      $("violations-body").replaceChildren(...(rows.length ? rows : [emptyRow(5, "No violation recorded.")]));
    }
    // a list pushed by the feed while this fetch was under way is newer than its answer
    const pushed = ui.faultsPushed;
    const faults = await call("GET", API + "/faults");
    if (faults.ok && pushed === ui.faultsPushed) ui.faults = faults.body.faults;
    renderFaults();
  }

  function renderFaults() {
    const rows = ui.faults.map((f) =>
      el(
        "tr",
        {},
        el("th", { scope: "row", class: "mono" }, f.id),
        el("td", {}, f.target),
        el("td", {}, f.mode, f.status ? ` ${f.status}` : "", f.seconds ? ` ${f.seconds} s` : ""),
        el("td", {}, f.jobId ? jobLink(f.jobId) : "any"),
        el("td", { class: "num" }, `${fmt(f.remaining)} / ${fmt(f.count)}`),
        el("td", { class: "num" }, fmt(f.applied)),
        el("td", {}, el("span", { class: f.remaining ? "tag bad" : "tag" }, f.remaining ? "active" : "spent"))
      )
    );
    $("faults-body").replaceChildren(...(rows.length ? rows : [emptyRow(7, "No fault is active.")]));
    $("faults-clear").disabled = !ui.faults.length;
  }

  function setupViolationsView() {
    $("faults-clear").addEventListener("click", async () => {
      const res = await call("DELETE", API + "/faults");
      if (res.ok) say("faults-result", `Cleared ${res.body.deleted} fault${res.body.deleted === 1 ? "" : "s"}.`);
      else say("faults-result", `Could not clear the faults: ${errorText(res)}`, true);
      soon("violations", loadViolations);
    });
  }

  // ------------------------------------------------------------------ start

  // The machine and the rule texts, read once; the jobs table does not wait for them.
  let ready = Promise.resolve(false);

  async function start() {
    ready = Promise.all([call("GET", API + "/machine"), call("GET", API + "/rules")]).then(
      ([machine, rules]) => {
        if (!machine.ok) {
          showError("The dashboard could not read the job machine from /_mock/machine.");
          return false;
        }
        ui.machine = machine.body;
        if (rules.ok) ui.rules = Object.fromEntries(rules.body.rules.map((r) => [r.id, r]));
        $("mermaid").textContent = ui.machine.mermaid;
        const sel = $("filter-status");
        for (const st of ui.machine.statuses) sel.append(el("option", { value: st }, st));
        setCounts(ui.counts, ui.totalJobs);
        return true;
      }
    );
    setupJobsView();
    setupClockView();
    setupViolationsView();
    window.addEventListener("hashchange", () => show(true));
    show(false);
  }

  start();
})();
