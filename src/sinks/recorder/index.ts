/**
 * Recorder: per-frame depth results a user can load later (numpy, ffmpeg, OpenCV).
 *
 *   const rec = await Recorder.create(dir, { format, overwrite, maxBytes?, manifest, onWarning? });
 *   rec.start(frameIndex); await rec.write(frame); rec.stop(frameIndex); const m = await rec.close(reason?);
 *   defaultRecordingDir(inputName, now?) -> <cwd>/recordings/<input-name>-<YYYYMMDD-HHMMSS>
 *   readRecording(dir) -> { manifest, frames, problems }; readDepth16(dir, rec, manifest); readRaw(dir, rec)
 *   readNpy(path) / writeNpy(path, data, shape); encodePng16 / decodePng16
 *
 * Layout of a recording dir:
 *   manifest.json   written atomically (temp + rename) at create (complete: false),
 *                   at every start/stop, after a fault, and at close (complete: true).
 *   frames.jsonl    one line per recorded frame: index, pts (s), wallTime (ms epoch),
 *                   inferMs, rawMin, rawMax, droppedBefore, width, height, and the
 *                   files: depth ('depth/000123.png' or 'depth.mkv' + mkvFrame), raw.
 *   depth/NNNNNN.png  16-bit grayscale PNG, depth normalised as rendered (png16, both)
 *   raw/NNNNNN.npy    float32 [H, W] .npy v1.0, model output at frame size (float32, both)
 *   depth.mkv         ffv1: every recorded frame, FFV1 gray16le, source pts (ms precision)
 *
 * Crash safety: each frame file is written to a dot-temp name (`.NNNNNN.png.<pid>-<n>.tmp`)
 * in its final folder and renamed; its jsonl line is appended (one O_APPEND write) only
 * after all its files are renamed. So after a SIGKILL every jsonl line's files are
 * complete; leftovers are temp files and at most one torn last line, which
 * readRecording ignores and reports. No fsync: this protects against a killed
 * process, not against power loss. With ffv1 the line is appended once ffmpeg's pipe
 * accepted the frame, so after a crash the mkv may hold fewer frames than the jsonl;
 * readRecording counts them and reports the difference. The crash tests freeze
 * the recorder halfway through a chosen write (DEPTH_VIDEO_TEST_PAUSE, see fs.ts)
 * and kill it there.
 *
 * Overwrite: a non-empty dir is refused unless overwrite; with overwrite only
 * manifest.json, frames.jsonl, depth.mkv, our temp files and NNNNNN.png / NNNNNN.npy
 * in depth/ and raw/ are deleted; other files stay (a warning says so).
 *
 * Faults: a write error during write() (ENOSPC, EDQUOT, anything) stops recording,
 * prints one warning via onWarning, sets manifest.stoppedReason and never throws; the
 * failed frame leaves no files and no line. maxBytes stops recording before a frame
 * would push the recording past it (ffv1: after, since the encoded size is only known
 * then). Segments: endFrame is exclusive (the first index not recorded).
 *
 * write() is ignored when not recording, after a fault or close, for a frame whose index
 * is before the open segment's start (still in flight from before start()), and for an
 * index not above the last recorded one. Pixel buffers are copied before write()
 * returns, so the caller may reuse them at once; `pending` counts frames still queued
 * for disk, for callers that want to apply backpressure. close(reason?) records the
 * caller's reason (e.g. 'interrupted') in stoppedReason unless a fault already did.
 *
 * FFV1 timestamps: ffmpeg reads a live Matroska stream we mux on stdin (one
 * V_UNCOMPRESSED gray16le cluster per frame, timecode = source pts in µs) and
 * re-muxes with -copyts -vsync passthrough, so VFR, drops and toggles keep their pts;
 * the output mkv stores them with 1 ms precision (see ffv1.ts for the limits).
 */
export { Recorder, defaultRecordingDir, frameBaseName, type RecorderOptions } from './recorder.js';
export { readRecording, readDepth16, readRaw, type LoadedRecording } from './reader.js';
export { readNpy, writeNpy, encodeNpy, decodeNpy, type NpyArray } from './npy.js';
export { encodePng16, decodePng16, crc32, type Gray16Image } from './png16.js';
export { nodeFs, type RecorderFs } from './fs.js';
export { RECORD_FORMATS } from './types.js';
export type { RecordFormat, RecordingManifest, RecordedFrame, FrameRecord, ManifestInit, RecordingSegment } from './types.js';
