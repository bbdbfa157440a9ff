import { MAX_UPLOAD_BYTES, MAX_DURATION_SECONDS, formatBytes } from './limits.js';

// A link's lifetime in words: "1 second", "15 minutes", "1 hour", "90 minutes".
export function lifetimeInWords(seconds) {
  const plural = (n, unit) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (seconds < 60) return plural(Math.round(seconds), 'second');
  if (seconds % 3600 === 0) return plural(seconds / 3600, 'hour');
  return plural(Math.round(seconds / 60), 'minute');
}

// Turns what the server or the network said into words a person understands:
// {title, detail, retry} where retry says whether trying again can help.
export function describeError(err, filename = 'this file') {
  const status = err && err.status;
  const code = (err && err.code) || '';
  const message = (err && err.message) || '';
  if (code === 'network' || status === 0) {
    return {
      title: 'The connection dropped',
      detail: 'We could not reach the server. Check your connection, then retry.',
      retry: true,
    };
  }
  if (code === 'too_large' || code === 'EntityTooLarge' || status === 413) {
    return {
      title: 'This file is too large',
      detail: `The limit is ${formatBytes(MAX_UPLOAD_BYTES)} per file. Try a compressed format such as MP3.`,
      retry: false,
    };
  }
  if (code === 'unsupported_media_type' || code === 'invalid_filename' || status === 415) {
    return {
      title: 'This is not an audio file',
      detail: `“${filename}” is not a format we can read. Pick an MP3, WAV, FLAC, OGG, Opus, M4A or AIFF file.`,
      retry: false,
    };
  }
  if (code === 'source_gone' || code === 'not_uploaded') {
    return {
      title: 'The uploaded file is gone',
      detail: 'Uploads are kept for 24 hours. Add the file again to render it with these settings.',
      retry: false,
    };
  }
  if (code === 'ExpiredRequest' || code === 'expired') {
    return {
      title: 'The link expired',
      detail: err.linkSeconds
        ? `The upload link is only valid for ${lifetimeInWords(err.linkSeconds)}. Retry to get a fresh one.`
        : 'The upload link is no longer valid. Retry to get a fresh one.',
      retry: true,
    };
  }
  if (code === 'rate_limited' || status === 429) {
    return {
      title: 'Too many files at once',
      detail: 'The server limits how many conversions start per minute. Wait a minute, then retry.',
      retry: true,
    };
  }
  if (code === 'invalid_settings') {
    return { title: 'These settings are out of range', detail: message, retry: false };
  }
  if (status === 404) {
    return {
      title: 'This conversion no longer exists',
      detail: 'Finished conversions are kept for 24 hours, then removed.',
      retry: true,
    };
  }
  return {
    title: 'Something went wrong',
    detail: message ? `The server said: ${message}` : 'Please retry in a moment.',
    retry: true,
  };
}

// A job the server gave up on (status failed or expired), in words. `uploadSeconds` is the
// lifetime of the job's upload link when the page still knows it (api.linkLifetimeSeconds).
export function describeFailedJob(job, uploadSeconds = null) {
  if (job.status === 'expired') {
    return {
      title: 'The link expired',
      detail: uploadSeconds
        ? `The file never finished uploading within ${lifetimeInWords(uploadSeconds)}. Retry to start again.`
        : 'The file never finished uploading before its upload link expired. Retry to start again.',
      retry: true,
    };
  }
  const reason = job.error || 'no reason given';
  const lower = reason.toLowerCase();
  // The server refused the file or its settings at once (retryable: false): the same upload
  // fails the same way, so no Retry. Without the field (an older server) a retry is offered.
  const retry = job.retryable !== false;
  if (lower.includes('duration') || lower.includes('too long') || lower.includes('longer than')) {
    return {
      title: 'This song is too long',
      detail: `Songs up to ${MAX_DURATION_SECONDS / 60} minutes can be converted. The server said: ${reason}`,
      retry: false,
    };
  }
  // The decoder's sentences for a file that is not (whole) audio: io/ throws them as input errors.
  if (/decod|not audio|not an audio|no audio|invalid data|unsupported|damaged|truncated|implausib|cannot read|could not read|could not open|cannot open|unreadable|corrupt/.test(lower)) {
    return {
      title: 'We could not read this file as audio',
      detail: `The server said: ${reason}. Try another file, or save this one again as MP3 or WAV.`,
      retry,
    };
  }
  return {
    title: 'The conversion failed',
    detail: `The server said: ${reason}`,
    retry,
  };
}

export const STAGE_WORDS = {
  awaiting_upload: 'Waiting for the upload',
  queued: 'In line — a worker picks it up shortly',
  starting: 'Starting',
  opening: 'Opening the file',
  analysing: 'Listening to the song',
  rendering: 'Moving the sound around your head',
  finishing: 'Measuring loudness and saving',
  done: 'Ready',
};

export function stageInWords(job) {
  if (!job) return '';
  if (job.status === 'processing') return STAGE_WORDS[job.stage] || 'Converting';
  return STAGE_WORDS[job.status] || STAGE_WORDS[job.stage] || job.status;
}
