#!/usr/bin/env node
// End-to-end test of the web page: a real `surroundyou serve` on a free loopback port with a
// temporary data dir, Debian's chromium driven by playwright-core (no browser download).
//   --case convert: upload a generated 10 s song, watch progress reach its 30-s preview, see the
//                   report in words and the original turned down to the 8D loudness (A/B),
//                   convert the whole song from the same upload, play it, switch A/B, download;
//                   the file must decode and its level difference between the ears must swing
//                   back and forth as the sound circles; then change a setting and render
//                   again, still without a second upload.
//   --case broken:  upload a file that is not audio and see the error in words.
//   --case curves:  under "Advanced" (opened with the keyboard) a period curve, first with a
//                   mistake the page explains and holds the song back for, then fixed: the
//                   job stores the curve, the card shows it, and the whole song turns fast
//                   while the curve says 2 s and slowly after it says 10 s.
//   --case expired: the upload reaches the store after its presigned URL expired (a 1 s
//                   lifetime, the PUT held back by the test): the page says the link expired.
//   --rgw-env FILE: the service stores in a bucket on the Ceph RGW of tests/scaleout/start_rgw.sh.
// Screenshots of each step go to <artifacts>/screenshots/, numbers to <artifacts>/web-metrics.json.
import crypto from 'node:crypto';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const testCase = args.case || 'convert';
const binary = path.resolve(args.binary || 'build/surroundyou');
const webDir = path.resolve(args['web-dir'] || 'web');
const artifacts = path.resolve(args.artifacts || 'artifacts');
const shots = path.join(artifacts, 'screenshots');
fs.mkdirSync(shots, { recursive: true });

const require = createRequire(path.join(webDir, 'package.json'));
const { chromium } = require('playwright-core');

// Script errors and console errors (a Content-Security-Policy violation lands here too).
const consoleErrors = [];
let blockedStream = false; // set while the test cuts the event stream on purpose
let expectedRefusal = null; // the console line of a refusal the test provokes on purpose

function log(...a) {
  console.log(`[web_e2e ${testCase}]`, ...a);
}
function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
  log('ok:', what);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startServer(dataDir, env = {}) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = spawn(binary, ['serve', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, '--workers', '1'], {
    stdio: ['ignore', 'ignore', fs.openSync(path.join(dataDir, 'serve.log'), 'a')],
    env: { ...process.env, ...env },
  });
  const exited = new Promise((resolve) => server.once('exit', (code, signal) => resolve({ code, signal })));
  for (let i = 0; i < 200; i++) {
    if (server.exitCode !== null) throw new Error(`serve exited early (${server.exitCode})`);
    try {
      const r = await fetch(`${base}/readyz`);
      if (r.ok) return { server, base, exited };
    } catch (e) {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  server.kill('SIGTERM');
  throw new Error('serve did not become ready');
}

function ffmpeg(argv) {
  return execFileSync('ffmpeg', ['-v', 'error', '-y', ...argv], { maxBuffer: 512 * 1024 * 1024 });
}

// Integrated loudness (EBU R128) of a file as ffmpeg's ebur128 filter measures it.
function loudnessOf(file) {
  const run = spawnSync('ffmpeg', ['-nostats', '-i', file, '-af', 'ebur128', '-f', 'null', '-'], { encoding: 'utf8' });
  return Number(/I:\s+(-?[\d.]+) LUFS/.exec(run.stderr.split('Summary:')[1])[1]);
}

// Per-250 ms level difference between the ears (dB) of a decoded file.
function earLevelDifference(file) {
  const raw = execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'f32le', '-ac', '2', '-ar', '44100', '-'], {
    maxBuffer: 512 * 1024 * 1024,
  });
  const samples = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
  const block = 44100 / 4;
  const ild = [];
  for (let start = 0; start + block * 2 <= samples.length; start += block * 2) {
    let l = 0;
    let r = 0;
    for (let i = start; i < start + block * 2; i += 2) {
      l += samples[i] * samples[i];
      r += samples[i + 1] * samples[i + 1];
    }
    ild.push(10 * Math.log10((l + 1e-12) / (r + 1e-12)));
  }
  return { ild, seconds: samples.length / 2 / 44100 };
}

async function launch() {
  // playwright-core gives chromium a fresh temporary profile (user-data-dir) of its own.
  const profile = null;
  const browser = await chromium.launch({
    executablePath: process.env.SY_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--autoplay-policy=no-user-gesture-required', '--mute-audio',
    ],
  });
  return { browser, profile };
}

