// The phone's GPS fix and its quality class. Browser geolocation is WGS-84, as the server wants.
const GOOD_M = 10;
const FAIR_M = 50;
export const CONFIRM_M = 100;

export function quality(acc) {
  if (acc == null) return null;
  if (acc <= GOOD_M) return 'good';
  if (acc <= FAIR_M) return 'fair';
  if (acc <= CONFIRM_M) return 'poor';
  return 'bad';
}

/** Watch the position; `onFix({lon, lat, acc, ts})` and `onError(message)`. Returns a stop function. */
export function watch(onFix, onError) {
  if (!('geolocation' in navigator)) {
    onError(null);
    return () => {};
  }
  const id = navigator.geolocation.watchPosition(
    (pos) => onFix({
      lon: pos.coords.longitude,
      lat: pos.coords.latitude,
      acc: pos.coords.accuracy,
      ts: new Date(pos.timestamp || Date.now()).toISOString(),
    }),
    (err) => onError(err.message || String(err.code)),
    { enableHighAccuracy: true, maximumAge: 5000, timeout: 60000 },
  );
  return () => navigator.geolocation.clearWatch(id);
}
