/** @module The recording's timeline: a slider over wall time (keyboard-operable), gaps marked under it with their reasons. */
import { h, replace } from './dom.js';
import { formatClock, formatDuration, has, t } from './i18n.js';

/** A gap's reason in words (the entry's reason code through the catalogue). */
export function gapReasonText(reason) {
  return has(`gap.reason.${reason}`) ? t(`gap.reason.${reason}`) : t('gap.reason.other');
}

function gapLabel(g) {
  return t('gap.label', {
    track: g.track,
    from: formatClock(g.from),
    to: formatClock(g.to),
    reason: gapReasonText(g.reason),
  });
}

/** Builds the timeline; `onSeek(wallMs)` when the person moves the slider (or picks a gap). */
export function createTimeline({ onSeek }) {
  let span = { from: 0, to: 1 };
  let gapsKey = '';
  let dragging = false;
  const slider = h('input', {
    id: 'timeline-slider',
    type: 'range',
    min: 0,
    max: 1000,
    step: 100,
    value: 0,
    class: 'slider',
  });
  const label = h('label', { for: 'timeline-slider', class: 'sr-only' }, t('timeline.label'));
  const position = h('span', { class: 'position', 'aria-live': 'off' });
  const length = h('span', { class: 'length' });
  const strip = h('div', { class: 'gap-strip', role: 'group', 'aria-label': t('timeline.gaps') });
  const info = h('div', { class: 'gap-info', role: 'status', 'aria-live': 'polite' });
  const list = h('ul', { class: 'gap-list' });
  slider.addEventListener('input', () => {
    dragging = true;
    position.textContent = formatClock(span.from + Number(slider.value));
  });
  slider.addEventListener('change', () => {
    dragging = false;
    onSeek(span.from + Number(slider.value));
  });

  const show = (g) =>
    replace(info, h('p', {}, gapLabel(g)), g.detail ? h('p', { class: 'detail' }, g.detail) : null);

  const el = h(
    'section',
    { class: 'timeline', 'aria-label': t('timeline.label') },
    h('div', { class: 'timeline-head' }, position, length),
    label,
    slider,
    strip,
    info,
    list,
  );

  return {
    el,
    /** Whether the person is dragging the slider (the player must not move it meanwhile). */
    get dragging() {
      return dragging;
    },
    /** Redraws for the wall-time span, the position on screen and the gaps of every track (one lane each). */
    update({ from, to, at, gaps, tracks }) {
      span = { from, to: Math.max(to, from + 1000) };
      const total = span.to - span.from;
      slider.max = String(total);
      if (!dragging && at !== null) {
        slider.value = String(Math.min(total, Math.max(0, at - span.from)));
        position.textContent = formatClock(at);
        slider.setAttribute('aria-valuetext', formatClock(at));
      }
      length.textContent = t('timeline.length', { length: formatDuration(total / 1000) });
      const key = JSON.stringify([span.from, Math.round(span.to / 5000), gaps, tracks]);
      if (key === gapsKey) return;
      gapsKey = key;
      // One lane per track, so the gaps of cameras that stopped together do not hide each other.
      replace(
        strip,
        tracks.map((track) =>
          h(
            'div',
            { class: 'gap-lane', dataset: { track } },
            gaps
              .filter((g) => g.track === track)
              .map((g) => {
                const b = h('button', {
                  type: 'button',
                  class: `gap-mark reason-${g.reason}`,
                  title: gapLabel(g),
                  'aria-label': gapLabel(g),
                  onclick: () => show(g),
                  onmouseenter: () => show(g),
                  onfocus: () => show(g),
                });
                b.style.left = `${(100 * Math.max(0, g.from - span.from)) / total}%`;
                b.style.width = `${Math.max(0.6, (100 * (g.to - g.from)) / total)}%`;
                return b;
              }),
          ),
        ),
      );
      replace(
        list,
        gaps.length
          ? gaps.map((g) =>
              h(
                'li',
                {},
                h('button', { type: 'button', class: 'link', onclick: () => onSeek(g.to) }, gapLabel(g)),
                g.detail ? h('span', { class: 'detail' }, ` ${g.detail}`) : null,
              ),
            )
          : h('li', { class: 'muted' }, t('gap.none')),
      );
    },
  };
}
