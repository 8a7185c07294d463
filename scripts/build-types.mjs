// @ts-check
// The package's TypeScript declarations, generated from the source so that they cannot drift:
//   src/plugin/index.ts -> pb_hooks/lib/pocketpages-plugin-anonymous.d.cts   (one self-contained file)
//
// How: tsc emits declarations for the plugin's modules (in memory, `stripInternal`), and this
// script copies into one file exactly the declarations that the entry's exports reach, following
// each name through the imports, so no path of this repository ends up in the package. Two
// replacements make the public surface what users see at run time:
//   - `AuthRecord` (the core's port for an auth record) is PocketBase's `core.Record`;
//   - `AnonymousPluginOptions` (a mapped type over src/core/options.ts's OPTIONS table) is written
//     out as a plain object type, one property per option, with its documentation from the table
//     and its default (`@default`), so editors show both on hover and in completions.
// `typeof SOME_CONST` of a literal constant is replaced by the literal. Finally the file is
// type-checked on its own (with pocketbase-jsvm's globals): a name that did not come along fails
// the build. `core.*` types are pocketbase-jsvm's globals, hence the `/// <reference types>`.
// The extension is .d.cts because the bundle is CommonJS (the package.json says "type": "module"
// for this repository's scripts).

import fs from 'node:fs'
import path from 'node:path'
import { build } from 'esbuild'
import ts from 'typescript'

const ENTRY = 'src/plugin/index.ts'
const OPTIONS_MODULE = 'src/core/options'

/** References to these declarations are replaced by a type: key `<module without extension>#<name>`. */
const TYPE_REPLACEMENTS = new Map([['src/core/ports#AuthRecord', 'core.Record']])

/** @typedef {{ key: string, module: string, name: string }} Target a top-level declaration of an emitted module */

/**
 * @param {string} root repository root
 * @param {string} outFile path relative to root
 * @returns {Promise<{ file: string, bytes: number }>}
 */
export async function buildDeclarations(root, outFile) {
  const at = (/** @type {string} */ p) => path.join(root, p)
  const rel = (/** @type {string} */ p) => path.relative(root, p).split(path.sep).join('/')

  const parsed = ts.getParsedCommandLineOfConfigFile(
    at('tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'))
      },
    },
  )
  if (!parsed) throw new Error('cannot read tsconfig.json')
  const options = {
    ...parsed.options,
    noEmit: false,
    declaration: true,
    emitDeclarationOnly: true,
    stripInternal: true,
    declarationMap: false,
    sourceMap: false,
  }
  const ambient = parsed.fileNames.filter((f) => f.endsWith('.d.ts'))
  const program = ts.createProgram([at(ENTRY), ...ambient], options)

  /** Emitted declarations by module path without extension, e.g. 'src/core/errors'. */
  /** @type {Map<string, ts.SourceFile>} */
  const modules = new Map()
  const emitted = program.emit(
    undefined,
    (fileName, text) => {
      const module = rel(fileName).replace(/\.d\.ts$/, '')
      modules.set(module, ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2020, true))
    },
    undefined,
    true,
  )
  if (emitted.diagnostics.length > 0) throw new Error(`declaration emit failed:\n${format(emitted.diagnostics)}`)

  const graph = new ModuleGraph(modules, (module) => fileHeader(program.getSourceFile(at(`${module}.ts`))))
  const entry = ENTRY.replace(/\.ts$/, '')
  const exports = graph.exportsOf(entry)

  /** Declarations written here instead of copied. @type {Map<string, ts.Statement>} */
  const written = new Map([
    [
      `${OPTIONS_MODULE}#AnonymousPluginOptions`,
      parseStatement(await optionsDeclaration(program, at(`${OPTIONS_MODULE}.ts`), at)),
    ],
  ])

  // Copy the reachable declarations, breadth first from the entry's exports.
  /** @type {Map<string, string>} output name -> key, to refuse two declarations of one name */
  const names = new Map()
  /** @type {string[]} */
  const out = []
  /** @type {Target[]} */
  const queue = exports.map((e) => e.target)
  const seen = new Set()
  while (queue.length > 0) {
    const target = /** @type {Target} */ (queue.shift())
    if (seen.has(target.key)) continue
    seen.add(target.key)
    const other = names.get(target.name)
    if (other !== undefined && other !== target.key) {
      throw new Error(`two public declarations are named ${target.name}: ${other} and ${target.key}; rename one`)
    }
    names.set(target.name, target.key)
    const own = written.get(target.key)
    for (const statement of own ? [own] : graph.declarationsOf(target)) {
      out.push(graph.rewrite(statement, target.module, (t) => queue.push(t)))
    }
  }

  const exportList = exports
    .filter((e) => e.exported !== 'default')
    .map((e) => (e.exported === e.target.name ? e.exported : `${e.target.name} as ${e.exported}`))
  const defaultExport = exports.find((e) => e.exported === 'default')
  const text = [
    '// pocketpages-plugin-anonymous: TypeScript declarations, generated by scripts/build-types.mjs from src/. Do not edit.',
    '// `core.*` are PocketBase JSVM types from the pocketbase-jsvm package (an optional peer dependency).',
    '/// <reference types="pocketbase-jsvm" />',
    '',
    out.join('\n\n'),
    '',
    `export { ${exportList.join(', ')} }`,
    defaultExport ? `export default ${defaultExport.target.name}` : '',
    '',
  ].join('\n')

  selfCheck(text, at(outFile), options)
  fs.mkdirSync(path.dirname(at(outFile)), { recursive: true })
  fs.writeFileSync(at(outFile), text)
  return { file: outFile, bytes: Buffer.byteLength(text) }
}

