import { describe, expect, it } from 'vitest';
import { PickleError, PyBytes, PyDict, PyForeign, PySet, unpickle } from '../../src/convert/checkpoint/pickle.js';
import { PickleWriter } from '../../src/convert/checkpoint/pickle-writer.js';
import { classifyForeign, torchPickleHooks } from '../../src/convert/checkpoint/torch-pickle.js';

const hooks = torchPickleHooks((what) => new Error(what));

/** Plain JSON-able form of a parsed value, for comparisons. */
function plain(v: unknown): unknown {
  if (v instanceof PyDict) return { dict: v.keys.map((k, i) => [plain(k), plain(v.values[i])]) };
  if (v instanceof PySet) return { set: v.items.map(plain) };
  if (v instanceof PyBytes) return { bytes: [...v.bytes] };
  if (Array.isArray(v)) return v.map(plain);
  if (typeof v === 'bigint') return { bigint: v.toString() };
  return v;
}

// CPython 3 pickle.dumps(obj, protocol=0..5) of
//   x = [1]
//   {'a': [0, 1, -1, 255, 256, 65535, 65536, -2**31, 2**31, 2**40, -2**70, 3.5, -0.0, True, False, None, 'hé ✓ \\ \n'],
//    'b': (1, 2, 3, 4), 't': (5,), 'c': {1: 'x', (1, 'y'): 2}, 'd': {1, 2}, 'e': frozenset(),
//    'by': b'\x00\xffZ', 'ba': bytearray(b'ab'), 'p': x, 'q': x, 'big': 2**64}
const CPYTHON = [
  '286470300a56610a70310a286c70320a49300a6149310a61492d310a61493235350a61493235360a614936353533350a614936353533360a61492d323134373438333634380a614c323134373438333634384c0a614c313039393531313632373737364c0a614c2d313138303539313632303731373431313330333432344c0a6146332e350a61462d302e300a614930310a614930300a614e615668e9205c7532373133205c7530303563205c75303030610a70330a617356620a70340a2849310a49320a49330a49340a7470350a7356740a70360a2849350a7470370a7356630a70380a286470390a49310a56780a7031300a732849310a56790a7031310a747031320a49320a737356640a7031330a635f5f6275696c74696e5f5f0a7365740a7031340a28286c7031350a49310a6149320a61747031360a527031370a7356650a7031380a635f5f6275696c74696e5f5f0a66726f7a656e7365740a7031390a28286c7032300a747032310a527032320a735662790a7032330a635f636f646563730a656e636f64650a7032340a28565c7530303030ff5a0a7032350a566c6174696e310a7032360a747032370a527032380a735662610a7032390a635f5f6275696c74696e5f5f0a6279746561727261790a7033300a286732340a285661620a7033310a6732360a747033320a527033330a747033340a527033350a7356700a7033360a286c7033370a49310a617356710a7033380a6733370a73566269670a7033390a4c31383434363734343037333730393535313631364c0a732e',
  '7d71002858010000006171015d7102284b004b014affffffff4bff4d00014dffff4a000001004a000000804c323134373438333634384c0a4c313039393531313632373737364c0a4c2d313138303539313632303731373431313330333432344c0a47400c0000000000004780000000000000004930310a4930300a4e580b00000068c3a920e29c93205c200a7103655801000000627104284b014b024b034b047471055801000000747106284b0574710758010000006371087d7109284b01580100000078710a284b01580100000079710b74710c4b0275580100000064710d635f5f6275696c74696e5f5f0a7365740a710e285d710f284b014b02657471105271115801000000657112635f5f6275696c74696e5f5f0a66726f7a656e7365740a7113285d7114747115527116580200000062797117635f636f646563730a656e636f64650a711828580400000000c3bf5a711958060000006c6174696e31711a74711b52711c58020000006261711d635f5f6275696c74696e5f5f0a6279746561727261790a711e2868182858020000006162711f681a74712052712174712252712358010000007071245d71254b016158010000007171266825580300000062696771274c31383434363734343037333730393535313631364c0a752e',
  '80027d71002858010000006171015d7102284b004b014affffffff4bff4d00014dffff4a000001004a000000808a0500000080008a060000000000018a090000000000000000c047400c00000000000047800000000000000088894e580b00000068c3a920e29c93205c200a7103655801000000627104284b014b024b034b0474710558010000007471064b0585710758010000006371087d7109284b01580100000078710a4b01580100000079710b86710c4b0275580100000064710d635f5f6275696c74696e5f5f0a7365740a710e5d710f284b014b02658571105271115801000000657112635f5f6275696c74696e5f5f0a66726f7a656e7365740a71135d7114857115527116580200000062797117635f636f646563730a656e636f64650a7118580400000000c3bf5a711958060000006c6174696e31711a86711b52711c58020000006261711d635f5f6275696c74696e5f5f0a6279746561727261790a711e681858020000006162711f681a86712052712185712252712358010000007071245d71254b016158010000007171266825580300000062696771278a09000000000000000001752e',
  '80037d71002858010000006171015d7102284b004b014affffffff4bff4d00014dffff4a000001004a000000808a0500000080008a060000000000018a090000000000000000c047400c00000000000047800000000000000088894e580b00000068c3a920e29c93205c200a7103655801000000627104284b014b024b034b0474710558010000007471064b0585710758010000006371087d7109284b01580100000078710a4b01580100000079710b86710c4b0275580100000064710d636275696c74696e730a7365740a710e5d710f284b014b02658571105271115801000000657112636275696c74696e730a66726f7a656e7365740a71135d7114857115527116580200000062797117430300ff5a7118580200000062617119636275696c74696e730a6279746561727261790a711a43026162711b85711c52711d580100000070711e5d711f4b01615801000000717120681f580300000062696771218a09000000000000000001752e',
  '800495f9000000000000007d94288c0161945d94284b004b014affffffff4bff4d00014dffff4a000001004a000000808a0500000080008a060000000000018a090000000000000000c047400c00000000000047800000000000000088894e8c0b68c3a920e29c93205c200a94658c016294284b014b024b034b0474948c0174944b0585948c0163947d94284b018c0178944b018c01799486944b02758c0164948f94284b014b02908c0165942891948c02627994430300ff5a948c026261948c086275696c74696e73948c096279746561727261799493944302616294859452948c0170945d944b01618c017194681b8c03626967948a09000000000000000001752e',
  '800595e3000000000000007d94288c0161945d94284b004b014affffffff4bff4d00014dffff4a000001004a000000808a0500000080008a060000000000018a090000000000000000c047400c00000000000047800000000000000088894e8c0b68c3a920e29c93205c200a94658c016294284b014b024b034b0474948c0174944b0585948c0163947d94284b018c0178944b018c01799486944b02758c0164948f94284b014b02908c0165942891948c02627994430300ff5a948c026261949602000000000000006162948c0170945d944b01618c01719468168c03626967948a09000000000000000001752e',
];

