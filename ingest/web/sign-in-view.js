/** @module The sign-in page: username and password, with a clear message for wrong credentials, rate limits and expired sessions. */
import { api } from './api.js';
import { field, h, replace } from './dom.js';
import { errorBox } from './feedback.js';
import { t } from './i18n.js';

/** Renders the sign-in form; `notice` is a catalogue key saying why the person is here. */
export function renderSignIn(container, { notice, back, onSignedIn }) {
  const username = h('input', { id: 'username', name: 'username', autocomplete: 'username', required: true });
  const password = h('input', {
    id: 'password',
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const status = h('div', { class: 'form-status', 'aria-live': 'assertive' });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('signIn.submit'));
  const form = h(
    'form',
    { class: 'panel sign-in', novalidate: true },
    h('h2', {}, t('signIn.title')),
    notice ? h('p', { class: 'notice', role: 'status' }, t(notice)) : null,
    field(t('signIn.username'), username),
    field(t('signIn.password'), password),
    status,
    h('div', { class: 'actions' }, submit),
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!username.value.trim() || !password.value) {
      replace(status, h('p', { class: 'alert', role: 'alert' }, t('signIn.missing')));
      (username.value.trim() ? password : username).focus();
      return;
    }
    submit.disabled = true;
    replace(status, h('p', { class: 'muted' }, t('signIn.working')));
    try {
      const body = await api.signIn(username.value.trim(), password.value);
      onSignedIn(body, back);
    } catch (err) {
      password.value = '';
      replace(status, errorBox(err));
      password.focus();
    } finally {
      submit.disabled = false;
    }
  });
  replace(container, form);
  username.focus();
  return null;
}
