/**
 * Regenerates `samples/assets/watermark.png`, the logo used by image watermark tests and demos:
 * `node bin/run-ts.js samples/make-watermark.ts`. Drawn from an SVG written here (not a user
 * file), so the PNG is reproducible and small; it has real alpha (a translucent badge with a
 * transparent surround) so tests can see opacity being applied.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="256" height="96" viewBox="0 0 256 96">
  <rect x="4" y="4" width="248" height="88" rx="20" fill="#1d4ed8" fill-opacity="0.85"/>
  <circle cx="50" cy="48" r="26" fill="#ffffff"/>
  <path d="M38 60 L50 32 L62 60 Z" fill="#1d4ed8"/>
  <rect x="92" y="30" width="140" height="12" rx="6" fill="#ffffff"/>
  <rect x="92" y="54" width="100" height="12" rx="6" fill="#ffffff" fill-opacity="0.8"/>
</svg>`;

const out = path.join(path.dirname(fileURLToPath(import.meta.url)), 'assets', 'watermark.png');
const info = await sharp(Buffer.from(svg)).png({ compressionLevel: 9, palette: false }).toFile(out);
console.log(`wrote ${out}: ${info.width}x${info.height}, ${info.size} bytes`);
