// The demo page in headless Chromium, through its real controls: train on a 10,000-image subset to a
// validation accuracy bar, check that the page reads right before and after (placeholders, model summary,
// charts, confusion colours, mistakes' order) and fits a phone's width, draw a digit with the mouse and read
// the prediction, load a model file made in Node, and fail on any console error or uncaught exception. The
// page is saved as screenshots at desktop and phone widths.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'puppeteer';
import { afterAll, describe, expect, it } from 'vitest';
import { splitMnist } from '../../src/data/mnist.js';
import { saveCheckpoint } from '../../src/engine/checkpoint.js';
import { Model } from '../../src/engine/model.js';
import { loadMnist } from '../../src/node/mnistFiles.js';
import { collectPageErrors, launchChromium, startViteServer } from '../../src/node/chromium.js';
import { openTestDevice } from '../helpers/gpu.js';
import { mlpOptions } from '../helpers/model.js';

export const ARTIFACTS = join('test-artifacts');
const gpu = await openTestDevice();
const { server, origin } = await startViteServer();
const browser = await launchChromium();
const page = await browser.newPage();
await page.setViewport({ width: 1280, height: 900 });
const errors = collectPageErrors(page);
afterAll(async () => {
  await browser.close();
  await server.close();
});

const state = (p: Page) => p.$eval('body', (b) => b.dataset.state);
const waitForState = (p: Page, wanted: string, timeout = 600_000) =>
  p.waitForFunction((w) => document.body.dataset.state === w || document.body.dataset.state === 'error', { timeout, polling: 250 }, wanted)
    .then(async () => expect(await state(p), await p.$eval('#status', (s) => s.textContent)).toBe(wanted));

async function setField(p: Page, selector: string, value: string) {
  await p.$eval(selector, (e, v) => { (e as HTMLInputElement).value = v; e.dispatchEvent(new Event('input', { bubbles: true })); e.dispatchEvent(new Event('change', { bubbles: true })); }, value);
}

/** Whether each chart's placeholder sentence is showing, by chart id. */
const chartPlaceholders = (p: Page) =>
  p.$$eval('.chart-empty', (texts) => Object.fromEntries(texts.map((t) => [t.parentElement!.id, getComputedStyle(t).display !== 'none'])));

/** Lets ResizeObservers and layout settle after a viewport change. */
const nextFrames = (p: Page) => p.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));

/**
 * Elements that stick out of their card (.panel) on the right, and the page itself if it scrolls sideways.
 * Inside a scroller (overflow-x other than visible) only the scroller itself must fit: its content may scroll.
 */
const overflowing = (p: Page) => p.evaluate(() => {
  const name = (e: Element) => e.tagName.toLowerCase() + (e.id ? `#${e.id}` : '') + (typeof e.className === 'string' && e.className ? `.${e.className.trim().split(/\s+/).join('.')}` : '');
  const found: string[] = [];
  if (document.documentElement.scrollWidth > window.innerWidth) found.push(`the page scrolls sideways: ${document.documentElement.scrollWidth} > ${window.innerWidth}`);
  for (const card of Array.from(document.querySelectorAll('.panel'))) {
    const right = card.getBoundingClientRect().right;
    for (const e of Array.from(card.querySelectorAll('*'))) {
      let scrolled = false;
      for (let a = e.parentElement; a && a !== card && !scrolled; a = a.parentElement) scrolled = getComputedStyle(a).overflowX !== 'visible';
      const box = e.getBoundingClientRect();
      if (!scrolled && box.width > 0 && box.right > right + 1) found.push(`${name(e)} in ${name(card)}: right ${box.right.toFixed(0)} > ${right.toFixed(0)}`);
    }
  }
  return found;
});

