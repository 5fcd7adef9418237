// The drawing pad: a 280×280 black canvas drawn on with a thick white round brush (mouse, pen or touch via
// pointer events). After each stroke, and every so often while drawing, the picture is turned into MNIST's
// 28×28 form and handed to `onDigit`.
import { toMnistDigit } from '../../src/data/digitImage.js';

const CSS_SIZE = 280;
/** About MNIST's stroke width once the digit is scaled into its 20×20 box. */
const BRUSH = 22;
const THROTTLE_MS = 150;

export class DrawingPad {
  private readonly context: CanvasRenderingContext2D;
  private readonly scale: number;
  private last: { x: number; y: number } | undefined;
  private lastEmit = 0;
  private hasInk = false;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly onDigit: (pixels: Uint8Array) => void,
  ) {
    // A backing store at the screen's density keeps the brush smooth; toMnistDigit accepts any size.
    this.scale = Math.min(2, Math.max(1, Math.round(window.devicePixelRatio || 1)));
    canvas.width = canvas.height = CSS_SIZE * this.scale;
    this.context = canvas.getContext('2d', { willReadFrequently: true })!;
    this.clear();
    canvas.addEventListener('pointerdown', (e) => this.down(e));
    canvas.addEventListener('pointermove', (e) => this.move(e));
    canvas.addEventListener('pointerup', (e) => this.up(e));
    canvas.addEventListener('pointercancel', (e) => this.up(e));
  }

  get empty(): boolean {
    return !this.hasInk;
  }

  clear(): void {
    const c = this.context;
    c.setTransform(1, 0, 0, 1, 0, 0);
    c.fillStyle = '#000';
    c.fillRect(0, 0, this.canvas.width, this.canvas.height);
    this.hasInk = false;
    this.last = undefined;
  }

  /** Shows a 28×28 digit (e.g. one from the test set) blown up, with the pixel blocks visible. */
  showDigit(pixels: Uint8Array): void {
    const small = new OffscreenCanvas(28, 28);
    const image = new ImageData(28, 28);
    for (let i = 0; i < 784; i++) image.data.set([pixels[i], pixels[i], pixels[i], 255], i * 4);
    small.getContext('2d')!.putImageData(image, 0, 0);
    this.clear();
    this.context.imageSmoothingEnabled = false;
    this.context.drawImage(small, 0, 0, this.canvas.width, this.canvas.height);
    this.hasInk = true;
  }

  /** The drawing in MNIST's form, or undefined when the pad is blank. */
  digit(): Uint8Array | undefined {
    if (!this.hasInk) return undefined;
    const { width, height } = this.canvas;
    const rgba = this.context.getImageData(0, 0, width, height).data;
    // White on black: every channel holds the ink, so the red one is the gray level.
    const gray = new Uint8Array(width * height);
    for (let i = 0; i < gray.length; i++) gray[i] = rgba[i * 4];
    return toMnistDigit({ width, height, pixels: gray });
  }

  private point(e: PointerEvent): { x: number; y: number } {
    const rect = this.canvas.getBoundingClientRect();
    return { x: ((e.clientX - rect.left) / rect.width) * CSS_SIZE, y: ((e.clientY - rect.top) / rect.height) * CSS_SIZE };
  }

  private stroke(from: { x: number; y: number }, to: { x: number; y: number }): void {
    const c = this.context;
    c.setTransform(this.scale, 0, 0, this.scale, 0, 0);
    c.strokeStyle = '#fff';
    c.lineWidth = BRUSH;
    c.lineCap = 'round';
    c.lineJoin = 'round';
    c.beginPath();
    c.moveTo(from.x, from.y);
    c.lineTo(to.x, to.y);
    c.stroke();
    this.hasInk = true;
  }

  private down(e: PointerEvent): void {
    if (e.pointerType === 'mouse' && e.button !== 0) return;
    e.preventDefault();
    this.canvas.setPointerCapture(e.pointerId);
    this.last = this.point(e);
    this.stroke(this.last, this.last); // a tap leaves a dot
  }

  private move(e: PointerEvent): void {
    if (!this.last) return;
    e.preventDefault();
    // Coalesced events keep fast strokes smooth where the browser batches pointer moves.
    const events = typeof e.getCoalescedEvents === 'function' ? e.getCoalescedEvents() : [];
    for (const event of events.length ? events : [e]) {
      const next = this.point(event);
      this.stroke(this.last, next);
      this.last = next;
    }
    if (performance.now() - this.lastEmit > THROTTLE_MS) this.emit();
  }

  private up(e: PointerEvent): void {
    if (!this.last) return;
    this.last = undefined;
    if (this.canvas.hasPointerCapture(e.pointerId)) this.canvas.releasePointerCapture(e.pointerId);
    this.emit();
  }

  private emit(): void {
    this.lastEmit = performance.now();
    const digit = this.digit();
    if (digit) this.onDigit(digit);
  }
}
