import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import * as defaultApi from './api.js';
import { linkLifetimeSeconds } from './api.js';
import { checkFile, checkDuration, probeDuration } from './limits.js';
import { measureFileLoudness } from './loudness.js';
import { describeError, describeFailedJob } from './messages.js';
import { curveProblems } from './curves.js';
import { forgetJob, loadRecent, rememberJob, updateRecent } from './recentJobs.js';
import DropZone from './components/DropZone.jsx';
import JobCard from './components/JobCard.jsx';
import RecentJobs from './components/RecentJobs.jsx';
import SettingsPanel, { FALLBACK_PRESETS, settingsFromPreset, toApiSettings } from './components/SettingsPanel.jsx';

const defaults = { ...defaultApi, probeDuration, measureLoudness: measureFileLoudness };
let nextKey = 1;

// A song first comes back as a preview of this many seconds from its loudest part; the whole
// song and other settings are rendered from the same upload (POST /jobs/{id}/rerender).
export const PREVIEW_SECONDS = 30;

function apiSettings(settings, whole) {
  const out = toApiSettings(settings);
  if (!whole) out.preview = { seconds: PREVIEW_SECONDS };
  return out;
}

export default function App({ api = defaults }) {
  const [presets, setPresets] = useState(FALLBACK_PRESETS);
  const [settings, setSettings] = useState(() => settingsFromPreset(FALLBACK_PRESETS[0]));
  const [items, setItems] = useState([]);
  const [recent, setRecent] = useState([]);
  // Keyframes the API would refuse hold a song back; each time, "Advanced" says why.
  const problems = useMemo(() => curveProblems(settings), [settings]);
  const [attention, setAttention] = useState(0);
  const heldBack = () => {
    if (!Object.keys(problems).length) return false;
    setAttention((n) => n + 1);
    return true;
  };
  const controls = useRef(new Map()); // key -> {abort, stop}
  const itemsRef = useRef(items);
  itemsRef.current = items;

  const update = useCallback((key, patch) => {
    setItems((list) => list.map((it) => (it.key === key ? { ...it, ...(typeof patch === 'function' ? patch(it) : patch) } : it)));
  }, []);

  useEffect(() => {
    let live = true;
    api
      .getPresets()
      .then((list) => {
        if (!live || !list.length) return;
        setPresets(list);
        const classic = list.find((p) => p.name === 'classic') || list[0];
        setSettings((s) => ({ ...settingsFromPreset(classic), format: s.format }));
      })
      .catch(() => {});
    // This browser's earlier conversions: ask the server how each is doing.
    const stored = loadRecent();
    setRecent(stored.map((e) => ({ ...e, job: null })));
    stored.forEach((e) => {
      api
        .getJob(e.id, e.token)
        .then((job) => live && setRecent((list) => list.map((x) => (x.id === e.id ? { ...x, job } : x))))
        .catch((err) => {
          if (err.status === 404) {
            forgetJob(e.id);
            if (live) setRecent((list) => list.filter((x) => x.id !== e.id));
          }
        });
    });
    return () => {
      live = false;
    };
  }, [api]);

  // Follows a job of the card `key` until it is final.
  const follow = useCallback(
    (key, ctl, id, token, name) => {
      ctl.stop = api.watchJob(id, token, {
        onUpdate: (job) => {
          if (ctl.aborted) return;
          if (job.status === 'done') update(key, { phase: 'done', job });
          else if (job.status === 'failed' || job.status === 'expired') update(key, { phase: 'error', job, error: describeFailedJob(job, ctl.uploadSeconds) });
          else update(key, { phase: 'processing', job });
        },
        onGone: () => !ctl.aborted && update(key, { phase: 'error', error: describeError({ status: 404 }, name) }),
      });
    },
    [api, update],
  );

  const run = useCallback(
    async (key) => {
      const item = itemsRef.current.find((it) => it.key === key);
      if (!item) return;
      const { file } = item;
      const ctl = { aborted: false };
      controls.current.set(key, ctl);
      const fail = (error) => !ctl.aborted && update(key, { phase: 'error', error });
      update(key, { phase: 'checking', error: null, uploaded: 0, job: null, id: null });
      try {
        const early = checkFile(file);
        if (early) return fail({ ...early, retry: false });
        const duration = await api.probeDuration(file);
        if (ctl.aborted) return undefined;
        const long = checkDuration(file, duration);
        if (long) return fail({ ...long, retry: false });
        update(key, { duration: Number.isFinite(duration) ? duration : null, phase: 'creating' });

        if (api.measureLoudness)
          api.measureLoudness(file).then((lufs) => !ctl.aborted && update(key, { originalLufs: lufs }));
        const created = await api.createJob(file, apiSettings(item.settings, false));
        if (ctl.aborted) {
          api.deleteJob(created.id, created.token).catch(() => {});
          return undefined;
        }
        ctl.job = { id: created.id, token: created.token };
        ctl.uploadSeconds = created.upload ? linkLifetimeSeconds(created.upload.url) : null;
        rememberJob({ id: created.id, token: created.token, filename: file.name, createdAt: Date.now() });
        update(key, { id: created.id, token: created.token, source: { id: created.id, token: created.token }, whole: false, phase: 'uploading' });

        const upload = api.uploadFile(created.upload, file, (loaded) => update(key, { uploaded: loaded }));
        ctl.abort = upload.abort;
        await upload.promise;
        if (ctl.aborted) return undefined;
        update(key, { phase: 'processing', uploaded: file.size, job: { status: 'queued', progress: 0 } });
        follow(key, ctl, created.id, created.token, file.name);
      } catch (err) {
        if (err && err.code === 'aborted') return undefined;
        fail(describeError(err, file.name));
      }
      return undefined;
    },
    [api, update, follow],
  );

  // The same upload again: the whole song, or another preview, with the panel's settings now.
  const rerender = useCallback(
    async (key, whole, current) => {
      const item = itemsRef.current.find((it) => it.key === key);
      if (!item || !item.source) return;
      const old = controls.current.get(key);
      if (old) {
        old.aborted = true;
        if (old.stop) old.stop();
      }
      const ctl = { aborted: false };
      controls.current.set(key, ctl);
      update(key, { phase: 'processing', error: null, whole, settings: { ...current }, job: { status: 'queued', progress: 0 } });
      try {
        const created = await api.rerenderJob(item.source.id, item.source.token, apiSettings(current, whole));
        if (ctl.aborted) return;
        // A render replaced by this one is not kept; the source job holds the upload.
        if (item.id && item.id !== item.source.id) api.deleteJob(item.id, item.token).catch(() => {});
        update(key, { id: created.id, token: created.token });
        follow(key, ctl, created.id, created.token, item.name);
      } catch (err) {
        if (!ctl.aborted) update(key, { phase: 'error', error: { ...describeError(err, item.name), retry: false } });
      }
    },
    [api, update, follow],
  );

  const addFiles = useCallback(
    (files) => {
      if (heldBack()) return;
      const added = files.map((file) => ({
        key: nextKey++,
        file,
        name: file.name,
        size: file.size,
        settings: { ...settings },
        originalUrl: typeof URL.createObjectURL === 'function' ? URL.createObjectURL(file) : null,
        phase: 'checking',
        uploaded: 0,
      }));
      setItems((list) => [...added, ...list]);
      itemsRef.current = [...added, ...itemsRef.current];
      added.forEach((it) => run(it.key));
    },
    // heldBack reads `problems`, which follows `settings`.
    [settings, run],
  );

  const stopItem = (item) => {
    const ctl = controls.current.get(item.key);
    if (ctl) {
      ctl.aborted = true;
      if (ctl.abort) ctl.abort();
      if (ctl.stop) ctl.stop();
    }
    controls.current.delete(item.key);
  };

  const retry = (item) => {
    stopItem(item);
    for (const job of [item, item.source]) {
      if (job && job.id && job.token) {
        api.deleteJob(job.id, job.token).catch(() => {});
        forgetJob(job.id);
      }
    }
    update(item.key, { source: null });
    run(item.key);
  };

  const remove = (item) => {
    const busy = ['checking', 'creating', 'uploading', 'processing'].includes(item.phase);
    stopItem(item);
    if (item.id && item.token) {
      if (busy || item.phase === 'error') {
        api.deleteJob(item.id, item.token).catch(() => {});
        forgetJob(item.id);
      } else {
        // Finished: it moves to the recent list until it expires.
        const entry = loadRecent().find((e) => e.id === item.id);
        if (entry) setRecent((list) => [{ ...entry, job: item.job }, ...list.filter((x) => x.id !== item.id)]);
      }
    }
    if (item.originalUrl && typeof URL.revokeObjectURL === 'function') URL.revokeObjectURL(item.originalUrl);
    setItems((list) => list.filter((it) => it.key !== item.key));
  };

  const refreshResult = async (item, thenDownload) => {
    try {
      const job = await api.getJob(item.id, item.token);
      if (job.status === 'done') {
        update(item.key, { job });
        updateRecent(item.id, {});
        if (thenDownload && job.result) window.location.href = job.result.url;
      } else {
        update(item.key, { phase: 'error', job, error: describeFailedJob(job) });
      }
    } catch (err) {
      update(item.key, { phase: 'error', error: describeError(err, item.name) });
    }
  };

  const deleteRecent = async (entry) => {
    try {
      await api.deleteJob(entry.id, entry.token);
    } catch (err) {
      if (err.status !== 404) return;
    }
    forgetJob(entry.id);
    setRecent((list) => list.filter((x) => x.id !== entry.id));
  };

  const shownIds = new Set(items.map((it) => it.id).filter(Boolean));
  const recentShown = recent.filter((e) => !shownIds.has(e.id));

  return (
    <div className="min-h-screen bg-[radial-gradient(ellipse_at_top,_rgba(139,92,246,0.18),_transparent_60%)]">
      <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:left-4 focus:top-4 focus:rounded focus:bg-violet-500 focus:px-3 focus:py-2 focus:text-white">
        Skip to content
      </a>
      <header className="mx-auto max-w-6xl px-4 pb-2 pt-8 sm:px-6 sm:pt-12">
        <p className="text-sm font-semibold uppercase tracking-widest text-cyan-300">SurroundYou</p>
        <h1 className="mt-2 text-3xl font-bold tracking-tight text-white sm:text-4xl">
          Hear your music circle <span className="bg-gradient-to-r from-violet-400 to-cyan-300 bg-clip-text text-transparent">around your head</span>
        </h1>
        <p className="mt-3 max-w-2xl text-slate-300">
          Drop a song and get it back in 8D: rendered with measured head-related transfer functions, so the sound really moves
          in front of, beside and behind you. Put on headphones.
        </p>
      </header>
      <main id="main" className="mx-auto grid max-w-6xl gap-6 px-4 py-6 sm:px-6 lg:grid-cols-[minmax(0,1fr)_360px]">
        <div className="space-y-6">
          <DropZone onFiles={addFiles} />
          {items.length > 0 && (
            <section aria-labelledby="jobs-h">
              <h2 id="jobs-h" className="sr-only">Your songs</h2>
              <ul className="space-y-4">
                {items.map((item) => (
                  <JobCard
                    key={item.key}
                    item={item}
                    onRetry={() => retry(item)}
                    onRemove={() => remove(item)}
                    onRefreshResult={(download) => refreshResult(item, download)}
                    onPreview={() => heldBack() || rerender(item.key, false, settings)}
                    onConvertWhole={() => heldBack() || rerender(item.key, true, settings)}
                  />
                ))}
              </ul>
            </section>
          )}
          <RecentJobs entries={recentShown} onDelete={deleteRecent} />
        </div>
        <aside className="lg:sticky lg:top-6 lg:self-start">
          <SettingsPanel presets={presets} settings={settings} onChange={setSettings} problems={problems} attention={attention} />
        </aside>
      </main>
      <footer className="mx-auto max-w-6xl px-4 pb-10 text-xs text-slate-400 sm:px-6">
        Files are deleted after 24 hours. Links to your results are private to this browser.
      </footer>
    </div>
  );
}
