// The job console's terminal: xterm.js behind a small adapter, so the page does not depend on
// xterm's API and component tests can see what reached the terminal.
//
// CSP: the dashboard is served with `style-src 'self'` (no 'unsafe-inline'). xterm 6 writes part of
// its styling into <style> elements it creates (theme colours, row dimensions, scrollbar) and, for
// 24-bit colours, into `style` attributes: both are inline styles, which that policy blocks (and
// reports). xterm lets us hand it the document it creates elements with (`documentOverride`), so it
// gets one whose <style> elements are inert placeholders whose CSS goes into constructed
// stylesheets (document.adoptedStyleSheets, CSSOM: not inline, not blocked), and whose spans take
// `style` attributes through CSSOM (element.style.cssText) instead. Everything else is the real
// document. Element.style.x = … assignments, which xterm uses for sizes, are CSSOM and allowed.
import '@xterm/xterm/css/xterm.css';
import { Terminal, type ITheme } from '@xterm/xterm';

export interface ConsoleTerminal {
  write(data: string): void;
  /** Clears the screen and the scrollback (before a replay). */
  reset(): void;
  /** Fits the columns and rows to the element it was opened in. */
  fit(): void;
  dispose(): void;
}

export type CreateTerminal = (container: HTMLElement) => ConsoleTerminal;

/** The console is read-only output: a scrollback large enough for a long render's log. */
const SCROLLBACK = 5000;
const FONT_SIZE = 12;
const LINE_HEIGHT = 1.2;
const MIN_COLS = 20;
const MIN_ROWS = 4;
const FALLBACK = { cols: 100, rows: 18 };

const THEME: ITheme = {
  background: '#0b0d12',
  foreground: '#d7dae3',
  cursor: '#0b0d12', // read-only: no visible cursor
  selectionBackground: '#3a4566',
};

/** A <style> stand-in: keeps its CSS in a constructed stylesheet for as long as it is in use. */
function inertStyle(doc: Document): HTMLElement {
  const placeholder = doc.createElement('template');
  placeholder.dataset.xtermStyle = '';
  let sheet: CSSStyleSheet | null = null;
  let text = '';
  const attach = (): CSSStyleSheet | null => {
    if (sheet) return sheet;
    if (typeof CSSStyleSheet !== 'function' || !('adoptedStyleSheets' in doc)) return null;
    try {
      sheet = new CSSStyleSheet();
    } catch {
      return null;
    }
    doc.adoptedStyleSheets = [...doc.adoptedStyleSheets, sheet];
    return sheet;
  };
  Object.defineProperty(placeholder, 'textContent', {
    configurable: true,
    get: () => text,
    set: (value: string | null) => {
      text = value ?? '';
      try {
        attach()?.replaceSync(text);
      } catch {
        // CSS this browser cannot parse: the terminal still works without it.
      }
    },
  });
  const remove = placeholder.remove.bind(placeholder);
  placeholder.remove = () => {
    if (sheet) {
      const gone = sheet;
      doc.adoptedStyleSheets = doc.adoptedStyleSheets.filter((s) => s !== gone);
      sheet = null;
    }
    remove();
  };
  return placeholder;
}

/** A span whose `style` attribute is written through CSSOM (24-bit colours in the DOM renderer). */
function cssomSpan(doc: Document): HTMLElement {
  const span = doc.createElement('span');
  const setAttribute = span.setAttribute.bind(span);
  span.setAttribute = (name: string, value: string) => {
    if (name.toLowerCase() === 'style') span.style.cssText = value;
    else setAttribute(name, value);
  };
  return span;
}

