/* Emporio ops: the SVG charts (a KPI's series, a trend beside the previous period, several lines
 * for segments, horizontal bars). Drawn by hand: no chart library, nothing loaded from elsewhere. */
(function () {
  'use strict';
  const O = (window.EmporioOps = window.EmporioOps || {});
  const svg = O.svg;

  /** A round gridline step for about four steps over `range`. */
  function niceStep(range) {
    const raw = range > 0 ? range / 4 : 0.25;
    const magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
    return [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw);
  }

  /** [min, max, step] of a value axis that starts at zero (below it only for scores like NPS). */
  function valueAxis(values) {
    const present = values.filter((v) => typeof v === 'number');
    const low = Math.min.apply(null, [0].concat(present));
    const high = Math.max.apply(null, [0].concat(present));
    const step = niceStep(high - low);
    const minV = low < 0 ? -step * Math.ceil(-low / step - 1e-9) : 0;
    const maxV = step * Math.max(1, Math.ceil(high / step - 1e-9));
    return [minV, maxV, step];
  }

  function gridAndLabels(chart, box, axis, unit) {
    const minV = axis[0];
    const step = axis[2];
    const ticks = Math.round((axis[1] - minV) / step);
    for (let i = 0; i <= ticks; i++) {
      const v = minV + step * i;
      const yy = box.y(v);
      chart.append(svg('line', { class: 'grid', x1: box.left, x2: box.right, y1: yy, y2: yy }));
      chart.append(O.svgText({ class: 'axis-label', x: box.left - 8, y: yy + 4, 'text-anchor': 'end' }, O.formatAxis(v, unit)));
    }
  }

  /** One path per run of known values: a day without data is a gap, not a zero. */
  function linePath(values, x, y) {
    let d = '';
    let run = [];
    const flush = () => {
      d += run.map((p, k) => `${k ? 'L' : 'M'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join('');
      run = [];
    };
    values.forEach((v, i) => (typeof v === 'number' ? run.push([i, v]) : flush()));
    flush();
    return d;
  }

  function dateLabels(chart, points, x, width, y, dateOpts, maxLabels) {
    const every = Math.max(1, Math.ceil(points.length / Math.max(2, maxLabels)));
    points.forEach((p, i) => {
      // Every `every`-th label, and the last one unless it would crowd the one before it.
      const last = i === points.length - 1;
      if (i % every !== 0 && !(last && i % every >= every / 2)) return;
      const text = p.label || O.formatDay(p.period_start || p.at, dateOpts);
      const halfWidth = text.length * 3.2; // about half the label's width at 11px
      const anchor = x(i) + halfWidth > width ? 'end' : x(i) - halfWidth < 0 ? 'start' : 'middle';
      chart.append(O.svgText({ class: 'axis-label', x: x(i), y, 'text-anchor': anchor }, text));
    });
  }

  function titled(node, text) {
    const title = svg('title');
    title.textContent = text;
    node.append(title);
    return node;
  }

  O.dateOpts = (granularity) => (granularity === 'month' ? { month: 'short', year: 'numeric' } : { day: 'numeric', month: 'short' });

  /** The detail panel's chart: bars for counts, a line with an area for everything else. */
  O.renderChart = function renderChart(root, points, unit, granularity, label) {
    const values = points.map((p) => (typeof p.value === 'number' ? p.value : null));
    root.dataset.points = String(points.length);
    if (!points.length || values.every((v) => v === null)) {
      root.dataset.state = 'empty';
      root.replaceChildren(O.el('p', { class: 'chart-empty muted', text: O.t('no_data') }));
      return;
    }
    const width = Math.max(root.clientWidth || 640, 320);
    const height = 260;
    const pad = { top: 16, right: 16, bottom: 30, left: 64 };
    const innerW = width - pad.left - pad.right;
    const innerH = height - pad.top - pad.bottom;
    const axis = valueAxis(values);
    const span = axis[1] - axis[0] || 1;
    const x = (i) => pad.left + (points.length === 1 ? innerW / 2 : (i * innerW) / (points.length - 1));
    const y = (v) => pad.top + innerH - ((v - axis[0]) / span) * innerH;
    const dateOpts = O.dateOpts(granularity);
    const chart = svg('svg', {
      class: 'chart-svg', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img',
      'aria-label': `${label}: ${points.length} ${O.t('points')}`,
    });
    chart.append(svg('defs', {},
      svg('linearGradient', { id: 'chart-fill', x1: 0, y1: 0, x2: 0, y2: 1 },
        svg('stop', { offset: '0%', class: 'chart-fill-top' }),
        svg('stop', { offset: '100%', class: 'chart-fill-bottom' }))));
    gridAndLabels(chart, { left: pad.left, right: width - pad.right, y }, axis, unit);
    dateLabels(chart, points, x, width, height - 8, dateOpts, Math.floor(innerW / 90));
    const tip = (p, v) => `${O.formatDay(p.period_start, dateOpts)}: ${O.formatValue(v, unit)}`;
    if (unit === 'count') {
      const barW = Math.max(2, Math.min(36, (innerW / points.length) * 0.6));
      points.forEach((p, i) => {
        if (values[i] === null) return;
        const top = y(Math.max(values[i], 0));
        chart.append(titled(svg('rect', {
          class: 'chart-bar', x: x(i) - barW / 2, y: top, width: barW, height: Math.max(y(0) - top, 0.5), rx: 2,
        }), tip(p, values[i])));
      });
    } else {
      let area = '';
      let run = [];
      const flush = () => {
        if (run.length) {
          area += `M${x(run[0][0]).toFixed(1)},${y(axis[0]).toFixed(1)}`
            + run.map((r) => `L${x(r[0]).toFixed(1)},${y(r[1]).toFixed(1)}`).join('')
            + `L${x(run[run.length - 1][0]).toFixed(1)},${y(axis[0]).toFixed(1)}Z`;
        }
        run = [];
      };
      values.forEach((v, i) => (v === null ? flush() : run.push([i, v])));
      flush();
      chart.append(svg('path', { class: 'chart-area', d: area, fill: 'url(#chart-fill)' }));
      chart.append(svg('path', { class: 'chart-line', d: linePath(values, x, y) }));
      points.forEach((p, i) => {
        if (values[i] === null) return;
        chart.append(titled(svg('circle', {
          class: 'chart-dot', cx: x(i), cy: y(values[i]), r: points.length > 45 ? 2 : 3.5,
        }), tip(p, values[i])));
      });
    }
    chart.append(svg('line', { class: 'axis', x1: pad.left, x2: width - pad.right, y1: y(axis[0]), y2: y(axis[0]) }));
    root.replaceChildren(chart);
    root.dataset.state = 'ready';
  };

  /** A small chart of this period's series with the previous period's, aligned day for day. */
  O.trendChart = function trendChart(current, previous, unit, granularity, label) {
    const width = 320;
    const height = 120;
    const pad = { top: 8, right: 8, bottom: 20, left: 44 };
    const n = Math.max(current.length, previous.length, 1);
    const now = current.map((p) => (typeof p.value === 'number' ? p.value : null));
    const before = previous.map((p) => (typeof p.value === 'number' ? p.value : null));
    const axis = valueAxis(now.concat(before));
    const span = axis[1] - axis[0] || 1;
    const innerW = width - pad.left - pad.right;
    const innerH = height - pad.top - pad.bottom;
    const x = (i) => pad.left + (n === 1 ? innerW / 2 : (i * innerW) / (n - 1));
    const y = (v) => pad.top + innerH - ((v - axis[0]) / span) * innerH;
    const chart = svg('svg', {
      class: 'trend-svg', viewBox: `0 0 ${width} ${height}`, role: 'img', preserveAspectRatio: 'xMidYMid meet',
      'aria-label': `${label}: ${O.t('this_period')} ${current.length} ${O.t('points')}, ${O.t('previous_period')} ${previous.length} ${O.t('points')}`,
    });
    gridAndLabels(chart, { left: pad.left, right: width - pad.right, y }, [axis[0], axis[1], span], unit);
    if (current.length) {
      const dateOpts = O.dateOpts(granularity);
      chart.append(O.svgText({ class: 'axis-label', x: pad.left, y: height - 5, 'text-anchor': 'start' },
        O.formatDay(current[0].period_start, dateOpts)));
      chart.append(O.svgText({ class: 'axis-label', x: width - pad.right, y: height - 5, 'text-anchor': 'end' },
        O.formatDay(current[current.length - 1].period_start, dateOpts)));
    }
    chart.append(svg('path', { class: 'trend-previous', d: linePath(before, x, y) }));
    chart.append(svg('path', { class: 'trend-current', d: linePath(now, x, y) }));
    current.forEach((p, i) => {
      if (now[i] === null) return;
      const was = before[i];
      const text = `${O.formatDay(p.period_start, O.dateOpts(granularity))}: ${O.formatValue(now[i], unit)}`
        + (typeof was === 'number' ? ` (${O.t('vs_previous')} ${O.formatValue(was, unit)})` : '');
      chart.append(titled(svg('circle', { class: 'trend-dot', cx: x(i), cy: y(now[i]), r: n > 45 ? 1.5 : 2.5 }), text));
    });
    chart.append(svg('line', { class: 'axis', x1: pad.left, x2: width - pad.right, y1: y(axis[0]), y2: y(axis[0]) }));
    return chart;
  };

  O.PALETTE = ['#2f5bea', '#db2777', '#0e9f6e', '#d97706', '#7c3aed', '#0891b2', '#64748b', '#b91c1c'];

  /** Several series over the same days (segment sizes), one coloured line each. */
  O.multiLineChart = function multiLineChart(days, lines, label, lastLabel) {
    const width = 760;
    const height = 280;
    const pad = { top: 14, right: 16, bottom: 28, left: 52 };
    const innerW = width - pad.left - pad.right;
    const innerH = height - pad.top - pad.bottom;
    const all = [];
    lines.forEach((l) => l.values.forEach((v) => all.push(v)));
    const axis = valueAxis(all);
    const span = axis[1] - axis[0] || 1;
    const x = (i) => pad.left + (days.length === 1 ? innerW / 2 : (i * innerW) / (days.length - 1));
    const y = (v) => pad.top + innerH - ((v - axis[0]) / span) * innerH;
    const chart = svg('svg', {
      class: 'multi-svg', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': label,
    });
    gridAndLabels(chart, { left: pad.left, right: width - pad.right, y }, axis, 'count');
    const marks = days.map((at, i) => ({ at, label: i === days.length - 1 ? lastLabel : null }));
    dateLabels(chart, marks, x, width, height - 8, O.dateOpts('day'), 8);
    lines.forEach((line) => {
      const path = svg('path', { class: 'multi-line', d: linePath(line.values, x, y), stroke: line.color, 'data-segment': line.id });
      chart.append(titled(path, `${line.name}: ${line.values[0]} → ${line.values[line.values.length - 1]}`));
    });
    chart.append(svg('line', { class: 'axis', x1: pad.left, x2: width - pad.right, y1: y(axis[0]), y2: y(axis[0]) }));
    return chart;
  };

  /** Horizontal bars with their labels and values, for sizes now. */
  O.barsChart = function barsChart(rows, label) {
    const rowH = 30;
    const width = 560;
    const labelW = 150;
    const valueW = 60;
    const height = Math.max(rows.length, 1) * rowH + 6;
    const max = Math.max.apply(null, [1].concat(rows.map((r) => r.value)));
    const chart = svg('svg', { class: 'bars-svg', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': label });
    rows.forEach((row, i) => {
      const top = i * rowH + 4;
      const barW = ((width - labelW - valueW) * row.value) / max;
      chart.append(O.svgText({ class: 'bar-label', x: labelW - 10, y: top + 17, 'text-anchor': 'end' }, row.name));
      chart.append(svg('rect', { class: 'bar-track', x: labelW, y: top + 4, width: width - labelW - valueW, height: 18, rx: 4 }));
      chart.append(titled(svg('rect', {
        class: 'bar-value', x: labelW, y: top + 4, width: Math.max(barW, row.value ? 2 : 0), height: 18, rx: 4,
        fill: row.color, 'data-segment': row.id, 'data-size': row.value,
      }), `${row.name}: ${row.value}`));
      chart.append(O.svgText({ class: 'bar-number', x: width - valueW + 8, y: top + 17 }, O.number(row.value, 0)));
    });
    return chart;
  };
})();
