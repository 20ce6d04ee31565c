// Who this phone is signed in as: the token from pairing and the last GET /me, kept in localStorage
// so the first screen draws at once, before any request.
const TOKEN = 'gw.token';
const ME = 'gw.me';
const listeners = new Set();

const DEFAULT_APP = {
  tile_url: '', max_photos: 6, photo_max_bytes: 600000, photo_long_edge: 1600, ping_seconds: 60,
};

export function token() {
  return localStorage.getItem(TOKEN);
}

export function me() {
  try {
    return JSON.parse(localStorage.getItem(ME) || 'null');
  } catch {
    return null;
  }
}

export function appSettings() {
  return { ...DEFAULT_APP, ...(me()?.app || {}) };
}

export function signIn(newToken, identity) {
  localStorage.setItem(TOKEN, newToken);
  saveMe(identity);
}

export function saveMe(identity) {
  const previous = me() || {};
  localStorage.setItem(ME, JSON.stringify({ ...previous, ...identity }));
  notify();
}

/** Signed out (revoked or by hand): the token goes; who it was stays, so the queue waits for them. */
export function signOut() {
  localStorage.removeItem(TOKEN);
  notify();
}

export function onSessionChange(fn) {
  listeners.add(fn);
}

function notify() {
  for (const fn of listeners) fn();
}
