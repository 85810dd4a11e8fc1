import type { FrameSink, OutputFrame, PipelineContext } from '../pipeline/types.js';
import { readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { DepthVideoError } from '../errors.js';
import { encoderPixelFormat, FfmpegEncoder, muxAudio, outputKind } from './encoder.js';
import { withImageComment } from './image-comment.js';
import { writeFileAtomic } from './atomic-file.js';
import { untrainedNote } from './untrained-note.js';

export interface EncoderSinkOptions {
  readonly output: string;
  /** Carry over the first audio track of this file (codec as probed). */
  readonly audio: { readonly path: string; readonly codec: string } | null;
  readonly lossless: boolean;
  /** Replacing an existing file: write beside it and rename at the end. */
  readonly viaTemp: boolean;
}

/** Writes the composed pictures to a video (or image) file through ffmpeg. */
export function encoderSink(opts: EncoderSinkOptions): FrameSink & { readonly framesWritten: number } {
  let encoder: FfmpegEncoder | null = null;
  // What the file says of an untrained model: a video's container comment, an image's text comment.
  let comment: string | undefined;
  const picture = encoderPixelFormat(opts.output, opts.lossless);
  return {
    name: 'encoder',
    picture,
    wantsDepthUnit: false,
    get framesWritten() {
      return encoder?.framesWritten ?? 0;
    },
    start(ctx: PipelineContext) {
      encoder = new FfmpegEncoder({
        output: opts.output,
        width: ctx.outputSize.width,
        height: ctx.outputSize.height,
        frameRate: ctx.source.frameRate ?? { num: 25, den: 1 },
        timeBase: ctx.source.timeBase,
        startPts: ctx.firstPts,
        lossless: opts.lossless,
        viaTemp: opts.viaTemp,
        pixelFormat: picture,
        comment: (comment = ctx.model.untrained ? untrainedNote(ctx.model.label) : undefined),
      });
    },
    write(out: OutputFrame) {
      const img = picture === 'yuv420p' ? out.yuv : out.image;
      if (!img) return Promise.reject(new DepthVideoError('PIPELINE_CONFIG', `internal: no ${picture} picture for ${opts.output}`));
      return encoder!.write(img, out.frame.pts);
    },
    async finish() {
      if (!encoder) return;
      await encoder.finish();
      if (comment && encoder.framesWritten > 0 && outputKind(opts.output) === 'image') {
        const labelled = withImageComment(await readFile(opts.output), comment);
        if (labelled) await writeFileAtomic(opts.output, labelled);
      }
      if (!opts.audio || encoder.framesWritten === 0) return;
      // Until this pass ends, the output is the (playable) video-only file.
      const out = opts.output;
      const tmp = join(dirname(out), `.${basename(out, extname(out))}.audio-${process.pid}${extname(out)}`);
      try {
        await muxAudio(out, opts.audio, tmp, encoder.endTime);
        await rename(tmp, out);
      } catch (e) {
        await rm(tmp, { force: true });
        throw e;
      }
    },
    async abort() {
      // The run failed: keep what was written (finished, so it plays) unless
      // it was meant to replace an existing file, which then stays as it was.
      if (encoder && encoder.framesWritten > 0 && !opts.viaTemp) await encoder.finish();
      else await encoder?.abort();
    },
  };
}
