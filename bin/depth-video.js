#!/usr/bin/env node
// `depth-video … | head` closes our stdout early: that is not an error.
for (const s of [process.stdout, process.stderr]) {
  s.on('error', (e) => { if (e && e.code === 'EPIPE') process.exit(process.exitCode ?? 0); else throw e; });
}
const args = process.argv.slice(2);
// The inference worker starts loading onnxruntime before the CLI is loaded
// (src/cli/early-start.ts); if it cannot, the session starts its own.
import('../dist/cli/early-start.js').then((e) => e.startEarly(args)).catch(() => undefined)
  .then(() => import('../dist/cli/main.js')).then((m) => m.main(args)).then(
    (code) => { process.exitCode = code; },
    (err) => { process.stderr.write(`depth-video: ${err && err.message ? err.message : String(err)}\n`); process.exitCode = 1; },
  );
