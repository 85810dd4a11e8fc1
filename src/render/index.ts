export * from './colormap.js';
export * from './colormap-data.js';
export * from './equalize.js';
export * from './layout.js';
export * from './normalize.js';
export * from './resize.js';
export * from './yuv.js';
export { renderPixels, pictureSize, type PixelJob, type PixelSettings, type PixelTargets } from './frame-pixels.js';
