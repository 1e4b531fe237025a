import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { analyzeImage, MAX_PIXELS, MEMORY_BUDGET } from '../../lambdas/analyze/analysis.ts';
import { readJpegHeader } from '../../lambdas/analyze/jpeg.ts';
import { readPng, readPngLarge } from '../../lambdas/analyze/png.ts';
import { readWebpHeader } from '../../lambdas/analyze/webp.ts';
import { type ImageAnalysis, isFailure } from '../../lambdas/shared/types.ts';
import { asOriginal, corpusAnswers, corpusBytes } from '../fixtures/differential/corpus.ts';
import {
  type Expected,
  fixtureExpected,
  fixtureImage,
  oracleExpected,
  oracleImage,
  originalAnswer,
} from '../support/fixtures.ts';

const expectOriginal = (analysis: ImageAnalysis, expected: Expected) => {
  expect(asOriginal(analysis)).toEqual(originalAnswer(expected));
  expect(analysis.bytes).toBe(expected.bytes);
  if (expected.mode && !isFailure(analysis)) expect(analysis.mode).toBe(expected.mode);
};

describe('analyzeImage against the original service', () => {
  it.each(fixtureExpected())('answers %s exactly as the original did', async (name, expected) => {
    expectOriginal(await analyzeImage(fixtureImage(name)), expected);
  });

  it.each(oracleExpected())(
    'answers the edge case %s exactly as Pillow 9.4 did',
    async (name, expected) => {
      expectOriginal(await analyzeImage(oracleImage(name)), expected);
    },
  );
});

/** A file of the differential corpus and the original's recorded answer for it. */
const corpus = (file: string) => {
  const answer = corpusAnswers().find((a) => a.file === file);
  if (!answer) throw new Error(`${file} is not in the corpus`);
  return { bytes: corpusBytes(file), answer: { ...answer, bytes: 0 } };
};

describe('analyzeImage where libpng, libvips or the old code answered otherwise than Pillow', () => {
  it.each([
    ['png/RGB_48x32.cut3221', 'reads a PNG cut after its last row (IEND and checksum gone)'],
    ['png/RGB_48x32.cut3136', 'refuses a PNG cut inside its last rows'],
    [
      'png/P_trns.crc_tRNS813',
      'refuses a PNG with a bad ancillary-chunk CRC before the image data',
    ],
    ['png/P_trns.crc_IDAT826', 'reads a PNG with a bad IDAT CRC, which Pillow never checks'],
    ['png/LA_16bit', 'answers a 16-bit grey+alpha PNG as RGBA, four channels'],
    ['gif/screen_larger', 'answers a GIF with its logical screen, larger than its first frame'],
    ['gif/1_48x32.cut1070', 'reads a GIF without its trailer'],
    ['gif/1_48x32.cut964', 'refuses a GIF whose first frame runs short of pixels'],
    ['tiff/P_raw', 'answers a palette TIFF as P, one band'],
    ['tiff/I16S_raw', 'answers a signed 16-bit grey TIFF as I, 32-bit integers'],
    ['bmp/os2_v1_RGB', 'reads an OS/2 BMP with a 12-byte header'],
    ['bmp/1_17x9.dim18_zero', 'refuses a BMP of width 0'],
    ['webp/animated.dim24_plus1', 'answers an animated WebP by its canvas, without alpha'],
    ['tga/RGB_rle', 'reads a run-length TGA'],
    ['ico/RGBA_bmp', 'reads an icon whose entry is a DIB with an AND mask'],
    ['jpeg2000/RGB_jp2', 'reads JPEG 2000'],
    ['ppm/P3_plain.cut474', 'reads a plain PPM whose last value is cut, as Pillow repeats it'],
  ])('%s: %s', async (file) => {
    const { bytes, answer } = corpus(file);
    expect(asOriginal(await analyzeImage(bytes))).toEqual(originalAnswer(answer));
  });
});

