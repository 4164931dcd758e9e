/* Emporio ops: start-up, sign-in and the view's state in the address.
 *
 * The address holds everything a view needs, so a bookmark or a shared link opens the same view,
 * and back/forward step through the changes:
 *   /ops?period=7d                      a preset period (7d, 30d — the default —, 90d, month)
 *   /ops?from=2026-02-01&to=2026-03-01  a period of days; `to` is exclusive, as in the API
 *   &channel= &segment= &location= &customer_segment=   the KPI filters
 *   &kpi=<id>&granularity=week&group_by=<dimension>     the KPI shown in detail
 *   &inbox=mine|unassigned|breaching&q=<search>         the service inbox
 *   &queue=<id>&order=<id>                              the open work queue and order (ops-queues.js)
 *   #dashboard | #segments | #service | #service/<case id>   the view (and the open case)
 */
(function () {
  'use strict';
  const O = (window.EmporioOps = window.EmporioOps || {});
  const state = O.state;
  const $ = O.$;
  const $$ = O.$$;
  const t = O.t;

  const MAINS = { dashboard: '#dashboard', segments: '#segments-view', service: '#service' };
  const FILTERS = ['channel', 'segment', 'location', 'customer_segment'];
  const ORDER_SEGMENTS = ['first_order', 'returning', 'reactivated'];
  const INBOXES = ['mine', 'unassigned', 'breaching'];
  const GRANULARITIES = ['day', 'week', 'month'];

  function allowedViews() {
    const views = [];
    if (O.hasScope('ops')) views.push('dashboard', 'segments');
    if (O.hasScope('agent')) views.push('service');
    return views;
  }

  // ---- the address ----------------------------------------------------------------------------

  function readUrl() {
    const p = new URLSearchParams(window.location.search);
    const from = p.get('from');
    const to = p.get('to');
    if (O.isDay(from) && O.isDay(to) && from < to) {
      state.preset = 'custom';
      state.from = from;
      state.to = to;
    } else {
      state.preset = O.PRESETS.indexOf(p.get('period')) >= 0 ? p.get('period') : '30d';
      const period = O.presetPeriod(state.preset);
      state.from = period[0];
      state.to = period[1];
    }
    const filters = {};
    for (const name of FILTERS) filters[name] = (p.get(name) || '').slice(0, 64);
    if (ORDER_SEGMENTS.indexOf(filters.segment) < 0) filters.segment = '';
    state.filters = filters;
    state.selected = p.get('kpi') || null;
    if (state.selected && state.defs.size && !state.defs.has(state.selected)) state.selected = null;
    state.granularity = GRANULARITIES.indexOf(p.get('granularity')) >= 0 ? p.get('granularity') : 'day';
    state.groupBy = (p.get('group_by') || '').slice(0, 40);
    state.inbox = INBOXES.indexOf(p.get('inbox')) >= 0 ? p.get('inbox') : 'mine';
    state.q = (p.get('q') || '').slice(0, 100);
    O.readWorkUrl(p);
    const parts = decodeURIComponent(window.location.hash.replace(/^#/, '')).split('/');
    const views = allowedViews();
    state.view = views.indexOf(parts[0]) >= 0 ? parts[0] : views[0] || 'dashboard';
    state.caseId = state.view === 'service' && /^[A-Za-z0-9_.:-]{1,100}$/.test(parts[1] || '') ? parts[1] : '';
  }

  function urlOf() {
    const p = new URLSearchParams();
    if (state.preset === 'custom') {
      p.set('from', state.from);
      p.set('to', state.to);
    } else if (state.preset !== '30d') {
      p.set('period', state.preset);
    }
    for (const name of FILTERS) if (state.filters[name]) p.set(name, state.filters[name]);
    if (state.selected) {
      p.set('kpi', state.selected);
      if (state.granularity !== 'day') p.set('granularity', state.granularity);
      if (state.groupBy) p.set('group_by', state.groupBy);
    }
    if (state.inbox !== 'mine') p.set('inbox', state.inbox);
    if (state.q) p.set('q', state.q);
    O.writeWorkUrl(p);
    const search = p.toString();
    const hash = state.view + (state.view === 'service' && state.caseId ? `/${state.caseId}` : '');
    return `${window.location.pathname}${search ? `?${search}` : ''}#${hash}`;
  }

  /** The address of the view with `changes` made (a link's href), the view itself left as it is. */
  O.urlWith = function urlWith(changes) {
    const saved = {};
    for (const k of Object.keys(changes)) saved[k] = state[k];
    Object.assign(state, changes);
    const url = urlOf();
    Object.assign(state, saved);
    return url;
  };

  /** Change the view's state: the address follows (a new history entry unless `replace`), then
   * the page. Every control goes through here, and back/forward through `popstate`. */
  O.commit = function commit(changes, opts) {
    Object.assign(state, changes);
    const url = urlOf();
    const here = window.location.pathname + window.location.search + window.location.hash;
    if (url !== here) window.history[opts && opts.replace ? 'replaceState' : 'pushState'](null, '', url);
    sync();
  };

  function sync() {
    if (!state.session) return;
    for (const view of Object.keys(MAINS)) $(MAINS[view]).hidden = view !== state.view;
    for (const link of $$('[data-view]')) {
      if (link.dataset.view === state.view) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    document.title = `${t(`nav_${state.view}`)} · Emporio Ops`;
    $('#app').dataset.view = state.view;
    const toolbar = $('#toolbar');
    toolbar.hidden = state.view === 'service';
    toolbar.dataset.view = state.view;
    $('#period').value = state.preset;
    showCustomRange(state.preset === 'custom');
    if (state.preset === 'custom') {
      $('#from').value = state.from;
      $('#to').value = O.addDays(state.to, -1);
    }
    for (const name of FILTERS) selectValue($(`#${name}`), state.filters[name]);
    O.renderPeriodLabel();
    O.syncWork();
    if (state.view === 'service') O.syncService();
    else O.leaveService();
    if (state.view === 'dashboard') O.syncDashboard();
    if (state.view === 'segments') O.syncSegments();
  }

  /** A value from the address may not be among the options yet (or at all): it is shown anyway. */
  function selectValue(select, value) {
    if (value && !Array.from(select.options).some((o) => o.value === value)) {
      select.append(O.el('option', { value, text: value }));
    }
    select.value = value;
  }

  // ---- static texts ---------------------------------------------------------------------------

  function applyLanguage() {
    document.documentElement.lang = state.lang;
    for (const node of $$('[data-i18n]')) node.textContent = t(node.dataset.i18n);
    for (const node of $$('[data-i18n-label]')) node.setAttribute('aria-label', t(node.dataset.i18nLabel));
    for (const node of $$('[data-i18n-placeholder]')) node.setAttribute('placeholder', t(node.dataset.i18nPlaceholder));
    for (const button of $$('[data-lang]')) button.setAttribute('aria-pressed', String(button.dataset.lang === state.lang));
    $('#signin-key').setAttribute('placeholder', 'emp_…');
    if (state.session) $('#whoami').textContent = `${t('signed_in_as')} ${state.session.key_name}`;
    if (state.session) document.title = `${t(`nav_${state.view}`)} · Emporio Ops`;
    O.renderPeriodLabel();
  }

  function setLanguage(lang) {
    state.lang = lang;
    try {
      window.localStorage.setItem(O.LANG_STORE, lang);
    } catch (_) { /* fine: the choice lasts for this page */ }
    applyLanguage();
    fillSegmentOptions();
    if (!state.session) return;
    O.rerenderDashboard();
    O.rerenderSegments();
    O.rerenderWorkspace();
    O.rerenderWork();
  }

  O.renderPeriodLabel = function renderPeriodLabel() {
    if (!state.from) return;
    const opts = { day: 'numeric', month: 'short', year: 'numeric' };
    $('#period-label').textContent = `${O.formatDay(state.from, opts)} – ${O.formatDay(O.addDays(state.to, -1), opts)}`;
  };

  // ---- sign in / out --------------------------------------------------------------------------

  O.showSignIn = function showSignIn(message) {
    state.session = null;
    $('#app').hidden = true;
    $('#signin').hidden = false;
    const error = $('#signin-error');
    error.hidden = !message;
    error.textContent = message || '';
    $('#signin-key').focus();
  };

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
        await startApp();
        return;
      }
      const problem = await res.json().catch(() => ({}));
      const message = res.status === 401 ? t('error_unknown_key')
        : res.status === 403 ? t('error_no_scope')
          : `${t('error_generic')}: ${problem.detail || res.status}`;
      O.showSignIn(message);
    } finally {
      button.disabled = false;
    }
  }

  async function signOut() {
    const headers = state.session && state.session.csrf_token ? { 'X-Emporio-CSRF': state.session.csrf_token } : {};
    await fetch('/ops/session/logout', { method: 'POST', credentials: 'same-origin', headers }).catch(() => null);
    O.leaveService();
    O.resetDashboard();
    O.resetSegments();
    O.resetWork();
    O.openCase('');
    state.defs = new Map();
    O.showSignIn('');
  }

  // ---- start ----------------------------------------------------------------------------------

  async function boot() {
    state.lang = O.preferredLanguage();
    applyLanguage();
    wireEvents();
    const res = await fetch('/ops/session', { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    if (res.ok) {
      state.session = await res.json();
      await startApp();
    } else {
      O.showSignIn('');
    }
  }

  async function startApp() {
    $('#signin').hidden = true;
    $('#app').hidden = false;
    const views = allowedViews();
    for (const link of $$('[data-view]')) link.hidden = views.indexOf(link.dataset.view) < 0;
    readUrl();
    window.history.replaceState(null, '', urlOf());
    applyLanguage();
    sync();
    if (O.hasScope('ops')) await startDashboard();
  }

  async function startDashboard() {
    try {
      const answers = await Promise.all([
        O.getJSON('/v1/kpis/definitions'),
        O.getJSON('/v1/channels').catch((e) => (O.ignoreSignedOut(e), [])),
        O.getJSON('/v1/locations').catch((e) => (O.ignoreSignedOut(e), [])),
        O.getJSON('/v1/segments?days=1').catch((e) => (O.ignoreSignedOut(e), { now: {} })),
        O.loadSegmentNames(),
      ]);
      state.defs = new Map(answers[0].map((d) => [d.id, d]));
      state.channels = answers[1];
      state.locations = answers[2];
      state.segmentIds = Object.keys(answers[3].now || {});
      fillFilterOptions();
      if (state.selected && !state.defs.has(state.selected)) O.commit({ selected: null }, { replace: true });
      else sync();
      O.rerenderSegments();
    } catch (error) {
      if (!(error instanceof O.SignedOut)) O.failed(error);
    }
  }

  function fillFilterOptions() {
    const fill = (select, items, value, label) => {
      select.replaceChildren(select.options[0]);
      for (const item of items) select.append(O.el('option', { value: item[value], text: item[label] || item[value] }));
    };
    fill($('#channel'), state.channels, 'code', 'name');
    fill($('#location'), state.locations, 'code', 'name');
    fillSegmentOptions();
    for (const name of FILTERS) selectValue($(`#${name}`), state.filters[name]);
  }

  function fillSegmentOptions() {
    const select = $('#customer_segment');
    const ids = state.segmentIds || [];
    select.replaceChildren(select.options[0]);
    for (const id of ids) select.append(O.el('option', { value: id, text: O.segmentName(id) }));
    selectValue(select, state.filters.customer_segment);
  }

  // ---- events ---------------------------------------------------------------------------------

  function showCustomRange(show) {
    for (const node of $$('.custom-range')) node.hidden = !show;
  }

  function applyCustomRange() {
    const from = $('#from').value;
    const through = $('#to').value;
    if (!O.isDay(from) || !O.isDay(through) || from > through) {
      O.setStatus(t('invalid_range'), 'error');
      return;
    }
    O.commit({ preset: 'custom', from, to: O.addDays(through, 1) });
  }

  function wireEvents() {
    $('#signin-form').addEventListener('submit', signIn);
    $('#signout').addEventListener('click', signOut);
    for (const button of $$('[data-lang]')) button.addEventListener('click', () => setLanguage(button.dataset.lang));
    for (const link of $$('[data-view]')) {
      link.addEventListener('click', (event) => {
        event.preventDefault();
        O.commit({ view: link.dataset.view, caseId: link.dataset.view === 'service' ? state.caseId : '' });
      });
    }
    $('#period').addEventListener('change', (event) => {
      const preset = event.target.value;
      if (preset === 'custom') {
        $('#from').value = state.from;
        $('#to').value = O.addDays(state.to, -1);
        showCustomRange(true);
        $('#from').focus();
        return;
      }
      const period = O.presetPeriod(preset);
      O.commit({ preset, from: period[0], to: period[1] });
    });
    $('#toolbar').addEventListener('submit', (event) => {
      event.preventDefault();
      applyCustomRange();
    });
    for (const name of FILTERS) {
      $(`#${name}`).addEventListener('change', (event) => {
        const filters = Object.assign({}, state.filters);
        filters[name] = event.target.value;
        O.commit({ filters });
      });
    }
    for (const button of $$('[data-granularity]')) {
      button.addEventListener('click', () => O.commit({ granularity: button.dataset.granularity }));
    }
    $('#group-by').addEventListener('change', (event) => O.commit({ groupBy: event.target.value }));
    $('#detail-close').addEventListener('click', () => O.commit({ selected: null }));
    document.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && state.view === 'dashboard' && state.selected) O.commit({ selected: null });
    });
    window.addEventListener('popstate', () => {
      if (!state.session) return;
      readUrl();
      sync();
    });
    let resizeTimer = 0;
    window.addEventListener('resize', () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(O.redrawChart, 150);
    });
    O.wireWorkspace();
    O.wireWork();
  }

  document.addEventListener('DOMContentLoaded', () => {
    boot().catch((error) => O.failed(error));
  });
})();
