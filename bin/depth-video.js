#!/usr/bin/env node
// `depth-video … | head` closes our stdout early: that is not an error.
for (const s of [process.stdout, process.stderr]) {
  s.on('error', (e) => { if (e && e.code === 'EPIPE') process.exit(process.exitCode ?? 0); else throw e; });
}
import('../dist/cli/main.js').then((m) => m.main(process.argv.slice(2))).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write(`depth-video: ${err && err.message ? err.message : String(err)}\n`); process.exitCode = 1; },
);
