import type { ChalkInstance } from 'chalk';

let chalk: typeof import('chalk') | undefined;

/**
 * Load chalk; called once a command knows that some stream gets colour. Piped and JSON runs
 * never pay for it (its set-up is a measurable part of start-up).
 */
export async function loadColors(): Promise<void> {
  chalk ??= await import('chalk');
}

/** A stand-in for chalk with colour off: every style, however chained, returns the text. */
const plain: ChalkInstance = new Proxy(((s: unknown) => String(s)) as unknown as ChalkInstance, {
  get: (_t, prop) => (prop === 'level' ? 0 : plain),
  apply: (_t, _this, args: unknown[]) => args.map(String).join(' '),
});

/** Colours for one stream; with colour off every style is the identity. */
export interface Theme {
  enabled: boolean;
  c: ChalkInstance;
  statusSymbol(status: string | null | undefined): string;
  status(status: string | null | undefined): string;
}

const SYMBOLS: Record<string, string> = {
  completed: '✓',
  failed: '✗',
  running: '●',
  in_buffer: '◆',
};

/** Colour needs loadColors() first; without it the theme is plain. */
export function makeTheme(enabled: boolean): Theme {
  enabled &&= chalk !== undefined;
  const c = enabled ? new chalk!.Chalk({ level: 1 }) : plain;
  const paint = (status: string | null | undefined) => {
    switch (status) {
      case 'completed':
        return c.green;
      case 'failed':
        return c.red;
      case 'running':
        return c.cyan;
      case 'in_buffer':
        return c.yellow;
      default:
        return c.magenta;
    }
  };
  return {
    enabled,
    c,
    statusSymbol: (s) => paint(s)(SYMBOLS[s ?? ''] ?? '?'),
    status: (s) => paint(s)(s ?? 'unknown'),
  };
}
