// 队列: every queued item with its state; a refused one shows the server's reason and can be
// corrected or deleted; a draft can be completed.
import { reasonText } from './api.js';
import { h } from './dom.js';
import { t, when } from './i18n.js';
import { categoryName, editReport } from './report.js';
import { clearAccepted, deleteItem, flush, items, onQueueChange, retryAll, saveItem } from './queue.js';

let active = null;
onQueueChange(() => active?.());

function answerLabel(body) {
  const action = body.kind === 'verify' ? (body.fixed ? 'a_fixed' : 'a_not_fixed') : `a_${body.kind}`;
  const target = body.whistle ? t('whistle', { id: body.whistle }) : t('incident', { id: body.incident || '' });
  return `${t(action)} · ${target}`;
}

function row(record) {
  const b = record.body || {};
  const editable = record.state === 'draft' || record.state === 'refused';
  const title = record.kind === 'report'
    ? (b.category ? `${b.category} ${categoryName(b.category)}` : t('category_none'))
    : answerLabel(b);
  const meta = [when(record.created_at)];
  if (record.photos?.length) meta.push(t('photos_n', { n: record.photos.length }));
  if (record.kind === 'report' && (b.lon == null || b.lat == null)) meta.push(t('no_position'));
  if (record.state === 'waiting' && record.attempts) meta.push(t('retry_at'));
  const note = h('div', {});
  return h('li', {
    class: `queue-item st-${record.state}`, testid: 'queue-item',
    data: { state: record.state, clientId: record.client_id, kind: record.kind, incident: record.incident || '' },
  },
  h('div', { class: 'row between' },
    h('strong', {}, record.kind === 'report' ? t('kind_report') : t('kind_answer')),
    h('span', { class: `badge st-${record.state}` }, t(`st_${record.state}`))),
  h('div', { class: 'title' }, title),
  b.text || b.note ? h('div', { class: 'muted clip' }, b.text || b.note) : null,
  h('div', { class: 'muted small' }, meta.join(' · ')),
  record.incident ? h('div', { class: 'small' }, t('incident', { id: record.incident })) : null,
  record.state === 'refused' ? h('div', { class: 'error', testid: 'queue-reason' }, reasonText(record.reason)) : null,
  note,
  editable ? h('div', { class: 'row' },
    h('button', {
      type: 'button', class: 'btn', testid: 'queue-edit',
      onclick: async () => {
        if (record.kind === 'report') {
          await editReport(record);
          location.hash = '#/report';
          return;
        }
        // An answer: only its note can be corrected; what it answers stays.
        const area = h('textarea', { rows: 2, testid: 'queue-note' });
        area.value = b.note || '';
        note.replaceChildren(area, h('button', {
          type: 'button', class: 'btn primary', testid: 'queue-resend',
          onclick: () => saveItem({ ...record, state: 'waiting', reason: null, body: { ...b, note: area.value.trim() } },
            record.photos),
        }, t('answer_submit')));
      },
    }, t('edit')),
    h('button', {
      type: 'button', class: 'btn danger', testid: 'queue-delete',
      onclick: () => { if (confirm(t('confirm_delete'))) deleteItem(record.client_id); },
    }, t('delete'))) : null);
}

export function mountQueue(root) {
  const list = h('ul', { class: 'queue' });
  // Rows are rebuilt only when their item changed, and the list is reordered only when the order
  // changed: a queue of hundreds draining stays cheap.
  let rows = new Map();
  let order = null;
  const draw = () => {
    const all = items();
    const next = new Map();
    for (const record of all) {
      const sig = `${record.state}|${record.updated_at}|${record.incident}`;
      const old = rows.get(record.client_id);
      if (old && old.sig === sig) {
        next.set(record.client_id, old);
        continue;
      }
      const fresh = { sig, node: row(record) };
      if (old) old.node.replaceWith(fresh.node);
      next.set(record.client_id, fresh);
    }
    rows = next;
    const now = all.map((r) => r.client_id).join();
    if (now !== order || list.childElementCount !== all.length) {
      order = now;
      list.replaceChildren(...[...next.values()].map((r) => r.node));
      if (!all.length) list.append(h('li', { class: 'muted empty' }, t('queue_empty')));
    }
  };
  root.append(h('div', { class: 'screen' },
    h('div', { class: 'row between' },
      h('h2', {}, t('queue_title')),
      h('div', { class: 'row' },
        h('button', { type: 'button', class: 'btn small', testid: 'queue-send', onclick: () => retryAll().then(flush) }, t('send_now')),
        h('button', { type: 'button', class: 'btn small', onclick: () => clearAccepted() }, t('clear_accepted')))),
    list));
  draw();
  active = draw;
  return () => { active = null; };
}
