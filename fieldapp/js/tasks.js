// 我的任务: chosen on the server for the caller. A worker verifies (核查); a unit officer signs (签收),
// reports handling (处置反馈), returns (回退) and reports in to whistles (报到). Every answer goes through
// the send queue like a report, so it survives being offline.
import { api, errorText } from './api.js';
import { h, kb, toast } from './dom.js';
import { pick, t, when } from './i18n.js';
import { shrinkAll } from './photos.js';
import { items, onQueueChange, saveItem } from './queue.js';
import { appSettings, me } from './session.js';

const POLL_MS = 30000;
const CACHE_KEY = 'gw.tasks';
const DEFAULT_ANSWERS = {
  verify: ['fixed', 'not_fixed'], sign: ['sign', 'return'], handle: ['handle', 'return'], report_in: ['report_in'],
};
const BUTTON = {
  sign: ['task-sign', 'a_sign'], handle: ['task-handle', 'a_handle'], return: ['task-return', 'a_return'],
  fixed: ['task-verify-fixed', 'a_fixed'], not_fixed: ['task-verify-not-fixed', 'a_not_fixed'],
  report_in: ['task-report-in', 'a_report_in'],
};
const NOTE_REQUIRED = new Set(['return', 'not_fixed']);
const WITH_PHOTOS = new Set(['handle', 'fixed', 'not_fixed', 'return']);
// 报到 is the unit's arrival and nothing more: the server refuses a note or photos with it.
const BARE = new Set(['report_in']);

let active = null;
let acceptedAnswers = -1;
onQueueChange(() => {
  const n = items().filter((i) => i.kind === 'answer' && i.state === 'accepted').length;
  const changed = n !== acceptedAnswers;
  acceptedAnswers = n;
  active?.(changed);
});

function cached() {
  try {
    const saved = JSON.parse(localStorage.getItem(CACHE_KEY) || 'null');
    return saved && saved.actor === me()?.actor ? saved : null;
  } catch {
    return null;
  }
}

function target(task) {
  return task.kind === 'report_in' ? { whistle: task.whistle?.id } : { incident: task.incident?.id };
}

function answersOf(task) {
  const given = Array.isArray(task.answers) && task.answers.length ? task.answers : DEFAULT_ANSWERS[task.kind] || [];
  if (task.kind === 'verify') return ['fixed', 'not_fixed'];
  return given.filter((a) => BUTTON[a]);
}

/** A queued answer (not refused, not yet acknowledged) to this task hides its buttons. */
function pendingAnswer(task) {
  const tgt = target(task);
  return items().find((i) => i.kind === 'answer' && (i.state === 'waiting' || i.state === 'sending')
    && (tgt.whistle ? i.body.whistle === tgt.whistle : i.body.incident === tgt.incident));
}

function clock(task) {
  if (!task.due_at) return h('div', { class: 'due muted', testid: 'task-due' }, t('no_due'));
  const left = new Date(task.due_at).getTime() - Date.now();
  const mins = Math.round(Math.abs(left) / 60000);
  const span = mins >= 60 * 24 ? t('span_dh', { d: Math.floor(mins / 1440), h: Math.floor((mins % 1440) / 60) })
    : mins >= 60 ? t('span_hm', { h: Math.floor(mins / 60), m: mins % 60 }) : t('span_m', { m: mins });
  const overdue = task.overdue || left < 0;
  return h('div', { class: overdue ? 'due overdue' : 'due', testid: 'task-due', data: { overdue: String(Boolean(overdue)), due: task.due_at } },
    t('due', { t: when(task.due_at) }), ' · ', overdue ? `${t('overdue')} ${span}` : t('left', { s: span }));
}

