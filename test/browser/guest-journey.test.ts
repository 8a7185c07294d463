// A person's whole path through the demo in a real Chromium, with both sign-in plugins configured
// as the demo ships them: the welcome page, continue as a guest (the home page says so and offers
// to save the account first), add a note, a failed save (the reason next to its field, the email
// kept), save the account (a confirmation), sign out, sign back in with the password, sign out,
// continue as a guest again, add a second note, ask to sign out (a warning that the guest's data
// goes; save first instead), try to save with the taken email (its message links to sign-in),
// follow the link and sign in (the guest is merged: both notes). Then the passwordless way: a new
// guest saves itself with a code mailed to a new address (read from a local SMTP sink), and another
// guest's code to the first address signs in to that account with the guest's note moved along.
// Last, an unknown URL (a 404 page).
// Chromium: Debian's package (/usr/bin/chromium, env CHROMIUM_PATH overrides). Outside CI a
// machine without it skips this file; in CI (CI=true) a missing browser is a failure.
// Screenshots: test-results/journey/NN-<step>.png after each step (the README's picture,
// docs/demo-guest-home.png, is a copy of 03-guest-home.png), and test-results/guest-journey.png
// of the last page (also written when a step fails).

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
const JOURNEY_DIR = path.join(repoRoot, 'test-results', 'journey')
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
    context = await browser.newContext({ baseURL: pb.url, viewport: { width: 900, height: 760 } })
    page = await context.newPage()
    fs.rmSync(JOURNEY_DIR, { recursive: true, force: true })
    fs.mkdirSync(JOURNEY_DIR, { recursive: true })
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
  let shots = 0
  /** Saves the page as test-results/journey/NN-<name>.png (the viewport: what a person sees first). */
  const shot = async (name: string) => {
    shots += 1
    await page.screenshot({ path: path.join(JOURNEY_DIR, `${String(shots).padStart(2, '0')}-${name}.png`) })
  }
  /** Clicks and waits for the page it leads to. */
  const follow = async (target: ReturnType<Page['getByRole']>) => {
    await Promise.all([page.waitForEvent('framenavigated', { timeout: 15_000 }), target.click()])
    await page.waitForLoadState('load')
  }
  /** Clicks a form's button; the form must land on / (else the page's error message is the failure). */
  const submitHome = async (button: ReturnType<Page['getByRole']>) => {
    await follow(button)
    const error = page.locator('mark#error')
    const message = (await error.count()) > 0 ? await error.textContent() : null
    const where = new URL(page.url()).pathname
    assert.ok(where === '/' && !message, `the form landed on ${where}, showing: ${message ?? '(no error)'}`)
  }
  const signInAsGuest = async () => {
    await page.goto('/login')
    await submitHome(page.getByRole('button', { name: 'Continue as Guest' }))
    assert.equal(await text('#guest-status h1'), 'You are using a guest account', 'the home page says it is a guest')
    assert.equal(await text('dd#user-anonymous'), 'yes', 'the guest flag shown')
    assert.doesNotMatch(await page.content(), /anonymous-[a-z0-9]{20}@/, "the guest's placeholder email is shown")
    return text('dd#user-id')
  }
  const addNote = async (note: string) => {
    await page.getByLabel('New note').fill(note)
    await submitHome(page.getByRole('button', { name: 'Add note' }))
  }
  const upgradeForm = () => page.locator('form[action="/upgrade"]')
  const fillUpgrade = async (email: string, password: string) => {
    const form = upgradeForm()
    await form.getByLabel('Email').fill(email)
    await form.getByLabel('Password', { exact: true }).fill(password)
    await form.getByLabel('Confirm password').fill(password)
  }
  const passwordForm = () => page.locator('form:has(input[name="mode"][value="password"])')
  const signInWithPassword = async (button: string) => {
    await page.goto('/login')
    await passwordForm().getByLabel('Email').fill(EMAIL)
    await passwordForm().getByLabel('Password').fill(PASSWORD)
    await submitHome(passwordForm().getByRole('button', { name: button, exact: true }))
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
      'the welcome page, signed out',
      async () => {
        await page.goto('/')
        assert.equal(await page.locator('#signed-out').count(), 1, 'the signed-out view')
        await shot('welcome')
        await page.goto('/login')
        assert.ok(await page.getByRole('button', { name: 'Continue as Guest' }).isVisible(), 'the guest button')
        await shot('sign-in')
      },
    ],
    [
      'continue as a guest: an HttpOnly, SameSite=Lax session; home says "guest" and offers to save first',
      async () => {
        guestId = await signInAsGuest()
        const cookie = (await context!.cookies()).find((c) => c.name === 'pb_auth')
        assert.ok(cookie, 'the browser holds no pb_auth cookie')
        assert.equal(cookie.httpOnly, true, 'HttpOnly')
        assert.equal(cookie.sameSite, 'Lax', 'SameSite')
        // "Save your account" comes before the notes and the sign-out link; sign-in is offered too.
        const order = await page.evaluate(() =>
          ['#save-account', '#notes', '#sign-out'].map((s) => document.querySelector(s)?.getBoundingClientRect().top),
        )
        assert.ok(
          order.every((y) => typeof y === 'number'),
          `missing parts: ${order}`,
        )
        assert.ok(order[0]! < order[1]! && order[1]! < order[2]!, `save, notes, sign-out in that order: ${order}`)
        assert.ok(
          await page.getByRole('link', { name: 'Sign in to an existing account' }).isVisible(),
          'the navigation offers signing in to an existing account',
        )
        assert.equal(await page.locator('form[action="/logout"]').count(), 0, 'a guest gets no one-click sign-out')
        await shot('guest-home')
      },
    ],
    [
      'add a note',
      async () => {
        await addNote('first note, made as a guest')
        assert.deepEqual(await notes(), ['first note, made as a guest'], 'the notes listed')
        await shot('guest-note')
      },
    ],
    [
      'a password too short: the reason next to the field in plain words, the email kept',
      async () => {
        await fillUpgrade(EMAIL, 'short1')
        await follow(upgradeForm().getByRole('button', { name: 'Save my account' }))
        assert.match(await text('mark#error'), /not saved yet/, 'the line above the form')
        assert.equal(await text('small#password-error'), 'Use at least 8 characters.', 'next to the password')
        assert.equal(await upgradeForm().getByLabel('Email').inputValue(), EMAIL, 'the email typed is kept')
        assert.doesNotMatch(await page.content(), /character\(s\)/, "PocketBase's raw message")
        await shot('save-error')
      },
    ],
    [
      'save the account: same id, no longer a guest, a confirmation',
      async () => {
        await fillUpgrade(EMAIL, PASSWORD)
        await submitHome(upgradeForm().getByRole('button', { name: 'Save my account' }))
        assert.match(await text('#confirmation'), /Your account is saved/, 'the confirmation')
        assert.equal(await text('dd#user-id'), guestId, 'the same id')
        assert.equal(await text('dd#user-email'), EMAIL, 'the email')
        assert.equal(await text('dd#user-anonymous'), 'no', 'no longer a guest')
        await shot('saved')
      },
    ],
    ['sign out', signOut],
    [
      'sign back in with the password',
      async () => {
        await signInWithPassword('Sign in')
        assert.equal(await text('dd#user-id'), guestId, 'the same account')
        assert.deepEqual(await notes(), ['first note, made as a guest'], 'its note')
      },
    ],
    ['sign out again', signOut],
    [
      'continue as a guest again: a new guest without notes',
      async () => {
        const second = await signInAsGuest()
        assert.notEqual(second, guestId, 'a new guest')
        assert.deepEqual(await notes(), [], 'no notes yet')
      },
    ],
    ['add a second note', () => addNote('second note, made as another guest')],
    [
      "a guest's sign-out asks first: its data will be deleted; save first instead",
      async () => {
        await follow(page.getByRole('link', { name: 'Sign out…' }))
        assert.match(await text('#guest-warning'), /will be deleted/, 'the warning')
        assert.ok(await page.getByRole('button', { name: 'Sign out and delete my guest data' }).isVisible(), 'confirm')
        await shot('guest-sign-out-warning')
        await follow(page.getByRole('button', { name: 'Save my account first' }))
        assert.equal(new URL(page.url()).pathname, '/', 'back home')
        assert.deepEqual(await notes(), ['second note, made as another guest'], 'still the guest, note kept')
      },
    ],
    [
      'saving with the email of the existing account: the message links to sign-in',
      async () => {
        await fillUpgrade(EMAIL, PASSWORD)
        await follow(upgradeForm().getByRole('button', { name: 'Save my account' }))
        assert.match(await text('small#email-error'), /Already used by another account/, 'next to the email')
        await shot('email-taken')
        await follow(page.locator('small#email-error').getByRole('link', { name: 'Sign in to it' }))
        assert.equal(new URL(page.url()).pathname, '/login', 'the link leads to sign-in')
        assert.equal(await passwordForm().getByLabel('Email').inputValue(), EMAIL, 'the email filled in')
      },
    ],
    [
      'sign in to the existing account with the password: both notes are listed',
      async () => {
        await passwordForm().getByLabel('Password').fill(PASSWORD)
        await submitHome(passwordForm().getByRole('button', { name: 'Sign in and keep my data', exact: true }))
        assert.match(await text('#confirmation'), /What you made as a guest is now in this account/, 'the confirmation')
        assert.equal(await text('dd#user-id'), guestId, 'the existing account')
        assert.equal(await text('dd#user-anonymous'), 'no', 'not a guest')
        assert.deepEqual(
          await notes(),
          ['second note, made as another guest', 'first note, made as a guest'],
          "the guest's note moved in",
        )
        await shot('merged')
      },
    ],
    ['sign out before the code journey', signOut],
    [
      'a new guest saves itself with an emailed code: same id, the address, no longer a guest',
      async () => {
        const codeGuest = await signInAsGuest()
        await addNote('a note of the code guest')
        await saveWithCode(CODE_EMAIL)
        assert.equal(await text('dd#user-id'), codeGuest, 'the same id')
        assert.equal(await text('dd#user-email'), CODE_EMAIL, 'the address')
        assert.equal(await text('dd#user-anonymous'), 'no', 'no longer a guest')
        assert.deepEqual(await notes(), ['a note of the code guest'], 'its note')
        await shot('saved-with-code')
      },
    ],
    ['sign out of the code account', signOut],
    [
      "another guest's code to the first address signs in to that account; the guest's note moves",
      async () => {
        await signInAsGuest()
        await addNote('third note, made as a third guest')
        await saveWithCode(EMAIL)
        assert.equal(await text('dd#user-id'), guestId, 'the existing account')
        assert.equal(await text('dd#user-anonymous'), 'no', 'not a guest')
        assert.deepEqual(
          await notes(),
          ['third note, made as a third guest', 'second note, made as another guest', 'first note, made as a guest'],
          "the guest's note moved in",
        )
        await shot('code-signed-in')
      },
    ],
    [
      'an unknown address: a 404 page in the same style',
      async () => {
        const res = await page.goto('/no-such-page')
        assert.equal(res?.status(), 404, 'the status')
        assert.equal(await text('#not-found h1'), 'Page not found', 'the heading')
        assert.ok(await page.getByRole('link', { name: 'Go to the home page' }).isVisible(), 'a way home')
        await shot('not-found')
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
