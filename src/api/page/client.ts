/**
 * The history page's one script, served at /assets/page.js. Plain browser JavaScript kept as a
 * string so `tsc` carries it into dist/ and there is no build step. It must not contain a
 * backtick or a dollar-brace (it lives in a template literal); test/browser/page-assets.test.ts
 * parses it to catch syntax errors without a browser.
 *
 * Rules it keeps: data is rendered only through textContent / setAttribute on attributes it
 * chooses (never innerHTML); links are built from encodeURIComponent(id); long JSON is cut with
 * an expander; the bearer token comes from ?token= once and then lives in sessionStorage.
 */
export const PAGE_JS = String.raw`
(function () {
  'use strict';

  var TOKEN_KEY = 'stepwise.token';
  var POLL_MS = 1000;
  var LIST_POLL_MS = 3000;
  var PREVIEW_CHARS = 360;
  var PREVIEW_LINES = 10;
  var MAX_EXPANDED_CHARS = 200000;
  var MAX_ROWS = 5000;
  var TERMINAL = { SUCCEEDED: true, FAILED: true, CANCELLED: true };
  var TERMINAL_EVENTS = { ExecutionSucceeded: true, ExecutionFailed: true, ExecutionCancelled: true };
  var STATUS_LABELS = {
    'succeeded': 'Succeeded',
    'running': 'Running',
    'failed': 'Failed',
    'compensated': 'Compensated',
    'cancelled': 'Cancelled',
    'not-reached': 'Not reached'
  };
  var EVENT_CLASS = {
    ExecutionStarted: 't-run', StateEntered: '', StepStarted: 't-run', StepSucceeded: 't-ok',
    StepFailed: 't-fail', RetryScheduled: 't-warn', StepResultRefused: 't-warn', TimerStarted: 't-run',
    TimerFired: 't-ok', CancelRequested: 't-warn', CompensationStarted: 't-comp', CompensationSucceeded: 't-comp',
    CompensationFailed: 't-fail', ExecutionSucceeded: 't-ok', ExecutionFailed: 't-fail', ExecutionCancelled: 't-warn'
  };

  // ---------------------------------------------------------------- token and API

  var memoryToken = null;
  function readToken() {
    var params = new URLSearchParams(location.search);
    if (params.has('token')) {
      var t = params.get('token') || '';
      storeToken(t);
      params.delete('token');
      var q = params.toString();
      history.replaceState(null, '', location.pathname + (q ? '?' + q : '') + location.hash);
    }
    try { return sessionStorage.getItem(TOKEN_KEY) || memoryToken; } catch (e) { return memoryToken; }
  }
  function storeToken(t) {
    memoryToken = t || null;
    try {
      if (t) sessionStorage.setItem(TOKEN_KEY, t); else sessionStorage.removeItem(TOKEN_KEY);
    } catch (e) { /* storage disabled: keep it in memory for this page only */ }
  }
  var token = readToken();

  function api(path) {
    var headers = { 'accept': 'application/json' };
    if (token) headers['authorization'] = 'Bearer ' + token;
    return fetch(path, { headers: headers, cache: 'no-store', credentials: 'same-origin' }).then(function (res) {
      return res.text().then(function (text) {
        var body = null;
        if (text) { try { body = JSON.parse(text); } catch (e) { body = null; } }
        if (!res.ok) {
          var info = (body && typeof body.error === 'object' && body.error) || body || {};
          var err = new Error(typeof info.message === 'string' ? info.message : 'HTTP ' + res.status);
          err.status = res.status;
          err.code = typeof info.code === 'string' ? info.code : '';
          throw err;
        }
        return body;
      });
    });
  }
  function enc(s) { return encodeURIComponent(String(s)); }

  // ---------------------------------------------------------------- DOM helpers (text nodes only, no HTML parsing)

  function h(tag, props, kids) {
    var e = document.createElement(tag);
    setProps(e, props);
    addKids(e, kids);
    return e;
  }
  var SVGNS = 'http://www.w3.org/2000/svg';
  function s(tag, props, kids) {
    var e = document.createElementNS(SVGNS, tag);
    setProps(e, props);
    addKids(e, kids);
    return e;
  }
  function setProps(e, props) {
    if (!props) return;
    Object.keys(props).forEach(function (k) {
      var v = props[k];
      if (v === null || v === undefined || v === false) return;
      if (k === 'text') e.textContent = String(v);
      else e.setAttribute(k, String(v));
    });
  }
  function addKids(e, kids) {
    if (!kids) return;
    kids.forEach(function (c) {
      if (c === null || c === undefined || c === false) return;
      e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    });
  }
  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); }
  function $(id) { return document.getElementById(id); }

  // ---------------------------------------------------------------- formatting

  function toMs(v) {
    if (typeof v === 'number' && isFinite(v)) return v;
    if (typeof v === 'string' && v) {
      var n = Date.parse(v);
      if (!isNaN(n)) return n;
      var num = Number(v);
      if (isFinite(num)) return num;
    }
    return null;
  }
  function pad(n, w) { var t = String(n); while (t.length < (w || 2)) t = '0' + t; return t; }
  function fmtDateTime(ms) {
    if (ms === null) return '—';
    var d = new Date(ms);
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' +
      pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
  }
  function fmtClock(ms) {
    if (ms === null) return '—';
    var d = new Date(ms);
    return pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds()) + '.' + pad(d.getMilliseconds(), 3);
  }
  function fmtDuration(ms) {
    if (ms === null || ms === undefined || !isFinite(ms)) return '—';
    if (ms < 0) ms = 0;
    if (ms < 1000) return Math.round(ms) + ' ms';
    if (ms < 10000) return (ms / 1000).toFixed(2) + ' s';
    if (ms < 60000) return (ms / 1000).toFixed(1) + ' s';
    var sec = Math.floor(ms / 1000);
    if (sec < 3600) return Math.floor(sec / 60) + 'm ' + pad(sec % 60) + 's';
    if (sec < 86400) return Math.floor(sec / 3600) + 'h ' + pad(Math.floor(sec / 60) % 60) + 'm';
    return Math.floor(sec / 86400) + 'd ' + (Math.floor(sec / 3600) % 24) + 'h';
  }
  function fmtSize(chars) {
    if (chars < 1024) return chars + ' chars';
    if (chars < 1048576) return (chars / 1024).toFixed(1) + ' KB';
    return (chars / 1048576).toFixed(1) + ' MB';
  }
  function fmtVersion(v) {
    if (v === undefined || v === null || v === '') return '';
    v = String(v);
    return /^\d+$/.test(v) ? 'v' + v : v.slice(0, 8);
  }
  function cut(text, max) { text = String(text); return text.length > max ? text.slice(0, Math.max(1, max - 1)) + '…' : text; }
  function errorText(e) {
    if (!e || typeof e !== 'object') return e === undefined ? '' : String(e);
    var code = typeof e.code === 'string' ? e.code : '';
    var msg = typeof e.message === 'string' ? e.message : '';
    return code && msg ? code + ': ' + msg : (code || msg || safeStringify(e, false));
  }
  function safeStringify(v, pretty) {
    try {
      var t = pretty ? JSON.stringify(v, null, 2) : JSON.stringify(v);
      return t === undefined ? String(v) : t;
    } catch (e) { return String(v); }
  }

  /** A JSON value, cut to a preview with a "show all" expander when it is long. */
  function jsonBlock(value) {
    var full = safeStringify(value, true);
    var wrap = h('div', { 'class': 'json' });
    var pre = h('pre');
    wrap.appendChild(pre);
    var lines = full.split('\n');
    if (full.length <= PREVIEW_CHARS && lines.length <= PREVIEW_LINES) {
      pre.textContent = full;
      return wrap;
    }
    var preview = lines.slice(0, PREVIEW_LINES).join('\n');
    if (preview.length > PREVIEW_CHARS) preview = preview.slice(0, PREVIEW_CHARS);
    preview += ' …';
    var total = full.length;
    full = null; // keep only the value; stringify again when expanded
    pre.textContent = preview;
    var btn = h('button', { type: 'button', 'class': 'expander', text: 'show all (' + fmtSize(total) + ')' });
    var open = false;
    btn.addEventListener('click', function () {
      open = !open;
      if (open) {
        var text = safeStringify(value, true);
        if (text.length > MAX_EXPANDED_CHARS) {
          text = text.slice(0, MAX_EXPANDED_CHARS) + '\n… ' + fmtSize(text.length - MAX_EXPANDED_CHARS) + ' more not shown';
        }
        pre.textContent = text;
        btn.textContent = 'collapse';
      } else {
        pre.textContent = preview;
        btn.textContent = 'show all (' + fmtSize(total) + ')';
      }
    });
    wrap.appendChild(btn);
    return wrap;
  }

  // ---------------------------------------------------------------- banner, live indicator, token form

  function banner(kind, text, extra) {
    var b = $('banner');
    if (!b) return;
    clear(b);
    if (!kind) { b.className = 'banner hidden'; return; }
    b.className = 'banner ' + kind;
    b.appendChild(document.createTextNode(text));
    if (extra) b.appendChild(extra);
  }
  function live(state, text) {
    var l = $('live');
    if (!l) return;
    l.className = 'live' + (state ? ' ' + state : '');
    l.textContent = text;
  }
  function askForToken(message) {
    var input = h('input', { type: 'password', autocomplete: 'off', placeholder: 'API token', 'aria-label': 'API token' });
    var form = h('form', { 'class': 'token-form' }, [input, h('button', { type: 'submit', text: 'Use token' })]);
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      storeToken(input.value.trim());
      location.reload();
    });
    banner('error', message + ' Enter the API token below, or open the page once with ?token=…', form);
    live('error', 'unauthorized');
  }
  function tokenMessage() {
    return token ? 'The server refused the API token this tab has.' : 'This server needs an API token.';
  }
  function isUnauthorized(e) { return e && (e.status === 401 || e.status === 403); }

  // ---------------------------------------------------------------- list page

  function listPage() {
    var tbody = document.querySelector('#executions tbody');
    var empty = $('executions-empty');
    var more = $('more');
    var filter = $('status-filter');
    var nextCursor = null;
    var pagedBeyondFirst = false;
    var timer = null;
    var rows = [];

    function row(x) {
      var started = toMs(x.startedAt);
      var ended = toMs(x.endedAt);
      var status = typeof x.status === 'string' ? x.status : 'UNKNOWN';
      var tr = h('tr', { 'data-id': x.id, 'data-status': status }, [
        h('td', { 'class': 'id' }, [h('a', { href: '/executions/' + enc(x.id), text: x.id })]),
        h('td', {}, [String(x.workflow) + ' ', h('span', { 'class': 'version', title: x.version === undefined ? null : String(x.version), text: fmtVersion(x.version) })]),
        h('td', {}, [h('span', { 'class': 'badge s-' + status.replace(/[^A-Z]/g, ''), text: status })]),
        h('td', { 'class': 'nowrap', text: fmtDateTime(started) }),
        h('td', { 'class': 'num', text: '' })
      ]);
      rows.push({ tr: tr, started: started, ended: ended, running: !TERMINAL[status] });
      return tr;
    }
    function tickDurations() {
      var now = Date.now();
      rows.forEach(function (r) {
        var cell = r.tr.lastChild;
        if (r.started === null) { cell.textContent = '—'; return; }
        var end = r.ended !== null ? r.ended : (r.running ? now : null);
        cell.textContent = end === null ? '—' : fmtDuration(end - r.started) + (r.running ? ' …' : '');
      });
    }
    function load(reset) {
      var q = '/v1/executions?limit=50';
      if (filter && filter.value) q += '&status=' + enc(filter.value);
      if (!reset && nextCursor) q += '&cursor=' + enc(nextCursor);
      return api(q).then(function (body) {
        var items = (body && (body.items || body.executions)) || (Array.isArray(body) ? body : []);
        if (reset) { clear(tbody); rows = []; pagedBeyondFirst = false; }
        else pagedBeyondFirst = true;
        items.forEach(function (x) { if (x && typeof x.id === 'string') tbody.appendChild(row(x)); });
        nextCursor = body && typeof body.nextCursor === 'string' ? body.nextCursor : null;
        more.className = nextCursor ? 'more' : 'more hidden';
        empty.className = rows.length ? 'empty hidden' : 'empty';
        tickDurations();
        banner(null);
        live('on', 'updated ' + fmtClock(Date.now()).slice(0, 8));
      }).catch(function (e) {
        if (isUnauthorized(e)) { askForToken(tokenMessage()); throw e; }
        banner('error', 'Could not load executions: ' + e.message + ' (retrying)');
        live('error', 'offline');
      });
    }
    function schedule() {
      clearTimeout(timer);
      timer = setTimeout(function () {
        if (pagedBeyondFirst || document.hidden) { tickDurations(); schedule(); return; }
        load(true).then(schedule, function (e) { if (!isUnauthorized(e)) schedule(); });
      }, LIST_POLL_MS);
    }
    more.addEventListener('click', function () { load(false); });
    if (filter) filter.addEventListener('change', function () { load(true); });
    load(true).then(schedule, function (e) { if (!isUnauthorized(e)) schedule(); });
  }

  // ---------------------------------------------------------------- graph layout

  var G = { nodeW: 200, nodeH: 50, gapX: 34, gapY: 54, pad: 14, header: 44, branchGap: 22, lane: 14 };

  function successors(st) {
    var out = [];
    var seen = {};
    function add(to, kind, label) {
      if (typeof to !== 'string' || !to) return;
      var key = to + '|' + kind;
      if (seen[to]) {
        if (label && seen[to].labels.indexOf(label) < 0) seen[to].labels.push(label);
        return;
      }
      var e = { to: to, kind: kind, labels: label ? [label] : [] };
      seen[to] = e;
      out.push(e);
      return key;
    }
    add(st.next, 'next', '');
    if (Array.isArray(st.choices)) st.choices.forEach(function (c) { if (c) add(c.next, 'choice', typeof c.label === 'string' ? c.label : ''); });
    add(st['default'], 'choice', 'default');
    if (Array.isArray(st['catch'])) {
      st['catch'].forEach(function (c) {
        if (!c) return;
        var errs = Array.isArray(c.errors) ? c.errors.join(', ') : '';
        add(c.next, 'catch', 'catch' + (errs ? ' ' + errs : ''));
      });
    }
    return out;
  }

  function kindText(st) { return (typeof st.type === 'string' ? st.type : 'state') + (st.compensation ? ' ↺' : ''); }
  function nodeWidth(st) {
    return Math.min(320, Math.max(G.nodeW, String(st.name).length * 7.8 + kindText(st).length * 6.6 + 40));
  }

  /** Lays out one list of states (the top level or one parallel branch) in layers, top to bottom. */
  function layoutStates(states, startAt) {
    var byName = {};
    var names = [];
    (states || []).forEach(function (st) {
      if (st && typeof st.name === 'string' && !byName[st.name]) { byName[st.name] = st; names.push(st.name); }
    });
    var nodes = {};
    names.forEach(function (n) {
      var st = byName[n];
      var node = { name: n, state: st, w: nodeWidth(st), h: G.nodeH, branches: null };
      if (Array.isArray(st.branches) && st.branches.length) {
        node.branches = st.branches.map(function (b) {
          var list = Array.isArray(b) ? b : [];
          return layoutStates(list, list.length ? list[0].name : null);
        });
        var bw = 0, bh = 0;
        node.branches.forEach(function (b, i) { b.offsetX = G.pad + bw + (i ? G.branchGap * i : 0); bw += b.width; bh = Math.max(bh, b.height); });
        bw += G.branchGap * (node.branches.length - 1);
        node.w = Math.max(node.w, bw + 2 * G.pad);
        node.h = G.header + bh + G.pad;
        node.branches.forEach(function (b) { b.offsetX += (node.w - 2 * G.pad - bw) / 2; b.offsetY = G.header; });
      }
      nodes[n] = node;
    });

    var outs = {};
    var edges = [];
    names.forEach(function (n) {
      outs[n] = [];
      successors(byName[n]).forEach(function (e) {
        if (!byName[e.to]) return;
        var edge = { from: n, to: e.to, kind: e.kind, label: e.labels.join(' / '), back: false };
        outs[n].push(edge);
        edges.push(edge);
      });
    });

    // Depth-first from the start: marks back edges (loops) and gives a discovery order.
    var mark = {};
    var discovery = {};
    var post = [];
    var counter = 0;
    function dfs(n) {
      mark[n] = 1;
      discovery[n] = counter++;
      outs[n].forEach(function (e) {
        if (mark[e.to] === 1) e.back = true;
        else if (!mark[e.to]) dfs(e.to);
      });
      mark[n] = 2;
      post.push(n);
    }
    var roots = [];
    if (startAt && byName[startAt]) roots.push(startAt);
    names.forEach(function (n) { roots.push(n); });
    roots.forEach(function (n) { if (!mark[n]) dfs(n); });

    // Longest-path layering over the forward edges.
    var rank = {};
    names.forEach(function (n) { rank[n] = 0; });
    post.slice().reverse().forEach(function (n) {
      outs[n].forEach(function (e) { if (!e.back) rank[e.to] = Math.max(rank[e.to], rank[n] + 1); });
    });
    var layers = [];
    names.forEach(function (n) { (layers[rank[n]] = layers[rank[n]] || []).push(n); });
    layers = layers.filter(function (l) { return l && l.length; });
    layers.forEach(function (l, i) { l.forEach(function (n) { rank[n] = i; }); });

    var preds = {};
    edges.forEach(function (e) { if (!e.back) (preds[e.to] = preds[e.to] || []).push(e.from); });

    // y: layer by layer; x: each node as near the mean of its parents as the spacing allows.
    var y = 0;
    layers.forEach(function (layer, r) {
      var lh = 0;
      layer.forEach(function (n) { lh = Math.max(lh, nodes[n].h); });
      layer.forEach(function (n) {
        var node = nodes[n];
        var ps = preds[n] || [];
        var want = 0;
        if (ps.length) { ps.forEach(function (p) { want += nodes[p].x; }); want /= ps.length; }
        node.want = want;
        node.y = y;
        node.rank = r;
      });
      layer.sort(function (a, b) { return (nodes[a].want - nodes[b].want) || (discovery[a] - discovery[b]); });
      var L = [], R = [];
      var i;
      for (i = 0; i < layer.length; i++) {
        var n1 = nodes[layer[i]];
        L[i] = i === 0 ? n1.want : Math.max(n1.want, L[i - 1] + (nodes[layer[i - 1]].w + n1.w) / 2 + G.gapX);
      }
      for (i = layer.length - 1; i >= 0; i--) {
        var n2 = nodes[layer[i]];
        R[i] = i === layer.length - 1 ? n2.want : Math.min(n2.want, R[i + 1] - (nodes[layer[i + 1]].w + n2.w) / 2 - G.gapX);
      }
      for (i = 0; i < layer.length; i++) nodes[layer[i]].x = (L[i] + R[i]) / 2;
      y += lh + G.gapY;
    });
    var height = Math.max(0, y - G.gapY);

    var minX = Infinity, maxX = -Infinity;
    names.forEach(function (n) { minX = Math.min(minX, nodes[n].x - nodes[n].w / 2); maxX = Math.max(maxX, nodes[n].x + nodes[n].w / 2); });
    if (!names.length) { minX = 0; maxX = 0; }
    names.forEach(function (n) { nodes[n].x -= minX; });
    var width = maxX - minX;

    // Edge routes. Long or backward edges go round the right-hand side in their own lane.
    var lanes = 0;
    function box(n) { var nd = nodes[n]; return { l: nd.x - nd.w / 2, r: nd.x + nd.w / 2, t: nd.y, b: nd.y + nd.h }; }
    function rightOf(r0, r1) {
      var m = 0;
      for (var r = r0; r <= r1; r++) (layers[r] || []).forEach(function (n) { m = Math.max(m, box(n).r); });
      return m;
    }
    edges.forEach(function (e) {
      var a = box(e.from), b = box(e.to);
      var ra = rank[e.from], rb = rank[e.to];
      var sx = nodes[e.from].x, tx = nodes[e.to].x;
      if (!e.back && rb > ra) {
        var sy = a.b, ty = b.t;
        var blocked = false;
        for (var r = ra + 1; r < rb && !blocked; r++) {
          (layers[r] || []).forEach(function (n) {
            var bx = box(n);
            var t = ((bx.t + bx.b) / 2 - sy) / (ty - sy);
            var lx = sx + (tx - sx) * t;
            if (lx > bx.l - 8 && lx < bx.r + 8) blocked = true;
          });
        }
        if (!blocked) {
          var dy = (ty - sy) / 2;
          e.d = 'M' + sx + ' ' + sy + ' C' + sx + ' ' + (sy + dy) + ' ' + tx + ' ' + (ty - dy) + ' ' + tx + ' ' + ty;
          e.lx = (sx + tx) / 2; e.ly = (sy + ty) / 2; e.anchor = 'middle';
        } else {
          var xr = rightOf(ra + 1, rb - 1) + 18 + lanes * G.lane;
          lanes++;
          var y1 = sy + G.gapY / 2, y2 = ty - G.gapY / 2, c = 8;
          var d2 = tx > xr ? 1 : -1;
          e.d = 'M' + sx + ' ' + sy + ' L' + sx + ' ' + (y1 - c) + ' Q' + sx + ' ' + y1 + ' ' + (sx + c) + ' ' + y1 +
            ' L' + (xr - c) + ' ' + y1 + ' Q' + xr + ' ' + y1 + ' ' + xr + ' ' + (y1 + c) +
            ' L' + xr + ' ' + (y2 - c) + ' Q' + xr + ' ' + y2 + ' ' + (xr + d2 * c) + ' ' + y2 +
            ' L' + (tx - d2 * c) + ' ' + y2 + ' Q' + tx + ' ' + y2 + ' ' + tx + ' ' + (y2 + c) + ' L' + tx + ' ' + ty;
          e.lx = xr + 4; e.ly = (y1 + y2) / 2; e.anchor = 'start';
          width = Math.max(width, xr + 10);
        }
      } else {
        // Back edge or same-layer edge: out of the source's right side, into the target's right side.
        var lo = Math.min(ra, rb), hi = Math.max(ra, rb);
        var xb = rightOf(lo, hi) + 18 + lanes * G.lane;
        lanes++;
        var sx2 = a.r, sy2 = (a.t + a.b) / 2 + (e.from === e.to ? 10 : 0);
        var tx2 = b.r, ty2 = (b.t + b.b) / 2 - (e.from === e.to ? 10 : 0);
        var up = ty2 < sy2 ? -1 : 1, k = 8;
        e.d = 'M' + sx2 + ' ' + sy2 + ' L' + (xb - k) + ' ' + sy2 + ' Q' + xb + ' ' + sy2 + ' ' + xb + ' ' + (sy2 + up * k) +
          ' L' + xb + ' ' + (ty2 - up * k) + ' Q' + xb + ' ' + ty2 + ' ' + (xb - k) + ' ' + ty2 + ' L' + tx2 + ' ' + ty2;
        e.lx = xb + 4; e.ly = (sy2 + ty2) / 2; e.anchor = 'start';
        width = Math.max(width, xb + 10);
      }
      if (e.label && e.anchor === 'start') width = Math.max(width, e.lx + labelWidth(e.label) + 6);
    });

    return { names: names, nodes: nodes, edges: edges, width: width, height: height };
  }

  function labelWidth(text) { return Math.min(180, String(text).length * 6.1 + 8); }

  /** Draws a layout into an SVG group and records node and edge elements for status updates. */
  function drawLayout(layout, group, refs) {
    layout.edges.forEach(function (e) {
      var g = s('g', { 'class': 'edge ' + e.kind, 'data-from': e.from, 'data-to': e.to });
      var path = s('path', { d: e.d, 'marker-end': 'url(#sw-arrow-light)' });
      g.appendChild(path);
      if (e.label) {
        var text = cut(e.label, 28);
        var w = labelWidth(text);
        var x = e.anchor === 'middle' ? e.lx - w / 2 : e.lx;
        g.appendChild(s('rect', { 'class': 'label-bg', x: x, y: e.ly - 8, width: w, height: 15, rx: 3 }));
        g.appendChild(s('text', { x: x + w / 2, y: e.ly + 3.5, 'text-anchor': 'middle', text: text }, [s('title', { text: e.label })]));
      }
      group.appendChild(g);
      refs.edges.push({ g: g, path: path, from: e.from, to: e.to, kind: e.kind });
    });
    layout.names.forEach(function (n) {
      var node = layout.nodes[n];
      var st = node.state;
      var x = node.x - node.w / 2, y = node.y;
      var type = typeof st.type === 'string' ? st.type : 'state';
      var g = s('g', {
        'class': 'node st-not-reached' + (node.branches ? ' container' : ''),
        'data-state': n, 'data-type': type, 'data-status': 'not-reached', tabindex: 0, role: 'button'
      });
      var title = s('title', { text: n });
      g.appendChild(title);
      var rx = type === 'choice' ? 16 : (type === 'succeed' || type === 'fail') ? 25 : 7;
      if (node.branches) rx = 9;
      g.appendChild(s('rect', { 'class': 'box', x: x, y: y, width: node.w, height: node.h, rx: Math.min(rx, node.h / 2) }));
      var kindLabel = kindText(st);
      var maxChars = Math.floor((node.w - kindLabel.length * 6.6 - 34) / 7.8);
      g.appendChild(s('text', { 'class': 'name', x: x + 12, y: y + 20, text: cut(n, Math.max(6, maxChars)) }));
      g.appendChild(s('text', { 'class': 'kind', x: x + node.w - 10, y: y + 15, 'text-anchor': 'end', text: kindLabel }));
      var detail = s('text', { 'class': 'detail', x: x + 12, y: y + 38, text: 'not reached' });
      g.appendChild(detail);
      if (node.branches) {
        var inner = s('g', { transform: 'translate(' + x + ' ' + y + ')' });
        node.branches.forEach(function (b, i) {
          if (i > 0) {
            var sepX = b.offsetX - G.branchGap / 2;
            inner.appendChild(s('line', { 'class': 'branch-sep', x1: sepX, y1: G.header - 4, x2: sepX, y2: node.h - 6 }));
          }
          var bg = s('g', { transform: 'translate(' + b.offsetX + ' ' + b.offsetY + ')' });
          drawLayout(b, bg, refs);
          inner.appendChild(bg);
        });
        g.appendChild(inner);
      }
      g.addEventListener('click', function (ev) { ev.stopPropagation(); if (refs.onSelect) refs.onSelect(n); });
      g.addEventListener('keydown', function (ev) {
        if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); ev.stopPropagation(); if (refs.onSelect) refs.onSelect(n); }
      });
      group.appendChild(g);
      refs.nodes[n] = { g: g, title: title, detail: detail, state: st, width: node.w };
    });
  }

  function buildGraph(container, desc, onSelect) {
    clear(container);
    var states = Array.isArray(desc.states) ? desc.states : [];
    var layout = layoutStates(states, desc.startAt);
    var m = 16;
    var w = Math.ceil(layout.width + 2 * m), hgt = Math.ceil(layout.height + 2 * m);
    var svg = s('svg', {
      xmlns: SVGNS, width: w, height: hgt, viewBox: '0 0 ' + w + ' ' + hgt, role: 'img',
      'aria-label': 'State graph of workflow ' + String(desc.name)
    });
    var defs = s('defs');
    [['sw-arrow', 'arrow'], ['sw-arrow-light', 'arrow light']].forEach(function (a) {
      defs.appendChild(s('marker', {
        id: a[0], viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse'
      }, [s('path', { 'class': a[1], d: 'M0 0 L10 5 L0 10 z' })]));
    });
    svg.appendChild(defs);
    var root = s('g', { transform: 'translate(' + m + ' ' + m + ')' });
    svg.appendChild(root);
    var refs = { nodes: {}, edges: [], onSelect: onSelect };
    drawLayout(layout, root, refs);
    container.appendChild(svg);
    return refs;
  }

  // ---------------------------------------------------------------- statuses from history

  function allStates(states, out) {
    (states || []).forEach(function (st) {
      if (!st || typeof st.name !== 'string') return;
      out.push(st);
      if (Array.isArray(st.branches)) st.branches.forEach(function (b) { allStates(Array.isArray(b) ? b : [], out); });
    });
    return out;
  }

  function stepInfo(events) {
    var info = {};
    var compFor = {};
    function I(n) { return info[n] || (info[n] = { attempts: 0, events: 0 }); }
    events.forEach(function (ev) {
      var ts = toMs(ev.timestamp);
      var d = (ev.data && typeof ev.data === 'object') ? ev.data : {};
      var n = typeof ev.step === 'string' ? ev.step : null;
      var x = n ? I(n) : null;
      var target;
      switch (ev.type) {
        case 'StateEntered':
          if (x) { x.entered = true; x.events++; }
          break;
        case 'StepStarted':
          if (x) {
            x.events++; x.open = true; x.outcome = null; x.retryPending = false; x.startedAt = ts;
            x.attempts = Math.max(x.attempts + (ev.attempt ? 0 : 1), ev.attempt || 0);
          }
          break;
        case 'StepSucceeded':
          if (x) { x.events++; x.open = false; x.outcome = 'ok'; x.retryPending = false; x.duration = (ts !== null && x.startedAt !== undefined) ? ts - x.startedAt : null; }
          break;
        case 'StepFailed':
          if (x) { x.events++; x.open = false; x.outcome = 'fail'; x.error = d.error; x.duration = (ts !== null && x.startedAt !== undefined) ? ts - x.startedAt : null; }
          break;
        case 'RetryScheduled':
          if (x) { x.events++; x.retryPending = true; x.dueAt = toMs(d.dueAt); }
          break;
        case 'TimerStarted':
          if (x) { x.events++; x.timer = 'started'; x.dueAt = toMs(d.dueAt); x.startedAt = ts; }
          break;
        case 'TimerFired':
          if (x) { x.events++; x.timer = 'fired'; x.duration = (ts !== null && x.startedAt !== undefined) ? ts - x.startedAt : null; }
          break;
        case 'CompensationStarted':
        case 'CompensationSucceeded':
        case 'CompensationFailed':
          target = typeof d['for'] === 'string' ? d['for'] : (n ? compFor[n] : undefined);
          if (n && target) compFor[n] = target;
          if (target) {
            var y = I(target);
            y.compName = n || y.compName;
            y.comp = ev.type === 'CompensationStarted' ? 'started' : ev.type === 'CompensationSucceeded' ? 'done' : 'failed';
            if (ev.type === 'CompensationFailed') y.compError = d.error;
          }
          break;
        default:
          if (x) x.events++;
      }
    });
    return info;
  }

  function computeStatuses(desc, events, execStatus) {
    var info = stepInfo(events);
    var terminal = !!TERMINAL[execStatus];
    var endStatus = execStatus === 'CANCELLED' ? 'cancelled' : execStatus === 'SUCCEEDED' ? 'succeeded' : 'failed';
    // A step still open when the execution ended was cut short (a sibling branch failed, or a cancel).
    var cutShort = 'cancelled';
    var byName = {};
    allStates(desc.states, []).forEach(function (st) { byName[st.name] = st; });
    function touched(st) {
      if (info[st.name]) return true;
      return Array.isArray(st.branches) && st.branches.some(function (b) {
        return (Array.isArray(b) ? b : []).some(function (c) { return c && touched(c); });
      });
    }
    function nextReached(st) {
      var ok = false;
      successors(st).forEach(function (e) { if (e.kind !== 'catch' && byName[e.to] && touched(byName[e.to])) ok = true; });
      return ok;
    }
    var out = {};
    function resolve(st) {
      if (out[st.name]) return out[st.name];
      var x = info[st.name] || { attempts: 0 };
      var status;
      if (Array.isArray(st.branches) && st.branches.length) {
        var kids = [];
        st.branches.forEach(function (b) { (Array.isArray(b) ? b : []).forEach(function (c) { if (c && typeof c.name === 'string') kids.push(resolve(c)); }); });
        if (!touched(st)) status = 'not-reached';
        else if (kids.indexOf('running') >= 0) status = 'running';
        else if (kids.indexOf('failed') >= 0) status = 'failed';
        else if (nextReached(st) || execStatus === 'SUCCEEDED') status = 'succeeded';
        else if (!terminal) status = 'running';
        else status = endStatus;
      } else if (x.comp === 'done') status = 'compensated';
      else if (x.comp === 'failed') status = 'failed';
      else if (x.comp === 'started') status = terminal ? 'failed' : 'running';
      else if (x.open) status = terminal ? cutShort : 'running';
      else if (x.outcome === 'fail' && x.error && x.error.code === 'Stepwise.Cancelled') status = 'cancelled';
      else if (x.outcome === 'fail') status = x.retryPending && !terminal ? 'running' : 'failed';
      else if (x.outcome === 'ok') status = 'succeeded';
      else if (x.timer === 'started') status = terminal ? cutShort : 'running';
      else if (x.timer === 'fired') status = 'succeeded';
      else if (x.retryPending) status = terminal ? cutShort : 'running';
      else if (x.entered) {
        if (st.type === 'fail') status = 'failed';
        else if (st.type === 'task' || st.type === 'map') status = (nextReached(st) || execStatus === 'SUCCEEDED') ? 'succeeded' : terminal ? cutShort : 'running';
        else status = 'succeeded';
      } else status = 'not-reached';
      out[st.name] = status;
      return status;
    }
    Object.keys(byName).forEach(function (n) { resolve(byName[n]); });
    return { statuses: out, info: info };
  }

  function nodeDetail(st, status, x) {
    x = x || { attempts: 0 };
    var isStep = st.type === 'task' || x.attempts > 0;
    var parts;
    switch (status) {
      case 'succeeded':
        parts = ['succeeded'];
        if ((isStep || x.timer) && x.duration !== undefined && x.duration !== null) parts.push(fmtDuration(x.duration));
        if (x.attempts > 1) parts.push(x.attempts + ' attempts');
        return parts.join(' · ');
      case 'running':
        if (x.comp === 'started') return 'compensating' + (x.compName ? ' (' + x.compName + ')' : '');
        if (x.retryPending) return 'retrying · attempt ' + (x.attempts + 1) + ' next';
        if (x.timer === 'started') return 'waiting' + (x.dueAt ? ' until ' + fmtClock(x.dueAt).slice(0, 8) : '');
        return 'running' + (x.attempts > 1 ? ' · attempt ' + x.attempts : '');
      case 'failed':
        if (x.comp === 'failed') return 'compensation failed';
        if (x.error && typeof x.error === 'object' && typeof x.error.code === 'string') return 'failed · ' + x.error.code;
        return 'failed';
      case 'compensated':
        return 'compensated' + (x.compName ? ' by ' + x.compName : '');
      case 'cancelled':
        return x.open || x.timer === 'started' || x.retryPending || x.attempts > 0 ? 'cancelled · interrupted' : 'cancelled';
      default:
        return st.compensation ? 'not reached · undo: ' + st.compensation : 'not reached';
    }
  }

  function applyStatuses(refs, result) {
    Object.keys(refs.nodes).forEach(function (n) {
      var r = refs.nodes[n];
      var status = result.statuses[n] || 'not-reached';
      var x = result.info[n];
      var isContainer = r.g.getAttribute('class').indexOf('container') >= 0;
      var selected = refs.selected === n;
      r.g.setAttribute('class', 'node st-' + status + (isContainer ? ' container' : '') + (selected ? ' selected' : ''));
      r.g.setAttribute('data-status', status);
      var detail = nodeDetail(r.state, status, x);
      r.detail.textContent = cut(detail, Math.max(10, Math.floor((r.width - 20) / 5.8)));
      var tip = n + ' (' + r.state.type + ')\n' + STATUS_LABELS[status] + ': ' + detail;
      if (r.state.compensation) tip += '\ncompensation: ' + r.state.compensation;
      if (x && x.error) tip += '\nlast error: ' + errorText(x.error);
      r.title.textContent = tip;
    });
    refs.edges.forEach(function (e) {
      var a = result.statuses[e.from] || 'not-reached', b = result.statuses[e.to] || 'not-reached';
      var taken = a !== 'not-reached' && b !== 'not-reached' && (e.kind !== 'catch' || a === 'failed' || a === 'compensated');
      e.g.setAttribute('class', 'edge ' + e.kind + (taken ? ' taken' : ''));
      e.path.setAttribute('marker-end', taken ? 'url(#sw-arrow)' : 'url(#sw-arrow-light)');
    });
  }

  function legend(container) {
    clear(container);
    ['succeeded', 'running', 'failed', 'compensated', 'cancelled', 'not-reached'].forEach(function (k) {
      container.appendChild(h('span', { 'data-legend': k }, [h('i', { 'class': 'st-' + k }), STATUS_LABELS[k]]));
    });
    container.appendChild(h('span', { text: '· click a state to filter the timeline' }));
  }

  // ---------------------------------------------------------------- execution page

  function executionPage() {
    var m = /^\/executions\/([^\/]+)\/?$/.exec(location.pathname);
    var id = m ? decodeURIComponent(m[1]) : '';
    var base = '/v1/executions/' + enc(id);
    var S = {
      exec: null, desc: null, descTried: false, refs: null,
      events: [], seen: {}, maxSeq: 0, cursor: null, rendered: 0,
      cursorGuessed: false, restartEachPoll: false, sawEnd: false, lastIoKey: '', extraPolls: 0, rows: [], filter: null,
      starts: {}, timerStarts: {}, compStarts: {}, execStart: null
    };
    $('exec-id').textContent = id || 'Execution';
    legend($('legend'));

    function select(n) {
      S.filter = S.filter === n ? null : n;
      if (S.refs) { S.refs.selected = S.filter; }
      applyFilter();
      renderGraph();
    }

    function applyFilter() {
      var note = $('timeline-filter');
      clear(note);
      if (S.filter) {
        note.appendChild(document.createTextNode('showing events of ' + S.filter + ' '));
        var b = h('button', { type: 'button', 'class': 'expander', text: 'show all' });
        b.addEventListener('click', function () { select(S.filter); });
        note.appendChild(b);
      }
      S.rows.forEach(function (r) {
        var show = !S.filter || r.steps.indexOf(S.filter) >= 0;
        r.tr.className = show ? '' : 'hidden';
      });
    }

    function renderHeader() {
      var x = S.exec;
      var status = typeof x.status === 'string' ? x.status : 'UNKNOWN';
      document.title = id + ' · ' + status + ' · Stepwise';
      var started = toMs(x.startedAt), ended = toMs(x.endedAt);
      var sub = $('exec-sub');
      clear(sub);
      sub.appendChild(h('span', { id: 'exec-status', 'class': 'badge s-' + status.replace(/[^A-Z]/g, ''), 'data-status': status, text: status }));
      sub.appendChild(document.createTextNode('  workflow '));
      sub.appendChild(h('strong', { text: String(x.workflow) }));
      if (x.version !== undefined) {
        sub.appendChild(document.createTextNode(' · version '));
        sub.appendChild(h('span', { 'class': 'version', title: String(x.version), text: fmtVersion(x.version) }));
      }
      if (S.desc && S.desc.version !== undefined && x.version !== undefined && S.desc.version !== x.version) {
        sub.appendChild(h('span', { 'class': 'version-warn', text: ' · the graph shows the registered version ' + fmtVersion(S.desc.version) + ', not the one this execution ran' }));
      }
      var meta = $('exec-meta');
      clear(meta);
      var now = Date.now();
      var dur = started === null ? null : (ended !== null ? ended : (TERMINAL[status] ? null : now)) - started;
      [
        ['Started', fmtDateTime(started)],
        ['Ended', ended !== null ? fmtDateTime(ended) : (TERMINAL[status] ? '—' : 'still running')],
        ['Duration', started === null || dur === null || isNaN(dur) ? '—' : fmtDuration(dur) + (ended === null && !TERMINAL[status] ? ' …' : '')],
        ['Events', String(S.events.length)]
      ].forEach(function (kv) { meta.appendChild(h('div', {}, [h('dt', { text: kv[0] }), h('dd', { text: kv[1] })])); });

      var ioKey = status + '|' + (x.output !== undefined) + '|' + (x.error !== undefined);
      if (ioKey !== S.lastIoKey) {
        S.lastIoKey = ioKey;
        var io = $('exec-io');
        clear(io);
        io.appendChild(h('section', { id: 'exec-input' }, [h('h3', { text: 'Input' }), jsonBlock(x.input === undefined ? null : x.input)]));
        if (x.output !== undefined) io.appendChild(h('section', { id: 'exec-output' }, [h('h3', { text: 'Output' }), jsonBlock(x.output)]));
        if (x.error !== undefined && x.error !== null) {
          io.appendChild(h('section', { id: 'exec-error' }, [h('h3', { text: 'Error' }), h('div', { 'class': 'error-text', text: errorText(x.error) })]));
        }
      }
    }

    function renderGraph() {
      if (!S.refs || !S.desc || !S.exec) return;
      applyStatuses(S.refs, computeStatuses(S.desc, S.events, S.exec.status));
    }

    function kv(k, v) { return h('div', { 'class': 'kv' }, [h('span', { 'class': 'k', text: k }), typeof v === 'string' ? document.createTextNode(v) : v]); }

    function details(ev, ts) {
      var d = ev.data && typeof ev.data === 'object' ? ev.data : null;
      var cell = h('td', { 'class': 'details' });
      if (!d) return cell;
      Object.keys(d).forEach(function (k) {
        var v = d[k];
        // The step key repeats the step (or, for compensations, the step undone): skip the echo.
        if (k === 'key' && (v === ev.step || v === d['for'])) return;
        if (k === 'error' && v && typeof v === 'object') cell.appendChild(kv('error', h('span', { 'class': 'error-text', text: errorText(v) })));
        else if (k === 'dueAt') {
          var due = toMs(v);
          cell.appendChild(kv('due', due === null ? String(v) : fmtClock(due) + (ts !== null ? ' (+' + fmtDuration(due - ts) + ')' : '')));
        } else if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
          var t = v === null ? 'null' : typeof v === 'string' ? v : String(v);
          if (t.length > PREVIEW_CHARS) cell.appendChild(h('div', { 'class': 'kv' }, [h('span', { 'class': 'k', text: k }), jsonBlock(v)]));
          else cell.appendChild(kv(k, t));
        } else {
          cell.appendChild(h('div', { 'class': 'kv' }, [h('span', { 'class': 'k', text: k }), jsonBlock(v)]));
        }
      });
      return cell;
    }

    function durationOf(ev, ts) {
      var key = (ev.step || '') + '#' + (ev.attempt || '');
      switch (ev.type) {
        case 'ExecutionStarted': S.execStart = ts; return null;
        case 'StepStarted': S.starts[key] = ts; S.starts[(ev.step || '') + '#last'] = ts; return null;
        case 'StepSucceeded':
        case 'StepFailed': {
          var st = S.starts[key] !== undefined ? S.starts[key] : S.starts[(ev.step || '') + '#last'];
          return st !== undefined && ts !== null ? ts - st : null;
        }
        case 'TimerStarted': S.timerStarts[ev.step || ''] = ts; return null;
        case 'TimerFired': return S.timerStarts[ev.step || ''] !== undefined && ts !== null ? ts - S.timerStarts[ev.step || ''] : null;
        case 'CompensationStarted': S.compStarts[ev.step || ''] = ts; return null;
        case 'CompensationSucceeded':
        case 'CompensationFailed': return S.compStarts[ev.step || ''] !== undefined && ts !== null ? ts - S.compStarts[ev.step || ''] : null;
        case 'ExecutionSucceeded':
        case 'ExecutionFailed':
        case 'ExecutionCancelled': {
          var s0 = S.execStart !== null ? S.execStart : toMs(S.exec && S.exec.startedAt);
          return s0 !== null && ts !== null ? ts - s0 : null;
        }
        default: return null;
      }
    }

    function renderTimeline() {
      var tbody = document.querySelector('#timeline tbody');
      var origin = S.exec ? toMs(S.exec.startedAt) : null;
      while (S.rendered < S.events.length) {
        var ev = S.events[S.rendered++];
        var ts = toMs(ev.timestamp);
        var dur = durationOf(ev, ts);
        if (S.rendered > MAX_ROWS) continue;
        if (origin === null && ev.type === 'ExecutionStarted') origin = ts;
        var type = typeof ev.type === 'string' ? ev.type : 'Unknown';
        var stepCell = h('td', { 'class': 'step' });
        if (typeof ev.step === 'string') stepCell.appendChild(document.createTextNode(ev.step));
        if (typeof ev.attempt === 'number') stepCell.appendChild(h('span', { 'class': 'attempt', text: 'attempt ' + ev.attempt }));
        var tr = h('tr', { 'data-seq': ev.seq, 'data-type': type, 'data-step': typeof ev.step === 'string' ? ev.step : null }, [
          h('td', { 'class': 'num', text: String(ev.seq) }),
          h('td', { 'class': 'when' }, [
            document.createTextNode(fmtClock(ts)),
            h('span', { 'class': 'offset', text: origin !== null && ts !== null ? '+' + fmtDuration(ts - origin) : '' })
          ]),
          h('td', { 'class': 'type ' + (EVENT_CLASS[type] || ''), text: type }),
          stepCell,
          h('td', { 'class': 'num', text: dur === null ? '' : fmtDuration(dur) }),
          details(ev, ts)
        ]);
        var steps = [];
        if (typeof ev.step === 'string') steps.push(ev.step);
        if (ev.data && typeof ev.data['for'] === 'string') steps.push(ev.data['for']);
        S.rows.push({ tr: tr, steps: steps });
        if (S.filter && steps.indexOf(S.filter) < 0) tr.className = 'hidden';
        tbody.appendChild(tr);
      }
      var empty = $('timeline-empty');
      if (S.events.length > MAX_ROWS) {
        empty.className = 'empty';
        empty.textContent = 'Showing the first ' + MAX_ROWS + ' of ' + S.events.length + ' events.';
      } else if (S.events.length) {
        empty.className = 'empty hidden';
      } else {
        empty.className = 'empty';
        empty.textContent = 'No events yet.';
      }
    }

    function addEvents(list) {
      var added = false;
      (Array.isArray(list) ? list : []).forEach(function (ev) {
        if (!ev || typeof ev.seq !== 'number' || S.seen[ev.seq]) return;
        S.seen[ev.seq] = true;
        S.events.push(ev);
        if (ev.seq > S.maxSeq) S.maxSeq = ev.seq;
        if (TERMINAL_EVENTS[ev.type]) S.sawEnd = true;
        added = true;
      });
      if (added) S.events.sort(function (a, b) { return a.seq - b.seq; });
      return added;
    }

    function fetchHistory(pages) {
      var q = base + '/history?limit=1000' + (S.cursor ? '&after=' + enc(S.cursor) : '');
      var guessed = S.cursorGuessed;
      return api(q).then(function (body) {
        var list = (body && (body.events || body.items)) || (Array.isArray(body) ? body : []);
        addEvents(list);
        var next = body && typeof body.nextCursor === 'string' && body.nextCursor ? body.nextCursor : null;
        S.cursorGuessed = false;
        if (next && list.length > 0) {
          S.cursor = next;
          if (pages < 100) return fetchHistory(pages + 1);
        } else if (!next) {
          if (S.restartEachPoll) S.cursor = null;
          else if (S.maxSeq > 0) {
            // The last page has no cursor; continue after the newest event next time (history
            // cursors are sequence numbers). If the server refuses that, re-read from the start.
            S.cursor = String(S.maxSeq);
            S.cursorGuessed = true;
          }
        }
      }, function (e) {
        if (guessed && e.status === 400 && !S.restartEachPoll) {
          S.restartEachPoll = true;
          S.cursor = null;
          S.cursorGuessed = false;
          return fetchHistory(pages + 1);
        }
        throw e;
      });
    }

    function loadDescription() {
      if (S.descTried || !S.exec) return Promise.resolve();
      S.descTried = true;
      return api('/v1/workflows/' + enc(S.exec.workflow)).then(function (body) {
        S.desc = body && body.workflow && body.workflow.states ? body.workflow : body;
        if (!S.desc || !Array.isArray(S.desc.states)) throw new Error('the description has no states');
        S.refs = buildGraph($('graph'), S.desc, select);
      }).catch(function (e) {
        if (isUnauthorized(e)) throw e;
        S.desc = null;
        var g = $('graph');
        clear(g);
        g.appendChild(h('div', { 'class': 'empty', text: 'The graph of workflow ' + S.exec.workflow + ' is not available: ' + e.message }));
      });
    }

    function poll() {
      api(base).then(function (body) {
        S.exec = body && body.execution && body.execution.id ? body.execution : body;
        return loadDescription();
      }).then(function () {
        return fetchHistory(0);
      }).then(function () {
        renderHeader();
        renderTimeline();
        renderGraph();
        banner(null);
        var done = TERMINAL[S.exec.status] && (S.sawEnd || ++S.extraPolls > 3);
        if (done) {
          live('', 'final · ' + String(S.exec.status).toLowerCase());
          return;
        }
        live('on', 'live · updated ' + fmtClock(Date.now()).slice(0, 8));
        setTimeout(poll, POLL_MS);
      }).catch(function (e) {
        if (isUnauthorized(e)) { askForToken(tokenMessage()); return; }
        if (e.status === 404 && !S.exec) {
          banner('error', 'No execution has the id ' + id + '.');
          live('error', 'not found');
          $('timeline-empty').textContent = 'Nothing to show.';
          return;
        }
        if (e.status === 400 && !S.exec) {
          banner('error', 'Cannot load execution ' + id + ': ' + e.message);
          live('error', 'error');
          return;
        }
        banner('error', 'Could not update: ' + e.message + ' (retrying)');
        live('error', 'offline · retrying');
        setTimeout(poll, POLL_MS * 2);
      });
    }
    poll();
  }

  // ---------------------------------------------------------------- start

  function start() {
    var page = document.body.getAttribute('data-page');
    if (page === 'list') listPage();
    else if (page === 'execution') executionPage();
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
`;
