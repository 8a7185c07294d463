// A person's path through the demo in a real Chromium: /login → "Continue as Guest" → / shows the
// signed-in anonymous user, and the session cookie is httpOnly + SameSite=Lax.
// Chromium: Debian's package (/usr/bin/chromium, env CHROMIUM_PATH overrides). Outside CI a
// machine without it skips this file; in CI (CI=true) a missing browser is a failure.
// Screenshot: test-results/guest-login.png (also written when an assertion fails).

import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { type Browser, chromium } from 'playwright-core'
import { repoRoot } from '../../scripts/pocketbase.mjs'
import { type PocketBaseServer, startPocketBase } from '../support/pocketbase.ts'

const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox', // CI runs as root
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  // No traffic beyond the local server: the machine has no network besides package registries.
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]
const SCREENSHOT = path.join(repoRoot, 'test-results', 'guest-login.png')

const skip = !fs.existsSync(CHROMIUM_PATH) && process.env.CI !== 'true' ? `no Chromium at ${CHROMIUM_PATH}` : false

describe('guest login in Chromium', { skip }, () => {
  let pb: PocketBaseServer | undefined
  let browser: Browser | undefined

  before(async () => {
    // launch() gives every browser a fresh temp user-data-dir (removed on close).
    ;[pb, browser] = await Promise.all([
      startPocketBase(),
      chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true }),
    ])
  })

  after(async () => {
    await browser?.close()
    await pb?.stop()
  })

  test('"Continue as Guest" signs in an anonymous user', async (t) => {
    assert.ok(pb && browser)
    const context = await browser.newContext({ baseURL: pb.url })
    const page = await context.newPage()
    try {
      const res = await page.goto('/login')
      assert.equal(res?.status(), 200, `GET /login: HTTP ${res?.status()}`)

      const button = page.getByRole('button', { name: 'Continue as Guest' })
      await Promise.all([page.waitForURL((url) => url.pathname === '/', { timeout: 15_000 }), button.click()])

      const text = async (selector: string): Promise<string> =>
        ((await page.locator(selector).textContent({ timeout: 5_000 })) ?? '').trim()
      const userId = await text('dd#user-id')
      const email = await text('dd#user-email')
      t.diagnostic(`signed in as ${userId} <${email}>`)
      assert.notEqual(userId, '', 'dd#user-id is empty')
      assert.match(email, /^anonymous-[a-z0-9]+@example\.com$/)
      assert.equal(await text('dd#user-anonymous'), 'yes')

      const authCookie = (await context.cookies()).find((c) => c.name === 'pb_auth')
      assert.ok(authCookie, 'the browser holds a pb_auth cookie')
      assert.equal(authCookie.httpOnly, true)
      assert.equal(authCookie.sameSite, 'Lax')
    } finally {
      // Written on failure too: the picture is the quickest way to see what went wrong.
      fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true })
      await page
        .screenshot({ path: SCREENSHOT, fullPage: true })
        .catch((err: unknown) => t.diagnostic(`screenshot failed: ${String(err)}`))
      await context.close()
    }
  })
})