/** @param {readonly ts.Diagnostic[]} diagnostics */
function format(diagnostics) {
  return ts.formatDiagnostics(diagnostics, {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => process.cwd(),
    getNewLine: () => '\n',
  })
}

/** @param {string} text */
function parseStatement(text) {
  const file = ts.createSourceFile('replacement.d.ts', text, ts.ScriptTarget.ES2020, true)
  if (file.statements.length !== 1) throw new Error(`expected one declaration in:\n${text}`)
  return /** @type {ts.Statement} */ (file.statements[0])
}

/**
 * Type-checks the generated file as a user's project would load it: alone, with pocketbase-jsvm.
 * @param {string} text
 * @param {string} fileName
 * @param {ts.CompilerOptions} base
 */
function selfCheck(text, fileName, base) {
  /** @type {ts.CompilerOptions} */
  const options = {
    strict: true,
    noEmit: true,
    skipLibCheck: false,
    types: [],
    lib: base.lib,
    target: base.target,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    typeRoots: base.typeRoots,
  }
  const host = ts.createCompilerHost(options)
  const readFile = host.readFile
  host.readFile = (f) => (path.resolve(f) === path.resolve(fileName) ? text : readFile.call(host, f))
  const fileExists = host.fileExists
  host.fileExists = (f) => path.resolve(f) === path.resolve(fileName) || fileExists.call(host, f)
  const program = ts.createProgram([fileName], options, host)
  const file = program.getSourceFile(fileName)
  const diagnostics = [
    ...program.getOptionsDiagnostics(),
    ...program.getGlobalDiagnostics(),
    ...program.getSyntacticDiagnostics(file),
    ...program.getSemanticDiagnostics(file),
  ]
  if (diagnostics.length > 0) throw new Error(`the generated declarations do not type-check:\n${format(diagnostics)}`)
}

// --- the options type ---------------------------------------------------------------------------

/**
 * `type AnonymousPluginOptions = { ... }` written out from the checker's view of the source type,
 * with each option's documentation (from OPTIONS) and its default (OPTIONS' runtime values).
 * @param {ts.Program} program
 * @param {string} optionsFile absolute path of src/core/options.ts
 * @param {(p: string) => string} at
 */
