/**
 * @module The plain-text warning (issue 10): when the ingest says it speaks without TLS
 * (GET /api/v1/transport answers tls: false), or that MQTT to its broker does (mqttTls: false), a banner
 * above every page says so, in the current language.
 */
import { onLangChange, t } from './i18n.js';

/** @type {'' | 'all' | 'mqtt'} what speaks plain text: everything (tls.mode off), or only MQTT */
let plaintext = '';

/** Asks the ingest once and shows the banner when TLS is off; a failed check shows nothing. */
export async function checkTransport() {
  try {
    const res = await fetch('/api/v1/transport', { headers: { accept: 'application/json' } });
    if (res.ok) {
      const transport = await res.json();
      plaintext = transport.tls === false ? 'all' : transport.mqttTls === false ? 'mqtt' : '';
    }
  } catch {
    plaintext = '';
  }
  render();
}

function render() {
  const el = document.getElementById('transport');
  if (!el) return;
  el.hidden = !plaintext;
  el.textContent =
    plaintext === 'all' ? t('app.plaintext') : plaintext === 'mqtt' ? t('app.plaintextMqtt') : '';
}

onLangChange(render);
