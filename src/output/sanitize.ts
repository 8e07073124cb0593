/**
 * Neutralise what a server string could do to a terminal: ANSI/OSC escape sequences and
 * C0/C1 control characters become visible escapes, so the server can't move the cursor,
 * retitle the window or hide text. Used for every server string in human output (JSON
 * output is left exact: JSON.stringify escapes control characters itself).
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

export function sanitize(s: string, opts: { keepNewlines?: boolean } = {}): string {
  const out = s.replace(CONTROL, (c) => {
    const code = c.codePointAt(0)!;
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
  return opts.keepNewlines ? out.replace(/\r/g, '') : out.replace(/\r?\n|\t/g, ' ');
}

/** A server value for human output: sanitised, or '-' when it is absent or empty. */
export function orDash(v: unknown): string {
  return v === undefined || v === null || v === '' ? '-' : sanitize(String(v));
}
