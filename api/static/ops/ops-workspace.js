/* Emporio ops: the agents' service workspace: the inbox (mine / unassigned in my skills /
 * breaching), kept fresh by the live socket (/v1/service/live: every case event, through Redis,
 * whichever API process serves this page) and, while the socket is down, by polling every POLL_MS
 * while the page is visible; the presence heartbeat, and the keyboard shortcuts. The case itself:
 * ops-case.js. */
(function () {
  'use strict';
  const O = (window.EmporioOps = window.EmporioOps || {});
  const state = O.state;
  const $ = O.$;
  const el = O.el;
  const t = O.t;

  const POLL_MS = 10000;
  const LIVE_POLL_MS = 120000; // with the socket up, a safety read now and then
  const LIVE_DEBOUNCE_MS = 250; // a burst of events (a case and its first message) is one read
  const LIVE_RETRY_MAX_MS = 30000;
  const PRESENCE_MS = 60000;
  const ACTIVE = ['new', 'open', 'pending'];

  const ws = {
    me: null, // the agent this key acts as
    agents: [],
    names: new Map(),
    items: [], // the open tab's cases
    loadedTab: '',
    seq: 0,
    timers: [],
    entered: false,
    socket: null, // the live socket while the workspace is open
    live: false, // it said "ready": events arrive as they happen
    lastPoll: 0,
    retryMs: 1000,
    retryTimer: 0,
    nudgeTimer: 0,
    agentName(id) {
      return ws.names.get(id) || id;
    },
  };
  O.workspace = ws;

  // ---- entering and leaving -------------------------------------------------------------------

  /** Brings the workspace in line with the state (called by the router after every change). */
  O.syncService = async function syncService() {
    if (!ws.entered) {
      ws.entered = true;
      await loadAgents();
      ws.timers.push(setInterval(poll, POLL_MS));
      connectLive();
      if (O.hasScope('agent')) {
        heartbeat();
        ws.timers.push(setInterval(heartbeat, PRESENCE_MS));
      }
    }
    for (const tab of O.$$('[data-inbox]')) {
      const on = tab.dataset.inbox === state.inbox;
      tab.setAttribute('aria-selected', String(on));
      tab.tabIndex = on ? 0 : -1;
    }
    $('.inbox-hint').hidden = state.inbox !== 'unassigned';
    if ($('#inbox-search').value !== state.q) $('#inbox-search').value = state.q;
    if (ws.loadedTab !== state.inbox) await O.refreshInbox();
    else renderInbox();
    if (state.caseId !== $('#case').dataset.caseId) await O.openCase(state.caseId);
  };

  O.leaveService = function leaveService() {
    ws.timers.forEach((id) => clearInterval(id));
    ws.timers = [];
    disconnectLive();
    ws.entered = false;
    ws.loadedTab = '';
  };

  async function loadAgents() {
    try {
      const answer = await O.getJSON('/ops/agents');
      ws.me = answer.me;
      ws.agents = answer.agents;
      ws.names = new Map(answer.agents.map((a) => [a.id, a.name]));
    } catch (error) {
      O.ignoreSignedOut(error);
    }
  }

  async function heartbeat() {
    if (document.hidden || state.view !== 'service') return;
    try {
      await O.postJSON('/v1/chat/presence', {});
      $('#presence').hidden = false;
      $('#presence').dataset.at = new Date().toISOString();
    } catch (error) {
      O.ignoreSignedOut(error);
      $('#presence').hidden = true;
    }
  }

  function poll(force) {
    if (document.hidden || state.view !== 'service') return;
    if (ws.live && !force && Date.now() - ws.lastPoll < LIVE_POLL_MS) return;
    ws.lastPoll = Date.now();
    O.refreshInbox();
    O.refreshCase();
  }

  // ---- live updates ---------------------------------------------------------------------------

  function setLive(on) {
    ws.live = on;
    $('#service').dataset.live = on ? 'on' : 'off';
  }

  /** The socket rides the dashboard's session cookie (same origin); a frame is a nudge to read. */
  function connectLive() {
    if (!ws.entered || ws.socket || typeof WebSocket === 'undefined') return;
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const socket = new WebSocket(`${scheme}://${location.host}/v1/service/live`);
    ws.socket = socket;
    socket.addEventListener('message', (message) => {
      let frame;
      try {
        frame = JSON.parse(message.data);
      } catch (error) {
        return;
      }
      if (frame.type === 'ready') {
        ws.retryMs = 1000;
        setLive(true);
        poll(true); // what happened while the socket was down
        return;
      }
      $('#service').dataset.lastEvent = frame.type || '';
      clearTimeout(ws.nudgeTimer);
      ws.nudgeTimer = setTimeout(() => poll(true), LIVE_DEBOUNCE_MS);
    });
    socket.addEventListener('close', () => {
      if (ws.socket === socket) ws.socket = null;
      setLive(false);
      if (!ws.entered) return;
      ws.retryTimer = setTimeout(connectLive, ws.retryMs); // polling carries on meanwhile
      ws.retryMs = Math.min(ws.retryMs * 2, LIVE_RETRY_MAX_MS);
    });
  }

  function disconnectLive() {
    clearTimeout(ws.retryTimer);
    clearTimeout(ws.nudgeTimer);
    const socket = ws.socket;
    ws.socket = null;
    setLive(false);
    if (socket) socket.close(1000, 'left the workspace');
  }

  // ---- the inbox ------------------------------------------------------------------------------

  function fetchTab(tab) {
    if (tab === 'breaching') return O.getJSON('/v1/cases?breaching=true&limit=100').then((page) => page.items);
    const who = tab === 'mine' ? 'assignee=me' : 'assignee=none&my_skills=true';
    // One list per active status: resolved and closed cases never crowd an inbox out.
    return Promise.all(ACTIVE.map((s) => O.getJSON(`/v1/cases?${who}&status=${s}&limit=100`)))
      .then((pages) => [].concat.apply([], pages.map((p) => p.items)));
  }

  O.refreshInbox = async function refreshInbox() {
    const tab = state.inbox;
    const seq = ++ws.seq;
    const list = $('#inbox-list');
    if (ws.loadedTab !== tab) list.dataset.state = 'loading';
    try {
      const items = await fetchTab(tab);
      if (seq !== ws.seq) return;
      items.sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : b.number - a.number));
      ws.items = items;
      ws.loadedTab = tab;
      renderInbox();
      list.dataset.state = 'ready';
      list.dataset.tab = tab;
    } catch (error) {
      if (seq !== ws.seq || error instanceof O.SignedOut) return;
      list.dataset.state = 'error';
      $('#inbox-status').textContent = `${t('error_load')}: ${error.message}`;
    }
  };

  function matches(c, q) {
    if (!q) return true;
    const needle = q.toLowerCase().replace(/^#/, '');
    return [String(c.number), c.subject, c.customer.name, c.customer.email || '', c.topic || '']
      .some((v) => String(v).toLowerCase().indexOf(needle) >= 0);
  }

  function visible() {
    return ws.items.filter((c) => matches(c, state.q));
  }

  function renderInbox() {
    for (const tab of O.$$('[data-inbox]')) {
      // Only the open tab is polled: a count on another tab would be an old one.
      const n = tab.dataset.inbox === ws.loadedTab ? ws.items.length : undefined;
      $('.tab-count', tab).textContent = n === undefined ? '' : String(n);
    }
    const list = $('#inbox-list');
    const shown = visible();
    list.dataset.count = String(shown.length);
    $('#inbox-status').textContent = shown.length ? '' : t('inbox_empty');
    list.replaceChildren.apply(list, shown.map(row));
  }

  function row(c) {
    const breached = c.sla.first_response_breached || c.sla.resolution_breached;
    const selected = c.id === state.caseId;
    return el('li', {
      class: `case-row${selected ? ' case-row-selected' : ''}${breached ? ' case-row-breached' : ''}`,
      'data-case-id': c.id, 'data-number': String(c.number), 'data-status': c.status,
    },
    el('button', {
      type: 'button', class: 'case-link', 'aria-current': selected ? 'true' : null,
      onclick: () => O.commit({ caseId: c.id }),
    },
    el('span', { class: 'case-row-top' },
      el('span', { class: 'case-number', text: `#${c.number}` }),
      el('span', { class: `badge badge-status badge-status-${c.status}`, text: t(`status_${c.status}`) }),
      c.priority === 'high' || c.priority === 'urgent'
        ? el('span', { class: `badge badge-priority badge-priority-${c.priority}`, text: t(`priority_${c.priority}`) }) : null,
      breached ? el('span', { class: 'badge badge-sla badge-sla-breached', text: 'SLA' }) : null),
    el('span', { class: 'case-subject', text: c.subject }),
    el('span', { class: 'case-meta muted', text: `${c.customer.name || c.customer.email || ''} · ${t(`ch_${c.channel}`)} · ${O.formatTime(c.created_at)}` })));
  }

  /** After a change to the open case, its row shows it at once (the next poll confirms). */
  O.markInboxRow = function markInboxRow(c) {
    const index = ws.items.findIndex((k) => k.id === c.id);
    if (index >= 0) {
      ws.items[index] = Object.assign({}, ws.items[index], { status: c.status, assignee: c.assignee, sla: c.sla });
    }
    if (state.view === 'service') renderInbox();
  };

  /** j / k: the next or previous case of the list, opened. */
  function step(delta) {
    const shown = visible();
    if (!shown.length) return;
    const at = shown.findIndex((c) => c.id === state.caseId);
    const next = at < 0 ? (delta > 0 ? 0 : shown.length - 1) : Math.max(0, Math.min(shown.length - 1, at + delta));
    if (shown[next].id !== state.caseId) O.commit({ caseId: shown[next].id });
    const target = $(`#inbox-list [data-case-id="${shown[next].id}"]`);
    if (target) target.scrollIntoView({ block: 'nearest' });
  }

  // ---- keyboard -------------------------------------------------------------------------------

  function typing(target) {
    const tag = (target && target.tagName) || '';
    return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || (target && target.isContentEditable);
  }

  O.toggleShortcuts = function toggleShortcuts(show) {
    const box = $('#shortcuts');
    box.hidden = show === undefined ? !box.hidden : !show;
    if (!box.hidden) $('#shortcuts-close').focus();
  };

  function onKey(event) {
    if (state.view !== 'service' || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === 'Escape') {
      if (!$('#shortcuts').hidden) O.toggleShortcuts(false);
      else if (typing(event.target)) event.target.blur();
      return;
    }
    if (typing(event.target)) return;
    const actions = {
      j: () => step(1),
      k: () => step(-1),
      '/': () => $('#inbox-search').focus(),
      '?': () => O.toggleShortcuts(),
      r: () => O.setComposerMode('reply', true),
      n: () => O.setComposerMode('note', true),
      c: () => O.caseAction('claim'),
      e: () => O.caseAction('resolve'),
      a: () => $('#assign-select').focus(),
      m: () => $('#merge-select').focus(),
    };
    const action = actions[event.key];
    if (!action) return;
    event.preventDefault(); // "/" would otherwise type itself into the search box
    action();
  }

  O.wireWorkspace = function wireWorkspace() {
    for (const tab of O.$$('[data-inbox]')) tab.addEventListener('click', () => O.commit({ inbox: tab.dataset.inbox }));
    $('#inbox-tabs').addEventListener('keydown', (event) => {
      if (event.key !== 'ArrowRight' && event.key !== 'ArrowLeft') return;
      const tabs = O.$$('[data-inbox]');
      const at = tabs.findIndex((b) => b.dataset.inbox === state.inbox);
      const next = tabs[(at + (event.key === 'ArrowRight' ? 1 : tabs.length - 1)) % tabs.length];
      O.commit({ inbox: next.dataset.inbox });
      next.focus();
    });
    let typingTimer = 0;
    $('#inbox-search').addEventListener('input', (event) => {
      state.q = event.target.value;
      renderInbox();
      clearTimeout(typingTimer); // the URL follows once the agent pauses, as one history entry
      typingTimer = setTimeout(() => O.commit({ q: state.q }, { replace: true }), 400);
    });
    $('#inbox-search').addEventListener('keydown', (event) => {
      if (event.key === 'Enter') {
        event.preventDefault();
        const first = visible()[0];
        if (first) O.commit({ caseId: first.id });
      }
    });
    $('#shortcuts-open').addEventListener('click', () => O.toggleShortcuts(true));
    $('#shortcuts-close').addEventListener('click', () => O.toggleShortcuts(false));
    document.addEventListener('keydown', onKey);
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden && state.view === 'service' && ws.entered) poll(true);
    });
    O.wireCase();
  };

  O.rerenderWorkspace = function rerenderWorkspace() {
    renderInbox();
    O.rerenderCase();
  };
})();
