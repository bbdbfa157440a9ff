// Integrated loudness (ITU-R BS.1770-4, EBU R128 gating) of the original file, measured in the
// browser so the A/B player can match it to the 8D version. Written here rather than pulled in
// as a package: forty lines against the page's download budget.

// The K-weighting filters at 48 kHz, from BS.1770-4 Annex 1 (the file is decoded at 48 kHz).
const SHELF = { b: [1.53512485958697, -2.69169618940638, 1.19839281085285], a: [-1.69065929318241, 0.73248077421585] };
const HIGH_PASS = { b: [1.0, -2.0, 1.0], a: [-1.99004745483398, 0.99007225036621] };
export const RATE = 48000;

function filter(x, { b, a }) {
  const y = new Float32Array(x.length);
  let x1 = 0;
  let x2 = 0;
  let y1 = 0;
  let y2 = 0;
  for (let i = 0; i < x.length; i++) {
    const v = b[0] * x[i] + b[1] * x1 + b[2] * x2 - a[0] * y1 - a[1] * y2;
    x2 = x1;
    x1 = x[i];
    y2 = y1;
    y1 = v;
    y[i] = v;
  }
  return y;
}

// `channels`: Float32Arrays at 48 kHz (left and right weigh 1). -Infinity for silence.
export function integratedLoudness(channels) {
  const weighted = channels.map((c) => filter(filter(c, SHELF), HIGH_PASS));
  const block = 0.4 * RATE;
  const hop = 0.1 * RATE;
  const powers = [];
  for (let start = 0; start + block <= weighted[0].length; start += hop) {
    let sum = 0;
    for (const c of weighted) {
      let s = 0;
      for (let i = start; i < start + block; i++) s += c[i] * c[i];
      sum += s / block;
    }
    powers.push(sum);
  }
  const lufs = (p) => -0.691 + 10 * Math.log10(p);
  const mean = (list) => list.reduce((a, b) => a + b, 0) / list.length;
  const absolute = powers.filter((p) => lufs(p) > -70);
  if (!absolute.length) return -Infinity;
  const relative = lufs(mean(absolute)) - 10;
  const gated = absolute.filter((p) => lufs(p) > relative);
  return lufs(mean(gated));
}

// Decodes `file` in the browser (resampled to 48 kHz) and measures it; NaN when the browser
// cannot decode it. The page works without it: the A/B player then plays the original as is.
export async function measureFileLoudness(file) {
  try {
    const Offline = globalThis.OfflineAudioContext || globalThis.webkitOfflineAudioContext;
    if (!Offline || !file.arrayBuffer) return NaN;
    const decoded = await new Offline(2, RATE, RATE).decodeAudioData(await file.arrayBuffer());
    const channels = [];
    for (let c = 0; c < Math.min(2, decoded.numberOfChannels); c++) channels.push(decoded.getChannelData(c));
    return integratedLoudness(channels);
  } catch (e) {
    return NaN;
  }
}
