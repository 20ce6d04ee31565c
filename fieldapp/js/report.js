// 上报: category, text, photos, position with its quality gate, the worker's cells, subject; send or
// save a draft. The form's state lives here, so switching screens or language keeps it.
import { api } from './api.js';
import { h, kb, toast } from './dom.js';
import { CONFIRM_M, quality, watch } from './geo.js';
import { pick, t } from './i18n.js';
import { CellMap, cachedCells, cellAt, loadCells } from './map.js';
import { shrinkAll } from './photos.js';
import { photoBlob, saveItem } from './queue.js';
import { appSettings } from './session.js';

const CATALOG_KEY = 'gw.catalog';
const FIX_FRESH_MS = 120000;

const form = blank();
let fix = null;
let gpsError = null;
let catalog = cached();
let cells = null;

function blank() {
  return {
    client_id: null, category: null, text: '', subject: '', photos: [], placed: null,
    confirmed: false, busy: null, error: '', search: '', major: null,
  };
}

function reset() {
  for (const p of form.photos) if (p.url) URL.revokeObjectURL(p.url);
  Object.assign(form, blank());
}

function cached() {
  try {
    return JSON.parse(localStorage.getItem(CATALOG_KEY) || 'null') || { categories: [], majors: [] };
  } catch {
    return { categories: [], majors: [] };
  }
}

async function loadCatalog() {
  const [cats, majors] = await Promise.all([
    api('/categories?limit=100'), api('/categories/majors?limit=100'),
  ]);
  catalog = { categories: cats.data.items, majors: majors.data.items };
  localStorage.setItem(CATALOG_KEY, JSON.stringify(catalog));
}

export function categoryName(code) {
  const c = catalog.categories.find((x) => x.code === code);
  return c ? pick(c.name_zh, c.name_en) : code || '';
}

function majorOf(c) {
  return c.major || c.code.slice(0, 2);
}

function position() {
  if (form.placed) return form.placed;
  if (fix && Date.now() - fix.at < FIX_FRESH_MS) return fix;
  return null;
}

/** Load a draft or refused report back into the form. */
export async function editReport(record) {
  reset();
  const b = record.body || {};
  form.client_id = record.client_id;
  form.category = b.category || null;
  form.text = b.text || '';
  form.subject = b.subject_id || '';
  if (b.lon != null && b.lat != null) {
    form.placed = { lon: b.lon, lat: b.lat, acc: b.acc, gps_fix: b.gps_fix, kept: true };
  }
  for (const p of record.photos || []) {
    const stored = await photoBlob(p.id);
    if (stored) form.photos.push({ id: p.id, blob: stored.blob, bytes: stored.bytes, url: URL.createObjectURL(stored.blob) });
  }
}

