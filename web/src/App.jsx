import { useCallback, useEffect, useRef, useState } from 'react';
import * as defaultApi from './api.js';
import { checkFile, checkDuration, probeDuration } from './limits.js';
import { describeError, describeFailedJob } from './messages.js';
import { forgetJob, loadRecent, rememberJob, updateRecent } from './recentJobs.js';
import DropZone from './components/DropZone.jsx';
import JobCard from './components/JobCard.jsx';
import RecentJobs from './components/RecentJobs.jsx';
import SettingsPanel, { FALLBACK_PRESETS, settingsFromPreset, toApiSettings } from './components/SettingsPanel.jsx';

const defaults = { ...defaultApi, probeDuration };
let nextKey = 1;

export default function App({ api = defaults }) {
  const [presets, setPresets] = useState(FALLBACK_PRESETS);
  const [settings, setSettings] = useState(() => settingsFromPreset(FALLBACK_PRESETS[0]));
  const [items, setItems] = useState([]);
  const [recent, setRecent] = useState([]);
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

        const created = await api.createJob(file, toApiSettings(item.settings));
        if (ctl.aborted) {
          api.deleteJob(created.id, created.token).catch(() => {});
          return undefined;
        }
        ctl.job = { id: created.id, token: created.token };
        rememberJob({ id: created.id, token: created.token, filename: file.name, createdAt: Date.now() });
        update(key, { id: created.id, token: created.token, phase: 'uploading' });

        const upload = api.uploadFile(created.upload, file, (loaded) => update(key, { uploaded: loaded }));
        ctl.abort = upload.abort;
        await upload.promise;
        if (ctl.aborted) return undefined;
        update(key, { phase: 'processing', uploaded: file.size, job: { status: 'queued', progress: 0 } });

        ctl.stop = api.watchJob(created.id, created.token, {
          onUpdate: (job) => {
            if (ctl.aborted) return;
            if (job.status === 'done') update(key, { phase: 'done', job });
            else if (job.status === 'failed' || job.status === 'expired') update(key, { phase: 'error', job, error: describeFailedJob(job) });
            else update(key, { phase: 'processing', job });
          },
          onGone: () => fail(describeError({ status: 404 }, file.name)),
        });
      } catch (err) {
        if (err && err.code === 'aborted') return undefined;
        fail(describeError(err, file.name));
      }
      return undefined;
    },
    [api, update],
  );

  const addFiles = useCallback(
    (files) => {
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
    if (item.id && item.token) {
      api.deleteJob(item.id, item.token).catch(() => {});
      forgetJob(item.id);
    }
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
                  />
                ))}
              </ul>
            </section>
          )}
          <RecentJobs entries={recentShown} onDelete={deleteRecent} />
        </div>
        <aside className="lg:sticky lg:top-6 lg:self-start">
          <SettingsPanel presets={presets} settings={settings} onChange={setSettings} />
        </aside>
      </main>
      <footer className="mx-auto max-w-6xl px-4 pb-10 text-xs text-slate-400 sm:px-6">
        Files are deleted after 24 hours. Links to your results are private to this browser.
      </footer>
    </div>
  );
}
