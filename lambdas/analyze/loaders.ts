/**
 * The bytes are untrusted, so libvips may only run the raster loaders we answer for. Blocking
 * every loader and unblocking a list keeps SVG (librsvg), PDF and any loader a future libvips
 * adds out, even if the format sniffing would have picked them. PNG and GIF bytes never reach
 * libvips here (our readers take them first); their loaders serve the benchmark's baseline.
 *
 * libvips keeps these blocks process-wide, and applying them passes through an instant where
 * every loader is blocked: a decode running then in another thread fails ("operation is
 * blocked"), and a valid image would be answered as unreadable. In Lambda a process is one
 * environment and the blocks are set at import, before any decode. The local twin runs several
 * sandboxes (worker threads) in one process: it sets the blocks once in its main thread and
 * tells the sandboxes so (config.ts, `loadersRestrictedByHost`), so that a sandbox's cold start
 * never re-applies them under a sibling's decode.
 */
import sharp from 'sharp';

export const ALLOWED_LOADERS = [
  'VipsForeignLoadJpegBuffer',
  'VipsForeignLoadPngBuffer',
  'VipsForeignLoadWebpBuffer',
  'VipsForeignLoadNsgifBuffer',
  'VipsForeignLoadTiffBuffer',
  'VipsForeignLoadHeifBuffer',
] as const;

let restricted = false;

/** Sets the blocks, once per thread. */
export const restrictLoaders = () => {
  if (restricted) return;
  restricted = true;
  sharp.block({ operation: ['VipsForeignLoad'] });
  sharp.unblock({ operation: [...ALLOWED_LOADERS] });
};