function answerPanel(task, answer, close) {
  const settings = appSettings();
  const photos = [];
  const error = h('div', { class: 'error', role: 'alert' });
  const note = h('textarea', { testid: 'answer-note', rows: 3, maxlength: 2000, placeholder: NOTE_REQUIRED.has(answer) ? t('note_required') : t('note') });
  // One client id per answer form: a second tap on Send is the same answer, never a second one.
  const clientId = crypto.randomUUID();
  const list = h('div', { class: 'photos' });
  const status = h('div', { class: 'muted small' });
  let busy = false;
  const input = h('input', {
    type: 'file', accept: 'image/*', multiple: true, testid: 'answer-photo-input', class: 'file',
    id: `answer-photo-${task.kind}-${target(task).incident || target(task).whistle}`,
    onchange: async () => {
      const files = [...input.files].slice(0, Math.max(0, settings.max_photos - photos.length));
      input.value = '';
      busy = true;
      const out = await shrinkAll(files, (i, n) => { status.textContent = t('photo_processing', { i, n }); });
      busy = false;
      status.textContent = out.failed.map((name) => t('photo_failed', { name })).join(' ');
      photos.push(...out.photos);
      list.replaceChildren(...photos.map((p) => h('div', { class: 'photo', testid: 'answer-photo-item', data: { bytes: p.bytes } },
        h('img', { src: URL.createObjectURL(p.blob), alt: '' }), h('span', { class: 'size' }, kb(p.bytes)))));
    },
  });
  const submit = h('button', {
    type: 'button', class: 'btn primary', testid: 'answer-submit',
    onclick: async () => {
      if (busy) { error.textContent = t('err_busy'); return; }
      const text = note.value.trim();
      if (NOTE_REQUIRED.has(answer) && !text) { error.textContent = t('note_required'); return; }
      const kind = answer === 'fixed' || answer === 'not_fixed' ? 'verify' : answer;
      const body = { kind, ...target(task) };
      if (!BARE.has(answer)) body.note = text;
      if (kind === 'verify') body.fixed = answer === 'fixed';
      await saveItem({ client_id: clientId, kind: 'answer', state: 'waiting', body }, photos);
      toast(t('answer_queued'));
      close();
    },
  }, t('answer_submit'));
  return h('div', { class: 'answer' },
    h('div', { class: 'label' }, t(BUTTON[answer][1])),
    BARE.has(answer) ? null : note,
    WITH_PHOTOS.has(answer) ? h('div', {},
      h('label', { class: 'btn file-btn', for: input.id }, t('answer_photos')), input, status, list) : null,
    error,
    h('div', { class: 'row' }, submit, h('button', { type: 'button', class: 'btn', onclick: close }, t('answer_cancel'))));
}

function card(task, openPanel) {
  const inc = task.incident || {};
  const w = task.whistle || {};
  const tgt = target(task);
  const pending = pendingAnswer(task);
  const slot = h('div', {});
  const title = task.kind === 'report_in'
    ? t('whistle', { id: w.id || '' })
    : `${pick(inc.category_name_zh, inc.category_name_en) || inc.category || ''}`;
  return h('li', {
    class: 'task-item', testid: 'task-item',
    data: { kind: task.kind, incident: tgt.incident || inc.id || '', whistle: tgt.whistle || '' },
  },
  h('div', { class: 'row between' }, h('strong', {}, t(`k_${task.kind}`)), h('span', { class: 'muted small' }, inc.id || w.id || '')),
  h('div', { class: 'title' }, title),
  inc.text || w.text || w.summary || w.reason ? h('div', { class: 'muted clip' }, inc.text || w.text || w.summary || w.reason) : null,
  clock(task),
  pending ? h('div', { class: 'badge st-waiting' }, t('answer_queued')) : h('div', { class: 'row wrap' },
    ...answersOf(task).map((a) => h('button', {
      type: 'button', class: a === 'return' || a === 'not_fixed' ? 'btn' : 'btn primary', testid: BUTTON[a][0],
      onclick: () => openPanel(slot, task, a),
    }, t(BUTTON[a][1])))),
  slot);
}

export function mountTasks(root) {
  let data = cached();
  let error = '';
  let open = null; // {key, answer}: keep an open answer form across redraws
  const list = h('ul', { class: 'tasks' });
  const status = h('div', { class: 'muted small' });
  const keyOf = (task) => `${task.kind}:${task.incident?.id || task.whistle?.id}`;
  const openPanel = (slot, task, answer) => {
    open = { key: keyOf(task), answer };
    draw();
  };
  function draw() {
    const tasks = data?.items || [];
    list.replaceChildren(...tasks.map((task) => {
      const node = card(task, openPanel);
      if (open && open.key === keyOf(task) && !pendingAnswer(task)) {
        node.lastChild.append(answerPanel(task, open.answer, () => { open = null; draw(); }));
      }
      return node;
    }));
    if (!tasks.length) list.append(h('li', { class: 'muted empty' }, data ? t('tasks_empty') : t('tasks_loading')));
    status.textContent = error ? t('tasks_failed', { msg: error }) : data?.at ? t('tasks_updated', { t: when(data.at) }) : '';
    status.className = error ? 'error' : 'muted small';
  }
  async function load() {
    try {
      const res = await api('/tasks');
      data = { actor: me()?.actor, at: Date.now(), items: res.data?.items || [], total: res.data?.total };
      localStorage.setItem(CACHE_KEY, JSON.stringify(data));
      error = '';
    } catch (err) {
      error = errorText(err);
    }
    // Redrawing under an open form would lose what is being typed.
    if (!open) draw(); else status.textContent = error ? t('tasks_failed', { msg: error }) : '';
  }
  root.append(h('div', { class: 'screen' }, h('div', { class: 'row between' }, h('h2', {}, t('tasks_title')), status), list));
  draw();
  load();
  const timer = setInterval(() => { if (document.visibilityState === 'visible') load(); }, POLL_MS);
  const onVisible = () => { if (document.visibilityState === 'visible') load(); };
  document.addEventListener('visibilitychange', onVisible);
  active = (answersAccepted) => { if (answersAccepted) load(); else if (!open) draw(); };
  return () => {
    active = null;
    clearInterval(timer);
    document.removeEventListener('visibilitychange', onVisible);
  };
}
