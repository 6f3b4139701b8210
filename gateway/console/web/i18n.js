/** @module The console's language: zh-CN by default, English by a switch remembered in localStorage; t() looks every string up in messages.js. */
import { LANGUAGES, messages } from './messages.js';

const STORAGE_KEY = 'quanlu.console.lang';
const listeners = new Set();

function stored() {
  try {
    const v = globalThis.localStorage?.getItem(STORAGE_KEY);
    return v && LANGUAGES.includes(v) ? v : null;
  } catch {
    return null;
  }
}

let current = stored() ?? LANGUAGES[0];

/** The language in use. */
export function lang() {
  return current;
}

/** Switches the language, remembers it, and tells every listener. */
export function setLang(next) {
  if (!LANGUAGES.includes(next) || next === current) return;
  current = next;
  try {
    globalThis.localStorage?.setItem(STORAGE_KEY, next);
  } catch {
    // Private mode: the switch holds for this page.
  }
  for (const fn of listeners) fn(next);
}

/** Calls `fn(lang)` after every switch. */
export function onLangChange(fn) {
  listeners.add(fn);
}

/** Whether the catalogue has this key. */
export function has(key) {
  return Object.hasOwn(messages[current], key);
}

/** The message `key` in the current language, `{name}` placeholders filled from `params` (missing ones empty). */
export function t(key, params = {}) {
  const table = messages[current];
  const text = Object.hasOwn(table, key) ? table[key] : key;
  return text.replace(/\{(\w+)\}/g, (_whole, name) =>
    Object.hasOwn(params, name) ? String(params[name]) : '',
  );
}

/** Fills `data-i18n` (text) markers under `root`. */
export function applyI18n(root) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  document.documentElement.lang = current;
  document.title = t('app.title');
}

/** A duration in milliseconds as h:mm:ss or m:ss. */
export function formatDuration(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}
