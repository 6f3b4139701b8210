/** @module A tiny element builder: h(tag, attrs, ...children). Text children are set as text, never parsed as HTML. */

/**
 * An element with attributes (`class`, `on<event>` handlers, booleans, anything else as an attribute)
 * and children (nodes, strings as text, arrays flattened, null/false skipped).
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (name === 'class') el.className = value;
    else if (name === 'dataset') Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(name, '');
    else if (name === 'value' && 'value' in el) el.value = value;
    else el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces the children of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A labelled form field: <label for=id>text</label> followed by the control. */
export function field(labelText, control) {
  return h('div', { class: 'field' }, h('label', { for: control.id }, labelText), control);
}
