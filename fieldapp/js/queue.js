// The durable send queue. Every report and task answer is written here (IndexedDB) with its client id
// before anything is sent; an item leaves "waiting" only on the server's ack (201 accepted, 200
// duplicate) or a refusal with a reason. Photos go first (content-addressed, so resending is
// harmless) and their URLs are remembered per item, so a half-sent item resumes where it stopped.
import { ApiError, NetworkError, api } from './api.js';
import { get, getAll, updateItems, write } from './db.js';
import { me, token } from './session.js';

const ROUTES = { report: '/incidents', answer: '/tasks/answers' };
const TIMER_MS = 15000;
// Chromium opens six connections to a host: five for the queue, one left for the screens' requests.
const PARALLEL = 5;
const KEEP_ACCEPTED_MS = 3 * 24 * 3600 * 1000;
// Refusals that are the network's or the session's, not the item's: it stays waiting.
const TRANSIENT = new Set([401, 408, 429]);
// Someone changed the incident at the same moment ("reload and try again"): sent again, the same
// answer is either taken or refused for what it is.
const TRANSIENT_CODES = new Set(['conflict']);

const cache = new Map();
const listeners = new Set();
const channel = 'BroadcastChannel' in self ? new BroadcastChannel('gw-queue') : null;
let loaded;
let running = false;
let again = false;
let notifyTimer = null;

export function onQueueChange(fn) {
  listeners.add(fn);
}

function notify(broadcast = true) {
  if (broadcast) channel?.postMessage('changed');
  if (notifyTimer) return;
  notifyTimer = setTimeout(() => {
    notifyTimer = null;
    for (const fn of listeners) fn();
  }, 60);
}

async function reload() {
  const all = await getAll('items');
  cache.clear();
  for (const item of all) cache.set(item.client_id, item);
}

export function loadQueue() {
  if (!loaded) {
    loaded = (async () => {
      await reload();
      const old = [...cache.values()].filter(
        (i) => i.state === 'accepted' && Date.now() - i.updated_at > KEEP_ACCEPTED_MS,
      );
      if (old.length) await removeItems(old);
      notify(false);
    })();
  }
  return loaded;
}

channel?.addEventListener('message', async () => {
  await reload();
  notify(false);
});

/** Newest first. */
export function items() {
  return [...cache.values()].sort((a, b) => b.created_at - a.created_at);
}

/** Not yet accepted: drafts, waiting, sending and refused items. */
export function pendingCount() {
  let n = 0;
  for (const i of cache.values()) if (i.state !== 'accepted') n += 1;
  return n;
}

export function photoBlob(id) {
  return get('photos', id);
}

/**
 * Store an item (new or edited) with its photos in one transaction. `photos` are
 * {id, blob, bytes}; photos the item had before and no longer has are deleted.
 */
export async function saveItem(fields, photos = []) {
  const now = Date.now();
  const before = cache.get(fields.client_id);
  const keep = new Set(photos.map((p) => p.id));
  const uploaded = Object.fromEntries(
    Object.entries(before?.uploaded || {}).filter(([id]) => keep.has(id)),
  );
  const record = {
    actor: me()?.actor || null,
    created_at: before?.created_at || now,
    attempts: 0,
    next_try: 0,
    reason: null,
    incident: null,
    ...fields,
    uploaded,
    photos: photos.map((p) => ({ id: p.id, bytes: p.bytes })),
    updated_at: now,
  };
  const stale = (before?.photos || []).map((p) => p.id).filter((id) => !keep.has(id));
  const fresh = [];
  for (const p of photos) {
    if (p.blob) fresh.push({ id: p.id, client_id: record.client_id, blob: p.blob, bytes: p.bytes });
  }
  await write({ put: { items: [record], photos: fresh }, del: { photos: stale } });
  cache.set(record.client_id, record);
  notify();
  if (record.state === 'waiting') flush();
  return record;
}

async function update(record, changes) {
  Object.assign(record, changes, { updated_at: Date.now() });
  await write({ put: { items: [record] } });
  cache.set(record.client_id, record);
  notify();
}

async function removeItems(list) {
  const photoIds = list.flatMap((i) => (i.photos || []).map((p) => p.id));
  await write({ del: { items: list.map((i) => i.client_id), photos: photoIds } });
  for (const i of list) cache.delete(i.client_id);
  notify();
}

export function deleteItem(clientId) {
  const record = cache.get(clientId);
  return record ? removeItems([record]) : Promise.resolve();
}

export function clearAccepted() {
  return removeItems([...cache.values()].filter((i) => i.state === 'accepted'));
}

