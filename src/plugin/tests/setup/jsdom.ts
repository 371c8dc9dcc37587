import '@testing-library/jest-dom';
import { TextDecoder, TextEncoder } from 'node:util';

// Browser APIs that @grafana/ui (and react-dom/server, which it imports) use and jsdom does not implement.
Object.assign(globalThis, { TextEncoder, TextDecoder });

Object.defineProperty(window, 'matchMedia', {
  writable: true,
  value: (query: string) => ({
    matches: false,
    media: query,
    onchange: null,
    addListener: () => {},
    removeListener: () => {},
    addEventListener: () => {},
    removeEventListener: () => {},
    dispatchEvent: () => false,
  }),
});

class ResizeObserverStub {
  observe() {}
  unobserve() {}
  disconnect() {}
}
Object.defineProperty(window, 'ResizeObserver', { writable: true, value: ResizeObserverStub });
Object.defineProperty(window, 'IntersectionObserver', { writable: true, value: ResizeObserverStub });

// Combobox sizes its menu with canvas text metrics; jsdom has no canvas, so approximate widths.
Object.defineProperty(HTMLCanvasElement.prototype, 'getContext', {
  writable: true,
  value: () => ({ font: '', measureText: (text: string) => ({ width: text.length * 8 }) }),
});

// i18next (initialised by @grafana/ui) advertises itself on console.info; keep test output readable.
const consoleInfo = console.info.bind(console);
console.info = (...args: unknown[]) => {
  if (typeof args[0] === 'string' && args[0].includes('i18next is made possible')) {
    return;
  }
  consoleInfo(...args);
};

// jsdom lays nothing out, so every element measures 0 and Combobox's virtualised list renders no
// option. Give elements a plausible size: lists get room for their options.
for (const [property, size] of [
  ['clientHeight', 400],
  ['clientWidth', 400],
  ['offsetHeight', 32],
  ['offsetWidth', 200],
] as const) {
  Object.defineProperty(HTMLElement.prototype, property, { configurable: true, get: () => size });
}
