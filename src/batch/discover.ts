import { readFile, readdir, stat } from 'node:fs/promises';
import { dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import picomatch from 'picomatch';
import { DepthVideoError } from '../errors.js';

const VIDEO_EXT = new Set(['.mp4', '.m4v', '.mov', '.mkv', '.webm', '.avi', '.mpg', '.mpeg', '.ts', '.mts', '.m2ts', '.flv', '.wmv', '.3gp', '.ogv', '.gif', '.mxf', '.y4m']);
const STILL_EXT = new Set(['.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp']);

/** A picture file by its name (GIF is not: it is usually animated, so it goes the video way). */
export function isStillPath(path: string): boolean {
  return STILL_EXT.has(extname(path).toLowerCase());
}

function isMediaPath(path: string): boolean {
  const ext = extname(path).toLowerCase();
  return VIDEO_EXT.has(ext) || STILL_EXT.has(ext);
}

export interface BatchItem {
  /** Absolute input path. */
  readonly input: string;
  /** Its path below the batch's root folder, which the outputs mirror. */
  readonly rel: string;
  readonly still: boolean;
}

/**
 * Where an input's depth goes: the same place below `outDir` as the input
 * below the root, videos with `videoExt`, pictures as .png (lossless, and
 * 16-bit-free viewers open it).
 */
export function outputFor(item: BatchItem, outDir: string, videoExt: string): string {
  const ext = extname(item.rel);
  const stem = ext ? item.rel.slice(0, -ext.length) : item.rel;
  return join(outDir, stem + (item.still ? '.png' : videoExt));
}

/** Media files below `dir`, hidden entries and `skip` (the output folder) left out. */
async function walk(dir: string, skip: string | null, into: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (p !== skip) await walk(p, skip, into);
    } else if (e.isFile() || (e.isSymbolicLink() && (await stat(p).catch(() => null))?.isFile())) {
      into.push(p);
    }
  }
}

async function statOrNull(p: string) {
  return stat(p).catch(() => null);
}

function commonFolder(paths: readonly string[]): string {
  let parts = paths[0]!.split(sep);
  for (const p of paths.slice(1)) {
    const q = p.split(sep);
    let i = 0;
    while (i < parts.length && i < q.length && parts[i] === q[i]) i++;
    parts = parts.slice(0, i);
  }
  return parts.join(sep) || sep;
}

/**
 * Expands what the user named (folders, walked recursively; `.txt` lists of
 * paths, relative to the list; glob patterns; single files) into the files to
 * process, sorted, each with its path below the root folder: the given folder
 * for one folder, otherwise the deepest folder holding every input. Folders
 * and globs pick media files by extension; lists and single files are taken
 * as given, so a bad one is reported rather than passed over.
 */
export async function discoverInputs(args: readonly string[], opts: { skip?: string } = {}): Promise<{ root: string; items: BatchItem[] }> {
  if (args.length === 0) throw new DepthVideoError('USAGE', 'no inputs given: name a folder, a list (.txt) or a glob, e.g. depth-video batch clips/ --out-dir depth/');
  const skip = opts.skip ? resolve(opts.skip) : null;
  const files: string[] = [];
  const roots: string[] = [];
  for (const arg of args) {
    const abs = resolve(arg);
    const st = await statOrNull(abs);
    if (st?.isDirectory()) {
      const found: string[] = [];
      await walk(abs, skip, found);
      files.push(...found.filter(isMediaPath));
      roots.push(abs);
    } else if (st?.isFile() && extname(abs).toLowerCase() === '.txt') {
      const text = await readFile(abs, 'utf8');
      const listed = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
      for (const l of listed) {
        const p = isAbsolute(l) ? l : resolve(dirname(abs), l);
        files.push(p);
        roots.push(dirname(p));
      }
    } else if (st?.isFile()) {
      files.push(abs);
      roots.push(dirname(abs));
    } else {
      const scan = picomatch.scan(arg);
      if (!scan.isGlob) throw new DepthVideoError('INPUT_MISSING', `input ${arg} does not exist: check the path`, { file: arg });
      const base = resolve(scan.base || '.');
      const isMatch = picomatch(scan.glob);
      const found: string[] = [];
      if ((await statOrNull(base))?.isDirectory()) await walk(base, skip, found);
      const matched = found.filter((p) => isMediaPath(p) && isMatch(relative(base, p).split(sep).join('/')));
      if (matched.length === 0) throw new DepthVideoError('INPUT_MISSING', `no video or image matches ${arg}: check the pattern (quote it so the shell leaves it to depth-video)`, { file: arg });
      files.push(...matched);
      roots.push(...matched.map((p) => dirname(p)));
    }
  }
  const unique = [...new Set(files)].sort();
  if (unique.length === 0) throw new DepthVideoError('INPUT_MISSING', `no video or image found in ${args.join(', ')}`);
  const root = commonFolder(roots);
  const items = unique.map((input) => ({ input, rel: relative(root, input), still: isStillPath(input) }));
  return { root, items };
}

/** The out dir as an absolute folder path; URLs are refused (there is no upload). */
export function outDirPath(arg: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(arg)) {
    throw new DepthVideoError('USAGE', `--out-dir ${arg} is a URL: only folders are supported; mount the shared storage (NFS, SMB…) and give its path`);
  }
  return resolve(arg);
}

/**
 * Every item's output below `outDir`, refusing two inputs that would write
 * the same file (clip.mov and clip.mp4 both give clip.mp4) and an output
 * that would be its own input.
 */
export function planOutputs(items: readonly BatchItem[], outDir: string, videoExt: string): string[] {
  const seen = new Map<string, string>();
  return items.map((item) => {
    const out = outputFor(item, outDir, videoExt);
    if (out === item.input) throw new DepthVideoError('USAGE', `--out-dir ${outDir} would write over the input ${item.input}: choose an out dir outside the inputs`, { file: item.input });
    const other = seen.get(out);
    if (other) throw new DepthVideoError('USAGE', `${other} and ${item.input} would both write ${out}: rename one, or run them in separate batches`, { file: item.input });
    seen.set(out, item.input);
    return out;
  });
}
