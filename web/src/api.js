// The HTTP API of docs/API.md, as the page uses it. Same origin: the page is served by
// `surroundyou serve` itself, so relative URLs reach the API.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code || '';
  }
}

async function call(path, { method = 'GET', token, body } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, 'network', 'The server could not be reached.');
  }
  if (res.status === 204) return null;
  let data = null;
  try {
    data = await res.json();
  } catch (e) {
    data = null;
  }
  if (!res.ok) {
    const err = data && data.error ? data.error : {};
    throw new ApiError(res.status, err.code, err.message);
  }
  return data;
}

export function getPresets() {
  return call('/api/v1/presets').then((d) => d.presets || []);
}

export function createJob(file, settings) {
  return call('/api/v1/jobs', {
    method: 'POST',
    body: { filename: file.name, size: file.size, settings },
  }).then((job) => {
    // When the link was handed out, on this page's own clock (immune to skew with the
    // store's); not enumerable, so it is never saved or sent anywhere.
    if (job && job.upload) Object.defineProperty(job.upload, 'receivedAt', { value: Date.now() });
    return job;
  });
}

// A new job on this job's upload with other settings: no second upload (docs/API.md).
export function rerenderJob(id, token, settings) {
  return call(`/api/v1/jobs/${encodeURIComponent(id)}/rerender`, { method: 'POST', token, body: { settings } });
}

// How long a presigned (SigV4) URL was signed for, in seconds (its X-Amz-Expires, which the
// server takes from its configured lifetime), or null when the URL does not say.
export function linkLifetimeSeconds(url) {
  let seconds;
  try {
    seconds = Number(new URL(url, 'http://page.invalid').searchParams.get('X-Amz-Expires'));
  } catch (e) {
    return null;
  }
  return Number.isFinite(seconds) && seconds > 0 ? seconds : null;
}

// Whether a presigned (SigV4) upload URL has outlived its X-Amz-Expires by `now`, counted
// from when the page received it (or, failing that, from `fallbackStart`).
export function uploadLinkExpired(upload, now, fallbackStart) {
  const seconds = linkLifetimeSeconds(upload.url);
  if (seconds === null) return false;
  const start = typeof upload.receivedAt === 'number' ? upload.receivedAt : fallbackStart;
  return now - start >= seconds * 1000;
}

export function getJob(id, token) {
  return call(`/api/v1/jobs/${encodeURIComponent(id)}`, { token });
}

export function deleteJob(id, token) {
  return call(`/api/v1/jobs/${encodeURIComponent(id)}`, { method: 'DELETE', token });
}

// The {code, message} of a refused upload. The embedded store answers JSON
// ({"error": {code, message}}); an S3 store (AWS, Ceph RGW, MinIO) answers its XML
// <Error><Code/><Message/></Error>. AWS says an expired presigned URL is AccessDenied
// "Request has expired", so that becomes ExpiredRequest, the embedded store's code, and
// the page says the same thing whichever store the service uses. Anything else keeps
// the status alone (empty code).
export function parseStoreError(text) {
  const body = typeof text === 'string' ? text.trim() : '';
  if (body.startsWith('{')) {
    try {
      const err = JSON.parse(body).error || {};
      return { code: String(err.code || ''), message: String(err.message || '') };
    } catch (e) {
      return { code: '', message: '' };
    }
  }
  if (!body.startsWith('<') || typeof DOMParser === 'undefined') return { code: '', message: '' };
  const doc = new DOMParser().parseFromString(body, 'application/xml');
  const root = doc.documentElement;
  if (!root || root.localName !== 'Error' || doc.getElementsByTagName('parsererror').length) {
    return { code: '', message: '' };
  }
  const field = (name) => {
    const node = Array.from(root.children).find((child) => child.localName === name);
    return node ? node.textContent.trim() : '';
  };
  let code = field('Code');
  const message = field('Message');
  if (code === 'AccessDenied' && /expired/i.test(message)) code = 'ExpiredRequest';
  return { code, message };
}

// PUTs the file to the presigned URL with XMLHttpRequest, whose upload.onprogress reports
// the real bytes sent (fetch() has no upload progress). Returns {promise, abort}.
export function uploadFile(upload, file, onProgress) {
  const xhr = new XMLHttpRequest();
  const startedAt = Date.now();
  // A refusal carries the link's lifetime, so the page can say how long a link lasts.
  const refusal = (status, code, message) =>
    Object.assign(new ApiError(status, code, message), { linkSeconds: linkLifetimeSeconds(upload.url) });
  const promise = new Promise((resolve, reject) => {
    xhr.open(upload.method || 'PUT', upload.url);
    for (const [name, value] of Object.entries(upload.headers || {})) {
      xhr.setRequestHeader(name, value);
    }
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded, e.total);
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(file.size, file.size);
        resolve();
        return;
      }
      let { code, message } = parseStoreError(xhr.responseText);
      // Ceph RGW refuses an expired URL as AccessDenied with no message: the link's age tells.
      if (code === 'AccessDenied' && !message && uploadLinkExpired(upload, Date.now(), startedAt)) {
        code = 'ExpiredRequest';
      }
      reject(refusal(xhr.status, code, message));
    };
    xhr.onerror = () => {
      // An S3 store may refuse without CORS headers (Ceph RGW 16 adds none to its 403s), so
      // the browser hides the answer as a network error. Once the link has outlived its
      // lifetime, a fresh link is what a retry needs either way: say so.
      if (uploadLinkExpired(upload, Date.now(), startedAt)) {
        reject(refusal(null, 'ExpiredRequest', 'The upload link expired.'));
        return;
      }
      reject(refusal(0, 'network', 'The upload was interrupted.'));
    };
    xhr.onabort = () => reject(new ApiError(0, 'aborted', 'The upload was cancelled.'));
    xhr.send(file);
  });
  return { promise, abort: () => xhr.abort() };
}

export const FINAL_STATUSES = new Set(['done', 'failed', 'expired']);

// Follows a job: Server-Sent Events first (EventSource cannot send headers, so the token
// goes in the query, as docs/API.md allows), polling every `pollMs` when the stream drops.
// Calls onUpdate(job) on every change and onGone() when the job was deleted. Returns stop().
export function watchJob(id, token, { onUpdate, onGone, pollMs = 2000, EventSourceImpl } = {}) {
  const ES = EventSourceImpl || (typeof EventSource !== 'undefined' ? EventSource : null);
  let stopped = false;
  let source = null;
  let timer = null;

  const finish = () => {
    stopped = true;
    if (source) source.close();
    if (timer) clearTimeout(timer);
  };

  const deliver = (job) => {
    if (stopped) return;
    onUpdate(job);
    if (FINAL_STATUSES.has(job.status)) finish();
  };

  const poll = async () => {
    if (stopped) return;
    try {
      deliver(await getJob(id, token));
    } catch (e) {
      if (e.status === 404) {
        finish();
        if (onGone) onGone();
        return;
      }
    }
    if (!stopped) timer = setTimeout(poll, pollMs);
  };

  if (ES) {
    source = new ES(`/api/v1/jobs/${encodeURIComponent(id)}/events?token=${encodeURIComponent(token)}`);
    source.addEventListener('status', (e) => {
      try {
        deliver(JSON.parse(e.data));
      } catch (err) {
        // a malformed event is skipped; the next one carries the full state again
      }
    });
    source.addEventListener('deleted', () => {
      finish();
      if (onGone) onGone();
    });
    source.onerror = () => {
      if (stopped) return;
      // The stream dropped: stop the browser's own reconnects and poll instead.
      source.close();
      source = null;
      poll();
    };
  } else {
    poll();
  }
  return finish;
}
