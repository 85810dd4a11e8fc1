import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from './media.js';

interface Report {
  testResults: Array<{ assertionResults: Array<{ fullName: string; status: string; failureMessages: string[] }> }>;
}

/** Runs the fixture file through vitest in a child, as CI or not; returns vitest's JSON report and the path to it. */
function runFixture(ci: boolean): { report: Report; path: string; code: number | null } {
  const path = join(tempDir('prereq-'), 'report.json');
  const env = { ...process.env };
  delete env.CI;
  if (ci) env.CI = 'true';
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '-c', join(ROOT, 'test', 'helpers', 'fixtures', 'vitest.config.ts'),
    '--reporter=json', `--outputFile.json=${path}`], { cwd: ROOT, env, encoding: 'utf8' });
  return { report: JSON.parse(readFileSync(path, 'utf8')) as Report, path, code: r.status };
}

const statuses = (r: Report) => Object.fromEntries(r.testResults.flatMap((f) => f.assertionResults).map((t) => [t.fullName, t.status]));

describe('requireOrSkip', () => {
  it('skips with the reason in the name locally, and .ci/summary.mjs lists it', () => {
    const { report, path, code } = runFixture(false);
    expect(code).toBe(0);
    expect(statuses(report)).toEqual({
      'runs when present': 'passed',
      'uses the gizmo [skipped: needs the gizmo (apt-get install gizmo)]': 'skipped',
      'gizmo block [skipped: needs the gizmo (apt-get install gizmo)] first': 'skipped',
      'gizmo block [skipped: needs the gizmo (apt-get install gizmo)] second': 'skipped',
    });
    const summary = spawnSync(process.execPath, [join(ROOT, '.ci', 'summary.mjs'), path], { cwd: ROOT, encoding: 'utf8' });
    const lines = summary.stdout.trim().split('\n');
    // CI's log ends with the runner's own count.
    expect(lines).toEqual([
      'skipped: test/helpers/fixtures/prerequisites.fixture.ts: uses the gizmo [skipped: needs the gizmo (apt-get install gizmo)]',
      'skipped: test/helpers/fixtures/prerequisites.fixture.ts: gizmo block [skipped: needs the gizmo (apt-get install gizmo)] first',
      'skipped: test/helpers/fixtures/prerequisites.fixture.ts: gizmo block [skipped: needs the gizmo (apt-get install gizmo)] second',
      '1 passed, 0 failed, 3 skipped',
    ]);
  });

  it('fails instead of skipping under CI=true, naming what is missing', () => {
    const { report, code } = runFixture(true);
    expect(code).not.toBe(0);
    expect(statuses(report)).toEqual({
      'runs when present': 'passed',
      'uses the gizmo': 'failed',
      'gizmo block needs the gizmo (apt-get install gizmo)': 'failed',
    });
    const messages = report.testResults.flatMap((f) => f.assertionResults).flatMap((t) => t.failureMessages).join('\n');
    expect(messages).toMatch(/CI=true and a prerequisite is missing: the gizmo \(apt-get install gizmo\)/);
  });
});
