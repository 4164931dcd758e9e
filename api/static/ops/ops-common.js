/* Emporio ops: shared state, formatting, periods, DOM helpers and the API client.
 * Plain ES2017, no build step, no third-party code. The browser holds an HTTP-only session cookie
 * (reads) and, in this page's memory only, the session's anti-forgery token (changes). */
(function () {
  'use strict';
  const O = (window.EmporioOps = window.EmporioOps || {});

  O.LANG_STORE = 'emporio_ops_lang'; // only the language is remembered, never a key or token

  O.state = {
    lang: 'el',
    session: null, // GET /ops/session: key name, scopes, csrf_token
    view: 'dashboard', // dashboard | segments | service
    defs: new Map(), // KPI id → definition
    channels: [],
    locations: [],
    segmentNames: null, // {id: {el, en}} from the segments policy, when readable
    preset: '30d',
    from: '',
    to: '', // exclusive, as the API wants it
    filters: { channel: '', segment: '', location: '', customer_segment: '' },
    result: null, // the last GET /v1/kpis answer
    previous: null, // GET /v1/kpis for the period just before
    selected: null, // KPI id shown in the detail panel
    granularity: 'day',
    groupBy: '',
    series: null,
    groups: null,
    inbox: 'mine', // mine | unassigned | breaching
    q: '',
    caseId: '',
    queue: '', // the work queue whose list is open (ops-queues.js)
    order: '', // the order opened from it
  };

  const state = O.state;

  O.$ = (sel, root) => (root || document).querySelector(sel);
  O.$$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

  O.t = function t(key) {
    return (O.I18N[state.lang] && O.I18N[state.lang][key]) || O.I18N.en[key] || key;
  };

  /** A label with {name} placeholders filled. */
  O.tf = function tf(key, values) {
    return O.t(key).replace(/\{(\w+)\}/g, (m, name) => (values[name] === undefined ? m : String(values[name])));
  };

  O.preferredLanguage = function preferredLanguage() {
    let saved = null;
    try {
      saved = window.localStorage.getItem(O.LANG_STORE);
    } catch (_) { /* storage may be disabled */ }
    if (saved === 'el' || saved === 'en') return saved;
    const wanted = (navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language])
      .map((l) => String(l || '').toLowerCase().slice(0, 2));
    if (wanted.includes('el')) return 'el'; // Greek first, whenever the browser accepts it
    if (wanted.includes('en')) return 'en';
    return 'el';
  };

  O.locale = () => (state.lang === 'el' ? 'el-GR' : 'en-GB');

  O.hasScope = function hasScope(scope) {
    const scopes = (state.session && state.session.scopes) || [];
    return scopes.includes('admin') || scopes.includes(scope);
  };

  // ---- formatting -----------------------------------------------------------------------------

  O.number = function number(value, digits) {
    return new Intl.NumberFormat(O.locale(), { maximumFractionDigits: digits, minimumFractionDigits: 0 }).format(value);
  };

  /** A value as a person reads it: ratios as percentages, money in euros, durations with units. */
  O.formatValue = function formatValue(value, unit) {
    if (value === null || value === undefined) return '—';
    if (Array.isArray(value)) return String(value.length);
    if (typeof value !== 'number') return String(value);
    switch (unit) {
      case 'ratio':
        return new Intl.NumberFormat(O.locale(), { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 })
          .format(value);
      case 'minor_units':
        return new Intl.NumberFormat(O.locale(), { style: 'currency', currency: 'EUR' }).format(value / 100);
      case 'hours':
        return `${O.number(value, 1)} ${O.t('unit_hours')}`;
      case 'minutes':
        return `${O.number(value, 1)} ${O.t('unit_minutes')}`;
      case 'per_hour':
        return `${O.number(value, 1)} ${O.t('unit_per_hour')}`;
      case 'count':
        return O.number(value, Number.isInteger(value) ? 0 : 2);
      default:
        return O.number(value, 2);
    }
  };

  O.money = function money(amount, currency) {
    if (typeof amount !== 'number') return '—';
    try {
      return new Intl.NumberFormat(O.locale(), { style: 'currency', currency: currency || 'EUR' }).format(amount / 100);
    } catch (_) {
      return `${O.number(amount / 100, 2)} ${currency || ''}`.trim();
    }
  };

  /** Short axis labels (no currency decimals, compact thousands). */
  O.formatAxis = function formatAxis(value, unit) {
    if (unit === 'ratio') {
      return new Intl.NumberFormat(O.locale(), { style: 'percent', maximumFractionDigits: 1 }).format(value);
    }
    if (unit === 'minor_units') {
      return new Intl.NumberFormat(O.locale(), { style: 'currency', currency: 'EUR', notation: 'compact' })
        .format(value / 100);
    }
    return new Intl.NumberFormat(O.locale(), { notation: 'compact', maximumFractionDigits: 1 }).format(value);
  };

  // Ratios of two sums of money (minor units) show their basis in euros, not in cents.
  const MONEY_RATIOS = new Set(['shipping_cost_to_sales', 'repair_cost_ratio']);

  O.formatBasis = function formatBasis(item, id, unit) {
    const money = (v) => O.formatValue(v, 'minor_units');
    if (item.numerator !== undefined && item.denominator !== undefined) {
      if (MONEY_RATIOS.has(id)) return `${money(item.numerator)} / ${money(item.denominator)}`;
      if (unit === 'minor_units') return `${money(item.numerator)} / ${O.number(item.denominator, 2)}`;
      return `${O.number(item.numerator, 2)} / ${O.number(item.denominator, 2)}`;
    }
    if (item.n !== undefined) return `n = ${O.number(item.n, 0)}`;
    return '';
  };

  O.formatDay = function formatDay(iso, opts) {
    const d = new Date(iso.length === 10 ? `${iso}T00:00:00Z` : iso);
    return new Intl.DateTimeFormat(O.locale(), Object.assign({ timeZone: 'UTC' }, opts)).format(d);
  };

  O.formatTime = function formatTime(iso) {
    if (!iso) return '—';
    return new Intl.DateTimeFormat(O.locale(), {
      timeZone: 'UTC', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hour12: false,
    }).format(new Date(iso));
  };

  O.kpiName = function kpiName(id) {
    if (state.lang === 'el' && O.KPI_NAMES_EL[id]) return O.KPI_NAMES_EL[id];
    const def = state.defs.get(id);
    return def ? def.name : id;
  };

  O.dimensionName = (dim) => O.DIMENSIONS[state.lang][dim] || dim.replace(/_/g, ' ');

  O.segmentName = function segmentName(id) {
    const own = state.segmentNames && state.segmentNames[id];
    if (own) return own[state.lang] || own.el || own.en || id;
    return O.SEGMENT_NAMES[state.lang][id] || id.replace(/_/g, ' ');
  };

  O.codeName = (code) => (code ? O.CODES[state.lang][code] || String(code).replace(/_/g, ' ') : '');

  O.topicName = (id) => (id ? O.TOPIC_NAMES[state.lang][id] || id.replace(/_/g, ' ') : '—');

  O.groupKeyLabel = function groupKeyLabel(dim, key) {
    if (key === null || key === undefined || key === '') return O.t('none_key');
    if (dim === 'segment') return O.t(`seg_${key}`);
    if (dim === 'customer_segment') return O.segmentName(String(key));
    return String(key);
  };

  // ---- periods (UTC days; the API's `to` is exclusive) -----------------------------------------

  O.PRESETS = ['7d', '30d', '90d', 'month'];
  O.isoDay = (date) => date.toISOString().slice(0, 10);
  O.isDay = (text) => typeof text === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(text) && !isNaN(Date.parse(`${text}T00:00:00Z`));

  O.addDays = function addDays(day, n) {
    const d = new Date(`${day}T00:00:00Z`);
    d.setUTCDate(d.getUTCDate() + n);
    return O.isoDay(d);
  };

  O.daysBetween = (from, to) => Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 864e5);

  O.presetPeriod = function presetPeriod(preset) {
    const today = O.isoDay(new Date());
    const tomorrow = O.addDays(today, 1);
    switch (preset) {
      case '7d': return [O.addDays(today, -6), tomorrow];
      case '90d': return [O.addDays(today, -89), tomorrow];
      case 'month': return [`${today.slice(0, 8)}01`, tomorrow];
      default: return [O.addDays(today, -29), tomorrow];
    }
  };

  /** The period of the same length just before [from, to). */
  O.previousPeriod = (from, to) => [O.addDays(from, -O.daysBetween(from, to)), from];

  O.activeFilters = function activeFilters() {
    const out = {};
    for (const name of Object.keys(state.filters)) if (state.filters[name]) out[name] = state.filters[name];
    return out;
  };

  O.query = function query(extra, period) {
    const params = new URLSearchParams({ from: period ? period[0] : state.from, to: period ? period[1] : state.to });
    const filters = O.activeFilters();
    for (const k of Object.keys(filters)) params.set(k, filters[k]);
    for (const k of Object.keys(extra || {})) params.set(k, extra[k]);
    return params.toString();
  };

  // ---- the API --------------------------------------------------------------------------------

  class SignedOut extends Error {}
  O.SignedOut = SignedOut;

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }
  O.ApiError = ApiError;

  async function answer(res) {
    if (res.status === 401) {
      O.showSignIn(O.t('session_expired'));
      throw new SignedOut('signed out');
    }
    const body = await res.json().catch(() => null);
    if (!res.ok) throw new ApiError(res.status, (body && (body.detail || body.title)) || `HTTP ${res.status}`);
    return body;
  }

  O.getJSON = async function getJSON(path) {
    return answer(await fetch(path, { credentials: 'same-origin', headers: { Accept: 'application/json' } }));
  };

  /** A change, made with the session cookie and the session's anti-forgery token (api/auth.py).
   * `idempotencyKey` makes a retried send of the same message harmless. */
  O.postJSON = async function postJSON(path, body, idempotencyKey) {
    const headers = { Accept: 'application/json', 'Content-Type': 'application/json' };
    if (state.session && state.session.csrf_token) headers['X-Emporio-CSRF'] = state.session.csrf_token;
    if (idempotencyKey) headers['Idempotency-Key'] = idempotencyKey;
    const res = await fetch(path, {
      method: 'POST', credentials: 'same-origin', headers, body: JSON.stringify(body || {}),
    });
    return answer(res);
  };

  O.randomKey = function randomKey() {
    const bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  };

  O.ignoreSignedOut = function ignoreSignedOut(error) {
    if (!(error instanceof SignedOut)) throw error;
  };

  // ---- DOM helpers ----------------------------------------------------------------------------

  const SVG_NS = 'http://www.w3.org/2000/svg';

  O.el = function el(tag, attrs) {
    const node = document.createElement(tag);
    const given = attrs || {};
    for (const k of Object.keys(given)) {
      const v = given[k];
      if (v === null || v === undefined || v === false) continue;
      if (k === 'text') node.textContent = v;
      else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? '' : String(v));
    }
    for (let i = 2; i < arguments.length; i++) {
      const child = arguments[i];
      if (child !== null && child !== undefined && child !== false) node.append(child);
    }
    return node;
  };

  O.svg = function svg(tag, attrs) {
    const node = document.createElementNS(SVG_NS, tag);
    const given = attrs || {};
    for (const k of Object.keys(given)) {
      if (given[k] !== null && given[k] !== undefined) node.setAttribute(k, String(given[k]));
    }
    for (let i = 2; i < arguments.length; i++) if (arguments[i]) node.append(arguments[i]);
    return node;
  };

  O.svgText = function svgText(attrs, text) {
    const node = O.svg('text', attrs);
    node.textContent = text;
    return node;
  };

  /** Only http(s) addresses become links: a tracking URL from a courier is data, not code. */
  O.safeUrl = (url) => (typeof url === 'string' && /^https?:\/\//i.test(url) ? url : null);

  O.setStatus = function setStatus(text, kind) {
    const status = O.$('#status');
    status.textContent = text || '';
    status.className = `status${kind ? ` status-${kind}` : ''}`;
  };
})();
