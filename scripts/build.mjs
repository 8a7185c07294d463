// Builds the code that runs inside PocketBase's goja VM (npm run build):
//   src/plugin/index.ts -> pb_hooks/lib/pocketpages-plugin-anonymous.js   (the plugin)
//   src/host/index.ts   -> pb_hooks/lib/pocketpages-host.js               (stand-in PocketPages, ejs bundled)
//   src/auth-plugin/index.ts -> pb_hooks/lib/pocketpages-plugin-auth.js   (stand-in pocketpages-plugin-auth)
// goja wants CommonJS, ES2020 and no Node built-ins: ejs's `fs`/`path` are swapped for the
// small goja versions in src/host/shims. Output is not minified, for readable stack traces.
//
// It also writes tiny packages into node_modules so that goja's `require('pocketpages')`,
// `require('pocketpages-plugin-anonymous')` and `require('pocketpages-plugin-auth')` (resolved from
// PocketBase's working directory, the repo root) find the bundles, and copies Pico's classless CSS next to the demo pages.
// Re-run it after `npm install`, which removes those unlisted packages.
//
// With --package (npm's `prepare`, so also `npm pack` and installs from git): only what the npm
// package ships, the plugin bundle and its TypeScript declarations (scripts/build-types.mjs);
// nothing of the demo, nothing written into node_modules.

import { copyFileSync, mkdirSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const packageOnly = process.argv.includes('--package')
const at = (...parts) => join(root, ...parts)
const started = Date.now()

const gojaOptions = {
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

const plugin = {
  entry: 'src/plugin/index.ts',
  outfile: 'pb_hooks/lib/pocketpages-plugin-anonymous.js',
  banner: '// pocketpages-plugin-anonymous, built by scripts/build.mjs from src/plugin. Do not edit.',
  alias: undefined,
}
/** Next to the bundle, so TypeScript also finds it without package.json's "types". */
const declarations = 'pb_hooks/lib/pocketpages-plugin-anonymous.d.cts'

const demoBundles = [
  {
    entry: 'src/host/index.ts',
    outfile: 'pb_hooks/lib/pocketpages-host.js',
    banner: '// Stand-in PocketPages host, built by scripts/build.mjs from src/host. Do not edit.',
    alias: { fs: './src/host/shims/fs.ts', path: './src/host/shims/path.ts' },
  },
  {
    entry: 'src/auth-plugin/index.ts',
    outfile: 'pb_hooks/lib/pocketpages-plugin-auth.js',
    banner: '// Stand-in pocketpages-plugin-auth 0.2.2, built by scripts/build.mjs from src/auth-plugin. Do not edit.',
  },
]

const resolutionShims = [
  { name: 'pocketpages', target: 'pb_hooks/lib/pocketpages-host.js' },
  { name: 'pocketpages-plugin-anonymous', target: 'pb_hooks/lib/pocketpages-plugin-anonymous.js' },
  { name: 'pocketpages-plugin-auth', target: 'pb_hooks/lib/pocketpages-plugin-auth.js' },
]

const kb = (file) => `${(statSync(at(file)).size / 1024).toFixed(0)} KB`

await Promise.all(
  (packageOnly ? [plugin] : [plugin, ...demoBundles]).map(async ({ entry, outfile, banner, alias }) => {
    await build({
      ...gojaOptions,
      absWorkingDir: root,
      entryPoints: [at(entry)],
      outfile: at(outfile),
      banner: { js: banner },
      alias,
    })
    console.log(`built  ${outfile} (${kb(outfile)}) from ${entry}`)
  }),
)

if (packageOnly) {
  // Loaded only here: typescript is a devDependency, present wherever `prepare` runs.
  const { buildDeclarations } = await import('./build-types.mjs')
  await buildDeclarations(root, declarations)
  console.log(`built  ${declarations} (${kb(declarations)}) from ${plugin.entry}`)
} else {
  writeResolutionShims()
  copyDemoCss()
}
console.log(`done in ${Date.now() - started} ms`)

function writeResolutionShims() {
  for (const { name, target } of resolutionShims) {
    const dir = at('node_modules', name)
    mkdirSync(dir, { recursive: true })
    const fromDir = relative(dir, at(target)).split('\\').join('/')
    writeFileSync(
      join(dir, 'package.json'),
      `${JSON.stringify({ name, version: '0.0.0-local', private: true, main: 'index.js' }, null, 2)}\n`,
    )
    writeFileSync(
      join(dir, 'index.js'),
      `// Written by scripts/build.mjs: lets goja's require('${name}') find the local build.\nmodule.exports = require('${fromDir}')\n`,
    )
    console.log(`shim   node_modules/${name} -> ${target}`)
  }
}

function copyDemoCss() {
  const css = 'pb_hooks/pages/assets/pico.classless.min.css'
  mkdirSync(dirname(at(css)), { recursive: true })
  copyFileSync(at('node_modules/@picocss/pico/css/pico.classless.min.css'), at(css))
  console.log(`copied ${css} (${kb(css)})`)
}
