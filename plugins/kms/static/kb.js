/* The knowledge-base editor of the ops web app: write an article in Greek and English with a live
 * preview (rendered and sanitised by the server, exactly as customers will see it), save (every save
 * is a version), publish now or at a time, archive, compare a version with the current one and
 * restore it. Signs in like /ops: a session cookie, and the session's anti-forgery token for changes. */
'use strict';

(() => {
  const TEXT = {
    el: {
      title: 'Βάση γνώσεων', dashboard: 'Πίνακας ελέγχου', signout: 'Αποσύνδεση', key: 'Κλειδί API (ops)',
      signin: 'Σύνδεση', all: 'Όλα', draft: 'Πρόχειρα', published: 'Δημοσιευμένα', archived: 'Αρχειοθετημένα',
      new: 'Νέο άρθρο', category: 'Κατηγορία', visibility: 'Ορατότητα', public: 'Δημόσιο (πελάτες)',
      internal: 'Εσωτερικό (συνεργάτες)', preview: 'Προεπισκόπηση', save: 'Αποθήκευση', publish: 'Δημοσίευση τώρα',
      schedule: 'Προγραμματισμός', archive: 'Αρχειοθέτηση', versions: 'Εκδόσεις', saved: 'Αποθήκευση', by: 'Από',
      title_placeholder: 'Τίτλος', body_placeholder: 'Κείμενο σε Markdown',
      footer: 'Τα άρθρα γράφονται σε Markdown· η προεπισκόπηση δείχνει ό,τι θα δουν οι πελάτες.',
      status_draft: 'πρόχειρο', status_published: 'δημοσιευμένο', status_archived: 'αρχειοθετημένο',
      version: 'έκδοση', scheduled: 'προγραμματισμένο για', compare: 'Σύγκριση με την τρέχουσα', restore: 'Επαναφορά',
      saved_ok: 'Αποθηκεύτηκε ως έκδοση', published_ok: 'Δημοσιεύτηκε', scheduled_ok: 'Θα δημοσιευτεί στις',
      archived_ok: 'Αρχειοθετήθηκε', restored_ok: 'Επαναφέρθηκε ως έκδοση', no_time: 'Διαλέξτε ημερομηνία και ώρα',
      no_title: 'Γράψτε τουλάχιστον έναν τίτλο', same: 'Καμία διαφορά', untitled: '(χωρίς τίτλο)',
      signin_needed: 'Συνδεθείτε με ένα κλειδί ops.', empty: 'Κανένα άρθρο ακόμη.',
    },
    en: {
      title: 'Knowledge base', dashboard: 'Dashboard', signout: 'Sign out', key: 'API key (ops)', signin: 'Sign in',
      all: 'All', draft: 'Drafts', published: 'Published', archived: 'Archived', new: 'New article',
      category: 'Category', visibility: 'Visibility', public: 'Public (customers)', internal: 'Internal (agents)',
      preview: 'Preview', save: 'Save', publish: 'Publish now', schedule: 'Schedule', archive: 'Archive',
      versions: 'Versions', saved: 'Saved', by: 'By', title_placeholder: 'Title', body_placeholder: 'Text in Markdown',
      footer: 'Articles are written in Markdown; the preview shows what customers will see.',
      status_draft: 'draft', status_published: 'published', status_archived: 'archived', version: 'version',
      scheduled: 'scheduled for', compare: 'Compare with current', restore: 'Restore',
      saved_ok: 'Saved as version', published_ok: 'Published', scheduled_ok: 'Will be published at',
      archived_ok: 'Archived', restored_ok: 'Restored as version', no_time: 'Choose a date and time',
      no_title: 'Write at least one title', same: 'No difference', untitled: '(untitled)',
      signin_needed: 'Sign in with an ops key.', empty: 'No articles yet.',
    },
  };
  const LOCALES = ['el', 'en'];
  const $ = (selector) => document.querySelector(selector);
  const state = { lang: 'el', csrf: null, article: null, previewTimers: {} };

  const t = (key) => TEXT[state.lang][key] || TEXT.en[key] || key;

  function translatePage() {
    document.documentElement.lang = state.lang;
    document.title = `Emporio — ${t('title')}`;
    for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
    for (const node of document.querySelectorAll('[data-i18n-placeholder]')) node.placeholder = t(node.dataset.i18nPlaceholder);
    for (const button of document.querySelectorAll('[data-lang]')) button.setAttribute('aria-pressed', String(button.dataset.lang === state.lang));
    if (state.article) showArticle(state.article);
  }

  function say(message, isError = false) {
    const line = $('#status-line');
    line.textContent = message;
    line.classList.toggle('error', isError);
  }

  async function call(method, path, body) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (method !== 'GET' && state.csrf) headers['X-Emporio-CSRF'] = state.csrf;
    const response = await fetch(path, {
      method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const data = text ? JSON.parse(text) : null;
    if (!response.ok) {
      const error = new Error((data && data.detail) || `${response.status}`);
      error.status = response.status;
      throw error;
    }
    return data;
  }

  // ---- signing in ----------------------------------------------------------------------------

  async function boot() {
    try {
      const session = await call('GET', '/ops/session');
      state.csrf = session.csrf_token;
      newArticle();
      await loadList();
      // Shown only once ready: nothing typed before then can be wiped by the first load.
      $('#signin').hidden = true;
      $('#app').hidden = false;
      $('#signout').hidden = false;
    } catch (error) {
      if (error.status !== 401 && error.status !== 403) throw error;
      $('#app').hidden = true;
      $('#signout').hidden = true;
      $('#signin').hidden = false;
      $('#signin-error').textContent = error.status === 403 ? error.message : t('signin_needed');
    }
  }

  async function signIn(event) {
    event.preventDefault();
    try {
      await call('POST', '/ops/session', { key: $('#signin-key').value.trim() });
      $('#signin-key').value = '';
      await boot();
    } catch (error) {
      $('#signin-error').textContent = error.message;
    }
  }

  async function signOut() {
    await call('POST', '/ops/session/logout').catch(() => null);
    state.csrf = null;
    state.article = null;
    await boot();
  }

  // ---- the list --------------------------------------------------------------------------------

  async function loadList() {
    const status = $('#status-filter').value;
    const page = await call('GET', `/v1/kb/articles?limit=200${status ? `&status=${status}` : ''}`);
    const list = $('#article-list');
    list.replaceChildren();
    for (const item of page.items) {
      const li = document.createElement('li');
      li.dataset.id = item.id;
      li.dataset.status = item.status;
      li.textContent = item.titles[state.lang] || Object.values(item.titles)[0] || t('untitled');
      const slug = document.createElement('span');
      slug.className = 'slug';
      slug.textContent = `${item.slug} · ${t(`status_${item.status}`)} · v${item.version}`;
      li.append(slug);
      li.classList.toggle('current', !!state.article && state.article.id === item.id);
      li.addEventListener('click', () => openArticle(item.id));
      list.append(li);
    }
    if (!page.items.length) {
      const li = document.createElement('li');
      li.className = 'muted';
      li.textContent = t('empty');
      list.append(li);
    }
  }

  // ---- the editor ------------------------------------------------------------------------------

  function newArticle() {
    state.article = null;
    for (const field of ['#slug', '#category', '#publish-at']) $(field).value = '';
    $('#visibility').value = 'public';
    for (const locale of LOCALES) {
      $(`#title-${locale}`).value = '';
      $(`#body-${locale}`).value = '';
      $(`#preview-${locale}`).replaceChildren();
    }
    showArticle(null);
    say('');
  }

  function showArticle(article) {
    const editor = $('#editor');
    editor.dataset.articleId = article ? article.id : '';
    editor.dataset.version = article ? String(article.version) : '';
    editor.dataset.status = article ? article.status : '';
    const badge = $('#article-status');
    badge.className = `badge ${article ? article.status : ''}`;
    badge.textContent = article ? t(`status_${article.status}`) : '';
    let version = article ? `${t('version')} ${article.version}` : '';
    if (article && article.publish_at) version += ` · ${t('scheduled')} ${new Date(article.publish_at).toLocaleString(state.lang)}`;
    $('#article-version').textContent = version;
    for (const id of ['#publish', '#schedule', '#archive']) $(id).disabled = !article;
    if (article) {
      $('#publish').disabled = article.status === 'published';
      $('#archive').disabled = article.status === 'archived';
    }
    $('#versions').hidden = !article;
    for (const li of document.querySelectorAll('#article-list li')) li.classList.toggle('current', !!article && li.dataset.id === article.id);
  }

  function fill(article) {
    state.article = article;
    $('#slug').value = article.slug;
    $('#category').value = article.category || '';
    $('#visibility').value = article.visibility;
    for (const locale of LOCALES) {
      const translation = article.translations[locale];
      $(`#title-${locale}`).value = translation ? translation.title : '';
      $(`#body-${locale}`).value = translation ? translation.body : '';
      showPreview(locale, translation ? translation.html : '');
    }
    showArticle(article);
  }

  function showPreview(locale, html) {
    // The server rendered and sanitised it (markdown-it + nh3): the same HTML customers get.
    const box = $(`#preview-${locale}`);
    box.innerHTML = html;
    box.dataset.rendered = 'true';
  }

  function schedulePreview(locale) {
    clearTimeout(state.previewTimers[locale]);
    $(`#preview-${locale}`).dataset.rendered = 'false';
    state.previewTimers[locale] = setTimeout(async () => {
      try {
        const rendered = await call('POST', '/v1/kb/preview', { body: $(`#body-${locale}`).value });
        showPreview(locale, rendered.html);
      } catch (error) {
        say(error.message, true);
      }
    }, 250);
  }

  async function openArticle(id) {
    try {
      fill(await call('GET', `/v1/kb/articles/${encodeURIComponent(id)}`));
      say('');
      await loadVersions();
    } catch (error) {
      say(error.message, true);
    }
  }

  function formBody() {
    const translations = {};
    for (const locale of LOCALES) {
      const title = $(`#title-${locale}`).value.trim();
      const body = $(`#body-${locale}`).value;
      if (title) translations[locale] = { title, body };
    }
    const body = { translations, visibility: $('#visibility').value };
    const slug = $('#slug').value.trim();
    const category = $('#category').value.trim();
    if (slug) body.slug = slug;
    if (category) body.category = category;
    if (state.article) body.version = state.article.version;
    return body;
  }

  async function save(event) {
    event.preventDefault();
    const body = formBody();
    if (!Object.keys(body.translations).length) return say(t('no_title'), true);
    try {
      const saved = state.article
        ? await call('PUT', `/v1/kb/articles/${state.article.id}`, body)
        : await call('POST', '/v1/kb/articles', body);
      fill(saved);
      say(`${t('saved_ok')} ${saved.version}`);
      await Promise.all([loadList(), loadVersions()]);
    } catch (error) {
      say(error.message, true);
    }
  }

  async function act(path, body, message) {
    try {
      const changed = await call('POST', `/v1/kb/articles/${state.article.id}/${path}`, body);
      fill(changed);
      say(message(changed));
      await Promise.all([loadList(), loadVersions()]);
    } catch (error) {
      say(error.message, true);
    }
  }

  function publishLater() {
    const local = $('#publish-at').value;
    if (!local) return say(t('no_time'), true);
    const at = new Date(local); // the browser's time zone, sent as UTC
    return act('publish', { at: at.toISOString() }, (a) => `${t('scheduled_ok')} ${new Date(a.publish_at).toLocaleString(state.lang)}`);
  }

  // ---- versions --------------------------------------------------------------------------------

  async function loadVersions() {
    const rows = $('#version-rows');
    rows.replaceChildren();
    $('#diff').hidden = true;
    if (!state.article) return;
    const list = await call('GET', `/v1/kb/articles/${state.article.id}/versions`);
    for (const version of list.versions) {
      const tr = document.createElement('tr');
      tr.dataset.version = String(version.version);
      const cells = [
        `${version.version}${version.restored_from ? ` ← ${version.restored_from}` : ''}`,
        new Date(version.created_at).toLocaleString(state.lang),
        version.created_by,
      ];
      for (const text of cells) {
        const td = document.createElement('td');
        td.textContent = text;
        tr.append(td);
      }
      const td = document.createElement('td');
      if (version.version !== list.current) {
        const compare = document.createElement('button');
        compare.type = 'button';
        compare.className = 'compare';
        compare.textContent = t('compare');
        compare.addEventListener('click', () => showDiff(version.version, list.current));
        const restore = document.createElement('button');
        restore.type = 'button';
        restore.className = 'restore';
        restore.textContent = t('restore');
        restore.addEventListener('click', () => act('restore', { version: version.version }, (a) => `${t('restored_ok')} ${a.version}`));
        td.append(compare, ' ', restore);
      }
      tr.append(td);
      rows.append(tr);
    }
  }

  async function showDiff(from, to) {
    try {
      const diff = await call('GET', `/v1/kb/articles/${state.article.id}/diff?from=${from}&to=${to}`);
      const box = $('#diff');
      box.textContent = diff.diff || t('same');
      box.dataset.from = String(from);
      box.dataset.to = String(to);
      box.hidden = false;
    } catch (error) {
      say(error.message, true);
    }
  }

  // ---- wiring ----------------------------------------------------------------------------------

  document.addEventListener('DOMContentLoaded', () => {
    const preferred = (navigator.language || 'el').slice(0, 2);
    state.lang = preferred === 'en' ? 'en' : 'el';
    translatePage();
    for (const button of document.querySelectorAll('[data-lang]')) {
      button.addEventListener('click', () => {
        state.lang = button.dataset.lang;
        translatePage();
        say('');
        Promise.all([loadList(), loadVersions()]).catch((e) => say(e.message, true));
      });
    }
    $('#signin-form').addEventListener('submit', signIn);
    $('#signout').addEventListener('click', signOut);
    $('#status-filter').addEventListener('change', () => loadList().catch((e) => say(e.message, true)));
    $('#new-article').addEventListener('click', newArticle);
    $('#article-form').addEventListener('submit', save);
    $('#publish').addEventListener('click', () => act('publish', undefined, () => t('published_ok')));
    $('#schedule').addEventListener('click', publishLater);
    $('#archive').addEventListener('click', () => act('archive', undefined, () => t('archived_ok')));
    for (const locale of LOCALES) $(`#body-${locale}`).addEventListener('input', () => schedulePreview(locale));
    boot().catch((error) => say(error.message, true));
  });
})();
