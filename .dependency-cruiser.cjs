/**
 * The layer rule, run by `npm test` (`npm run deps`). Each layer may import only from the
 * layers before it in LAYERS (and from itself); imports between files must not form a cycle.
 * Type-only imports count: a type shared by two layers lives in the lower one.
 * README.md ("Layout") explains where each folder sits and why.
 */
const LAYERS = [
  ['core', '^src/core/'],
  ['logging', '^src/main/logging/'],
  ['net', '^src/main/net/'],
  ['codecs', '^src/main/codecs/'],
  ['batching', '^src/batching/'],
  ['workers', '^src/workers/'],
  ['config', '^src/main/config/'],
  ['tenancy', '^src/main/tenancy/'],
  ['lifecycle', '^src/main/lifecycle/'],
  ['metrics', '^src/main/metrics/'],
  ['serving', '^src/main/serving/'],
  ['front-ends', '^src/main/(rest|grpc)/'],
  ['server', '^src/main/[^/]+[.]ts$'],
];

const upward = LAYERS.slice(0, -1).map(([name, path], i) => ({
  name: `no-upward-from-${name}`,
  comment: `${name} may import only from ${
    LAYERS.slice(0, i)
      .map(([n]) => n)
      .join(', ') || 'itself'
  }`,
  severity: 'error',
  from: { path },
  to: {
    path: LAYERS.slice(i + 1)
      .map(([, p]) => `(${p})`)
      .join('|'),
  },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'Modules must not import each other in a circle (type-only imports included).',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...upward,
    {
      name: 'front-ends-apart',
      comment: 'REST and gRPC are peers: they share the serving core and the codecs, not each other.',
      severity: 'error',
      from: { path: '^src/main/rest/' },
      to: { path: '^src/main/grpc/' },
    },
    {
      name: 'front-ends-apart-grpc',
      comment: 'REST and gRPC are peers: they share the serving core and the codecs, not each other.',
      severity: 'error',
      from: { path: '^src/main/grpc/' },
      to: { path: '^src/main/rest/' },
    },
    {
      name: 'every-module-in-a-layer',
      comment: 'A new folder under src/ must be given its place in LAYERS (and in the README).',
      severity: 'error',
      from: { path: '^src/', pathNot: LAYERS.map(([, p]) => `(${p})`).join('|') },
      to: {},
    },
    {
      name: 'no-unresolvable',
      comment: 'Every relative import resolves to a file.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
