/* Emporio ops: the customer 360 beside a case: who they are, their segments and RFM scores, the
 * next best actions with their reasons, orders, shipments (tracking links), payments, returns
 * and earlier cases, newest first (the `context` of GET /v1/cases/{id}). */
(function () {
  'use strict';
  const O = (window.EmporioOps = window.EmporioOps || {});
  const el = O.el;
  const t = O.t;

  function section(name, title, items, render) {
    const list = el('ul', { class: 'c360-list' });
    if (!items.length) list.append(el('li', { class: 'muted', text: t('none') }));
    for (const item of items) list.append(render(item));
    return el('section', { class: 'c360-section', 'data-section': name, 'data-count': String(items.length) },
      el('h3', {}, title, el('span', { class: 'pillar-count', text: String(items.length) })), list);
  }

  function day(iso) {
    return iso ? O.formatDay(String(iso), { day: 'numeric', month: 'short', year: 'numeric' }) : '';
  }

  function orderLabel(orders, id) {
    const order = orders.find((o) => o.id === id);
    return order && order.external_ref ? order.external_ref : id;
  }

  O.renderCustomer360 = function renderCustomer360(c) {
    const root = O.$('#customer360');
    const ctx = c.context || {};
    const who = ctx.customer || c.customer;
    root.dataset.customerId = who.id || c.customer.id;
    const orders = ctx.orders || [];
    const parts = [];

    parts.push(el('header', { class: 'c360-who' },
      el('p', { class: 'eyebrow', text: t('customer360') }),
      el('h2', { class: 'c360-name', text: who.name || who.email || who.id }),
      who.email ? el('p', { class: 'muted', text: who.email }) : null,
      who.phone ? el('p', { class: 'muted', text: who.phone }) : null));

    const segments = ctx.segments || [];
    const chips = el('p', { class: 'chips', 'aria-label': t('segments') });
    for (const s of segments) chips.append(el('span', { class: `chip chip-${s}`, 'data-segment': s, text: O.segmentName(s) }));
    if (ctx.rfm) {
      chips.append(el('span', {
        class: 'chip chip-rfm', title: t('rfm'), 'data-rfm': `${ctx.rfm.recency}${ctx.rfm.frequency}${ctx.rfm.monetary}`,
        text: `R${ctx.rfm.recency} F${ctx.rfm.frequency} M${ctx.rfm.monetary}`,
      }));
    }
    if (chips.childNodes.length) parts.push(chips);

    const actions = ctx.next_best_actions || [];
    if (actions.length) {
      parts.push(section('next_best_actions', t('next_actions'), actions, (a) =>
        el('li', { class: 'nba', 'data-action': a.action },
          el('strong', { text: a.title }),
          el('span', { class: 'muted', text: a.reason }))));
    }

    parts.push(section('orders', t('orders'), orders, (o) =>
      el('li', { 'data-order': o.id },
        el('span', { class: 'c360-main', text: o.external_ref || o.id }),
        el('span', { class: 'badge', 'data-status': o.status, text: O.codeName(o.status) }),
        el('span', { class: 'c360-num', text: O.money(o.grand_total, o.currency) }),
        el('span', { class: 'muted c360-sub', text: `${day(o.placed_at)} · ${o.channel}` }))));

    parts.push(section('shipments', t('shipments'), ctx.shipments || [], (s) => {
      const url = O.safeUrl(s.tracking_url);
      const tracking = s.tracking_number || t('track');
      return el('li', { 'data-shipment': s.id },
        el('span', { class: 'c360-main', text: `${s.courier || ''} · ${orderLabel(orders, s.order_id)}` }),
        el('span', { class: 'badge', 'data-status': s.status, text: O.codeName(s.status) }),
        s.is_return ? el('span', { class: 'badge', text: t('return_shipment') }) : null,
        url
          ? el('a', { class: 'c360-sub', href: url, target: '_blank', rel: 'noopener noreferrer', 'data-tracking': 'link',
            text: `${t('track')}: ${tracking}` })
          : el('span', { class: 'muted c360-sub', text: s.tracking_number || '' }),
        s.failure_reason ? el('span', { class: 'c360-sub late', text: s.failure_reason }) : null);
    }));

    parts.push(section('payments', t('payments'), ctx.payments || [], (p) =>
      el('li', { 'data-payment': p.id },
        el('span', { class: 'c360-main', text: `${p.provider} · ${orderLabel(orders, p.order_id)}` }),
        el('span', { class: 'badge', 'data-status': p.status, text: O.codeName(p.status) }),
        el('span', { class: 'c360-num', text: O.money(p.amount, p.currency) }),
        p.refunded ? el('span', { class: 'muted c360-sub', text: `${t('refunded')} ${O.money(p.refunded, p.currency)}` }) : null)));

    parts.push(section('returns', t('returns'), ctx.returns || [], (r) =>
      el('li', { 'data-return': r.id },
        el('span', { class: 'c360-main', text: orderLabel(orders, r.order_id) }),
        el('span', { class: 'badge', 'data-status': r.status, text: O.codeName(r.status) }),
        r.resolution ? el('span', { class: 'muted c360-sub', text: O.codeName(r.resolution) }) : null)));

    const earlier = (ctx.cases || []).filter((k) => k.id !== c.id);
    parts.push(section('cases', t('earlier_cases'), earlier, (k) =>
      el('li', { 'data-case': k.id },
        el('button', {
          type: 'button', class: 'link-button c360-main', text: `#${k.number} · ${k.subject || ''}`,
          onclick: () => O.commit({ caseId: k.id }),
        }),
        el('span', { class: 'badge', text: t(`status_${k.status}`) }),
        el('span', { class: 'muted c360-sub', text: `${day(k.created_at)} · ${t(`ch_${k.channel}`)} · ${O.topicName(k.topic)}` }))));

    root.replaceChildren.apply(root, parts.filter(Boolean));
  };
})();
