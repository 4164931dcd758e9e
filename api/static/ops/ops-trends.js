/* Emporio ops: the landing view's trends: each pillar's key series over the period, drawn beside
 * the previous period of the same length, with the change between the two totals. */
(function () {
  'use strict';
  const O = (window.EmporioOps = window.EmporioOps || {});
  const state = O.state;
  const el = O.el;
  const t = O.t;

  // Each pillar's key series (the first ones the engine defines are shown).
  const KEY_SERIES = [
    ['orders', 'orders_placed'],
    ['orders', 'average_order_value'],
    ['payments', 'payment_conversion_rate'],
    ['fulfilment', 'on_time_delivery_rate'],
    ['returns', 'return_rate_orders'],
    ['customer_service', 'total_tickets'],
    ['customer_service', 'first_response_time_minutes'],
    ['customers', 'customer_lifetime_value'],
  ];
  // Where a smaller number is the better one (the change is coloured accordingly).
  const LOWER_IS_BETTER = new Set([
    'checkout_abandonment_rate', 'order_cycle_time_hours', 'order_picking_time_minutes', 'avg_shipping_cost',
    'shipping_cost_to_sales', 'return_rate_units', 'return_rate_orders', 'repair_cost_ratio', 'tickets_per_customer',
    'first_response_time_minutes', 'response_time_minutes', 'resolution_time_hours', 'average_handle_time_minutes',
    'cost_per_resolution', 'channel_switch_rate', 'repeat_contact_rate', 'churn_rate', 'total_tickets',
  ]);
  const PARALLEL = 3; // the server is shared with the people using it: a few requests at a time

  let series = {}; // id → {current, previous, granularity}

  /** Days for up to two months, weeks up to a year, months beyond. */
  function granularityFor(from, to) {
    const days = O.daysBetween(from, to);
    return days <= 62 ? 'day' : days <= 366 ? 'week' : 'month';
  }

  function wanted() {
    return KEY_SERIES.filter((pair) => state.defs.has(pair[1]));
  }

  O.loadTrends = async function loadTrends(seq, stillCurrent) {
    const root = O.$('#trends');
    series = {};
    const granularity = granularityFor(state.from, state.to);
    const previous = O.previousPeriod(state.from, state.to);
    root.dataset.state = 'loading';
    root.dataset.previousFrom = previous[0];
    root.dataset.previousTo = previous[1];
    renderTrends();
    const queue = wanted().map((pair) => pair[1]);
    const worker = async () => {
      while (queue.length) {
        const id = queue.shift();
        const base = `/v1/kpis/${encodeURIComponent(id)}?`;
        try {
          const answers = await Promise.all([
            O.getJSON(base + O.query({ granularity })),
            O.getJSON(base + O.query({ granularity }, previous)),
          ]);
          if (!stillCurrent()) return;
          series[id] = { current: answers[0].series, previous: answers[1].series, granularity };
        } catch (error) {
          O.ignoreSignedOut(error);
          if (!stillCurrent()) return;
          series[id] = { error: error.message };
        }
        renderCard(id);
      }
    };
    const workers = [];
    for (let i = 0; i < PARALLEL; i++) workers.push(worker());
    await Promise.all(workers);
    if (stillCurrent()) root.dataset.state = 'ready';
  };

  O.rerenderTrends = function rerenderTrends() {
    if (state.result) renderTrends();
  };

  function renderTrends() {
    const root = O.$('#trends');
    const previous = O.previousPeriod(state.from, state.to);
    const opts = { day: 'numeric', month: 'short', year: 'numeric' };
    O.$('#trends-previous').textContent = `${t('previous_period')}: ${O.formatDay(previous[0], opts)} – `
      + `${O.formatDay(O.addDays(previous[1], -1), opts)}`;
    const grid = O.$('#trend-cards');
    grid.replaceChildren();
    for (const pair of wanted()) grid.append(el('article', { class: `trend pillar-${pair[0]}`, 'data-kpi': pair[1] }));
    for (const pair of wanted()) renderCard(pair[1]);
    root.hidden = false;
  }

  function change(id, now, before, unit) {
    if (typeof now !== 'number' || typeof before !== 'number') return null;
    let text;
    if (unit === 'ratio') {
      const points = (now - before) * 100;
      text = `${points >= 0 ? '+' : '−'}${O.number(Math.abs(points), 1)} ${t('unit_pp')}`;
    } else if (before === 0) {
      return null;
    } else {
      const relative = (now - before) / Math.abs(before);
      text = `${relative >= 0 ? '+' : '−'}${new Intl.NumberFormat(O.locale(), {
        style: 'percent', maximumFractionDigits: 1,
      }).format(Math.abs(relative))}`;
    }
    const better = now === before ? 'same' : (now < before) === LOWER_IS_BETTER.has(id) ? 'better' : 'worse';
    const arrow = now > before ? '▲' : now < before ? '▼' : '＝';
    return el('span', { class: `trend-change trend-${better}`, 'data-change': better, text: `${arrow} ${text}` });
  }

  function renderCard(id) {
    const card = O.$(`#trend-cards [data-kpi="${id}"]`);
    if (!card) return;
    const def = state.defs.get(id) || { unit: '' };
    const item = (state.result && state.result.kpis[id]) || {};
    const unit = item.unit || def.unit;
    const before = state.previous && state.previous.kpis[id] ? state.previous.kpis[id].value : null;
    const now = item.value === undefined ? null : item.value;
    const data = series[id];
    card.dataset.value = JSON.stringify(now);
    card.dataset.previousValue = JSON.stringify(before === undefined ? null : before);
    const name = O.kpiName(id);
    const body = [
      el('p', { class: 'eyebrow', text: t(`pillar_${O.pillarOf(id)}`) }),
      el('h3', { class: 'trend-name', text: name }),
      el('p', { class: 'trend-figures' },
        el('strong', { class: 'trend-value', text: O.formatValue(now, unit) }),
        change(id, now, before, unit),
        el('span', { class: 'trend-before muted', text: `${t('vs_previous')} ${O.formatValue(before, unit)}` })),
    ];
    if (!data) {
      card.dataset.state = 'loading';
      body.push(el('div', { class: 'trend-chart trend-chart-empty muted', text: t('loading') }));
    } else if (data.error) {
      card.dataset.state = 'error';
      body.push(el('div', { class: 'trend-chart trend-chart-empty status-error', text: `${t('error_load')}: ${data.error}` }));
    } else {
      const some = (points) => points.some((p) => typeof p.value === 'number');
      card.dataset.state = some(data.current) || some(data.previous) ? 'ready' : 'empty';
      card.dataset.points = String(data.current.length);
      card.dataset.previousPoints = String(data.previous.length);
      body.push(card.dataset.state === 'empty'
        ? el('div', { class: 'trend-chart trend-chart-empty muted', text: t('no_data') })
        : el('div', { class: 'trend-chart' }, O.trendChart(data.current, data.previous, unit, data.granularity, name)));
    }
    const button = el('button', {
      type: 'button', class: 'trend-main', title: `${name} — ${def.formula || ''}`, onclick: () => O.selectKpi(id),
    });
    button.append.apply(button, body);
    card.replaceChildren(button);
  }
})();