describe('demo page', () => {
  it('opens from / (and /demo), names the adapter and loads MNIST, gzipped', async () => {
    for (const path of ['/', '/demo']) expect((await fetch(`${origin}${path}`, { redirect: 'manual' })).headers.get('location'), path).toBe('/demo/');
    const mnist: string[] = [];
    const onResponse = (r: { url(): string }) => r.url().includes('/mnist/') && mnist.push(r.url().replace(/.*\/mnist\//, ''));
    page.on('response', onResponse);
    await page.goto(`${origin}/`);
    expect(page.url()).toBe(`${origin}/demo/`);
    await waitForState(page, 'ready', 120_000);
    page.off('response', onResponse);
    expect(mnist.sort()).toEqual(['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz', 'train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz']);
    expect(await page.$eval('#adapter', (e) => e.textContent)).toMatch(/swiftshader|\w+/);
  });

  it('before training: placeholders instead of empty charts, the model summary for the form, sample digits', async () => {
    expect(await chartPlaceholders(page)).toEqual({ 'loss-chart': true, 'accuracy-chart': true, 'val-chart': true });
    const total = () => page.$eval('#model-summary', (e) => Number((e as HTMLElement).dataset.total));
    expect(await total()).toBe(397_510); // 784-500-10: (784 + 1)·500 + (500 + 1)·10
    expect(await page.$eval('#model-summary tfoot', (e) => e.textContent)).toMatch(/397,510/);
    await setField(page, '#hidden', '256,128');
    expect(await total()).toBe(785 * 256 + 257 * 128 + 129 * 10);
    await setField(page, '#hidden', '500');
    expect(await total()).toBe(397_510);
    // The CNN preset: shapes per layer, its parameters (conv 8·25 + 8, conv 16·200 + 16, 256·128 + 128, 129·10).
    await page.select('#network', 'cnn');
    expect(await total()).toBe(208 + 3216 + 32_896 + 1290);
    const outputs = await page.$$eval('#model-summary tbody tr', (rows) => rows.map((r) => r.children[1].textContent));
    expect(outputs).toEqual(['1×28×28', '8×24×24', '8×24×24', '8×12×12', '16×8×8', '16×8×8', '16×4×4', '256', '128', '128', '128', '10']);
    expect(await page.$eval('#hidden', (e) => (e as HTMLInputElement).disabled)).toBe(true);
    await page.select('#network', 'mlp');
    expect(await total()).toBe(397_510);
    const labels = await page.$$eval('#digit-preview figure', (figures) => figures.map((f) => [f.querySelectorAll('canvas').length, f.textContent]));
    expect(labels).toHaveLength(8);
    expect(labels.every(([canvases, label]) => canvases === 1 && /^\d$/.test(String(label)))).toBe(true);
    // The distortions preview: the same digits, drawn anew at each click; a bad range is named.
    const previewPixels = () => page.$$eval('#augment-grid canvas', (canvases) => canvases.map((c) => {
      const canvas = c as HTMLCanvasElement;
      return Array.from(canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data).join(',');
    }));
    await page.click('#augment-preview');
    const first = await previewPixels();
    await page.click('#augment-preview');
    const second = await previewPixels();
    expect(first).toHaveLength(8);
    expect(second).toHaveLength(8);
    expect(second.filter((p, i) => p !== first[i]).length, 'each click distorts anew').toBe(8);
    expect(await page.$$eval('#augment-grid figcaption', (f) => f.map((e) => e.textContent))).toEqual(labels.map(([, label]) => label));
    await setField(page, '#augment', 'rotate=500');
    await page.click('#augment-preview');
    expect(await page.$eval('#augment-grid', (e) => e.textContent)).toMatch(/rotate must be a number in \[0, 180\] degrees, got 500/);
    await setField(page, '#augment', 'rotate=12,scale=0.12,shear=0.1,shift=2,elastic=34:4');
    await page.click('#augment-preview');
    expect(await page.$$eval('#augment-grid canvas', (c) => c.length)).toBe(8);
  });

  it('trains through the buttons to ≥ 95 % validation accuracy on 10,000 images', async () => {
    await setField(page, '#train-size', '10000');
    await setField(page, '#epochs', '5');
    await page.click('#train');
    await page.waitForFunction(() => document.body.dataset.state === 'training', { timeout: 30_000 });
    await waitForState(page, 'done');
    const validation = Number(await page.$eval('#val-accuracy', (e) => (e as HTMLElement).dataset.value));
    const test = Number(await page.$eval('#test-accuracy', (e) => (e as HTMLElement).dataset.value));
    // The start-up figure: from pressing Train (MNIST in memory) to the first step done on the GPU.
    const firstStepMs = Number(await page.$eval('#first-step', (e) => (e as HTMLElement).dataset.ms));
    console.log(`demo: validation accuracy ${(100 * validation).toFixed(2)} %, test ${(100 * test).toFixed(2)} %, first step ${firstStepMs} ms`);
    expect(firstStepMs).toBeGreaterThan(0);
    expect(await page.$eval('#first-step', (e) => e.textContent)).toMatch(/^\d+ ms$|^\d+\.\d\d s$/);
    expect(validation).toBeGreaterThanOrEqual(0.95);
    expect(await page.$$eval('#misclassified canvas', (c) => c.length)).toBeGreaterThan(0);
    expect(await page.$$eval('#weights canvas', (c) => c.length)).toBeGreaterThan(0);
  });

  it('after training: the curve adds up to the epoch means, matrix colours follow row shares, surest mistakes first', async () => {
    expect(await chartPlaceholders(page)).toEqual({ 'loss-chart': false, 'accuracy-chart': false, 'val-chart': false });

    // Each epoch's intervals, weighted by their images, give back the epoch's mean training loss in the log.
    type Interval = { globalStep: number; images: number; loss: number; accuracy: number };
    const curve = await page.evaluate(() => (window as unknown as { webgpuDemo: { trainingCurve(): Interval[] } }).webgpuDemo.trainingCurve());
    const logged = await page.$$eval('#epoch-log tr', (rows) => rows.map((r) => Number(r.children[1].textContent)));
    const stepsPerEpoch = Math.ceil(10_000 / 128);
    expect(curve.length).toBeGreaterThanOrEqual(5 * Math.floor(stepsPerEpoch / 10));
    logged.forEach((trainLoss, e) => {
      const epoch = curve.filter((i) => Math.ceil(i.globalStep / stepsPerEpoch) === e + 1);
      expect(epoch.reduce((n, i) => n + i.images, 0)).toBe(10_000);
      expect(epoch.reduce((sum, i) => sum + i.loss * i.images, 0) / 10_000).toBeCloseTo(trainLoss, 3);
    });
    expect(curve.every((i) => i.loss > 0 && i.accuracy >= 0 && i.accuracy <= 1)).toBe(true);

    // Every cell carries its share of its row; within the diagonal and within the mistakes, a larger share is never paler.
    const cells = await page.$$eval('table.confusion tbody tr', (rows) => rows.map((r) => Array.from(r.querySelectorAll('td[data-share]'), (td) => ({
      count: Number(td.textContent), share: Number((td as HTMLElement).dataset.share), hit: td.classList.contains('hit'),
      alpha: Number(/rgba\([^)]*,\s*([\d.]+)\)/.exec((td as HTMLElement).style.background)?.[1] ?? 0),
    }))));
    expect(cells).toHaveLength(10);
    for (const row of cells) {
      const total = row.reduce((n, c) => n + c.count, 0);
      for (const c of row) expect(c.share).toBeCloseTo(c.count / total, 12);
    }
    for (const hit of [true, false]) {
      const alphas = cells.flat().filter((c) => c.hit === hit && c.count > 0).sort((a, b) => a.share - b.share).map((c) => c.alpha);
      expect(alphas.every((a, i) => i === 0 || a >= alphas[i - 1])).toBe(true);
    }

    const confidence = await page.$$eval('#misclassified .digit', (digits) => digits.map((d) => Number((d as HTMLElement).dataset.confidence)));
    expect(confidence.length).toBeGreaterThan(0);
    expect(confidence.every((c, i) => c > 0 && c <= 1 && (i === 0 || c <= confidence[i - 1]))).toBe(true);
    expect(await page.$eval('#misclassified .digit .caption', (e) => e.textContent)).toMatch(/^said \d\d+\.\d% suretrue \d$/);
  });

  it('fits its cards at 1400 px and at a phone’s 390 px (screenshots of both)', async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    for (const [width, height] of [[1400, 900], [390, 844]]) {
      await page.setViewport({ width, height });
      await nextFrames(page);
      expect(await overflowing(page), `at ${width} px`).toEqual([]);
      await page.screenshot({ path: join(ARTIFACTS, `demo-${width}.png`), fullPage: true });
    }
    await page.setViewport({ width: 1280, height: 900 });
    await nextFrames(page);
  });

  it('predicts a digit drawn with the mouse', async () => {
    await page.$eval('#draw', (e) => e.scrollIntoView({ block: 'center' }));
    const box = (await (await page.$('#draw'))!.boundingBox())!;
    // A "1": one vertical stroke down the middle.
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.15);
    await page.mouse.down();
    for (let t = 0.15; t <= 0.85; t += 0.05) await page.mouse.move(box.x + box.width * (0.5 - 0.04 * t), box.y + box.height * t);
    await page.mouse.up();
    await page.waitForFunction(() => /^\d$/.test((document.querySelector('#predicted-digit') as HTMLElement).dataset.value ?? ''), { timeout: 60_000 });
    expect(await page.$eval('#predicted-digit', (e) => (e as HTMLElement).dataset.value)).toBe('1');
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'demo-trained.png'), fullPage: true });
  });

  it('loads a .safetensors model trained in Node and shows the same test accuracy', async () => {
    const splits = splitMnist(loadMnist(), { limit: 2000 });
    const model = new Model(gpu.device, { ...mlpOptions([784, 40, 10]), seed: 3, pixelMean: 0.1307, pixelStd: 0.3081 });
    await model.fit(splits.train, { epochs: 1, batchSize: 100, optimizer: { kind: 'adam', lr: 2e-3 } });
    const expected = (await model.evaluate(splits.test)).accuracy;
    mkdirSync(ARTIFACTS, { recursive: true });
    const file = join(ARTIFACTS, 'node-model.safetensors');
    writeFileSync(file, await saveCheckpoint(model));
    model.dispose();
    const input = await page.$('#model-file');
    await (input as unknown as { uploadFile(path: string): Promise<void> }).uploadFile(file);
    await page.waitForFunction((a) => (document.querySelector('#test-accuracy') as HTMLElement).dataset.value === String(a), { timeout: 120_000 }, expected);
    expect(Number(await page.$eval('#test-accuracy', (e) => (e as HTMLElement).dataset.value))).toBe(expected);
    expect(await page.$eval('#model-info', (e) => e.textContent)).toMatch(/784 → linear:40,relu,linear:10 \(31,810 parameters\)/);
  });

  it('runs the Bench panel (quick): every variant verifies and every kernel of the step is timed', async () => {
    await page.$eval('#bench-quick', (e) => { (e as HTMLInputElement).checked = true; e.dispatchEvent(new Event('change', { bubbles: true })); });
    await page.click('#bench-run');
    await page.waitForFunction(() => ['done', 'error'].includes((document.querySelector('#bench') as HTMLElement).dataset.status ?? ''), { timeout: 300_000, polling: 500 });
    expect(await page.$eval('#bench', (e) => (e as HTMLElement).dataset.status)).toBe('done');
    const verified = await page.$$eval('#bench-matmul tbody tr td:nth-child(2)', (cells) => cells.map((c) => c.textContent));
    expect(verified.length).toBeGreaterThan(10);
    expect(verified.filter((v) => v !== 'yes')).toEqual([]);
    const kernels = await page.$$eval('#bench-step tbody tr', (rows) => rows.map((r) => r.textContent ?? ''));
    expect(kernels.some((k) => k.startsWith('adamUpdate'))).toBe(true);
  });

  it('queues two configurations in the Experiments panel (an MLP, a CNN), overlays their curves and ranks them, as CSV too', async () => {
    // The Activation field offers the registry's activations, and refuses a kind that is not one.
    const offered = await page.$$eval('#exp-activations option', (options) => options.map((o) => (o as HTMLOptionElement).value));
    expect(offered).toEqual(expect.arrayContaining(['relu', 'gelu', 'leakyrelu', 'silu']));
    expect(offered).not.toContain('linear');
    await setField(page, '#exp-activation', 'linear:5');
    await page.click('#exp-add');
    expect(await page.$eval('#exp-error', (e) => (e as HTMLElement).hidden ? '' : e.textContent)).toMatch(/^activation: 'linear:5' is not one of relu/);
    await setField(page, '#exp-train-size', '600');
    await setField(page, '#exp-epochs', '2');
    await setField(page, '#exp-hidden', '32');
    await setField(page, '#exp-activation', 'silu');
    await page.click('#exp-add');
    await setField(page, '#exp-hidden', 'conv2d:4:k=5,leakyrelu:0.2,maxpool2d:2,flatten,linear:10');
    await setField(page, '#exp-schedule', 'cosine');
    await setField(page, '#exp-label-smoothing', '0.1');
    await page.click('#exp-add');
    expect(await page.$$eval('#exp-queue li', (items) => items.map((i) => i.textContent))).toEqual([
      'linear:32,silu,linear:10 adam lr=0.001 b128 constant', 'conv2d:4:k=5,leakyrelu:0.2,maxpool2d:2,flatten,linear:10 adam lr=0.001 b128 cosine ls=0.1',
    ]);
    await page.click('#exp-run');
    await page.waitForFunction(() => ['done', 'error'].includes((document.querySelector('#experiments') as HTMLElement).dataset.status ?? ''), { timeout: 300_000, polling: 500 });
    expect(await page.$eval('#experiments', (e) => (e as HTMLElement).dataset.status), await page.$eval('#exp-progress', (e) => e.textContent)).toBe('done');
    const rows = await page.$$eval('#exp-table tbody tr', (trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent)));
    expect(rows).toHaveLength(2);
    expect(rows.map((r) => r[0])).toEqual(['1', '2']);
    expect(rows.every((r) => r[9] === 'ok' && /^\d+\.\d\d%$/.test(r[5] ?? ''))).toBe(true);
    // One line per configuration (uPlot's legend lists the x series too).
    expect(await page.$$eval('#exp-chart .u-legend .u-series', (s) => s.length)).toBe(3);
    const csv = await page.$eval('#exp-csv', async (a) => (await fetch((a as HTMLAnchorElement).href)).text());
    const lines = csv.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^rank,hidden,layers,dropout,lr,batchSize,optimizer,/);
    await page.$eval('#experiments', (e) => e.scrollIntoView());
    await page.screenshot({ path: join(ARTIFACTS, 'demo-experiments.png'), fullPage: true });
  });

  it('says when the GPU device is lost mid-training, and resumes from the last finished epoch on a new device', async () => {
    await setField(page, '#train-size', '3000');
    await setField(page, '#epochs', '4');
    await page.click('#train');
    await page.waitForFunction(() => document.body.dataset.state === 'training', { timeout: 30_000 });
    await page.waitForFunction(() => document.querySelectorAll('#epoch-log tr').length >= 1, { timeout: 300_000, polling: 100 });
    await page.evaluate(() => (window as unknown as { webgpuDemo: { loseDevice(): void } }).webgpuDemo.loseDevice());
    await page.waitForFunction(() => !(document.querySelector('#resume') as HTMLButtonElement).hidden, { timeout: 120_000, polling: 250 });
    expect(await page.$eval('#status', (s) => s.textContent)).toMatch(/^Training stopped: the GPU device was lost \(destroyed.*\)\. The \d finished epochs? (is|are) kept; press Resume training/);
    await page.click('#resume');
    await waitForState(page, 'done');
    expect(await page.$$eval('#epoch-log tr td:first-child', (cells) => cells.map((c) => c.textContent))).toEqual(['1', '2', '3', '4']);
    expect(Number(await page.$eval('#val-accuracy', (e) => (e as HTMLElement).dataset.value))).toBeGreaterThan(0.9);
  });

  it('still fits a phone’s width with every table filled (bench, experiments, a resumed run)', async () => {
    await page.setViewport({ width: 390, height: 844 });
    await nextFrames(page);
    expect(await overflowing(page)).toEqual([]);
    await page.setViewport({ width: 1280, height: 900 });
  });

  it('logged no console errors and no uncaught exceptions', () => {
    expect(errors).toEqual([]);
  });
});
