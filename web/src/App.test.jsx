import { describe, expect, it, vi } from 'vitest';
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import App from './App.jsx';
import ABPlayer from './components/ABPlayer.jsx';
import { rememberJob, loadRecent } from './recentJobs.js';
import { MAX_UPLOAD_BYTES } from './limits.js';
import { addSong, audioFile, dropFiles, fakeApi, renderApp, watchedSong } from './testing.jsx';

describe('App', () => {
  it('sends beat sync, fade and the voice choice with the job', async () => {
    const api = await renderApp();
    expect(screen.queryByLabelText('Beats per turn')).toBeNull();
    fireEvent.click(screen.getByLabelText('Move with the beat'));
    fireEvent.change(screen.getByLabelText('Beats per turn'), { target: { value: '8' } });
    fireEvent.change(screen.getByLabelText('Fade in and out'), { target: { value: '4' } });
    fireEvent.click(screen.getByLabelText('In front'));
    expect(await addSong(api, 'Beat.mp3')).toMatchObject({ beatsPerTurn: 8, fade: 4, vocals: 'center' });
  });

  it('sends beat sync off unless it is switched on, and no curves unless some are set', async () => {
    const api = await renderApp();
    const sent = await addSong(api, 'Plain.mp3');
    expect(sent).toMatchObject({ beatsPerTurn: 0, fade: 0, vocals: 'circle' });
    expect(sent.curves).toBeUndefined();
  });

  it('uploads with progress, follows processing and offers the result', async () => {
    const api = await renderApp();
    fireEvent.change(screen.getByLabelText('Rotation period'), { target: { value: '12' } });
    await dropFiles([audioFile('My Song.mp3', 4000)]);

    await waitFor(() => expect(api.uploads.length).toBe(1));
    expect(api.created[0].settings).toMatchObject({ preset: 'classic', period: 12, direction: 'cw', format: 'keep', preview: { seconds: 30 } });
    await act(async () => api.uploads[0].onProgress(1000, 4000));
    const bar = screen.getByRole('progressbar', { name: 'Upload of My Song.mp3' });
    expect(bar.getAttribute('aria-valuenow')).toBe('25');

    await act(async () => api.uploads[0].resolve());
    await waitFor(() => expect(api.watchers.length).toBe(1));
    expect(api.watchers[0].token).toBe('tok-job1');
    await act(async () => api.watchers[0].onUpdate({ status: 'processing', stage: 'rendering', progress: 0.42 }));
    expect(screen.getByTestId('stage').textContent).toMatch(/around your head/);
    expect(screen.getByRole('progressbar', { name: 'Conversion of My Song.mp3' }).getAttribute('aria-valuenow')).toBe('42');

    await act(async () =>
      api.watchers[0].onUpdate({
        status: 'done', progress: 1, stage: 'done',
        result: { url: '/store/processed/job1/My%20Song%20(8D).mp3', filename: 'My Song (8D).mp3', bytes: 5000, expiresAt: new Date(Date.now() + 3600e3).toISOString() },
      }),
    );
    const link = screen.getByTestId('download');
    expect(link.getAttribute('download')).toBe('My Song (8D).mp3');
    expect(link.getAttribute('href')).toBe('/store/processed/job1/My%20Song%20(8D).mp3');
    expect(screen.getByText(/Headphones on/)).toBeTruthy();
    expect(loadRecent().map((e) => e.id)).toEqual(['job1']);
  });

  it('previews first, then converts the whole song and renders again from the same upload', async () => {
    const api = await renderApp();
    const watcher = await watchedSong(api, audioFile('Song.mp3', 4000));
    const report = { integratedLufs: -14, truePeakDbtp: -1.2, loudnessRange: 5, correlation: 0.4, rotationDepthDb: 14 };
    const done = (id) => ({ status: 'done', progress: 1, result: { url: `/store/processed/${id}/x`, filename: 'x', bytes: 10, report } });
    await act(async () => watcher.onUpdate(done('job1')));

    expect(screen.getByTestId('render-kind').textContent).toMatch(/30-second preview/);
    expect(screen.getByTestId('report').textContent).toContain('\u221214.0 LUFS, peaks \u22121.2 dBTP, mono-safe');
    // The original measured -9 LUFS: played 5 dB down to meet the 8D version's -14.
    expect(Number(screen.getByTestId('audio-original').dataset.volume)).toBeCloseTo(10 ** (-5 / 20), 3);

    await act(async () => fireEvent.click(screen.getByTestId('convert-whole')));
    await waitFor(() => expect(api.rerendered.length).toBe(1));
    expect(api.rerendered[0]).toMatchObject({ id: 'job1', token: 'tok-job1' });
    expect(api.rerendered[0].settings.preview).toBeUndefined();
    expect(api.uploadFile).toHaveBeenCalledTimes(1);
    await waitFor(() => expect(api.watchers.length).toBe(2));
    expect(api.watchers[1].token).toBe('tok-re1');
    await act(async () => api.watchers[1].onUpdate(done('re1')));
    expect(screen.getByTestId('render-kind').textContent).toMatch(/whole song/);
    expect(screen.queryByTestId('tempo')).toBeNull();

    fireEvent.change(screen.getByLabelText('Rotation period'), { target: { value: '20' } });
    await act(async () => fireEvent.click(screen.getByText('Render again with these settings')));
    await waitFor(() => expect(api.rerendered.length).toBe(2));
    expect(api.rerendered[1]).toMatchObject({ id: 'job1', token: 'tok-job1', settings: { period: 20 } });
    expect(api.deleted).toContain('re1');
    expect(api.deleted).not.toContain('job1');
    expect(api.uploadFile).toHaveBeenCalledTimes(1);
  });

  it('shows the tempo found with a beat-synced result, and the note without a clear beat', async () => {
    const api = await renderApp();
    await dropFiles([audioFile('Beat.mp3', 4000), audioFile('Rain.mp3', 4000)]);
    await waitFor(() => expect(api.uploads.length).toBe(2));
    await act(async () => api.uploads.forEach((u) => u.resolve()));
    await waitFor(() => expect(api.watchers.length).toBe(2));
    const result = (report) => ({ status: 'done', progress: 1, result: { url: '/store/x', filename: 'x', bytes: 10, report } });
    const base = { integratedLufs: -14, truePeakDbtp: -1.2, loudnessRange: 5, correlation: 0.4, rotationDepthDb: 14 };
    const byName = Object.fromEntries(api.created.map((c, i) => [c.file.name, api.watchers[i]]));
    await act(async () => byName['Beat.mp3'].onUpdate(result({ ...base, tempoBpm: 127.9 })));
    await act(async () => byName['Rain.mp3'].onUpdate(result({ ...base, note: 'no clear beat found: turning once every 8 s instead' })));
    const cards = screen.getAllByTestId('job');
    const card = (name) => cards.find((c) => c.textContent.includes(name));
    expect(within(card('Beat.mp3')).getByTestId('tempo').textContent).toBe('Tempo 128 BPM: the turns follow the beat.');
    expect(within(card('Rain.mp3')).getByTestId('tempo').textContent).toBe('No clear beat found: turning once every 8 s instead.');
  });

  it('takes dropped files', async () => {
    const api = fakeApi();
    render(<App api={api} />);
    const zone = screen.getByTestId('dropzone');
    await act(async () => {
      fireEvent.dragOver(zone, { dataTransfer: { files: [], dropEffect: 'none' } });
      fireEvent.drop(zone, { dataTransfer: { files: [audioFile('a.flac', 100), audioFile('b.wav', 200)] } });
    });
    await waitFor(() => expect(api.createJob).toHaveBeenCalledTimes(2));
    expect(api.created.map((c) => c.file.name).sort()).toEqual(['a.flac', 'b.wav']);
    expect(screen.getAllByTestId('job')).toHaveLength(2);
  });

  it('refuses a too-large file before uploading, and a non-audio one', async () => {
    const api = fakeApi();
    render(<App api={api} />);
    await dropFiles([audioFile('huge.wav', MAX_UPLOAD_BYTES + 1), audioFile('notes.txt', 10)]);
    const alerts = await screen.findAllByRole('alert');
    const text = alerts.map((a) => a.textContent).join(' | ');
    expect(text).toMatch(/too large/);
    expect(text).toMatch(/not an audio file/);
    expect(api.createJob).not.toHaveBeenCalled();
  });

  // A job of one dropped file that the server reports failed with `failure`; the page's alert.
  async function failedJob(name, failure) {
    const api = fakeApi();
    render(<App api={api} />);
    const watcher = await watchedSong(api, audioFile(name, 500));
    await act(async () => watcher.onUpdate({ status: 'failed', maxAttempts: 3, ...failure }));
    return { api, alert: screen.getByRole('alert') };
  }

  it('offers no Retry when the server refused the file for good', async () => {
    const { api, alert } = await failedJob('notes.mp3', { error: 'not an audio file (it is text)', attempts: 1, retryable: false });
    expect(alert.textContent).toMatch(/could not read this file as audio/);
    expect(within(alert).queryByRole('button', { name: 'Retry' })).toBeNull();
    expect(api.createJob).toHaveBeenCalledTimes(1);
  });

  it('shows the server reason of a failed job and retries with a new job', async () => {
    // Its attempts ran out (crashes, not a refusal): a new job may work.
    const { api, alert } = await failedJob('broken.mp3', {
      error: 'could not decode: Invalid data found when processing input', attempts: 3, retryable: true,
    });
    expect(alert.textContent).toMatch(/could not read this file as audio/);
    expect(alert.textContent).toMatch(/Invalid data found/);

    await act(async () => fireEvent.click(within(alert).getByRole('button', { name: 'Retry' })));
    await waitFor(() => expect(api.createJob).toHaveBeenCalledTimes(2));
    expect(api.deleted).toContain('job1');
  });

  it('says the upload link expired when the store refuses it', async () => {
    const api = fakeApi();
    render(<App api={api} />);
    await dropFiles([audioFile('late.mp3', 500)]);
    await waitFor(() => expect(api.uploads.length).toBe(1));
    await act(async () => api.uploads[0].reject(Object.assign(new Error('x'), { status: 403, code: 'ExpiredRequest' })));
    expect(screen.getByRole('alert').textContent).toMatch(/link expired/);
  });

  it('lists this browser’s recent jobs and deletes them', async () => {
    rememberJob({ id: 'old1', token: 'tok', filename: 'old.mp3', createdAt: Date.now() - 1000 });
    const api = fakeApi();
    render(<App api={api} />);
    const list = await screen.findByTestId('recent');
    await waitFor(() => expect(within(list).getByText(/Ready/)).toBeTruthy());
    expect(api.getJob).toHaveBeenCalledWith('old1', 'tok');
    await act(async () => fireEvent.click(within(list).getByRole('button', { name: /Delete/ })));
    expect(api.deleteJob).toHaveBeenCalledWith('old1', 'tok');
    await waitFor(() => expect(screen.queryByTestId('recent')).toBeNull());
    expect(loadRecent()).toEqual([]);
  });
});

describe('ABPlayer', () => {
  it('switching between original and 8D keeps the position and keeps playing', async () => {
    const play = vi.spyOn(window.HTMLMediaElement.prototype, 'play').mockImplementation(function play() {
      this.dispatchEvent(new Event('play'));
      return Promise.resolve();
    });
    const pause = vi.spyOn(window.HTMLMediaElement.prototype, 'pause').mockImplementation(() => {});
    render(<ABPlayer originalUrl="blob:orig" resultUrl="/r.mp3" settings={{ period: 8 }} title="x" />);
    const orig = screen.getByTestId('audio-original');
    const conv = screen.getByTestId('audio-8d');
    Object.defineProperty(conv, 'paused', { configurable: true, get: () => false });
    conv.currentTime = 42.5;
    await act(async () => fireEvent.click(screen.getByRole('radio', { name: 'Original' })));
    expect(orig.currentTime).toBeCloseTo(42.5, 3);
    expect(pause).toHaveBeenCalled();
    expect(play).toHaveBeenCalled();
    expect(screen.getByRole('radio', { name: 'Original' }).getAttribute('aria-checked')).toBe('true');
    play.mockRestore();
    pause.mockRestore();
  });
});
