import { isUtf8 } from 'node:buffer';
import { UsageError } from '../api/errors.js';

/** Offset of the first byte that is not valid UTF-8, or -1. */
export function invalidUtf8Offset(buf: Uint8Array): number {
  if (isUtf8(buf)) return -1;
  let i = 0;
  while (i < buf.length) {
    const b = buf[i]!;
    let need: number;
    let min: number;
    if (b < 0x80) {
      i++;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) [need, min] = [1, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [need, min] = [2, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [need, min] = [3, 0x10000];
    else return i;
    if (i + need >= buf.length) return i;
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = buf[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}

/** Decode user input: UTF-8 only (rejected with the byte offset otherwise), BOM dropped. */
export function decodeInput(buf: Buffer, source: string): string {
  const bad = invalidUtf8Offset(buf);
  if (bad >= 0) {
    throw new UsageError(
      `${source}: not valid UTF-8 at byte ${bad} (0x${buf[bad]!.toString(16).padStart(2, '0')})`,
      'convert it first, e.g. iconv -f latin1 -t utf-8',
    );
  }
  const text = buf.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** 1-based line and column of a character offset. */
export function lineCol(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let last = -1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      last = i;
    }
  }
  return { line, col: offset - last };
}

/** JSON.parse with errors that name the source, line and column. */
export function parseJsonStrict(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const msg = (err as Error).message;
    const pos = /position (\d+)/.exec(msg);
    let where = '';
    let reason = msg.replace(/ in JSON at position \d+.*$/, '').replace(/^JSON\.parse: /, '');
    if (pos && Number(pos[1]) < text.trimEnd().length) {
      const { line, col } = lineCol(text, Number(pos[1]));
      where = `:${line}:${col}`;
    } else if (pos || /Unexpected end of JSON input/.test(msg)) {
      const { line, col } = lineCol(text, text.length);
      where = `:${line}:${col}`;
      reason = 'unexpected end of input (is the file truncated?)';
    }
    throw new UsageError(`${source}${where}: invalid JSON: ${reason}`, 'fix the JSON, or pass --type string to send the file as plain text');
  }
}
