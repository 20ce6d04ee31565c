// Pairing: the QR code's link (#pair=CODE) or a typed code is exchanged once for this phone's own
// token. The signed-out screen is also where a revoked phone lands; its queue stays.
import { api, errorText } from './api.js';
import { h } from './dom.js';
import { t } from './i18n.js';
import { pendingCount } from './queue.js';
import { me, saveMe, signIn } from './session.js';

// Eight characters from an alphabet without 0/O/1/I; a dash or spaces may be typed in between.
const CODE = /^[A-HJ-NP-Z2-9]{8}$/;

function normalise(code) {
  return code.toUpperCase().replace(/[\s-]/g, '');
}

function device() {
  const ua = navigator.userAgent;
  const m = ua.match(/\(([^)]+)\)/);
  return (m ? m[1] : ua).slice(0, 120);
}

/** Claim a code; on success the phone is signed in and GET /me is fetched. Throws with a message. */
async function claim(raw) {
  const code = normalise(raw);
  if (!CODE.test(code)) throw new Error(t('pair_bad_code'));
  const formatted = `${code.slice(0, 4)}-${code.slice(4)}`;
  const { data } = await api('/pairings/claim', { method: 'POST', json: { code: formatted, device: device() }, auth: false });
  const { token, ...identity } = data;
  signIn(token, identity);
  await refreshMe();
}

export async function refreshMe() {
  try {
    const { data } = await api('/me');
    saveMe(data);
  } catch { /* offline or not yet there: the cached identity stays */ }
}

export function mountSignedOut(root, prefill = '', onDone = () => {}) {
  const input = h('input', {
    testid: 'pair-code', type: 'text', inputmode: 'text', autocomplete: 'one-time-code', autocapitalize: 'characters',
    placeholder: 'ABCD-EFGH', maxlength: 12, value: prefill, class: 'code-input',
  });
  const error = h('div', { class: 'error', testid: 'pair-error', role: 'alert' });
  const button = h('button', { type: 'submit', class: 'btn primary big', testid: 'pair-submit' }, t('pair_submit'));
  const submit = async (ev) => {
    ev?.preventDefault();
    error.textContent = '';
    button.disabled = true;
    button.textContent = t('pairing');
    try {
      await claim(input.value);
      onDone();
    } catch (err) {
      error.textContent = errorText(err);
    } finally {
      button.disabled = false;
      button.textContent = t('pair_submit');
    }
  };
  const kept = pendingCount();
  const who = me();
  root.append(h('div', { class: 'screen signed-out', testid: 'signed-out' },
    h('h2', {}, t('signed_out_title')),
    h('p', {}, t('signed_out_text')),
    who?.name ? h('p', { class: 'muted' }, `${who.name} · ${t(`role_${who.role}`)}`) : null,
    kept ? h('p', { class: 'warn-text' }, t('queue_kept', { n: kept })) : null,
    h('form', { class: 'card', onsubmit: submit },
      h('label', { class: 'label' }, t('pair_code')), input, error, button)));
  if (prefill) submit();
  return () => {};
}
