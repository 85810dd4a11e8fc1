import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openCheckpoint, writeSafetensors, writeTorchCheckpoint } from '../../src/convert/checkpoint/index.js';
import { PickleWriter } from '../../src/convert/checkpoint/pickle-writer.js';
import { tempDir } from '../helpers/media.js';
import { python, thrown, writeZip } from './helpers.js';

/** data.pkl of a one-tensor state dict {'w': float32[4]} whose storage type, offset and size can be set. */
function tensorPickle(opts: { storageType?: string; offset?: number; size?: number[] } = {}): Buffer {
  const p = new PickleWriter();
  p.global('collections', 'OrderedDict').emptyTuple().reduce().mark();
  p.str('w').global('torch._utils', '_rebuild_tensor_v2').mark();
  p.mark().str('storage').global('torch', opts.storageType ?? 'FloatStorage').str('0').str('cpu').int(4).tuple().binpersid();
  p.int(opts.offset ?? 0).intTuple(opts.size ?? [4]).intTuple([1]).bool(false);
  p.global('collections', 'OrderedDict').emptyTuple().reduce().tuple().reduce();
  return p.setitems().stop();
}

describe('bad checkpoints: one line naming the file and what to do, nothing run', () => {
  let dir: string;
  let good: string;
  beforeAll(() => {
    dir = tempDir('dv-ckpt-err-');
    good = join(dir, 'good.pth');
    writeTorchCheckpoint(good, [
      { key: 'a', dtype: 'float32', shape: [1000], data: new Float32Array(1000).fill(1) },
      { key: 'b', dtype: 'float32', shape: [1000], data: new Float32Array(1000).fill(2) },
    ]);
  });

  it('a missing file', () => {
    const e = thrown(() => openCheckpoint(join(dir, 'nope.pth')));
    expect(e.code).toBe('INPUT_MISSING');
    expect(e.message).toBe(`${join(dir, 'nope.pth')}: no such file; check the path`);
  });

  it('a legacy (pre-1.6) torch file: how to re-save it', () => {
    const p = join(dir, 'legacy.pth');
    // What torch.save(..., _use_new_zipfile_serialization=False) starts with: the pickled magic number.
    writeFileSync(p, Buffer.concat([Buffer.from('80028a0a6cfc9c46f9206aa85019', 'hex'), Buffer.from('.\x80\x02M\xe9\x03.')]));
    const e = thrown(() => openCheckpoint(p));
    expect(e.code).toBe('CHECKPOINT_INVALID');
    expect(e.exitCode).toBe(1);
    expect(e.message).toBe(
      `${p}: this is a legacy (pre-1.6) PyTorch file, which depth-video does not read; re-save it in the zip format with PyTorch ≥ 1.6: torch.save(torch.load(p), p2)`,
    );
  });

  it('a truncated download (no end of central directory): damaged, download again, exit 3', () => {
    const p = join(dir, 'cut.pth');
    copyFileSync(good, p);
    truncateSync(p, 5000);
    const e = thrown(() => openCheckpoint(p));
    expect(e.code).toBe('CHECKPOINT_DAMAGED');
    expect(e.exitCode).toBe(3);
    expect(e.message).toBe(`${p}: the file is truncated or damaged (no zip end-of-central-directory record); download it again`);
  });

  it('a record that runs past the data (its size in the central directory is corrupt)', () => {
    const p = join(dir, 'long-record.pth');
    const b = readFileSync(good);
    const cd = b.indexOf(Buffer.from('good/data/0'), b.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]), b.length) - 2000) - 46;
    expect(b.readUInt32LE(cd)).toBe(0x02014b50);
    b.writeUInt32LE(50_000, cd + 20);
    writeFileSync(p, b);
    const e = thrown(() => openCheckpoint(p));
    expect(e.code).toBe('CHECKPOINT_DAMAGED');
    expect(e.message).toBe(`${p}: the file is truncated or damaged (record good/data/0 runs past the end of the data); download it again`);
  });

  it('a corrupted data.pkl fails its CRC', () => {
    const p = join(dir, 'bitflip.pth');
    const b = readFileSync(good);
    const at = b.indexOf(Buffer.from('_rebuild_tensor_v2'));
    b[at] = 0x41;
    writeFileSync(p, b);
    const e = thrown(() => openCheckpoint(p));
    expect(e.code).toBe('CHECKPOINT_DAMAGED');
    expect(e.message).toBe(`${p}: the file is truncated or damaged (record good/data.pkl fails its CRC check); download it again`);
  });

  it('a zip that is not a checkpoint (no data.pkl)', () => {
    const p = join(dir, 'photos.zip');
    writeZip(p, { 'photos/readme.txt': 'hello' });
    const e = thrown(() => openCheckpoint(p));
    expect(e.code).toBe('CHECKPOINT_INVALID');
    expect(e.message).toBe(`${p}: a zip file but not a PyTorch checkpoint (no data.pkl inside); give the .pt/.pth file that torch.save wrote`);
  });

  it('a TorchScript archive', () => {
    const p = join(dir, 'scripted.pt');
    writeZip(p, { 'm/data.pkl': tensorPickle(), 'm/constants.pkl': Buffer.from([0x80, 2, 0x29, 0x2e]), 'm/code/__torch__.py': 'x' });
    expect(thrown(() => openCheckpoint(p)).message).toBe(
      `${p}: this is a TorchScript archive (torch.jit.save), not a state dict; re-save its weights with torch.save(torch.jit.load(p).state_dict(), p2)`,
    );
  });

  it('a record compressed by re-zipping', () => {
    const p = join(dir, 'deflated.pth');
    const b = readFileSync(good);
    const cd = b.indexOf(Buffer.from('good/data.pkl'), b.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]))) - 46;
    b.writeUInt16LE(8, cd + 10);
    writeFileSync(p, b);
    expect(thrown(() => openCheckpoint(p)).message).toBe(
      `${p}: record good/data.pkl is compressed (zip method 8), which torch.save never does; re-save the file with torch.save, or re-zip it with zip -0`,
    );
  });

  it('files that are no checkpoint at all: text, an empty file, a bare pickle', () => {
    const text = join(dir, 'notes.pth');
    writeFileSync(text, 'just some notes\n');
    expect(thrown(() => openCheckpoint(text)).message).toBe(`${text}: not a PyTorch checkpoint: neither a torch.save zip (.pt/.pth) nor a .safetensors file`);
    const empty = join(dir, 'empty.pth');
    writeFileSync(empty, '');
    expect(thrown(() => openCheckpoint(empty)).message).toBe(`${empty}: the file is truncated or damaged (the file is empty); download it again`);
    const bare = join(dir, 'bare.pkl');
    writeFileSync(bare, tensorPickle());
    expect(thrown(() => openCheckpoint(bare)).message).toMatch(/bare\.pkl: a bare pickle, not a torch\.save checkpoint; save the weights with torch\.save\(model\.state_dict\(\), path\)/);
  });

  it('a foreign global (os.system) is refused by name and nothing runs; Python itself would have run it', () => {
    const marker = join(dir, 'pwned');
    const p = join(dir, 'evil.pth');
    const pkl = new PickleWriter().global('os', 'system').str(`touch ${marker}`).raw(0x85).reduce().stop();
    writeZip(p, { 'evil/data.pkl': pkl, 'evil/version': '3\n' });
    const e = thrown(() => openCheckpoint(p));
    expect(e.code).toBe('CHECKPOINT_REFUSED');
    expect(e.exitCode).toBe(1);
    expect(e.message).toBe(`${p}: refused to load: the pickle asks for os.system, which a state dict never needs (nothing was run)`);
    expect(existsSync(marker)).toBe(false);
    // In CI Python is there (the tests that need it fail otherwise); locally this part may not run.
    if (python.available) {
      // The same bytes given to Python's unpickler do run the command: the test's pickle is live.
      const r = spawnSync('python3', ['-c', 'import sys, zipfile, pickle; pickle.loads(zipfile.ZipFile(sys.argv[1]).read("evil/data.pkl"))', p]);
      expect(r.status).toBe(0);
      expect(existsSync(marker)).toBe(true);
    }
  });

  it('a foreign global hidden inside an otherwise valid state dict is refused too', () => {
    const p = join(dir, 'hidden.pth');
    const pk = new PickleWriter();
    pk.global('collections', 'OrderedDict').emptyTuple().reduce().mark();
    pk.str('w').global('torch._utils', '_rebuild_tensor_v2').mark();
    pk.mark().str('storage').global('torch', 'FloatStorage').str('0').str('cpu').int(4).tuple().binpersid();
    pk.int(0).intTuple([4]).intTuple([1]).bool(false);
    // backward_hooks built by builtins.eval instead of OrderedDict()
    pk.global('builtins', 'eval').str('print(1)').raw(0x85).reduce().tuple().reduce();
    writeZip(p, { 'h/data.pkl': pk.setitems().stop(), 'h/data/0': new Uint8Array(16) });
    expect(thrown(() => openCheckpoint(p)).message).toBe(`${p}: refused to load: the pickle asks for builtins.eval, which a state dict never needs (nothing was run)`);

    // A refused global where an allowed rebuild expects a function: still the refusal, not a parse error.
    const q = join(dir, 'hidden2.pth');
    const pq = new PickleWriter();
    pq.global('torch._tensor', '_rebuild_from_type_v2').mark().global('subprocess', 'call').global('torch', 'Tensor');
    pq.str('ls').raw(0x85).emptyDict().tuple().reduce();
    writeZip(q, { 'h/data.pkl': pq.stop() });
    expect(thrown(() => openCheckpoint(q)).message).toBe(`${q}: refused to load: the pickle asks for subprocess.call, which a state dict never needs (nothing was run)`);
  });

  it('a whole pickled model (torch.save(model)) is refused with what to do instead', () => {
    for (const [module, cls] of [['midas.dpt_depth', 'DPTDepthModel'], ['depth_anything_v2.dpt', 'DepthAnythingV2']]) {
      const p = join(dir, `${cls}.pt`);
      // What pickling an nn.Module gives: its class by NEWOBJ, then its __dict__ with submodules by BUILD.
      const pk = new PickleWriter();
      pk.global(module!, cls!).emptyTuple().raw(0x81);
      pk.emptyDict().str('_modules').global('collections', 'OrderedDict').emptyTuple().reduce();
      pk.str('conv').global('torch.nn.modules.conv', 'Conv2d').emptyTuple().raw(0x81).emptyDict().str('training').bool(false).setitem().build().setitem();
      pk.setitem().build();
      writeZip(p, { 'm/data.pkl': pk.stop(), 'm/version': '3\n' });
      const e = thrown(() => openCheckpoint(p));
      expect(e.code).toBe('CHECKPOINT_REFUSED');
      expect(e.message).toBe(
        `${p}: this is a whole pickled model (${module}.${cls}), not a state dict, and was not loaded (nothing was run); ` +
          'in the official code, load it and re-save its weights with torch.save(model.state_dict(), path), then use that file',
      );
    }
  });

  it('malformed pickles and tensors that do not fit their storage', () => {
    const cut = join(dir, 'cut-pickle.pth');
    writeZip(cut, { 'c/data.pkl': tensorPickle().subarray(0, 60), 'c/data/0': new Uint8Array(16) });
    expect(thrown(() => openCheckpoint(cut)).message).toBe(`${cut}: data.pkl is not a valid pickle: the pickle ends inside a text opcode (opcode at byte 40)`);

    const garbage = join(dir, 'garbage.pth');
    writeZip(garbage, { 'g/data.pkl': Buffer.from('I12x\n.', 'latin1') });
    expect(thrown(() => openCheckpoint(garbage)).message).toMatch(/garbage\.pth: data\.pkl is not a valid pickle: Cannot convert 12x to a BigInt/);

    const outside = join(dir, 'outside.pth');
    writeZip(outside, { 'o/data.pkl': tensorPickle({ offset: 2 }), 'o/data/0': new Uint8Array(16) });
    expect(thrown(() => openCheckpoint(outside)).message).toBe(`${outside}: tensor w (shape [4]) reaches byte 24 of storage 0, which has 16`);

    const complex = join(dir, 'complex.pth');
    writeZip(complex, { 'x/data.pkl': tensorPickle({ storageType: 'ComplexFloatStorage' }), 'x/data/0': new Uint8Array(32) });
    expect(thrown(() => openCheckpoint(complex)).message).toBe(`${complex}: tensor w is stored as torch.ComplexFloatStorage, a type depth-video does not read`);

    // Names an object's inherited properties answer to are not on the allow-list either.
    for (const inherited of ['constructor', 'toString', '__proto__']) {
      const proto = join(dir, `proto-${inherited}.pth`);
      writeZip(proto, { 'p/data.pkl': tensorPickle({ storageType: inherited }), 'p/data/0': new Uint8Array(16) });
      const e = thrown(() => openCheckpoint(proto));
      expect(e.code).toBe('CHECKPOINT_REFUSED');
      expect(e.message).toBe(`${proto}: refused to load: the pickle asks for torch.${inherited}, which a state dict never needs (nothing was run)`);
    }

    const missing = join(dir, 'no-storage.pth');
    writeZip(missing, { 'n/data.pkl': tensorPickle() });
    expect(thrown(() => openCheckpoint(missing)).message).toBe(`${missing}: the file is truncated or damaged (no record data/0 for tensor w); download it again`);

    const order = join(dir, 'order.pth');
    writeZip(order, { 'b/data.pkl': tensorPickle(), 'b/byteorder': 'middle', 'b/data/0': new Uint8Array(16) });
    expect(thrown(() => openCheckpoint(order)).message).toBe(`${order}: unknown byte order 'middle' in its byteorder record`);
  });

  it('a dict with no tensors anywhere says what it found', () => {
    const p = join(dir, 'opt.pth');
    const pk = new PickleWriter();
    pk.emptyDict().mark().str('epoch').int(3).str('optimizer').emptyDict().raw(0x75);
    writeZip(p, { 'o/data.pkl': pk.stop() });
    expect(thrown(() => openCheckpoint(p)).message).toBe(
      `${p}: no tensors found in the top-level dict (keys: epoch, optimizer) nor under 'state_dict', 'model_state_dict', 'model', 'module', 'net', 'network', 'params', 'weights'; save the model with torch.save(model.state_dict(), path)`,
    );
  });

  it('safetensors: truncated data, a header past the end, an unknown dtype', () => {
    const p = join(dir, 'st.safetensors');
    writeSafetensors(p, [{ key: 'w', dtype: 'float32', shape: [100], data: new Float32Array(100) }]);
    const size = readFileSync(p).length;
    truncateSync(p, size - 4);
    expect(thrown(() => openCheckpoint(p)).message).toBe(`${p}: the file is truncated or damaged (tensor w ends at byte ${size} of a ${size - 4}-byte file); download it again`);
    truncateSync(p, 20);
    expect(thrown(() => openCheckpoint(p)).code).toBe('CHECKPOINT_DAMAGED');
    const u = join(dir, 'u16.safetensors');
    const json = JSON.stringify({ w: { dtype: 'U16', shape: [2], data_offsets: [0, 4] } });
    const head = Buffer.alloc(8);
    head.writeBigUInt64LE(BigInt(json.length));
    writeFileSync(u, Buffer.concat([head, Buffer.from(json), Buffer.alloc(4)]));
    expect(thrown(() => openCheckpoint(u)).message).toBe(`${u}: tensor w has safetensors dtype U16, which depth-video does not read`);
    // A dtype named like a property every object inherits is no dtype either.
    const inherited = JSON.stringify({ w: { dtype: 'constructor', shape: [2], data_offsets: [0, 4] } });
    head.writeBigUInt64LE(BigInt(inherited.length));
    writeFileSync(u, Buffer.concat([head, Buffer.from(inherited), Buffer.alloc(4)]));
    expect(thrown(() => openCheckpoint(u)).message).toBe(`${u}: tensor w has safetensors dtype constructor, which depth-video does not read`);
  });
});
