import { DepthVideoError } from '../../errors.js';

/** A file that is readable but not a checkpoint this reader can use (exit 1). */
export function invalidCheckpoint(path: string, what: string): DepthVideoError {
  return new DepthVideoError('CHECKPOINT_INVALID', `${path}: ${what}`, { file: path });
}

/** A file cut short or corrupted on the way (exit 3): downloading again is the fix. */
export function damagedCheckpoint(path: string, detail: string): DepthVideoError {
  return new DepthVideoError('CHECKPOINT_DAMAGED', `${path}: the file is truncated or damaged (${detail}); download it again`, { file: path });
}

export function legacyCheckpoint(path: string): DepthVideoError {
  return invalidCheckpoint(
    path,
    'this is a legacy (pre-1.6) PyTorch file, which depth-video does not read; re-save it in the zip format with PyTorch ≥ 1.6: torch.save(torch.load(p), p2)',
  );
}

/** The pickle names a global outside the allow-list; nothing it names was run. */
export function refusedGlobal(path: string, global: string): DepthVideoError {
  return new DepthVideoError(
    'CHECKPOINT_REFUSED',
    `${path}: refused to load: the pickle asks for ${global}, which a state dict never needs (nothing was run)`,
    { file: path },
  );
}

export function wholePickledModel(path: string, cls: string): DepthVideoError {
  return new DepthVideoError(
    'CHECKPOINT_REFUSED',
    `${path}: this is a whole pickled model (${cls}), not a state dict, and was not loaded (nothing was run); ` +
      'in the official code, load it and re-save its weights with torch.save(model.state_dict(), path), then use that file',
    { file: path },
  );
}

export function torchScriptArchive(path: string): DepthVideoError {
  return invalidCheckpoint(
    path,
    'this is a TorchScript archive (torch.jit.save), not a state dict; re-save its weights with torch.save(torch.jit.load(p).state_dict(), p2)',
  );
}