const EXPECTED = {
  dict: [
    ['a', [0, 1, -1, 255, 256, 65535, 65536, -(2 ** 31), 2 ** 31, 2 ** 40, { bigint: (-(2n ** 70n)).toString() }, 3.5, -0, true, false, null, 'hé ✓ \\ \n']],
    ['b', [1, 2, 3, 4]],
    ['t', [5]],
    ['c', { dict: [[1, 'x'], [[1, 'y'], 2]] }],
    ['d', { set: [1, 2] }],
    ['e', { set: [] }],
    ['by', { bytes: [0, 255, 90] }],
    ['ba', { bytes: [97, 98] }],
    ['p', [1]],
    ['q', [1]],
    ['big', { bigint: (2n ** 64n).toString() }],
  ],
};

describe('pickle reader', () => {
  CPYTHON.forEach((hex, protocol) => {
    it(`reads CPython's protocol ${protocol} output exactly (ints of every width, floats, strings, bytes, tuples, dicts, sets, shared references)`, () => {
      const { value, foreign } = unpickle(Buffer.from(hex, 'hex'), hooks);
      expect(foreign).toEqual([]);
      expect(plain(value)).toEqual(EXPECTED);
      const d = value as PyDict;
      expect(Object.is((d.get('a') as unknown[])[12], -0)).toBe(true);
      // The memo makes 'p' and 'q' one list, as in Python.
      expect(d.get('p')).toBe(d.get('q'));
      expect((d.get('c') as PyDict).get([1, 'y'])).toBe(2);
    });
  });

  it('a refused global is recorded and inert: calling it yields nothing, the parse goes on', () => {
    const { value, foreign } = unpickle(new PickleWriter().global('os', 'system').str('x').raw(0x85).reduce().stop(), hooks);
    expect(foreign).toEqual(['os.system']);
    expect(value).toBeInstanceOf(PyForeign);
  });

  it('STACK_GLOBAL, INST and OBJ names go through the same allow-list', () => {
    // protocol 4: SHORT_BINUNICODE 'builtins', SHORT_BINUNICODE 'eval', STACK_GLOBAL, …
    const stackGlobal = Buffer.concat([Buffer.from([0x80, 4, 0x8c, 8]), Buffer.from('builtins'), Buffer.from([0x8c, 4]), Buffer.from('eval'), Buffer.from([0x93, 0x8c, 1, 0x31, 0x85, 0x52, 0x2e])]);
    expect(unpickle(stackGlobal, hooks).foreign).toEqual(['builtins.eval']);
    const inst = Buffer.from('(S\'id\'\nisubprocess\ncheck_output\n.', 'latin1');
    expect(unpickle(inst, hooks).foreign).toEqual(['subprocess.check_output']);
    const obj = Buffer.from('(cposix\nsystem\nS\'ls\'\no.', 'latin1');
    expect(unpickle(obj, hooks).foreign).toEqual(['posix.system']);
  });

  it('cut-short and malformed pickles are PickleErrors that say so', () => {
    const whole = Buffer.from(CPYTHON[2]!, 'hex');
    const cut = (() => {
      try {
        unpickle(whole.subarray(0, 100), hooks);
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(cut).toBeInstanceOf(PickleError);
    expect((cut as PickleError).truncated).toBe(true);
    expect(() => unpickle(Buffer.from([0x80, 2, 0xff]), hooks)).toThrow(/unknown opcode 0xff/);
    expect(() => unpickle(Buffer.from([0x80, 2, 0x68, 5, 0x2e]), hooks)).toThrow(/memo 5, which it never stored/);
    expect(() => unpickle(Buffer.from([0x80, 2, 0x52, 0x2e]), hooks)).toThrow(/empty stack/);
  });

  it('classifies refused globals: code-running names are refused by name, model classes make a whole pickled model', () => {
    expect(classifyForeign(['os.system'])).toEqual({ kind: 'refused', global: 'os.system' });
    expect(classifyForeign(['torch.nn.modules.conv.Conv2d', 'midas.dpt_depth.DPTDepthModel'])).toEqual({ kind: 'model', global: 'midas.dpt_depth.DPTDepthModel' });
    expect(classifyForeign(['depth_anything_v2.dpt.DepthAnythingV2', 'builtins.exec'])).toEqual({ kind: 'refused', global: 'builtins.exec' });
    expect(classifyForeign(['__main__.Net'])).toEqual({ kind: 'model', global: '__main__.Net' });
    expect(classifyForeign(['torch.nn.modules.linear.Linear'])).toEqual({ kind: 'model', global: 'torch.nn.modules.linear.Linear' });
  });
});
