/** The files a command line names: folders, globs and files, in the order given. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../cli/errors.ts';
import { collectFiles } from '../../cli/files.ts';

let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'cli-files-'));
  await mkdir(path.join(dir, 'photos', 'trip'), { recursive: true });
  await mkdir(path.join(dir, 'empty'));
  const files = {
    'photos/img10.jpg': 'ten',
    'photos/img2.jpg': 'two',
    'photos/.DS_Store': 'hidden',
    'photos/trip/a.png': 'trip',
    'notes.txt': 'notes',
  };
  for (const [name, content] of Object.entries(files)) {
    await writeFile(path.join(dir, name), content);
  }
});

afterAll(() => rm(dir, { recursive: true, force: true }));

const files = async (...args: string[]) =>
  (await collectFiles(args, dir)).map(({ file, size }) => ({ file, size }));

describe('collectFiles', () => {
  it('takes every non-hidden file under a folder, subfolders included, in natural order', async () => {
    expect(await files('photos/')).toEqual([
      { file: 'photos/img2.jpg', size: 3 },
      { file: 'photos/img10.jpg', size: 3 },
      { file: 'photos/trip/a.png', size: 4 },
    ]);
  });

  it('keeps the order of the arguments and sends a file named twice once', async () => {
    expect(
      (await files('notes.txt', 'photos/*.jpg', 'photos/img2.jpg')).map((f) => f.file),
    ).toEqual(['notes.txt', 'photos/img2.jpg', 'photos/img10.jpg']);
  });

  it('expands globs itself, for shells that do not', async () => {
    expect((await files('**/*.png')).map((f) => f.file)).toEqual(['photos/trip/a.png']);
  });

  it('resolves paths against the working directory and keeps them as given', async () => {
    const [found] = await collectFiles([path.join(dir, 'notes.txt')], '/');
    expect(found).toEqual({
      file: path.join(dir, 'notes.txt'),
      path: path.join(dir, 'notes.txt'),
      size: 5,
    });
  });

  it.each([
    ['missing.jpg', 'no such file or folder: missing.jpg'],
    ['*.gif', '*.gif matched no files'],
    ['empty', 'empty holds no files'],
  ])('refuses %s as a usage error', async (arg, message) => {
    const refused = collectFiles([arg], dir);
    await expect(refused).rejects.toThrow(UsageError);
    await expect(refused).rejects.toThrow(message);
  });
});