/** Items of the person signed in; someone else's wait until they pair this phone again. */
function mine(record) {
  const actor = me()?.actor;
  return !record.actor || !actor || record.actor === actor;
}

function backoffMs(attempts) {
  const base = Math.min(60, 2 ** Math.min(attempts, 6)) * 1000;
  return base / 2 + Math.random() * (base / 2);
}

class StopPass extends Error {}

async function sendOne(record) {
  // "sending" is shown, not stored: a page closed mid-send leaves the item waiting, as it should.
  Object.assign(record, { state: 'sending' });
  cache.set(record.client_id, record);
  notify(false);
  try {
    for (const photo of record.photos) {
      if (record.uploaded[photo.id]) continue;
      const stored = await get('photos', photo.id);
      if (!stored) throw new ApiError(422, { detail: 'a photo of this item is missing on the phone', detail_zh: '手机上缺少此条的照片' });
      const form = new FormData();
      form.append('file', stored.blob, `${photo.id}.jpg`);
      const { data } = await api('/media', { method: 'POST', form, timeout: 120000 });
      // Remembered at once, so a reload resumes after the last photo that went (the last one is
      // stored with the ack, or with the failure: re-sending a photo is harmless anyway).
      record.uploaded[photo.id] = data.url || `/media/${data.name}`;
      if (photo !== record.photos[record.photos.length - 1]) {
        await write({ put: { items: [{ ...record, state: 'waiting' }] } }, true);
      }
    }
    const body = {
      ...record.body,
      client_id: record.client_id,
      media: record.photos.map((p) => record.uploaded[p.id]),
    };
    const { data } = await api(ROUTES[record.kind], { method: 'POST', json: body });
    const incident = data?.incident;
    Object.assign(record, {
      state: 'accepted',
      ack: data?.status || 'accepted',
      incident: (incident && typeof incident === 'object' ? incident.id : incident) || null,
      reason: null,
      updated_at: Date.now(),
    });
    // The server has the photos now; the phone needs the space.
    await write({ put: { items: [record] }, del: { photos: record.photos.map((p) => p.id) } }, true);
    cache.set(record.client_id, record);
    notify();
  } catch (err) {
    if (
      err instanceof ApiError && err.status < 500 && !TRANSIENT.has(err.status)
      && !TRANSIENT_CODES.has(err.problem.code)
    ) {
      await update(record, { state: 'refused', reason: err.reason, refused_status: err.status });
      return;
    }
    const attempts = record.attempts + 1;
    await update(record, { state: 'waiting', attempts, next_try: Date.now() + backoffMs(attempts) });
    if (err instanceof NetworkError || err.status === 401) throw new StopPass();
  }
}

async function pass() {
  await loadQueue();
  await reload();
  const now = Date.now();
  const due = [...cache.values()]
    .filter((i) => (i.state === 'waiting' || i.state === 'sending') && i.next_try <= now && mine(i))
    .sort((a, b) => a.created_at - b.created_at);
  let next = 0;
  let stopped = false;
  async function lane() {
    while (!stopped && next < due.length && token()) {
      const record = due[next++];
      try {
        await sendOne(record);
      } catch (err) {
        if (!(err instanceof StopPass)) console.error(err);
        stopped = true;
      }
    }
  }
  await Promise.all(Array.from({ length: PARALLEL }, lane));
  return !stopped && due.length > 0;
}

/** Send what is due. One sender at a time, across tabs too (the client id makes a double send harmless anyway). */
export async function flush() {
  if (!token() || !navigator.onLine) return;
  if (running) {
    again = true;
    return;
  }
  running = true;
  try {
    do {
      again = false;
      const run = async (lock) => {
        if (lock === null) return false;
        return pass();
      };
      const more = navigator.locks
        ? await navigator.locks.request('gw-send', { ifAvailable: true }, run)
        : await run(true);
      if (more) again = true;
    } while (again && token() && navigator.onLine);
  } finally {
    running = false;
  }
}

/** Back online: whatever was waiting for the network is due now. */
export async function retryAll() {
  await loadQueue();
  // Re-read inside the transaction: an item a running send has just acked must stay acked.
  await updateItems([...cache.keys()], (stored) => (
    stored.state === 'waiting' && stored.next_try > 0 ? { ...stored, next_try: 0 } : null));
  await reload();
  flush();
}

export function startSending() {
  loadQueue().then(flush).catch((err) => console.error(err));
  addEventListener('online', retryAll);
  setInterval(() => {
    if (document.visibilityState === 'visible') flush();
  }, TIMER_MS);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') flush();
  });
}
