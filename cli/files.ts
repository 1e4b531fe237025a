/**
 * The files a command line names, in the order given: a file as it is, a folder as every
 * non-hidden file under it, a glob as its matches; folders and globs in natural order
 * (img2 before img10). A file named twice is sent once, where it first appears.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';
import { UsageError } from './errors.ts';

export interface InputFile {
  /** The path as the user gave it, or as a folder or glob expanded it: what the output shows. */
  file: string;
  /** Absolute path, to read it. */
  path: string;
  size: number;
}

const naturalOrder = new Intl.Collator('en', { numeric: true }).compare;

const statOrUndefined = (file: string) => stat(file).catch(() => undefined);

const expand = async (arg: string, cwd: string): Promise<string[]> => {
  const info = await statOrUndefined(path.resolve(cwd, arg));
  if (info?.isFile()) return [arg];
  if (info?.isDirectory()) {
    const found = await glob('**/*', { cwd: path.resolve(cwd, arg), onlyFiles: true, dot: false });
    if (found.length === 0) throw new UsageError(`${arg} holds no files`);
    const prefix = arg.replace(/[\\/]+$/, '');
    return found.sort(naturalOrder).map((f) => `${prefix}/${f}`);
  }
  if (info) throw new UsageError(`${arg} is neither a file nor a folder`);
  if (!isDynamicPattern(arg)) throw new UsageError(`no such file or folder: ${arg}`);
  const matches = await glob(arg, {
    cwd,
    onlyFiles: true,
    dot: false,
    absolute: path.isAbsolute(arg),
    expandDirectories: false,
  });
  if (matches.length === 0) throw new UsageError(`${arg} matched no files`);
  return matches.sort(naturalOrder);
};

export const collectFiles = async (args: string[], cwd = process.cwd()): Promise<InputFile[]> => {
  const seen = new Set<string>();
  const files: { file: string; path: string }[] = [];
  for (const arg of args) {
    for (const file of await expand(arg, cwd)) {
      const absolute = path.resolve(cwd, file);
      if (seen.has(absolute)) continue;
      seen.add(absolute);
      files.push({ file, path: absolute });
    }
  }
  return Promise.all(files.map(async (f) => ({ ...f, size: (await stat(f.path)).size })));
};
