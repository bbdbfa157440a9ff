import { describe, expect, it, vi } from 'vitest';
import { integratedLoudness, RATE } from './loudness.js';
import { matchedVolume, reportInWords, tempoInWords } from './report.js';
import { checkFile, checkDuration, MAX_UPLOAD_BYTES, formatBytes } from './limits.js';
import { sourceAngle, toXY } from './orbit.js';
import { describeError, describeFailedJob, stageInWords } from './messages.js';
import { loadRecent, rememberJob, forgetJob, RETENTION_MS } from './recentJobs.js';
import { watchJob } from './api.js';

const fakeFile = (name, size) => ({ name, size });

describe('limits', () => {
  it('refuses files over the upload limit and names both sizes', () => {
    const err = checkFile(fakeFile('big.wav', MAX_UPLOAD_BYTES + 1));
    expect(err.code).toBe('too_large');
    expect(err.detail).toContain(formatBytes(MAX_UPLOAD_BYTES));
    expect(checkFile(fakeFile('ok.wav', MAX_UPLOAD_BYTES))).toBeNull();
  });
  it('refuses names that are not audio, in any case', () => {
    expect(checkFile(fakeFile('notes.txt', 10)).code).toBe('not_audio');
    expect(checkFile(fakeFile('noext', 10)).code).toBe('not_audio');
    expect(checkFile(fakeFile('Song.FLAC', 10))).toBeNull();
    expect(checkFile(fakeFile('empty.mp3', 0)).code).toBe('empty');
  });
  it('refuses songs over 30 minutes, lets unknown durations through', () => {
    expect(checkDuration(fakeFile('a.mp3', 1), 30 * 60 + 1).code).toBe('too_long');
    expect(checkDuration(fakeFile('a.mp3', 1), 30 * 60)).toBeNull();
    expect(checkDuration(fakeFile('a.mp3', 1), NaN)).toBeNull();
  });
});

describe('orbit', () => {
  it('turns once per period, clockwise through the right ear', () => {
    const s = { period: 8, direction: 'cw' };
    const [x, y] = toXY(sourceAngle(2, s), 1, 0, 0); // a quarter turn
    expect(x).toBeCloseTo(1, 6); // right
    expect(y).toBeCloseTo(0, 6);
    expect(sourceAngle(8, s)).toBeCloseTo(2 * Math.PI, 9);
  });
  it('counter-clockwise reaches the left ear first', () => {
    const [x] = toXY(sourceAngle(2, { period: 8, direction: 'ccw' }), 1, 0, 0);
    expect(x).toBeCloseTo(-1, 6);
  });
  it('legacy swings between the ears without going round', () => {
    const angles = Array.from({ length: 100 }, (_, i) => sourceAngle(i * 0.16, { period: 8, trajectory: 'legacy' }));
    expect(Math.max(...angles)).toBeLessThanOrEqual(Math.PI / 2 + 1e-9);
    expect(Math.min(...angles)).toBeGreaterThanOrEqual(-Math.PI / 2 - 1e-9);
  });
});

describe('messages', () => {
  it('says what went wrong in words', () => {
    expect(describeError({ status: 413, code: 'too_large' }).title).toMatch(/too large/);
    expect(describeError({ status: 415, code: 'unsupported_media_type' }, 'x.txt').title).toMatch(/not an audio file/);
    expect(describeError({ status: 403, code: 'ExpiredRequest' }).title).toMatch(/expired/);
    expect(describeError({ status: 0, code: 'network' }).retry).toBe(true);
    expect(describeError({ status: 500, code: 'internal', message: 'boom' }).detail).toContain('boom');
  });
  it('keeps the server reason of a failed job', () => {
    const d = describeFailedJob({ status: 'failed', error: 'could not decode audio: Invalid data found' });
    expect(d.title).toMatch(/could not read this file/);
    expect(d.detail).toContain('Invalid data found');
    // the worker's own wording for a file that is not audio
    const w = describeFailedJob({ status: 'failed', error: 'cannot read the file: it is damaged or not a supported audio file' });
    expect(w.title).toMatch(/could not read this file/);
    // and its other sentences for files that are not whole audio
    for (const error of [
      'not an audio file (the format is not recognised)',
      'not an audio file (it is text)',
      'the file is truncated: it ends after 12.5 s of the 48.1 s its header declares',
      "the audio stream's header is implausible (blocks of 9999999 samples)",
    ])
      expect(describeFailedJob({ status: 'failed', error }).title, error).toMatch(/could not read this file/);
    expect(describeFailedJob({ status: 'failed', error: 'disk full' }).title).toMatch(/conversion failed/);
    expect(describeFailedJob({ status: 'expired' }).title).toMatch(/expired/);
  });
  it('offers Retry only when the server says a retry can help', () => {
    const notAudio = 'not an audio file (the format is not recognised)';
    expect(describeFailedJob({ status: 'failed', error: notAudio, attempts: 1, maxAttempts: 3, retryable: false }).retry).toBe(false);
    expect(describeFailedJob({ status: 'failed', error: 'bitrate must be 32k to 320k', retryable: false }).retry).toBe(false);
    expect(describeFailedJob({ status: 'failed', error: 'the file made the decoder fail', retryable: true }).retry).toBe(true);
    expect(describeFailedJob({ status: 'failed', error: 'disk full' }).retry).toBe(true);
  });
  it('names stages', () => {
    expect(stageInWords({ status: 'processing', stage: 'rendering' })).toMatch(/around your head/);
    expect(stageInWords({ status: 'queued' })).toMatch(/In line/);
  });
});

