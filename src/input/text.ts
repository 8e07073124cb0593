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
    const utf16 = buf.length >= 2 && ((buf[0] === 0xff && buf[1] === 0xfe) || (buf[0] === 0xfe && buf[1] === 0xff));
    throw new UsageError(
      `${source}: not valid UTF-8 at byte ${bad} (0x${buf[bad]!.toString(16).padStart(2, '0')})${utf16 ? '; it looks like UTF-16' : ''}`,
      `convert it first, e.g. iconv -f ${utf16 ? 'utf-16' : 'latin1'} -t utf-8`,
    );
  }
  return stripBom(buf.toString('utf8'));
}

/** The text without a leading byte-order mark. */
export function stripBom(text: string): string {
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

/** Nesting deeper than this is refused: no real conversation needs it, and it would overflow the stack later. */
export const MAX_JSON_DEPTH = 100;

/** The JSON path of the first value nested deeper than `max` levels, or undefined. */
function tooDeep(v: unknown, max: number, depth = 0): string | undefined {
  if (v === null || typeof v !== 'object') return undefined;
  if (depth >= max) return '';
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const p = tooDeep(v[i], max, depth + 1);
      if (p !== undefined) return `[${i}]${p}`;
    }
    return undefined;
  }
  for (const k of Object.keys(v)) {
    const p = tooDeep((v as Record<string, unknown>)[k], max, depth + 1);
    if (p !== undefined) return `${/^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`}${p}`;
  }
  return undefined;
}

function showChar(c: string): string {
  const code = c.codePointAt(0)!;
  if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return `character U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  return c === "'" ? `"'"` : `'${c}'`;
}

/**
 * Where (character offset) and why a text is not JSON (RFC 8259, exactly what JSON.parse
 * accepts), or undefined when it is. Node's own messages name no position for some errors
 * ("Unexpected token …") and quote the input; this scanner always gives both a position and a
 * reason, without recursion (any depth).
 */
export function jsonSyntaxError(text: string): { offset: number; reason: string } | undefined {
  const n = text.length;
  let i = 0;
  const stack: string[] = [];
  type Expect = 'value' | 'valueOrClose' | 'valueAfterComma' | 'key' | 'keyOrClose' | 'colon' | 'commaOrClose';
  let expect: Expect = 'value';
  const err = (offset: number, reason: string) => ({ offset, reason });
  const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  for (;;) {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
      else break;
    }
    if (i >= n) {
      if (stack.length === 0 && expect === 'commaOrClose') return undefined;
      return err(n, 'unexpected end of input (is the file truncated?)');
    }
    const ch = text[i]!;
    if (expect === 'commaOrClose') {
      const top = stack[stack.length - 1];
      if (top === undefined) return err(i, `unexpected ${showChar(ch)} after the end of the JSON value`);
      const close = top === '{' ? '}' : ']';
      if (ch === ',') {
        i++;
        expect = top === '{' ? 'key' : 'valueAfterComma';
      } else if (ch === close) {
        stack.pop();
        i++;
      } else {
        return err(i, `expected ',' or '${close}', got ${showChar(ch)}`);
      }
      continue;
    }
    if (expect === 'colon') {
      if (ch !== ':') return err(i, `expected ':' after a property name, got ${showChar(ch)}`);
      i++;
      expect = 'value';
      continue;
    }
    if (expect === 'key' || expect === 'keyOrClose') {
      if (ch === '}') {
        if (expect === 'key') return err(i, "a trailing comma before '}'");
        stack.pop();
        i++;
        expect = 'commaOrClose';
        continue;
      }
      if (ch !== '"') {
        return err(i, `expected a property name in double quotes, got ${showChar(ch)}${ch === "'" ? ' (JSON has no single quotes)' : ''}`);
      }
    }
    if (ch === ']' && (expect === 'valueOrClose' || expect === 'valueAfterComma')) {
      if (expect === 'valueAfterComma') return err(i, "a trailing comma before ']'");
      stack.pop();
      i++;
      expect = 'commaOrClose';
      continue;
    }
    const isKey: boolean = expect === 'key' || expect === 'keyOrClose';
    if (ch === '"') {
      const start = i;
      i++;
      let closed = false;
      while (i < n) {
        const c = text.charCodeAt(i);
        if (c === 0x22) {
          i++;
          closed = true;
          break;
        }
        if (c < 0x20) return err(i, `${showChar(text[i]!)} inside a string (write it as an escape such as \\n or \\t)`);
        if (c === 0x5c) {
          const e = text[i + 1];
          if (e === undefined) break;
          if ('"\\/bfnrt'.includes(e)) i += 2;
          else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) i += 6;
          else return err(i, `invalid escape ${e === 'u' ? '\\u (it needs four hex digits)' : `\\${e}`} in a string`);
          continue;
        }
        i++;
      }
      if (!closed) return err(start, 'a string that is never closed');
      expect = isKey ? 'colon' : 'commaOrClose';
      continue;
    }
    if (ch === '{') {
      stack.push('{');
      i++;
      expect = 'keyOrClose';
      continue;
    }
    if (ch === '[') {
      stack.push('[');
      i++;
      expect = 'valueOrClose';
      continue;
    }
    if (ch === '-' || (ch >= '0' && ch <= '9')) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(text);
      if (!m || /[0-9.eE]/.test(text[i + m[0].length] ?? '')) {
        return err(i, `an invalid number${/^-?0\d/.test(text.slice(i, i + 3)) ? ' (no leading zeros)' : ''}`);
      }
      i += m[0].length;
      expect = 'commaOrClose';
      continue;
    }
    const word = /^[A-Za-z]+/.exec(text.slice(i, i + 16))?.[0];
    if (word === 'true' || word === 'false' || word === 'null') {
      i += word.length;
      expect = 'commaOrClose';
      continue;
    }
    if (word) return err(i, `unexpected word ${JSON.stringify(word)} (strings need double quotes; the literals are true, false and null)`);
    if (ch === "'") return err(i, "unexpected \"'\" (JSON strings use double quotes)");
    if (ch === '/') return err(i, "unexpected '/' (JSON has no comments)");
    return err(i, `unexpected ${showChar(ch)}`);
  }
}

/**
 * JSON.parse with errors that name the source, line and column (and why); values nested
 * deeper than MAX_JSON_DEPTH are refused at their JSON path.
 */
export function parseJsonStrict(
  text: string,
  source: string,
  hint = 'fix the JSON, or pass --type string to send the file as plain text',
): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const found = jsonSyntaxError(text);
    if (!found) throw new UsageError(`${source}: invalid JSON: ${(err as Error).message}`, hint);
    const { line, col } = lineCol(text, found.offset);
    throw new UsageError(`${source}:${line}:${col}: invalid JSON: ${found.reason}`, hint);
  }
  const deep = tooDeep(value, MAX_JSON_DEPTH);
  if (deep !== undefined) {
    const path = deep.replace(/^\./, '');
    const shown = path.length > 60 ? `${path.slice(0, 60)}…` : path;
    throw new UsageError(`${source}: ${shown}: nested more than ${MAX_JSON_DEPTH} levels deep`, 'flatten the data');
  }
  return value;
}
