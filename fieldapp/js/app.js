// The shell: header (who, online, queue, language), the screens by location.hash, the bottom bar.
// Nothing here waits for the network before the first paint: the cached identity draws the screen.
import { h } from './dom.js';
import { currentLang, onLangChange, setLang, t } from './i18n.js';
import { mountMe } from './mine.js';
import { mountPatrol, resumePatrol } from './patrol.js';
import { mountSignedOut, refreshMe } from './pair.js';
import { flush, loadQueue, onQueueChange, pendingCount, startSending } from './queue.js';
import { mountQueue } from './queueview.js';
import { mountReport } from './report.js';
import { me, onSessionChange, token } from './session.js';
import { mountTasks } from './tasks.js';

const SCREENS = { report: mountReport, queue: mountQueue, tasks: mountTasks, patrol: mountPatrol, me: mountMe };
const BY_ROLE = {
  worker: ['report', 'queue', 'tasks', 'patrol', 'me'],
  unit: ['tasks', 'queue', 'me'],
};
const ICONS = { report: '＋', queue: '⇅', tasks: '☑', patrol: '◎', me: '☺' };

const view = document.getElementById('view');
const nav = document.getElementById('nav');
const whoami = document.getElementById('whoami');
const online = document.getElementById('online-state');
const count = document.getElementById('queue-count');
const langToggle = document.getElementById('lang-toggle');
let unmount = null;
let showing = null; // the screen mounted: a name of SCREENS, or 'signed-out'

function screensFor() {
  return BY_ROLE[me()?.role] || ['queue', 'me'];
}

function current() {
  const name = location.hash.replace(/^#\/?/, '').split(/[?/]/)[0];
  return name;
}

function mount(name, fn, ...args) {
  showing = name;
  unmount?.();
  view.replaceChildren();
  unmount = fn(view, ...args) || null;
  window.scrollTo(0, 0);
}

/** After pairing: the first screen, unless the person already went to one of theirs. */
function afterPairing() {
  if (!screensFor().includes(current())) goFirst();
  else if (showing === 'signed-out') route();
}

function goFirst() {
  const first = `#/${screensFor()[0]}`;
  if (location.hash === first) route();
  else location.replace(first);
}

function route() {
  const pairing = location.hash.match(/^#pair=([^&]*)/);
  if (pairing) {
    const code = decodeURIComponent(pairing[1]);
    // The code is used once; it should not stay in the address bar or the history.
    history.replaceState(null, '', `${location.pathname}#/pair`);
    drawChrome(false);
    mount('signed-out', mountSignedOut, code, afterPairing);
    return;
  }
  if (!token()) {
    drawChrome(false);
    mount('signed-out', mountSignedOut, '', afterPairing);
    return;
  }
  const allowed = screensFor();
  const name = current();
  if (!allowed.includes(name)) {
    goFirst();
    return;
  }
  drawChrome(true);
  mount(name, SCREENS[name]);
}

function drawChrome(signedIn) {
  const who = me();
  const name = who && (currentLang() === 'en' && who.name_en ? who.name_en : who.name);
  whoami.textContent = signedIn && who ? `${name || who.actor} · ${t(`role_${who.role}`)}` : t('signed_out_title');
  whoami.dataset.actor = signedIn && who ? who.actor : '';
  document.title = t('app_name');
  document.getElementById('app-name').textContent = t('app_name');
  langToggle.textContent = t('lang_other');
  nav.hidden = !signedIn;
  const active = current();
  // Rebuilt only when it changes: a tab being tapped must not be swapped out under the finger.
  const shape = `${signedIn}|${screensFor()}|${currentLang()}|${active}`;
  if (nav.dataset.shape === shape) {
    drawOnline();
    drawCount();
    return;
  }
  nav.dataset.shape = shape;
  nav.replaceChildren(...(signedIn ? screensFor() : []).map((s) => h('a', {
    href: `#/${s}`, testid: `nav-${s}`, class: s === active ? 'on' : '', 'aria-current': s === active ? 'page' : null,
  }, h('span', { class: 'icon', 'aria-hidden': 'true' }, ICONS[s]), h('span', {}, t(`nav_${s}`)))));
  drawOnline();
  drawCount();
}

function drawOnline() {
  const on = navigator.onLine;
  online.dataset.state = on ? 'online' : 'offline';
  online.textContent = on ? t('online') : t('offline');
}

function drawCount() {
  const n = pendingCount();
  count.dataset.count = String(n);
  count.textContent = String(n);
  count.title = t('queue_pending', { n });
  count.hidden = n === 0;
}

langToggle.addEventListener('click', () => setLang(currentLang() === 'zh' ? 'en' : 'zh'));
onLangChange(route);
onSessionChange(() => {
  // Signed out (a 401 or by hand) or signed in: draw what fits, unless the same screen stays valid.
  if (!token() || showing === 'signed-out' || !screensFor().includes(current())) route();
  else drawChrome(true);
  if (token()) flush();
});
onQueueChange(drawCount);
addEventListener('hashchange', route);
addEventListener('online', drawOnline);
addEventListener('offline', drawOnline);

// The queue is read from IndexedDB (milliseconds, no network) before the first screen, so it shows
// every item at once.
await loadQueue().catch((err) => console.error(err));
route();
startSending();
resumePatrol();
if (token()) refreshMe();
if ('serviceWorker' in navigator) {
  // <html data-sw="ready"> once the service worker controls the page: the shell then loads offline.
  const mark = () => { if (navigator.serviceWorker.controller) document.documentElement.dataset.sw = 'ready'; };
  navigator.serviceWorker.addEventListener('controllerchange', mark);
  mark();
  navigator.serviceWorker.register('/field/sw.js', { scope: '/field/' }).catch(() => {});
}