async function shot(page, name) {
  const file = path.join(shots, `${testCase}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  log('screenshot', path.relative(process.cwd(), file));
}

// Menus whose longest choice does not fit beside the arrow. A <select> never scrolls, so its
// scrollWidth cannot tell: the text is measured in the select's own font against its content
// box less the arrow (about 20 px in Chromium; 24 allowed).
async function cutMenus(page) {
  return page.evaluate(() => {
    const ctx = document.createElement('canvas').getContext('2d');
    const cut = [];
    for (const select of document.querySelectorAll('select')) {
      const style = getComputedStyle(select);
      ctx.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
      const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 24;
      for (const option of select.options) {
        const width = ctx.measureText(option.text).width;
        if (width > room) cut.push(`"${option.text}" (${Math.round(width)} px in ${Math.round(room)})`);
      }
    }
    return cut;
  });
}

async function openPage(browser, base, viewport) {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  const page = await context.newPage();
  const assets = [];
  page.on('response', async (res) => {
    const url = res.url();
    if (/\/assets\/.*\.(js|css)$/.test(url)) {
      try {
        assets.push({ url, raw: (await res.body()).length, gz: zlib.gzipSync(await res.body(), { level: 9 }).length });
      } catch (e) {
        // the body may be gone if the page navigated
      }
    }
  });
  page.on('pageerror', (e) => {
    log('page error:', e.message);
    consoleErrors.push(e.message);
  });
  page.on('console', (m) => {
    const provoked = (blockedStream && /ERR_FAILED/.test(m.text())) || (expectedRefusal && expectedRefusal.test(m.text()));
    if (m.type() === 'error' && !provoked) {
      log('console error:', m.text());
      consoleErrors.push(m.text());
    }
  });
  await page.goto(base + '/', { waitUntil: 'load' });
  await page.waitForSelector('[data-ready="true"]');
  const tti = await page.evaluate(() => {
    const m = performance.getEntriesByName('sy-interactive')[0];
    const nav = performance.getEntriesByType('navigation')[0];
    return { interactiveMs: m ? m.startTime : NaN, loadMs: nav ? nav.loadEventEnd : NaN };
  });
  return { context, page, assets, tti };
}

async function convertCase(browser, base, tmp) {
  const song = path.join(tmp, 'song.mp3');
  // 10 s of stereo pink noise: every frequency present, so the ear cues show in the levels.
  // Mastered loud (about -10 LUFS), as most songs are: louder than the 8D version's -14.
  ffmpeg(['-f', 'lavfi', '-i', 'anoisesrc=color=pink:duration=10:amplitude=0.8:seed=7', '-af', 'volume=8dB,alimiter=limit=0.95',
          '-ac', '2', '-ar', '44100', '-b:a', '192k', song]);
  const originalLufs = loudnessOf(song);

  // Page weight and time to interactive: median of five loads, each in a fresh context
  // (empty cache).
  const loads = [];
  let weight = null;
  for (let i = 0; i < 5; i++) {
    const ctx = await openPage(browser, base, { width: 1280, height: 900 });
    loads.push(ctx.tti.interactiveMs);
    if (!weight) {
      await ctx.page.waitForTimeout(200);
      weight = ctx.assets;
    }
    await ctx.context.close();
  }
  loads.sort((a, b) => a - b);

  // Phone-sized first look.
  const phone = await openPage(browser, base, { width: 390, height: 844 });
  await shot(phone.page, '01-phone-start');
  const phoneCut = await cutMenus(phone.page);
  check(phoneCut.length === 0, `every menu choice shows whole on a phone${phoneCut.length ? ': ' + phoneCut.join(', ') : ''}`);
  await phone.context.close();

  const { context, page } = await openPage(browser, base, { width: 1280, height: 900 });
  const apiCalls = [];
  let uploads = 0;
  const rerenderBodies = [];
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.pathname.startsWith('/api/v1/jobs')) apiCalls.push(`${r.method()} ${u.pathname.replace(/[0-9a-f]{32}/, '{id}')}`);
    if (r.method() === 'PUT' && u.pathname.startsWith('/store/uploads/')) uploads++;
    if (u.pathname.endsWith('/rerender')) rerenderBodies.push(JSON.parse(r.postData() || '{}'));
  });
  await shot(page, '01-desktop-start');
  const desktopCut = await cutMenus(page);
  check(desktopCut.length === 0, `every menu choice shows whole at 1280 px${desktopCut.length ? ': ' + desktopCut.join(', ') : ''}`);
  const headers = await fetch(base + '/').then((r) => ({ type: r.headers.get('content-type'), cache: r.headers.get('cache-control') }));
  check(headers.type.startsWith('text/html') && headers.cache === 'no-cache', `/ is served as HTML (${headers.type}), revalidated`);
  const script = weight.find((w) => w.url.endsWith('.js'));
  const asset = await fetch(script.url);
  check(
    asset.headers.get('content-type').startsWith('text/javascript') && /immutable/.test(asset.headers.get('cache-control')),
    `hashed assets are JavaScript, cached for good (${asset.headers.get('cache-control')})`,
  );
  check((await fetch(base + '/assets/nope.js')).status === 404, 'an unknown asset is 404');

  // Faster rotation so 10 s hold 2.5 turns: set with the keyboard (Home = 2 s, two steps up).
  const period = page.getByLabel('Rotation period');
  await period.focus();
  await page.keyboard.press('Home');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  check((await period.inputValue()) === '4', 'rotation period set to 4 s with the keyboard');
  // One source, no room: the level difference between the ears is the rotation alone.
  for (const name of ['Stereo width', 'Room']) {
    await page.getByLabel(name).focus();
    await page.keyboard.press('Home');
  }

  const picked = Date.now();
  await page.setInputFiles('[data-testid="file-input"]', song);
  const phases = new Set();
  const seenProgress = [];
  const deadline = Date.now() + 180000;
  let shotProcessing = false;
  for (;;) {
    // One atomic read: the progress bar comes and goes with the phase.
    const now = await page.evaluate(() => {
      const card = document.querySelector('[data-testid="job"]');
      const bar = card && card.querySelector('[role="progressbar"]');
      return { phase: card ? card.dataset.phase : 'none', progress: bar ? Number(bar.getAttribute('aria-valuenow')) : null };
    });
    const { phase } = now;
    phases.add(phase);
    if (now.progress !== null) seenProgress.push(now.progress);
    if (phase === 'processing' && !shotProcessing) {
      await shot(page, '02-processing');
      shotProcessing = true;
    }
    if (phase === 'done' || phase === 'error') break;
    if (Date.now() > deadline) throw new Error('the job did not finish in 180 s');
    await page.waitForTimeout(100);
  }
  log('phases seen:', [...phases].join(' → '), 'progress values seen:', seenProgress.length);
  check(phases.has('done'), 'the job reached done');
  const pickToDoneMs = Date.now() - picked;
  log(`file picked → preview offered in ${pickToDoneMs} ms`);
  await page.getByTestId('download').waitFor();
  check(/30-second preview/.test(await page.getByTestId('render-kind').innerText()), 'the first result is the 30-s preview');
  const previewName = await page.getByTestId('download').getAttribute('download');
  check(previewName === 'song (8D preview).mp3', `the preview is "${previewName}" (the file's own format, kept)`);
  await shot(page, '03-preview-done');

  // The report in words, and the original turned down to the 8D version's loudness.
  const words = await page.getByTestId('report').innerText();
  log('report:', words);
  const lufs8d = Number(/([\u2212-]?[\d.]+) LUFS/.exec(words)[1].replace('\u2212', '-'));
  check(Math.abs(lufs8d + 14) <= 0.3 && /peaks [\u2212-][\d.]+ dBTP/.test(words) && /mono-safe|thins out in mono/.test(words),
        `the report reads "${words}"`);
  const volume = Number(await page.getByTestId('audio-original').getAttribute('data-volume'));
  const expected = 10 ** ((lufs8d - originalLufs) / 20);
  check(Math.abs(20 * Math.log10(volume / expected)) < 0.5,
        `A/B at equal loudness: the original (${originalLufs.toFixed(1)} LUFS by ffmpeg) plays at ${(20 * Math.log10(volume)).toFixed(1)} dB, ` +
        `${(lufs8d - originalLufs).toFixed(1)} dB wanted`);
  const elementVolume = await page.evaluate(() => document.querySelector('[data-testid="audio-original"]').volume);
  check(Math.abs(elementVolume - volume) < 1e-3, `the audio element plays at that volume (${elementVolume.toFixed(4)})`);

  // The whole song from the same upload.
  await page.getByTestId('convert-whole').click();
  await page.locator('[data-testid="job"][data-phase="processing"]').waitFor({ timeout: 20000 }).catch(() => {});
  await page.locator('[data-testid="render-kind"]', { hasText: 'whole song' }).waitFor({ timeout: 180000 });
  check(uploads === 1, `the whole song was rendered without a second upload (${uploads} upload)`);
  check(apiCalls.includes('POST /api/v1/jobs/{id}/rerender'), 'through POST /jobs/{id}/rerender');
  await shot(page, '03-done');
  log('API calls:', apiCalls.join(', '));
  check(apiCalls.includes('GET /api/v1/jobs/{id}/events'), 'progress came from the event stream');
  check(!apiCalls.includes('GET /api/v1/jobs/{id}'), 'no polling while the stream was up');

  // Preview: play the 8D version, then switch to the original at the same position.
  await page.getByTestId('play').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="audio-8d"]').currentTime > 1, null, { timeout: 20000 });
  check(true, 'the 8D preview plays');
  await page.getByRole('radio', { name: 'Original' }).click();
  const ab = await page.evaluate(() => ({
    orig: document.querySelector('[data-testid="audio-original"]').currentTime,
    conv: document.querySelector('[data-testid="audio-8d"]').currentTime,
    origPaused: document.querySelector('[data-testid="audio-original"]').paused,
  }));
  check(Math.abs(ab.orig - ab.conv) < 0.5 && !ab.origPaused, `A/B switch keeps the position (${ab.conv.toFixed(2)} s → ${ab.orig.toFixed(2)} s) and keeps playing`);
  await shot(page, '04-playing-original');

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download').click()]);
  check(download.suggestedFilename() === 'song (8D).mp3', `download named "${download.suggestedFilename()}"`);
  const out = path.join(tmp, 'downloaded.mp3');
  await download.saveAs(out);

  const probe = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_streams', '-show_format', '-of', 'json', out]).toString());
  const stream = probe.streams.find((s) => s.codec_type === 'audio');
  check(stream && stream.codec_name === 'mp3' && stream.channels === 2, 'the download is a stereo MP3');
  const { ild, seconds } = earLevelDifference(out);
  check(Math.abs(seconds - 10) < 0.2, `it decodes to ${seconds.toFixed(2)} s`);
  // The level difference between the ears must swing both ways, 2.5 times in 10 s.
  const mean = ild.reduce((a, b) => a + b, 0) / ild.length;
  let crossings = 0;
  for (let i = 1; i < ild.length; i++) if ((ild[i - 1] - mean) * (ild[i] - mean) < 0) crossings++;
  const swing = Math.max(...ild) - Math.min(...ild);
  log('ILD per 250 ms (dB):', ild.map((v) => v.toFixed(1)).join(' '));
  check(swing > 6, `the level difference between the ears swings by ${swing.toFixed(1)} dB`);
  check(crossings >= 4 && crossings <= 8, `it changes side ${crossings} times in 10 s (2.5 turns)`);

  // Another setting, rendered again from the same upload: a slower circle.
  const periodAgain = page.getByLabel('Rotation period');
  await periodAgain.focus();
  await page.keyboard.press('End');
  const rerendersBefore = apiCalls.filter((c) => c === 'POST /api/v1/jobs/{id}/rerender').length;
  const oldUrl = await page.getByTestId('download').getAttribute('href');
  await page.getByTestId('convert-whole').click();
  await page.waitForFunction((old) => {
    const a = document.querySelector('[data-testid="download"]');
    return a && a.getAttribute('href') !== old;
  }, oldUrl, { timeout: 180000 });
  check(apiCalls.filter((c) => c === 'POST /api/v1/jobs/{id}/rerender').length === rerendersBefore + 1, 'changed settings rendered again');
  check(uploads === 1, `still one upload after rendering again (${uploads})`);
  const again = path.join(tmp, 'again.mp3');
  fs.writeFileSync(again, Buffer.from(await (await fetch(await page.getByTestId('download').getAttribute('href'))).arrayBuffer()));
  const sent = rerenderBodies[rerenderBodies.length - 1].settings;
  check(sent.period === 60 && sent.preview === undefined, `the whole song again with the new period (${JSON.stringify(sent)})`);
  check(Math.abs(earLevelDifference(again).seconds - 10) < 0.2, 'the new render decodes to the whole 10 s');
  await shot(page, '04b-rendered-again');

  // The same song again with the event stream cut off: the page must fall back to polling.
  blockedStream = true;
  await page.route('**/api/v1/jobs/*/events*', (route) => route.abort());
  apiCalls.length = 0;
  await page.setInputFiles('[data-testid="file-input"]', song);
  await page.locator('[data-testid="job"][data-phase="done"]').nth(1).waitFor({ timeout: 120000 }); // its preview
  check(apiCalls.filter((c) => c === 'GET /api/v1/jobs/{id}').length >= 1, `without the stream the page polled the status (${apiCalls.length} calls)`);
  await page.unroute('**/api/v1/jobs/*/events*');
  blockedStream = false;

  // Phone-sized view of the result.
  await page.setViewportSize({ width: 390, height: 844 });
  await shot(page, '05-phone-done');
  await context.close();

  const gz = weight.reduce((a, w) => a + w.gz, 0);
  const raw = weight.reduce((a, w) => a + w.raw, 0);
  const metrics = {
    jsCssGzipBytes: gz,
    jsCssRawBytes: raw,
    assets: weight.map((w) => ({ file: path.basename(w.url), raw: w.raw, gzip: w.gz })),
    timeToInteractiveMs: { median: loads[2], min: loads[0], runs: loads },
    pickToDoneMs,
    loadAverage: os.loadavg()[0],
  };
  fs.writeFileSync(path.join(artifacts, 'web-metrics.json'), JSON.stringify(metrics, null, 2));
  log(`page weight (gzip JS+CSS): ${(gz / 1024).toFixed(1)} kB; time to interactive: median ${loads[2].toFixed(0)} ms, min ${loads[0].toFixed(0)} ms`);
  check(gz <= 150 * 1024, 'JS+CSS gzipped within 150 kB');
}

// How often the level difference between the ears changes side within [from, to) seconds.
function sideChanges({ ild }, from, to) {
  const part = ild.slice(from * 4, to * 4); // 250 ms blocks
  const mean = part.reduce((a, b) => a + b, 0) / part.length;
  let changes = 0;
  for (let i = 1; i < part.length; i++) if ((part[i - 1] - mean) * (part[i] - mean) < 0) changes++;
  return changes;
}

async function curvesCase(browser, base, tmp) {
  const song = path.join(tmp, 'song.wav');
  ffmpeg(['-f', 'lavfi', '-i', 'anoisesrc=color=pink:duration=12:amplitude=0.5:seed=3', '-ac', '2', '-ar', '44100', song]);
  const { context, page } = await openPage(browser, base, { width: 1280, height: 900 });
  const created = [];
  const rerenderBodies = [];
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (r.method() === 'POST' && u.pathname === '/api/v1/jobs') created.push(JSON.parse(r.postData()).settings);
    if (u.pathname.endsWith('/rerender')) rerenderBodies.push(JSON.parse(r.postData()).settings);
  });
  let job = null;
  page.on('response', async (res) => {
    if (res.request().method() === 'POST' && new URL(res.url()).pathname.startsWith('/api/v1/jobs') && res.status() === 201)
      job = await res.json();
  });
  // One source, no room: the level difference between the ears is the rotation alone.
  for (const name of ['Stereo width', 'Room']) {
    await page.getByLabel(name).focus();
    await page.keyboard.press('Home');
  }

  // "Advanced" is closed; the keyboard opens it and adds three keyframes to the period.
  const advanced = page.getByTestId('advanced');
  check(!(await advanced.evaluate((d) => d.open)), 'Advanced is closed at first');
  await advanced.locator('summary').focus();
  await page.keyboard.press('Enter');
  check(await advanced.evaluate((d) => d.open), 'Enter on its summary opens Advanced');
  await page.keyboard.press('Tab');
  const focused = await page.evaluate(() => document.activeElement.textContent.trim());
  check(focused === 'Add a keyframe to rotation period', `the next Tab stop is "${focused}"`);
  for (let i = 0; i < 3; i++) await page.keyboard.press('Enter');
  const row = (i, what) => page.getByLabel(new RegExp(`^${what} of keyframe ${i} of rotation period`));
  const keys = [['0:00', '2'], ['0:05', '2'], ['0:06', '500']];
  for (const [i, [time, value]] of keys.entries()) {
    await row(i + 1, 'Time').fill(time);
    await row(i + 1, 'Value').fill(value);
  }
  const problem = page.getByTestId('curve-problem');
  check((await problem.innerText()) === 'The value must be from 1 to 120 s.', 'a value out of range is explained beside its row');
  check((await row(3, 'Value').getAttribute('aria-invalid')) === 'true', 'and the row is marked invalid');
  await page.setInputFiles('[data-testid="file-input"]', song);
  await page.getByRole('alert').filter({ hasText: 'Nothing was sent' }).waitFor();
  check(created.length === 0 && (await page.getByTestId('job').count()) === 0, 'a song dropped meanwhile is held back, nothing sent');
  await shot(page, '01-curve-mistake');

  await row(3, 'Value').fill('10');
  check((await problem.count()) === 0, 'fixed, the message goes');
  await page.setInputFiles('[data-testid="file-input"]', song);
  await page.locator('[data-testid="job"][data-phase="done"]').waitFor({ timeout: 120000 });
  const wanted = [[0, 2], [5, 2], [6, 10]];
  check(JSON.stringify(created[0].curves) === JSON.stringify({ period: wanted }), `the job was created with ${JSON.stringify(created[0].curves)}`);
  const stored = await fetch(`${base}/api/v1/jobs/${job.id}`, { headers: { Authorization: `Bearer ${job.token}` } }).then((r) => r.json());
  check(JSON.stringify(stored.settings.curves) === JSON.stringify({ period: wanted }), `the job stores the curve (${JSON.stringify(stored.settings.curves)})`);

  await page.getByTestId('convert-whole').click();
  await page.locator('[data-testid="render-kind"]', { hasText: 'whole song' }).waitFor({ timeout: 180000 });
  check(JSON.stringify(rerenderBodies[0].curves) === JSON.stringify({ period: wanted }), 'the whole song is rendered with the curve too');
  const used = await page.getByTestId('curves-used').innerText();
  check(used === 'Over time: Rotation period 2 s at 0:00, 2 s at 0:05, 10 s at 0:06.', `the card says "${used}"`);
  await shot(page, '02-curve-done');

  const out = path.join(tmp, 'curve.wav');
  fs.writeFileSync(out, Buffer.from(await (await fetch(new URL(await page.getByTestId('download').getAttribute('href'), base))).arrayBuffer()));
  const levels = earLevelDifference(out);
  check(Math.abs(levels.seconds - 12) < 0.2, `the whole song decodes to ${levels.seconds.toFixed(2)} s`);
  log('ILD per 250 ms (dB):', levels.ild.map((v) => v.toFixed(1)).join(' '));
  const fast = sideChanges(levels, 0, 5);
  const slow = sideChanges(levels, 6, 12);
  // 2.5 turns of 2 s in the first 5 s (two side changes a turn), 0.6 of a 10 s turn after 0:06.
  check(fast >= 4 && fast <= 6, `it changes side ${fast} times in the first 5 s (a turn every 2 s)`);
  check(slow <= 2, `and ${slow} times in the last 6 s (a turn every 10 s)`);
  await context.close();
}

