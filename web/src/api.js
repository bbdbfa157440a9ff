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
  });
}

// A new job on this job's upload with other settings: no second upload (docs/API.md).
export function rerenderJob(id, token, settings) {
  return call(`/api/v1/jobs/${encodeURIComponent(id)}/rerender`, { method: 'POST', token, body: { settings } });
}

export function getJob(id, token) {
  return call(`/api/v1/jobs/${encodeURIComponent(id)}`, { token });
}

export function deleteJob(id, token) {
  return call(`/api/v1/jobs/${encodeURIComponent(id)}`, { method: 'DELETE', token });
}

// PUTs the file to the presigned URL with XMLHttpRequest, whose upload.onprogress reports
// the real bytes sent (fetch() has no upload progress). Returns {promise, abort}.
export function uploadFile(upload, file, onProgress) {
  const xhr = new XMLHttpRequest();
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
      let code = '';
      let message = '';
      try {
        const err = JSON.parse(xhr.responseText).error || {};
        code = err.code;
        message = err.message;
      } catch (e) {
        // the store answers JSON; anything else keeps the status alone
      }
      reject(new ApiError(xhr.status, code, message));
    };
    xhr.onerror = () => reject(new ApiError(0, 'network', 'The upload was interrupted.'));
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
