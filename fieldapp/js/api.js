// HTTP to the server: the bearer token, timeouts, and problem+json refusals turned into a message in
// the phone's language. A 401 signs the phone out (the queue stays).
import { currentLang, t } from './i18n.js';
import { signOut, token } from './session.js';

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }

  /** The server's reason in both languages, for keeping with a refused item. */
  get reason() {
    return {
      en: this.problem.detail || t('err_status', { s: this.status }),
      zh: this.problem.detail_zh || this.problem.detail || `服务器返回 ${this.status}`,
    };
  }

  get text() {
    return reasonText(this.reason);
  }
}

/** The request never got an answer: offline, server down, or timed out. */
export class NetworkError extends Error {
  constructor(timedOut) {
    super(timedOut ? 'timeout' : 'network');
    this.timedOut = timedOut;
  }

  get text() {
    return t(this.timedOut ? 'err_timeout' : 'err_network');
  }
}

export function reasonText(reason) {
  if (!reason) return '';
  return currentLang() === 'en' ? reason.en || reason.zh : reason.zh || reason.en;
}

export function errorText(err) {
  return err?.text || String(err?.message || err);
}

/**
 * `api('/incidents', {method: 'POST', json: body})` → {status, data}. Throws ApiError for any
 * non-2xx answer and NetworkError when there is none.
 */
export async function api(path, { method = 'GET', json, form, timeout = 30000, auth = true } = {}) {
  const headers = { Accept: 'application/json' };
  const bearer = token();
  if (auth && bearer) headers.Authorization = `Bearer ${bearer}`;
  let body;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (form) {
    body = form;
  }
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeout);
  let res;
  try {
    res = await fetch(path, { method, headers, body, signal: abort.signal, cache: 'no-store' });
  } catch (err) {
    throw new NetworkError(abort.signal.aborted);
  } finally {
    clearTimeout(timer);
  }
  let data = null;
  const type = res.headers.get('Content-Type') || '';
  if (type.includes('json')) {
    try {
      data = await res.json();
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    if (res.status === 401 && auth && bearer) signOut();
    throw new ApiError(res.status, data);
  }
  return { status: res.status, data };
}