async function brokenCase(browser, base, tmp) {
  const broken = path.join(tmp, 'broken.mp3');
  // Bytes that are no audio format at all, under an audio name.
  const bytes = Buffer.alloc(64 * 1024);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919 + 13) % 251;
  fs.writeFileSync(broken, bytes);

  const { context, page } = await openPage(browser, base, { width: 1280, height: 900 });
  // With the keyboard only: Tab past the skip link to "Choose files", Enter opens the picker.
  const chooserShown = page.waitForEvent('filechooser'); // intercept before anything can open it
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  const focused = await page.evaluate(() => document.activeElement.textContent.trim());
  check(focused === 'Choose files', `the second Tab stop is "${focused}"`);
  await page.keyboard.press('Enter');
  const chooser = await chooserShown;
  await chooser.setFiles(broken);
  const alert = page.getByTestId('error');
  await alert.waitFor({ timeout: 120000 });
  check((await alert.getAttribute('role')) === 'alert', 'the error is announced (role=alert)');
  const text = await alert.innerText();
  log('error shown:', text.replace(/\s+/g, ' '));
  check(/could not read this file as audio|not an audio file/i.test(text), 'the error says the file is not readable audio');
  check(/server said/i.test(text), "the error carries the server's reason");
  // Refused for good (not audio): the same file would fail the same way, so no Retry; the job
  // can still be removed.
  check((await page.getByRole('button', { name: 'Retry' }).count()) === 0, 'no retry button for a file that is not audio');
  check(/try another file|pick an mp3/i.test(text), 'the error says to try another file instead');
  await shot(page, '01-error');
  await page.setViewportSize({ width: 390, height: 844 });
  await shot(page, '02-phone-error');

  // The recent list survives a reload and the failed job can be deleted from it.
  await page.reload();
  await page.waitForSelector('[data-testid="recent"]');
  await page.getByRole('button', { name: /Delete/ }).first().click();
  await page.waitForSelector('[data-testid="recent"]', { state: 'detached' });
  check(true, 'the failed job is listed after a reload and deleted from the list');
  await context.close();
}