describe('recent jobs', () => {
  it('remembers, forgets and drops entries older than the retention', () => {
    rememberJob({ id: 'a', token: 't', filename: 'a.mp3', createdAt: Date.now() });
    rememberJob({ id: 'b', token: 't', filename: 'b.mp3', createdAt: Date.now() - RETENTION_MS - 1 });
    expect(loadRecent().map((j) => j.id)).toEqual(['a']);
    forgetJob('a');
    expect(loadRecent()).toEqual([]);
  });
});

class FakeEventSource {
  static last = null;
  constructor(url) {
    this.url = url;
    this.listeners = {};
    this.closed = false;
    FakeEventSource.last = this;
  }
  addEventListener(type, fn) {
    this.listeners[type] = fn;
  }
  emit(type, data) {
    this.listeners[type]({ data: JSON.stringify(data) });
  }
  close() {
    this.closed = true;
  }
}

describe('watchJob', () => {
  it('follows the event stream with the token in the query and stops at a final status', () => {
    const seen = [];
    watchJob('abc', 'tok en', { onUpdate: (j) => seen.push(j.status), EventSourceImpl: FakeEventSource });
    const es = FakeEventSource.last;
    expect(es.url).toBe('/api/v1/jobs/abc/events?token=tok%20en');
    es.emit('status', { status: 'processing', progress: 0.5 });
    es.emit('status', { status: 'done', progress: 1 });
    expect(seen).toEqual(['processing', 'done']);
    expect(es.closed).toBe(true);
  });
  it('falls back to polling when the stream drops', async () => {
    vi.useFakeTimers();
    const replies = [{ status: 'processing', progress: 0.7 }, { status: 'done', progress: 1 }];
    const fetchMock = vi.fn(async (url, opts) => {
      expect(opts.headers.Authorization).toBe('Bearer tok');
      return { ok: true, status: 200, json: async () => replies.shift() };
    });
    vi.stubGlobal('fetch', fetchMock);
    const seen = [];
    watchJob('abc', 'tok', { onUpdate: (j) => seen.push(j.status), EventSourceImpl: FakeEventSource, pollMs: 1000 });
    const es = FakeEventSource.last;
    es.onerror();
    expect(es.closed).toBe(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(seen).toEqual(['processing']);
    await vi.advanceTimersByTimeAsync(1000);
    expect(seen).toEqual(['processing', 'done']);
    await vi.advanceTimersByTimeAsync(5000);
    expect(fetchMock).toHaveBeenCalledTimes(2);
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });
});

describe('report and loudness', () => {
  it('says the report in words', () => {
    expect(reportInWords({ integratedLufs: -14.02, truePeakDbtp: -1.21, correlation: 0.3 })).toBe('\u221214.0 LUFS, peaks \u22121.2 dBTP, mono-safe');
    expect(reportInWords({ integratedLufs: -14, truePeakDbtp: -1, correlation: -0.2 })).toMatch(/thins out in mono$/);
    expect(reportInWords({ integratedLufs: null, truePeakDbtp: null, correlation: null })).toBe('');
    expect(reportInWords(undefined)).toBe('');
  });

  it('says the tempo the turns follow, or why there is none', () => {
    expect(tempoInWords({ integratedLufs: -14, tempoBpm: 119.6 })).toBe('Tempo 120 BPM: the turns follow the beat.');
    expect(tempoInWords({ integratedLufs: -14, note: 'no clear beat found: turning once every 8 s instead' })).toBe(
      'No clear beat found: turning once every 8 s instead.',
    );
    expect(tempoInWords({ integratedLufs: -14 })).toBe('');
    expect(tempoInWords(undefined)).toBe('');
  });

  it('turns a louder original down to the 8D loudness and says when a quieter one cannot be raised', () => {
    expect(matchedVolume(-8, { integratedLufs: -14 }).volume).toBeCloseTo(0.501, 3);
    expect(matchedVolume(-8, { integratedLufs: -14 }).matched).toBe(true);
    const quiet = matchedVolume(-20, { integratedLufs: -14 });
    expect(quiet.volume).toBe(1);
    expect(quiet.short).toBeCloseTo(6, 5);
    expect(matchedVolume(NaN, { integratedLufs: -14 }).volume).toBe(1);
  });

  it('measures a 1 kHz sine at -20 dBFS (each channel) as -20 LUFS, as EBU Tech 3341 case 1 has it', () => {
    // Case 1 of Tech 3341: a stereo 1 kHz sine peaking at -23 dBFS reads -23 LUFS; 3 dB up, -20.
    const amplitude = 10 ** (-20 / 20);
    const sine = new Float32Array(RATE * 5).map((_, i) => amplitude * Math.sin((2 * Math.PI * 1000 * i) / RATE));
    const lufs = integratedLoudness([sine, sine]);
    expect(lufs).toBeGreaterThan(-20.2);
    expect(lufs).toBeLessThan(-19.8);
    expect(integratedLoudness([new Float32Array(RATE), new Float32Array(RATE)])).toBe(-Infinity);
  });
});
