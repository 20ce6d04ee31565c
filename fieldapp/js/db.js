// The phone's durable store (IndexedDB "gridwatch-field"): queued items and their photo blobs.
const NAME = 'gridwatch-field';
const VERSION = 1;
let opening;

function openDb() {
  if (!opening) {
    opening = new Promise((resolve, reject) => {
      const req = indexedDB.open(NAME, VERSION);
      req.onupgradeneeded = () => {
        const db = req.result;
        if (!db.objectStoreNames.contains('items')) {
          db.createObjectStore('items', { keyPath: 'client_id' }).createIndex('state', 'state');
        }
        if (!db.objectStoreNames.contains('photos')) db.createObjectStore('photos', { keyPath: 'id' });
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
      req.onblocked = () => reject(new Error('database blocked'));
    });
  }
  return opening;
}

function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error('transaction aborted'));
  });
}

function result(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

export async function getAll(store) {
  const db = await openDb();
  return result(db.transaction(store).objectStore(store).getAll());
}

export async function get(store, key) {
  const db = await openDb();
  return result(db.transaction(store).objectStore(store).get(key));
}

/**
 * Writes and deletes in one transaction: an item and its photos land together or not at all.
 * `relaxed`: for what can be redone if lost (progress and acks of a send; a resend is a duplicate).
 */
export async function write({ put = {}, del = {} }, relaxed = false) {
  const db = await openDb();
  const stores = [...new Set([...Object.keys(put), ...Object.keys(del)])];
  const tx = db.transaction(stores, 'readwrite', { durability: relaxed ? 'relaxed' : 'default' });
  for (const [store, values] of Object.entries(put)) {
    for (const value of values) tx.objectStore(store).put(value);
  }
  for (const [store, keys] of Object.entries(del)) {
    for (const key of keys) tx.objectStore(store).delete(key);
  }
  return done(tx);
}

/**
 * Read-modify-write of stored items in one transaction: `change(record)` returns the record to put,
 * or null to leave it. What another writer stored meanwhile (an ack) is what `change` sees.
 */
export async function updateItems(keys, change) {
  const db = await openDb();
  const tx = db.transaction('items', 'readwrite');
  const store = tx.objectStore('items');
  const changed = [];
  for (const key of keys) {
    store.get(key).onsuccess = (event) => {
      const record = event.target.result;
      const next = record ? change(record) : null;
      if (next) {
        store.put(next);
        changed.push(next);
      }
    };
  }
  await done(tx);
  return changed;
}