async function optionsDeclaration(program, optionsFile, at) {
  const checker = program.getTypeChecker()
  const source = program.getSourceFile(optionsFile)
  const alias = source?.statements.find((s) => ts.isTypeAliasDeclaration(s) && s.name.text === 'AnonymousPluginOptions')
  if (!alias || !ts.isTypeAliasDeclaration(alias)) throw new Error(`${optionsFile}: no type AnonymousPluginOptions`)
  const table = await runtimeOptionsTable(optionsFile, at)
  const flags =
    ts.TypeFormatFlags.NoTruncation |
    ts.TypeFormatFlags.UseSingleQuotesForStringLiteralType |
    ts.TypeFormatFlags.UseAliasDefinedOutsideCurrentScope

  /** @param {ts.Type} type @param {unknown} tableLevel @param {string} indent @returns {string} */
  const objectType = (type, tableLevel, indent) => {
    const lines = ['{']
    for (const property of checker.getPropertiesOfType(type)) {
      const entry = isRecord(tableLevel) ? tableLevel[property.name] : undefined
      const optional = (property.flags & ts.SymbolFlags.Optional) !== 0
      const propertyType = checker.getTypeOfSymbol(property)
      const defined = checker.getNonNullableType(propertyType)
      const isTable = isRecord(entry) && typeof entry.parse !== 'function'
      let typeText
      if (isTable) {
        typeText = objectType(defined, entry, `${indent}    `)
      } else {
        typeText = checker.typeToString(defined, alias, flags)
        const hasNull = propertyType.isUnion() && propertyType.types.some((t) => (t.flags & ts.TypeFlags.Null) !== 0)
        if (hasNull) typeText += ' | null'
      }
      const docs = ts.displayPartsToString(property.getDocumentationComment(checker)).trim()
      const tags = property.getJsDocTags(checker).map((t) => `@${t.name} ${ts.displayPartsToString(t.text)}`.trim())
      const fallback = isRecord(entry) && typeof entry.parse === 'function' ? entry.default : undefined
      if (fallback !== undefined && fallback !== null && !/\bDefault:/.test(docs)) {
        tags.unshift(`@default ${literal(fallback)}`)
      }
      lines.push(...jsDoc([docs, tags.length > 0 && docs ? '' : null, ...tags], `${indent}    `))
      lines.push(`${indent}    ${property.name}${optional ? '?' : ''}: ${typeText};`)
    }
    lines.push(`${indent}}`)
    return lines.join('\n')
  }

  const docs = ts.displayPartsToString(checker.getSymbolAtLocation(alias.name)?.getDocumentationComment(checker))
  const header = jsDoc(
    [docs.trim() || "The plugin's options, given in its entry in `+config.js`. Every option is optional."],
    '',
  )
  return [...header, `type AnonymousPluginOptions = ${objectType(checker.getTypeAtLocation(alias), table, '')};`].join(
    '\n',
  )
}

/**
 * The OPTIONS table as the code builds it (defaults are values, not types): options.ts bundled by
 * esbuild and evaluated here. It is plain code (its imports: errors, cookie and the `cookie` package).
 * @param {string} optionsFile
 * @param {(p: string) => string} at
 * @returns {Promise<Record<string, unknown>>}
 */
async function runtimeOptionsTable(optionsFile, at) {
  const result = await build({
    entryPoints: [optionsFile],
    absWorkingDir: at('.'),
    bundle: true,
    format: 'cjs',
    platform: 'neutral',
    mainFields: ['main', 'module'],
    target: 'es2020',
    write: false,
    logLevel: 'silent',
  })
  const code = result.outputFiles[0]?.text
  if (code === undefined) throw new Error(`esbuild produced nothing for ${optionsFile}`)
  const module = { exports: /** @type {Record<string, unknown>} */ ({}) }
  new Function('module', 'exports', code)(module, module.exports)
  const table = module.exports.OPTIONS
  if (!isRecord(table)) throw new Error(`${optionsFile} does not export OPTIONS`)
  return table
}

