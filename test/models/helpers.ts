import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import onnx from 'onnx-proto';
import { expect } from 'vitest';
import { DepthVideoError } from '../../src/errors.js';

export interface SeenRequest {
  url: string;
  range: string | undefined;
}

/**
 * A loopback file server: `/blob` serves `blob` (honouring Range), `/cut`
 * serves it but kills the socket after `cutAfter` bytes on its first request,
 * `/redirect` sends a 302 to `/blob`, anything else is 404.
 */
export async function startBlobServer(blob: Buffer, cutAfter = 0): Promise<{ base: string; seen: SeenRequest[]; close: () => Promise<void> }> {
  const seen: SeenRequest[] = [];
  let cuts = 0;
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push({ url: req.url ?? '', range: req.headers.range });
    if (req.url === '/redirect') {
      res.writeHead(302, { location: '/blob' });
      res.end();
      return;
    }
    if (req.url !== '/blob' && req.url !== '/cut') {
      res.writeHead(404);
      res.end('not here');
      return;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    const body = blob.subarray(start);
    res.writeHead(m ? 206 : 200, {
      'content-length': body.length,
      ...(m ? { 'content-range': `bytes ${start}-${blob.length - 1}/${blob.length}` } : {}),
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
