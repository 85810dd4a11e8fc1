import { existsSync, statSync } from 'node:fs';
import { basename, extname, join, resolve as resolvePath } from 'node:path';
import { DepthVideoError, isDepthVideoError } from '../errors.js';
import { modelsDir } from '../paths.js';
import { sha256File } from './download.js';
import { DEFAULT_VARIANT, downloadFileName, inputBehaviour, loadManifest, variantsOf, type Manifest } from './manifest.js';
import { describeInGraphNormalization } from './graph-normalization.js';
import { detectFamily, readOnnxInfo, validateDepthIO, type TensorInfo } from './onnx-info.js';
import { createProgress, formatBytes } from './progress.js';
import { GENERATED_MODEL_NAMES, modelRef, resolveModel } from './resolve.js';
import { counted } from '../count.js';

/** Shared by the models subcommands; streams and folders are swappable for tests. */
export interface ModelsCommandOptions {
  out?: NodeJS.WritableStream;
  err?: NodeJS.WriteStream;
  dir?: string;
  manifest?: Manifest;
  json?: boolean;
}

export interface PullOptions extends ModelsCommandOptions {
  signal?: AbortSignal;
  fetchImpl?: typeof fetch;
}

type Status = 'present' | 'missing' | 'export-needed';

/** Runs `work` with a progress line on `err`, closed however `work` ends. */
async function withProgress<T>(label: string, err: NodeJS.WriteStream, work: (onProgress: (done: number, total: number | undefined) => void) => Promise<T>): Promise<T> {
  const progress = createProgress(label, err);
  try {
    return await work((d, t) => progress.update(d, t));
  } finally {
    progress.done();
  }
}

/** Every file the manifest knows, variants included: one row each, named as `--model` takes it. */
function fileRows(manifest: Manifest, dir: string) {
  return manifest.models.flatMap((m) =>
    variantsOf(m).map((v) => {
      const file = join(dir, downloadFileName(m.name, v));
      const status: Status = existsSync(file) ? 'present' : v.url ? 'missing' : 'export-needed';
      return {
        name: modelRef(m.name, v.variant),
        model: m.name,
        variant: v.variant,
        family: m.family,
        input: inputBehaviour(m.spec),
        checkpoint: v.checkpoint === true,
        status,
        sizeBytes: v.sizeBytes,
        approxSizeBytes: v.approxSizeBytes,
        license: m.license,
        restricted: m.restricted,
        verified: v.sha256 !== null,
        sha256: v.sha256,
        file,
      };
    }),
  );
}

export async function modelsList(opts: ModelsCommandOptions = {}, out: NodeJS.WritableStream = opts.out ?? process.stdout): Promise<number> {
  const manifest = opts.manifest ?? loadManifest();
  const dir = opts.dir ?? modelsDir();
  const rows = fileRows(manifest, dir);
  if (opts.json) {
    out.write(JSON.stringify({ dir, models: rows, generated: GENERATED_MODEL_NAMES }, null, 2) + '\n');
    return 0;
  }
  const label = (r: (typeof rows)[number]): string => (r.variant === DEFAULT_VARIANT ? r.name : `  ${r.name}`);
  const w = Math.max(...rows.map((r) => label(r).length));
  const iw = Math.max(...rows.map((r) => r.input.length));
  out.write(`models folder: ${dir}\n`);
  out.write(`${'NAME'.padEnd(w)}  ${'FAMILY'.padEnd(15)}  ${'INPUT'.padEnd(iw)}  ${'STATUS'.padEnd(13)}  ${'SIZE'.padStart(9)}  LICENCE\n`);
  for (const r of rows) {
    // ~ marks the publisher's rounded listing size; exact sizes have no mark.
    const size = r.sizeBytes ? formatBytes(r.sizeBytes) : r.approxSizeBytes ? `~${formatBytes(r.approxSizeBytes)}` : '?';
    const lic = r.restricted ? `${r.license} (non-commercial)` : r.license;
    const source = r.checkpoint ? '  [PyTorch checkpoint, converted on first use]' : '';
    out.write(`${label(r).padEnd(w)}  ${r.family.padEnd(15)}  ${r.input.padEnd(iw)}  ${r.status.padEnd(13)}  ${size.padStart(9)}  ${lic}${r.verified ? '' : '  [no checksum]'}${source}\n`);
  }
  out.write(`variants (fp16, quantized, q4f16, …) are picked with --model <name>:<variant>\n`);
  out.write(`generated test models (untrained, built on demand): ${GENERATED_MODEL_NAMES.join(', ')}\n`);
  return 0;
}

