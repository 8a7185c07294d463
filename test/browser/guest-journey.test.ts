// A person's whole path through the demo in a real Chromium, with both sign-in plugins configured
// as the demo ships them: continue as a guest, add a note, save the account, sign out, sign back
// in with the password, sign out, continue as a guest again, add a second note, sign in to the
// existing account with the password (the guest is merged into it), and see both notes. Then
// the passwordless way: a new guest saves itself with a code mailed to a new address (read from a
// local SMTP sink), and another guest's code to the first address signs in to that account with
// the guest's note moved along.
// Chromium: Debian's package (/usr/bin/chromium, env CHROMIUM_PATH overrides). Outside CI a
// machine without it skips this file; in CI (CI=true) a missing browser is a failure.
// Screenshot of the last page: test-results/guest-journey.png (also written when a step fails).

import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'
import { repoRoot } from '../../scripts/pocketbase.mjs'
import { type PocketBaseServer, startPocketBase } from '../support/pocketbase.ts'
import { type SmtpSink, startSmtpSink, useSmtpSink } from '../support/smtp-sink.ts'

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
const SCREENSHOT = path.join(repoRoot, 'test-results', 'guest-journey.png')
const EMAIL = `journey-${Date.now().toString(36)}@example.org`
const PASSWORD = 'journey-password-123'
const CODE_EMAIL = `journey-code-${Date.now().toString(36)}@example.org`

const skip = !fs.existsSync(CHROMIUM_PATH) && process.env.CI !== 'true' ? `no Chromium at ${CHROMIUM_PATH}` : false

