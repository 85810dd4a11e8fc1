import { Redis } from 'ioredis';
import { DepthVideoError, errorText } from '../errors.js';

/** The BullMQ queue every depth-video command uses on a Redis server. */
export const QUEUE_NAME = 'depth-video';

/** The URL without its password, for messages. */
export function safeUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

/**
 * Connects to Redis, failing fast with one line when it cannot be reached at
 * first. Once connected, the connection reconnects forever with a short
 * backoff, so a worker outlives a Redis restart; commands wait meanwhile
 * (BullMQ needs maxRetriesPerRequest null for its blocking calls).
 */
export async function connectRedis(url: string): Promise<Redis> {
  if (!/^rediss?:\/\/[^\s]+$/.test(url)) {
    throw new DepthVideoError('USAGE', `--redis ${safeUrl(url)} is not a Redis URL: give one such as redis://127.0.0.1:6379 (rediss:// for TLS)`);
  }
  let connected = false;
  let lastError = '';
  const conn = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: null,
    connectTimeout: 5000,
    retryStrategy: (times) => (connected ? Math.min(200 * times, 2000) : null),
  });
  conn.on('error', (e: Error) => { lastError = e.message; });
  try {
    await conn.connect();
    await conn.ping();
  } catch (e) {
    conn.disconnect();
    throw new DepthVideoError('REDIS', `cannot reach Redis at ${safeUrl(url)} (${lastError || errorText(e)}): start redis-server there, or fix --redis`);
  }
  connected = true;
  return conn;
}
