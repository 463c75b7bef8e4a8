/**
 * The history page's stylesheet, served at /assets/page.css. Kept as a string so `tsc` carries it
 * into dist/ (the build copies no other files). Colours of the six state statuses live here; the
 * SVG graph and the legend only set classes (the CSP forbids inline style attributes).
 */
export const PAGE_CSS = String.raw`
:root {
  --fg: #1f2328;
  --muted: #59636e;
  --faint: #818b98;
  --bg: #ffffff;
  --bg-soft: #f6f8fa;
  --border: #d1d9e0;
  --link: #0969da;
  --ok: #1a7f37;
  --ok-bg: #dafbe1;
  --run: #0969da;
  --run-bg: #ddf4ff;
  --fail: #cf222e;
  --fail-bg: #ffebe9;
  --comp: #8250df;
  --comp-bg: #fbefff;
  --cancel: #6e4c00;
  --cancel-bg: #fff1c2;
  --none: #8c959f;
  --none-bg: #f6f8fa;
  --mono: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "DejaVu Sans Mono", monospace;
  color-scheme: light;
}
* { box-sizing: border-box; }
html, body { margin: 0; padding: 0; }
body {
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "DejaVu Sans", Arial, sans-serif;
  color: var(--fg);
  background: var(--bg);
}
a { color: var(--link); text-decoration: none; }
a:hover { text-decoration: underline; }
code, pre, .mono { font-family: var(--mono); font-size: 12.5px; }

.topbar {
  display: flex; align-items: center; gap: 16px;
  padding: 10px 24px; border-bottom: 1px solid var(--border); background: var(--bg-soft);
}
.brand { font-weight: 700; font-size: 16px; color: var(--fg); letter-spacing: 0.2px; }
.brand-mark { color: var(--ok); margin-right: 6px; }
.topbar nav a { color: var(--muted); }
.topbar .spacer { flex: 1; }
.live { color: var(--muted); font-size: 12px; display: inline-flex; align-items: center; gap: 6px; }
.live::before { content: ""; width: 8px; height: 8px; border-radius: 50%; background: var(--none); display: inline-block; }
.live.on::before { background: var(--run); animation: pulse 1.2s ease-in-out infinite; }
.live.error::before { background: var(--fail); }

main { padding: 18px 24px 48px; max-width: 1400px; margin: 0 auto; }
h1 { font-size: 20px; margin: 0 0 4px; word-break: break-all; }
h2 { font-size: 15px; margin: 28px 0 10px; color: var(--fg); }
.sub { color: var(--muted); margin: 0 0 12px; }
.hidden { display: none !important; }

.banner {
  margin: 0 0 14px; padding: 10px 14px; border-radius: 6px; border: 1px solid var(--border); background: var(--bg-soft);
}
.banner.error { border-color: #ffcecb; background: var(--fail-bg); color: #82071e; }
.banner.warn { border-color: #f5e0a0; background: #fff8c5; color: #6e4c00; }
.token-form { display: flex; gap: 8px; margin-top: 8px; }
.token-form input { flex: 1; max-width: 420px; padding: 5px 8px; border: 1px solid var(--border); border-radius: 6px; font: inherit; }
button, select {
  font: inherit; font-size: 13px; padding: 4px 10px; border-radius: 6px; border: 1px solid var(--border);
  background: var(--bg-soft); color: var(--fg); cursor: pointer;
}
button:hover { background: #eef1f4; }

/* Status badges (lists, header) */
.badge {
  display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 600;
  border: 1px solid transparent; white-space: nowrap; letter-spacing: 0.2px;
}
.badge.s-SUCCEEDED { color: var(--ok); background: var(--ok-bg); border-color: #aceebb; }
.badge.s-RUNNING { color: var(--run); background: var(--run-bg); border-color: #b6e3ff; }
.badge.s-FAILED { color: var(--fail); background: var(--fail-bg); border-color: #ffcecb; }
.badge.s-CANCELLED { color: var(--cancel); background: var(--cancel-bg); border-color: #f5e0a0; }

/* Tables */
.table-wrap { overflow-x: auto; border: 1px solid var(--border); border-radius: 8px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 7px 12px; border-bottom: 1px solid var(--border); vertical-align: top; }
th { background: var(--bg-soft); font-weight: 600; font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: 0.4px; position: sticky; top: 0; }
tr:last-child td { border-bottom: 0; }
tbody tr:hover td { background: #fafbfc; }
td.num, th.num { text-align: right; white-space: nowrap; }
td.nowrap { white-space: nowrap; }
td.id a { font-family: var(--mono); font-size: 12.5px; word-break: break-all; }
.empty { padding: 24px; text-align: center; color: var(--muted); }
.toolbar { display: flex; align-items: center; gap: 10px; margin: 0 0 10px; }
.toolbar label { color: var(--muted); font-size: 13px; }
.more { margin-top: 10px; }

/* Execution header */
.meta { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 8px 20px; margin: 12px 0 0; }
.meta div { min-width: 0; }
.meta dt { font-size: 11px; text-transform: uppercase; letter-spacing: 0.4px; color: var(--muted); margin: 0; }
.meta dd { margin: 2px 0 0; word-break: break-word; }
.meta.usage { margin-top: 6px; padding-top: 6px; border-top: 1px dashed var(--border); }
.io { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 12px; margin-top: 14px; }
.io section { border: 1px solid var(--border); border-radius: 8px; padding: 8px 12px; min-width: 0; }
.io h3 { margin: 0 0 4px; font-size: 12px; text-transform: uppercase; letter-spacing: 0.4px; color: var(--muted); }
.io .error-text { color: var(--fail); }

/* JSON blocks */
.json pre {
  margin: 2px 0; padding: 6px 8px; background: var(--bg-soft); border-radius: 6px;
  white-space: pre-wrap; word-break: break-word; max-height: 480px; overflow: auto;
}
.expander { font-size: 11.5px; padding: 1px 8px; margin-top: 2px; color: var(--link); background: transparent; border-color: transparent; }
.expander:hover { background: var(--run-bg); }

/* Graph */
.graph-wrap { border: 1px solid var(--border); border-radius: 8px; overflow: auto; background: #fcfdfd; padding: 8px; }
.graph-wrap svg { display: block; margin: 0 auto; }
.legend { display: flex; flex-wrap: wrap; gap: 14px; margin: 0 0 8px; font-size: 12.5px; color: var(--muted); }
.legend span { display: inline-flex; align-items: center; gap: 6px; }
.legend i { width: 14px; height: 14px; border-radius: 3px; border: 2px solid; display: inline-block; }
.legend i.st-succeeded { border-color: var(--ok); background: var(--ok-bg); }
.legend i.st-running { border-color: var(--run); background: var(--run-bg); }
.legend i.st-failed { border-color: var(--fail); background: var(--fail-bg); }
.legend i.st-compensated { border-color: var(--comp); background: var(--comp-bg); }
.legend i.st-cancelled { border-color: var(--cancel); background: var(--cancel-bg); }
.legend i.st-not-reached { border-color: var(--none); background: var(--none-bg); border-style: dashed; }

svg .node rect.box { fill: var(--none-bg); stroke: var(--none); stroke-width: 1.5; stroke-dasharray: 4 3; }
svg .node text { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif; fill: var(--fg); }
svg .node text.name { font-size: 13px; font-weight: 600; }
svg .node text.detail { font-size: 11px; fill: var(--muted); }
svg .node text.kind { font-size: 9.5px; fill: var(--faint); text-transform: uppercase; letter-spacing: 0.5px; }
svg .node.st-not-reached text.name { fill: var(--muted); }
svg .node.st-succeeded > rect.box { fill: var(--ok-bg); stroke: var(--ok); stroke-dasharray: none; }
svg .node.st-running > rect.box { fill: var(--run-bg); stroke: var(--run); stroke-dasharray: none; stroke-width: 2.5; animation: pulse 1.2s ease-in-out infinite; }
svg .node.st-failed > rect.box { fill: var(--fail-bg); stroke: var(--fail); stroke-dasharray: none; stroke-width: 2; }
svg .node.st-compensated > rect.box { fill: var(--comp-bg); stroke: var(--comp); stroke-dasharray: none; stroke-width: 2; }
svg .node.st-cancelled > rect.box { fill: var(--cancel-bg); stroke: var(--cancel); stroke-dasharray: none; }
svg .node.container > rect.box { fill-opacity: 0.35; }
svg .node.container.st-not-reached > rect.box { fill: #ffffff; }
svg .node .branch-sep { stroke: var(--border); stroke-dasharray: 3 4; }
svg .node { cursor: pointer; outline: none; }
svg .node:focus-visible > rect.box { stroke-width: 3.5; }
svg .node.selected > rect.box { stroke-width: 3.5; }
svg .edge path { fill: none; stroke: #afb8c1; stroke-width: 1.5; }
svg .edge.taken path { stroke: #57606a; stroke-width: 2; }
svg .edge.catch path { stroke-dasharray: 5 4; stroke: #e2a8a8; }
svg .edge.catch.taken path { stroke: var(--fail); }
svg .edge text { font-size: 10.5px; fill: var(--muted); font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif; }
svg .edge rect.label-bg { fill: #fcfdfd; }
svg .arrow { fill: #57606a; }
svg .arrow.light { fill: #afb8c1; }

/* Timeline */
.timeline td.type { white-space: nowrap; font-weight: 600; }
.timeline td.type.t-ok { color: var(--ok); }
.timeline td.type.t-fail { color: var(--fail); }
.timeline td.type.t-run { color: var(--run); }
.timeline td.type.t-comp { color: var(--comp); }
.timeline td.type.t-warn { color: var(--cancel); }
.timeline td.step { font-family: var(--mono); font-size: 12.5px; white-space: nowrap; }
.timeline td.when { white-space: nowrap; font-family: var(--mono); font-size: 12px; }
.timeline td.when .offset { color: var(--faint); display: block; }
.timeline td.details { min-width: 260px; max-width: 720px; }
.timeline tr.dim td { opacity: 0.35; }
.kv { margin: 1px 0; }
.kv .k { color: var(--muted); margin-right: 6px; font-size: 12px; }
.version { font-family: var(--mono); font-size: 12px; color: var(--muted); }
.version-warn { color: var(--cancel); }
.attempt { color: var(--muted); font-size: 12px; margin-left: 4px; }
.filter-note { font-size: 13px; color: var(--muted); margin-left: 8px; }

/* Actions on the execution (views/actions.ts): a button, then an inline "question [Yes] [No]" */
.actions { display: flex; flex-wrap: wrap; gap: 8px; margin: 0 0 12px; }
.actions:empty { display: none; }
.action { display: inline-flex; align-items: center; gap: 6px; }
.action-question { font-size: 13px; }
.action-confirm { border-color: var(--fail); color: var(--fail); }
.action-error { font-size: 12px; }
.action { flex-wrap: wrap; }
.action-label { display: inline-flex; align-items: center; gap: 4px; font-size: 13px; }
.action-field { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; }
/* Parent and children (views/family.ts) */
.family { margin: 0 0 12px; font-size: 13px; }
.family ul { margin: 4px 0; padding-left: 18px; }
.family .muted { color: var(--muted); }
button:disabled { opacity: 0.6; cursor: default; }

@keyframes pulse { 0%, 100% { opacity: 1; } 50% { opacity: 0.55; } }
@media (prefers-reduced-motion: reduce) {
  svg .node.st-running > rect.box, .live.on::before { animation: none; }
}
`;
