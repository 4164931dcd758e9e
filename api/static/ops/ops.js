/* Emporio ops dashboard: vanilla ES2020, no build step, no third-party code.
 * Every figure comes from the Emporio API, authenticated by the HTTP-only session cookie that
 * POST /ops/session sets; the API key itself is posted once and never kept. */
(() => {
  'use strict';

  // ---- what goes where ------------------------------------------------------------------------

  const PILLARS = [
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
        'nps', 'customer_retention_rate', 'churn_rate', 'post_service_repurchase_rate', 'customer_lifetime_value',
      ],
    },
    { id: 'other', kpis: [] }, // anything the engine defines that is not listed above
  ];

  const I18N = {
    el: {
      loading: 'Φόρτωση…',
      signin_title: 'Σύνδεση στον πίνακα λειτουργιών',
      signin_help: 'Χρησιμοποιήστε ένα κλειδί API με δικαίωμα ops. Το κλειδί δεν αποθηκεύεται στον φυλλομετρητή.',
      api_key: 'Κλειδί API',
      signin: 'Σύνδεση',
      signout: 'Αποσύνδεση',
      error_unknown_key: 'Άγνωστο ή ανακλημένο κλειδί API.',
      error_no_scope: 'Το κλειδί δεν έχει δικαίωμα ops.',
      error_generic: 'Η σύνδεση απέτυχε',
      session_expired: 'Η συνεδρία έληξε. Συνδεθείτε ξανά.',
      period: 'Περίοδος',
      last_7: 'Τελευταίες 7 ημέρες',
      last_30: 'Τελευταίες 30 ημέρες',
      last_90: 'Τελευταίες 90 ημέρες',
      this_month: 'Αυτός ο μήνας',
      custom: 'Προσαρμοσμένη…',
      from: 'Από',
      to_inclusive: 'Έως (και)',
      apply: 'Εφαρμογή',
      channel: 'Κανάλι',
      all_channels: 'Όλα τα κανάλια',
      segment: 'Πελάτες',
      all_segments: 'Όλοι οι πελάτες',
      seg_first_order: 'Πρώτη παραγγελία',
      seg_returning: 'Επαναλαμβανόμενοι',
      seg_reactivated: 'Επανενεργοποιημένοι',
      location: 'Τοποθεσία',
      all_locations: 'Όλες οι τοποθεσίες',
      export_csv: 'Εξαγωγή CSV',
      csv: 'CSV',
      close: 'Κλείσιμο',
      day: 'Ημέρα',
      week: 'Εβδομάδα',
      month: 'Μήνας',
      granularity: 'Ανάλυση χρόνου',
      group_by: 'Ανάλυση ανά',
      value: 'Τιμή',
      basis: 'Βάση',
      none_key: '(χωρίς τιμή)',
      no_data: 'Δεν υπάρχουν δεδομένα για αυτή την περίοδο.',
      filter_na: 'Το φίλτρο δεν εφαρμόζεται σε αυτόν τον δείκτη',
      invalid_range: 'Η ημερομηνία «Από» πρέπει να είναι πριν από την «Έως».',
      error_load: 'Δεν ήταν δυνατή η φόρτωση',
      footer: 'Τα στοιχεία προέρχονται απευθείας από το Emporio API· οι χρόνοι είναι σε UTC.',
      signed_in_as: 'Συνδεδεμένος ως',
      series_caption: 'ανά',
      click_for_detail: 'Πατήστε για ανάλυση',
      points: 'σημεία',
      unit_hours: 'ώρ.',
      unit_minutes: 'λεπτά',
      unit_per_hour: '/ώρα',
      pillar_orders: 'Παραγγελίες',
      pillar_payments: 'Πληρωμές',
      pillar_fulfilment: 'Εκτέλεση & παράδοση',
      pillar_returns: 'Επιστροφές',
      pillar_customer_service: 'Εξυπηρέτηση πελατών',
      pillar_other: 'Άλλοι δείκτες',
    },
    en: {
      loading: 'Loading…',
      signin_title: 'Sign in to Operations',
      signin_help: 'Use an API key with the ops scope. The key is not stored in your browser.',
      api_key: 'API key',
      signin: 'Sign in',
      signout: 'Sign out',
      error_unknown_key: 'Unknown or revoked API key.',
      error_no_scope: 'This key does not have the ops scope.',
      error_generic: 'Sign-in failed',
      session_expired: 'Your session has ended. Please sign in again.',
      period: 'Period',
      last_7: 'Last 7 days',
      last_30: 'Last 30 days',
      last_90: 'Last 90 days',
      this_month: 'This month',
      custom: 'Custom…',
      from: 'From',
      to_inclusive: 'To (inclusive)',
      apply: 'Apply',
      channel: 'Channel',
      all_channels: 'All channels',
      segment: 'Customers',
      all_segments: 'All customers',
      seg_first_order: 'First order',
      seg_returning: 'Returning',
      seg_reactivated: 'Reactivated',
      location: 'Location',
      all_locations: 'All locations',
      export_csv: 'Export CSV',
      csv: 'CSV',
      close: 'Close',
      day: 'Day',
      week: 'Week',
      month: 'Month',
      granularity: 'Granularity',
      group_by: 'Group by',
      value: 'Value',
      basis: 'Basis',
      none_key: '(none)',
      no_data: 'No data for this period.',
      filter_na: 'The filter does not apply to this KPI',
      invalid_range: '“From” must be on or before “To”.',
      error_load: 'Could not load',
      footer: 'Figures come straight from the Emporio API; times are UTC.',
      signed_in_as: 'Signed in as',
      series_caption: 'per',
      click_for_detail: 'Click for the breakdown',
      points: 'points',
      unit_hours: 'h',
      unit_minutes: 'min',
      unit_per_hour: '/h',
      pillar_orders: 'Orders',
      pillar_payments: 'Payments',
      pillar_fulfilment: 'Fulfilment & delivery',
      pillar_returns: 'Returns',
      pillar_customer_service: 'Customer service',
      pillar_other: 'Other KPIs',
    },
  };

  // The engine names its KPIs in English; these are their Greek names.
  const KPI_NAMES_EL = {
    orders_placed: 'Παραγγελίες',
    average_order_value: 'Μέση αξία παραγγελίας',
    payment_conversion_rate: 'Επιτυχία πληρωμών',
    checkout_abandonment_rate: 'Εγκατάλειψη ταμείου',
    completed_orders: 'Ολοκληρωμένες παραγγελίες',
    on_time_delivery_rate: 'Έγκαιρη παράδοση',
    on_time_shipping_rate: 'Έγκαιρη αποστολή',
    perfect_order_rate: 'Τέλειες παραγγελίες',
    order_cycle_time_hours: 'Χρόνος κύκλου παραγγελίας',
    order_picking_time_minutes: 'Χρόνος συλλογής',
    orders_picked_per_hour: 'Συλλογές ανά ώρα',
    picking_accuracy: 'Ακρίβεια συλλογής',
    line_item_fill_rate: 'Πληρότητα γραμμών',
    avg_shipping_cost: 'Μέσο κόστος αποστολής',
    shipping_cost_to_sales: 'Κόστος αποστολής / πωλήσεις',
    order_fill_rate: 'Παράδοση με την 1η απόπειρα',
    inventory_accuracy: 'Ακρίβεια αποθέματος',
    return_rate_units: 'Επιστροφές (τεμάχια)',
    return_rate_orders: 'Επιστροφές (παραγγελίες)',
    resell_rate: 'Επαναπώληση',
    replacement_rate: 'Αντικατάσταση',
    repair_cost_ratio: 'Κόστος επισκευής / αξία',
    recycling_rate: 'Ανακύκλωση',
    total_tickets: 'Αιτήματα εξυπηρέτησης',
    tickets_per_customer: 'Αιτήματα ανά πελάτη',
    first_response_time_minutes: 'Χρόνος πρώτης απάντησης',
    response_time_minutes: 'Χρόνος απάντησης',
    resolution_time_hours: 'Χρόνος επίλυσης',
    average_handle_time_minutes: 'Μέσος χρόνος χειρισμού',
    first_contact_resolution_rate: 'Επίλυση με την 1η επαφή',
    cost_per_resolution: 'Κόστος ανά επίλυση',
    channel_switch_rate: 'Αλλαγή καναλιού',
    repeat_contact_rate: 'Επαναλαμβανόμενη επαφή',
    top_performing_agents: 'Κορυφαίοι εκπρόσωποι',
    csat: 'Ικανοποίηση (CSAT)',
    ces: 'Ευκολία (CES)',
    nps: 'NPS',
    customer_retention_rate: 'Διατήρηση πελατών',
    churn_rate: 'Απώλεια πελατών',
    post_service_repurchase_rate: 'Επαναγορά μετά την εξυπηρέτηση',
    customer_lifetime_value: 'Αξία πελάτη (CLV)',
  };

  const DIMENSIONS = {
    el: {
      channel: 'Κανάλι', segment: 'Πελάτες', issuer_bank: 'Τράπεζα έκδοσης', method: 'Μέθοδος',
      card_brand: 'Δίκτυο κάρτας', funding: 'Τύπος κάρτας', provider: 'Πάροχος', reason: 'Αιτία',
      resolution: 'Λύση', disposition: 'Διάθεση', location: 'Τοποθεσία', sku: 'SKU', picker: 'Συλλέκτης',
      courier: 'Μεταφορική', agent: 'Εκπρόσωπος', category: 'Κατηγορία',
    },
    en: {
      channel: 'Channel', segment: 'Customers', issuer_bank: 'Issuing bank', method: 'Method',
      card_brand: 'Card brand', funding: 'Funding', provider: 'Provider', reason: 'Reason',
      resolution: 'Resolution', disposition: 'Disposition', location: 'Location', sku: 'SKU', picker: 'Picker',
      courier: 'Courier', agent: 'Agent', category: 'Category',
    },
  };

  const LANG_STORE = 'emporio_ops_lang'; // only the language is remembered, never the key

  // ---- state ----------------------------------------------------------------------------------

  const state = {
    lang: preferredLanguage(),
    session: null,
    defs: new Map(), // id → definition
    channels: [],
    locations: [],
    preset: '30d',
    from: '',
    to: '', // exclusive, as the API wants it
    filters: { channel: '', segment: '', location: '' },
    result: null, // the last GET /v1/kpis answer
    selected: null, // KPI id shown in the detail panel
    granularity: 'day',
    groupBy: '',
    series: null,
    groups: null,
    loadSeq: 0,
    detailSeq: 0,
  };

  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

  function t(key) {
    return (I18N[state.lang] && I18N[state.lang][key]) || I18N.en[key] || key;
  }

  function preferredLanguage() {
    let saved = null;
    try {
      saved = window.localStorage.getItem(LANG_STORE);
    } catch (_) { /* storage may be disabled */ }
    if (saved === 'el' || saved === 'en') return saved;
    const wanted = (navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language])
      .map((l) => String(l || '').toLowerCase().slice(0, 2));
    if (wanted.includes('el')) return 'el'; // Greek first, whenever the browser accepts it
    if (wanted.includes('en')) return 'en';
    return 'el';
  }

  function locale() {
    return state.lang === 'el' ? 'el-GR' : 'en-GB';
  }

  // ---- formatting -----------------------------------------------------------------------------

  function number(value, digits) {
    return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits, minimumFractionDigits: 0 }).format(value);
  }

  /** A value as a person reads it: ratios as percentages, money in euros, durations with units. */
  function formatValue(value, unit) {
    if (value === null || value === undefined) return '—';
    if (Array.isArray(value)) return String(value.length);
    if (typeof value !== 'number') return String(value);
    switch (unit) {
      case 'ratio':
        return new Intl.NumberFormat(locale(), { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 })
          .format(value);
      case 'minor_units':
        return new Intl.NumberFormat(locale(), { style: 'currency', currency: 'EUR' }).format(value / 100);
      case 'hours':
        return `${number(value, 1)} ${t('unit_hours')}`;
      case 'minutes':
        return `${number(value, 1)} ${t('unit_minutes')}`;
      case 'per_hour':
        return `${number(value, 1)} ${t('unit_per_hour')}`;
      case 'count':
        return number(value, Number.isInteger(value) ? 0 : 2);
      default:
        return number(value, 2);
    }
  }

  /** Short axis labels (no currency decimals, compact thousands). */
  function formatAxis(value, unit) {
    if (unit === 'ratio') {
      return new Intl.NumberFormat(locale(), { style: 'percent', maximumFractionDigits: 1 }).format(value);
    }
    if (unit === 'minor_units') {
      return new Intl.NumberFormat(locale(), { style: 'currency', currency: 'EUR', notation: 'compact' })
        .format(value / 100);
    }
    return new Intl.NumberFormat(locale(), { notation: 'compact', maximumFractionDigits: 1 }).format(value);
  }

  // Ratios of two sums of money (minor units) show their basis in euros, not in cents.
  const MONEY_RATIOS = new Set(['shipping_cost_to_sales', 'repair_cost_ratio']);

  function formatBasis(item, id, unit) {
    const money = (v) => formatValue(v, 'minor_units');
    if (item.numerator !== undefined && item.denominator !== undefined) {
      if (MONEY_RATIOS.has(id)) return `${money(item.numerator)} / ${money(item.denominator)}`;
      if (unit === 'minor_units') return `${money(item.numerator)} / ${number(item.denominator, 2)}`;
      return `${number(item.numerator, 2)} / ${number(item.denominator, 2)}`;
    }
    if (item.n !== undefined) return `n = ${number(item.n, 0)}`;
    return '';
  }

  function formatDay(iso, opts) {
    const d = new Date(iso.length === 10 ? `${iso}T00:00:00Z` : iso);
    return new Intl.DateTimeFormat(locale(), { timeZone: 'UTC', ...opts }).format(d);
  }

  function kpiName(id) {
    if (state.lang === 'el' && KPI_NAMES_EL[id]) return KPI_NAMES_EL[id];
    const def = state.defs.get(id);
    return def ? def.name : id;
  }

  function dimensionName(dim) {
    return DIMENSIONS[state.lang][dim] || dim.replace(/_/g, ' ');
  }

  function groupKeyLabel(dim, key) {
    if (key === null || key === undefined || key === '') return t('none_key');
    if (dim === 'segment') return t(`seg_${key}`);
    return String(key);
  }

  // ---- periods (UTC days; the API's `to` is exclusive) -----------------------------------------

  function isoDay(date) {
    return date.toISOString().slice(0, 10);
  }

  function addDays(day, n) {
    const d = new Date(`${day}T00:00:00Z`);
    d.setUTCDate(d.getUTCDate() + n);
    return isoDay(d);
  }

  function presetPeriod(preset) {
    const today = isoDay(new Date());
    const tomorrow = addDays(today, 1);
    switch (preset) {
      case '7d': return [addDays(today, -6), tomorrow];
      case '90d': return [addDays(today, -89), tomorrow];
      case 'month': return [`${today.slice(0, 8)}01`, tomorrow];
      default: return [addDays(today, -29), tomorrow];
    }
  }

  function query(extra) {
    const params = new URLSearchParams({ from: state.from, to: state.to });
    for (const [k, v] of Object.entries(state.filters)) if (v) params.set(k, v);
    for (const [k, v] of Object.entries(extra || {})) params.set(k, v);
    return params.toString();
  }

  // ---- the API --------------------------------------------------------------------------------

  class SignedOut extends Error {}

  async function getJSON(path) {
    const res = await fetch(path, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    if (res.status === 401) {
      showSignIn(t('session_expired'));
      throw new SignedOut('signed out');
    }
    const body = await res.json().catch(() => null);
    if (!res.ok) throw new Error((body && (body.detail || body.title)) || `HTTP ${res.status}`);
    return body;
  }

  // ---- DOM helpers ----------------------------------------------------------------------------

  const SVG_NS = 'http://www.w3.org/2000/svg';

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'text') node.textContent = v;
      else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? '' : String(v));
    }
    for (const child of children) if (child !== null && child !== undefined) node.append(child);
    return node;
  }

  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== null && v !== undefined) node.setAttribute(k, String(v));
    }
    for (const child of children) if (child) node.append(child);
    return node;
  }

  function setStatus(text, kind) {
    const status = $('#status');
    status.textContent = text || '';
    status.className = `status${kind ? ` status-${kind}` : ''}`;
  }

  // ---- static texts ---------------------------------------------------------------------------

  function applyLanguage() {
    document.documentElement.lang = state.lang;
    for (const node of $$('[data-i18n]')) node.textContent = t(node.dataset.i18n);
    for (const node of $$('[data-i18n-label]')) node.setAttribute('aria-label', t(node.dataset.i18nLabel));
    for (const button of $$('[data-lang]')) button.setAttribute('aria-pressed', String(button.dataset.lang === state.lang));
    $('#signin-key').setAttribute('placeholder', 'emp_…');
    if (state.session) $('#whoami').textContent = `${t('signed_in_as')} ${state.session.key_name}`;
    renderPeriodLabel();
  }

  function setLanguage(lang) {
    state.lang = lang;
    try {
      window.localStorage.setItem(LANG_STORE, lang);
    } catch (_) { /* fine: the choice lasts for this page */ }
    applyLanguage();
    if (state.result) renderTiles();
    if (state.selected) renderDetail();
  }

  function renderPeriodLabel() {
    if (!state.from) return;
    const last = addDays(state.to, -1);
    const opts = { day: 'numeric', month: 'short', year: 'numeric' };
    $('#period-label').textContent = `${formatDay(state.from, opts)} – ${formatDay(last, opts)}`;
  }

  // ---- sign in / out --------------------------------------------------------------------------

  function showSignIn(message) {
    state.session = null;
    $('#app').hidden = true;
    $('#signin').hidden = false;
    const error = $('#signin-error');
    error.hidden = !message;
    error.textContent = message || '';
    $('#signin-key').focus();
  }

  async function signIn(event) {
    event.preventDefault();
    const input = $('#signin-key');
    const key = input.value.trim();
    input.value = ''; // the key leaves the page with this one request and is not kept anywhere
    if (!key) return;
    const button = $('#signin-submit');
    button.disabled = true;
    try {
      const res = await fetch('/ops/session', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ key }),
      });
      if (res.status === 201) {
        state.session = await res.json();
        await startDashboard();
        return;
      }
      const problem = await res.json().catch(() => ({}));
      const message = res.status === 401 ? t('error_unknown_key')
        : res.status === 403 ? t('error_no_scope')
          : `${t('error_generic')}: ${problem.detail || res.status}`;
      showSignIn(message);
    } finally {
      button.disabled = false;
    }
  }

  async function signOut() {
    await fetch('/ops/session/logout', { method: 'POST', credentials: 'same-origin' }).catch(() => null);
    state.result = null;
    state.selected = null;
    state.preset = '30d';
    showCustomRange(false);
    $('#detail').hidden = true;
    showSignIn('');
  }

  // ---- loading --------------------------------------------------------------------------------

  async function boot() {
    applyLanguage();
    wireEvents();
    const res = await fetch('/ops/session', { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    if (res.ok) {
      state.session = await res.json();
      await startDashboard();
    } else {
      showSignIn('');
    }
  }

  async function startDashboard() {
    $('#signin').hidden = true;
    $('#app').hidden = false;
    applyLanguage();
    [state.from, state.to] = presetPeriod(state.preset);
    $('#period').value = state.preset;
    try {
      const [defs, channels, locations] = await Promise.all([
        getJSON('/v1/kpis/definitions'),
        getJSON('/v1/channels').catch((e) => (e instanceof SignedOut ? Promise.reject(e) : [])),
        getJSON('/v1/locations').catch((e) => (e instanceof SignedOut ? Promise.reject(e) : [])),
      ]);
      state.defs = new Map(defs.map((d) => [d.id, d]));
      state.channels = channels;
      state.locations = locations;
      fillFilterOptions();
      await loadKpis();
    } catch (error) {
      if (!(error instanceof SignedOut)) failed(error);
    }
  }

  function fillFilterOptions() {
    const fill = (select, items, value, label) => {
      const first = select.options[0];
      select.replaceChildren(first);
      for (const item of items) select.append(el('option', { value: item[value], text: item[label] || item[value] }));
    };
    fill($('#channel'), state.channels, 'code', 'name');
    fill($('#location'), state.locations, 'code', 'name');
  }

  function failed(error) {
    $('#dashboard').dataset.state = 'error';
    setStatus(`${t('error_load')}: ${error.message}`, 'error');
  }

  async function loadKpis() {
    const seq = ++state.loadSeq; // a slower, older answer never overwrites a newer one
    const main = $('#dashboard');
    main.dataset.state = 'loading';
    main.dataset.from = state.from;
    main.dataset.to = state.to;
    main.dataset.filters = JSON.stringify(Object.fromEntries(Object.entries(state.filters).filter(([, v]) => v)));
    renderPeriodLabel();
    $('#export-csv').href = `/v1/kpis?${query({ format: 'csv' })}`;
    setStatus(t('loading'));
    try {
      const result = await getJSON(`/v1/kpis?${query()}`);
      if (seq !== state.loadSeq) return;
      state.result = result;
      renderTiles();
      setStatus('');
      main.dataset.state = 'ready';
      if (state.selected) await loadDetail();
    } catch (error) {
      if (seq === state.loadSeq && !(error instanceof SignedOut)) failed(error);
    }
  }

  // ---- tiles ----------------------------------------------------------------------------------

  function pillarsWithKpis() {
    const ids = new Set([...Object.keys(state.result.kpis), ...state.defs.keys()]);
    const placed = new Set();
    const out = [];
    for (const pillar of PILLARS) {
      let kpis = pillar.kpis.filter((id) => ids.has(id));
      if (pillar.id === 'other') kpis = [...ids].filter((id) => !placed.has(id)).sort();
      kpis.forEach((id) => placed.add(id));
      if (kpis.length) out.push({ id: pillar.id, kpis });
    }
    return out;
  }

  function pillarOf(id) {
    const pillar = PILLARS.find((p) => p.kpis.includes(id));
    return pillar ? pillar.id : 'other';
  }

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
    const name = kpiName(id);
    const tipId = `tip-${id}`;
    const valueText = formatValue(item.value, unit);
    const basis = formatBasis(item, id, unit);
    const children = [
      el('span', { class: 'tile-name', text: name }),
      el('span', { class: `tile-value${item.value === null ? ' tile-value-empty' : ''}`, text: valueText }),
    ];
    if (unit === 'ratio' && typeof item.value === 'number') children.push(meter(item.value));
    children.push(el('span', { class: 'tile-basis', text: basis || '\u00a0' }));
    const button = el('button', {
      type: 'button',
      class: 'tile-main',
      title: `${name} — ${def.formula || ''}`.trim(),
      'aria-describedby': tipId,
      'aria-pressed': String(state.selected === id),
      onclick: () => selectKpi(id),
    }, ...children);
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
    return svg('svg', { class: 'meter', viewBox: '0 0 100 4', preserveAspectRatio: 'none', 'aria-hidden': 'true' },
      svg('rect', { class: 'meter-track', x: 0, y: 0, width: 100, height: 4, rx: 2 }),
      svg('rect', { class: 'meter-fill', x: 0, y: 0, width: width.toFixed(2), height: 4, rx: 2 }));
  }

  // ---- detail: series chart and group-by table --------------------------------------------------

  async function selectKpi(id) {
    state.selected = id;
    const def = state.defs.get(id);
    const dims = (def && def.dimensions) || [];
    if (!dims.includes(state.groupBy)) state.groupBy = dims[0] || '';
    state.series = null;
    state.groups = null;
    for (const node of $$('.tile')) {
      const on = node.dataset.kpi === id;
      node.classList.toggle('tile-selected', on);
      $('.tile-main', node).setAttribute('aria-pressed', String(on));
    }
    $('#detail').hidden = false;
    renderDetail();
    $('#detail').scrollIntoView({ block: 'start', behavior: 'smooth' });
    await loadDetail();
  }

  async function loadDetail() {
    const id = state.selected;
    if (!id) return;
    const seq = ++state.detailSeq;
    const chart = $('#chart');
    chart.dataset.state = 'loading';
    const base = `/v1/kpis/${encodeURIComponent(id)}`;
    const seriesQuery = query({ granularity: state.granularity });
    $('#series-csv').href = `${base}?${query({ granularity: state.granularity, format: 'csv' })}`;
    try {
      const wanted = [getJSON(`${base}?${seriesQuery}`)];
      if (state.groupBy) wanted.push(getJSON(`${base}?${query({ group_by: state.groupBy })}`));
      const [series, groups] = await Promise.all(wanted);
      if (seq !== state.detailSeq) return;
      state.series = series;
      state.groups = groups || null;
      renderDetail();
    } catch (error) {
      if (seq === state.detailSeq && !(error instanceof SignedOut)) {
        chart.dataset.state = 'error';
        chart.replaceChildren(el('p', { class: 'status status-error', text: `${t('error_load')}: ${error.message}` }));
      }
    }
  }

  function closeDetail() {
    state.selected = null;
    state.detailSeq++;
    $('#detail').hidden = true;
    for (const node of $$('.tile')) {
      node.classList.remove('tile-selected');
      $('.tile-main', node).setAttribute('aria-pressed', 'false');
    }
  }

  function renderDetail() {
    const id = state.selected;
    const def = state.defs.get(id) || { name: id, unit: '', formula: '', dimensions: [] };
    const pillar = pillarOf(id);
    $('#detail').className = `detail pillar-${pillar}`;
    $('#detail').dataset.kpi = id;
    $('#detail-pillar').textContent = t(`pillar_${pillar}`);
    $('#detail-title').textContent = kpiName(id);
    $('#detail-formula').textContent = def.formula || '';
    for (const button of $$('[data-granularity]')) {
      button.setAttribute('aria-pressed', String(button.dataset.granularity === state.granularity));
    }
    $('#chart-caption').textContent = `${kpiName(id)} · ${t('series_caption')} ${t(state.granularity).toLowerCase()}`;
    if (state.series && state.series.id === id) renderChart($('#chart'), state.series.series, def.unit);
    renderGroups(def);
  }

  function renderGroups(def) {
    const card = $('#groups-card');
    const dims = def.dimensions || [];
    card.hidden = dims.length === 0;
    if (!dims.length) return;
    const select = $('#group-by');
    select.replaceChildren(...dims.map((d) => el('option', { value: d, text: dimensionName(d) })));
    select.value = state.groupBy;
    $('#groups-key-head').textContent = dimensionName(state.groupBy);
    $('#groups-csv').href = `/v1/kpis/${encodeURIComponent(def.id)}?${query({ group_by: state.groupBy, format: 'csv' })}`;
    const body = $('#groups tbody');
    body.replaceChildren();
    const groups = state.groups && state.groups.id === def.id ? state.groups.groups : null;
    if (!groups) return;
    if (!groups.length) {
      body.append(el('tr', {}, el('td', { colspan: 4, class: 'muted', text: t('no_data') })));
      return;
    }
    const max = Math.max(...groups.map((g) => (typeof g.value === 'number' ? Math.abs(g.value) : 0)), 0);
    for (const group of groups) {
      const share = max > 0 && typeof group.value === 'number' ? Math.abs(group.value) / max : 0;
      body.append(
        el('tr', { 'data-key': group.key === null ? '' : String(group.key), 'data-value': JSON.stringify(group.value) },
          el('th', { scope: 'row', text: groupKeyLabel(state.groupBy, group.key) }),
          el('td', { class: 'num', text: formatValue(group.value, def.unit) }),
          el('td', { class: 'num muted', text: formatBasis(group, def.id, def.unit) }),
          el('td', { class: 'bar-cell' },
            svg('svg', { class: 'bar', viewBox: '0 0 100 8', preserveAspectRatio: 'none', 'aria-hidden': 'true' },
              svg('rect', { class: 'bar-fill', x: 0, y: 0, width: (share * 100).toFixed(2), height: 8, rx: 2 })))),
      );
    }
  }

  // ---- the SVG chart --------------------------------------------------------------------------

  /** A round gridline step for about four steps over `range`. */
  function niceScale(range) {
    const raw = range > 0 ? range / 4 : 0.25;
    const magnitude = 10 ** Math.floor(Math.log10(raw));
    return { step: [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) };
  }

  function renderChart(root, points, unit) {
    const values = points.map((p) => (typeof p.value === 'number' ? p.value : null));
    root.dataset.points = String(points.length);
    if (!points.length || values.every((v) => v === null)) {
      root.dataset.state = 'empty';
      root.replaceChildren(el('p', { class: 'chart-empty muted', text: t('no_data') }));
      return;
    }
    const width = Math.max(root.clientWidth || 640, 320);
    const height = 260;
    const pad = { top: 16, right: 16, bottom: 30, left: 64 };
    const innerW = width - pad.left - pad.right;
    const innerH = height - pad.top - pad.bottom;
    const present = values.filter((v) => v !== null);
    const low = Math.min(0, ...present); // only a score like NPS goes below zero
    const high = Math.max(0, ...present);
    const { step } = niceScale(high - low);
    const minV = low < 0 ? -step * Math.ceil(-low / step - 1e-9) : 0;
    const maxV = step * Math.max(1, Math.ceil(high / step - 1e-9));
    const span = maxV - minV || 1;
    const x = (i) => pad.left + (points.length === 1 ? innerW / 2 : (i * innerW) / (points.length - 1));
    const y = (v) => pad.top + innerH - ((v - minV) / span) * innerH;
    const dateOpts = state.granularity === 'month' ? { month: 'short', year: 'numeric' } : { day: 'numeric', month: 'short' };

    const chart = svg('svg', {
      class: 'chart-svg', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img',
      'aria-label': `${kpiName(state.selected)}: ${points.length} ${t('points')}`,
    });
    const gradientId = 'chart-fill';
    chart.append(svg('defs', {},
      svg('linearGradient', { id: gradientId, x1: 0, y1: 0, x2: 0, y2: 1 },
        svg('stop', { offset: '0%', class: 'chart-fill-top' }),
        svg('stop', { offset: '100%', class: 'chart-fill-bottom' }))));

    const ticks = Math.round(span / step);
    for (let i = 0; i <= ticks; i++) {
      const v = minV + step * i;
      const yy = y(v);
      chart.append(svg('line', { class: 'grid', x1: pad.left, x2: width - pad.right, y1: yy, y2: yy }));
      const label = svg('text', { class: 'axis-label', x: pad.left - 8, y: yy + 4, 'text-anchor': 'end' });
      label.textContent = formatAxis(v, unit);
      chart.append(label);
    }
    const every = Math.max(1, Math.ceil(points.length / Math.max(2, Math.floor(innerW / 90))));
    points.forEach((p, i) => {
      // Every `every`-th label, and the last one unless it would crowd the one before it.
      const last = i === points.length - 1;
      if (i % every !== 0 && !(last && i % every >= every / 2)) return;
      const text = formatDay(p.period_start, dateOpts);
      const halfWidth = text.length * 3.2; // about half the label's width at 11px
      const anchor = x(i) + halfWidth > width ? 'end' : x(i) - halfWidth < 0 ? 'start' : 'middle';
      const label = svg('text', { class: 'axis-label', x: x(i), y: height - 8, 'text-anchor': anchor });
      label.textContent = text;
      chart.append(label);
    });

    if (unit === 'count') {
      const barW = Math.max(2, Math.min(36, (innerW / points.length) * 0.6));
      points.forEach((p, i) => {
        if (values[i] === null) return;
        const top = y(Math.max(values[i], 0));
        const bar = svg('rect', {
          class: 'chart-bar', x: x(i) - barW / 2, y: top, width: barW, height: Math.max(y(0) - top, 0.5), rx: 2,
        });
        bar.append(svg('title'));
        bar.lastChild.textContent = `${formatDay(p.period_start, dateOpts)}: ${formatValue(values[i], unit)}`;
        chart.append(bar);
      });
    } else {
      // One path per run of known values: a day without data is a gap, not a zero.
      let line = '';
      let area = '';
      let run = [];
      const flush = () => {
        if (!run.length) return;
        line += run.map(([i, v], k) => `${k ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join('');
        const first = run[0][0];
        const last = run[run.length - 1][0];
        area += `M${x(first).toFixed(1)},${y(minV).toFixed(1)}`
          + run.map(([i, v]) => `L${x(i).toFixed(1)},${y(v).toFixed(1)}`).join('')
          + `L${x(last).toFixed(1)},${y(minV).toFixed(1)}Z`;
        run = [];
      };
      values.forEach((v, i) => (v === null ? flush() : run.push([i, v])));
      flush();
      chart.append(svg('path', { class: 'chart-area', d: area, fill: `url(#${gradientId})` }));
      chart.append(svg('path', { class: 'chart-line', d: line }));
      points.forEach((p, i) => {
        if (values[i] === null) return;
        const dot = svg('circle', { class: 'chart-dot', cx: x(i), cy: y(values[i]), r: points.length > 45 ? 2 : 3.5 });
        dot.append(svg('title'));
        dot.lastChild.textContent = `${formatDay(p.period_start, dateOpts)}: ${formatValue(values[i], unit)}`;
        chart.append(dot);
      });
    }
    chart.append(svg('line', { class: 'axis', x1: pad.left, x2: width - pad.right, y1: y(minV), y2: y(minV) }));
    root.replaceChildren(chart);
    root.dataset.state = 'ready';
  }

  // ---- events ---------------------------------------------------------------------------------

  function showCustomRange(show) {
    for (const node of $$('.custom-range')) node.hidden = !show;
  }

  function applyCustomRange() {
    const from = $('#from').value;
    const through = $('#to').value;
    if (!from || !through || from > through) {
      setStatus(t('invalid_range'), 'error');
      return;
    }
    state.preset = 'custom';
    state.from = from;
    state.to = addDays(through, 1);
    loadKpis();
  }

  function wireEvents() {
    $('#signin-form').addEventListener('submit', signIn);
    $('#signout').addEventListener('click', signOut);
    for (const button of $$('[data-lang]')) button.addEventListener('click', () => setLanguage(button.dataset.lang));
    $('#period').addEventListener('change', (event) => {
      const preset = event.target.value;
      if (preset === 'custom') {
        $('#from').value = state.from;
        $('#to').value = addDays(state.to, -1);
        showCustomRange(true);
        $('#from').focus();
        return;
      }
      showCustomRange(false);
      state.preset = preset;
      [state.from, state.to] = presetPeriod(preset);
      loadKpis();
    });
    $('#toolbar').addEventListener('submit', (event) => {
      event.preventDefault();
      applyCustomRange();
    });
    for (const name of ['channel', 'segment', 'location']) {
      $(`#${name}`).addEventListener('change', (event) => {
        state.filters[name] = event.target.value;
        loadKpis();
      });
    }
    for (const button of $$('[data-granularity]')) {
      button.addEventListener('click', () => {
        state.granularity = button.dataset.granularity;
        renderDetail();
        loadDetail();
      });
    }
    $('#group-by').addEventListener('change', (event) => {
      state.groupBy = event.target.value;
      state.groups = null;
      renderDetail();
      loadDetail();
    });
    $('#detail-close').addEventListener('click', closeDetail);
    document.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && state.selected) closeDetail();
    });
    let resizeTimer = 0;
    window.addEventListener('resize', () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(() => state.selected && renderDetail(), 150);
    });
  }

  document.addEventListener('DOMContentLoaded', () => {
    boot().catch((error) => failed(error));
  });
})();
