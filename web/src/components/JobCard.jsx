import ABPlayer from './ABPlayer.jsx';
import ProgressBar from './ProgressBar.jsx';
import { curvesFromApi, curvesInWords } from '../curves.js';
import { formatBytes, formatDuration } from '../limits.js';
import { stageInWords } from '../messages.js';
import { matchedVolume, reportInWords, tempoInWords } from '../report.js';

// One file's way through: checking → uploading → queued/processing → done, or an error.
export function phaseWords(item) {
  switch (item.phase) {
    case 'checking':
      return 'Checking the file';
    case 'creating':
      return 'Preparing the upload';
    case 'uploading':
      // No percentage here: this line is read out (aria-live); the bar carries the number.
      return 'Uploading';
    case 'processing':
      return item.job ? stageInWords(item.job) : 'Queued';
    case 'done':
      return 'Ready';
    case 'error':
      return item.error ? item.error.title : 'Failed';
    default:
      return '';
  }
}

export default function JobCard({ item, onRetry, onRemove, onRefreshResult, onPreview, onConvertWhole }) {
  const job = item.job;
  const result = job && job.result;
  const busy = ['checking', 'creating', 'uploading', 'processing'].includes(item.phase);
  const processing = item.phase === 'processing' && job ? job.progress || 0 : 0;
  const report = result && result.report;
  const match = matchedVolume(item.originalLufs, report);
  // The curves this render used: as the server stored them when the job says, else as sent.
  const stored = job && job.settings && typeof job.settings === 'object' ? { curves: curvesFromApi(job.settings.curves) } : item.settings;
  const curves = stored ? curvesInWords(stored) : '';
  const secondary =
    'rounded-xl border border-slate-600 px-4 py-2 text-sm font-semibold text-slate-100 hover:border-cyan-300 hover:text-white focus:outline-none focus-visible:ring-2 focus-visible:ring-cyan-300';

  return (
    <li
      className="rounded-2xl border border-slate-800 bg-slate-900/60 p-4 sm:p-5"
      data-testid="job"
      data-phase={item.phase}
      aria-label={item.name}
    >
      <div className="flex items-start justify-between gap-3">
        <div className="min-w-0">
          <h3 className="truncate font-semibold text-slate-100" title={item.name}>
            {item.name}
          </h3>
          <p className="text-sm text-slate-400">
            {formatBytes(item.size)}
            {item.duration ? ` · ${formatDuration(item.duration)}` : ''}
          </p>
        </div>
        <button
          type="button"
          onClick={onRemove}
          className="shrink-0 rounded-lg px-2.5 py-1.5 text-sm text-slate-400 hover:bg-slate-800 hover:text-white focus:outline-none focus-visible:ring-2 focus-visible:ring-cyan-300"
          aria-label={`${busy ? 'Cancel' : 'Remove'} ${item.name}`}
        >
          {busy ? 'Cancel' : 'Remove'}
        </button>
      </div>

      <p className="mt-3 text-sm font-medium text-slate-200" data-testid="stage" aria-live="polite">
        {item.phase === 'error' ? '' : phaseWords(item)}
      </p>

      {(item.phase === 'uploading' || item.phase === 'creating') && (
        <div className="mt-2">
          <ProgressBar value={item.uploaded / Math.max(1, item.size)} label={`Upload of ${item.name}`} tone="cyan" />
          <p className="mt-1 text-xs tabular-nums text-slate-400">
            {formatBytes(item.uploaded)} of {formatBytes(item.size)} sent · {Math.round((item.uploaded / Math.max(1, item.size)) * 100)}%
          </p>
        </div>
      )}
      {item.phase === 'processing' && (
        <div className="mt-2">
          <ProgressBar value={processing} label={`Conversion of ${item.name}`} />
          <p className="mt-1 text-xs tabular-nums text-slate-400">{Math.round(processing * 100)}% converted</p>
        </div>
      )}

      {item.phase === 'error' && item.error && (
        <div role="alert" className="mt-2 rounded-xl border border-rose-500/40 bg-rose-500/10 p-3" data-testid="error">
          <p className="font-semibold text-rose-200">{item.error.title}</p>
          <p className="mt-1 text-sm text-rose-100/90">{item.error.detail}</p>
          {item.error.retry !== false && (
            <button
              type="button"
              onClick={onRetry}
              className="mt-3 rounded-lg bg-rose-400 px-4 py-1.5 text-sm font-semibold text-slate-950 hover:bg-rose-300 focus:outline-none focus-visible:ring-2 focus-visible:ring-white"
            >
              Retry
            </button>
          )}
        </div>
      )}

      {item.phase === 'done' && result && (
        <div className="mt-3 space-y-3">
          <p className="flex items-center gap-2 text-sm text-cyan-200">
            <svg viewBox="0 0 24 24" className="h-5 w-5" aria-hidden="true">
              <path fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" d="M4 15v-3a8 8 0 0 1 16 0v3M4 15a2 2 0 0 1 2-2h1v7H6a2 2 0 0 1-2-2zm16 0a2 2 0 0 0-2-2h-1v7h1a2 2 0 0 0 2-2z" />
            </svg>
            Headphones on: 8D only works when each ear hears its own side.
          </p>
          <p className="text-sm text-slate-300" data-testid="render-kind">
            {item.whole ? 'The whole song in 8D.' : 'A 30-second preview from the loudest part.'}
          </p>
          {curves && (
            <p className="text-sm text-slate-300" data-testid="curves-used">
              Over time: {curves}.
            </p>
          )}
          {report && (
            <p className="text-sm tabular-nums text-slate-200" data-testid="report">
              Measured on the file: {reportInWords(report)}
            </p>
          )}
          {tempoInWords(report) && (
            <p className="text-sm tabular-nums text-slate-200" data-testid="tempo">
              {tempoInWords(report)}
            </p>
          )}
          <ABPlayer
            originalUrl={item.originalUrl}
            resultUrl={result.url}
            settings={item.settings}
            title={item.name}
            originalVolume={match.volume}
            onResultError={() => onRefreshResult(false)}
          />
          <p className="text-xs text-slate-400" data-testid="ab-note">
            {match.matched
              ? 'The original plays at the 8D version’s loudness, so you compare the sound, not the volume.'
              : match.short > 0
                ? `The original is ${match.short.toFixed(1)} dB quieter than the 8D version; a browser cannot turn it up.`
                : ''}
          </p>
          <div className="flex flex-wrap gap-3">
            <button type="button" onClick={onPreview} className={secondary} data-testid="preview-again">
              Preview 30 s
            </button>
            <button type="button" onClick={onConvertWhole} className={secondary} data-testid="convert-whole">
              {item.whole ? 'Render again with these settings' : 'Convert the whole song'}
            </button>
          </div>
          <p className="text-xs text-slate-400">Change the sound on the right, then render again: the file is not uploaded again.</p>
          <div className="flex flex-wrap items-center gap-3">
            <a
              href={result.url}
              download={result.filename || ''}
              data-testid="download"
              onClick={(e) => {
                // The download link is signed for an hour; past that, fetch a fresh one first.
                if (result.expiresAt && Date.parse(result.expiresAt) < Date.now() + 30000) {
                  e.preventDefault();
                  onRefreshResult(true);
                }
              }}
              className="inline-flex items-center gap-2 rounded-xl bg-cyan-400 px-4 py-2 font-semibold text-slate-950 hover:bg-cyan-300 focus:outline-none focus-visible:ring-2 focus-visible:ring-white focus-visible:ring-offset-2 focus-visible:ring-offset-slate-900"
            >
              <svg viewBox="0 0 20 20" className="h-4 w-4" aria-hidden="true"><path fill="currentColor" d="M9 3h2v8l3-3 1.4 1.4L10 14.8 4.6 9.4 6 8l3 3zM4 16h12v2H4z" /></svg>
              Download {result.filename || ''}
            </a>
            <span className="text-xs text-slate-400">
              {formatBytes(result.bytes || 0)}
              {result.durationSeconds ? ` · ${formatDuration(result.durationSeconds)}` : ''}
            </span>
          </div>
        </div>
      )}
    </li>
  );
}
