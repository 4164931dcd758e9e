/* Emporio ops: the work waiting on the shop floor, shown first on the ops landing view, before any
 * KPI (GET /v1/ops/queues): one tile per queue with its count; a count opens that queue's list,
 * the oldest first (an order waiting to be packed shows its age and the time left to, or past,
 * its location's dispatch cut-off); an item opens its order beside the list: the order, its
 * shipments and payments, and its timeline (GET /v1/orders/{id}, /v1/orders/{id}/timeline).
 * The figures change when the page is reloaded or "Refresh" is pressed, never by themselves.
 * The open queue and order live in the address (`&queue=<id>&order=<id>`, ops.js). */
(function () {
  'use strict';
  const O = (window.EmporioOps = window.EmporioOps || {});
  const state = O.state;
  const $ = O.$;
  const el = O.el;
  const t = O.t;

  const LIMIT = 200; // the API's most: every list shows up to this many of its oldest items
  const QUEUE_ID = /^[a-z_]{1,40}$/;
  const ORDER_ID = /^[A-Za-z0-9_.:-]{1,100}$/;

  const work = {
    answer: null, // the last GET /v1/ops/queues
    loading: false,
    seq: 0,
    order: null, // { id, order, timeline } of the order shown
    orderSeq: 0,
  };
  O.work = work;

  // ---- the address (called by ops.js) ---------------------------------------------------------

  O.readWorkUrl = function readWorkUrl(params) {
    const queue = params.get('queue') || '';
    const order = params.get('order') || '';
    state.queue = QUEUE_ID.test(queue) ? queue : '';
    state.order = ORDER_ID.test(order) ? order : '';
  };

  O.writeWorkUrl = function writeWorkUrl(params) {
    if (state.view !== 'dashboard') return;
    if (state.queue) params.set('queue', state.queue);
    if (state.order) params.set('order', state.order);
  };

  // ---- formatting -----------------------------------------------------------------------------

  /** A span of time as a person says it: "2 h 05 min", "3 d 4 h", "40 s". */
  function span(seconds) {
    const s = Math.max(0, Math.round(Math.abs(seconds)));
    const d = Math.floor(s / 86400);
    const h = Math.floor((s % 86400) / 3600);
    const m = Math.floor((s % 3600) / 60);
    if (d) return `${d} ${t('unit_d')} ${h} ${t('unit_h')}`;
    if (h) return `${h} ${t('unit_h')} ${String(m).padStart(2, '0')} ${t('unit_min')}`;
    if (m) return `${m} ${t('unit_min')}`;
    return `${s} ${t('unit_s')}`;
  }
  O.formatSpan = span;

  function clock(iso) {
    return new Intl.DateTimeFormat(O.locale(), {
      timeZone: 'UTC', weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hour12: false,
    }).format(new Date(iso));
  }

  function queueTitle(queue) {
    return (queue.title && (queue.title[state.lang] || queue.title.en)) || t(`wq_${queue.id}`) || queue.id;
  }

  /** What the item asks for, in the page's language (the API's `title` is one English line). */
  function itemWhat(queueId, item) {
    const values = { location: item.location || '—', id: item.subject_id };
    switch (queueId) {
      case 'to_pack': return O.tf('wq_item_to_pack', values);
      case 'labels_failed': return t('wq_item_labels_failed');
      case 'failed_deliveries': return t('wq_item_failed_deliveries');
      case 'returns_to_inspect': return O.tf('wq_item_returns_to_inspect', values);
      case 'refunds_failed': return t('wq_item_refunds_failed');
      case 'payments_require_action': return t('wq_item_payments_require_action');
      default: return item.title; // a task: its own words
    }
  }

  // ---- loading --------------------------------------------------------------------------------

  async function load() {
    const seq = ++work.seq;
    const root = $('#work');
    work.loading = true;
    root.dataset.state = 'loading';
    root.setAttribute('aria-busy', 'true');
    $('#work-refresh').disabled = true;
    setStatus(t('loading'));
    try {
      const answer = await O.getJSON(`/v1/ops/queues?limit=${LIMIT}`);
      if (seq !== work.seq) return;
      work.answer = answer;
      root.dataset.generatedAt = answer.generated_at;
      setStatus('');
      render();
      root.dataset.state = 'ready';
    } catch (error) {
      if (seq !== work.seq || error instanceof O.SignedOut) return;
      root.dataset.state = 'error';
      setStatus(`${t('error_load')}: ${error.message}`, 'error');
    } finally {
      if (seq === work.seq) {
        work.loading = false;
        root.removeAttribute('aria-busy');
        $('#work-refresh').disabled = false;
      }
    }
  }

  async function loadOrder(id) {
    const seq = ++work.orderSeq;
    const view = $('#order-view');
    view.dataset.state = 'loading';
    view.dataset.orderId = id;
    $('#order-status').textContent = t('loading');
    $('#order-status').className = 'status';
    try {
      const path = `/v1/orders/${encodeURIComponent(id)}`;
      const answers = await Promise.all([
        O.getJSON(path),
        O.getJSON(`${path}/timeline?limit=100`).catch((e) => (O.ignoreSignedOut(e), null)),
      ]);
      if (seq !== work.orderSeq) return;
      work.order = { id, order: answers[0], timeline: answers[1] ? answers[1].items : null };
      $('#order-status').textContent = '';
      renderOrder();
      view.dataset.state = 'ready';
    } catch (error) {
      if (seq !== work.orderSeq || error instanceof O.SignedOut) return;
      work.order = null;
      view.dataset.state = 'error';
      $('#order-body').replaceChildren();
      $('#order-title').textContent = id;
      $('#order-status').textContent = `${t('error_load')}: ${error.message}`;
      $('#order-status').className = 'status status-error';
    }
  }

  function setStatus(text, kind) {
    const status = $('#work-status');
    status.textContent = text || '';
    status.className = `status${kind ? ` status-${kind}` : ''}`;
  }

  /** Brings the work section in line with the state (called by the router after every change). */
  O.syncWork = function syncWork() {
    const root = $('#work');
    const shown = state.view === 'dashboard' && O.hasScope('ops');
    root.hidden = !shown;
    if (!shown) return;
    if (!work.answer && !work.loading) load();
    else render();
    const view = $('#order-view');
    view.hidden = !state.order;
    if (state.order && view.dataset.orderId !== state.order) loadOrder(state.order);
    if (!state.order) {
      ++work.orderSeq;
      work.order = null;
      view.dataset.orderId = '';
      view.dataset.state = 'empty';
    }
    $('#work-detail').hidden = !state.queue && !state.order;
  };

  O.refreshWork = function refreshWork() {
    load();
    if (state.order) loadOrder(state.order);
  };

  O.resetWork = function resetWork() {
    ++work.seq;
    ++work.orderSeq;
    work.answer = null;
    work.loading = false;
    work.order = null;
    $('#work').hidden = true;
    $('#work').dataset.state = 'idle';
    $('#work-tiles').replaceChildren();
    $('#order-view').dataset.orderId = '';
  };

  O.rerenderWork = function rerenderWork() {
    if (work.answer) render();
    if (work.order) renderOrder();
  };

  // ---- the tiles and the open list -------------------------------------------------------------

  function render() {
    const answer = work.answer;
    if (!answer) return;
    $('#work-updated').textContent = `${t('wq_as_of')} ${O.formatTime(answer.generated_at)} UTC`;
    const total = answer.queues.reduce((n, q) => n + q.count, 0);
    $('#work').dataset.total = String(total);
    const tiles = $('#work-tiles');
    tiles.replaceChildren.apply(tiles, answer.queues.map(tile));
    renderList();
  }

  function tile(queue) {
    const open = state.queue === queue.id;
    const title = queueTitle(queue);
    const count = O.number(queue.count, 0);
    return el('li', {
      class: `work-tile${queue.count ? '' : ' work-tile-empty'}${open ? ' work-tile-open' : ''}`,
      'data-queue': queue.id, 'data-count': String(queue.count),
    },
    el('a', {
      class: 'work-tile-main', href: O.urlWith({ queue: queue.id, order: '' }), 'aria-controls': 'work-list',
      'aria-current': open ? 'true' : null, 'aria-label': `${title}: ${count}`,
      onclick: (event) => {
        event.preventDefault();
        O.commit({ queue: open ? '' : queue.id, order: '' });
        if (!open) $('#work-list-title').focus();
      },
    },
    el('span', { class: 'work-tile-count', text: count }),
    el('span', { class: 'work-tile-name', text: title })));
  }

  function renderList() {
    const list = $('#work-list');
    const queue = work.answer && work.answer.queues.find((q) => q.id === state.queue);
    list.hidden = !queue;
    if (!queue) {
      list.dataset.queue = '';
      return;
    }
    list.dataset.queue = queue.id;
    list.dataset.count = String(queue.count);
    $('#work-list-title').textContent = queueTitle(queue);
    $('#work-list-count').textContent = O.number(queue.count, 0);
    const more = queue.count > queue.items.length;
    const note = $('#work-list-note');
    note.textContent = !queue.count ? t('wq_empty')
      : more ? O.tf('wq_showing', { shown: O.number(queue.items.length, 0), count: O.number(queue.count, 0) })
        : t('wq_oldest_first');
    note.className = queue.count ? 'muted work-list-note' : 'work-list-note work-list-empty';
    const items = $('#work-items');
    items.replaceChildren.apply(items, queue.items.map((item) => row(queue.id, item)));
  }

  function row(queueId, item) {
    const selected = !!item.order_id && item.order_id === state.order;
    const what = itemWhat(queueId, item);
    const label = item.order_id ? `${t('order')} ${item.order_id}` : `${t('wq_no_order')}`;
    const facts = el('span', { class: 'work-item-facts' },
      el('span', { 'data-fact': 'age', text: `${t('wq_waiting')} ${span(item.age_s)}` }),
      item.location && queueId !== 'to_pack' && queueId !== 'returns_to_inspect'
        ? el('span', { 'data-fact': 'location', text: item.location }) : null);
    if (queueId === 'to_pack') facts.append(cutoff(item));
    const body = [
      el('span', { class: 'work-item-top' },
        el('span', { class: 'work-item-order', text: label }),
        item.late ? el('span', { class: 'badge badge-late', 'data-fact': 'late', text: t('wq_late') }) : null),
      el('span', { class: 'work-item-what', text: what }),
      facts,
      item.reason && queueId !== 'open_tasks'
        ? el('span', { class: 'work-item-reason', 'data-fact': 'reason', text: item.reason }) : null,
    ];
    const attrs = {
      class: `work-item${selected ? ' work-item-selected' : ''}`, 'data-subject-id': item.subject_id,
      'data-order-id': item.order_id || '', 'data-age-s': String(item.age_s),
    };
    if (!item.order_id) return el.apply(null, ['li', attrs, el.apply(null, ['div', { class: 'work-item-main' }].concat(body))]);
    const link = el.apply(null, ['a', {
      class: 'work-item-main', href: O.urlWith({ queue: state.queue, order: item.order_id }),
      'aria-current': selected ? 'true' : null, 'aria-controls': 'order-view',
      onclick: (event) => {
        if (event.ctrlKey || event.metaKey || event.shiftKey || event.button === 1) return; // a new tab: let it
        event.preventDefault();
        O.commit({ order: item.order_id });
        $('#order-title').focus();
      },
    }].concat(body));
    return el('li', attrs, link);
  }

  /** To pack: the location's next pickup, and the time left to it (or past it, on a page left open). */
  function cutoff(item) {
    if (!item.cutoff_at) return el('span', { 'data-fact': 'cutoff', text: t('wq_no_cutoff') });
    const left = Math.round((Date.parse(item.cutoff_at) - Date.now()) / 1000);
    const text = left >= 0 ? O.tf('wq_cutoff_in', { at: clock(item.cutoff_at), left: span(left) })
      : O.tf('wq_cutoff_past', { at: clock(item.cutoff_at), past: span(left) });
    return el('time', {
      'data-fact': 'cutoff', datetime: item.cutoff_at, class: left < 0 ? 'late' : left < 3600 ? 'soon' : null, text,
    });
  }

  // ---- the order ------------------------------------------------------------------------------

  function fact(name, label, value) {
    return [el('dt', { text: label }), el('dd', { 'data-fact': name, text: value === null || value === undefined || value === '' ? '—' : value })];
  }

  function part(name, title, items, render) {
    const list = el('ul', { class: 'order-list' });
    if (!items.length) list.append(el('li', { class: 'muted', text: t('none') }));
    for (const item of items) list.append(render(item));
    return el('section', { class: 'order-part', 'data-part': name, 'data-count': String(items.length) },
      el('h4', {}, title, el('span', { class: 'pillar-count', text: String(items.length) })), list);
  }

  function renderOrder() {
    const found = work.order;
    if (!found) return;
    const o = found.order;
    $('#order-title').textContent = o.external_ref || o.id;
    const view = $('#order-view');
    view.dataset.status = o.status;
    const address = o.shipping_address || {};
    const facts = el('dl', { class: 'case-facts order-facts' });
    facts.append.apply(facts, [].concat(
      fact('id', t('wq_order_id'), o.id),
      fact('status', t('wq_status'), O.codeName(o.status)),
      fact('placed_at', t('wq_placed'), O.formatTime(o.placed_at)),
      fact('channel', t('channel'), o.channel),
      fact('total', t('wq_total'), O.money(o.totals.grand_total.amount, o.totals.grand_total.currency)),
      fact('payment', t('wq_payment'), o.payment_provider),
      fact('promised_ship_by', t('wq_ship_by'), o.promised_ship_by ? O.formatTime(o.promised_ship_by) : null),
      fact('ship_to', t('wq_ship_to'), [address.name, address.city, address.postcode, address.country].filter(Boolean).join(', ')),
    ));
    const parts = [facts];
    parts.push(part('lines', t('wq_lines'), o.lines, (line) =>
      el('li', { 'data-sku': line.sku },
        el('span', { class: 'c360-main', text: line.sku }),
        el('span', { class: 'muted', text: `× ${line.qty}` }),
        el('span', { class: 'c360-num', text: O.money(line.line_total.amount, line.line_total.currency) }))));
    parts.push(part('shipments', t('shipments'), o.shipments || [], (s) => {
      const url = O.safeUrl(s.tracking_url);
      return el('li', { 'data-shipment': s.id },
        el('span', { class: 'c360-main', text: `${s.location || ''} · ${s.courier || '—'}` }),
        el('span', { class: 'badge', 'data-status': s.status, text: O.codeName(s.status) }),
        s.is_return ? el('span', { class: 'badge', text: t('return_shipment') }) : null,
        url ? el('a', { class: 'c360-sub', href: url, target: '_blank', rel: 'noopener noreferrer', text: `${t('track')}: ${s.tracking_number || ''}` })
          : el('span', { class: 'muted c360-sub', text: s.tracking_number || s.id }));
    }));
    parts.push(part('payments', t('payments'), o.payments || [], (p) =>
      el('li', { 'data-payment': p.id },
        el('span', { class: 'c360-main', text: p.provider }),
        el('span', { class: 'badge', 'data-status': p.status, text: O.codeName(p.status) }),
        el('span', { class: 'c360-num', text: O.money(p.amount, o.currency) }))));
    const events = found.timeline || [];
    const timeline = el('ol', { class: 'order-timeline' });
    if (!events.length) timeline.append(el('li', { class: 'muted', text: found.timeline ? t('none') : t('wq_no_timeline') }));
    for (const e of events) {
      const summary = (e.summary && (e.summary[state.lang] || e.summary.en)) || e.type;
      timeline.append(el('li', { 'data-event': e.type },
        el('time', { datetime: e.at, class: 'muted', text: O.formatTime(e.at) }),
        el('span', { text: summary })));
    }
    parts.push(el('section', { class: 'order-part order-part-wide', 'data-part': 'timeline', 'data-count': String(events.length) },
      el('h4', {}, t('wq_timeline'), el('span', { class: 'pillar-count', text: String(events.length) })), timeline));
    $('#order-body').replaceChildren.apply($('#order-body'), parts);
  }

  // ---- events ---------------------------------------------------------------------------------

  O.wireWork = function wireWork() {
    $('#work-refresh').addEventListener('click', () => O.refreshWork());
    // Closing gives the focus back to what opened it (the tile, the list), never to the page.
    $('#work-list-close').addEventListener('click', () => {
      const queue = state.queue;
      O.commit({ queue: '', order: '' });
      const tileLink = $(`#work-tiles [data-queue="${queue}"] a`);
      if (tileLink) tileLink.focus();
    });
    $('#order-close').addEventListener('click', () => {
      const order = state.order;
      O.commit({ order: '' });
      const item = $(`#work-items [data-order-id="${order}"] a`);
      if (item) item.focus();
      else if (!$('#work-list').hidden) $('#work-list-title').focus();
    });
  };
})();
