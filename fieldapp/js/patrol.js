// 巡查: while the switch is on and the app is in the foreground, the position is sampled every
// app.ping_seconds and sent in batches to POST /patrols/pings, so coverage counts. Pings not yet sent
// are kept in localStorage and go with the next batch.
import { api, errorText } from './api.js';
import { h } from './dom.js';
import { t } from './i18n.js';
import { watch } from './geo.js';
import { cachedCells } from './map.js';
import { appSettings, me } from './session.js';

const BUFFER_KEY = 'gw.pings';
const SENT_KEY = 'gw.pings.sent';
const ON_KEY = 'gw.patrol';
const MAX_BUFFER = 5000;
const BATCH = 500;

let stopWatch = null;
let timer = null;
let latest = null;
let lastSampleAt = 0;
let lastSendAt = 0;
let sending = false;
let redraw = null;
let lastError = '';

function buffer() {
  try {
    return JSON.parse(localStorage.getItem(BUFFER_KEY) || '[]');
  } catch {
    return [];
  }
}

function setBuffer(list) {
  localStorage.setItem(BUFFER_KEY, JSON.stringify(list.slice(-MAX_BUFFER)));
}

function sentCount() {
  const saved = JSON.parse(localStorage.getItem(SENT_KEY) || '{}');
  return saved.actor === me()?.actor ? saved.n || 0 : 0;
}

function addSent(n) {
  localStorage.setItem(SENT_KEY, JSON.stringify({ actor: me()?.actor, n: sentCount() + n }));
}

function onPatrol() {
  return localStorage.getItem(ON_KEY) === 'on';
}

function sample() {
  if (!latest) return;
  const now = Date.now();
  if (now - lastSampleAt < appSettings().ping_seconds * 1000 * 0.9) return;
  lastSampleAt = now;
  const { lon, lat, acc } = latest;
  // Tagged with who walked: the server credits a batch to the token that sends it.
  const ping = { actor: me()?.actor, ts: new Date(now).toISOString(), lon, lat, acc: Math.round(acc * 10) / 10 };
  setBuffer([...buffer(), ping]);
  redraw?.();
  // The first ping of a patrol goes at once; after that, a batch every ping_seconds.
  if (now - lastSendAt >= appSettings().ping_seconds * 1000) sendPings();
}

async function sendPings() {
  if (sending || !navigator.onLine) return;
  sending = true;
  lastSendAt = Date.now();
  let sentSome = false;
  try {
    for (;;) {
      const actor = me()?.actor;
      // Another worker's pings (before this phone was paired again) wait for them.
      const batch = buffer().filter((p) => p.actor === actor).slice(0, BATCH);
      if (!batch.length) break;
      const gone = new Set(batch);
      try {
        await api('/patrols/pings', {
          method: 'POST', json: { pings: batch.map(({ ts, lon, lat, acc }) => ({ ts, lon, lat, acc })) },
        });
        addSent(batch.length);
        sentSome = true;
        lastError = '';
      } catch (err) {
        if (!err.status || err.status >= 500 || [401, 408, 429].includes(err.status)) throw err;
        lastError = errorText(err);
        // Refused: only the ping the server names is dropped, or the batch when it names none.
        const named = /^pings\[(\d+)\]$/.exec(err.problem?.at || '');
        if (named && batch[Number(named[1])]) {
          gone.clear();
          gone.add(batch[Number(named[1])]);
        }
      }
      // Only what was sent or refused leaves the buffer; pings taken meanwhile stay.
      const sent = new Set([...gone].map((p) => `${p.actor}|${p.ts}`));
      setBuffer(buffer().filter((p) => !sent.has(`${p.actor}|${p.ts}`)));
    }
  } catch (err) {
    lastError = errorText(err);
  } finally {
    sending = false;
    redraw?.(sentSome);
  }
}

function start() {
  if (stopWatch) return;
  stopWatch = watch((fix) => { latest = fix; sample(); }, (msg) => { lastError = msg || t('gps_unsupported'); redraw?.(); });
  timer = setInterval(() => { sample(); sendPings(); }, appSettings().ping_seconds * 1000);
}

function stop() {
  stopWatch?.();
  stopWatch = null;
  clearInterval(timer);
  timer = null;
  sendPings();
}

/** Called on load: a patrol switched on stays on (in the foreground) across reloads. */
export function resumePatrol() {
  if (onPatrol() && me()?.role === 'worker') start();
  document.addEventListener('visibilitychange', () => {
    if (!onPatrol()) return;
    if (document.visibilityState === 'visible') start(); else stop();
  });
}

export function mountPatrol(root) {
  const toggle = h('button', { type: 'button', testid: 'patrol-toggle', role: 'switch', class: 'btn big' });
  const state = h('div', { class: 'patrol-state' });
  const sent = h('div', { testid: 'patrol-sent', class: 'big-number' });
  const waiting = h('div', { class: 'muted small' });
  const err = h('div', { class: 'error' });
  const cellList = h('ul', { class: 'cells' });
  toggle.addEventListener('click', () => {
    if (onPatrol()) {
      localStorage.setItem(ON_KEY, 'off');
      stop();
    } else {
      localStorage.setItem(ON_KEY, 'on');
      start();
    }
    draw();
  });
  function draw() {
    const on = onPatrol();
    toggle.setAttribute('aria-checked', String(on));
    toggle.dataset.on = String(on);
    toggle.className = on ? 'btn big danger' : 'btn big primary';
    toggle.textContent = on ? t('patrol_stop') : t('patrol_start');
    state.textContent = on ? t('patrol_on') : t('patrol_off');
    state.className = on ? 'patrol-state on' : 'patrol-state';
    const n = sentCount();
    sent.dataset.count = String(n);
    sent.textContent = t('patrol_sent', { n });
    const b = buffer().length;
    waiting.textContent = b ? t('patrol_buffered', { n: b }) : '';
    err.textContent = lastError;
  }
  async function loadCoverage() {
    try {
      const { data } = await api('/patrols/mine');
      const rows = data?.cells || [];
      const names = Object.fromEntries(cachedCells().map((f) => [f.properties.code, f.properties.name]));
      cellList.replaceChildren(...rows.map((c) => {
        const days = c.days_visited ?? c.days ?? 0;
        const covered = c.covered ?? days >= c.target;
        return h('li', { class: covered ? 'cell covered' : 'cell', testid: 'patrol-cell', data: { covered: String(Boolean(covered)), cell: c.cell } },
          h('span', {}, names[c.cell] || c.cell),
          h('span', {}, `${t('patrol_days', { d: days, t: c.target })} · ${covered ? t('covered') : t('not_covered')}`));
      }));
      if (!rows.length) cellList.append(h('li', { class: 'muted' }, t('patrol_none')));
    } catch (e) {
      cellList.replaceChildren(h('li', { class: 'error' }, errorText(e)));
    }
  }
  root.append(h('div', { class: 'screen' },
    h('h2', {}, t('patrol_title')),
    h('section', { class: 'card center' }, state, toggle, sent, waiting, err, h('div', { class: 'muted small' }, t('patrol_note'))),
    h('section', { class: 'card' }, h('div', { class: 'label' }, t('patrol_week')), cellList)));
  draw();
  redraw = (sent) => {
    draw();
    if (sent) loadCoverage();
  };
  loadCoverage();
  const refresh = setInterval(loadCoverage, 60000);
  return () => {
    redraw = null;
    clearInterval(refresh);
  };
}
