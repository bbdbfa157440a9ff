import { afterEach, describe, expect, it, vi } from 'vitest';
import { linkLifetimeSeconds, parseStoreError, uploadFile, uploadLinkExpired } from './api.js';
import { describeError, describeFailedJob } from './messages.js';

// What Ceph RGW 16.2 answered in tests/scaleout (expired presigned PUT; forged signature) and
// what AWS documents for an expired presigned URL.
const RGW_EXPIRED =
  '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message></Message>' +
  '<RequestId>tx0000</RequestId><HostId>100c-default-default</HostId></Error>';
const RGW_FORGED =
  '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SignatureDoesNotMatch</Code><Message></Message>' +
  '<RequestId>tx0001</RequestId></Error>';
const AWS_EXPIRED =
  '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Request has expired</Message>' +
  '<X-Amz-Expires>1</X-Amz-Expires><Expires>2026-11-30T18:20:00Z</Expires></Error>';
const URL_1S = 'http://rgw.test/b/uploads/j/a.mp3?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=1&X-Amz-Signature=ab';

describe('parseStoreError', () => {
  it("reads the embedded store's JSON error", () => {
    expect(parseStoreError('{"error":{"code":"ExpiredRequest","message":"the URL expired"}}')).toEqual({
      code: 'ExpiredRequest',
      message: 'the URL expired',
    });
  });
  it("reads an S3 store's XML error and says expired the embedded store's way", () => {
    expect(parseStoreError(AWS_EXPIRED)).toEqual({ code: 'ExpiredRequest', message: 'Request has expired' });
    expect(parseStoreError('<Error><Code>ExpiredRequest</Code><Message>x</Message></Error>').code).toBe('ExpiredRequest');
    expect(parseStoreError(RGW_FORGED)).toEqual({ code: 'SignatureDoesNotMatch', message: '' });
    expect(parseStoreError(RGW_EXPIRED)).toEqual({ code: 'AccessDenied', message: '' });
  });
  it('gives nothing for bodies that are not a store error', () => {
    for (const body of ['', 'Forbidden', '<html><body>403</body></html>', '<Error><Code>x', '{"error":', null, '<Other><Code>AccessDenied</Code></Other>']) {
      expect(parseStoreError(body)).toEqual({ code: '', message: '' });
    }
  });
  it('the page says "link expired" for AWS XML as for the embedded store', () => {
    expect(describeError({ status: 403, ...parseStoreError(AWS_EXPIRED) }).title).toBe('The link expired');
  });
});

describe('uploadLinkExpired', () => {
  it("counts the URL's X-Amz-Expires from when the page received it", () => {
    const upload = { url: URL_1S };
    Object.defineProperty(upload, 'receivedAt', { value: 10_000 });
    expect(uploadLinkExpired(upload, 10_999, 0)).toBe(false);
    expect(uploadLinkExpired(upload, 11_000, 0)).toBe(true);
    expect(uploadLinkExpired({ url: URL_1S }, 5_000, 3_000)).toBe(true);
    expect(uploadLinkExpired({ url: 'http://x/a.mp3' }, 1e12, 0)).toBe(false);
    expect(uploadLinkExpired({ url: 'http://x/a?X-Amz-Expires=soon' }, 1e12, 0)).toBe(false);
  });
});

// The browser's XMLHttpRequest, answering one PUT as the test says.
function fakeXhr(answer) {
  return class {
    constructor() {
      this.upload = {};
    }
    open() {}
    setRequestHeader() {}
    send() {
      queueMicrotask(() => answer(this));
    }
  };
}

describe('uploadFile refusals', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });
  const file = { size: 5 };
  const refused = async (answer, upload) => {
    vi.stubGlobal('XMLHttpRequest', fakeXhr(answer));
    return uploadFile(upload, file, () => {}).promise.catch((e) => e);
  };

  it("reads RGW's bare AccessDenied on an outlived link as expired", async () => {
    vi.useFakeTimers({ now: 50_000, toFake: ['Date'] });
    const upload = { url: URL_1S };
    Object.defineProperty(upload, 'receivedAt', { value: 48_000 });
    const err = await refused((x) => Object.assign(x, { status: 403, responseText: RGW_EXPIRED }).onload(), upload);
    expect(err.code).toBe('ExpiredRequest');
    expect(describeError(err).title).toBe('The link expired');
  });
  it('keeps AccessDenied while the link is young', async () => {
    const err = await refused((x) => Object.assign(x, { status: 403, responseText: RGW_EXPIRED }).onload(), { url: URL_1S });
    expect(err.code).toBe('AccessDenied');
  });
  it('an answer hidden by missing CORS headers on an outlived link: expired, else the connection', async () => {
    vi.useFakeTimers({ now: 50_000, toFake: ['Date'] });
    const old = { url: URL_1S };
    Object.defineProperty(old, 'receivedAt', { value: 48_000 });
    expect(describeError(await refused((x) => x.onerror(), old)).title).toBe('The link expired');
    expect(describeError(await refused((x) => x.onerror(), { url: URL_1S })).title).toBe('The connection dropped');
  });
});

// The page says how long an upload link lasts from the link itself: the server signs it for
// its configured lifetime (storage.upload_url_seconds), not always 15 minutes.
describe('the upload link lifetime in words', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });
  const linkFor = (seconds) => `http://x/uploads/j/a.mp3?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=${seconds}&X-Amz-Signature=ab`;

  it('reads X-Amz-Expires, or nothing when the link does not say', () => {
    expect(linkLifetimeSeconds(linkFor(900))).toBe(900);
    expect(linkLifetimeSeconds('http://x/a.mp3')).toBe(null);
    expect(linkLifetimeSeconds(linkFor('soon'))).toBe(null);
  });

  it("an expired link's refusal names the lifetime the link was signed for", async () => {
    for (const [seconds, words] of [[1, '1 second'], [300, '5 minutes'], [900, '15 minutes'], [3600, '1 hour'], [5400, '90 minutes']]) {
      vi.stubGlobal('XMLHttpRequest', fakeXhr((x) => Object.assign(x, { status: 403, responseText: AWS_EXPIRED }).onload()));
      const err = await uploadFile({ url: linkFor(seconds) }, { size: 5 }, () => {}).promise.catch((e) => e);
      const said = describeError(err);
      expect(said.title).toBe('The link expired');
      expect(said.detail).toBe(`The upload link is only valid for ${words}. Retry to get a fresh one.`);
    }
  });

  it('says no number it does not know', () => {
    const said = describeError({ status: 403, code: 'ExpiredRequest' });
    expect(said.detail).not.toMatch(/\d/);
    expect(describeFailedJob({ status: 'expired' }).detail).not.toMatch(/\d/);
    expect(describeFailedJob({ status: 'expired' }, 300).detail).toContain('within 5 minutes');
  });
});
