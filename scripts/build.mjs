// Builds the code that runs inside PocketBase's goja VM (npm run build), as scripts/bundles.mjs lists it:
//   src/plugin/index.ts -> pb_hooks/lib/pocketpages-plugin-anonymous.js   (the plugin)
//                       -> pb_hooks/lib/pocketpages-plugin-anonymous.d.cts (its declarations)
//   src/host/index.ts   -> pb_hooks/lib/pocketpages-host.js               (stand-in PocketPages, ejs bundled)
//   src/auth-plugin/index.ts -> pb_hooks/lib/pocketpages-plugin-auth.js   (stand-in pocketpages-plugin-auth)
//   bench/bench-hooks.ts -> pb_hooks/lib/bench-hooks.js                  (the benchmark's hooks)
//
// The declarations are bundled by rolldown-plugin-dts (the declaration bundler of tsdown, which
// PocketPages uses): tsc emits each module's declarations (`stripInternal`), rolldown joins what the
// entry's exports reach into one file. The source is shaped for it: the public types are written
// out (src/core/options-types.ts, src/plugin/context-api.ts), records are PocketBase's `core.Record`.
// The file is then type-checked alone, strictly (skipLibCheck: false), with pocketbase-jsvm.
//
// It also writes tiny packages into node_modules so that goja's `require('pocketpages')`,
// `require('pocketpages-plugin-anonymous')` and `require('pocketpages-plugin-auth')` (resolved from
// PocketBase's working directory, the repo root) find the bundles, and copies Pico's classless CSS next to the demo pages.
// Re-run it after `npm install`, which removes those unlisted packages.
//
// With --package (npm's `prepare`, so also `npm pack` and installs from git): only what the npm
// package ships, the plugin bundle and its declarations; nothing of the demo or the benchmark,
// nothing written into node_modules.

import { copyFileSync, mkdirSync, statSync, writeFileSync } from 'node:fs'
import path, { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { declarations, demoBundles, gojaOptions, plugin } from './bundles.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const packageOnly = process.argv.includes('--package')
const at = (...parts) => join(root, ...parts)
const started = Date.now()

const resolutionShims = [
  { name: 'pocketpages', target: 'pb_hooks/lib/pocketpages-host.js' },
  { name: 'pocketpages-plugin-anonymous', target: 'pb_hooks/lib/pocketpages-plugin-anonymous.js' },
  { name: 'pocketpages-plugin-auth', target: 'pb_hooks/lib/pocketpages-plugin-auth.js' },
]

const kb = (file) => `${(statSync(at(file)).size / 1024).toFixed(0)} KB`

await Promise.all([
  ...(packageOnly ? [plugin] : [plugin, ...demoBundles]).map(async ({ entry, outfile, banner, alias }) => {
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
  buildDeclarations().then(() => console.log(`built  ${declarations} (${kb(declarations)}) from ${plugin.entry}`)),
])

if (!packageOnly) {
  writeResolutionShims()
  copyDemoCss()
}
console.log(`done in ${Date.now() - started} ms`)

async function buildDeclarations() {
  // devDependencies, present wherever the build runs (`prepare` included).
  const { rolldown } = await import('rolldown')
  const { dts } = await import('rolldown-plugin-dts')
  const name = path.basename(declarations, '.d.cts')
  const bundle = await rolldown({
    cwd: root,
    input: { [name]: at(plugin.entry) },
    platform: 'neutral',
    plugins: [
      dts({ cwd: root, tsconfig: 'tsconfig.json', emitDtsOnly: true, compilerOptions: { stripInternal: true } }),
    ],
    logLevel: 'warn',
    // The declaration pass is all plugin time (tsc): that is expected, not worth a warning.
    checks: { bundlerTimings: false },
  })
  const { output } = await bundle.generate({
    format: 'es',
    // .cjs gives .d.cts: the bundle is CommonJS (this repository's package.json says "type": "module").
    entryFileNames: '[name].cjs',
  })
  const [chunk] = output
  if (output.length !== 1 || chunk.type !== 'chunk' || chunk.fileName !== path.basename(declarations)) {
    throw new Error(`rolldown-plugin-dts gave ${output.map((o) => o.fileName).join(', ')}`)
  }
  const header = [
    '// pocketpages-plugin-anonymous: TypeScript declarations, bundled by scripts/build.mjs from src/. Do not edit.',
    '// `core.*` are PocketBase JSVM types from the pocketbase-jsvm package (an optional peer dependency).',
    '/// <reference types="pocketbase-jsvm" />',
  ]
  writeFileSync(at(declarations), `${header.join('\n')}\n\n${chunk.code}`)
  await bundle.close()
  await checkDeclarations()
}

/**
 * Type-checks the declarations as they ship: alone, strict, with pocketbase-jsvm, the file itself
 * with skipLibCheck: false (pocketbase-jsvm's own files have errors of their own, not ours).
 */
async function checkDeclarations() {
  const { default: ts } = await import('typescript')
  const file = at(declarations)
  /** @type {import('typescript').CompilerOptions} */
  const options = {
    strict: true,
    noEmit: true,
    skipLibCheck: false,
    types: [],
    lib: ['lib.es2020.d.ts'],
    target: ts.ScriptTarget.ES2020,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
  }
  const program = ts.createProgram([file], options)
  const source = program.getSourceFile(file)
  const diagnostics = [
    ...program.getOptionsDiagnostics(),
    ...program.getGlobalDiagnostics(),
    ...program.getSyntacticDiagnostics(source),
    ...program.getSemanticDiagnostics(source),
  ]
  if (diagnostics.length > 0) {
    const host = {
      getCanonicalFileName: (/** @type {string} */ f) => f,
      getCurrentDirectory: () => root,
      getNewLine: () => '\n',
    }
    throw new Error(`${declarations} does not type-check:\n${ts.formatDiagnostics(diagnostics, host)}`)
  }
}

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