describe('analyzeImage failures', () => {
  it('calls a zero-byte upload empty', async () => {
    expect(await analyzeImage(new Uint8Array())).toMatchObject({
      bytes: 0,
      error: { code: 'EMPTY_IMAGE' },
    });
  });

  it('calls text with a .jpg name an unsupported format', async () => {
    const result = await analyzeImage(fixtureImage('text_pretending.jpg'));
    expect(result).toMatchObject({ error: { code: 'UNSUPPORTED_FORMAT' } });
  });

  it('calls a JPEG with a good header but missing data corrupt', async () => {
    const result = await analyzeImage(fixtureImage('truncated_jpeg.jpg'));
    expect(result).toMatchObject({ error: { code: 'CORRUPT_IMAGE' } });
  });

  it('rejects a 12 MP JPEG that loses only its last rows, although it shrinks on load', async () => {
    const whole = fixtureImage('rgb_4000x3000.jpg');
    const result = await analyzeImage(whole.subarray(0, whole.length - 3000));
    expect(result).toMatchObject({ error: { code: 'CORRUPT_IMAGE' } });
  });

  it('refuses SVG although the bundled libvips could render it', async () => {
    expect(sharp.format.svg?.input.buffer).toBe(true); // the loader exists, so the block matters
    const result = await analyzeImage(oracleImage('svg_vector.svg'));
    expect(result).toMatchObject({ error: { code: 'UNSUPPORTED_FORMAT' } });
  });

  it('refuses an image over the pixel limit before decoding it', async () => {
    expect(
      await analyzeImage(fixtureImage('photo_400x600.jpg'), { maxPixels: 1000 }),
    ).toMatchObject({
      error: { code: 'PIXEL_LIMIT_EXCEEDED' },
    });
  });

  it('refuses a decompression bomb: a tiny PNG that claims 20000 × 20000 pixels', async () => {
    const bomb = Buffer.from(oracleImage('png_gray8.png'));
    bomb.writeUInt32BE(20_000, 16);
    bomb.writeUInt32BE(20_000, 20);
    bomb.writeUInt32BE(crc32(bomb.subarray(12, 29)), 29); // a valid IHDR, as a real bomb has
    expect(20_000 * 20_000).toBeGreaterThan(MAX_PIXELS);
    const result = await analyzeImage(bomb);
    expect(result).toMatchObject({ error: { code: 'PIXEL_LIMIT_EXCEEDED' } });
  });

  it('refuses a progressive JPEG declaring 13,000² pixels, whose coefficients alone would need 968 MB', async () => {
    const bomb = Buffer.from(oracleImage('jpeg_progressive.jpg'));
    const sof2 = bomb.indexOf(Buffer.from([0xff, 0xc2]));
    bomb.writeUInt16BE(13_000, sof2 + 5);
    bomb.writeUInt16BE(13_000, sof2 + 7);
    bomb[sof2 + 11] = 0x11; // luma sampled 1×1 like the chroma: 4:4:4, three full planes
    expect(13_000 * 13_000).toBeLessThan(MAX_PIXELS); // under the pixel limit: the memory bound acts
    const result = await analyzeImage(bomb);
    expect(result).toMatchObject({ error: { code: 'PIXEL_LIMIT_EXCEEDED' } });
    expect(isFailure(result) && result.error.message).toMatch(
      /needs 968 MB, over the budget of 640 MB/,
    );
    expect(MEMORY_BUDGET).toBe(640 * 2 ** 20);
  });

  it('refuses a PNG whose rows would not fit the memory budget before inflating any of them', async () => {
    const big = Buffer.from(oracleImage('png_rgba16.png'));
    big.writeUInt32BE(12_000, 16);
    big.writeUInt32BE(12_000, 20);
    big.writeUInt32BE(crc32(big.subarray(12, 29)), 29);
    const result = await analyzeImage(big);
    expect(result).toMatchObject({ error: { code: 'PIXEL_LIMIT_EXCEEDED' } });
  });

  it('refuses a BMP that claims more pixels than the limit without decoding it', async () => {
    const bomb = Buffer.from(oracleImage('bmp_rgb24.bmp'));
    bomb.writeInt32LE(20_000, 18);
    bomb.writeInt32LE(20_000, 22);
    expect(await analyzeImage(bomb)).toMatchObject({ error: { code: 'PIXEL_LIMIT_EXCEEDED' } });
  });

  it('never throws, whatever prefix of a real image it is given', async () => {
    const images = [
      fixtureImage('photo_400x600.jpg'),
      oracleImage('png_rgba.png'),
      oracleImage('bmp_rgb24.bmp'),
      oracleImage('gif_animated.gif'),
      oracleImage('webp_alpha.webp'),
      oracleImage('tiff_rgb.tif'),
    ];
    for (const image of images) {
      for (const fraction of [0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99]) {
        const result = await analyzeImage(image.subarray(0, Math.floor(image.length * fraction)));
        expect(result.bytes).toBe(Math.floor(image.length * fraction));
        if (isFailure(result)) expect(result.error.message).not.toMatch(/\n|at .*\.(ts|js):/);
      }
    }
  });
});

