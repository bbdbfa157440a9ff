// This browser's conversions, kept in localStorage (id + token) until the server forgets
// them: jobs and their files are kept 24 hours (docs/API.md, storage.retention_seconds).
const KEY = 'surroundyou.recentJobs.v1';
export const RETENTION_MS = 24 * 60 * 60 * 1000;

function storage() {
  try {
    return typeof window !== 'undefined' ? window.localStorage : null;
  } catch (e) {
    return null;
  }
}

export function loadRecent(now = Date.now()) {
  const s = storage();
  if (!s) return [];
  try {
    const list = JSON.parse(s.getItem(KEY) || '[]');
    if (!Array.isArray(list)) return [];
    return list.filter((j) => j && j.id && j.token && now < j.createdAt + RETENTION_MS);
  } catch (e) {
    return [];
  }
}

function save(list) {
  const s = storage();
  if (!s) return;
  try {
    s.setItem(KEY, JSON.stringify(list.slice(0, 50)));
  } catch (e) {
    // storage full or disabled: the list is a convenience only
  }
}

export function rememberJob(entry) {
  const list = loadRecent().filter((j) => j.id !== entry.id);
  list.unshift(entry);
  save(list);
}

export function updateRecent(id, fields) {
  save(loadRecent().map((j) => (j.id === id ? { ...j, ...fields } : j)));
}

export function forgetJob(id) {
  save(loadRecent().filter((j) => j.id !== id));
}
