// Quorum labelling page: the terminal loop's keys in a browser.
//
// Safety: everything the server sends (item text, ids, labels, metadata, notes,
// details) reaches the page through textContent / createElement only, never
// innerHTML, so a hostile item text is shown as text.
//
// Flow: the page shows task A and at once claims the next one (GET next?after=A,
// the "prefetch"). A key that answers A shows that next task immediately, then
// POSTs the answer for A, then prefetches again. Actions run one at a time
// (a promise chain), so fast typing cannot overtake a POST.
'use strict';
(() => {
  const { TOKEN_KEY, $, el } = window.Quorum;
  const pct = (x) => Math.round(x * 100) + '%';

  // Endpoints per mode: labelling, or (adjudicators and leads) ruling on disputes.
  const MODES = {
    label: { next: 'next', answer: 'answers', undo: 'undo' },
    disputes: { next: 'disputes/next', answer: 'rulings', undo: 'rulings/undo' },
  };

  let me = null;          // GET /api/v1/me
  let mode = 'label';
  let current = null;     // the task on screen, or null
  let renderedID = null; // the task whose chosen labels are on screen (multi-label)
  let shownAt = 0;        // performance.now() when it was shown
  let prefetch = null;    // Promise of the response for next?after=current (null: none)
  let history = [];       // {task, body} answered on this page, latest last (undo shows the task again)
  let progress = null;    // the latest progress from the server (adjusted locally in between)
  let note = '';          // note for the next answer
  let detailsOpen = false;
  let chain = Promise.resolve();
  let pending = 0;        // requests in flight plus queued actions: body[data-pending], 0 when settled (for tests)
  let pollTimer = 0;
  let epoch = 0;          // bumped on log out / mode switch: late responses of the old session are dropped

  // ---- server ----------------------------------------------------------

  // A token revoked or rotated mid-session: back to the login form.
  const api = window.Quorum.client({
    busy: (delta) => { pending += delta; syncState(); },
    unauthorized: (path) => {
      if (me && path !== 'me') setTimeout(() => logout('Your token is no longer accepted (401): log in again.'), 0);
    },
  });

  const nextPath = (after) => MODES[mode].next + (after ? '?after=' + encodeURIComponent(after) : '');

  // ---- messages and state ---------------------------------------------

  function say(text, kind) {
    const m = $('message');
    m.textContent = text || '';
    m.dataset.kind = kind || 'info';
  }
  const fail = (text) => say(text, 'error');

  function syncState() {
    document.body.dataset.pending = String(pending);
    document.body.dataset.state = !me ? 'login' : current ? 'task' : 'empty';
    document.body.dataset.mode = mode;
  }

  // ---- login -----------------------------------------------------------

  async function login(token) {
    sessionStorage.setItem(TOKEN_KEY, token);
    try {
      me = await api('GET', 'me');
    } catch (e) {
      sessionStorage.removeItem(TOKEN_KEY);
      fail(e.status === 401 ? 'That token was not accepted (401). Check it and try again.'
        : 'Could not log in: ' + e.message + '.');
      $('token').select();
      return;
    }
    $('login-view').hidden = true;
    $('work-view').hidden = false;
    $('logout').hidden = false;
    const adjudicates = me.role === 'adjudicator' || me.role === 'lead';
    $('modes').hidden = !adjudicates;
    $('lead-link').hidden = me.role !== 'lead';
    $('who').textContent = me.annotator + ' (' + me.role + ')' + (me.round != null ? ' · round ' + me.round : '');
    say('');
    await switchMode('label');
  }

  // Gives back the tasks this person holds; keepalive lets it finish while the page closes.
  function release() {
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (!me || !token) return;
    fetch('/api/v1/release', { method: 'POST', keepalive: true, headers: { Authorization: 'Bearer ' + token } }).catch(() => {});
  }

  function logout(text) {
    if (!text) release();   // asked for; after a 401 the token is no good anyway
    epoch++;
    clearTimeout(pollTimer);
    sessionStorage.removeItem(TOKEN_KEY);
    me = null; current = null; prefetch = null; history = []; note = '';
    $('work-view').hidden = true;
    $('logout').hidden = true;
    $('modes').hidden = true;
    $('who').textContent = '';
    $('login-view').hidden = false;
    $('token').value = '';
    say(text || 'Logged out.');
    syncState();
    $('token').focus();
  }

  // ---- showing a task ----------------------------------------------------

  function setProgress(p) {
    if (p) progress = Object.assign({}, p);
    const box = $('progress');
    if (!progress) { box.textContent = ''; return; }
    box.textContent = mode === 'label'
      ? 'You: ' + progress.mine + ' answered · round: ' + progress.done + ' done, ' + progress.left + ' left'
      : 'Disputes: ' + progress.settled + ' settled, ' + progress.left + ' left';
  }

  // Shows a response of next / disputes/next: its task, or why there is none.
  function show(resp) {
    clearTimeout(pollTimer);
    const before = current ? current.id : null;
    current = resp && resp.task ? resp.task : null;
    if ((current ? current.id : null) !== before) $('flag-form').hidden = true;   // a reason is for the item it was typed for
    shownAt = performance.now();
    render();
    if (current) return;
    const reason = resp ? resp.reason : null;
    let text = 'Nothing left to do.';
    if (mode === 'disputes') text = 'No disputes left to rule on.';
    else if (reason === 'done') text = 'Nothing left for you in this round.';
    else if (reason === 'no_round') text = 'No open round.';
    else if (reason === 'waiting') {
      const wait = Math.max(1, Number(resp.retry_after) || 5);
      text = 'Waiting: the remaining items are held by others. Checking again in ' + wait + ' s.';
      const e = epoch;
      pollTimer = setTimeout(() => { if (e === epoch) act(load); }, wait * 1000);
    }
    $('empty').textContent = text;
  }

  // Multi-label: the labels toggled on for the task on screen (the suggestion's to begin with).
  let chosen = new Set();
  const multi = () => !!(me && me.task === 'multi-label');

  function markChosen() {
    $('labels').querySelectorAll('button').forEach((b) => {
      const on = chosen.has(b.dataset.label);
      b.setAttribute('aria-pressed', String(on));
      b.classList.toggle('chosen', on);
    });
  }

  function toggle(name) {
    if (!current) return;
    if (chosen.has(name)) chosen.delete(name); else chosen.add(name);
    markChosen();
    say((chosen.has(name) ? '+ ' : '− ') + name);
  }

  // The chosen labels in the project's order: the answer Enter submits.
  function chosenList() { return me.labels.map((l) => l.name).filter((n) => chosen.has(n)); }

  function render() {
    const t = current, labelling = mode === 'label';
    if (multi()) {
      const s = t && t.suggestion && !t.blind && labelling ? t.suggestion.labels || [] : [];
      if (!t || t.id !== renderedID) chosen = new Set(s);
      renderedID = t ? t.id : null;
    }
    $('empty').hidden = !!t;
    $('item').hidden = !t;
    $('labels').hidden = !t;
    $('item').dataset.id = t ? t.id : '';
    $('item-id').textContent = t ? t.id : '';
    for (const id of ['item-fields', 'item-text', 'item-meta', 'item-badges', 'suggestion', 'answers']) $(id).replaceChildren();
    $('suggestion').hidden = !t || !labelling;
    $('answers').hidden = !t || labelling;
    for (const id of ['skip', 'note', 'toggle-details']) $(id).hidden = !labelling;
    // An adjudicator's flag escalates the dispute to the lead.
    $('flag').firstChild.textContent = labelling ? 'Flag ' : 'Escalate ';
    $('flag-label').textContent = labelling ? 'Why flag this item for an adjudicator?' : 'Why escalate this dispute to the lead?';
    $('accept').hidden = !labelling;
    $('accept').disabled = multi() ? !t : (!t || !t.suggestion || t.blind);
    $('accept').firstChild.textContent = multi() ? 'Submit chosen labels ' : 'Accept suggestion ';
    for (const id of ['skip', 'flag', 'note', 'toggle-details']) $(id).disabled = !t;
    $('labels').querySelectorAll('button').forEach((b) => { b.disabled = !t; });
    if (!t) { renderDetails(null); syncState(); return; }

    for (const line of t.fields || []) $('item-fields').append(el('li', line));
    const hasText = t.text !== null && t.text !== undefined;
    $('item-text').textContent = hasText ? t.text : (t.content || '');
    $('item-text').classList.toggle('content', !hasText);
    if (typeof t.a === 'string') {
      // A preference item: the prompt, then responses a and b side by side (one above the other when narrow).
      const pair = el('div', null, 'pair');
      for (const side of ['a', 'b']) {
        const box = el('section', null, 'response');
        box.append(el('h3', side), el('p', t[side]));
        pair.append(box);
      }
      $('item-text').replaceChildren(el('p', t.prompt, 'prompt'), pair);
    }
    for (const [k, v] of Object.entries(t.meta || {})) {
      $('item-meta').append(el('dt', k), el('dd', typeof v === 'string' ? v : JSON.stringify(v)));
    }
    if (t.blind) $('item-badges').append(el('span', 'blind', 'badge'));

    if (labelling) {
      const s = $('suggestion');
      if (t.blind) s.append(el('span', 'Suggestion hidden (blind)', 'muted'));
      else if (!t.suggestion) s.append(el('span', 'No suggestion for this item.', 'muted'));
      else if (t.multi_label) {
        const p = t.suggestion.probabilities || {};
        const likely = (t.suggestion.labels || []).map((n) => n + ' ' + pct(p[n]));
        s.append('Suggestion: ', el('strong', likely.length ? likely.join(', ') : 'none of the labels'));
      } else {
        s.append('Suggestion: ', el('strong', t.suggestion.label), ' ', el('span', pct(t.suggestion.confidence), 'conf'));
        const alts = (t.suggestion.alternatives || []).map((a) => a.label + ' ' + pct(a.confidence));
        if (alts.length) s.append(el('span', ' · also: ' + alts.join(', '), 'muted'));
      }
    } else {
      const list = el('ul');
      for (const a of t.answers || []) {
        const li = el('li');
        const given = a.labels ? (a.labels.length ? a.labels.join(', ') : 'no labels') : a.label;
        li.append(el('strong', a.annotator), ': ', a.flagged ? el('span', 'flagged', 'badge') : (given != null ? given : 'skipped'));
        if (a.note) li.append(' — ', el('span', a.note, 'note'));
        list.append(li);
      }
      $('answers').append(el('h3', 'Answers'), list);
    }
    // A button that answered keeps the focus; move it to the item so the next keys are global.
    if (document.activeElement && document.activeElement.closest('#labels, #actions')) $('item').focus();
    if (detailsOpen && labelling) loadDetails(t.id);
    if (multi()) markChosen();
    syncState();
  }

  function buildLabels() {
    const box = $('labels');
    box.replaceChildren();
    for (const l of (me && me.labels) || []) {
      const b = el('button', null, 'label-button');
      b.type = 'button';
      b.dataset.label = l.name;
      if (l.key) b.setAttribute('aria-keyshortcuts', l.key);
      if (l.key && l.key !== l.name) b.append(el('kbd', l.key), ' ');   // labels 0-9 are their own keys
      b.append(l.name);
      b.addEventListener('click', () => { if (multi()) toggle(l.name); else act(decide(l.name)); });
      box.append(b);
    }
  }

  function buildHelp() {
    const dl = $('help-keys');
    dl.replaceChildren();
    const add = (k, what) => dl.append(el('dt', k), el('dd', what));
    for (const l of me.labels) if (l.key) add(l.key, (multi() ? 'toggle ' : mode === 'label' ? '' : 'rule ') + l.name);
    if (mode === 'disputes') {
      add('f', 'escalate to the lead (asks a reason)'); add('u', 'undo your last ruling or escalation'); add('?', 'this help');
      return;
    }
    add('Enter', multi() ? 'submit the chosen labels (none is an answer too)' : 'accept the suggestion (not on blind items)');
    add('s', 'skip'); add('u', 'undo the last answer'); add('f', 'flag for an adjudicator (asks a reason)');
    add('n', 'note, attached to your next answer'); add('d', 'details on/off'); add('?', 'this help');
    add('Esc', 'cancel a flag or a note');
  }

  // ---- details ------------------------------------------------------------

  function renderDetails(data) {
    const box = $('details');
    box.replaceChildren();
    box.hidden = !detailsOpen || !data;
    $('toggle-details').setAttribute('aria-expanded', String(detailsOpen));
    if (!data) return;
    for (const s of data.sections || []) {
      box.append(el('h3', s.title));
      const ul = el('ul');
      for (const line of s.lines || []) ul.append(el('li', line));
      box.append(ul);
    }
  }

  async function loadDetails(id) {
    try {
      const data = await api('GET', 'details?id=' + encodeURIComponent(id));
      if (current && current.id === id && detailsOpen) renderDetails(data);
    } catch (e) {
      if (current && current.id === id) fail('Details: ' + e.message + '.');
    }
  }

  // ---- actions --------------------------------------------------------------

  // Runs fn after every earlier action; dropped if the item on screen changed meanwhile
  // (the key was meant for the item that was shown when it was pressed).
  function act(fn) {
    const id = current ? current.id : null, e = epoch, at = performance.now();
    pending++; syncState();
    chain = chain.then(() => {
      if (e !== epoch || (current ? current.id : null) !== id) return;
      return fn(at);
    }).catch((err) => fail(err.message)).finally(() => { pending--; syncState(); });
  }

  async function load() {
    const e = epoch;
    prefetch = null;
    const resp = await api('GET', nextPath(null));
    if (e !== epoch) return;
    setProgress(resp.progress);
    show(resp);
    startPrefetch();
  }

  function startPrefetch() {
    prefetch = null;
    if (!current) return;
    const e = epoch, id = current.id;
    prefetch = api('GET', nextPath(id)).then((resp) => {
      // Its progress is the freshest the page has (it counts every answer POSTed so far).
      if (e === epoch && current && current.id === id) setProgress(resp.progress);
      return resp;
    }, () => null);   // failed: the next task is fetched after the POST instead
  }

  // Local progress change while the server's figures are on their way (skips do not count).
  function bump(body, sign) {
    if (!progress) return;
    if (mode === 'disputes') { progress.settled += sign; progress.left = Math.max(0, progress.left - sign); }
    else if (!body.skip) { progress.mine += sign; progress.done += sign; progress.left = Math.max(0, progress.left - sign); }
    setProgress();
  }

  // Answers the task on screen: show the prefetched next task at once, then POST.
  async function answer(fields, at) {
    const task = current;
    if (!task) return;
    const e = epoch, m = MODES[mode];
    const body = Object.assign({ id: task.id }, fields);
    const usedNote = note;
    if (mode === 'label') {
      body.seconds = Math.max(0.01, Math.round((at - shownAt) / 10) / 100);
      if (note) body.note = note;
      setNote('');
    }
    const next = prefetch ? await prefetch : null;
    if (e !== epoch) return;
    prefetch = null;
    history.push({ task, body });
    if (next) show(next); else { current = null; render(); $('empty').textContent = 'Loading…'; $('empty').hidden = false; }
    bump(body, 1);
    try {
      await api('POST', m.answer, body);
    } catch (err) {
      if (e !== epoch) return;
      history.pop();
      if (usedNote) setNote(usedNote);
      fail('Your answer to ' + task.id + ' was not saved: ' + err.message + '. Reloading your tasks.');
      await load();
      return;
    }
    if (e !== epoch) return;
    say(describe(task.id, fields), 'ok');
    if (current && next) startPrefetch(); else await load();
  }

  function describe(id, f) {
    if (f.skip) return id + ': skipped.';
    if (f.flag !== undefined) return id + ': flagged for an adjudicator.';
    if (f.escalate !== undefined) return id + ': escalated to the lead.';
    if (f.labels) return id + ' → ' + (f.labels.length ? f.labels.join(', ') : 'no labels') + (mode === 'disputes' ? ' (ruling)' : '') + '.';
    return id + ' → ' + f.label + (mode === 'disputes' ? ' (ruling)' : '') + '.';
  }

  const decide = (label) => (at) => answer({ label }, at);

  async function undo() {
    const e = epoch;
    let r;
    try {
      // An escalation is withdrawn by its item; a ruling or an answer is the server's last one.
      const last = history[history.length - 1];
      const body = last && last.body.escalate !== undefined ? { id: last.task.id, escalation: true } : {};
      r = await api('POST', MODES[mode].undo, body);
    } catch (err) {
      fail(err.status === 409 ? 'Nothing to undo.' : 'Undo failed: ' + err.message + '.');
      return;
    }
    if (e !== epoch) return;
    const last = history[history.length - 1];
    if (!last || last.task.id !== r.id) {   // answered elsewhere (another tab, before a reload): ask the server
      history = [];
      say('Undone: ' + r.id + '.', 'ok');
      await load();
      return;
    }
    history.pop();
    // The task on screen stays claimed: it becomes the prefetched next again.
    const shown = current;
    prefetch = shown ? Promise.resolve({ task: shown, progress: null }) : null;
    bump(last.body, -1);
    show({ task: last.task });
    if (!shown) startPrefetch();
    say('Undone: ' + r.id + ' is back.', 'ok');
  }

  // ---- flag, note, find -----------------------------------------------------------

  function setNote(text) {
    note = text;
    const p = $('pending-note');
    p.hidden = !note;
    p.textContent = note ? 'Note for your next answer: ' + note : '';
  }

  function openForm(id) {
    if (!current || (mode !== 'label' && id !== 'flag-form')) return;
    for (const f of ['flag-form', 'note-form']) $(f).hidden = f !== id;
    const input = $(id).querySelector('input');
    input.value = id === 'note-form' ? note : '';
    input.focus();
  }

  function closeForm(form) {
    form.hidden = true;
    if (current) $('item').focus();
  }

  function setupForms() {
    $('flag-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const reason = $('flag-reason').value.trim() || 'no reason given';
      closeForm($('flag-form'));
      act((at) => answer(mode === 'label' ? { flag: reason } : { escalate: reason }, at));
    });
    $('note-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      setNote($('note-text').value.trim());
      closeForm($('note-form'));
    });
    for (const f of [$('flag-form'), $('note-form')]) {
      f.querySelector('.cancel').addEventListener('click', () => closeForm(f));
      f.addEventListener('keydown', (ev) => { if (ev.key === 'Escape') { ev.preventDefault(); closeForm(f); } });
    }
  }

  // ---- keys ---------------------------------------------------------------------

  function accept() {
    if (!current) return;
    if (multi()) { const labels = chosenList(); act((at) => answer({ labels }, at)); return; }
    if (mode !== 'label') return;
    if (current.blind) { say('Blind item: the suggestion is hidden, pick a label.'); return; }
    if (!current.suggestion) { say('No suggestion to accept for this item.'); return; }
    const label = current.suggestion.label;
    act((at) => answer({ label }, at));
  }

  function toggleDetails() {
    if (mode !== 'label') return;
    detailsOpen = !detailsOpen;
    renderDetails(null);
    if (detailsOpen && current) loadDetails(current.id);
  }

  function toggleHelp() {
    const h = $('help');
    h.hidden = !h.hidden;
    $('toggle-help').setAttribute('aria-expanded', String(!h.hidden));
  }

  // One key, as the terminal loop reads it. Returns whether it was used.
  function handleKey(key) {
    const label = me.labels.find((l) => l.key && l.key === key);
    if (label) { if (multi()) toggle(label.name); else act(decide(label.name)); return true; }
    const labelling = mode === 'label';
    switch (key) {
      case 'Enter': accept(); return true;
      case 'u': act(undo); return true;
      case '?': toggleHelp(); return true;
      case 's': if (labelling) act((at) => answer({ skip: true }, at)); return labelling;
      case 'f': openForm('flag-form'); return true;
      case 'n': if (labelling) openForm('note-form'); return labelling;
      case 'd': toggleDetails(); return labelling;
      case 'Escape': if (!$('help').hidden) toggleHelp(); return true;
      default: return false;
    }
  }

  document.addEventListener('keydown', (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || ev.isComposing || !me) return;
    const t = ev.target;
    // While a text field has the focus, keys are typing.
    if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable)) return;
    // Enter or space on a focused button or link activates it (keyboard use of the buttons).
    if ((ev.key === 'Enter' || ev.key === ' ') && t && t.closest && t.closest('button, a')) return;
    if (handleKey(ev.key)) ev.preventDefault();
  });

  // ---- modes ---------------------------------------------------------------------

  async function switchMode(m) {
    epoch++;
    clearTimeout(pollTimer);
    mode = m; current = null; prefetch = null; history = []; progress = null;
    chain = Promise.resolve();
    $('mode-label').setAttribute('aria-pressed', String(m === 'label'));
    $('mode-disputes').setAttribute('aria-pressed', String(m === 'disputes'));
    buildLabels();
    buildHelp();
    render();
    $('empty').textContent = 'Loading…';
    setProgress(null);
    act(load);
  }

  // ---- wiring ----------------------------------------------------------------------

  document.addEventListener('DOMContentLoaded', () => {
    setupForms();
    $('login-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const token = $('token').value.trim();
      if (token) login(token);
    });
    $('logout').addEventListener('click', () => logout());
    window.addEventListener('pagehide', release);
    $('mode-label').addEventListener('click', () => switchMode('label'));
    $('mode-disputes').addEventListener('click', () => switchMode('disputes'));
    $('accept').addEventListener('click', accept);
    $('skip').addEventListener('click', () => act((at) => answer({ skip: true }, at)));
    $('undo').addEventListener('click', () => act(undo));
    $('flag').addEventListener('click', () => openForm('flag-form'));
    $('note').addEventListener('click', () => openForm('note-form'));
    $('toggle-details').addEventListener('click', toggleDetails);
    $('toggle-help').addEventListener('click', toggleHelp);
    syncState();
    const saved = sessionStorage.getItem(TOKEN_KEY);
    if (saved) login(saved); else $('token').focus();
  });
})();
