/**
 * The smallest model onnxruntime opens: y = Identity(Identity(x)), one float.
 * The inference worker opens it while it waits for its real model, so that
 * onnxruntime's one-time set-up is done by then. The bytes are what
 * GraphBuilder writes for that graph (test/inference/spare-worker.test.ts
 * builds it again and compares); kept literal so that the worker does not
 * load the model generator to make them.
 */
const WARM_MODEL_BASE64 = 'CAgSC2RlcHRoLXZpZGVvGgExMgA6YAoXCgF4EgJ5MBoEbl95MCIISWRlbnRpdHkKHQoCeTASAXkaCm5faWRlbnRpdHkiCElkZW50aXR5EgR3YXJtWg8KAXgSCgoICAESBAoCCAFiDwoBeRIKCggIARIECgIIAUIECgAQEQ==';

export function warmModel(): Uint8Array {
  return new Uint8Array(Buffer.from(WARM_MODEL_BASE64, 'base64'));
}