describe('the fast paths answer as the careful ones', () => {
  /** The reader's answer, or the error it raised, as comparable text. */
  const outcome = async (read: () => unknown) => {
    try {
      return JSON.stringify(await read());
    } catch (error) {
      return `${(error as Error).constructor.name}: ${(error as Error).message}`;
    }
  };

  it('reads the header facts of every corpus JPEG it accepts as libvips reports them', async () => {
    const dir = path.resolve(import.meta.dirname, '../fixtures/differential/corpus/jpeg');
    let read = 0;
    for (const name of readdirSync(dir)) {
      const bytes = readFileSync(path.join(dir, name));
      const header = readJpegHeader(bytes);
      if (!header) continue;
      const meta = await sharp(bytes)
        .metadata()
        .catch(() => undefined);
      // Where libvips refuses the header, the validation that follows refuses it the same way.
      if (!meta) continue;
      read++;
      const { width, height, channels, isProgressive, orientation } = meta;
      expect([name, header]).toEqual([
        name,
        { width, height, components: channels, isProgressive, orientation },
      ]);
    }
    expect(read).toBeGreaterThan(300);
  });

  it('reads the header facts of every corpus WebP it accepts as libvips reports them', async () => {
    const dir = path.resolve(import.meta.dirname, '../fixtures/differential/corpus/webp');
    let read = 0;
    for (const name of readdirSync(dir)) {
      const bytes = readFileSync(path.join(dir, name));
      const header = readWebpHeader(bytes);
      const meta = await sharp(bytes)
        .metadata()
        .catch(() => undefined);
      if (!header || !meta) continue;
      read++;
      const { width, height, hasAlpha, channels, pages, orientation } = meta;
      expect([name, { ...header, channels: header.hasAlpha ? 4 : 3 }, pages, orientation]).toEqual([
        name,
        { width, height, hasAlpha, channels },
        undefined,
        undefined,
      ]);
    }
    expect(read).toBeGreaterThan(60);
  });

  it('answers every PNG of the differential corpus alike, streamed or inflated at once', async () => {
    const dir = path.resolve(import.meta.dirname, '../fixtures/differential/corpus/png');
    const names = readdirSync(dir);
    expect(names.length).toBeGreaterThan(1000);
    for (const name of names) {
      const bytes = readFileSync(path.join(dir, name));
      const careful = await outcome(() => readPng(bytes, () => {}));
      // A threshold of 0 sends even the smallest image down the streamed path.
      expect([name, await outcome(() => readPngLarge(bytes, () => {}, 0))]).toEqual([
        name,
        careful,
      ]);
    }
  });

  it('answers a large PNG cut, bit-flipped or padded alike by either path', async () => {
    const [width, height] = [1600, 1200];
    const noise = Buffer.alloc(width * height * 3);
    for (let i = 0, seed = 7; i < noise.length; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      noise[i] = (i >> 6) + (seed >>> 29);
    }
    const whole = await sharp(noise, { raw: { width, height, channels: 3 } })
      .png()
      .toBuffer();
    const idat = whole.indexOf('IDAT');
    const mutants: [string, Buffer][] = [['whole', whole]];
    for (const fraction of [0.3, 0.9, 0.999])
      mutants.push([`cut at ${fraction}`, whole.subarray(0, Math.floor(whole.length * fraction))]);
    mutants.push(['cut before the adler-32', whole.subarray(0, whole.length - 12 - 4 - 2)]);
    for (const at of [idat + 200, Math.floor(whole.length / 2), whole.length - 40]) {
      const flipped = Buffer.from(whole);
      flipped[at] = (flipped[at] as number) ^ 0x10;
      mutants.push([`bit flipped at ${at}`, flipped]);
    }
    for (const [name, bytes] of mutants) {
      const careful = await outcome(() => readPng(bytes, () => {}));
      expect([name, await outcome(() => readPngLarge(bytes, () => {}))]).toEqual([name, careful]);
    }
    expect(await outcome(() => readPngLarge(whole, () => {}))).toMatch(/"width":1600/);
  });
});

