import { isIP } from 'node:net';

// Apart from server.ts so that the CLI can describe its options without
// loading the server (ws and node:http: about 30 ms of every start).

export const DEFAULT_PREVIEW_PORT = 8765;
export const DEFAULT_PREVIEW_HOST = '127.0.0.1';

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '0:0:0:0:0:0:0:1';
}
