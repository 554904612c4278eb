// The e-mails a test Weft sends: with the default `notifications.email_transport = "file"`
// each is an `.eml` file under `<dataDir>/mail/`, written by the notifications dispatcher
// moments after the event. Just enough MIME to read them: unfolded headers, RFC 2047
// encoded words, multipart bodies, quoted-printable and base64 parts.
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';

/** Decodes `=?utf-8?b?…?=` / `=?utf-8?q?…?=` words in a header value. */
function decodeWords(value) {
  return value
    .replace(/(=\?[^?]+\?[bBqQ]\?[^?]*\?=)\s+(?==\?)/g, '$1') // space between two words is not text
    .replace(/=\?([^?]+)\?([bBqQ])\?([^?]*)\?=/g, (_, charset, enc, text) => {
      const bytes = enc.toUpperCase() === 'B' ? Buffer.from(text, 'base64') : qpBytes(text.replace(/_/g, ' '));
      return new TextDecoder(charset).decode(bytes);
    });
}

/** `=XX` escapes to bytes; soft line breaks (`=` at a line's end) vanish. */
function qpBytes(text) {
  const s = text.replace(/=\r?\n/g, '');
  const bytes = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3))) {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(s.charCodeAt(i) & 0xff);
  }
  return Buffer.from(bytes);
}

function parseHeaders(head) {
  const headers = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const name = line.slice(0, i).trim().toLowerCase();
    // the file is read as latin1 (one char a byte): raw UTF-8 in a header is decoded here
    headers[name] ??= decodeWords(Buffer.from(line.slice(i + 1).trim(), 'latin1').toString('utf8'));
  }
  return headers;
}

/** One MIME entity: its headers and either its decoded text or its parts; null if the file is cut short. */
function parseEntity(raw) {
  const sep = raw.search(/\r?\n\r?\n/);
  if (sep < 0) return null;
  const headers = parseHeaders(raw.slice(0, sep));
  const body = raw.slice(sep).replace(/^\r?\n\r?\n/, '');
  const type = headers['content-type'] ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (/^multipart\//i.test(type) && boundary) {
    if (!body.includes(`--${boundary}--`)) return null; // still being written
    const pieces = body.split(`--${boundary}`).slice(1); // the preamble goes
    const parts = [];
    for (const piece of pieces) {
      if (piece.startsWith('--')) break; // the closing delimiter
      const part = parseEntity(piece.replace(/^\r?\n/, '').replace(/\r?\n$/, ''));
      if (!part) return null;
      parts.push(part);
    }
    return { headers, type, parts };
  }
  const cte = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  const charset = /charset="?([^";]+)"?/i.exec(type)?.[1] ?? 'utf-8';
  const bytes = cte === 'base64' ? Buffer.from(body.replace(/\s+/g, ''), 'base64') : cte === 'quoted-printable' ? qpBytes(body) : Buffer.from(body, 'latin1');
  return { headers, type, text: new TextDecoder(charset).decode(bytes) };
}

function leaves(entity) {
  return entity.parts ? entity.parts.flatMap(leaves) : [entity];
}

/** Reads an `.eml` (as a latin1 string: one char a byte): `{ to, subject, text, html }` with the
 *  bodies decoded, or null when the file is incomplete. */
export function parseMail(raw) {
  const entity = parseEntity(raw);
  if (!entity) return null;
  const parts = leaves(entity);
  const body = (t) => parts.find((p) => p.type.toLowerCase().startsWith(t))?.text ?? '';
  return { to: entity.headers.to ?? '', subject: entity.headers.subject ?? '', headers: entity.headers, text: body('text/plain'), html: body('text/html') };
}

/** Every complete message written so far: `{ file, to, subject, text, html }`, oldest first
 *  (the names are random UUIDs: by modification time). */
export async function readMails(dataDir) {
  const dir = path.join(dataDir, 'mail');
  const mails = [];
  for (const file of (await readdir(dir).catch(() => [])).filter((f) => f.endsWith('.eml'))) {
    const p = path.join(dir, file);
    const [raw, info] = await Promise.all([readFile(p, 'latin1').catch(() => ''), stat(p).catch(() => null)]);
    const mail = parseMail(raw);
    if (mail && info) mails.push({ file, mtime: info.mtimeMs, ...mail });
  }
  return mails.sort((a, b) => a.mtime - b.mtime || a.file.localeCompare(b.file));
}

/**
 * Waits for a message to `to` whose subject starts with `subject`, among the files not in
 * `seen` (file names; the one found is added, so the next wait finds a newer message).
 */
export async function waitForMail(dataDir, { to, subject, seen = new Set() }, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let looked = [];
  while (Date.now() < deadline) {
    const mails = (await readMails(dataDir)).filter((m) => !seen.has(m.file));
    looked = mails.map((m) => `${m.to}: ${m.subject}`);
    const mail = mails.find((m) => m.to.toLowerCase().includes(to.toLowerCase()) && m.subject.startsWith(subject));
    if (mail) {
      seen.add(mail.file);
      return mail;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no e-mail to ${to} starting "${subject}" in ${path.join(dataDir, 'mail')} within ${timeoutMs} ms; found: ${JSON.stringify(looked)}`);
}

/** The first `…/account/<page>?token=…` link of a message's text part (a token may be
 *  percent-encoded: an unsubscribe token is `<key>:<base64>`). */
export function linkIn(mail, page) {
  const m = new RegExp(`https?://[^\\s"<>]+/account/${page}\\?token=[A-Za-z0-9_%.~-]+`).exec(mail.text);
  if (!m) throw new Error(`no /account/${page} link in the e-mail "${mail.subject}":\n${mail.text}`);
  return m[0];
}
