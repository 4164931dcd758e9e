/* Emporio ops: the segment view: how many customers each segment holds today and how that moved
 * day by day (GET /v1/segments), as SVG bars and lines with a table of the change. */
(function () {
  'use strict';
  const O = (window.EmporioOps = window.EmporioOps || {});
  const state = O.state;
  const el = O.el;
  const t = O.t;

  let loadedKey = '';
  let data = null;
  let seq = 0;

  /** /v1/segments counts back from today: the window is the period's length (1 to 366 days). */
  function windowDays() {
    return Math.max(1, Math.min(366, O.daysBetween(state.from, state.to)));
  }

  O.loadSegmentNames = async function loadSegmentNames() {
    try {
      const policy = await O.getJSON('/v1/policies/segments');
      const names = {};
      for (const rule of (policy.document && policy.document.segments) || []) names[rule.id] = rule.name || {};
      state.segmentNames = names;
    } catch (error) {
      O.ignoreSignedOut(error); // the built-in names stand in
    }
  };

  O.syncSegments = function syncSegments() {
    const key = String(windowDays());
    if (key === loadedKey) return;
    loadedKey = key;
    load(windowDays());
  };

  O.resetSegments = function resetSegments() {
    loadedKey = '';
    data = null;
  };

  async function load(days) {
    const mine = ++seq;
    const root = O.$('#segments-view');
    root.dataset.state = 'loading';
    root.dataset.days = String(days);
    O.$('#segments-status').textContent = t('loading');
    try {
      const answer = await O.getJSON(`/v1/segments?days=${days}`);
      if (mine !== seq) return;
      data = answer;
      render();
      O.$('#segments-status').textContent = '';
      root.dataset.state = 'ready';
    } catch (error) {
      if (mine !== seq || error instanceof O.SignedOut) return;
      root.dataset.state = 'error';
      O.$('#segments-status').textContent = `${t('error_load')}: ${error.message}`;
    }
  }

  O.rerenderSegments = function rerenderSegments() {
    if (data) render();
  };

  /** A colour key; set through the CSSOM (the page's CSP forbids style attributes). */
  function swatch(color) {
    const node = el('span', { class: 'swatch', 'aria-hidden': 'true' });
    node.style.background = color;
    return node;
  }

  function render() {
    const ids = Object.keys(data.now);
    for (const point of data.series) for (const id of Object.keys(point.sizes)) if (!ids.includes(id)) ids.push(id);
    const order = state.segmentNames ? Object.keys(state.segmentNames) : [];
    ids.sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99) || a.localeCompare(b));
    const color = (id) => O.PALETTE[ids.indexOf(id) % O.PALETTE.length];
    O.$('#segments-window').textContent = O.tf('segments_window', { n: O.$('#segments-view').dataset.days });

    const bars = O.$('#segments-bars');
    if (!ids.length) {
      bars.replaceChildren(el('p', { class: 'muted', text: t('no_segments') }));
      O.$('#segments-lines').replaceChildren();
      O.$('#segments-table tbody').replaceChildren();
      return;
    }
    const rows = ids.map((id) => ({ id, name: O.segmentName(id), value: data.now[id] || 0, color: color(id) }));
    bars.replaceChildren(O.barsChart(rows, t('segments_now')));

    // Midnight by midnight, then now: today's changes show as the last step.
    const points = data.series.concat([{ at: new Date().toISOString(), sizes: data.now }]);
    const days = points.map((p) => p.at);
    const lines = ids.map((id) => ({
      id, name: O.segmentName(id), color: color(id), values: points.map((p) => p.sizes[id] || 0),
    }));
    const legend = el('ul', { class: 'legend' });
    for (const line of lines) {
      legend.append(el('li', {}, swatch(line.color), line.name));
    }
    O.$('#segments-lines').replaceChildren(O.multiLineChart(days, lines, t('segments_movement'), t('now')), legend);

    const body = O.$('#segments-table tbody');
    body.replaceChildren();
    for (const line of lines) {
      const first = line.values.length ? line.values[0] : 0;
      const now = data.now[line.id] || 0;
      const delta = now - first;
      body.append(el('tr', { 'data-segment': line.id, 'data-now': now, 'data-start': first },
        el('th', { scope: 'row' }, swatch(line.color), line.name),
        el('td', { class: 'num', text: O.number(first, 0) }),
        el('td', { class: 'num', text: O.number(now, 0) }),
        el('td', { class: `num ${delta > 0 ? 'up' : delta < 0 ? 'down' : ''}`, text: `${delta > 0 ? '+' : delta < 0 ? '−' : ''}${O.number(Math.abs(delta), 0)}` })));
    }
  }
})();
