import { availableParallelism } from 'node:os';
import sharp from 'sharp';

/**
 * libvips loaders that must never see a source. Blocking is process-wide and also applies to
 * loaders we would never pick ourselves: a file that slips past `sniffImage` (or code elsewhere in
 * the process handing sharp a user file) still cannot reach them.
 *
 * - SVG (librsvg) from files: user SVG can reference other files and URLs and render unbounded
 *   work. The *buffer* SVG loader stays open because the text watermark renders an SVG string that
 *   this module builds itself, with the user's text XML-escaped.
 * - The loaders libvips itself marks untrusted (not fuzzed, or they parse anything): its native
 *   `.v` format, CSV, matrix, FITS, Analyze, NIfTI, OpenSlide, ImageMagick, PDF, PPM, Radiance;
 *   plus JPEG XL and JPEG 2000, which are outside the allow-list. Most are absent from sharp's
 *   prebuilt libvips; naming an absent one is harmless (libvips ignores unknown names).
 */
export const BLOCKED_LOADERS: readonly string[] = [
  'VipsForeignLoadSvgFile',
  'VipsForeignLoadSvgSource',
  'VipsForeignLoadVips',
  'VipsForeignLoadCsv',
  'VipsForeignLoadMatrix',
  'VipsForeignLoadFits',
  'VipsForeignLoadAnalyze',
  'VipsForeignLoadNifti',
  'VipsForeignLoadOpenslide',
  'VipsForeignLoadMagick',
  'VipsForeignLoadPdf',
  'VipsForeignLoadPpm',
  'VipsForeignLoadRad',
  'VipsForeignLoadJxl',
  'VipsForeignLoadJp2k',
];

/** How sharp is tuned for the worker model; see {@link configureSharp}. */
export interface SharpSettings {
  /** libvips threads per image pipeline (`sharp.concurrency`). */
  threadsPerImage: number;
  /** Whether libvips' operation cache is on (`sharp.cache`). */
  cache: boolean;
}

/**
 * Threads per image so that all the tasks a machine runs at once together use about one thread
 * per core: more would only contend for cores (and, with glibc malloc, grow an arena per thread).
 */
export function threadsPerImage(cores: number, parallelTasks: number): number {
  return Math.max(1, Math.floor(cores / Math.max(1, parallelTasks)));
}

let applied: SharpSettings | undefined;

/**
 * Sets sharp's process-wide knobs on purpose for a worker pool.
 *
 * Concurrency: a worker runs several tasks at once (p-queue or BullMQ concurrency), so the
 * parallelism comes from tasks, not from threads inside one image. libvips' default (a thread per
 * core per pipeline, which sharp already drops to 1 on glibc without jemalloc) multiplied by the
 * tasks in flight oversubscribes the cores and fragments memory. The default `parallelTasks` is
 * the core count, which gives one thread per image; a worker that runs fewer tasks than cores
 * (say one) should pass its real concurrency to get the idle cores back.
 *
 * Cache: off. The operation cache memoises libvips operations by their arguments, which pays off
 * when the same image is processed repeatedly in one process; a worker sees every source once.
 * Left on, it holds up to 50 MB and 20 open files per process, so worker memory stops tracking
 * the work in hand and deleted scratch files stay open. The bench measured no speed loss.
 *
 * Loaders: see {@link BLOCKED_LOADERS}.
 *
 * Idempotent; the image function calls it with defaults, and a worker entry point may call it
 * first with its own task concurrency.
 */
export function configureSharp(
  options: { parallelTasks?: number; cores?: number } = {},
): SharpSettings {
  const cores = options.cores ?? availableParallelism();
  const threads = threadsPerImage(cores, options.parallelTasks ?? cores);
  sharp.concurrency(threads);
  sharp.cache(false);
  sharp.block({ operation: [...BLOCKED_LOADERS] });
  applied = { threadsPerImage: sharp.concurrency(), cache: false };
  return applied;
}

/** Applies the defaults once, unless a worker already configured sharp. */
export function ensureSharpConfigured(): SharpSettings {
  return applied ?? configureSharp();
}