export async function modelsPull(name: string, opts: PullOptions = {}): Promise<number> {
  const out = opts.out ?? process.stdout;
  const err = opts.err ?? process.stderr;
  const result = await withProgress(`pulling ${name}`, err, (onProgress) =>
    resolveModel(name, {
      allowDownload: true,
      dir: opts.dir,
      manifest: opts.manifest,
      signal: opts.signal,
      fetchImpl: opts.fetchImpl,
      onProgress,
      onWarning: (line) => err.write(`warning: ${line}\n`),
      onNote: (line) => err.write(`${line}\n`),
    }),
  );
  const size = statSync(result.path).size;
  const check = !result.fetched
    ? 'already present, not downloaded again; `depth-video models verify` checks it'
    : result.download?.sha256 ? 'sha256 verified' : 'no published checksum to verify';
  out.write(`${name}: ${result.path} (${formatBytes(size)}, ${result.entry ? check : 'generated'})\n`);
  return 0;
}

function fmtTensor(t: TensorInfo): string {
  return `${t.name}  ${t.elemType}  [${t.dims.join(', ')}]`;
}

export async function modelsInfo(fileOrName: string, opts: ModelsCommandOptions = {}): Promise<number> {
  const out = opts.out ?? process.stdout;
  const { path } = await resolveModel(fileOrName, { allowDownload: false, dir: opts.dir, manifest: opts.manifest });
  const info = await readOnnxInfo(path);
  const detected = detectFamily(info, undefined, opts.manifest);
  let problem: string | null = null;
  try {
    validateDepthIO(info);
  } catch (e) {
    if (!isDepthVideoError(e)) throw e;
    problem = e.message;
  }
  const untrained = info.metadata['depth_video.untrained'] === 'true';
  if (opts.json) {
    out.write(JSON.stringify({ ...info, detected, untrained, usable: problem === null, problem }, null, 2) + '\n');
    return problem ? 1 : 0;
  }
  if (untrained) {
    out.write('!!! GENERATED, UNTRAINED MODEL: its output shows the pipeline working, not real depth !!!\n');
  }
  out.write(`file:        ${path} (${formatBytes(info.fileBytes)})\n`);
  out.write(`producer:    ${info.producer || '?'} ${info.producerVersion}\n`);
  out.write(`ir version:  ${info.irVersion}\n`);
  out.write(`opsets:      ${info.opsets.map((o) => `${o.domain} ${o.version}`).join(', ')}\n`);
  out.write(`parameters:  ${info.parameterCount.toLocaleString('en-US')} in ${counted(info.initializerCount, 'initializer')}\n`);
  for (const t of info.inputs) out.write(`input:       ${fmtTensor(t)}\n`);
  for (const t of info.outputs) out.write(`output:      ${fmtTensor(t)}\n`);
  out.write(`family:      ${detected.family} (from ${detected.source})\n`);
  const s = detected.spec;
  out.write(
    `spec:        ${s.width}x${s.height} ${s.keepAspect ? `keep aspect, ${s.resizeMethod}` : 'squashed'}, multiple of ${s.multipleOf}, ` +
      `mean [${s.mean.join(', ')}] std [${s.std.join(', ')}] ${s.channelOrder}, in ${s.inputInterpolation}, ` +
      `out ${s.outputInterpolation}${s.outputAlignCorners ? ' align_corners' : ''}${s.native ? ', native size' : ''}\n`,
  );
  out.write(
    `normalisation: ${info.inputNormalization ? describeInGraphNormalization(info.inputNormalization) : 'not in the graph; frames are normalised with the mean/std above'}\n`,
  );
  for (const [k, v] of Object.entries(info.metadata)) {
    if (k !== 'depth_video.spec') out.write(`metadata:    ${k} = ${v.length > 80 ? `${v.slice(0, 77)}...` : v}\n`);
  }
  if (detected.warning) out.write(`warning:     ${detected.warning}\n`);
  if (problem) out.write(`NOT USABLE:  ${problem}\n`);
  return problem ? 1 : 0;
}

