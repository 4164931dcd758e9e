/* Emporio ops: one case in the service workspace: the conversation (internal notes set apart),
 * what the agent does to it (claim, assign, resolve, reopen, merge), the reply box with macros
 * previewed exactly as they will be sent, and suggested articles. The 360 is in ops-customer.js. */
(function () {
  'use strict';
  const O = (window.EmporioOps = window.EmporioOps || {});
  const state = O.state;
  const $ = O.$;
  const el = O.el;
  const t = O.t;

  const view = {
    current: null, // GET /v1/cases/{id}
    signature: '', // what the conversation was drawn from (a poll redraws only on change)
    macros: [],
    mode: 'reply', // reply | note
    draftKey: null, // Idempotency-Key of the message being written: a retry never sends it twice
    busy: false,
    changes: 0, // actions taken: a poll that started before one is not shown after it
    seq: 0,
  };
  O.caseView = view;

  function signatureOf(c) {
    return JSON.stringify([c.id, c.status, c.assignee, c.priority, c.merged_into, c.sla, c.messages.map((m) => m.id)]);
  }

  O.authorName = function authorName(author, caseOut) {
    if (author === 'customer') return (caseOut && caseOut.customer.name) || t('from_customer');
    if (author && author.indexOf('agent:') === 0) {
      const id = author.slice(6);
      if (O.workspace.me === id) return `${O.workspace.agentName(id)} (${t('you')})`;
      return O.workspace.agentName(id);
    }
    return author || '';
  };

  // ---- loading --------------------------------------------------------------------------------

  O.openCase = async function openCase(id) {
    const seq = ++view.seq;
    const root = $('#case');
    if (!id) {
      view.current = null;
      view.signature = '';
      root.dataset.state = 'empty';
      root.dataset.caseId = '';
      return;
    }
    root.dataset.state = 'loading';
    root.dataset.caseId = id;
    setCaseStatus('');
    try {
      const found = await O.getJSON(`/v1/cases/${encodeURIComponent(id)}`);
      if (seq !== view.seq) return;
      resetComposer();
      show(found, true);
      loadExtras(found.id, seq);
    } catch (error) {
      if (seq !== view.seq || error instanceof O.SignedOut) return;
      root.dataset.state = 'error';
      setCaseStatus(`${t('error_load')}: ${error.message}`, 'error');
    }
  };

  /** A poll: the open case again, redrawn only when something in it changed. */
  O.refreshCase = async function refreshCase() {
    const id = view.current ? view.current.id : '';
    // Not while another case is being opened: its answer, not this one, must be the last shown.
    if (!id || $('#case').dataset.caseId !== id || view.busy) return;
    const seq = view.seq;
    const changes = view.changes;
    try {
      const found = await O.getJSON(`/v1/cases/${encodeURIComponent(id)}`);
      // An action taken meanwhile answered with a newer state than this poll's.
      const still = seq === view.seq && changes === view.changes && $('#case').dataset.caseId === id && !view.busy;
      if (still && signatureOf(found) !== view.signature) show(found, false);
    } catch (error) {
      O.ignoreSignedOut(error);
    }
  };

  async function loadExtras(id, seq) {
    const results = await Promise.all([
      O.getJSON(`/ops/cases/${encodeURIComponent(id)}/macros`).catch((e) => (O.ignoreSignedOut(e), null)),
      O.getJSON(`/v1/cases/${encodeURIComponent(id)}/suggestions`).catch((e) => (O.ignoreSignedOut(e), null)),
    ]);
    if (seq !== view.seq) return;
    view.macros = (results[0] && results[0].macros) || [];
    renderMacros();
    renderSuggestions((results[1] && results[1].results) || []);
  }

  function show(found, first) {
    view.current = found;
    view.signature = signatureOf(found);
    const root = $('#case');
    root.dataset.state = 'ready';
    root.dataset.caseId = found.id;
    root.dataset.number = String(found.number);
    root.dataset.status = found.status;
    root.dataset.assignee = found.assignee || '';
    renderHead(found);
    renderConversation(found, first);
    O.renderCustomer360(found);
    O.markInboxRow(found);
  }

  // ---- the head: what the case is and what can be done -----------------------------------------

  function badge(kind, value, label) {
    return el('span', { class: `badge badge-${kind} badge-${kind}-${value}`, 'data-badge': kind, text: label });
  }

  function renderHead(c) {
    $('#case-eyebrow').textContent = `${t('case_label')} #${c.number} · ${c.channels.map((ch) => t(`ch_${ch}`)).join(' → ')}`;
    $('#case-title').textContent = c.subject;
    const badges = $('#case-badges');
    badges.replaceChildren(
      badge('status', c.status, t(`status_${c.status}`)),
      badge('priority', c.priority, `${t('priority')}: ${t(`priority_${c.priority}`)}`),
      badge('topic', c.topic || 'none', `${t('topic')}: ${O.topicName(c.topic)}`),
    );
    if (c.sla.first_response_breached || c.sla.resolution_breached) badges.append(badge('sla', 'breached', t('sla_breached')));
    if (c.merged_into) badges.append(badge('merged', 'yes', `${t('merged_into')} ${c.merged_into}`));
    const mine = c.assignee && c.assignee === O.workspace.me;
    const facts = $('#case-facts');
    facts.replaceChildren(
      el('dt', { text: t('assignee') }),
      el('dd', { 'data-fact': 'assignee', text: c.assignee ? O.workspace.agentName(c.assignee) + (mine ? ` (${t('you')})` : '') : t('unassigned') }),
      el('dt', { text: t('sla_first') }),
      el('dd', { class: c.sla.first_response_breached ? 'late' : '', text: O.formatTime(c.sla.first_response_due) }),
      el('dt', { text: t('sla_resolution') }),
      el('dd', { class: c.sla.resolution_breached ? 'late' : '', text: O.formatTime(c.sla.resolution_due) }),
    );
    const active = ['new', 'open', 'pending'].indexOf(c.status) >= 0;
    $('#case-claim').hidden = !active || mine;
    $('#case-resolve').hidden = !active;
    $('#case-reopen').hidden = c.status !== 'resolved';
    const assign = $('#assign-select');
    const agents = O.workspace.agents.filter((a) => a.active && a.id !== c.assignee);
    assign.replaceChildren.apply(assign, agents.map((a) => el('option', { value: a.id, text: `${a.name} (${a.open_cases})` })));
    $('#case-assign').disabled = !agents.length || c.status === 'closed';
    const merge = $('#merge-select');
    const others = ((c.context && c.context.cases) || []).filter((k) => k.id !== c.id);
    merge.replaceChildren.apply(merge, others.length
      ? others.map((k) => el('option', { value: k.id, text: `#${k.number} · ${k.subject || ''} (${t(`status_${k.status}`)})` }))
      : [el('option', { value: '', text: t('merge_none') })]);
    $('#case-merge').disabled = !others.length || !!c.merged_into;
    $('#composer-send').disabled = c.status === 'closed';
  }

  // ---- the conversation -----------------------------------------------------------------------

  function renderConversation(c, scroll) {
    const list = $('#conversation');
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    list.replaceChildren.apply(list, c.messages.map((m) => message(m, c)));
    if (scroll || atBottom) list.scrollTop = list.scrollHeight;
  }

  function message(m, c) {
    const kind = m.internal ? 'note' : m.direction === 'in' ? 'in' : 'out';
    const head = el('div', { class: 'msg-head' },
      el('span', { class: 'msg-author', text: O.authorName(m.author, c) }),
      el('span', { class: 'msg-channel', text: t(`ch_${m.channel}`) }),
      el('time', { datetime: m.created_at, text: O.formatTime(m.created_at) }));
    const item = el('li', {
      class: `msg msg-${kind}`, 'data-message-id': m.id, 'data-internal': String(!!m.internal), 'data-direction': m.direction,
    });
    if (m.internal) item.append(el('p', { class: 'msg-flag', text: t('internal_note') }));
    if (m.auto) item.append(el('p', { class: 'msg-flag msg-flag-auto', text: t('auto_message') }));
    item.append(head, el('div', { class: 'msg-body', text: m.body }));
    if (m.attachments && m.attachments.length) {
      const files = el('ul', { class: 'msg-files', 'aria-label': t('attachments') });
      for (const a of m.attachments) {
        const href = `/v1/cases/${encodeURIComponent(c.id)}/attachments/${encodeURIComponent(a.id)}`;
        files.append(el('li', {}, el('a', { href, download: a.filename, text: a.filename }),
          el('span', { class: 'muted', text: ` ${O.number(a.size / 1024, 1)} KB` })));
      }
      item.append(files);
    }
    return item;
  }

  // ---- suggestions ----------------------------------------------------------------------------

  function renderSuggestions(found) {
    const box = $('#suggestions');
    const list = $('#suggestion-list');
    list.replaceChildren();
    box.hidden = !found.length; // nothing at all when there is nothing to suggest
    for (const s of found) {
      const url = O.safeUrl(s.url) || (typeof s.url === 'string' && /^\/(?!\/)/.test(s.url) ? s.url : null);
      list.append(el('li', { 'data-article': s.id },
        url ? el('a', { href: url, target: '_blank', rel: 'noopener noreferrer', text: s.title }) : el('strong', { text: s.title }),
        el('p', { class: 'muted', text: s.snippet }),
        el('button', {
          type: 'button', class: 'btn btn-secondary btn-small', text: t('insert_link'),
          onclick: () => insertText(url ? `${s.title}: ${new URL(url, window.location.href).href}` : s.title),
        })));
    }
  }

  // ---- the reply box --------------------------------------------------------------------------

  function resetComposer() {
    $('#composer-text').value = '';
    $('#macro-select').value = '';
    view.draftKey = null;
    O.setComposerMode('reply', false);
    updatePreview();
  }

  function renderMacros() {
    const select = $('#macro-select');
    const chosen = select.value;
    select.replaceChildren(el('option', { value: '', text: t('no_macro') }));
    for (const m of view.macros) {
      const title = m.title[state.lang] || m.title.el || m.title.en || m.id;
      select.append(el('option', {
        value: m.id, disabled: m.text === null,
        text: m.text === null ? `${title} (${t('macro_missing')}: ${m.missing.join(', ')})` : title,
      }));
    }
    select.value = view.macros.some((m) => m.id === chosen && m.text !== null) ? chosen : '';
    updatePreview();
  }

  function chosenMacro() {
    if (view.mode !== 'reply') return null;
    const id = $('#macro-select').value;
    return view.macros.find((m) => m.id === id && m.text !== null) || null;
  }

  /** The text the server will send: the macro, then what the agent added (core/service/cases.py). */
  function outgoing() {
    const typed = $('#composer-text').value;
    const macro = chosenMacro();
    if (!macro) return typed;
    return typed.trim() && typed.trim() !== macro.text.trim() ? `${macro.text}\n\n${typed}` : macro.text;
  }

  function updatePreview() {
    const macro = chosenMacro();
    $('#macro-preview').hidden = !macro;
    $('#macro-preview-text').textContent = macro ? outgoing() : '';
    const text = $('#composer-text');
    text.placeholder = view.mode === 'note' ? t('note_placeholder') : macro ? t('reply_extra_placeholder') : t('reply_placeholder');
  }

  O.setComposerMode = function setComposerMode(mode, focus) {
    view.mode = mode;
    $('#composer').dataset.mode = mode;
    for (const b of O.$$('[data-compose]')) b.setAttribute('aria-pressed', String(b.dataset.compose === mode));
    $('#macro-field').hidden = mode !== 'reply';
    $('#composer-send').textContent = mode === 'note' ? t('add_note') : t('send_reply');
    view.draftKey = null;
    updatePreview();
    if (focus) $('#composer-text').focus();
  };

  function insertText(text) {
    const box = $('#composer-text');
    box.value = box.value ? `${box.value.replace(/\s+$/, '')}\n${text}` : text;
    view.draftKey = null;
    updatePreview();
    box.focus();
  }

  async function send(event) {
    if (event) event.preventDefault();
    if (!view.current) return;
    const macro = chosenMacro();
    const typed = $('#composer-text').value;
    const body = macro ? typed.trim() || macro.text : typed;
    if (!body.trim()) {
      $('#composer-text').focus();
      return;
    }
    const data = { body, internal: view.mode === 'note' };
    if (macro) data.macro = macro.id;
    view.draftKey = view.draftKey || O.randomKey();
    const note = view.mode === 'note';
    await act(() => O.postJSON(`/v1/cases/${encodeURIComponent(view.current.id)}/messages`, data, view.draftKey),
      note ? 'noted' : 'sent', () => resetComposer());
  }

  // ---- actions --------------------------------------------------------------------------------

  function setCaseStatus(text, kind) {
    const status = $('#case-status');
    status.textContent = text || '';
    status.className = `case-status${kind ? ` status-${kind}` : ''}`;
  }

  async function act(request, done, after) {
    if (view.busy) return null; // one change at a time: a double press never sends twice
    view.busy = true;
    view.changes++;
    $('#case').setAttribute('aria-busy', 'true');
    setCaseStatus(t('loading'));
    try {
      const updated = await request();
      if (after) after();
      if (updated && updated.id === (view.current && view.current.id)) show(updated, true);
      setCaseStatus(t(done), 'ok');
      O.refreshInbox();
      return updated;
    } catch (error) {
      if (!(error instanceof O.SignedOut)) setCaseStatus(`${t('action_failed')}: ${error.message}`, 'error');
      return null;
    } finally {
      view.busy = false;
      $('#case').removeAttribute('aria-busy');
    }
  }

  function post(action, body) {
    return () => O.postJSON(`/v1/cases/${encodeURIComponent(view.current.id)}/${action}`, body);
  }

  O.caseAction = async function caseAction(action) {
    const c = view.current;
    if (!c) return;
    if (action === 'claim' && !$('#case-claim').hidden) await act(post('claim'), 'claimed');
    else if (action === 'resolve' && !$('#case-resolve').hidden) await act(post('resolve'), 'resolved_ok');
    else if (action === 'reopen' && !$('#case-reopen').hidden) await act(post('reopen'), 'reopened_ok');
    else if (action === 'assign' && $('#assign-select').value) {
      await act(post('assign', { agent: $('#assign-select').value }), 'assigned_ok');
    } else if (action === 'merge' && $('#merge-select').value) {
      const into = $('#merge-select').value;
      const merged = await act(post('merge', { into }), 'merged_ok');
      if (merged) O.commit({ caseId: into });
    }
  };

  O.wireCase = function wireCase() {
    $('#composer').addEventListener('submit', send);
    $('#composer-text').addEventListener('input', () => {
      view.draftKey = null;
      updatePreview();
    });
    $('#composer-text').addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) send(event);
    });
    $('#macro-select').addEventListener('change', () => {
      view.draftKey = null;
      updatePreview();
    });
    for (const b of O.$$('[data-compose]')) b.addEventListener('click', () => O.setComposerMode(b.dataset.compose, true));
    $('#case-claim').addEventListener('click', () => O.caseAction('claim'));
    $('#case-resolve').addEventListener('click', () => O.caseAction('resolve'));
    $('#case-reopen').addEventListener('click', () => O.caseAction('reopen'));
    $('#case-assign').addEventListener('click', () => O.caseAction('assign'));
    $('#case-merge').addEventListener('click', () => O.caseAction('merge'));
  };

  O.rerenderCase = function rerenderCase() {
    if (!view.current) return;
    show(view.current, false);
    renderMacros();
    O.setComposerMode(view.mode, false);
  };
})();
