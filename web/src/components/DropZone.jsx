import { useEffect, useId, useRef, useState } from 'react';
import { AUDIO_EXTENSIONS, MAX_UPLOAD_BYTES, MAX_DURATION_SECONDS, formatBytes } from '../limits.js';

// Drag files here or pick them. The whole zone is a button for the keyboard.
export default function DropZone({ onFiles }) {
  const id = useId();
  const inputRef = useRef(null);
  const [over, setOver] = useState(false);
  const [ready, setReady] = useState(false);
  useEffect(() => {
    setReady(true);
    // Time to interactive, read by the end-to-end test (tests/e2e/web_e2e.mjs).
    if (typeof performance !== 'undefined' && performance.mark) performance.mark('sy-interactive');
  }, []);

  const take = (list) => {
    const files = Array.from(list || []);
    if (files.length) onFiles(files);
  };

  return (
    <div
      data-testid="dropzone"
      data-ready={ready ? 'true' : 'false'}
      onDragOver={(e) => {
        e.preventDefault();
        e.dataTransfer.dropEffect = 'copy';
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        e.preventDefault();
        setOver(false);
        take(e.dataTransfer.files);
      }}
      className={`relative rounded-2xl border-2 border-dashed px-6 py-10 text-center transition-colors sm:py-14 ${
        over ? 'border-cyan-300 bg-cyan-400/10' : 'border-slate-700 bg-slate-900/40 hover:border-violet-400/70'
      }`}
    >
      <svg aria-hidden="true" viewBox="0 0 48 48" className="mx-auto h-12 w-12 text-violet-300">
        <circle cx="24" cy="24" r="17" fill="none" stroke="currentColor" strokeWidth="2" strokeDasharray="4 4" />
        <path d="M24 31V17m0 0-6 6m6-6 6 6" fill="none" stroke="#22d3ee" strokeWidth="2.5" strokeLinecap="round" strokeLinejoin="round" />
      </svg>
      <p className="mt-4 text-lg font-semibold text-slate-100">
        <span className="hidden sm:inline">Drop songs here</span>
        <span className="sm:hidden">Add one or more songs</span>
      </p>
      <p className="mt-1 hidden text-sm text-slate-400 sm:block">or</p>
      <button
        type="button"
        disabled={!ready}
        onClick={() => inputRef.current && inputRef.current.click()}
        className="mt-3 rounded-xl bg-violet-500 px-5 py-2.5 font-semibold text-white shadow-lg shadow-violet-500/20 hover:bg-violet-400 focus:outline-none focus-visible:ring-2 focus-visible:ring-cyan-300 focus-visible:ring-offset-2 focus-visible:ring-offset-slate-950 disabled:opacity-50"
        aria-describedby={`${id}-limits`}
      >
        Choose files
      </button>
      <input
        ref={inputRef}
        id={`${id}-input`}
        data-testid="file-input"
        type="file"
        multiple
        accept={`audio/*,video/*,${AUDIO_EXTENSIONS.join(',')}`}
        className="sr-only"
        tabIndex={-1}
        aria-label="Choose audio files"
        onChange={(e) => {
          take(e.target.files);
          e.target.value = '';
        }}
      />
      <p id={`${id}-limits`} className="mt-4 text-sm text-slate-400">
        MP3, WAV, FLAC, OGG, Opus, M4A, AIFF and more · up to {formatBytes(MAX_UPLOAD_BYTES)} and{' '}
        {MAX_DURATION_SECONDS / 60} minutes per song
      </p>
    </div>
  );
}
