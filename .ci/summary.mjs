// Prints one line per skipped test with its full name (test/helpers/prerequisites.ts
// puts the reason in the name), then, last, "N passed, M failed[, K skipped]"
// from vitest's JSON report. Exits 1 when the report is missing or unreadable.
import { readFileSync } from 'node:fs';

const SKIPPED = new Set(['skipped', 'pending', 'todo', 'disabled']);

let report;
try {
  report = JSON.parse(readFileSync(process.argv[2], 'utf8'));
} catch (e) {
  console.log(`0 passed, 1 failed (no test report: ${e.message})`);
  process.exit(1);
}
const passed = report.numPassedTests ?? 0;
// A file that fails to load has no tests: count it, or a broken suite reads as green.
const failed = (report.numFailedTests ?? 0) + (report.testResults ?? []).filter((f) => f.status === 'failed' && !(f.assertionResults ?? []).length).length;
const skipped = [];
for (const file of report.testResults ?? []) {
  for (const t of file.assertionResults ?? []) {
    if (SKIPPED.has(t.status)) skipped.push(`${file.name.replace(process.cwd() + '/', '')}: ${t.fullName}`);
  }
}
for (const s of skipped) console.log(`skipped: ${s}`);
console.log(`${passed} passed, ${failed} failed` + (skipped.length ? `, ${skipped.length} skipped` : ''));
