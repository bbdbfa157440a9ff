// The report measured on the delivered file (result.report in docs/API.md) in words, and the
// gain that makes the original as loud as the 8D version for a fair A/B comparison.

const MINUS = '\u2212';

function signed(value) {
  const text = Math.abs(value).toFixed(1);
  return value < 0 && text !== '0.0' ? `${MINUS}${text}` : text;
}

// Correlation of left and right: below 0 the two sides cancel when summed to mono (a phone
// speaker, a club system); at or above it nothing important disappears.
export const MONO_SAFE_CORRELATION = 0;

// "−14.0 LUFS, peaks −1.2 dBTP, mono-safe"; '' without a report.
export function reportInWords(report) {
  if (!report) return '';
  const parts = [];
  if (Number.isFinite(report.integratedLufs)) parts.push(`${signed(report.integratedLufs)} LUFS`);
  if (Number.isFinite(report.truePeakDbtp)) parts.push(`peaks ${signed(report.truePeakDbtp)} dBTP`);
  if (Number.isFinite(report.correlation))
    parts.push(report.correlation >= MONO_SAFE_CORRELATION ? 'mono-safe' : 'thins out in mono');
  return parts.join(', ');
}

// With beat-synced motion: "Tempo 120 BPM: the turns follow the beat.", or the server's note
// when the song had no clear beat; '' otherwise.
export function tempoInWords(report) {
  if (!report) return '';
  if (Number.isFinite(report.tempoBpm) && report.tempoBpm > 0)
    return `Tempo ${Math.round(report.tempoBpm)} BPM: the turns follow the beat.`;
  if (typeof report.note === 'string' && report.note) return `${report.note.charAt(0).toUpperCase()}${report.note.slice(1)}.`;
  return '';
}

// The original's volume (0..1) that plays it at the 8D version's loudness. An original
// quieter than the 8D version cannot be turned up by an audio element: it plays at 1 and
// `short` says by how many dB it stays quieter.
export function matchedVolume(originalLufs, report) {
  if (!report || !Number.isFinite(report.integratedLufs) || !Number.isFinite(originalLufs)) return { volume: 1, short: 0, matched: false };
  const gainDb = report.integratedLufs - originalLufs;
  if (gainDb >= 0) return { volume: 1, short: gainDb, matched: gainDb < 0.05 };
  return { volume: 10 ** (gainDb / 20), short: 0, matched: true };
}
