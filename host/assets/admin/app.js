// Herald admin UI. Plain JavaScript, no dependencies, served from the binary.
//
// Rule: data from the API never goes through innerHTML. Every element is
// built with `el()`, which only ever sets text with text nodes.
'use strict';

(function () {
  const CSRF = document.querySelector('meta[name="herald-csrf"]').getAttribute('content');
  const API = '/api/v1/admin';

  // ---------- helpers ----------

  /** Builds an element: `attrs` are attributes (or `on…` listeners), children are nodes or text. */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key.startsWith('on') && typeof value === 'function') {
        node.addEventListener(key.slice(2), value);
      } else if (value === true) {
        node.setAttribute(key, '');
      } else {
        node.setAttribute(key, String(value));
      }
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function svg(tag, attrs, ...children) {
    const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
    for (const child of children.flat()) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  const $ = (id) => document.getElementById(id);

  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.message) || ('HTTP ' + status));
      this.status = status;
      this.field = body && body.field;
    }
  }

  async function api(method, path, body) {
    const init = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin' };
    if (method !== 'GET') init.headers['X-Herald-CSRF'] = CSRF;
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path.startsWith('/') ? path : API + '/' + path, init);
    if (response.status === 401) {
      window.location.assign('/admin/login');
      throw new ApiError(401, { message: 'session expired' });
    }
    let data = null;
    if (response.status !== 204) data = await response.json().catch(() => null);
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  function announce(text, kind) {
    const status = $('status');
    status.textContent = text;
    status.className = 'status' + (kind ? ' ' + kind : '');
  }

  function fail(e) {
    announce(e.message || String(e), 'bad');
  }

  function time(iso) {
    if (!iso) return '—';
    const d = new Date(iso);
    return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
  }

  function duration(seconds) {
    seconds = Math.round(seconds || 0);
    const h = Math.floor(seconds / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    if (h > 0) return h + ' h ' + String(m).padStart(2, '0') + ' min';
    if (m > 0) return m + ' min';
    return seconds + ' s';
  }

  function excerpt(text, n) {
    if (!text) return '';
    return text.length > n ? text.slice(0, n) + '…' : text;
  }

  function badge(text, kind) {
    return el('span', { class: 'badge ' + (kind || '') }, text);
  }

  function statusBadge(status) {
    const kinds = { success: 'good', failed: 'bad', pending: 'warn' };
    return badge(status || 'none', kinds[status] || '');
  }

  /** A table cell with its column name for the phone layout. */
  function td(label, ...children) {
    return el('td', { 'data-label': label }, ...children);
  }

  function confirmDialog(title, text, okLabel) {
    return new Promise((resolve) => {
      const dialog = $('confirm-dialog');
      $('confirm-title').textContent = title;
      $('confirm-text').textContent = text;
      $('confirm-ok').textContent = okLabel || 'Confirm';
      dialog.returnValue = 'cancel';
      dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
      dialog.showModal();
      $('confirm-cancel').focus();
    });
  }

  // ---------- pages ----------

  const pages = {};
  let current = null;

  function route() {
    const name = (window.location.hash.replace(/^#\/?/, '') || 'webhooks').split('?')[0];
    const page = pages[name] ? name : 'webhooks';
    for (const section of document.querySelectorAll('.page')) {
      section.hidden = section.id !== 'page-' + page;
    }
    for (const link of document.querySelectorAll('nav a[data-page]')) {
      if (link.dataset.page === page) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    if (current !== page) announce('');
    current = page;
    document.title = $(page + '-title').textContent + ' · Herald admin';
    pages[page]().catch(fail);
  }

  // ----- webhooks -----

  let editing = null; // the webhook being edited, or null when adding

  const fieldInputs = {
    name: 'wh-name', url: 'wh-url', events: 'wh-events', signature: 'wh-signature', max_retries: 'wh-retries',
  };

  function clearFieldErrors() {
    for (const id of Object.values(fieldInputs)) {
      $(id).removeAttribute('aria-invalid');
      $(id + '-error').textContent = '';
    }
    $('wh-form-error').textContent = '';
  }

  function showFieldError(e) {
    // `field` may be `events[1]` or `filters.media_type`: match its head.
    const head = e.field ? String(e.field).split(/[.[]/)[0] : null;
    const id = head && fieldInputs[head];
    if (id) {
      $(id).setAttribute('aria-invalid', 'true');
      $(id + '-error').textContent = e.message;
      $(id).focus();
    } else {
      $('wh-form-error').textContent = e.message;
    }
  }

  function openWebhookForm(webhook) {
    editing = webhook || null;
    const form = $('webhook-form');
    clearFieldErrors();
    form.reset();
    $('webhook-form-title').textContent = webhook ? 'Edit webhook “' + webhook.name + '”' : 'Add webhook';
    if (webhook) {
      $('wh-name').value = webhook.name;
      $('wh-url').value = webhook.url;
      $('wh-events').value = webhook.events.join(', ');
      $('wh-signature').value = webhook.signature;
      $('wh-retries').value = webhook.max_retries === null ? '' : webhook.max_retries;
      $('wh-active').checked = webhook.active;
    }
    form.hidden = false;
    $('wh-name').focus();
  }

  function closeWebhookForm() {
    $('webhook-form').hidden = true;
    editing = null;
    $('webhook-add').focus();
  }

  async function saveWebhook(event) {
    event.preventDefault();
    clearFieldErrors();
    const events = $('wh-events').value.split(',').map((s) => s.trim()).filter(Boolean);
    const retries = $('wh-retries').value.trim();
    const body = {
      name: $('wh-name').value.trim(),
      url: $('wh-url').value.trim(),
      events,
      signature: $('wh-signature').value,
      active: $('wh-active').checked,
    };
    if (retries !== '') {
      if (!/^\d+$/.test(retries)) {
        showFieldError({ field: 'max_retries', message: 'max_retries: a whole number of retries' });
        return;
      }
      body.max_retries = Number(retries);
    } else if (editing) {
      body.max_retries = null;
    }
    if (editing && editing.origin === 'config') {
      showFieldError({ message: 'This webhook is declared in the config file and cannot be edited here.' });
      return;
    }
    const wasEditing = editing;
    try {
      const saved = wasEditing
        ? await api('PATCH', 'webhooks/' + encodeURIComponent(wasEditing.id), body)
        : await api('POST', 'webhooks', body);
      closeWebhookForm();
      announce((wasEditing ? 'Saved' : 'Added') + ' webhook “' + saved.webhook.name + '”.', 'good');
      await pages.webhooks();
    } catch (e) {
      if (e.status === 422 || e.status === 409) showFieldError(e);
      else fail(e);
    }
  }

  async function testWebhook(webhook, output) {
    output.textContent = 'Sending a test event…';
    output.className = 'outcome';
    try {
      const r = await api('POST', 'webhooks/' + encodeURIComponent(webhook.id) + '/test');
      const code = r.status_code ? 'HTTP ' + r.status_code : 'no answer';
      const text = r.success
        ? 'Test delivered: ' + code + ' in ' + r.duration_ms + ' ms'
        : 'Test failed: ' + code + (r.error ? ' — ' + r.error : '');
      output.textContent = text;
      output.className = 'outcome ' + (r.success ? 'good' : 'bad');
      announce('Test of “' + webhook.name + '”: ' + text, r.success ? 'good' : 'bad');
      await pages.webhooks(true);
    } catch (e) {
      output.textContent = 'Test failed: ' + e.message;
      output.className = 'outcome bad';
    }
  }

  async function setActive(webhook, active) {
    try {
      await api('PATCH', 'webhooks/' + encodeURIComponent(webhook.id), { active });
      announce('Webhook “' + webhook.name + '” ' + (active ? 'enabled' : 'disabled') + '.', 'good');
      await pages.webhooks();
    } catch (e) {
      fail(e);
    }
  }

  async function deleteWebhook(webhook) {
    const ok = await confirmDialog('Delete webhook?',
      'Delete “' + webhook.name + '”? Its pending deliveries will fail. This cannot be undone.', 'Delete');
    if (!ok) return;
    try {
      await api('DELETE', 'webhooks/' + encodeURIComponent(webhook.id));
      announce('Deleted webhook “' + webhook.name + '”.', 'good');
      await pages.webhooks();
    } catch (e) {
      fail(e);
    }
  }

  async function showSecret(webhook) {
    const dialog = $('secret-dialog');
    $('secret-for').textContent = 'Webhook “' + webhook.name + '”';
    $('secret-note').textContent = '';
    $('secret-value').value = '';
    const rotate = $('secret-rotate');
    rotate.disabled = webhook.origin === 'config';
    rotate.onclick = async () => {
      dialog.close();
      const ok = await confirmDialog('Rotate secret?',
        'Receivers of “' + webhook.name + '” must be given the new secret, or they will reject its requests.', 'Rotate');
      if (!ok) return;
      try {
        const r = await api('POST', 'webhooks/' + encodeURIComponent(webhook.id) + '/secret/rotate');
        await showSecret(webhook);
        $('secret-value').value = r.secret;
        $('secret-note').textContent = 'Rotated: this is the new secret.';
      } catch (e) {
        fail(e);
      }
    };
    try {
      const r = await api('GET', 'webhooks/' + encodeURIComponent(webhook.id) + '/secret');
      $('secret-value').value = r.secret;
      $('secret-note').textContent = 'Scheme: ' + r.signature;
      if (!dialog.open) dialog.showModal();
      $('secret-value').select();
    } catch (e) {
      fail(e);
    }
  }

  function webhookRow(w) {
    const output = el('output', { class: 'outcome', 'aria-live': 'polite' });
    const name = el('span', { class: 'wh-name' }, w.name);
    const state = w.active
      ? badge('active', 'good')
      : badge('disabled', 'bad');
    const last = w.last_status
      ? [statusBadge(w.last_status), w.last_status_code ? ' ' + w.last_status_code : '', el('br'), el('small', {}, time(w.last_delivery_at))]
      : '—';
    const label = (verb) => ({ 'aria-label': verb + ' ' + w.name });
    const readOnly = w.origin === 'config';
    return el('tr', { 'data-id': w.id },
      td('Name', name, readOnly ? [' ', badge('config')] : null),
      td('URL', el('span', { class: 'url' }, w.url)),
      td('Events', w.events.join(', ')),
      td('State', state, w.disabled_reason ? el('small', { class: 'reason' }, ' ' + w.disabled_reason) : null),
      td('Failures', String(w.total_failures), w.consecutive_failures ? el('small', {}, ' (' + w.consecutive_failures + ' in a row)') : null),
      td('Last delivery', last),
      td('Actions',
        el('div', { class: 'row-actions' },
          el('button', Object.assign({ type: 'button', class: 'test', onclick: () => testWebhook(w, output) }, label('Send a test to')), 'Test'),
          el('button', Object.assign({ type: 'button', class: 'toggle', onclick: () => setActive(w, !w.active) }, label(w.active ? 'Disable' : 'Enable')), w.active ? 'Disable' : 'Enable'),
          el('button', Object.assign({ type: 'button', class: 'edit', disabled: readOnly, onclick: () => openWebhookForm(w) }, label('Edit')), 'Edit'),
          el('button', Object.assign({ type: 'button', class: 'secret', onclick: () => showSecret(w) }, label('Show the secret of')), 'Secret'),
          el('button', Object.assign({ type: 'button', class: 'delete danger', disabled: readOnly, onclick: () => deleteWebhook(w) }, label('Delete')), 'Delete')),
        output));
  }

  const outcomes = new Map();

  pages.webhooks = async function (keepOutcomes) {
    const { webhooks } = await api('GET', 'webhooks');
    const tbody = $('webhooks-table').querySelector('tbody');
    // Keep the outcome of a test across the refresh that follows it.
    outcomes.clear();
    if (keepOutcomes) {
      for (const row of tbody.querySelectorAll('tr')) {
        const o = row.querySelector('output');
        if (o && o.textContent) outcomes.set(row.dataset.id, [o.textContent, o.className]);
      }
    }
    const rows = webhooks.map((w) => {
      const row = webhookRow(w);
      const kept = outcomes.get(w.id);
      if (kept) {
        const o = row.querySelector('output');
        o.textContent = kept[0];
        o.className = kept[1];
      }
      return row;
    });
    tbody.replaceChildren(...rows);
    $('webhooks-empty').hidden = webhooks.length > 0;
    $('webhooks-table').parentElement.hidden = webhooks.length === 0;
  };

  // ----- plugins -----

  function health(p) {
    if (!p.enabled) return badge('disabled', '');
    if (p.consecutive_failures > 0) return badge('failing (' + p.consecutive_failures + ' in a row)', 'bad');
    if (p.last_status === 'success') return badge('healthy', 'good');
    return badge('no deliveries yet', '');
  }

  async function testPlugin(p, output) {
    output.textContent = 'Sending a test notification…';
    output.className = 'outcome';
    try {
      const r = await api('POST', 'plugins/' + encodeURIComponent(p.name) + '/test');
      const code = r.status_code ? 'HTTP ' + r.status_code : 'no answer';
      output.textContent = r.success ? 'Test delivered: ' + code + ' in ' + r.duration_ms + ' ms'
        : 'Test failed: ' + code + (r.error ? ' — ' + r.error : '');
      output.className = 'outcome ' + (r.success ? 'good' : 'bad');
    } catch (e) {
      output.textContent = 'Test failed: ' + e.message;
      output.className = 'outcome bad';
    }
  }

  pages.plugins = async function () {
    const { plugins } = await api('GET', 'plugins');
    const rows = plugins.map((p) => {
      const output = el('output', { class: 'outcome', 'aria-live': 'polite' });
      return el('tr', { 'data-name': p.name },
        td('Name', p.name),
        td('Kind', p.kind),
        td('Events', (p.events || []).join(', ') || '*'),
        td('Health', health(p)),
        td('Delivered', String(p.delivered)),
        td('Failed', String(p.total_failures)),
        td('Pending', String(p.pending)),
        td('Actions', el('button', { type: 'button', class: 'test', 'aria-label': 'Send a test to ' + p.name, onclick: () => testPlugin(p, output) }, 'Test'), output));
    });
    $('plugins-table').querySelector('tbody').replaceChildren(...rows);
    $('plugins-empty').hidden = plugins.length > 0;
    $('plugins-table').parentElement.hidden = plugins.length === 0;
  };

  // ----- delivery log -----

  const logs = { cursor: null, next: null, names: new Map() };

  async function loadDestinations() {
    const [{ webhooks }, { plugins }] = await Promise.all([api('GET', 'webhooks'), api('GET', 'plugins')]);
    const select = $('logs-destination');
    const chosen = select.value;
    logs.names.clear();
    const options = [el('option', { value: '' }, 'All destinations')];
    if (webhooks.length) {
      options.push(el('optgroup', { label: 'Webhooks' }, webhooks.map((w) => {
        logs.names.set('webhook:' + w.id, w.name);
        return el('option', { value: 'webhook:' + w.id }, w.name);
      })));
    }
    if (plugins.length) {
      options.push(el('optgroup', { label: 'Plugins' }, plugins.map((p) => {
        logs.names.set('plugin:' + p.name, p.name);
        return el('option', { value: 'plugin:' + p.name }, p.name + ' (' + p.kind + ')');
      })));
    }
    select.replaceChildren(...options);
    select.value = logs.names.has(chosen) ? chosen : '';
  }

  function destinationName(d) {
    const key = d.type + ':' + (d.type === 'webhook' ? d.id : d.name);
    const name = logs.names.get(key);
    // A destination that no longer exists (a deleted webhook) shows its id.
    return name ? [name, ' ', el('small', {}, d.type)] : el('span', { class: 'unknown-destination mono' }, key);
  }

  async function retry(d) {
    try {
      await api('POST', 'deliveries/' + encodeURIComponent(d.id) + '/retry');
      announce('Delivery queued for another attempt.', 'good');
      await loadLogs();
    } catch (e) {
      fail(e);
    }
  }

  async function showDelivery(d) {
    try {
      const { delivery } = await api('GET', 'deliveries/' + encodeURIComponent(d.id));
      $('delivery-summary').textContent = delivery.id + ' · ' + delivery.event + ' · ' + delivery.status +
        ' · ' + delivery.attempts + ' attempt(s)';
      const rows = delivery.attempts_log.map((a) => el('tr', {},
        el('td', {}, String(a.number)),
        el('td', {}, time(a.started_at)),
        el('td', {}, a.outcome),
        el('td', {}, a.status_code === null ? '—' : String(a.status_code)),
        el('td', {}, a.duration_ms + ' ms'),
        el('td', {}, a.error || ''),
        el('td', { class: 'mono' }, excerpt(a.response_body, 200))));
      $('attempts-table').querySelector('tbody').replaceChildren(...rows);
      $('delivery-dialog').showModal();
    } catch (e) {
      fail(e);
    }
  }

  async function loadLogs() {
    const params = new URLSearchParams({ limit: '25' });
    const destination = $('logs-destination').value;
    const status = $('logs-status').value;
    if (destination) params.set('destination', destination);
    if (status) params.set('status', status);
    if (logs.cursor) params.set('cursor', logs.cursor);
    const page = await api('GET', 'deliveries?' + params.toString());
    const rows = page.deliveries.map((d) => el('tr', { 'data-id': d.id, 'data-status': d.status },
      td('Time', time(d.created_at)),
      td('Destination', destinationName(d.destination)),
      td('Event', el('code', {}, d.event)),
      td('Status', statusBadge(d.status)),
      td('Code', d.last_status_code === null ? '—' : String(d.last_status_code)),
      td('Attempts', String(d.attempts)),
      td('Duration', d.duration_ms === null ? '—' : d.duration_ms + ' ms'),
      td('Error', d.last_error ? el('span', { class: 'error-text' }, d.last_error) : ''),
      td('Response', el('span', { class: 'mono' }, excerpt(d.response_body, 120))),
      td('Actions', el('div', { class: 'row-actions' },
        el('button', { type: 'button', class: 'details', 'aria-label': 'Attempts of delivery ' + d.id, onclick: () => showDelivery(d) }, 'Attempts'),
        d.status === 'failed'
          ? el('button', { type: 'button', class: 'retry', 'aria-label': 'Retry delivery ' + d.id, onclick: () => retry(d) }, 'Retry')
          : null))));
    $('logs-table').querySelector('tbody').replaceChildren(...rows);
    $('logs-empty').hidden = rows.length > 0;
    logs.next = page.next_cursor;
    $('logs-next').disabled = !page.next_cursor;
    $('logs-first').disabled = !logs.cursor;
  }

  pages.logs = async function () {
    await loadDestinations();
    await loadLogs();
  };

  // ----- stats -----

  function isoDay(d) {
    return d.toISOString().slice(0, 10);
  }

  /** A round axis maximum: four ticks of 1, 2 or 5 × 10^k (whole ticks for counts). */
  function niceMax(value, whole) {
    const raw = Math.max(value, whole ? 4 : 1) / 4;
    const exp = Math.pow(10, Math.floor(Math.log10(raw)));
    let step = 10 * exp;
    for (const m of [1, 2, 5]) {
      if (m * exp >= raw) { step = m * exp; break; }
    }
    if (whole) step = Math.max(1, Math.round(step));
    return step * 4;
  }

  /** A bar chart as inline SVG, with a `<title>` per bar and an accessible summary. */
  function barChart(container, titleId, buckets, value, format, interval) {
    // Drawn at the container's width so text keeps its size on a phone.
    const width = Math.max(280, Math.floor(container.clientWidth || 720));
    const height = 220;
    const pad = { left: 48, right: 8, top: 12, bottom: 28 };
    const plotW = width - pad.left - pad.right;
    const plotH = height - pad.top - pad.bottom;
    const values = buckets.map(value);
    const max = niceMax(Math.max(0, ...values), values.every(Number.isInteger));
    const n = Math.max(buckets.length, 1);
    const step = plotW / n;
    const barW = Math.max(1, step * 0.75);
    const label = (iso) => interval === 'hour'
      ? new Date(iso).toISOString().slice(5, 13).replace('T', ' ') + 'h'
      : new Date(iso).toISOString().slice(5, 10);
    const parts = [];
    for (let i = 0; i <= 4; i++) {
      const v = (max * i) / 4;
      const y = pad.top + plotH - (plotH * i) / 4;
      parts.push(svg('line', { x1: pad.left, x2: width - pad.right, y1: y, y2: y, class: 'grid-line' }));
      parts.push(svg('text', { x: pad.left - 6, y: y + 4, 'text-anchor': 'end', class: 'axis' }, format(v, true)));
    }
    const every = Math.ceil(n / Math.max(2, Math.floor(plotW / 64)));
    buckets.forEach((b, i) => {
      const v = values[i];
      const h = (plotH * v) / max;
      const x = pad.left + i * step + (step - barW) / 2;
      parts.push(svg('rect', { x, y: pad.top + plotH - h, width: barW, height: Math.max(h, 0), class: 'bar', 'data-value': v },
        svg('title', {}, label(b.start) + ': ' + format(v, false))));
      if (i % every === 0) {
        parts.push(svg('text', { x: pad.left + i * step + step / 2, y: height - 8, 'text-anchor': 'middle', class: 'axis' }, label(b.start)));
      }
    });
    const total = values.reduce((a, b) => a + b, 0);
    const chart = svg('svg', {
      viewBox: '0 0 ' + width + ' ' + height, width, height, role: 'img', 'aria-labelledby': titleId,
      'aria-description': buckets.length + ' ' + interval + 's, total ' + format(total, false),
    }, ...parts);
    container.replaceChildren(chart);
  }

  let lastSeries = null;

  function drawCharts() {
    if (!lastSeries) return;
    const { buckets, interval } = lastSeries;
    barChart($('chart-plays'), 'chart-plays-title', buckets, (b) => b.plays,
      (v, axis) => (axis ? String(Math.round(v * 10) / 10) : v + ' plays'), interval);
    barChart($('chart-watch'), 'chart-watch-title', buckets, (b) => b.watch_seconds / 3600,
      (v, axis) => (axis ? String(Math.round(v * 10) / 10) : duration(v * 3600)), interval);
  }

  // Charts are drawn at their container's width: draw again when it changes.
  let resizeTimer = null;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(drawCharts, 50);
  });

  function defaultStatsRange() {
    if ($('stats-from').value && $('stats-to').value) return;
    const today = new Date();
    const from = new Date(today.getTime() - 13 * 86400000);
    $('stats-from').value = isoDay(from);
    $('stats-to').value = isoDay(today);
  }

  pages.stats = async function () {
    defaultStatsRange();
    $('stats-error').textContent = '';
    const from = $('stats-from').value;
    const toDay = new Date($('stats-to').value + 'T00:00:00Z');
    const to = isoDay(new Date(toDay.getTime() + 86400000));
    const interval = $('stats-interval').value;
    const range = 'from=' + encodeURIComponent(from) + '&to=' + encodeURIComponent(to);
    let series, users, media;
    try {
      [series, users, media] = await Promise.all([
        api('GET', 'stats/playback?' + range + '&interval=' + interval),
        api('GET', 'stats/top-users?' + range + '&limit=10'),
        api('GET', 'stats/top-media?' + range + '&limit=10'),
      ]);
    } catch (e) {
      $('stats-error').textContent = e.message;
      return;
    }
    $('stats-totals').replaceChildren(
      el('p', { class: 'total' }, el('strong', {}, String(series.total.plays)), ' plays'),
      el('p', { class: 'total' }, el('strong', {}, duration(series.total.watch_seconds)), ' watched'));
    lastSeries = { buckets: series.buckets, interval };
    drawCharts();
    const none = (cols) => el('tr', {}, el('td', { colspan: cols, class: 'empty' }, 'No playback in this range.'));
    $('top-users').querySelector('tbody').replaceChildren(...(users.users.length ? users.users.map((u) => el('tr', {},
      el('td', {}, u.user_name || u.user_id, u.user_name ? el('small', {}, ' ' + u.user_id) : null),
      el('td', { class: 'num' }, String(u.plays)),
      el('td', { class: 'num' }, duration(u.watch_seconds)))) : [none(3)]));
    $('top-media').querySelector('tbody').replaceChildren(...(media.media.length ? media.media.map((m) => el('tr', {},
      el('td', {}, m.title, m.media_type ? el('small', {}, ' ' + m.media_type) : null),
      el('td', { class: 'num' }, String(m.plays)),
      el('td', { class: 'num' }, String(m.users)),
      el('td', { class: 'num' }, duration(m.watch_seconds)))) : [none(4)]));
  };

  // ---------- wiring ----------

  document.addEventListener('DOMContentLoaded', () => {
    $('webhook-add').addEventListener('click', () => openWebhookForm(null));
    $('webhook-cancel').addEventListener('click', closeWebhookForm);
    $('webhook-form').addEventListener('submit', saveWebhook);
    $('logs-filter').addEventListener('submit', (e) => {
      e.preventDefault();
      logs.cursor = null;
      loadLogs().catch(fail);
    });
    $('logs-refresh').addEventListener('click', () => loadLogs().catch(fail));
    $('logs-next').addEventListener('click', () => {
      logs.cursor = logs.next;
      loadLogs().catch(fail);
    });
    $('logs-first').addEventListener('click', () => {
      logs.cursor = null;
      loadLogs().catch(fail);
    });
    $('stats-filter').addEventListener('submit', (e) => {
      e.preventDefault();
      pages.stats().catch(fail);
    });
    $('logout').addEventListener('click', async () => {
      try {
        await api('POST', '/admin/logout');
      } finally {
        window.location.assign('/admin/login');
      }
    });
    window.addEventListener('hashchange', route);
    route();
  });
})();