export interface VerifyRow {
  name: string;
  file: string;
  result: 'ok' | 'mismatch' | 'unverified';
  sha256: string;
}

/** Checks the model files present in the models folder against the manifest's checksums. */
export async function modelsVerify(opts: ModelsCommandOptions = {}): Promise<number> {
  const out = opts.out ?? process.stdout;
  const manifest = opts.manifest ?? loadManifest();
  const dir = opts.dir ?? modelsDir();
  const rows: VerifyRow[] = [];
  for (const f of fileRows(manifest, dir)) {
    if (f.status !== 'present') continue;
    const digest = await sha256File(f.file);
    const result = f.sha256 === null ? 'unverified' : digest === f.sha256.toLowerCase() ? 'ok' : 'mismatch';
    rows.push({ name: f.name, file: f.file, result, sha256: digest });
  }
  const bad = rows.filter((r) => r.result === 'mismatch');
  if (opts.json) {
    out.write(JSON.stringify({ dir, models: rows }, null, 2) + '\n');
  } else if (rows.length === 0) {
    out.write(`no manifest models present in ${dir}\n`);
  } else {
    for (const r of rows) {
      const what = r.result === 'ok' ? 'OK' : r.result === 'mismatch' ? 'MISMATCH' : 'present (no published checksum)';
      out.write(`${r.name}: ${what}  sha256 ${r.sha256}\n`);
    }
  }
  if (bad.length) {
    throw new DepthVideoError(
      'CHECKSUM',
      `${bad.map((b) => b.file).join(', ')} ${bad.length === 1 ? 'does' : 'do'} not match models/manifest.json; delete and run \`depth-video models pull\` again`,
      { file: bad[0].file },
    );
  }
  return 0;
}

export interface ConvertCommandOptions extends ModelsCommandOptions {
  /** The .onnx to write; default: the checkpoint's name with .onnx, in the current folder. */
  outFile?: string;
  family?: string;
  maxDepth?: number;
  overwrite?: boolean;
}

/** `models convert`: a checkpoint to ONNX, with progress on stderr and one summary line on stdout. */
export async function modelsConvert(checkpoint: string, opts: ConvertCommandOptions = {}): Promise<number> {
  const out = opts.out ?? process.stdout;
  const err = opts.err ?? process.stderr;
  const target = resolvePath(opts.outFile ?? `${basename(checkpoint, extname(checkpoint))}.onnx`);
  const { convertCheckpoint } = await import('../convert/index.js');
  const r = await withProgress(`converting ${basename(checkpoint)}`, err, (onProgress) =>
    convertCheckpoint(checkpoint, { out: target, family: opts.family, maxDepth: opts.maxDepth, overwrite: opts.overwrite, onProgress }),
  );
  if (opts.json) {
    out.write(JSON.stringify(r, null, 2) + '\n');
    return 0;
  }
  const size = formatBytes(statSync(r.out).size + (r.dataPath ? statSync(r.dataPath).size : 0));
  out.write(
    `converted ${basename(checkpoint)}: ${r.variant} (${r.chosenBy}), ${r.summary}, ` +
      `${r.parameterCount.toLocaleString('en-US')} parameters, ${r.seconds.toFixed(1)} s -> ${r.out} (${size}${r.dataPath ? `, weights in ${basename(r.dataPath)}` : ''})\n`,
  );
  for (const note of r.notes) err.write(`note: ${note}\n`);
  return 0;
}