/** @param {unknown} value @returns {value is Record<string, unknown>} */
function isRecord(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** @param {unknown} value @returns {string} a default as the README writes it */
function literal(value) {
  if (typeof value === 'string') return `'${value}'`
  if (Array.isArray(value)) return `[${value.map(literal).join(', ')}]`
  return String(value)
}

/**
 * @param {(string | null)[]} parts paragraphs; null drops out, '' is an empty line
 * @param {string} indent
 */
function jsDoc(parts, indent) {
  const lines = parts.filter((p) => p !== null).flatMap((p) => p.split('\n'))
  if (lines.length === 0 || (lines.length === 1 && lines[0] === '')) return []
  return [`${indent}/**`, ...lines.map((l) => `${indent} *${l ? ` ${l}` : ''}`), `${indent} */`]
}

// --- copying declarations out of the emitted modules ---------------------------------------------

class ModuleGraph {
  /**
   * @param {Map<string, ts.SourceFile>} modules
   * @param {(module: string) => string | null} header a module's header comment, which is no declaration's doc
   */
  constructor(modules, header) {
    this.modules = modules
    this.header = header
  }

  /** @param {string} module */
  file(module) {
    const file = this.modules.get(module)
    if (!file) throw new Error(`no declarations were emitted for ${module}`)
    return file
  }

  /** @param {string} from module path @param {string} specifier */
  resolveModule(from, specifier) {
    if (!specifier.startsWith('.')) {
      throw new Error(`${from} imports '${specifier}': only the plugin's own modules can be inlined`)
    }
    const base = path.posix.join(path.posix.dirname(from), specifier)
    if (this.modules.has(base)) return base
    if (this.modules.has(`${base}/index`)) return `${base}/index`
    throw new Error(`${from}: cannot resolve '${specifier}'`)
  }

  /**
   * The exports of a module: exported name -> declaration.
   * @param {string} module
   * @returns {{ exported: string, target: Target }[]}
   */
  exportsOf(module) {
    const file = this.file(module)
    /** @type {{ exported: string, target: Target }[]} */
    const result = []
    for (const statement of file.statements) {
      if (ts.isExportDeclaration(statement)) {
        const from = statement.moduleSpecifier
        const clause = statement.exportClause
        if (!clause || !ts.isNamedExports(clause)) throw new Error(`${module}: export * is not supported here`)
        for (const element of clause.elements) {
          const local = (element.propertyName ?? element.name).text
          const target =
            from && ts.isStringLiteral(from)
              ? this.exportedDeclaration(this.resolveModule(module, from.text), local)
              : this.resolve(module, local)
          if (!target) throw new Error(`${module}: cannot find ${local}`)
          result.push({ exported: element.name.text, target })
        }
      } else if (ts.isExportAssignment(statement)) {
        if (!ts.isIdentifier(statement.expression)) throw new Error(`${module}: export default of an expression`)
        const target = this.resolve(module, statement.expression.text)
        if (!target) throw new Error(`${module}: cannot find ${statement.expression.text}`)
        result.push({ exported: 'default', target })
      } else if (hasModifier(statement, ts.SyntaxKind.ExportKeyword)) {
        for (const name of declaredNames(statement)) result.push({ exported: name, target: this.target(module, name) })
      }
    }
    return result
  }

  /** @param {string} module @param {string} name @returns {Target} */
  target(module, name) {
    return { key: `${module}#${name}`, module, name }
  }

  /**
   * What `name` means at the top level of `module`: its own declaration or an import; null for a
   * global (e.g. `core`, `Error`).
   * @param {string} module @param {string} name @returns {Target | null}
   */
  resolve(module, name) {
    const file = this.file(module)
    for (const statement of file.statements) {
      if (declaredNames(statement).includes(name)) return this.target(module, name)
      if (ts.isImportDeclaration(statement) && ts.isStringLiteral(statement.moduleSpecifier)) {
        const bindings = statement.importClause?.namedBindings
        if (statement.importClause?.name?.text === name) {
          throw new Error(`${module}: default import ${name} is not supported here`)
        }
        if (bindings && ts.isNamespaceImport(bindings) && bindings.name.text === name) {
          throw new Error(`${module}: namespace import ${name} is not supported here`)
        }
        if (bindings && ts.isNamedImports(bindings)) {
          for (const element of bindings.elements) {
            if (element.name.text !== name) continue
            const imported = (element.propertyName ?? element.name).text
            return this.exportedDeclaration(this.resolveModule(module, statement.moduleSpecifier.text), imported)
          }
        }
      }
    }
    return null
  }

  /** @param {string} module @param {string} name @returns {Target} */
  exportedDeclaration(module, name) {
    const found = this.exportsOf(module).find((e) => e.exported === name)
    if (!found) throw new Error(`${module} does not export ${name}`)
    return found.target
  }

  /** @param {Target} target @returns {ts.Statement[]} */
  declarationsOf(target) {
    const statements = this.file(target.module).statements.filter((s) => declaredNames(s).includes(target.name))
    if (statements.length === 0) throw new Error(`no declaration of ${target.key}`)
    for (const s of statements) {
      if (ts.isVariableStatement(s) && s.declarationList.declarations.length > 1) {
        throw new Error(`${target.key}: one declaration per statement, please`)
      }
    }
    return statements
  }

  /**
   * The statement's text with its own JSDoc, without `export`/`default`, every reference to another
   * declaration renamed or replaced as needed; each declaration referenced is reported to `reach`.
   * @param {ts.Statement} statement
   * @param {string} module where the statement's names are resolved
   * @param {(target: Target) => void} reach
   */
  rewrite(statement, module, reach) {
    const file = statement.getSourceFile()
    const start = statement.getStart(file)
    /** @type {{ from: number, to: number, text: string }[]} */
    const edits = []
    const replace = (/** @type {ts.Node} */ node, /** @type {string} */ text) =>
      edits.push({ from: node.getStart(file), to: node.end, text })

    for (const modifier of ts.canHaveModifiers(statement) ? (ts.getModifiers(statement) ?? []) : []) {
      if (modifier.kind === ts.SyntaxKind.ExportKeyword || modifier.kind === ts.SyntaxKind.DefaultKeyword) {
        edits.push({ from: modifier.getStart(file), to: modifier.end + 1, text: '' })
      }
    }

    /** @param {ts.Identifier} id */
    const reference = (id) => {
      const target = this.resolve(module, id.text)
      if (!target) return // a global
      const replacement = TYPE_REPLACEMENTS.get(target.key)
      if (replacement !== undefined) {
        replace(id, replacement)
        return
      }
      reach(target)
      if (target.name !== id.text) replace(id, target.name)
    }

    /** @param {ts.Node} node */
    const visit = (node) => {
      if (ts.isTypeReferenceNode(node) || ts.isExpressionWithTypeArguments(node)) {
        const name = ts.isTypeReferenceNode(node) ? node.typeName : node.expression
        if (ts.isIdentifier(name)) reference(name)
        else if (this.resolve(module, leftmost(name).text)) {
          throw new Error(`${module}: qualified reference ${name.getText(file)} is not supported here`)
        }
      } else if (ts.isTypeQueryNode(node) && ts.isIdentifier(node.exprName)) {
        const target = this.resolve(module, node.exprName.text)
        const value = target && literalConstant(this.declarationsOf(target))
        if (value !== null) replace(node, value)
        else reference(node.exprName)
        return
      } else if (ts.isImportTypeNode(node)) {
        const argument = node.argument
        if (
          node.isTypeOf ||
          !node.qualifier ||
          !ts.isIdentifier(node.qualifier) ||
          !ts.isLiteralTypeNode(argument) ||
          !ts.isStringLiteral(argument.literal)
        ) {
          throw new Error(`${module}: unsupported import type ${node.getText(file)}`)
        }
        const target = this.exportedDeclaration(this.resolveModule(module, argument.literal.text), node.qualifier.text)
        reach(target)
        edits.push({ from: node.getStart(file), to: node.qualifier.end, text: target.name })
      }
      ts.forEachChild(node, visit)
    }
    ts.forEachChild(statement, visit)

    edits.sort((a, b) => b.from - a.from)
    let text = file.text.slice(start, statement.end)
    for (const edit of edits) text = text.slice(0, edit.from - start) + edit.text + text.slice(edit.to - start)
    const doc = ownJsDoc(statement, file)
    return `${doc === this.header(module) ? '' : doc}${text}`
  }
}

/** @param {ts.EntityName | ts.Expression} name @returns {ts.Identifier} */
function leftmost(name) {
  if (ts.isIdentifier(name)) return name
  if (ts.isQualifiedName(name)) return leftmost(name.left)
  if (ts.isPropertyAccessExpression(name)) return leftmost(name.expression)
  throw new Error(`unsupported reference ${name.getText()}`)
}

/** `declare const X = "literal"` -> the literal's text, else null. @param {ts.Statement[]} statements */
function literalConstant(statements) {
  const [statement] = statements
  if (statements.length !== 1 || !statement || !ts.isVariableStatement(statement)) return null
  const init = statement.declarationList.declarations[0]?.initializer
  if (init && (ts.isStringLiteral(init) || ts.isNumericLiteral(init))) return init.getText()
  return null
}

/** The JSDoc block right before the statement (not a file's header comment further up). */
function ownJsDoc(/** @type {ts.Statement} */ statement, /** @type {ts.SourceFile} */ file) {
  const comments = ts.getLeadingCommentRanges(file.text, statement.pos) ?? []
  const last = comments[comments.length - 1]
  if (!last || !file.text.startsWith('/**', last.pos)) return ''
  return `${file.text.slice(last.pos, last.end)}\n`
}

/**
 * A source file's header: a JSDoc comment at its very start followed by a blank line (the emitted
 * declarations lose that blank line, and with it the difference from the first declaration's doc).
 * @param {ts.SourceFile | undefined} source
 */
function fileHeader(source) {
  const first = source && ts.getLeadingCommentRanges(source.text, 0)?.[0]
  if (!source || !first || first.pos !== 0 || !source.text.startsWith('/**')) return null
  if (!/^[ \t]*\r?\n[ \t]*\r?\n/.test(source.text.slice(first.end))) return null
  return `${source.text.slice(first.pos, first.end)}\n`
}

/** @param {ts.Node} node @param {ts.SyntaxKind} kind */
function hasModifier(node, kind) {
  return ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === kind)
}

/** @param {ts.Statement} statement @returns {string[]} */
function declaredNames(statement) {
  if (ts.isVariableStatement(statement)) {
    return statement.declarationList.declarations.flatMap((d) => (ts.isIdentifier(d.name) ? [d.name.text] : []))
  }
  if (
    (ts.isInterfaceDeclaration(statement) ||
      ts.isTypeAliasDeclaration(statement) ||
      ts.isClassDeclaration(statement) ||
      ts.isFunctionDeclaration(statement) ||
      ts.isEnumDeclaration(statement) ||
      ts.isModuleDeclaration(statement)) &&
    statement.name &&
    ts.isIdentifier(statement.name)
  ) {
    return [statement.name.text]
  }
  return []
}
