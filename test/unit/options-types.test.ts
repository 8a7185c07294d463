// The written-out options type (src/core/options-types.ts) is what users' editors show: its
// `@default` tags must be the defaults the code resolves, and every option must be documented.
// (Its keys and value types are held to the OPTIONS table by a compile-time check in options.ts.)
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import ts from 'typescript'
import { defaultOptions } from '../../src/core/options.ts'

const FILE = new URL('../../src/core/options-types.ts', import.meta.url)
const source = ts.createSourceFile('options-types.ts', readFileSync(FILE, 'utf8'), ts.ScriptTarget.ES2022, true)

interface Documented {
  path: string
  docs: string
  /** The `@default` tag's text, or null without one. */
  defaultText: string | null
  isGroup: boolean
}

/** Every property of the interface, nested groups included, by dotted path. */
function properties(members: ts.NodeArray<ts.TypeElement>, prefix = ''): Documented[] {
  return members.flatMap((member) => {
    assert.ok(ts.isPropertySignature(member) && ts.isIdentifier(member.name), `${prefix}: only plain properties`)
    const path = `${prefix}${member.name.text}`
    const docs = ts
      .getJSDocCommentsAndTags(member)
      .filter(ts.isJSDoc)
      .map((doc) => ts.getTextOfJSDocComment(doc.comment) ?? '')
      .join('\n')
    const tag = ts.getJSDocTags(member).find((t) => t.tagName.text === 'default')
    const defaultText = tag ? (ts.getTextOfJSDocComment(tag.comment) ?? '').trim() : null
    const type = member.type
    const isGroup = type !== undefined && ts.isTypeLiteralNode(type)
    const own = { path, docs, defaultText, isGroup }
    return isGroup ? [own, ...properties(type.members, `${path}.`)] : [own]
  })
}

function valueAt(path: string): unknown {
  let value: unknown = defaultOptions()
  for (const key of path.split('.')) value = (value as Record<string, unknown>)[key]
  return value
}

const options = source.statements.find(
  (s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === 'AnonymousPluginOptions',
)
assert.ok(options, 'options-types.ts declares interface AnonymousPluginOptions')
const documented = properties(options.members)
const leaves = documented.filter((p) => !p.isGroup && p.path !== 'debug')

describe('AnonymousPluginOptions (options-types.ts)', () => {
  it('lists every option the code resolves, and PocketPages debug flag', () => {
    const groups = documented.filter((p) => p.isGroup).map((p) => p.path)
    const resolvedLeaves = Object.entries(defaultOptions()).flatMap(([key, value]) =>
      groups.includes(key) ? Object.keys(value as object).map((k) => `${key}.${k}`) : [key],
    )
    assert.deepEqual(leaves.map((p) => p.path).sort(), resolvedLeaves.sort(), 'the options of the type and the code')
    assert.ok(
      documented.some((p) => p.path === 'debug'),
      'debug (PocketPages’ own flag) is in the type',
    )
  })

  for (const option of leaves) {
    it(`documents ${option.path} and its real default`, () => {
      assert.notEqual(option.docs.trim(), '', `${option.path} has no documentation`)
      const value = valueAt(option.path)
      if (option.defaultText === null) {
        // No tag: no default to show (none, a function option) or one the prose derives.
        assert.ok(
          value === undefined || value === null || /\bDefault:/.test(option.docs),
          `${option.path}: add @default ${JSON.stringify(value)} (or say "Default:" in its doc)`,
        )
        return
      }
      const written: unknown = JSON.parse(option.defaultText.replace(/'/g, '"'))
      assert.deepEqual(written, value, `${option.path}: @default ${option.defaultText} is not the code's default`)
    })
  }
})