describe('a guest in Chromium, beside password sign-in', { skip }, () => {
  let pb: PocketBaseServer | undefined
  let browser: Browser | undefined
  let context: BrowserContext | undefined
  let page: Page
  let sink: SmtpSink | undefined

  before(async () => {
    sink = await startSmtpSink()
    // launch() gives every browser a fresh temp user-data-dir (removed on close).
    ;[pb, browser] = await Promise.all([
      startPocketBase(),
      chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true }),
    ])
    await useSmtpSink(pb, sink.port)
    context = await browser.newContext({ baseURL: pb.url })
    page = await context.newPage()
  })

  after(async () => {
    if (page) {
      // Written on failure too: the picture is the quickest way to see what went wrong.
      fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true })
      await page.screenshot({ path: SCREENSHOT, fullPage: true }).catch(() => {})
    }
    await context?.close()
    await browser?.close()
    await pb?.stop()
    await sink?.close()
  })

  const text = async (selector: string): Promise<string> =>
    ((await page.locator(selector).textContent({ timeout: 5_000 })) ?? '').trim()
  const notes = async (): Promise<string[]> => (await page.locator('#notes li').allTextContents()).map((t) => t.trim())
  /** Clicks a form's button; the form must land on / (else the page's error message is the failure). */
  const submitHome = async (button: ReturnType<Page['getByRole']>) => {
    await Promise.all([page.waitForEvent('framenavigated', { timeout: 15_000 }), button.click()])
    await page.waitForLoadState('load')
    const error = page.locator('mark#error')
    const message = (await error.count()) > 0 ? await error.textContent() : null
    const where = new URL(page.url()).pathname
    assert.ok(where === '/' && !message, `the form landed on ${where}, showing: ${message ?? '(no error)'}`)
  }
  const signInAsGuest = async () => {
    await page.goto('/login')
    await submitHome(page.getByRole('button', { name: 'Continue as Guest' }))
    assert.equal(await text('dd#user-anonymous'), 'yes')
    assert.match(await text('dd#user-email'), /^anonymous-[a-z0-9]{20}@example\.com$/)
    return text('dd#user-id')
  }
  const addNote = async (note: string) => {
    await page.getByLabel('New note').fill(note)
    await submitHome(page.getByRole('button', { name: 'Add note' }))
  }
  const signInWithPassword = async (button: string) => {
    await page.goto('/login')
    const form = page.locator('form:has(input[name="mode"][value="password"])')
    await form.getByLabel('Email').fill(EMAIL)
    await form.getByLabel('Password').fill(PASSWORD)
    await submitHome(form.getByRole('button', { name: button, exact: true }))
  }
  /** Asks for a code on the home page, types the one from the mail, and lands on /. */
  const saveWithCode = async (email: string) => {
    const index = sink!.mailsTo(email).length
    const request = page.locator('form#code-request-form')
    await request.getByLabel('Email').fill(email)
    await Promise.all([
      page.waitForEvent('framenavigated', { timeout: 15_000 }),
      request.getByRole('button', { name: 'Email me a code' }).click(),
    ])
    await page.waitForLoadState('load')
    assert.equal(await text('#code-email'), email, `the page says where the code went: ${await page.content()}`)
    const mail = await sink!.waitFor(email, { index })
    const code = /\b\d{8,}\b/.exec(mail.text)?.[0]
    assert.ok(code, `no code in the mail: ${mail.text.slice(0, 300)}`)
    const form = page.locator('form#code-form')
    await form.getByLabel('Code').fill(code)
    await submitHome(form.getByRole('button', { name: 'Save account' }))
  }
  const signOut = async () => {
    await submitHome(page.getByRole('button', { name: 'Sign out' }))
    assert.equal(await page.locator('#signed-out').count(), 1, 'not signed out')
  }

  // Each step runs only if the ones before it passed: a journey that broke early says so once.
  let broken = false
  let guestId = ''
  const steps: [string, () => Promise<void>][] = [
    [
      'continue as a guest: an HttpOnly, SameSite=Lax session',
      async () => {
        guestId = await signInAsGuest()
        const cookie = (await context!.cookies()).find((c) => c.name === 'pb_auth')
        assert.ok(cookie, 'the browser holds no pb_auth cookie')
        assert.equal(cookie.httpOnly, true)
        assert.equal(cookie.sameSite, 'Lax')
      },
    ],
    [
      'add a note',
      async () => {
        await addNote('first note, made as a guest')
        assert.deepEqual(await notes(), ['first note, made as a guest'])
      },
    ],
    [
      'save the account: same id, no longer a guest',
      async () => {
        const form = page.locator('form[action="/upgrade"]')
        await form.getByLabel('Email').fill(EMAIL)
        await form.getByLabel('Password', { exact: true }).fill(PASSWORD)
        await form.getByLabel('Confirm password').fill(PASSWORD)
        await submitHome(form.getByRole('button', { name: 'Save account' }))
        assert.equal(await text('dd#user-id'), guestId)
        assert.equal(await text('dd#user-email'), EMAIL)
        assert.equal(await text('dd#user-anonymous'), 'no')
      },
    ],
    ['sign out', signOut],
    [
      'sign back in with the password',
      async () => {
        await signInWithPassword('Sign in')
        assert.equal(await text('dd#user-id'), guestId)
        assert.deepEqual(await notes(), ['first note, made as a guest'])
      },
    ],
    ['sign out again', signOut],
    [
      'continue as a guest again: a new guest without notes',
      async () => {
        const second = await signInAsGuest()
        assert.notEqual(second, guestId)
        assert.deepEqual(await notes(), [])
      },
    ],
    ['add a second note', () => addNote('second note, made as another guest')],
    [
      'sign in to the existing account with the password: both notes are listed',
      async () => {
        await signInWithPassword('Sign in and keep my data')
        assert.equal(await text('dd#user-id'), guestId)
        assert.equal(await text('dd#user-anonymous'), 'no')
        assert.deepEqual(await notes(), ['second note, made as another guest', 'first note, made as a guest'])
      },
    ],
    ['sign out before the code journey', signOut],
    [
      'a new guest saves itself with an emailed code: same id, the address, no longer a guest',
      async () => {
        const codeGuest = await signInAsGuest()
        await addNote('a note of the code guest')
        await saveWithCode(CODE_EMAIL)
        assert.equal(await text('dd#user-id'), codeGuest)
        assert.equal(await text('dd#user-email'), CODE_EMAIL)
        assert.equal(await text('dd#user-anonymous'), 'no')
        assert.deepEqual(await notes(), ['a note of the code guest'])
      },
    ],
    ['sign out of the code account', signOut],
    [
      "another guest's code to the first address signs in to that account; the guest's note moves",
      async () => {
        await signInAsGuest()
        await addNote('third note, made as a third guest')
        await saveWithCode(EMAIL)
        assert.equal(await text('dd#user-id'), guestId)
        assert.equal(await text('dd#user-anonymous'), 'no')
        assert.deepEqual(await notes(), [
          'third note, made as a third guest',
          'second note, made as another guest',
          'first note, made as a guest',
        ])
      },
    ],
  ]
  for (const [name, run] of steps) {
    test(name, async (t) => {
      if (broken) {
        t.skip('an earlier step failed')
        return
      }
      try {
        await run()
      } catch (error) {
        broken = true
        throw error
      }
    })
  }
})
