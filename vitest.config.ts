import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Builds dist/ first when src/ changed (the CLI tests run the built code),
    // and gives the run a temporary folder of its own, removed at the end.
    globalSetup: ['test/setup/build.ts', 'test/setup/tmp.ts'],
    // Tests spawn ffmpeg and onnxruntime, each of which wants both cores; running
    // more than two files at once only makes every test slower and flakier.
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: 'forks',
  },
});
