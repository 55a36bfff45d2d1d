// <ws-file-upload> in Chromium: the whole queue's progress (properties and one bar above the list), bars that
// fill from the right in RTL, 44 px touch targets on a coarse pointer, no drop text on touch-only devices,
// the `theme` attribute, and plural forms by Intl.PluralRules.
import { expect, fixture, html, waitUntil } from '@open-wc/testing';
import { emulateMedia } from '@web/test-runner-commands';
import { mergeI18n, pluralForm, fill } from '../../src/element/i18n.ts';
import { WsFileUpload } from '../../src/element/ws-file-upload.ts';
import { makeFile } from '../helpers/make-file.ts';
import { serve, stopServers, part, text } from '../helpers/element-fixtures.ts';

/**
 * Emulates the system colour scheme where the runner can (Chromium, over CDP; Firefox over BiDi and WebKit
 * over classic WebDriver cannot).
 *
 * @returns whether it could
 */
async function colorScheme(scheme: 'light' | 'dark'): Promise<boolean> {
  try {
    await emulateMedia({ colorScheme: scheme });
    return true;
  } catch {
    return false;
  }
}

afterEach(async () => {
  stopServers();
  await colorScheme('light');
});

/**
 * Applies the rules inside the element's media blocks whose condition matches `condition`, as that device
 * would: a copy of them, unconditional, is adopted next to the element's own sheet (Chromium cannot be made
 * to report a coarse pointer from a test), so the check is on what those rules render, not on their text.
 */
function applyMediaRules(el: WsFileUpload, condition: RegExp): number {
  const root = el.shadowRoot!;
  const rules = root.adoptedStyleSheets
    .flatMap((sheet) => [...sheet.cssRules])
    .filter(
      (rule): rule is CSSMediaRule => rule instanceof CSSMediaRule && condition.test(rule.conditionText),
    )
    .flatMap((rule) => [...rule.cssRules].map((inner) => inner.cssText));
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(rules.join('\n'));
  root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
  return rules.length;
}

