/** @module The reason-for-access dialog: asked once per recording and session when the ingest requires a reason before playback. */
import { api } from './api.js';
import { field, h, replace } from './dom.js';
import { errorBox } from './feedback.js';
import { t } from './i18n.js';
import { reasonGiven } from './session.js';

/** Shortest reason accepted by the console (a word or two is not a reason). */
export const MIN_REASON_LENGTH = 4;

/**
 * Asks for a reason in a modal dialog and records it (POST .../access). Resolves true once recorded,
 * false when the person cancels.
 */
export function askReason(recording) {
  return new Promise((resolve) => {
    const text = h('textarea', { id: 'reason-text', rows: 3, required: true, maxlength: 500 });
    const status = h('div', { 'aria-live': 'assertive' });
    const ok = h('button', { type: 'submit', class: 'primary' }, t('reason.submit'));
    const cancel = h('button', { type: 'button' }, t('reason.cancel'));
    const form = h(
      'form',
      { method: 'dialog' },
      h('h2', { id: 'reason-title' }, t('reason.title')),
      h('p', {}, t('reason.explain')),
      field(t('reason.label'), text),
      status,
      h('div', { class: 'actions' }, cancel, ok),
    );
    const dialog = h('dialog', { class: 'reason', 'aria-labelledby': 'reason-title' }, form);
    const finish = (value) => {
      dialog.close();
      dialog.remove();
      resolve(value);
    };
    cancel.addEventListener('click', () => finish(false));
    dialog.addEventListener('cancel', (ev) => {
      ev.preventDefault();
      finish(false);
    });
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const reason = text.value.trim();
      if (reason.length < MIN_REASON_LENGTH) {
        replace(
          status,
          h('p', { class: 'alert', role: 'alert' }, t('reason.tooShort', { min: MIN_REASON_LENGTH })),
        );
        text.focus();
        return;
      }
      ok.disabled = true;
      try {
        await api.giveReason(recording, reason);
        reasonGiven(recording);
        finish(true);
      } catch (err) {
        replace(status, errorBox(err));
        ok.disabled = false;
      }
    });
    document.body.append(dialog);
    dialog.showModal();
    text.focus();
  });
}
