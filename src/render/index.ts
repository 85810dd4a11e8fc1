export * from './colormap.js';
export * from './colormap-data.js';
export * from './equalize.js';
export * from './layout.js';
export * from './normalize.js';
export * from './resize.js';
