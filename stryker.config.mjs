// @ts-check
// Mutation testing of the core's policy (npm run mutate; not part of npm test: it takes minutes).
// Every mutant of src/core (a one-line change: a flipped condition, a removed call, another
// constant) must make the unit suite fail. src/core/pocketbase is PocketBase glue, proven by the
// e2e tests against real binaries, so it is not mutated here.
// The tap runner runs each unit test file as its own `node --import tsx` process (like
// scripts/test.mjs), and for each mutant only the files that cover it; the TypeScript checker drops mutants
// that would not compile. Reports and the incremental cache go to test-results/ (git-ignored).
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  mutate: ['src/core/**/*.ts', '!src/core/pocketbase/**', '!src/core/ports.ts'],
  testRunner: 'tap',
  tap: {
    // The unit tests of the core (not of the demo host, the auth-plugin stand-in or the package).
    testFiles: ['test/unit/!(host-*|auth-plugin|package-files).test.ts'],
    nodeArgs: ['--import', 'tsx', '--test-reporter=tap', '-r', '{{hookFile}}', '{{testFile}}'],
  },
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.json',
  coverageAnalysis: 'perTest',
  // The sandbox needs only the sources, the tests and what they read (test/unit/deciding-sql.test.ts
  // reads the counters table's CREATE statements from the migration; shared-names.test.ts reads
  // the migrations, the README and docs/operators.md).
  ignorePatterns: [
    '/*',
    '!/src',
    '!/test',
    '!/pb_migrations',
    '!/package.json',
    '!/tsconfig.json',
    '!/README.md',
    '!/docs',
  ],
  concurrency: 2,
  incremental: true,
  incrementalFile: 'test-results/mutation/incremental.json',
  reporters: ['clear-text', 'progress-append-only', 'html', 'json'],
  htmlReporter: { fileName: 'test-results/mutation/index.html' },
  jsonReporter: { fileName: 'test-results/mutation/mutation.json' },
  tempDirName: 'test-results/.stryker-tmp',
  thresholds: { high: 95, low: 90, break: null },
}
