// The DirectorySync operator console: reads the operations API under /console/api every few seconds and draws it.
// No framework and no build step: the silo serves this file as it is.
'use strict';

(() => {
  const REFRESH_MS = 5000;
  const ACTION_HEADER = 'X-DirectorySync-Console';
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const OUTCOMES = [
    ['applied', 'Applied'],
    ['duplicate', 'Duplicate'],
    ['stale', 'Stale'],
    ['dead_lettered', 'Dead letter'],
  ];

  // What survives a refresh: open samples, a force waiting for its confirmation, buttons whose request is in flight.
  const state = {
    directories: null,
    deadLetters: null,
    activity: null,
    webhooks: null,
    failuresShown: new Set(), // endpoint names whose failures are listed
    samples: new Map(), // directory id → { kind: 'held' | 'pending', status } while a sample is shown
    confirming: null, // directory id whose forced deletions wait for a second click
    busy: new Set(),
  };

  const $ = id => document.getElementById(id);

  function el(tag, attributes, ...children) {
    return build(document.createElement(tag), attributes, children);
  }

  function svg(tag, attributes, ...children) {
    return build(document.createElementNS(SVG_NS, tag), attributes, children);
  }

  function build(node, attributes, children) {
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? '' : String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  // ---- the API ----

  async function getJson(path) {
    return answer(await fetch('console/api/' + path, { credentials: 'same-origin', headers: { Accept: 'application/json' } }));
  }

  async function post(path) {
    return answer(await fetch('console/api/' + path, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { Accept: 'application/json', [ACTION_HEADER]: '1' },
    }));
  }

  async function answer(response) {
    if (response.status === 401) {
      // The sign-in cookie is gone or the token changed: the page itself asks for the token again.
      location.reload();
      throw new Error('Signed out');
    }
    const body = await response.json().catch(() => null);
    if (!response.ok) throw new Error(body && body.message ? body.message : `HTTP ${response.status}`);
    return body;
  }

  const enc = encodeURIComponent;

  // ---- formatting ----

  const number = value => (value ?? 0).toLocaleString('en-US');

  function ago(iso) {
    if (!iso) return null;
    const seconds = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
    if (seconds < 60) return `${Math.round(seconds)} s ago`;
    if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
    if (seconds < 86400) return `${(seconds / 3600).toFixed(seconds < 36000 ? 1 : 0)} h ago`;
    return `${Math.round(seconds / 86400)} d ago`;
  }

  const local = iso => new Date(iso).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'medium' });

  // A relative time; hovering shows the local time (and what happened then, if given).
  function when(iso, fallback = '—', what = null) {
    return iso
      ? el('time', { datetime: iso, title: what ? `${local(iso)}: ${what}` : local(iso) }, ago(iso))
      : el('span', { class: 'muted' }, fallback);
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return '—';
    if (seconds < 90) return `${Math.round(seconds)} s`;
    if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
    return `${(seconds / 3600).toFixed(1)} h`;
  }

  function milliseconds(value) {
    if (value === null || value === undefined) return '—';
    if (value < 1) return `${value.toFixed(2)} ms`;
    if (value < 10) return `${value.toFixed(1)} ms`;
    if (value < 1000) return `${Math.round(value)} ms`;
    return `${(value / 1000).toFixed(value < 10000 ? 1 : 0)} s`;
  }

  const badge = (text, tone) => el('span', { class: `badge ${tone}` }, text);

  function stateBadge(value) {
    const tone = { active: 'ok', validating: 'info', inactive: 'grey', invalid_credentials: 'bad', deleting: 'warn', deleted: 'grey', not_in_mirror: 'warn' }[value] || 'grey';
    return badge(value.replaceAll('_', ' '), tone);
  }

  function runBadge(status) {
    const tone = { completed: 'ok', running: 'info', held: 'warn', failed: 'bad', superseded: 'grey' }[status] || 'grey';
    return badge(status, tone);
  }

  const directoryName = d => d.name || d.directory_id;

  // ---- notices and actions ----

  function notify(text, ok) {
    const notice = $('notice');
    notice.textContent = text;
    notice.className = ok ? 'ok' : 'error';
    notice.hidden = false;
  }

  async function act(key, work) {
    state.busy.add(key);
    render();
    try {
      notify(await work(), true);
    } catch (error) {
      notify(error.message, false);
    } finally {
      state.busy.delete(key);
      await refresh();
    }
  }

  function reconcile(directory, force) {
    state.confirming = null;
    return act(`reconcile:${directory.directory_id}`, async () => {
      const run = await post(`directories/${enc(directory.directory_id)}/reconcile${force ? '?force=true' : ''}`);
      return force
        ? `Forced run #${run.run_id} of ${directoryName(directory)}: its held deletions are being applied.`
        : `Reconciliation run #${run.run_id} of ${directoryName(directory)} started.`;
    });
  }

  function deliverAgain(endpoint) {
    return act(`webhook:${endpoint.endpoint}`, async () => {
      await post(`webhooks/${enc(endpoint.endpoint)}/replay?from=${enc(endpoint.replay_from)}`);
      return `Endpoint ${endpoint.endpoint} delivers again every entry after ${endpoint.replay_from}.`;
    });
  }

  function replay(letter) {
    return act(`replay:${letter.event_id}`, async () => {
      const result = await post(`dead-letters/${enc(letter.event_id)}/replay`);
      if (result.outcome === 'dead_letter') {
        throw new Error(`Event ${letter.event_id} is still a dead letter (attempt ${result.attempts}): ${result.reason}`);
      }
      return `Event ${letter.event_id} replayed: ${result.answer.replaceAll('_', ' ')}.`;
    });
  }

  async function toggleSample(directoryId, kind) {
    const open = state.samples.get(directoryId);
    if (open && open.kind === kind) {
      state.samples.delete(directoryId);
      render();
      return;
    }
    state.samples.set(directoryId, { kind, status: null, error: null });
    render();
    try {
      const status = await getJson(`directories/${enc(directoryId)}/sync`);
      const current = state.samples.get(directoryId);
      if (current && current.kind === kind) current.status = status;
    } catch (error) {
      const current = state.samples.get(directoryId);
      if (current && current.kind === kind) current.error = error.message;
    }
    render();
  }

  // ---- refresh ----

  async function refresh() {
    const [directories, deadLetters, activity, webhooks] = await Promise.allSettled(
      [getJson('directories'), getJson('dead-letters'), getJson('activity'), getJson('webhooks')]);
    state.directories = directories;
    state.deadLetters = deadLetters;
    state.activity = activity;
    state.webhooks = webhooks;
    $('updated').textContent = `Updated ${new Date().toLocaleTimeString('en-GB')}`;
    render();
  }

  function render() {
    renderSummary();
    renderHeld();
    renderDirectories();
    renderDeadLetters();
    renderWebhooks();
    renderPending();
    renderActivity();
  }

  const loaded = result => result && result.status === 'fulfilled' ? result.value : null;

  function failure(result) {
    if (!result) return el('p', { class: 'empty' }, 'Loading…');
    return el('p', { class: 'failed' }, `Could not read this: ${result.reason.message}`);
  }

  // A table showing one message instead of rows.
  function only(table, message) {
    table.replaceChildren(el('tbody', {}, el('tr', {}, el('td', {}, message))));
  }

  function card(title, value, sub, tone) {
    return el('article', { class: `card ${tone || ''}` }, el('h2', {}, title), el('p', { class: 'value' }, value), el('p', { class: 'sub' }, sub));
  }

  function renderSummary() {
    const list = loaded(state.directories);
    const letters = loaded(state.deadLetters);
    const cards = [];
    if (list) {
      const directories = list.directories;
      const held = directories.filter(d => d.last_run && d.last_run.status === 'held');
      const heldCount = held.reduce((sum, d) => sum + d.last_run.report.held_back, 0);
      const pending = directories.reduce((sum, d) => sum + d.pending, 0);
      const oldestPending = directories.map(d => d.oldest_pending_since).filter(Boolean).sort()[0];
      const api = list.events_api;
      cards.push(card('Directories', number(list.total),
        `${number(directories.reduce((sum, d) => sum + d.users, 0))} users shown`));
      if (!api.configured) {
        cards.push(card('Events API', 'off', 'WorkOS__ApiKey is not set: webhooks only', 'warn'));
      } else {
        const lag = api.lag_seconds;
        cards.push(card('Events API lag', lag === null ? 'not yet' : duration(lag),
          api.last_error ? `Last error: ${api.last_error}` : (api.last_polled_at ? `polled ${ago(api.last_polled_at)}` : 'not polled yet'),
          api.last_error || lag === null || lag > 600 ? 'warn' : 'good'));
      }
      const holding = held.filter(d => d.last_run.report.held_back > 0).length;
      cards.push(card('Held deletions', number(heldCount),
        holding ? `in ${holding} director${holding === 1 ? 'y' : 'ies'}` : 'nothing held', heldCount ? 'warn' : 'good'));
      cards.push(card('Pending objects', number(pending), oldestPending ? `oldest since ${ago(oldestPending)}` : 'none waiting', pending ? 'warn' : 'good'));
    }
    const hooks = loaded(state.webhooks);
    if (hooks && hooks.endpoints.length) {
      const endpoints = hooks.endpoints;
      const lag = Math.max(0, ...endpoints.map(e => e.lag_seconds ?? 0));
      const failures = endpoints.reduce((sum, e) => sum + e.failures, 0);
      const troubled = endpoints.some(e => e.disabled_reason) || failures > 0;
      cards.push(card('Webhook lag', endpoints.some(e => e.waiting > 0) ? duration(lag) : 'caught up',
        `${endpoints.length} endpoint${endpoints.length === 1 ? '' : 's'}, ${number(failures)} failure${failures === 1 ? '' : 's'}`,
        troubled ? 'bad' : endpoints.some(e => e.retrying > 0) ? 'warn' : 'good'));
    }
    if (letters) cards.push(card('Dead letters', number(letters.total), letters.total ? 'see below' : 'none', letters.total ? 'bad' : 'good'));
    $('summary').replaceChildren(...cards);
  }

  function reconcileButtons(directory, api, label) {
    const busy = state.busy.has(`reconcile:${directory.directory_id}`);
    const disabled = busy || !api.configured;
    const title = api.configured ? null : 'WorkOS__ApiKey is not set: there is no WorkOS API to reconcile with';
    return el('button', { type: 'button', disabled, title, onclick: () => reconcile(directory, false) }, busy ? 'Working…' : label);
  }

  function renderHeld() {
    const list = loaded(state.directories);
    const target = $('held');
    if (!list) {
      target.replaceChildren(failure(state.directories));
      return;
    }
    const held = list.directories.filter(d => d.last_run && d.last_run.status === 'held');
    if (!held.length) {
      target.replaceChildren(el('p', { class: 'empty' }, 'No deletions are held.'));
      return;
    }
    target.replaceChildren(...held.map(directory => {
      const run = directory.last_run;
      const report = run.report;
      const sample = state.samples.get(directory.directory_id);
      const deletions = report.held_back > 0;
      return el('article', { class: 'held-item', 'data-directory-id': directory.directory_id },
        el('h3', {}, directory.name ? [directory.name, ' '] : null, el('span', { class: 'muted mono' }, directory.directory_id)),
        el('p', {}, deletions
          ? `Run #${run.run_id} (${run.kind}, ${run.reason}) would delete ${number(report.held_back)} of ${number(report.mirror_rows)} rows — `
            + `${number(report.users_to_delete)} users, ${number(report.groups_to_delete)} groups, ${number(report.memberships_to_delete)} memberships — `
            + 'and deleted nothing.'
          : `Run #${run.run_id} (${run.kind}, ${run.reason}) was held and changed nothing.`),
        report.note ? el('p', { class: 'muted' }, report.note) : null,
        el('div', { class: 'actions' },
          deletions ? forceButtons(directory, list.events_api) : null,
          reconcileButtons(directory, list.events_api, 'Reconcile again'),
          deletions
            ? el('button', { type: 'button', class: 'link', onclick: () => toggleSample(directory.directory_id, 'held') },
              sample && sample.kind === 'held' ? 'Hide what would be deleted' : 'Show what would be deleted')
            : null),
        sample && sample.kind === 'held' ? heldSample(sample) : null);
    }));
  }

  // Forcing asks once more, on the page, before anything is deleted.
  function forceButtons(directory, api) {
    const count = number(directory.last_run.report.held_back);
    const busy = state.busy.has(`reconcile:${directory.directory_id}`);
    if (state.confirming !== directory.directory_id) {
      return el('button', {
        type: 'button', class: 'danger', disabled: busy || !api.configured,
        onclick: () => { state.confirming = directory.directory_id; render(); },
      }, 'Force deletions…');
    }
    return [
      el('span', { class: 'confirm' }, `Delete ${count} objects from the mirror?`),
      el('button', { type: 'button', class: 'danger', disabled: busy, onclick: () => reconcile(directory, true) }, `Delete ${count}`),
      el('button', { type: 'button', onclick: () => { state.confirming = null; render(); } }, 'Cancel'),
    ];
  }

  function heldSample(sample) {
    if (sample.error) return el('p', { class: 'failed' }, sample.error);
    if (!sample.status) return el('p', { class: 'empty' }, 'Loading…');
    const held = sample.status.held_deletions;
    return el('div', {},
      el('ul', { class: 'sample' }, held.sample.map(d => el('li', {}, el('span', { class: 'muted' }, d.kind, ' '),
        el('span', { class: 'mono' }, d.kind === 'membership' ? `${d.user_id} in ${d.group_id}` : d.object_id)))),
      held.count > held.sample.length ? el('p', { class: 'muted' }, `…and ${number(held.count - held.sample.length)} more.`) : null);
  }

  function lastRunCell(run) {
    if (!run) return el('td', {}, el('span', { class: 'muted' }, 'never'));
    const report = run.report;
    return el('td', {},
      runBadge(run.status), ' ', when(run.finished_at || run.listed_at),
      el('span', { class: 'figures' }, [['repaired', report.repaired], ['deleted', report.deleted], ['held', report.held_back]]
        .filter(([, count]) => count > 0).map(([what, count]) => `${what} ${number(count)}`).join(' · ') || 'no changes'));
  }

  function renderDirectories() {
    const list = loaded(state.directories);
    const table = $('directories');
    if (!list) {
      only(table, failure(state.directories));
      return;
    }
    $('directories-scope').textContent = list.total > list.directories.length
      ? `The first ${number(list.directories.length)} of ${number(list.total)}, by name.` : '';
    const head = el('thead', {}, el('tr', {},
      el('th', {}, 'Directory'), el('th', {}, 'State'), el('th', { class: 'num' }, 'Users'), el('th', { class: 'num' }, 'Groups'),
      el('th', { class: 'num' }, 'Memberships'), el('th', {}, 'Last event'), el('th', {}, 'Confirmed current'),
      el('th', {}, 'Last reconciliation'), el('th', { class: 'num' }, 'Pending'), el('th', {}, '')));
    if (!list.directories.length) {
      table.replaceChildren(head, el('tbody', {}, el('tr', {}, el('td', { colspan: 10 },
        el('p', { class: 'empty' }, 'No directory yet: none has sent an event, and none was listed by WorkOS.')))));
      return;
    }
    table.replaceChildren(head, el('tbody', {}, list.directories.map(d => el('tr', { 'data-directory-id': d.directory_id },
      el('td', {}, el('span', { class: 'name' }, d.name || '(no name)'), el('span', { class: 'id mono' }, d.directory_id)),
      el('td', {}, stateBadge(d.state)),
      el('td', { class: 'num' }, number(d.users)),
      el('td', { class: 'num' }, number(d.groups)),
      el('td', { class: 'num' }, number(d.memberships)),
      el('td', {}, d.last_event
        ? when(d.last_event.applied_at, 'unknown', `applied ${d.last_event.event_id}`)
        : el('span', { class: 'muted' }, 'none')),
      el('td', {}, when(d.confirmed_at, 'not yet')),
      lastRunCell(d.last_run),
      el('td', { class: 'num' }, number(d.pending)),
      el('td', {}, reconcileButtons(d, list.events_api, 'Reconcile now'))))));
  }

  function renderDeadLetters() {
    const letters = loaded(state.deadLetters);
    const table = $('dead-letters');
    if (!letters) {
      only(table, failure(state.deadLetters));
      return;
    }
    if (!letters.dead_letters.length) {
      only(table, el('p', { class: 'empty' }, 'No dead letters.'));
      return;
    }
    const head = el('thead', {}, el('tr', {},
      el('th', {}, 'Last received'), el('th', {}, 'Event'), el('th', {}, 'Type'), el('th', {}, 'Object'),
      el('th', {}, 'Reason'), el('th', { class: 'num' }, 'Attempts'), el('th', {}, '')));
    const rows = letters.dead_letters.map(letter => {
      const busy = state.busy.has(`replay:${letter.event_id}`);
      return el('tr', { 'data-event-id': letter.event_id },
        el('td', {}, when(letter.received_at)),
        el('td', { class: 'mono' }, letter.event_id),
        el('td', { class: 'mono' }, letter.event_type),
        el('td', { class: 'mono' }, letter.object_id || '—'),
        el('td', { class: 'reason' }, letter.reason || '—'),
        el('td', { class: 'num' }, number(letter.attempts)),
        el('td', {}, el('button', { type: 'button', disabled: busy, onclick: () => replay(letter) }, busy ? 'Replaying…' : 'Replay')));
    });
    const more = letters.total > letters.dead_letters.length
      ? el('tfoot', {}, el('tr', {}, el('td', { colspan: 7, class: 'muted' },
        `The newest ${number(letters.dead_letters.length)} of ${number(letters.total)}.`)))
      : null;
    table.replaceChildren(...[head, el('tbody', {}, rows), more].filter(Boolean));
  }

  function endpointState(endpoint) {
    if (endpoint.disabled_reason) return [badge('disabled', 'bad'), el('span', { class: 'figures' }, endpoint.disabled_reason)];
    if (endpoint.retrying) {
      return [badge(`retrying ${endpoint.retrying}`, 'warn'), el('span', { class: 'figures' },
        endpoint.last_error || '', endpoint.next_attempt_at ? ` · next try ${new Date(endpoint.next_attempt_at).toLocaleTimeString('en-GB')}` : '')];
    }
    return endpoint.waiting ? badge('delivering', 'info') : badge('caught up', 'ok');
  }

  function renderWebhooks() {
    const hooks = loaded(state.webhooks);
    const table = $('webhooks');
    if (!hooks) {
      only(table, failure(state.webhooks));
      return;
    }
    if (!hooks.endpoints.length) {
      only(table, el('p', { class: 'empty' }, 'No outbound webhook endpoint is configured (ChangeFeed__Endpoints).'));
      return;
    }
    const head = el('thead', {}, el('tr', {},
      el('th', {}, 'Endpoint'), el('th', {}, 'State'), el('th', { class: 'num' }, 'Waiting'), el('th', {}, 'Oldest waiting'),
      el('th', { class: 'num' }, 'Directories'), el('th', { class: 'num' }, 'Failures'), el('th', {}, '')));
    const rows = hooks.endpoints.flatMap(endpoint => {
      const open = state.failuresShown.has(endpoint.endpoint);
      const busy = state.busy.has(`webhook:${endpoint.endpoint}`);
      const row = el('tr', { 'data-endpoint': endpoint.endpoint },
        el('td', {}, el('span', { class: 'name' }, endpoint.endpoint), el('span', { class: 'id mono' }, endpoint.url)),
        el('td', {}, endpointState(endpoint)),
        el('td', { class: 'num' }, `${number(endpoint.waiting)}${endpoint.waiting_capped ? '+' : ''}`),
        el('td', {}, endpoint.waiting ? when(endpoint.first_waiting_written_at) : el('span', { class: 'muted' }, '—')),
        el('td', { class: 'num' }, number(endpoint.directories)),
        el('td', { class: 'num' }, number(endpoint.failures)),
        el('td', {}, el('div', { class: 'actions' },
          endpoint.replay_from
            ? el('button', { type: 'button', disabled: busy, onclick: () => deliverAgain(endpoint) },
              endpoint.failures ? 'Deliver again from the first failure' : 'Enable again')
            : null,
          endpoint.failures
            ? el('button', {
              type: 'button', class: 'link',
              onclick: () => { if (open) state.failuresShown.delete(endpoint.endpoint); else state.failuresShown.add(endpoint.endpoint); render(); },
            }, open ? 'Hide failures' : 'Show failures')
            : null)));
      if (!open) return [row];
      return [row, el('tr', { class: 'detail' }, el('td', { colspan: 7 }, el('ul', { class: 'failures' },
        endpoint.recent_failures.map(f => el('li', {}, when(f.failed_at), ' ', el('span', { class: 'mono' }, f.directory_id),
          ` — entries after ${f.after} through ${f.through}, given up after ${number(f.attempts)} attempts: `, el('span', { class: 'reason' }, f.error))))))];
    });
    table.replaceChildren(head, el('tbody', {}, rows));
  }

  function renderPending() {
    const list = loaded(state.directories);
    const table = $('pending');
    if (!list) {
      only(table, failure(state.directories));
      return;
    }
    const waiting = list.directories.filter(d => d.pending > 0);
    if (!waiting.length) {
      only(table, el('p', { class: 'empty' }, 'Nothing is waiting.'));
      return;
    }
    const head = el('thead', {}, el('tr', {},
      el('th', {}, 'Directory'), el('th', {}, 'State'), el('th', { class: 'num' }, 'Waiting'), el('th', {}, 'Oldest since'), el('th', {}, '')));
    const rows = waiting.flatMap(d => {
      const sample = state.samples.get(d.directory_id);
      const open = sample && sample.kind === 'pending';
      const row = el('tr', { 'data-directory-id': d.directory_id },
        el('td', {}, el('span', { class: 'name' }, d.name || '(no name)'), el('span', { class: 'id mono' }, d.directory_id)),
        el('td', {}, stateBadge(d.state)),
        el('td', { class: 'num' }, number(d.pending)),
        el('td', {}, when(d.oldest_pending_since)),
        el('td', {}, el('button', { type: 'button', class: 'link', onclick: () => toggleSample(d.directory_id, 'pending') },
          open ? 'Hide' : 'Show')));
      return open ? [row, el('tr', { class: 'detail' }, el('td', { colspan: 5 }, pendingSample(sample)))] : [row];
    });
    table.replaceChildren(head, el('tbody', {}, rows));
  }

  function pendingSample(sample) {
    if (sample.error) return el('p', { class: 'failed' }, sample.error);
    if (!sample.status) return el('p', { class: 'empty' }, 'Loading…');
    const pending = sample.status.pending;
    return el('div', {},
      el('ul', { class: 'sample' }, pending.sample.map(p => el('li', {}, el('span', { class: 'muted' }, p.kind, ' '),
        el('span', { class: 'mono' }, p.kind === 'membership' ? `${p.user_id} in ${p.group_id}` : p.id), ' ',
        el('span', { class: 'muted' }, `waiting ${ago(p.waiting_since)}`)))),
      pending.count > pending.sample.length ? el('p', { class: 'muted' }, `…and ${number(pending.count - pending.sample.length)} more.`) : null);
  }

  // ---- the charts ----

  function renderActivity() {
    const activity = loaded(state.activity);
    if (!activity) {
      $('rate-chart').replaceChildren(failure(state.activity));
      $('latency-chart').replaceChildren();
      return;
    }
    $('activity-scope').textContent = activity.silos_answered === activity.silos
      ? `All ${activity.silos} silo${activity.silos === 1 ? '' : 's'} added up, per ${activity.bucket_seconds} s.`
      : `${activity.silos_answered} of ${activity.silos} silos answered; the others are missing from these figures.`;
    drawRate(activity);
    drawLatency(activity);
  }

  function frame(container, height) {
    const width = Math.max(360, Math.floor(container.clientWidth || 800));
    const box = { left: 52, right: 14, top: 10, bottom: 24, width, height };
    box.plotWidth = width - box.left - box.right;
    box.plotHeight = height - box.top - box.bottom;
    return box;
  }

  // Time labels every 10 minutes, on the wall clock.
  function timeAxis(points, box, x) {
    return points.flatMap((point, i) => {
      const at = new Date(point.at);
      if (at.getMinutes() % 10 !== 0 || at.getSeconds() !== 0) return [];
      const left = x(i);
      return [
        svg('line', { class: 'grid', x1: left, x2: left, y1: box.top, y2: box.top + box.plotHeight }),
        svg('text', { class: 'axis-label', x: left, y: box.height - 6, 'text-anchor': 'middle' },
          at.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' })),
      ];
    });
  }

  // Gridlines at round numbers: a step of 1, 2 or 5 times a power of ten, about four of them up to the highest value.
  function ticks(highest) {
    const rough = Math.max(highest, 0.1) / 4;
    const power = 10 ** Math.floor(Math.log10(rough));
    const step = [1, 2, 5, 10].map(f => f * power).find(candidate => candidate >= rough);
    const count = Math.max(1, Math.ceil(highest / step - 1e-9));
    return Array.from({ length: count + 1 }, (_, i) => i * step);
  }

  const rate = value => (value >= 100 ? Math.round(value).toLocaleString('en-US') : value >= 10 ? value.toFixed(0) : value.toFixed(1).replace(/\.0$/, ''));

  function drawRate(activity) {
    const container = $('rate-chart');
    const points = activity.points;
    const seconds = activity.bucket_seconds;
    const box = frame(container, 170);
    const totals = points.map(p => OUTCOMES.reduce((sum, [key]) => sum + p[key], 0) / seconds);
    const gridValues = ticks(Math.max(...totals, 0));
    const top = gridValues[gridValues.length - 1];
    const slot = box.plotWidth / points.length;
    const x = i => box.left + i * slot;
    const y = value => box.top + box.plotHeight * (1 - value / top);

    const grid = gridValues.flatMap(value => [
      svg('line', { class: 'grid', x1: box.left, x2: box.left + box.plotWidth, y1: y(value), y2: y(value) }),
      svg('text', { class: 'axis-label', x: box.left - 6, y: y(value) + 4, 'text-anchor': 'end' }, rate(value)),
    ]);
    const bars = points.flatMap((p, i) => {
      if (!totals[i]) return [];
      let base = 0;
      const parts = OUTCOMES.filter(([key]) => p[key] > 0).map(([key]) => {
        const value = p[key] / seconds;
        const rect = svg('rect', {
          class: key, x: x(i) + 0.15 * slot, width: Math.max(0.8, slot * 0.7),
          y: y(base + value), height: Math.max(0.5, y(base) - y(base + value)),
        });
        base += value;
        return rect;
      });
      const at = new Date(p.at).toLocaleTimeString('en-GB');
      const text = OUTCOMES.filter(([key]) => p[key] > 0).map(([key, label]) => `${label} ${rate(p[key] / seconds)}/s`).join(', ');
      return [svg('g', {}, svg('title', {}, `${at}: ${text}`), parts)];
    });
    const sums = Object.fromEntries(OUTCOMES.map(([key]) => [key, points.reduce((sum, p) => sum + p[key], 0)]));
    const total = Object.values(sums).reduce((a, b) => a + b, 0);
    container.replaceChildren(svg('svg', {
      viewBox: `0 0 ${box.width} ${box.height}`, height: box.height, role: 'img',
      'aria-label': `Events per second over the last hour: ${number(total)} events in all`,
    }, grid, timeAxis(points, box, x), bars,
    total ? null : svg('text', { class: 'none', x: box.left + box.plotWidth / 2, y: box.top + box.plotHeight / 2, 'text-anchor': 'middle' },
      'No events in the last hour')));
    $('rate-legend').replaceChildren(...OUTCOMES.map(([key, label]) =>
      el('span', { class: 'key' }, el('span', { class: `swatch ${key}` }), `${label} ${number(sums[key])}`)));
  }

  function drawLatency(activity) {
    const container = $('latency-chart');
    const points = activity.points;
    const box = frame(container, 150);
    const values = points.flatMap(p => [p.p50_ms, p.p99_ms]).filter(v => v !== null && v > 0);
    // A log scale: acknowledgements range from a millisecond to seconds, and a spike must not flatten the rest.
    const low = values.length ? 10 ** Math.floor(Math.log10(Math.min(...values))) : 1;
    const high = values.length ? 10 ** Math.ceil(Math.log10(Math.max(...values))) : 100;
    const decades = Math.max(1, Math.log10(high / low));
    const slot = box.plotWidth / points.length;
    const x = i => box.left + (i + 0.5) * slot;
    const y = value => box.top + box.plotHeight * (1 - Math.log10(value / low) / decades);

    const grid = [];
    for (let tick = low; tick <= high * 1.0001; tick *= 10) {
      grid.push(svg('line', { class: 'grid', x1: box.left, x2: box.left + box.plotWidth, y1: y(tick), y2: y(tick) }),
        svg('text', { class: 'axis-label', x: box.left - 6, y: y(tick) + 4, 'text-anchor': 'end' }, milliseconds(tick)));
    }
    const lines = ['p50_ms', 'p99_ms'].flatMap(key => {
      const tone = key.slice(0, 3);
      let path = '';
      let drawing = false;
      const dots = [];
      points.forEach((p, i) => {
        const value = p[key];
        if (value === null || value <= 0) {
          drawing = false;
          return;
        }
        path += `${drawing ? 'L' : 'M'}${x(i).toFixed(1)},${y(value).toFixed(1)}`;
        drawing = true;
        dots.push(svg('circle', { class: tone, cx: x(i), cy: y(value), r: 1.6 },
          svg('title', {}, `${new Date(p.at).toLocaleTimeString('en-GB')}: ${tone} ${milliseconds(value)}`)));
      });
      return [svg('path', { class: tone, d: path || 'M0,0' }), dots];
    });
    const last = [...points].reverse().find(p => p.p50_ms !== null);
    container.replaceChildren(svg('svg', {
      viewBox: `0 0 ${box.width} ${box.height}`, height: box.height, role: 'img',
      'aria-label': last ? `Acknowledgement time: latest p50 ${milliseconds(last.p50_ms)}, p99 ${milliseconds(last.p99_ms)}` : 'No acknowledgements in the last hour',
    }, grid, timeAxis(points, box, x), lines,
    values.length ? null : svg('text', { class: 'none', x: box.left + box.plotWidth / 2, y: box.top + box.plotHeight / 2, 'text-anchor': 'middle' },
      'No acknowledgements in the last hour')));
    $('latency-legend').replaceChildren(
      el('span', { class: 'key' }, el('span', { class: 'swatch line p50' }), `p50 ${last ? milliseconds(last.p50_ms) : '—'}`),
      el('span', { class: 'key' }, el('span', { class: 'swatch line p99' }), `p99 ${last ? milliseconds(last.p99_ms) : '—'}`),
      el('span', {}, 'from a directory grain receiving an event to its flush committing'));
  }

  // ---- start ----

  let resizeTimer = null;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(renderActivity, 150);
  });

  setInterval(() => {
    if ($('auto-refresh').checked && !document.hidden && !state.busy.size) refresh();
  }, REFRESH_MS);
  refresh();
})();
