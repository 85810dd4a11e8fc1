import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import onnx from 'onnx-proto';
import { expect } from 'vitest';
import { DepthVideoError } from '../../src/errors.js';
import { GraphBuilder } from '../../src/inference/generate/graph.js';

export interface SeenRequest {
  url: string;
  range: string | undefined;
}

/**
 * A loopback file server: `/blob` serves `blob` (honouring Range), `/cut`
 * serves it but kills the socket after `cutAfter` bytes on its first request,
 * `/redirect` sends a 302 to `/blob`, each path in `more` serves its buffer,
 * anything else is 404.
 */
export async function startBlobServer(
  blob: Buffer,
  cutAfter = 0,
  more: Readonly<Record<string, Buffer>> = {},
): Promise<{ base: string; seen: SeenRequest[]; close: () => Promise<void> }> {
  const seen: SeenRequest[] = [];
  let cuts = 0;
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push({ url: req.url ?? '', range: req.headers.range });
    if (req.url === '/redirect') {
      res.writeHead(302, { location: '/blob' });
      res.end();
      return;
    }
    const file = req.url === '/blob' || req.url === '/cut' ? blob : more[req.url ?? ''];
    if (!file) {
      res.writeHead(404);
      res.end('not here');
      return;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    const body = file.subarray(start);
    res.writeHead(m ? 206 : 200, {
      'content-length': body.length,
      ...(m ? { 'content-range': `bytes ${start}-${file.length - 1}/${file.length}` } : {}),
    });
    if (req.url === '/cut' && cuts === 0) {
      cuts++;
      res.write(body.subarray(0, cutAfter));
      // Let the bytes reach the client before the connection dies mid-body.
      setTimeout(() => res.socket?.destroy(), 100);
      return;
    }
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    base: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

type Dim = number | string;

function valueInfo(name: string, dims: readonly Dim[], elemType = 1): onnx.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** A hand-built ModelProto: Identity-ish graph, only the interface matters to onnx-info. */
export function buildTinyModel(opts: {
  inputs: { name: string; dims: readonly Dim[]; elemType?: number }[];
  outputs: { name: string; dims: readonly Dim[] }[];
  initializers?: { name: string; dims: number[] }[];
  metadata?: Record<string, string>;
  opset?: number;
}): Uint8Array {
  const model = onnx.onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'test',
    opsetImport: [{ domain: '', version: opts.opset ?? 17 }],
    metadataProps: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: 'tiny',
      node: [{ opType: 'Identity', input: [opts.inputs[0].name], output: [opts.outputs[0].name] }],
      input: opts.inputs.map((i) => valueInfo(i.name, i.dims, i.elemType)),
      output: opts.outputs.map((o) => valueInfo(o.name, o.dims)),
      initializer: (opts.initializers ?? []).map((t) => ({
        name: t.name,
        dims: t.dims,
        dataType: 1,
        rawData: new Uint8Array(4 * t.dims.reduce((a, b) => a * b, 1)),
      })),
    },
  });
  return onnx.onnx.ModelProto.encode(model).finish();
}

/** The DepthVideoError a promise rejects with (fails the test if it resolves or rejects otherwise). */
export async function caught(p: Promise<unknown>): Promise<DepthVideoError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(DepthVideoError);
    return e as DepthVideoError;
  }
  throw new Error('expected a rejection');
}

export const IMAGENET_MEAN = [0.485, 0.456, 0.406];
export const IMAGENET_STD = [0.229, 0.224, 0.225];

/**
 * A graph shaped like the official MiDaS v2.1 ONNX files (tf/make_onnx_model.py):
 * input named `0`, fixed 1x3x256x256, the ImageNet Sub/Div inside the graph,
 * then a stand-in network whose output a test can predict: the mean of the
 * normalised channels.
 */
export function midasStyleModel(opts: { normalise?: boolean; size?: number } = {}): Uint8Array {
  const size = opts.size ?? 256;
  const g = new GraphBuilder('midas_v21_style');
  let x = g.input('0', [1, 3, size, size]);
  if (opts.normalise !== false) {
    x = g.op('Sub', [x, g.constF(IMAGENET_MEAN, [1, 3, 1, 1], 'mean')]);
    x = g.op('Div', [x, g.constF(IMAGENET_STD, [1, 3, 1, 1], 'std')]);
  }
  const depth = g.op('ReduceMean', [x], { axes: [1], keepdims: 0 });
  g.output(depth, '797', [1, size, size]);
  return g.toBytes();
}

/** What midasStyleModel predicts for a solid RGB colour fed as RGB/255. */
export function midasStyleValue(rgb: readonly [number, number, number]): number {
  return rgb.reduce((s, v, c) => s + (v / 255 - IMAGENET_MEAN[c]) / IMAGENET_STD[c], 0) / 3;
}

/** A writable that keeps what the models commands print. */
export function sink(): { stream: Writable; text: () => string } {
  let buf = '';
  const stream = new Writable({ write(c, _e, cb) { buf += String(c); cb(); } });
  return { stream, text: () => buf };
}
