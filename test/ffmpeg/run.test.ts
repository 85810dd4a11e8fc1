import { describe, expect, it } from 'vitest';
import { failureLine, runFfmpeg, runToEnd } from '../../src/ffmpeg/binary.js';

describe('running ffmpeg to its end', () => {
  it('gives the exit code and stderr; a failure is told by its last line', async () => {
    const missing = '/nonexistent/dv-input.mp4';
    const r = await runFfmpeg(['-hide_banner', '-nostdin', '-i', missing]);
    expect(r.code).toBe(1);
    expect(failureLine(r)).toBe(`${missing}: No such file or directory`);
    const ok = await runFfmpeg(['-hide_banner', '-nostdin', '-loglevel', 'error', '-f', 'lavfi', '-i', 'color=s=16x16:d=0.1', '-f', 'null', '-']);
    expect(ok).toEqual({ code: 0, stderr: '' });
    expect(failureLine({ code: 137, stderr: '' })).toBe('exit code 137');
  });

  it('keeps at most stderrLimit characters, and rejects a command that cannot start', async () => {
    const r = await runToEnd(process.execPath, ['-e', 'process.stderr.write("x".repeat(100000))'], { stderrLimit: 1000 });
    expect(r.code).toBe(0);
    // Whole chunks are kept until the limit is passed.
    expect(r.stderr.length).toBeGreaterThanOrEqual(1000);
    expect(r.stderr.length).toBeLessThan(100000);
    await expect(runToEnd('/nonexistent/dv-command', [])).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
