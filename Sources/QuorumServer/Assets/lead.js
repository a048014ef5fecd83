// Quorum lead page: round progress, who holds what, and the report's charts.
// Server data reaches the page through textContent / createElement(NS) only.
'use strict';
(() => {
  const { TOKEN_KEY, $, el } = window.Quorum;
  const SVG = 'http://www.w3.org/2000/svg';
  const LEAD_EVERY = 3000, REPORT_EVERY = 30000;
  const svg = (tag, attrs, text) => {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = String(text);
    return e;
  };
  const fmt = (x, digits) => (x === null || x === undefined ? '—' : Number(x).toFixed(digits));

  let timers = [];
  let pending = 0;
  let lastReport = 0;

  const api = window.Quorum.client({
    busy: (delta) => { pending += delta; document.body.dataset.pending = String(pending); },
  });

  function say(text, kind) { $('message').textContent = text || ''; $('message').dataset.kind = kind || 'info'; }

  // ---- login ------------------------------------------------------------------

  async function login(token) {
    sessionStorage.setItem(TOKEN_KEY, token);
    let me;
    try {
      me = await api('GET', 'me');
    } catch (e) {
      sessionStorage.removeItem(TOKEN_KEY);
      say(e.status === 401 ? 'That token was not accepted (401). Check it and try again.' : 'Could not log in: ' + e.message + '.', 'error');
      return;
    }
    if (me.role !== 'lead') {
      sessionStorage.removeItem(TOKEN_KEY);
      say(me.annotator + ' is ' + me.role + ': this page needs a lead token. The labelling page is at /.', 'error');
      return;
    }
    $('login-view').hidden = true;
    $('lead-view').hidden = false;
    $('logout').hidden = false;
    $('who').textContent = me.annotator + ' (lead)';
    document.body.dataset.state = 'lead';
    say('');
    refresh(true);
    timers.push(setInterval(() => refresh(false), LEAD_EVERY));
  }

  function logout(text) {
    timers.forEach(clearInterval); timers = [];
    sessionStorage.removeItem(TOKEN_KEY);
    $('lead-view').hidden = true;
    $('logout').hidden = true;
    $('who').textContent = '';
    $('login-view').hidden = false;
    $('token').value = '';
    document.body.dataset.state = 'login';
    say(text || 'Logged out.');
    $('token').focus();
  }

  // ---- refresh ------------------------------------------------------------------

  async function refresh(withReport) {
    try {
      showLead(await api('GET', 'lead'));
      if (withReport || Date.now() - lastReport > REPORT_EVERY) {
        lastReport = Date.now();
        showReport(await api('GET', 'report'));
      }
      $('updated').textContent = 'Updated ' + new Date().toLocaleTimeString() + ' · refreshes every ' + LEAD_EVERY / 1000 + ' s';
      if ($('message').dataset.kind === 'error') say('');
    } catch (e) {
      if (e.status === 401) logout('Your token is no longer accepted (401): log in again.');
      else say('Refresh failed: ' + e.message + '. Retrying.', 'error');
    }
  }

  function showLead(d) {
    $('round-number').textContent = d.round === null || d.round === undefined ? '— (no open round)' : d.round;
    const p = d.progress || {};
    const stats = $('round-progress');
    stats.replaceChildren();
    for (const [k, v] of [['tasks', p.tasks], ['complete', p.complete], ['answers done', p.done], ['answers left', p.left]]) {
      const div = el('div');
      div.append(el('dt', k), el('dd', v === undefined || v === null ? '—' : v));
      stats.append(div);
    }
    const total = (p.done || 0) + (p.left || 0);
    $('round-bar').style.width = (total ? Math.round(100 * (p.done || 0) / total) : 0) + '%';
    const body = $('annotators').tBodies[0];
    body.replaceChildren();
    for (const a of d.annotators || []) {
      const tr = el('tr');
      tr.append(el('td', a.annotator), el('td', a.answered, 'num'), el('td', a.skipped, 'num'),
        el('td', a.flagged, 'num'), el('td', (a.holding || []).join(', ') || '—', 'holding'));
      body.append(tr);
    }
    if (!body.rows.length) {
      const td = el('td', 'Nobody has answered or claimed anything in this round yet.');
      td.colSpan = 5;
      body.append(el('tr')).append(td);
    }
    const queue = $('incidents').tBodies[0];
    queue.replaceChildren();
    for (const i of d.incidents || []) {
      const tr = el('tr');
      const answers = (i.answers || []).map((a) => a.annotator + ': ' + (a.label === null || a.label === undefined ? '(none)' : a.label)).join(', ');
      tr.append(el('td', i.id), el('td', i.escalated_by), el('td', i.reason), el('td', answers || '—'), el('td', i.at));
      queue.append(tr);
    }
    if (!queue.rows.length) {
      const td = el('td', 'Nothing escalated.');
      td.colSpan = 5;
      queue.append(el('tr')).append(td);
    }
  }

  function showReport(r) {
    const rows = (r.baseline ? [r.baseline] : []).concat(r.rounds || []);
    const body = $('report-table').tBodies[0];
    body.replaceChildren();
    for (const x of rows) {
      const tr = el('tr');
      const alpha = x.agreement ? x.agreement.krippendorff_alpha : null;
      tr.append(el('td', x.round === 0 ? '0 (seed)' : x.round), el('td', x.labelled, 'num'), el('td', fmt(x.test_accuracy, 3), 'num'),
        el('td', fmt(x.macro_f1, 3), 'num'), el('td', fmt(x.ece, 3), 'num'), el('td', fmt(alpha, 3), 'num'));
      body.append(tr);
    }
    const points = rows.map((x) => ({ round: x.round, accuracy: x.test_accuracy, labelled: x.labelled }));
    W = Math.max(260, Math.min(720, $('chart-accuracy').clientWidth || 480));
    $('chart-accuracy').replaceChildren(lineChart(points, 'accuracy', 'test accuracy'));
    $('chart-labelled').replaceChildren(barChart(points, 'labelled', 'labelled items'));
  }

  // ---- charts (inline SVG) ----------------------------------------------------------

  // The chart's width follows its box (set before drawing), so its text stays at 11 px at any width.
  let W = 480;
  const H = 220, L = 44, R = 12, T = 12, B = 30;   // height and margins

  function frame(title, xs, max, ticks, fmtTick) {
    const s = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': title });
    s.append(svg('title', {}, title));
    const y = (v) => T + (H - T - B) * (1 - v / max);
    for (const t of ticks) {
      s.append(svg('line', { x1: L, x2: W - R, y1: y(t), y2: y(t), class: 'axis' }));
      s.append(svg('text', { x: L - 6, y: y(t) + 4, 'text-anchor': 'end' }, fmtTick(t)));
    }
    const step = (W - L - R) / Math.max(1, xs.length);
    const x = (i) => L + step * (i + 0.5);
    xs.forEach((r, i) => s.append(svg('text', { x: x(i), y: H - 10, 'text-anchor': 'middle' }, r)));
    s.append(svg('text', { x: L - 6, y: H - 10, 'text-anchor': 'end' }, 'round'));
    return { s, x, y, step };
  }

  function empty(text) { return el('p', text, 'muted'); }

  // A line over rounds; a null value breaks the line (a dashed segment bridges the gap).
  function lineChart(points, key, title) {
    if (!points.some((p) => p[key] !== null && p[key] !== undefined)) return empty('No ' + title + ' yet.');
    const { s, x, y } = frame(title + ' by round', points.map((p) => p.round), 1, [0, 0.25, 0.5, 0.75, 1], (t) => t.toFixed(2));
    let path = '', bridge = '', prev = null, broken = false;
    points.forEach((p, i) => {
      const v = p[key];
      if (v === null || v === undefined) { broken = prev !== null; return; }
      const pt = `${x(i).toFixed(1)},${y(v).toFixed(1)}`;
      if (broken) bridge += `M${prev}L${pt}`;
      path += (prev === null || broken ? 'M' : 'L') + pt;
      prev = pt; broken = false;
      const dot = svg('circle', { cx: x(i), cy: y(v), r: 3.5, class: 'dot-1' });
      dot.append(svg('title', {}, `round ${p.round}: ${v.toFixed(3)}`));
      s.append(dot);
    });
    if (bridge) s.append(svg('path', { d: bridge, class: 'gap' }));
    s.prepend(svg('path', { d: path, class: 'line-1' }));
    return s;
  }

  function barChart(points, key, title) {
    const max = Math.max(0, ...points.map((p) => p[key] || 0));
    if (!max) return empty('No ' + title + ' yet.');
    const top = niceMax(max);
    const { s, x, y, step } = frame(title + ' by round', points.map((p) => p.round), top,
      [0, top / 4, top / 2, 3 * top / 4, top], (t) => String(Math.round(t)));
    const w = Math.min(40, step * 0.6);
    points.forEach((p, i) => {
      const v = p[key];
      if (v === null || v === undefined) return;
      const bar = svg('rect', { x: x(i) - w / 2, y: y(v), width: w, height: Math.max(0, y(0) - y(v)), class: 'bar-2' });
      bar.append(svg('title', {}, `round ${p.round}: ${v}`));
      s.append(bar);
    });
    return s;
  }

  function niceMax(v) {
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 4, 5, 10]) if (m * p >= v) return m * p;
    return 10 * p;
  }

  // ---- wiring ------------------------------------------------------------------------

  document.addEventListener('DOMContentLoaded', () => {
    $('login-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const token = $('token').value.trim();
      if (token) login(token);
    });
    $('logout').addEventListener('click', () => logout());
    const saved = sessionStorage.getItem(TOKEN_KEY);
    if (saved) login(saved); else $('token').focus();
  });
})();