// The store behind the service: the embedded one, or with --rgw-env (the env file of
// tests/scaleout/start_rgw.sh) a bucket of its own on a real Ceph RGW.
const rgw = args['rgw-env']
  ? Object.fromEntries(fs.readFileSync(args['rgw-env'], 'utf8').split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]))
  : null;
const bucket = `sy-web-${testCase}-${process.pid}`;

// A SigV4 query-signed RGW request (the bucket set-up has no client library on Debian's Node).
async function rgwRequest(method, target, body = '') {
  const url = new URL(rgw.RGW_ENDPOINT + target);
  const amzDate = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
  const scope = `${amzDate.slice(0, 8)}/us-east-1/s3/aws4_request`;
  url.searchParams.set('X-Amz-Algorithm', 'AWS4-HMAC-SHA256');
  url.searchParams.set('X-Amz-Credential', `${rgw.RGW_ACCESS_KEY}/${scope}`);
  url.searchParams.set('X-Amz-Date', amzDate);
  url.searchParams.set('X-Amz-Expires', '60');
  url.searchParams.set('X-Amz-SignedHeaders', 'host');
  const enc = (v) => encodeURIComponent(v).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const query = [...url.searchParams].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
  const canonical = [method, url.pathname, query, `host:${url.host}`, '', 'host', 'UNSIGNED-PAYLOAD'].join('\n');
  const hmac = (key, data) => crypto.createHmac('sha256', key).update(data).digest();
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, crypto.createHash('sha256').update(canonical).digest('hex')].join('\n');
  let key = `AWS4${rgw.RGW_SECRET_KEY}`;
  for (const part of scope.split('/')) key = hmac(key, part);
  const signature = hmac(key, toSign).toString('hex');
  const headers = body ? { 'Content-MD5': crypto.createHash('md5').update(body).digest('base64') } : {};
  const res = await fetch(`${url.origin}${url.pathname}?${query}&X-Amz-Signature=${signature}`, { method, headers, body: body || undefined });
  const text = await res.text();
  if (!res.ok) throw new Error(`RGW ${method} ${target}: ${res.status} ${text}`);
  return text;
}

