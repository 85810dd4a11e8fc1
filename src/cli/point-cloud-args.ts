import { InvalidArgumentError, type Command } from 'commander';
import { cameraModelProblem, DEFAULT_CAMERA, DEFAULT_D_MAX, DEFAULT_D_MIN, DEFAULT_FOV_DEG, type CameraModel } from '../render/unproject.js';

/** `--depth-range dmin:dmax` as two numbers. */
export function parseDepthRange(v: string): { dMin: number; dMax: number } {
  const m = /^\s*([0-9.eE+-]+)\s*:\s*([0-9.eE+-]+)\s*$/.exec(v);
  const dMin = m ? Number(m[1]) : NaN;
  const dMax = m ? Number(m[2]) : NaN;
  const problem = m ? cameraModelProblem({ ...DEFAULT_CAMERA, dMin, dMax }) : 'give two numbers';
  if (problem) throw new InvalidArgumentError(`--depth-range takes near:far distances, e.g. ${DEFAULT_D_MIN}:${DEFAULT_D_MAX} (${problem})`);
  return { dMin, dMax };
}

/** `--fov deg`, by the camera model's own rule. */
export function parseFov(v: string): number {
  const n = Number(v);
  if (cameraModelProblem({ ...DEFAULT_CAMERA, fovDeg: n })) throw new InvalidArgumentError(`--fov takes degrees between 0 and 180, e.g. ${DEFAULT_FOV_DEG}`);
  return n;
}

/** The options of point-cloud outputs, shared by the main command and replay. */
export function addPointCloudOptions(cmd: Command): Command {
  return cmd
    .option('--depth-range <dmin:dmax>', `for .ply outputs: distances of the nearest (V = 1) and farthest (V = 0) depth; depth = 1 / (V (1/dmin - 1/dmax) + 1/dmax) (default ${DEFAULT_D_MIN}:${DEFAULT_D_MAX})`, parseDepthRange)
    .option('--fov <deg>', `for .ply outputs: horizontal field of view of the camera, degrees (default ${DEFAULT_FOV_DEG})`, parseFov);
}

/** The camera model from parsed flags, defaults filled in. */
export function cameraFromFlags(flags: { depthRange?: { dMin: number; dMax: number }; fov?: number }): CameraModel {
  return { ...DEFAULT_CAMERA, ...flags.depthRange, ...(flags.fov !== undefined ? { fovDeg: flags.fov } : {}) };
}
