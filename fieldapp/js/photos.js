// Photos shrunk on the phone before they are queued: EXIF orientation applied, long edge at most
// app.photo_long_edge, JPEG 0.8, then smaller until under app.photo_max_bytes. One photo at a time,
// and each decoded bitmap freed at once, so a phone never holds two 12-megapixel images.
import { appSettings } from './session.js';

const QUALITIES = [0.8, 0.7, 0.6, 0.5];

function canvasFor(width, height) {
  if (typeof OffscreenCanvas !== 'undefined') return new OffscreenCanvas(width, height);
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  return canvas;
}

function encode(canvas, quality) {
  if (canvas.convertToBlob) return canvas.convertToBlob({ type: 'image/jpeg', quality });
  return new Promise((resolve, reject) => {
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('encode failed'))), 'image/jpeg', quality);
  });
}

async function decode(file) {
  try {
    return await createImageBitmap(file, { imageOrientation: 'from-image' });
  } catch {
    // Older engines: an <img> applies EXIF orientation itself.
    const url = URL.createObjectURL(file);
    try {
      const img = new Image();
      img.src = url;
      await img.decode();
      return img;
    } finally {
      URL.revokeObjectURL(url);
    }
  }
}

/** One file → {blob, bytes, width, height}, never larger than the cap. */
async function shrink(file) {
  const { photo_long_edge: longEdge, photo_max_bytes: cap } = appSettings();
  const source = await decode(file);
  const w0 = source.width || source.naturalWidth;
  const h0 = source.height || source.naturalHeight;
  try {
    let scale = Math.min(1, longEdge / Math.max(w0, h0));
    for (let round = 0; round < 8; round += 1) {
      const width = Math.max(1, Math.round(w0 * scale));
      const height = Math.max(1, Math.round(h0 * scale));
      const canvas = canvasFor(width, height);
      const ctx = canvas.getContext('2d');
      ctx.fillStyle = '#fff'; // a transparent PNG would turn black in JPEG
      ctx.fillRect(0, 0, width, height);
      ctx.drawImage(source, 0, 0, width, height);
      for (const quality of QUALITIES) {
        const blob = await encode(canvas, quality);
        if (blob.size <= cap) return { blob, bytes: blob.size, width, height };
      }
      scale *= 0.75;
    }
    throw new Error('photo cannot be made small enough');
  } finally {
    source.close?.();
  }
}

/** Shrink files one after another; `progress(i, n)` before each. Failed files are reported, not fatal. */
export async function shrinkAll(files, progress) {
  const out = [];
  const failed = [];
  for (let i = 0; i < files.length; i += 1) {
    progress?.(i + 1, files.length);
    try {
      out.push({ id: crypto.randomUUID(), ...(await shrink(files[i])) });
    } catch {
      failed.push(files[i].name);
    }
  }
  return { photos: out, failed };
}