// The bucket the service uses.
async function rgwBucket() {
  await rgwRequest('PUT', `/${bucket}`);
  return {
    SY_STORAGE_BACKEND: 's3',
    SY_S3_ENDPOINT: rgw.RGW_ENDPOINT,
    SY_S3_BUCKET: bucket,
    SY_S3_PATH_STYLE: 'true',
    SY_S3_ACCESS_KEY: rgw.RGW_ACCESS_KEY,
    SY_S3_SECRET_KEY: rgw.RGW_SECRET_KEY,
  };
}

// The CORS rule a deployment applies (deploy/s3-cors.xml), for the page's origin here, and
// RGW's answer to the page's preflight: its origin allowed, another one not.
async function rgwCors(origin) {
  const rule = fs.readFileSync(new URL('../../deploy/s3-cors.xml', import.meta.url), 'utf8');
  const mine = rule.replace(/<AllowedOrigin>[^<]*<\/AllowedOrigin>/, `<AllowedOrigin>${origin}</AllowedOrigin>`);
  check(mine !== rule, 'deploy/s3-cors.xml names an origin to replace');
  await rgwRequest('PUT', `/${bucket}?cors=`, mine);
  const preflight = (from) =>
    new Promise((resolve, reject) => {
      const url = new URL(`${rgw.RGW_ENDPOINT}/${bucket}/uploads/x/song.wav`);
      const req = http.request(url, {
        method: 'OPTIONS',
        headers: { Origin: from, 'Access-Control-Request-Method': 'PUT', 'Access-Control-Request-Headers': 'content-type' },
      }, (res) => {
        res.resume();
        resolve(res.headers['access-control-allow-origin'] || null);
      });
      req.on('error', reject);
      req.end();
    });
  check((await preflight(origin)) === origin, "RGW allows the page's PUT with its Content-Type");
  check((await preflight('http://elsewhere.invalid')) === null, 'RGW allows no other origin');
}

