import type { Command } from 'commander';
import { modelsConvert, modelsInfo, modelsList, modelsPull, modelsVerify } from '../models/commands.js';
import type { CliIO } from './main.js';
import { familyOption, MAX_DEPTH_HELP, metresArg } from './pipeline-flags.js';

/** `depth-video models list|pull|info|verify|convert`: thin wiring over src/models. */
export function registerModelsCommand(program: Command, io: CliIO, setExit: (code: number) => void): void {
  const models = program.command('models').description('list, download, inspect and verify depth models');
  models
    .command('list')
    .description('known models and their variants: name, size, licence, present or not')
    .option('--json', 'machine-readable list on stdout')
    .action(async (o: { json?: boolean }) => setExit(await modelsList({ json: o.json, out: io.stdout, err: io.stderr })));
  models
    .command('pull <name[:variant]>')
    .description('download a model by name, e.g. depth-anything-v2-small:q4f16 (resumes, verifies sha256)')
    .action(async (name: string) => setExit(await modelsPull(name, { out: io.stdout, err: io.stderr })));
  models
    .command('info <file-or-name>')
    .description('inputs, outputs, opset, parameter count, detected family and preprocessing')
    .option('--json', 'machine-readable on stdout')
    .action(async (f: string, o: { json?: boolean }) => setExit(await modelsInfo(f, { json: o.json, out: io.stdout, err: io.stderr })));
  models
    .command('convert <checkpoint>')
    .description('convert a PyTorch checkpoint (.pth/.pt/.safetensors) to ONNX: family and config from its keys and shapes')
    .option('-o, --out <file.onnx>', 'where to write the model (default: <checkpoint name>.onnx here)')
    .addOption(familyOption('the architecture, when the file name does not say (e.g. depth-anything-v1, depth-anything-v2-metric)'))
    .option('--max-depth <metres>', MAX_DEPTH_HELP, metresArg)
    .option('--overwrite', 'replace an existing output')
    .option('--json', 'machine-readable result on stdout')
    .action(async (ckpt: string, o: { out?: string; family?: string; maxDepth?: number; overwrite?: boolean; json?: boolean }) =>
      setExit(await modelsConvert(ckpt, { outFile: o.out, family: o.family, maxDepth: o.maxDepth, overwrite: o.overwrite, json: o.json, out: io.stdout, err: io.stderr })),
    );
  models
    .command('verify')
    .description('check the sha256 of every downloaded model against the manifest')
    .option('--json', 'machine-readable on stdout')
    .action(async (o: { json?: boolean }) => setExit(await modelsVerify({ json: o.json, out: io.stdout, err: io.stderr })));
}
