import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { formatPocketBaseDate, parsePocketBaseDate } from '../../src/core/dates.ts'
import { shouldRefreshToken, shouldWriteLastSeen } from '../../src/core/keep-alive.ts'

const DAY = 86400
const now = Date.UTC(2026, 10, 28, 12, 0, 0)

describe('shouldRefreshToken', () => {
  it('leaves a fresh token alone', () => {
    assert.equal(shouldRefreshToken(now / 1000 + 7 * DAY, 7 * DAY, now, 0.5), false)
  })
  it('leaves a token at just under half its life alone', () => {
    assert.equal(shouldRefreshToken(now / 1000 + 3.6 * DAY, 7 * DAY, now, 0.5), false)
  })
  it('refreshes a token past half its life', () => {
    assert.equal(shouldRefreshToken(now / 1000 + 3.4 * DAY, 7 * DAY, now, 0.5), true)
  })
  it('uses the configured fraction', () => {
    assert.equal(shouldRefreshToken(now / 1000 + 6 * DAY, 7 * DAY, now, 0.1), true)
  })
  it('never refreshes with a zero lifetime', () => {
    assert.equal(shouldRefreshToken(now / 1000, 0, now, 0.5), false, 'an unknown lifetime')
    // Without a lifetime every token looks past its fraction: renewing would write on every request.
    assert.equal(shouldRefreshToken(now / 1000 - 1, 0, now, 0.5), false, 'not even a token at its end')
    assert.equal(shouldRefreshToken(now / 1000 - 1, -DAY, now, 0.5), false, 'nor with a negative lifetime')
  })
})

describe('shouldWriteLastSeen', () => {
  it('writes when never written', () => {
    assert.equal(shouldWriteLastSeen('', now, 3600), true)
  })
  it('skips within the interval', () => {
    assert.equal(shouldWriteLastSeen(formatPocketBaseDate(now - 10 * 60 * 1000), now, 3600), false)
  })
  it('writes after the interval', () => {
    assert.equal(shouldWriteLastSeen(formatPocketBaseDate(now - 61 * 60 * 1000), now, 3600), true)
  })
  it('writes over an unreadable value', () => {
    assert.equal(shouldWriteLastSeen('garbage', now, 3600), true)
  })
})

describe('PocketBase dates', () => {
  it('formats like PocketBase stores them and parses back', () => {
    const text = formatPocketBaseDate(now)
    assert.equal(text, '2026-11-28 12:00:00.000Z')
    assert.equal(parsePocketBaseDate(text), now)
  })
})