async function expiredCase(browser, base, tmp) {
  const song = path.join(tmp, 'song.wav');
  ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=440:duration=2', '-ac', '2', '-ar', '44100', song]);
  const { context, page } = await openPage(browser, base, { width: 1280, height: 900 });
  // The PUT leaves the browser only after the link's 1 s lifetime, as on a slow or paused
  // connection; it then reaches the real store unchanged, which refuses it.
  let putStatus = null;
  const storePath = rgw ? `/${bucket}/` : '/store/';
  await page.route(`**${storePath}**`, async (route) => {
    if (route.request().method() === 'PUT') await new Promise((r) => setTimeout(r, 2500));
    await route.continue();
  });
  page.on('response', (res) => {
    if (res.request().method() === 'PUT' && new URL(res.url()).pathname.startsWith(storePath)) putStatus = res.status();
  });
  let putBlocked = false; // RGW's 403 without CORS headers reaches the page as a failed request
  page.on('requestfailed', (req) => {
    if (req.method() === 'PUT' && new URL(req.url()).pathname.startsWith(storePath)) putBlocked = true;
  });
  // RGW adds no CORS headers to its 403, so the browser also logs the blocked answer.
  expectedRefusal = rgw ? /status of 403|CORS policy|ERR_FAILED/ : /status of 403/;
  await page.setInputFiles('[data-testid="file-input"]', song);
  const alert = page.getByTestId('error');
  await alert.waitFor({ timeout: 60000 });
  const text = await alert.innerText();
  log('error shown:', text.replace(/\s+/g, ' '));
  if (rgw) {
    check(putBlocked, 'the browser hid RGW\'s answer to the late upload');
    check(!/<Key>/.test(await rgwRequest('GET', `/${bucket}?prefix=uploads%2F`)), 'RGW refused it: no upload in the bucket');
  } else {
    check(putStatus === 403, `the store refused the late upload (${putStatus})`);
  }
  check(/link expired/i.test(text), 'the page says the link expired');
  // The lifetime the service was configured with (SY_UPLOAD_URL_SECONDS=1), not a fixed one.
  check(/valid for 1 second\b/.test(text), 'the page names the configured link lifetime');
  check((await page.getByRole('button', { name: 'Retry' }).count()) === 1, 'a retry button is offered');
  await shot(page, '01-link-expired');
  await context.close();
}

