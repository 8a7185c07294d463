/**
 * Layout slots, as in PocketPages: a page may mark sections with `<!-- slot:name -->`; each
 * section runs to the next marker or the end. The layout gets them as `slots.name`, and `slot`
 * is `slots.default` or, without one, the page content outside any marker.
 */
const SLOT = /<!--\s*slot:(\w+)\s*-->([\s\S]*?)(?=<!--\s*slot:\w+\s*-->|$)/g

export function parseSlots(input: string): { slots: Record<string, string>; content: string } {
  const slots: Record<string, string> = {}
  let rest = ''
  let last = 0
  const pattern = new RegExp(SLOT.source, 'g')
  for (let match = pattern.exec(input); match !== null; match = pattern.exec(input)) {
    const name = match[1]!
    const body = match[2]!.trim()
    if (body === '') continue
    slots[name] = body
    rest += input.slice(last, match.index)
    last = match.index + match[0].length
  }
  rest += input.slice(last)
  return { slots, content: rest.trim() }
}
