import { spawn } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encoderFeed, type EncoderFeed } from '../../src/sinks/encoder-feed.js';
import { decodeVideo, makeClip, runCli, tempDir } from '../helpers/media.js';
import { privateTmpdir } from '../helpers/tmpdir.js';

// A reader that counts and hashes its stdin, then says so on stdout; `slow` sleeps first, so that the pipe fills.
const READER = `const h=require('crypto').createHash('sha256');let n=0;const go=()=>{process.stdin.on('data',d=>{h.update(d);n+=d.length});process.stdin.on('end',()=>process.stdout.write(n+' '+h.digest('hex')))};setTimeout(go,Number(process.argv[1]))`;

function start(feed: EncoderFeed, script: string, arg = '0') {
  const child = spawn(process.execPath, ['-e', script, arg], { stdio: [feed.stdin, 'pipe', 'ignore'] });
  feed.attach(child.stdin);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
  return { child, exited, out: () => out };
}

for (const kind of ['fifo', 'pipe'] as const) {
  describe(`encoder feed (${kind})`, () => {
    const tmp = privateTmpdir('dv-feed-test-');

    it('writes every part in order, shared memory and plain buffers alike, and end() is end-of-file', async () => {
      const feed = encoderFeed(kind);
      const r = start(feed, READER, '300');
      const shared = new Uint8Array(new SharedArrayBuffer(3 << 20));
      const expected = createHash('sha256');
      let bytes = 0;
      const writes: Promise<void>[] = [];
      for (let f = 0; f < 8; f++) {
        shared.fill(f * 17 + 3);
        const head = Buffer.from(`frame ${f};`);
        // A view into the middle of the shared buffer, as the render stage's pictures are.
        const body = shared.subarray(1000 + f, 1000 + f + (1 << 20));
        expected.update(head).update(body);
        bytes += head.length + body.length;
        writes.push(feed.write([head, body]));
        // The caller reuses its buffers once a write resolves.
        await writes[writes.length - 1];
      }
      feed.end();
      await Promise.all(writes);
      expect(await r.exited).toBe(0);
      expect(r.out()).toBe(`${bytes} ${expected.digest('hex')}`);
      if (kind === 'fifo') expect(readdirSync(tmp())).toEqual([]);
    });

    it('rejects a write once the reader is gone, and every later one', async () => {
      const feed = encoderFeed(kind);
      const r = start(feed, 'process.exit(3)');
      expect(await r.exited).toBe(3);
      const big = new Uint8Array(new SharedArrayBuffer(4 << 20));
      await expect(feed.write([big])).rejects.toThrow(/EPIPE|write after end|destroyed|closed/i);
      await expect(feed.write([big])).rejects.toThrow();
      feed.destroy();
    });
  });
}

describe('the encoder fed by its thread', () => {
  it('a run writes every frame and prints no Node warning (the thread closes a descriptor it did not open)', async () => {
    const dir = tempDir('dv-feed-cli-');
    const clip = makeClip(join(dir, 'in.mp4'), 'testsrc2=size=64x48:rate=10:duration=1.2');
    const out = join(dir, 'out.mp4');
    const r = await runCli([clip, '--out', out, '--model', 'analytic', '--device', 'cpu', '-q']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/\(node:\d+\) \w*Warning/);
    expect(decodeVideo(out).pts).toHaveLength(12);
    rmSync(dir, { recursive: true, force: true });
  });
});
