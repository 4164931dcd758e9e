/* Emporio ops: survey results with comments and the review moderation queue. Signed in with the
 * dashboard's session cookie; every change carries the session's anti-forgery token. Text from
 * customers is only ever set as textContent. */
(function () {
  'use strict';

  const STRINGS = {
    el: {
      tab_responses: 'Αποτελέσματα ερευνών', tab_reviews: 'Έλεγχος κριτικών', signin: 'Συνδεθείτε πρώτα:',
      survey: 'Έρευνα', score: 'Βαθμός', max_score: 'Βαθμός έως', channel: 'Κανάλι', agent: 'Συνεργάτης',
      with_comment: 'Με σχόλιο', apply: 'Εφαρμογή', at: 'Πότε', comment: 'Σχόλιο', case: 'Αίτημα',
      customer: 'Πελάτης', follow_up: 'Συνέχεια', more: 'Περισσότερα', publish: 'Δημοσίευση',
      reject: 'Απόρριψη', reply: 'Απάντηση καταστήματος', send_reply: 'Αποστολή απάντησης',
      reason: 'Λόγος (πολιτική περιεχομένου)', empty: 'Τίποτα εδώ.', order: 'Παραγγελία',
      published: 'Δημοσιεύτηκε', rejected: 'Απορρίφθηκε', replied: 'Η απάντηση αποθηκεύτηκε',
    },
    en: {
      tab_responses: 'Survey results', tab_reviews: 'Review moderation', signin: 'Sign in first:',
      survey: 'Survey', score: 'Score', max_score: 'Score at most', channel: 'Channel', agent: 'Agent',
      with_comment: 'With comment', apply: 'Apply', at: 'When', comment: 'Comment', case: 'Case',
      customer: 'Customer', follow_up: 'Follow-up', more: 'More', publish: 'Publish', reject: 'Reject',
      reply: "Shop's reply", send_reply: 'Send reply', reason: 'Reason (content policy)', empty: 'Nothing here.',
      order: 'Order', published: 'Published', rejected: 'Rejected', replied: 'Reply saved',
    },
  };
  const LOW = { csat: 2, nps: 6, ces: 2 };
  const state = { lang: localStorage.getItem('emporio.lang') || 'el', csrf: null, policy: null,
    responsesCursor: null, reviewsCursor: null };

  const $ = (sel) => document.querySelector(sel);
  const t = (key) => (STRINGS[state.lang] || STRINGS.el)[key] || key;

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'text') node.textContent = v;
      else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else if (v !== null && v !== undefined) node.setAttribute(k, v);
    }
    for (const child of children) if (child) node.append(child);
    return node;
  }

  function translate() {
    document.documentElement.lang = state.lang;
    for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
    $('#lang').textContent = state.lang === 'el' ? 'EN' : 'ΕΛ';
    if (state.policy) $('#principle').textContent = state.policy.principle[state.lang];
  }

  function fail(error) {
    $('#error').textContent = String(error.message || error);
    $('#error').hidden = false;
  }

  async function getJSON(path) {
    const response = await fetch(path, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    if (response.status === 401) {
      $('#signin').hidden = false;
      throw new Error('401');
    }
    const body = await response.json();
    if (!response.ok) throw new Error(body.detail || response.statusText);
    return body;
  }

  async function postJSON(path, payload) {
    const response = await fetch(path, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-Emporio-CSRF': state.csrf || '' },
      body: JSON.stringify(payload),
    });
    const body = await response.json();
    if (!response.ok) throw new Error(body.detail || response.statusText);
    return body;
  }

  // ---- survey results ----------------------------------------------------------------------

  function responseRow(r) {
    const low = r.score <= (LOW[r.question] ?? -1);
    return el('tr', {},
      el('td', { text: new Date(r.at).toLocaleString(state.lang === 'el' ? 'el-GR' : 'en-GB') }),
      el('td', { text: r.question.toUpperCase() }),
      el('td', { class: `score${low ? ' low' : ''}`, text: String(r.score) }),
      el('td', { text: r.comment || '' }),
      el('td', { text: r.channel || '—' }),
      el('td', { text: r.agent || '—' }),
      el('td', { text: r.case_number ? `#${r.case_number}` : '—' }),
      el('td', { text: r.customer_name || r.customer_id }),
      el('td', { text: r.follow_up_case_id || '' }));
  }

  async function loadResponses(append) {
    const params = new URLSearchParams();
    const form = new FormData($('#filters'));
    for (const [key, value] of form.entries()) if (value) params.set(key, value);
    params.set('limit', '50');
    if (append && state.responsesCursor) params.set('cursor', state.responsesCursor);
    const page = await getJSON(`/v1/survey-responses?${params}`);
    const body = $('#response-rows');
    if (!append) body.replaceChildren();
    for (const r of page.items) body.append(responseRow(r));
    if (!append && !page.items.length) body.append(el('tr', {}, el('td', { colspan: '9', text: t('empty') })));
    state.responsesCursor = page.next_cursor;
    $('#more-responses').hidden = !page.next_cursor;
  }

  // ---- review moderation -------------------------------------------------------------------

  function reviewCard(r) {
    const select = el('select', { 'aria-label': t('reason') }, el('option', { value: '', text: t('reason') }));
    for (const rule of state.policy.reasons) {
      select.append(el('option', { value: rule.code, text: rule.title[state.lang] }));
    }
    const status = el('span', { class: 'muted' });
    const replyBox = el('textarea', { maxlength: '2000', placeholder: t('reply') });
    if (r.reply) replyBox.value = r.reply.body;
    const act = (promise, done) => promise.then(() => { status.textContent = done; }).catch(fail);
    return el('article', { class: 'review', 'data-review': r.id },
      el('h3', { text: `${'★'.repeat(r.rating)}${'☆'.repeat(5 - r.rating)} ${r.title || ''}` }),
      el('p', { text: r.body }),
      el('p', { class: 'meta', text: `${r.sku} · ${t('order')} ${r.order_id} · ${new Date(r.at).toLocaleDateString()}` }),
      el('div', { class: 'actions' },
        el('button', { type: 'button', class: 'primary', text: t('publish'),
          onclick: () => act(postJSON(`/v1/reviews/${r.id}/moderate`, { decision: 'publish' }), t('published')) }),
        select,
        el('button', { type: 'button', class: 'danger', text: t('reject'),
          onclick: () => act(postJSON(`/v1/reviews/${r.id}/moderate`, { decision: 'reject', reason: select.value }),
            t('rejected')) }),
        status),
      replyBox,
      el('button', { type: 'button', text: t('send_reply'),
        onclick: () => act(postJSON(`/v1/reviews/${r.id}/reply`, { body: replyBox.value }), t('replied')) }));
  }

  async function loadReviews(append) {
    if (!state.policy) state.policy = await getJSON('/v1/reviews/content-policy');
    translate();
    const params = new URLSearchParams({ status: 'pending', limit: '25' });
    if (append && state.reviewsCursor) params.set('cursor', state.reviewsCursor);
    const page = await getJSON(`/v1/reviews?${params}`);
    const list = $('#review-list');
    if (!append) list.replaceChildren();
    for (const r of page.items) list.append(reviewCard(r));
    if (!append && !page.items.length) list.append(el('p', { class: 'muted', text: t('empty') }));
    state.reviewsCursor = page.next_cursor;
    $('#more-reviews').hidden = !page.next_cursor;
  }

  function show(tab) {
    for (const button of document.querySelectorAll('[data-tab]')) {
      button.setAttribute('aria-pressed', String(button.dataset.tab === tab));
    }
    $('#responses').hidden = tab !== 'responses';
    $('#reviews').hidden = tab !== 'reviews';
    (tab === 'responses' ? loadResponses(false) : loadReviews(false)).catch(fail);
  }

  async function start() {
    translate();
    const session = await getJSON('/ops/session');
    state.csrf = session.csrf_token;
    for (const button of document.querySelectorAll('[data-tab]')) {
      button.addEventListener('click', () => show(button.dataset.tab));
    }
    $('#filters').addEventListener('submit', (event) => {
      event.preventDefault();
      loadResponses(false).catch(fail);
    });
    $('#more-responses').addEventListener('click', () => loadResponses(true).catch(fail));
    $('#more-reviews').addEventListener('click', () => loadReviews(true).catch(fail));
    $('#lang').addEventListener('click', () => {
      state.lang = state.lang === 'el' ? 'en' : 'el';
      localStorage.setItem('emporio.lang', state.lang);
      translate();
    });
    show(new URLSearchParams(location.search).get('tab') === 'reviews' ? 'reviews' : 'responses');
  }

  document.addEventListener('DOMContentLoaded', () => start().catch((e) => { if (e.message !== '401') fail(e); }));
})();
