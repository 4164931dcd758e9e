/* Emporio ops: the KPI dashboard: a tile per KPI (its definition on hover), grouped by pillar,
 * and the detail panel of one KPI (series chart and group-by table). */
(function () {
  'use strict';
  const O = (window.EmporioOps = window.EmporioOps || {});
  const state = O.state;
  const $ = O.$;
  const $$ = O.$$;
  const el = O.el;
  const t = O.t;

  O.PILLARS = [
    { id: 'orders', kpis: ['orders_placed', 'average_order_value'] },
    { id: 'payments', kpis: ['payment_conversion_rate', 'checkout_abandonment_rate'] },
    {
      id: 'fulfilment',
      kpis: [
        'completed_orders', 'on_time_delivery_rate', 'on_time_shipping_rate', 'perfect_order_rate',
        'order_cycle_time_hours', 'order_picking_time_minutes', 'orders_picked_per_hour', 'picking_accuracy',
        'line_item_fill_rate', 'avg_shipping_cost', 'shipping_cost_to_sales', 'order_fill_rate',
        'inventory_accuracy',
      ],
    },
    {
      id: 'returns',
      kpis: ['return_rate_units', 'return_rate_orders', 'resell_rate', 'replacement_rate', 'repair_cost_ratio',
        'recycling_rate'],
    },
    {
      id: 'customer_service',
      kpis: [
        'total_tickets', 'tickets_per_customer', 'first_response_time_minutes', 'response_time_minutes',
        'resolution_time_hours', 'average_handle_time_minutes', 'first_contact_resolution_rate',
        'cost_per_resolution', 'channel_switch_rate', 'repeat_contact_rate', 'top_performing_agents', 'csat', 'ces',
        'nps', 'ces_mean', 'average_rating', 'survey_response_rate',
      ],
    },
    {
      id: 'customers',
      kpis: ['customer_retention_rate', 'churn_rate', 'customer_lifetime_value', 'post_service_repurchase_rate'],
    },
    { id: 'other', kpis: [] }, // anything the engine defines that is not listed above
  ];

  const loaded = { kpis: '', detail: '' };
  let loadSeq = 0;
  let detailSeq = 0;

  const periodKey = () => `${state.from}|${state.to}|${JSON.stringify(O.activeFilters())}`;

  O.pillarOf = function pillarOf(id) {
    const pillar = O.PILLARS.find((p) => p.kpis.includes(id));
    return pillar ? pillar.id : 'other';
  };

  function pillarsWithKpis() {
    const ids = new Set(Object.keys(state.result.kpis).concat(Array.from(state.defs.keys())));
    const placed = new Set();
    const out = [];
    for (const pillar of O.PILLARS) {
      let kpis = pillar.kpis.filter((id) => ids.has(id));
      if (pillar.id === 'other') kpis = Array.from(ids).filter((id) => !placed.has(id)).sort();
      kpis.forEach((id) => placed.add(id));
      if (kpis.length) out.push({ id: pillar.id, kpis });
    }
    return out;
  }

  // ---- loading --------------------------------------------------------------------------------

  async function loadKpis() {
    const seq = ++loadSeq; // a slower, older answer never overwrites a newer one
    loaded.kpis = periodKey();
    const main = $('#dashboard');
    main.dataset.state = 'loading';
    main.dataset.from = state.from;
    main.dataset.to = state.to;
    main.dataset.filters = JSON.stringify(O.activeFilters());
    O.renderPeriodLabel();
    $('#export-csv').href = `/v1/kpis?${O.query({ format: 'csv' })}`;
    O.setStatus(t('loading'));
    const previous = O.previousPeriod(state.from, state.to);
    try {
      const result = await O.getJSON(`/v1/kpis?${O.query()}`);
      if (seq !== loadSeq) return;
      state.result = result;
      state.previous = null;
      renderTiles();
      O.setStatus('');
      main.dataset.state = 'ready';
      // The landing view's trends come after the tiles: the figures first, then their shape.
      const before = await O.getJSON(`/v1/kpis?${O.query({}, previous)}`).catch((e) => {
        O.ignoreSignedOut(e);
        return null;
      });
      if (seq !== loadSeq) return;
      state.previous = before;
      await O.loadTrends(seq, () => seq === loadSeq);
    } catch (error) {
      if (seq === loadSeq && !(error instanceof O.SignedOut)) O.failed(error);
    }
  }

  O.failed = function failed(error) {
    $('#dashboard').dataset.state = 'error';
    O.setStatus(`${t('error_load')}: ${error.message}`, 'error');
  };

  /** Brings the dashboard in line with the state (called by the router after every change). */
  O.syncDashboard = function syncDashboard() {
    if (!state.defs.size) return; // the definitions are still loading; O.startDashboard syncs again
    if (loaded.kpis !== periodKey()) {
      state.result = null;
      loadKpis();
    }
    syncDetail();
  };

  O.rerenderDashboard = function rerenderDashboard() {
    if (state.result) renderTiles();
    if (state.selected) renderDetail();
    O.rerenderTrends();
  };

  O.resetDashboard = function resetDashboard() {
    loaded.kpis = '';
    loaded.detail = '';
    state.result = null;
    $('#detail').hidden = true;
  };

  // ---- tiles ----------------------------------------------------------------------------------

  function renderTiles() {
    const root = $('#pillars');
    root.replaceChildren();
    for (const pillar of pillarsWithKpis()) {
      const grid = el('div', { class: 'tiles' });
      for (const id of pillar.kpis) grid.append(tile(id, pillar.id));
      const span = Math.min(pillar.kpis.length, 5); // small pillars share a row
      root.append(
        el('section', { class: `pillar pillar-${pillar.id} span-${span}`, 'data-pillar': pillar.id },
          el('h2', { class: 'pillar-title' }, el('span', { class: 'pillar-dot', 'aria-hidden': 'true' }),
            t(`pillar_${pillar.id}`), el('span', { class: 'pillar-count', text: String(pillar.kpis.length) })),
          grid),
      );
    }
  }

  function tile(id, pillarId) {
    const def = state.defs.get(id) || { name: id, unit: '', formula: '', dimensions: [] };
    const item = state.result.kpis[id] || { value: null, unit: def.unit };
    const unit = item.unit || def.unit;
    const name = O.kpiName(id);
    const tipId = `tip-${id}`;
    const basis = O.formatBasis(item, id, unit);
    const button = el('button', {
      type: 'button',
      class: 'tile-main',
      title: `${name} — ${def.formula || ''}`.trim(),
      'aria-describedby': tipId,
      'aria-pressed': String(state.selected === id),
      onclick: () => O.selectKpi(id),
    },
    el('span', { class: 'tile-name', text: name }),
    el('span', { class: `tile-value${item.value === null ? ' tile-value-empty' : ''}`, text: O.formatValue(item.value, unit) }),
    unit === 'ratio' && typeof item.value === 'number' ? meter(item.value) : null,
    el('span', { class: 'tile-basis', text: basis || '\u00a0' }));
    const article = el('article', {
      class: `tile pillar-${pillarId}${state.selected === id ? ' tile-selected' : ''}`,
      'data-kpi': id,
      'data-value': JSON.stringify(item.value === undefined ? null : item.value),
      'data-unit': unit,
    }, button);
    if (item.filter_not_applicable) {
      article.append(el('span', { class: 'tile-note', 'data-note': 'filter_not_applicable', text: t('filter_na') }));
    }
    article.append(
      el('div', { class: 'tooltip', role: 'tooltip', id: tipId },
        el('strong', { text: name }),
        el('span', { text: def.formula || '' }),
        el('em', { text: t('click_for_detail') })),
    );
    return article;
  }

  function meter(ratio) {
    const width = Math.max(0, Math.min(1, ratio)) * 100;
    return O.svg('svg', { class: 'meter', viewBox: '0 0 100 4', preserveAspectRatio: 'none', 'aria-hidden': 'true' },
      O.svg('rect', { class: 'meter-track', x: 0, y: 0, width: 100, height: 4, rx: 2 }),
      O.svg('rect', { class: 'meter-fill', x: 0, y: 0, width: width.toFixed(2), height: 4, rx: 2 }));
  }

  // ---- detail: series chart and group-by table --------------------------------------------------

  O.selectKpi = function selectKpi(id) {
    const def = state.defs.get(id);
    const dims = (def && def.dimensions) || [];
    const groupBy = dims.includes(state.groupBy) ? state.groupBy : dims[0] || '';
    O.commit({ selected: id, groupBy });
    $('#detail').scrollIntoView({ block: 'start', behavior: 'smooth' });
  };

  function syncDetail() {
    const id = state.selected;
    for (const node of $$('.tile')) {
      const on = node.dataset.kpi === id;
      node.classList.toggle('tile-selected', on);
      $('.tile-main', node).setAttribute('aria-pressed', String(on));
    }
    if (!id) {
      detailSeq++;
      loaded.detail = '';
      $('#detail').hidden = true;
      return;
    }
    $('#detail').hidden = false;
    const key = `${id}|${state.granularity}|${state.groupBy}|${periodKey()}`;
    if (key === loaded.detail) return;
    loaded.detail = key;
    state.series = null;
    state.groups = null;
    renderDetail();
    loadDetail();
  }

  async function loadDetail() {
    const id = state.selected;
    const seq = ++detailSeq;
    const chart = $('#chart');
    chart.dataset.state = 'loading';
    const base = `/v1/kpis/${encodeURIComponent(id)}`;
    $('#series-csv').href = `${base}?${O.query({ granularity: state.granularity, format: 'csv' })}`;
    try {
      const wanted = [O.getJSON(`${base}?${O.query({ granularity: state.granularity })}`)];
      if (state.groupBy) wanted.push(O.getJSON(`${base}?${O.query({ group_by: state.groupBy })}`));
      const answers = await Promise.all(wanted);
      if (seq !== detailSeq) return;
      state.series = answers[0];
      state.groups = answers[1] || null;
      renderDetail();
    } catch (error) {
      if (seq === detailSeq && !(error instanceof O.SignedOut)) {
        chart.dataset.state = 'error';
        chart.replaceChildren(el('p', { class: 'status status-error', text: `${t('error_load')}: ${error.message}` }));
      }
    }
  }

  function renderDetail() {
    const id = state.selected;
    const def = state.defs.get(id) || { id, name: id, unit: '', formula: '', dimensions: [] };
    const pillar = O.pillarOf(id);
    $('#detail').className = `detail pillar-${pillar}`;
    $('#detail').dataset.kpi = id;
    $('#detail-pillar').textContent = t(`pillar_${pillar}`);
    $('#detail-title').textContent = O.kpiName(id);
    $('#detail-formula').textContent = def.formula || '';
    for (const button of $$('[data-granularity]')) {
      button.setAttribute('aria-pressed', String(button.dataset.granularity === state.granularity));
    }
    $('#chart-caption').textContent = `${O.kpiName(id)} · ${t('series_caption')} ${t(state.granularity).toLowerCase()}`;
    if (state.series && state.series.id === id) {
      O.renderChart($('#chart'), state.series.series, def.unit, state.granularity, O.kpiName(id));
    }
    renderGroups(def);
  }

  function renderGroups(def) {
    const card = $('#groups-card');
    const dims = def.dimensions || [];
    card.hidden = dims.length === 0;
    if (!dims.length) return;
    const select = $('#group-by');
    select.replaceChildren.apply(select, dims.map((d) => el('option', { value: d, text: O.dimensionName(d) })));
    select.value = state.groupBy;
    $('#groups-key-head').textContent = O.dimensionName(state.groupBy);
    $('#groups-csv').href = `/v1/kpis/${encodeURIComponent(def.id)}?${O.query({ group_by: state.groupBy, format: 'csv' })}`;
    const body = $('#groups tbody');
    body.replaceChildren();
    const groups = state.groups && state.groups.id === def.id ? state.groups.groups : null;
    if (!groups) return;
    if (!groups.length) {
      body.append(el('tr', {}, el('td', { colspan: 4, class: 'muted', text: t('no_data') })));
      return;
    }
    const max = Math.max.apply(null, [0].concat(groups.map((g) => (typeof g.value === 'number' ? Math.abs(g.value) : 0))));
    for (const group of groups) {
      const share = max > 0 && typeof group.value === 'number' ? Math.abs(group.value) / max : 0;
      body.append(
        el('tr', { 'data-key': group.key === null ? '' : String(group.key), 'data-value': JSON.stringify(group.value) },
          el('th', { scope: 'row', text: O.groupKeyLabel(state.groupBy, group.key) }),
          el('td', { class: 'num', text: O.formatValue(group.value, def.unit) }),
          el('td', { class: 'num muted', text: O.formatBasis(group, def.id, def.unit) }),
          el('td', { class: 'bar-cell' },
            O.svg('svg', { class: 'bar', viewBox: '0 0 100 8', preserveAspectRatio: 'none', 'aria-hidden': 'true' },
              O.svg('rect', { class: 'bar-fill', x: 0, y: 0, width: (share * 100).toFixed(2), height: 8, rx: 2 })))),
      );
    }
  }

  O.redrawChart = function redrawChart() {
    if (state.selected) renderDetail();
  };
})();