async function main() {
  check(fs.existsSync(binary), `binary ${binary} exists`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-web-e2e-'));
  const data = path.join(tmp, 'data');
  fs.mkdirSync(data);
  // A presigned upload URL that outlives its request by a second only, for the expired case.
  const env = testCase === 'expired' ? { SY_UPLOAD_URL_SECONDS: '1' } : {};
  if (rgw) Object.assign(env, await rgwBucket());
  const { server, base, exited } = await startServer(data, env);
  if (rgw) await rgwCors(base);
  log('serve at', base);
  let browser;
  let profile;
  let failed = null;
  try {
    ({ browser, profile } = await launch());
    if (testCase === 'convert') await convertCase(browser, base, tmp);
    else if (testCase === 'broken') await brokenCase(browser, base, tmp);
    else if (testCase === 'curves') await curvesCase(browser, base, tmp);
    else if (testCase === 'expired') await expiredCase(browser, base, tmp);
    else throw new Error(`unknown case ${testCase}`);
    check(consoleErrors.length === 0, 'no script or console errors on the page');
  } catch (e) {
    failed = e;
  } finally {
    if (browser) await browser.close();
    server.kill('SIGTERM');
    await exited;
    if (failed) {
      log('serve log tail:\n' + fs.readFileSync(path.join(data, 'serve.log'), 'utf8').split('\n').slice(-15).join('\n'));
    }
    fs.rmSync(tmp, { recursive: true, force: true });
    if (profile) fs.rmSync(profile, { recursive: true, force: true });
  }
  if (failed) {
    console.error(`[web_e2e ${testCase}] FAILED:`, failed.stack || failed.message);
    process.exit(1);
  }
  log('passed');
}

main();
