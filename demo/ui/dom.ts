// Small DOM helpers shared by the demo's views.

/** The element with this id; a missing one is a bug in index.html, so fail loudly. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`demo: #${id} is missing from index.html`);
  return element as T;
}

/** Creates an element with a class and optional text. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, className = '', text = ''): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text) element.textContent = text;
  return element;
}

export const percent = (fraction: number, digits = 2) => `${(fraction * 100).toFixed(digits)}%`;

/** Shows a fraction as a percentage, keeping the raw fraction in data-value for scripts and tests. */
export function showFraction(element: HTMLElement, fraction: number | undefined): void {
  if (fraction === undefined) {
    element.textContent = '–';
    element.removeAttribute('data-value');
  } else {
    element.textContent = percent(fraction);
    element.dataset.value = String(fraction);
  }
}

export const integer = (n: number) => Math.round(n).toLocaleString('en-US');
