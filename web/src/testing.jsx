// What the page's component tests share: a stand-in for the server (the test drives upload
// progress and job events by hand) and the steps of adding a song.
import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { expect, vi } from 'vitest';
import App from './App.jsx';

export function audioFile(name = 'song.mp3', size = 1000) {
  const f = new File([new Uint8Array(Math.min(size, 16))], name, { type: 'audio/mpeg' });
  Object.defineProperty(f, 'size', { value: size });
  return f;
}

const PRESETS = [
  { name: 'classic', description: 'Classic circle.', settings: { trajectory: 'circle', period: 8, direction: 'cw', elevation: 0, width: 60, reverb: 0.25 } },
  { name: 'slow', description: 'Slow circle.', settings: { trajectory: 'circle', period: 16, direction: 'cw', elevation: 0, width: 60, reverb: 0.25 } },
];

// `morePresets` join the two above, as GET /api/v1/presets would list them.
export function fakeApi(morePresets = []) {
  const api = {
    presets: [...PRESETS, ...morePresets],
    uploads: [],
    watchers: [],
    created: [],
    deleted: [],
    getPresets: vi.fn(async () => api.presets),
    probeDuration: vi.fn(async () => 10),
    createJob: vi.fn(async (file, settings) => {
      const id = `job${api.created.length + 1}`;
      api.created.push({ file, settings });
      return { id, token: `tok-${id}`, status: 'awaiting_upload', upload: { method: 'PUT', url: `/store/${id}`, headers: {} } };
    }),
    uploadFile: vi.fn((upload, file, onProgress) => {
      let resolve;
      let reject;
      const promise = new Promise((res, rej) => {
        resolve = res;
        reject = rej;
      });
      api.uploads.push({ upload, file, onProgress, resolve, reject });
      return { promise, abort: vi.fn() };
    }),
    watchJob: vi.fn((id, token, handlers) => {
      api.watchers.push({ id, token, ...handlers });
      return vi.fn();
    }),
    getJob: vi.fn(async (id) => ({ id, status: 'done', progress: 1, result: { url: `/store/processed/${id}`, filename: 'old (8D).mp3', bytes: 2048 } })),
    rerendered: [],
    measureLoudness: vi.fn(async () => -9),
    rerenderJob: vi.fn(async (id, token, settings) => {
      const newId = `re${api.rerendered.length + 1}`;
      api.rerendered.push({ id, token, settings });
      return { id: newId, token: `tok-${newId}`, status: 'queued', source: id, settings };
    }),
    deleteJob: vi.fn(async (id) => {
      api.deleted.push(id);
      return null;
    }),
  };
  return api;
}

export async function dropFiles(files) {
  const input = screen.getByTestId('file-input');
  await act(async () => {
    fireEvent.change(input, { target: { files } });
  });
}

// The page with the presets loaded.
export async function renderApp(api = fakeApi()) {
  render(<App api={api} />);
  await waitFor(() => expect(screen.getByLabelText('Preset').options.length).toBe(api.presets.length));
  return api;
}

// Drops one song and returns the settings its job was created with.
export async function addSong(api, name = 'Song.mp3') {
  const before = api.created.length;
  await dropFiles([audioFile(name, 4000)]);
  await waitFor(() => expect(api.created.length).toBe(before + 1));
  return api.created[before].settings;
}

// Drops one file, finishes its upload and returns the watcher of its job, through which the
// test sends the job's events.
export async function watchedSong(api, file) {
  await dropFiles([file]);
  await waitFor(() => expect(api.uploads.length).toBe(1));
  await act(async () => api.uploads[0].resolve());
  await waitFor(() => expect(api.watchers.length).toBe(1));
  return api.watchers[0];
}