describe('<ws-file-upload> queue progress and polish', () => {
  it('shows the whole queue as one bar with bytes, and exposes its figures', async () => {
    const server = serve({ hold: true });
    const el = await fixture<WsFileUpload>(
      html`<ws-file-upload
        url=${server.url}
        multiple
        auto
        concurrency="1"
        chunk-size="1000"
      ></ws-file-upload>`,
    );
    el.addFiles([makeFile(1000, 'a.bin')]);
    await waitUntil(() => part(el, 'file') !== null, 'the row');
    expect(part(el, 'queue-progress')).to.equal(null, 'no queue bar for one file');
    el.addFiles([makeFile(3000, 'b.bin')]);
    await waitUntil(() => server.held === 1, 'the first chunk');
    server.release(); // a.bin complete
    await waitUntil(() => server.held === 1 && el.items[1]!.status === 'connecting', 'b.bin');
    server.release(); // 1000 of b.bin
    await waitUntil(() => el.progress.loaded === 2000, 'two acknowledged kilobytes');
    expect(el.progress.total).to.equal(4000);
    expect(el.progress.percentage).to.equal(50);
    expect(el.progress.counts.complete).to.equal(1);
    await waitUntil(
      () => part(el, 'queue-progress')?.getAttribute('aria-valuenow') === '50',
      'the bar at 50',
    );
    const bar = part(el, 'queue-progress')!;
    expect(bar.getAttribute('role')).to.equal('progressbar');
    expect(bar.getAttribute('aria-label')).to.equal('All files');
    expect(text(part(el, 'queue-details'))).to.match(/^2 kB of 4 kB/);
    // Above the list: summary, bar, details, then the list.
    const order = ['summary', 'queue-progress', 'queue-details', 'file-list-viewport'].map((name) =>
      part(el, name)!,
    );
    for (let i = 1; i < order.length; i++) {
      expect(
        order[i - 1]!.compareDocumentPosition(order[i]!) & Node.DOCUMENT_POSITION_FOLLOWING,
      ).to.not.equal(0);
    }
    await expect(el).to.be.accessible();
    server.release(true);
    await waitUntil(() => el.progress.percentage === 100, 'all done');
    expect(el.progress.remainingTime).to.equal(0);
  });

  for (const dir of ['ltr', 'rtl'] as const) {
    it(`fills the bars from the ${dir === 'rtl' ? 'right' : 'left'} in ${dir}`, async () => {
      const server = serve({ hold: true });
      const wrapper = await fixture<HTMLDivElement>(
        html`<div dir=${dir}>
          <ws-file-upload url=${server.url} auto chunk-size="1000"></ws-file-upload>
        </div>`,
      );
      const el = wrapper.querySelector('ws-file-upload')!;
      el.addFiles([makeFile(2000, 'half.bin')]);
      await waitUntil(() => server.held === 1, 'the first chunk');
      server.release();
      await waitUntil(() => part(el, 'progress')?.getAttribute('aria-valuenow') === '50', 'half way');
      const bar = part(el, 'progress')!;
      const indicator = part(el, 'progress-indicator')!;
      await waitUntil(
        () => Math.abs(indicator.getBoundingClientRect().width - bar.getBoundingClientRect().width / 2) < 0.5,
        'the bar to settle at half',
      );
      const outer = bar.getBoundingClientRect();
      const inner = indicator.getBoundingClientRect();
      if (dir === 'rtl') expect(Math.abs(inner.right - outer.right)).to.be.lessThan(0.5);
      else expect(Math.abs(inner.left - outer.left)).to.be.lessThan(0.5);
      await expect(el).to.be.accessible();
    });
  }

  it('grows every button to 44 px on a coarse pointer', async () => {
    const server = serve({ hold: true });
    const el = await fixture<WsFileUpload>(
      html`<ws-file-upload url=${server.url} multiple></ws-file-upload>`,
    );
    el.addFiles([makeFile(10, 'a.bin'), makeFile(10, 'b.bin')]);
    await waitUntil(() => part(el, 'cancel-button') !== null, 'the rows');
    const buttons = [...el.shadowRoot!.querySelectorAll('button')];
    expect(buttons.some((button) => button.getBoundingClientRect().height < 44)).to.equal(
      true,
      'smaller by default',
    );
    expect(applyMediaRules(el, /pointer:\s*coarse/)).to.be.greaterThan(0);
    for (const button of buttons) {
      const box = button.getBoundingClientRect();
      expect(box.width, button.getAttribute('part')!).to.be.at.least(44);
      expect(box.height, button.getAttribute('part')!).to.be.at.least(44);
    }
  });

  it('shows no "drop files here" on a touch-only device, only the button', async () => {
    const el = await fixture<WsFileUpload>(html`<ws-file-upload multiple></ws-file-upload>`);
    expect(part(el, 'drop-label')!.getBoundingClientRect().height).to.be.greaterThan(0);
    expect(applyMediaRules(el, /hover:\s*none.*pointer:\s*coarse/)).to.be.greaterThan(0);
    expect(part(el, 'drop-label')!.getBoundingClientRect().height).to.equal(0);
    expect(part(el, 'button')!.getBoundingClientRect().height).to.be.greaterThan(0);
    await expect(el).to.be.accessible();
  });

  it('keeps dark or light colours when the theme says so', async () => {
    const el = await fixture<WsFileUpload>(html`<ws-file-upload theme="dark"></ws-file-upload>`);
    const background = () => getComputedStyle(el).getPropertyValue('--ws-file-upload-background').trim();
    expect(background()).to.equal('#0d1117');
    expect(getComputedStyle(el).colorScheme).to.equal('dark');
    await expect(el).to.be.accessible();
    el.theme = 'light';
    await el.updateComplete;
    expect(el.getAttribute('theme')).to.equal('light', 'reflected, for the styles');
    expect(background()).to.equal('#ffffff');
    await expect(el).to.be.accessible();
  });

  it('follows the system with theme auto, and stays light on a dark system with theme light', async function (this: MochaContext) {
    const el = await fixture<WsFileUpload>(html`<ws-file-upload></ws-file-upload>`);
    const background = () => getComputedStyle(el).getPropertyValue('--ws-file-upload-background').trim();
    expect(el.getAttribute('theme')).to.equal('auto');
    if (!(await colorScheme('dark'))) this.skip(); // needs media emulation: Chromium only
    expect(background()).to.equal('#0d1117', 'auto on a dark system');
    await expect(el).to.be.accessible();
    el.theme = 'light';
    await el.updateComplete;
    expect(background()).to.equal('#ffffff', 'a light page on a dark OS is not forced dark');
    await expect(el).to.be.accessible();
  });

  it('picks plural forms by Intl.PluralRules, falling back to other', () => {
    const forms = {
      one: '{count} file',
      few: '{count} pliki',
      many: '{count} plików',
      other: '{count} pliku',
    };
    expect(fill(forms, { count: 1 }, 'pl')).to.equal('1 file');
    expect(fill(forms, { count: 3 }, 'pl')).to.equal('3 pliki');
    expect(fill(forms, { count: 5 }, 'pl')).to.equal('5 plików');
    expect(pluralForm({ other: 'x' }, 1, 'en')).to.equal('x');
    expect(pluralForm('plain', 2)).to.equal('plain');
    expect(pluralForm({ one: 'a', other: 'b' }, 1, 'not a tag!')).to.equal(
      'a',
      'a bad lang uses the page rules',
    );
    const t = mergeI18n({ announce: { added: { one: 'Un fichier.', other: '{count} fichiers.' } } });
    expect(fill(t.announce.added, { count: 0 }, 'fr')).to.equal('Un fichier.', 'French says "one" for 0');
    expect(fill(t.announce.added, { count: 2 }, 'fr')).to.equal('2 fichiers.');
    expect(t.announce.rejected).to.equal('{name} not added: {reason}', 'the rest stays');
  });
});
