/** @module The console's language: zh-CN by default, English by a switch remembered in localStorage; t() looks every string up in messages.js. */
import { LANGUAGES, messages } from './messages.js';

const STORAGE_KEY = 'quanlu.lang';
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

/** The language in use ('zh-CN' or 'en'). */
export function lang() {
  return current;
}

/** Switches the language, remembers it, and tells every listener (views re-render). */
export function setLang(next) {
  if (!LANGUAGES.includes(next) || next === current) return;
  current = next;
  try {
    globalThis.localStorage?.setItem(STORAGE_KEY, next);
  } catch {
    // Private mode: the switch still holds for this page.
  }
  for (const fn of listeners) fn(next);
}

/** Calls `fn(lang)` after every switch; returns the unsubscribe function. */
export function onLangChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Whether the catalogue has this key. */
export function has(key) {
  return Object.hasOwn(messages[current], key);
}

/** The message `key` in the current language, `{name}` placeholders filled from `params`. */
export function t(key, params = {}) {
  const table = messages[current];
  const text = Object.hasOwn(table, key) ? table[key] : key;
  return text.replace(/\{(\w+)\}/g, (whole, name) =>
    Object.hasOwn(params, name) ? String(params[name]) : whole,
  );
}

/** A date and time in the current language's style, in the viewer's time zone, to the second. */
export function formatTime(iso) {
  if (!iso) return t('common.none');
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toLocaleString(current, { hour12: false, dateStyle: 'medium', timeStyle: 'medium' });
}

/** A clock time (hh:mm:ss) in the viewer's time zone. */
export function formatClock(ms) {
  return new Date(ms).toLocaleTimeString(current, { hour12: false });
}

/** A duration in seconds as h:mm:ss or m:ss. */
export function formatDuration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}
