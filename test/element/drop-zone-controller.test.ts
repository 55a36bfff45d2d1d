// The drop zone controller on a minimal host: drops become files through its sources in order (a source that
// returns null passes, one that returns a promise delivers later), picks come through the hidden input, the
// host's `dragover` attribute follows the drag, and nothing is taken while disabled.
import { expect, fixture, html as fixtureHtml, waitUntil } from '@open-wc/testing';
import { LitElement } from 'lit';
import { DropZoneController } from '../../src/element/drop-zone-controller.ts';

const got: { names: string[]; how: string }[] = [];
let disabled = false;

class ZoneHost extends LitElement {
  readonly zone = new DropZoneController(
    this,
    () => disabled,
    (files, how) => got.push({ names: files.map((f) => (f instanceof File ? f : f.file).name), how }),
  );
  override render() {
    return this.zone.render({ label: 'Drop', buttonLabel: 'Pick', accept: '', multiple: true, disabled });
  }
}
customElements.define('zone-host', ZoneHost);

function drop(host: ZoneHost, type: string, files: File[]): DragEvent {
  const data = new DataTransfer();
  for (const file of files) data.items.add(file);
  const event = new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true, composed: true });
  host.shadowRoot!.querySelector('[part~="drop-zone"]')!.dispatchEvent(event);
  return event;
}

describe('DropZoneController', () => {
  beforeEach(() => {
    got.length = 0;
    disabled = false;
  });

  it('takes a drop through the plain source and reflects the drag on the host', async () => {
    const host = await fixture<ZoneHost>(fixtureHtml`<zone-host></zone-host>`);
    const over = drop(host, 'dragover', [new File(['x'], 'a.txt')]);
    expect(over.defaultPrevented).to.equal(true, 'a drop target');
    expect(host.hasAttribute('dragover')).to.equal(true);
    drop(host, 'drop', [new File(['x'], 'a.txt'), new File(['y'], 'b.txt')]);
    expect(host.hasAttribute('dragover')).to.equal(false);
    expect(got).to.deep.equal([{ names: ['a.txt', 'b.txt'], how: 'drop' }]);
  });

  it('asks the sources in order: null passes on, a promise delivers when it settles', async () => {
    const host = await fixture<ZoneHost>(fixtureHtml`<zone-host></zone-host>`);
    const asked: string[] = [];
    host.zone.sources.unshift(
      () => (asked.push('first'), null),
      (data) => (asked.push('second'), Promise.resolve([new File(['z'], `from-${data.files.length}.txt`)])),
    );
    drop(host, 'drop', [new File(['x'], 'a.txt')]);
    expect(asked).to.deep.equal(['first', 'second']);
    expect(got).to.deep.equal([], 'not yet');
    await waitUntil(() => got.length === 1, 'the promised files');
    expect(got).to.deep.equal([{ names: ['from-1.txt'], how: 'drop' }], 'the plain source was not asked');
  });

  it('refuses drags and drops while disabled', async () => {
    disabled = true;
    const host = await fixture<ZoneHost>(fixtureHtml`<zone-host></zone-host>`);
    expect(drop(host, 'dragover', [new File(['x'], 'a.txt')]).defaultPrevented).to.equal(false);
    drop(host, 'drop', [new File(['x'], 'a.txt')]);
    expect(got).to.deep.equal([]);
    expect(host.hasAttribute('dragover')).to.equal(false);
  });

  it('delivers picked files as a pick and clears the input', async () => {
    const host = await fixture<ZoneHost>(fixtureHtml`<zone-host></zone-host>`);
    const input = host.shadowRoot!.querySelector<HTMLInputElement>('input[type=file]')!;
    const data = new DataTransfer();
    data.items.add(new File(['p'], 'picked.txt'));
    input.files = data.files;
    input.dispatchEvent(new Event('change'));
    expect(got).to.deep.equal([{ names: ['picked.txt'], how: 'pick' }]);
    expect(input.value).to.equal('');
    expect(host.zone.pickerButton?.textContent?.trim()).to.equal('Pick');
  });
});
