/**
 * @module The plain-text warning (issue 10): when the ingest says it speaks without TLS
 * (GET /api/v1/transport answers tls: false), a banner above every page says so, in the current language.
 */
import { onLangChange, t } from './i18n.js';

let plaintext = false;

/** Asks the ingest once and shows the banner when TLS is off; a failed check shows nothing. */
export async function checkTransport() {
  try {
    const res = await fetch('/api/v1/transport', { headers: { accept: 'application/json' } });
    if (res.ok) plaintext = (await res.json()).tls === false;
  } catch {
    plaintext = false;
  }
  render();
}

function render() {
  const el = document.getElementById('transport');
  if (!el) return;
  el.hidden = !plaintext;
  el.textContent = plaintext ? t('app.plaintext') : '';
}

onLangChange(render);
