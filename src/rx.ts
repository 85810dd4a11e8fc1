import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as Rx from 'rxjs';

/**
 * rxjs as this project uses it, loaded from the package's one-file bundle
 * (dist/bundles/rxjs.umd.min.js, the same release). Imported by name, rxjs
 * is 223 CommonJS files that node's ES module loader reads and scans one by
 * one: 55-75 ms of the main thread at every start, against 6-7 ms for the
 * bundle, in a start-up of about 0.7 s. The types still come from the
 * package. Observables from either copy work with the other's operators
 * (rxjs checks for `lift` and Symbol.observable, not for its own classes).
 */
const require = createRequire(import.meta.url);
const rx = require(join(dirname(require.resolve('rxjs/package.json')), 'dist', 'bundles', 'rxjs.umd.min.js')) as typeof Rx;

export const { asapScheduler, concatMap, defaultIfEmpty, defer, filter, firstValueFrom, from, lastValueFrom, map, observeOn, tap } = rx;
export const Observable = rx.Observable;
export type Observable<T> = Rx.Observable<T>;
export const Subject = rx.Subject;
export type Subject<T> = Rx.Subject<T>;
export const BehaviorSubject = rx.BehaviorSubject;
export type BehaviorSubject<T> = Rx.BehaviorSubject<T>;
export type { OperatorFunction, Subscription } from 'rxjs';