/** The document xterm creates its elements with: the real one, but CSP-safe for styles. */
export function cspSafeDocument(doc: Document): Document {
  return new Proxy(doc, {
    get(target, prop) {
      if (prop === 'createElement') {
        return (tag: string, options?: ElementCreationOptions) => {
          const name = tag.toLowerCase();
          if (name === 'style') return inertStyle(target);
          if (name === 'span') return cssomSpan(target);
          return target.createElement(tag, options);
        };
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * Opens the terminal. xterm 6 creates its scrollbar's <style> with the page's own document whatever
 * `documentOverride` says (its CoreBrowserService reads `this._document ?? typeof window … ? window.document : …`,
 * which always picks window.document), and it does so while opening: for exactly that call, the
 * real document's createElement hands out the same inert placeholder. Synchronous, so nothing else
 * runs while the override is in place.
 */
function openCspSafe(term: Terminal, host: HTMLElement): void {
  const doc = host.ownerDocument;
  const own = Object.getOwnPropertyDescriptor(doc, 'createElement');
  const original = doc.createElement.bind(doc);
  Object.defineProperty(doc, 'createElement', {
    configurable: true,
    writable: true,
    value: (tag: string, options?: ElementCreationOptions) => (tag.toLowerCase() === 'style' ? inertStyle(doc) : original(tag, options)),
  });
  try {
    term.open(host);
  } finally {
    if (own) Object.defineProperty(doc, 'createElement', own);
    else delete (doc as unknown as Record<string, unknown>).createElement;
  }
}

/** Cell size of the terminal's font, measured once per terminal in its own container. */
function measureCell(container: HTMLElement): { width: number; height: number } | null {
  const probe = container.ownerDocument.createElement('span');
  probe.className = 'console-measure';
  probe.textContent = 'W'.repeat(50);
  container.appendChild(probe);
  const rect = probe.getBoundingClientRect();
  probe.remove();
  if (!(rect.width > 0) || !(rect.height > 0)) return null;
  return { width: rect.width / 50, height: rect.height };
}

export const createXtermTerminal: CreateTerminal = (container) => {
  const term = new Terminal({
    documentOverride: cspSafeDocument(container.ownerDocument),
    // Engine output can carry bare line feeds (a pty in raw mode, a log replayed from a file):
    // start each line at the left edge. A \r\n already there stays one line break.
    convertEol: true,
    disableStdin: true,
    cursorBlink: false,
    cursorInactiveStyle: 'none',
    fontFamily: 'ui-monospace, "SF Mono", "Cascadia Code", Menlo, Consolas, "Liberation Mono", monospace',
    fontSize: FONT_SIZE,
    lineHeight: LINE_HEIGHT,
    scrollback: SCROLLBACK,
    theme: THEME,
    cols: FALLBACK.cols,
    rows: FALLBACK.rows,
  });
  const host = container.ownerDocument.createElement('div');
  host.className = 'console-host';
  container.appendChild(host);
  openCspSafe(term, host);
  let cell: { width: number; height: number } | null = null;
  let disposed = false;

  const fit = () => {
    if (disposed) return;
    cell ??= measureCell(container);
    const width = host.clientWidth;
    const height = host.clientHeight;
    if (!cell || width <= 0 || height <= 0) return;
    // The engine's lines come re-wrapped by its pty; the panel wraps them again at its own width.
    const cols = Math.max(MIN_COLS, Math.floor((width - 14) / cell.width));
    // One row of slack: xterm rounds its cell height its own way.
    const rows = Math.max(MIN_ROWS, Math.floor(height / cell.height) - 1);
    if (cols !== term.cols || rows !== term.rows) term.resize(cols, rows);
  };

  let observer: ResizeObserver | null = null;
  if (typeof ResizeObserver === 'function') {
    observer = new ResizeObserver(() => fit());
    observer.observe(host);
  }
  fit();

  return {
    write: (data) => {
      if (!disposed) term.write(data);
    },
    reset: () => {
      if (!disposed) term.reset();
    },
    fit,
    dispose: () => {
      if (disposed) return;
      disposed = true;
      observer?.disconnect();
      term.dispose();
      host.remove();
    },
  };
};
