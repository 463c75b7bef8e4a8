/**
 * The two HTML shells. They hold no data: the script at /assets/page.js fetches everything from
 * the JSON API (sending the bearer token when one is configured) and renders it with textContent.
 */

function shell(page: 'list' | 'execution', title: string, body: string, assets: { js: string; css: string }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title}</title>
<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="${assets.css}">
<script src="${assets.js}" defer></script>
</head>
<body data-page="${page}">
<header class="topbar">
  <a class="brand" href="/"><span class="brand-mark">&#9654;</span>Stepwise</a>
  <nav><a href="/">Executions</a></nav>
  <span class="spacer"></span>
  <span id="live" class="live">idle</span>
</header>
<main>
<div id="banner" class="banner hidden" role="status"></div>
${body}
</main>
<noscript><p class="banner warn">This page needs JavaScript to load the execution data.</p></noscript>
</body>
</html>
`;
}

export function listPageHtml(assets: { js: string; css: string }, options: { schedules?: boolean } = {}): string {
  return shell(
    'list',
    'Executions · Stepwise',
    `<h1>Recent executions</h1>
<p class="sub">Newest first. The list refreshes every few seconds.</p>
<div class="toolbar">
  <label for="status-filter">Status</label>
  <select id="status-filter">
    <option value="">All</option>
    <option value="QUEUED">Queued</option>
    <option value="RUNNING">Running</option>
    <option value="SUCCEEDED">Succeeded</option>
    <option value="FAILED">Failed</option>
    <option value="CANCELLED">Cancelled</option>
  </select>
</div>
<div class="table-wrap">
<table id="executions">
  <thead><tr><th>Execution</th><th>Workflow</th><th>Status</th><th>Started</th><th class="num">Duration</th></tr></thead>
  <tbody></tbody>
</table>
<div id="executions-empty" class="empty hidden">No executions yet.</div>
</div>
<button id="more" class="more hidden" type="button">Load more</button>${options.schedules ? SCHEDULES_SECTION : ''}`,
    assets,
  );
}

/** On the list page when the server serves /v1/schedules; filled by the script (views/schedules.ts). */
const SCHEDULES_SECTION = `
<section id="schedules" class="schedules hidden">
<h2>Schedules</h2>
<div class="table-wrap">
<table id="schedule-list">
  <thead><tr><th>Schedule</th><th>Cron</th><th>Workflow</th><th>Next run</th><th>Last run</th><th class="num">Fired / skipped / missed / failed</th></tr></thead>
  <tbody></tbody>
</table>
</div>
</section>`;

export function executionPageHtml(assets: { js: string; css: string }): string {
  return shell(
    'execution',
    'Execution · Stepwise',
    `<h1 id="exec-id">Execution</h1>
<p class="sub" id="exec-sub"></p>
<div class="actions" id="exec-actions"></div>
<dl class="meta" id="exec-meta"></dl>
<dl class="meta usage" id="exec-usage" aria-label="Usage"></dl>
<div class="family hidden" id="exec-family"></div>
<div class="io" id="exec-io"></div>
<h2>Workflow graph</h2>
<div class="legend" id="legend"></div>
<div class="graph-wrap" id="graph"></div>
<h2>Timeline <span id="timeline-filter" class="filter-note"></span></h2>
<div class="table-wrap">
<table class="timeline" id="timeline">
  <thead><tr><th class="num">#</th><th>Time</th><th>Event</th><th>Step</th><th class="num">Duration</th><th>Details</th></tr></thead>
  <tbody></tbody>
</table>
<div id="timeline-empty" class="empty">Loading…</div>
</div>`,
    assets,
  );
}

export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#1a7f37"/><path d="M5 4l7 4-7 4z" fill="#fff"/></svg>`;
