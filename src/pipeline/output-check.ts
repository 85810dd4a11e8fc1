import { open, readdir, rm, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { DepthVideoError } from '../errors.js';
import { outputKind, type OutputKind } from '../sinks/encoder.js';
import { framePatternRegExp, isFramePattern } from '../sinks/point-cloud.js';

/**
 * Whether two paths name one file: the same device and inode once links are
 * followed, so a symbolic or hard link to the input is caught, not only the
 * same spelling of its path.
 */
async function sameFile(a: string, b: string): Promise<boolean> {
  if (resolve(a) === resolve(b)) return true;
  try {
    const [x, y] = await Promise.all([stat(a, { bigint: true }), stat(b, { bigint: true })]);
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false; // one of them does not exist (yet): not the same file
  }
}

/**
 * Everything that can be known about the output before decoding starts, so a
 * long run never fails at its end: the type, the folder, and whether a file
 * would be replaced.
 */
export async function checkOutput(output: string, opts: { overwrite: boolean; input?: string | null; lossless?: boolean }): Promise<{ kind: OutputKind; replaces: boolean }> {
  const kind = outputKind(output);
  if (opts.lossless && extname(output).toLowerCase() !== '.mkv') {
    throw new DepthVideoError('OUTPUT_FORMAT', `${output}: --lossless needs an .mkv output (FFV1)`, { file: output });
  }
  if (opts.input && (await sameFile(opts.input, output))) {
    const how = resolve(opts.input) === resolve(output) ? 'the input file' : `the input file ${opts.input} under another name (a link)`;
    throw new DepthVideoError('OUTPUT_EXISTS', `output ${output} is ${how}: choose another --out path`, { file: output });
  }
  const dir = dirname(resolve(output));
  let dst;
  try {
    dst = await stat(dir);
  } catch {
    throw new DepthVideoError('OUTPUT_DIR', `output folder ${dir} does not exist: create it or choose another --out path`, { file: output });
  }
  if (!dst.isDirectory()) throw new DepthVideoError('OUTPUT_DIR', `output folder ${dir} is not a folder: choose another --out path`, { file: output });
  // Create and remove a probe file rather than trusting access(): root passes
  // access() everywhere, yet read-only mounts and sysfs still refuse writes.
  const probe = join(dir, `.depth-video-write-test-${process.pid}`);
  try {
    await (await open(probe, 'wx')).close();
    await rm(probe, { force: true });
  } catch {
    throw new DepthVideoError('OUTPUT_DIR', `output folder ${dir} is not writable: choose another --out path or fix its permissions`, { file: output });
  }
  if (kind === 'pointcloud' && isFramePattern(output)) {
    // One file per frame: any file the pattern could make counts as existing output.
    const re = framePatternRegExp(output);
    const clash = (await readdir(dir)).sort().find((n) => re.test(n));
    if (clash && !opts.overwrite) {
      throw new DepthVideoError('OUTPUT_EXISTS', `${dir} already holds ${clash}, which ${basename(output)} would write: pass --overwrite to replace such files, or choose another folder`, { file: output });
    }
    return { kind, replaces: clash !== undefined };
  }
  let replaces = false;
  try {
    const st = await stat(output);
    if (st.isDirectory()) throw new DepthVideoError('OUTPUT_EXISTS', `output ${output} is a folder: give a file name such as ${output}/depth.mp4`, { file: output });
    replaces = true;
  } catch (e) {
    if (e instanceof DepthVideoError) throw e;
  }
  if (replaces && !opts.overwrite) {
    throw new DepthVideoError('OUTPUT_EXISTS', `output ${output} already exists: pass --overwrite to replace it, or choose another --out path`, { file: output });
  }
  return { kind, replaces };
}
