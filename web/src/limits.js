// Limits the server enforces (docs/API.md defaults), checked here first so nobody waits
// for an upload that can only be refused.
export const MAX_UPLOAD_BYTES = 200 * 1024 * 1024;
export const MAX_DURATION_SECONDS = 30 * 60;

// What the server takes (docs/API.md): audio, and video whose picture is kept.
export const AUDIO_EXTENSIONS = [
  '.mp3', '.m4a', '.mp4', '.aac', '.ogg', '.oga', '.opus', '.flac', '.wav', '.aif', '.aiff',
  '.webm', '.wma', '.mka', '.alac', '.caf', '.mov', '.mkv', '.m4v',
];

export function extensionOf(name) {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? '' : name.slice(dot).toLowerCase();
}

export function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} kB`;
  const mb = bytes / (1024 * 1024);
  return `${mb < 10 ? mb.toFixed(1) : mb.toFixed(0)} MB`;
}

export function formatDuration(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return '0:00';
  const s = Math.floor(seconds);
  const m = Math.floor(s / 60);
  return `${m}:${String(s % 60).padStart(2, '0')}`;
}

// Checks what can be known without reading the file: its name and size.
// Returns null when fine, else {code, title, detail}.
export function checkFile(file) {
  if (!AUDIO_EXTENSIONS.includes(extensionOf(file.name))) {
    return {
      code: 'not_audio',
      title: 'This is not an audio file',
      detail: `“${file.name}” is not a format we can read. Pick an MP3, WAV, FLAC, OGG, Opus, M4A or AIFF file, or an MP4, MOV, MKV or WebM video.`,
    };
  }
  if (file.size === 0) {
    return { code: 'empty', title: 'This file is empty', detail: `“${file.name}” has no content.` };
  }
  if (file.size > MAX_UPLOAD_BYTES) {
    return {
      code: 'too_large',
      title: 'This file is too large',
      detail: `“${file.name}” is ${formatBytes(file.size)}; the limit is ${formatBytes(MAX_UPLOAD_BYTES)}. Try a compressed format such as MP3.`,
    };
  }
  return null;
}

// Reads the duration with the browser's own decoder. Resolves NaN when the browser cannot
// tell (some formats it does not play); the server checks again after the upload.
export function probeDuration(file, timeoutMs = 4000) {
  return new Promise((resolve) => {
    if (typeof document === 'undefined' || typeof URL.createObjectURL !== 'function') {
      resolve(NaN);
      return;
    }
    const audio = document.createElement('audio');
    const url = URL.createObjectURL(file);
    let settled = false;
    const done = (value) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      audio.removeAttribute('src');
      URL.revokeObjectURL(url);
      resolve(value);
    };
    const timer = setTimeout(() => done(NaN), timeoutMs);
    audio.preload = 'metadata';
    audio.onloadedmetadata = () => done(audio.duration);
    audio.onerror = () => done(NaN);
    audio.src = url;
  });
}

export function checkDuration(file, seconds) {
  if (Number.isFinite(seconds) && seconds > MAX_DURATION_SECONDS) {
    return {
      code: 'too_long',
      title: 'This song is too long',
      detail: `“${file.name}” lasts ${formatDuration(seconds)}; the limit is ${MAX_DURATION_SECONDS / 60} minutes.`,
    };
  }
  return null;
}