describe('TIFF strips validated through one column', () => {
  const noise = (width: number, height: number) => {
    const pixels = Buffer.alloc(width * height * 3);
    for (let i = 0, seed = 3; i < pixels.length; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      pixels[i] = (i >> 5) + (seed >>> 30);
    }
    return sharp(pixels, { raw: { width, height, channels: 3 } });
  };

  it('still decodes the last strip, and fails on its damage', async () => {
    // 16 rows a strip; the data of the last strip lies just before the directory.
    const whole = await noise(300, 200).tiff({ compression: 'lzw', tileHeight: 16 }).toBuffer();
    const damaged = Buffer.from(whole);
    damaged.fill(0xff, whole.readUInt32LE(4) - 400, whole.readUInt32LE(4) - 200);
    expect(await analyzeImage(whole)).toMatchObject({ shape: [200, 300, 3] });
    expect(await analyzeImage(damaged)).toMatchObject({ error: { code: 'CORRUPT_IMAGE' } });
  });

  it('answers strip and tile TIFFs, whole or damaged, as a full decode does', async () => {
    const files = [
      await noise(300, 200).tiff({ compression: 'lzw', tileHeight: 16 }).toBuffer(),
      await noise(300, 200).tiff({ compression: 'deflate', predictor: 'horizontal' }).toBuffer(),
      await noise(300, 200).greyscale().tiff({ compression: 'packbits' }).toBuffer(),
      await noise(300, 200).tiff({ compression: 'lzw', tile: true, tileWidth: 64 }).toBuffer(),
    ];
    let damaged = 0;
    for (const [index, whole] of files.entries()) {
      const mutants: [string, Buffer][] = [[`file ${index}`, whole]];
      for (let at = 16; at < whole.length; at += Math.floor(whole.length / 23)) {
        const flipped = Buffer.from(whole);
        flipped[at] = (flipped[at] as number) ^ (1 << (at % 8));
        mutants.push([`file ${index}, bit flipped at ${at}`, flipped]);
        mutants.push([`file ${index}, cut at ${at}`, whole.subarray(0, at)]);
      }
      for (const [name, bytes] of mutants) {
        const answer = await analyzeImage(bytes);
        if (isFailure(answer)) damaged++;
        expect([name, answer]).toEqual([name, await analyzeImage(bytes, { fullDecode: true })]);
      }
    }
    expect(damaged).toBeGreaterThan(40);
  });
});

describe('analyzeImage facts', () => {
  it('describes a JPEG the way a user wants it', async () => {
    expect(await analyzeImage(fixtureImage('photo_400x600.jpg'))).toEqual({
      format: 'jpeg',
      mediaType: 'image/jpeg',
      width: 400,
      height: 600,
      channels: 3,
      mode: 'RGB',
      shape: [600, 400, 3],
      nbytes: 720,
      bytes: 45365,
      bitDepth: 8,
      hasAlpha: false,
      isPalette: false,
      colourSpace: 'srgb',
      orientation: null,
      pages: 1,
      isProgressive: false,
    });
  });

  it('reports the stored dimensions and the EXIF orientation of a rotated JPEG', async () => {
    const result = await analyzeImage(oracleImage('jpeg_exif_rotated.jpg'));
    expect(result).toMatchObject({ width: 64, height: 40, shape: [40, 64, 3], orientation: 6 });
  });

  it('analyses only the first frame of an animation but counts its frames', async () => {
    const result = await analyzeImage(oracleImage('gif_animated.gif'));
    expect(result).toMatchObject({ shape: [30, 40], pages: 2 });
  });

  it('reads AVIF, which the original could not, as RGBA when it has alpha', async () => {
    const avif = await sharp({
      create: { width: 24, height: 16, channels: 4, background: '#ff000080' },
    })
      .avif()
      .toBuffer();
    expect(await analyzeImage(avif)).toMatchObject({
      format: 'avif',
      shape: [16, 24, 4],
      nbytes: 1.536,
    });
  });

  it('reports 16-bit samples: a 16-bit grey PNG decodes to 32-bit integers in Pillow', async () => {
    const result = await analyzeImage(oracleImage('png_gray16.png'));
    expect(result).toMatchObject({ mode: 'I', bitDepth: 16, nbytes: (32 * 48 * 4) / 1000 });
  });
});
