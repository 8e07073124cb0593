import { Chalk, type ChalkInstance } from 'chalk';

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

export function makeTheme(enabled: boolean): Theme {
  const c = new Chalk({ level: enabled ? 1 : 0 });
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
