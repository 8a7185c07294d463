// @ts-check
// What scripts/build.mjs builds, as data (no side effects on import): test/unit/package-files.test.ts
// builds the plugin bundle from the same settings to prove what it contains.
// goja wants CommonJS, ES2020 and no Node built-ins. Output is not minified, for readable stack traces.

/** @typedef {{ entry: string, outfile: string, banner: string, alias?: Record<string, string> }} Bundle */

/** esbuild settings shared by every bundle that runs in PocketBase's JS VMs. @type {import('esbuild').BuildOptions} */
export const gojaOptions = {
  bundle: true,
  format: 'cjs',
  platform: 'neutral',
  target: 'es2020',
  mainFields: ['main', 'module'],
  minify: false,
  // Resolved at run time by goja's require, never bundled.
  external: ['pocketpages', 'pocketpages-plugin-anonymous', 'pocketpages-plugin-auth'],
  logLevel: 'warning',
  legalComments: 'inline',
}

/** The npm package's bundle. @type {Bundle} */
export const plugin = {
  entry: 'src/plugin/index.ts',
  outfile: 'pb_hooks/lib/pocketpages-plugin-anonymous.js',
  banner: '// pocketpages-plugin-anonymous, built by scripts/build.mjs from src/plugin. Do not edit.',
}

/** The package's declarations: next to the bundle, so TypeScript also finds them without package.json's "types". */
export const declarations = 'pb_hooks/lib/pocketpages-plugin-anonymous.d.cts'

/** The demo's and the benchmark's bundles: never in the package. @type {Bundle[]} */
export const demoBundles = [
  {
    entry: 'src/host/index.ts',
    outfile: 'pb_hooks/lib/pocketpages-host.js',
    banner: '// Stand-in PocketPages host, built by scripts/build.mjs from src/host. Do not edit.',
    // ejs's `fs`/`path` are swapped for the small goja versions in src/host/shims.
    alias: { fs: './src/host/shims/fs.ts', path: './src/host/shims/path.ts' },
  },
  {
    entry: 'src/auth-plugin/index.ts',
    outfile: 'pb_hooks/lib/pocketpages-plugin-auth.js',
    banner: '// Stand-in pocketpages-plugin-auth 0.2.2, built by scripts/build.mjs from src/auth-plugin. Do not edit.',
  },
  {
    entry: 'bench/bench-hooks.ts',
    outfile: 'pb_hooks/lib/bench-hooks.js',
    banner:
      '// The benchmark-only hooks (bench/hooks), built by scripts/build.mjs from bench/bench-hooks.ts. Do not edit.',
  },
]