export function mountReport(root) {
  const settings = appSettings();
  let map;

  const error = h('div', { class: 'error', testid: 'report-error', role: 'alert' });
  const showError = (text) => {
    form.error = text;
    error.textContent = text;
    error.hidden = !text;
  };
  showError(form.error);

  // Category
  const search = h('input', {
    type: 'search', testid: 'category-search', placeholder: t('category_search'), value: form.search,
    oninput: () => { form.search = search.value; drawOptions(); },
  });
  const chosen = h('div', { class: 'chosen' });
  const majors = h('div', { class: 'chips' });
  const options = h('div', { class: 'options' });
  function drawMajors() {
    majors.replaceChildren(
      h('button', { type: 'button', class: form.major ? 'chip' : 'chip on', onclick: () => { form.major = null; drawMajors(); drawOptions(); } }, t('category_all')),
      ...catalog.majors.map((m) => h('button', {
        type: 'button', class: form.major === m.code ? 'chip on' : 'chip', data: { major: m.code },
        onclick: () => { form.major = m.code; drawMajors(); drawOptions(); },
      }, pick(m.name_zh, m.name_en))),
    );
  }
  function drawOptions() {
    const q = form.search.trim().toLowerCase();
    const list = catalog.categories.filter((c) => (!form.major || majorOf(c) === form.major)
      && (!q || c.code.includes(q) || c.name_zh.includes(q) || (c.name_en || '').toLowerCase().includes(q)));
    options.replaceChildren(
      ...list.map((c) => h('button', {
        type: 'button', testid: 'category-option', data: { code: c.code },
        class: c.code === form.category ? 'option on' : 'option', 'aria-pressed': String(c.code === form.category),
        onclick: () => { form.category = c.code; showError(''); drawOptions(); },
      }, h('span', { class: 'code' }, c.code), ' ', pick(c.name_zh, c.name_en))),
    );
    if (!list.length) options.append(h('div', { class: 'muted' }, t('no_match')));
    chosen.textContent = form.category ? t('category_chosen', { name: categoryName(form.category) }) : t('category_none');
    chosen.classList.toggle('set', Boolean(form.category));
  }

  // Text and subject
  const text = h('textarea', {
    testid: 'report-text', rows: 3, maxlength: 2000, placeholder: t('text_ph'),
    oninput: () => { form.text = text.value; },
  });
  text.value = form.text;
  const subject = h('input', {
    type: 'text', testid: 'report-subject', placeholder: t('subject_ph'), value: form.subject, maxlength: 200,
    oninput: () => { form.subject = subject.value.trim(); },
  });

  // Photos
  const photoList = h('div', { class: 'photos' });
  const photoStatus = h('div', { class: 'muted', 'aria-live': 'polite' });
  const photoInput = h('input', {
    type: 'file', accept: 'image/*', multiple: true, testid: 'photo-input', id: 'photo-input', class: 'file',
    onchange: async () => {
      let files = [...photoInput.files];
      photoInput.value = '';
      const room = settings.max_photos - form.photos.length;
      if (files.length > room) {
        showError(t('photo_too_many', { n: settings.max_photos }));
        files = files.slice(0, Math.max(0, room));
      }
      if (!files.length) return;
      form.busy = true;
      const { photos, failed } = await shrinkAll(files, (i, n) => {
        photoStatus.textContent = t('photo_processing', { i, n });
      });
      form.busy = null;
      for (const p of photos) form.photos.push({ ...p, url: URL.createObjectURL(p.blob) });
      photoStatus.textContent = failed.map((name) => t('photo_failed', { name })).join(' ');
      drawPhotos();
    },
  });
  function drawPhotos() {
    photoList.replaceChildren(...form.photos.map((p) => h('div', { class: 'photo', testid: 'photo-item', data: { bytes: p.bytes } },
      h('img', { src: p.url, alt: '' }),
      h('span', { class: 'size' }, kb(p.bytes)),
      h('button', {
        type: 'button', class: 'remove', 'aria-label': t('photo_remove'),
        onclick: () => { URL.revokeObjectURL(p.url); form.photos = form.photos.filter((x) => x !== p); drawPhotos(); },
      }, '×'),
    )));
  }

  // Position
  const accuracy = h('div', { class: 'gps', testid: 'gps-accuracy' });
  const confirm = h('button', {
    type: 'button', class: 'btn warn', testid: 'gps-confirm',
    onclick: () => { form.confirmed = true; showError(''); drawPosition(); },
  }, t('gps_confirm'));
  const placedLine = h('div', { class: 'placed' });
  const cellName = h('div', { class: 'cell-name', testid: 'cell-name' });
  const mapBox = h('div', { class: 'map', testid: 'map' });
  function drawPosition() {
    const q = fix ? quality(fix.acc) : null;
    accuracy.dataset.quality = q || '';
    accuracy.className = `gps q-${q || 'none'}`;
    if (fix) {
      accuracy.textContent = `${t('gps_acc', { m: Math.round(fix.acc) })} · ${t(`q_${q}`)}`;
    } else if (gpsError !== null) {
      accuracy.textContent = gpsError ? t('gps_denied', { msg: gpsError }) : t('gps_unsupported');
    } else {
      accuracy.textContent = t('gps_waiting');
    }
    const needsConfirm = q === 'bad' && !form.placed;
    confirm.hidden = !needsConfirm || form.confirmed;
    confirm.textContent = t('gps_confirm');
    placedLine.replaceChildren();
    if (needsConfirm && !form.confirmed) placedLine.append(h('span', { class: 'warn-text' }, t('gps_bad_hint')));
    if (needsConfirm && form.confirmed) placedLine.append(h('span', {}, t('gps_confirmed')));
    if (form.placed) {
      placedLine.append(
        h('span', {}, form.placed.kept ? `${form.placed.lat.toFixed(6)}, ${form.placed.lon.toFixed(6)}` : t('placed')), ' ',
        h('button', { type: 'button', class: 'btn small', testid: 'placed-clear', onclick: () => { form.placed = null; map?.setPlaced(null); drawPosition(); } }, t('placed_clear')),
      );
    }
    const spot = position();
    const here = spot && cells ? cellAt(cells, spot.lon, spot.lat) : null;
    cellName.textContent = t('cell', { name: here ? here.properties.name || here.properties.code : spot && cells?.length ? t('cell_outside') : t('cell_unknown') });
    cellName.dataset.code = here?.properties.code || '';
  }

  const onFix = (f) => {
    fix = { ...f, at: Date.now() };
    gpsError = null;
    map?.setFix(fix);
    drawPosition();
  };
  const stopWatch = watch(onFix, (msg) => {
    gpsError = msg;
    drawPosition();
  });

  // Send or keep
  function body(asDraft) {
    const spot = position();
    const b = { category: form.category, text: form.text.trim(), ts: new Date().toISOString() };
    if (form.subject) b.subject_id = form.subject;
    if (spot) {
      b.lon = Number(spot.lon.toFixed(7));
      b.lat = Number(spot.lat.toFixed(7));
      if (form.placed) {
        if (form.placed.kept) {
          if (form.placed.acc != null) b.acc = form.placed.acc;
          if (form.placed.gps_fix) b.gps_fix = form.placed.gps_fix;
        } else if (fix) {
          b.gps_fix = { lon: fix.lon, lat: fix.lat, acc: Math.round(fix.acc * 10) / 10 };
        }
      } else {
        b.acc = Math.round(spot.acc * 10) / 10;
      }
    }
    if (asDraft && !b.category) delete b.category;
    return b;
  }
  let saving = null;
  async function keep(state) {
    // A second tap while the first is still being written is the same report, not a second one.
    if (saving) return saving;
    saving = saveItem({
      client_id: form.client_id || crypto.randomUUID(), kind: 'report', state, body: body(state === 'draft'),
      reason: null, attempts: 0, next_try: 0,
    }, form.photos);
    let record;
    try {
      record = await saving;
    } finally {
      saving = null;
    }
    reset();
    toast(t(state === 'draft' ? 'draft_ok' : 'queued_ok'));
    return record;
  }
  const submit = h('button', {
    type: 'button', class: 'btn primary big', testid: 'report-submit',
    onclick: async () => {
      if (form.busy) return showError(t('err_busy'));
      if (!form.category) return showError(t('err_category'));
      const spot = position();
      if (!spot) return showError(t('err_position'));
      if (!form.placed && spot.acc > CONFIRM_M && !form.confirmed) return showError(t('err_confirm'));
      showError('');
      await keep('waiting');
      redraw();
    },
  }, t('submit'));
  const draft = h('button', {
    type: 'button', class: 'btn big', testid: 'draft-save',
    onclick: async () => {
      if (form.busy) return showError(t('err_busy'));
      showError('');
      await keep('draft');
      redraw();
    },
  }, t('save_draft'));

  const screen = h('div', { class: 'screen report' });
  function redraw() {
    search.value = form.search;
    text.value = form.text;
    subject.value = form.subject;
    showError(form.error);
    drawMajors();
    drawOptions();
    drawPhotos();
    map?.setPlaced(form.placed);
    drawPosition();
    heading.textContent = form.client_id ? t('editing', { id: form.client_id.slice(0, 8) }) : t('new_report');
    cancelEdit.hidden = !form.client_id;
  }
  const heading = h('h2', {});
  const cancelEdit = h('button', { type: 'button', class: 'btn small', onclick: () => { reset(); redraw(); } }, t('answer_cancel'));
  screen.append(
    h('div', { class: 'row between' }, heading, cancelEdit),
    h('section', { class: 'card' }, h('label', { class: 'label' }, t('category')), chosen, search, majors, options),
    h('section', { class: 'card' },
      h('div', { class: 'label' }, t('position')), accuracy, confirm, placedLine, cellName, mapBox,
      h('div', { class: 'muted small' }, t('map_hint'))),
    h('section', { class: 'card' },
      h('label', { class: 'label', for: 'photo-input' }, t('photos', { n: settings.max_photos })),
      h('label', { class: 'btn file-btn', for: 'photo-input' }, t('photo_add')), photoInput, photoStatus, photoList),
    h('section', { class: 'card' }, h('label', { class: 'label' }, t('text')), text,
      h('label', { class: 'label' }, t('subject')), subject),
    error,
    h('div', { class: 'actions' }, submit, draft),
  );
  root.append(screen);

  map = new CellMap(mapBox, (point) => {
    form.placed = point;
    showError('');
    map.setPlaced(point);
    drawPosition();
  });
  cells = cells || cachedCells();
  map.setCells(cells);
  if (fix) map.setFix(fix);
  redraw();

  let live = true;
  if (!catalog.categories.length || !cells.length) {
    // Not before first paint: the screen is already drawn from the cached copies.
    (async () => {
      try {
        if (!catalog.categories.length) await loadCatalog();
      } catch { /* offline: the cached catalog stays */ }
      cells = await loadCells();
      if (!live) return;
      map.setCells(cells);
      redraw();
    })();
  } else {
    loadCatalog().then(() => live && (drawMajors(), drawOptions())).catch(() => {});
    loadCells().then((c) => { cells = c; if (live) { map.setCells(c); drawPosition(); } });
  }
  return () => {
    live = false;
    stopWatch();
  };
}
