#!/usr/bin/env node
import('../dist/cli/main.js').then((m) => m.main(process.argv.slice(2))).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write(`depth-video: ${err && err.message ? err.message : String(err)}\n`); process.exitCode = 1; },
);
